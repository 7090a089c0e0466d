"""Draws the app icons (a white plate on green) as PNG with the standard library only.
Run once; the PNGs are committed. Maskable icons keep the plate inside the 80 % safe zone."""
import struct, zlib, math, sys, os

GREEN = (27, 94, 59)
WHITE = (255, 255, 255)
LIGHT = (214, 236, 222)

def png(path, size, maskable):
    rows = []
    c = size / 2
    plate = size * (0.30 if maskable else 0.40)
    rim = plate * 0.72
    corner = 0 if maskable else size * 0.18
    for y in range(size):
        row = bytearray([0])
        for x in range(size):
            # Rounded square background (full bleed when maskable).
            dx = max(abs(x + 0.5 - c) - (c - corner), 0)
            dy = max(abs(y + 0.5 - c) - (c - corner), 0)
            if corner and math.hypot(dx, dy) > corner:
                row += bytes((0, 0, 0, 0))
                continue
            d = math.hypot(x + 0.5 - c, y + 0.5 - c)
            color = WHITE if d <= plate and d > rim else LIGHT if d <= rim else GREEN
            row += bytes(color) + b"\xff"
        rows.append(bytes(row))
    raw = b"".join(rows)
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0))
    data += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(data)

out = sys.argv[1] if len(sys.argv) > 1 else "public/icons"
os.makedirs(out, exist_ok=True)
for size in (192, 512):
    png(f"{out}/icon-{size}.png", size, False)
    png(f"{out}/icon-maskable-{size}.png", size, True)

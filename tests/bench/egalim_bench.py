#!/usr/bin/env python3
"""Runs `assiette-server egalim FILE` and the pandas script on FILE, alternating, RUNS times
each; prints the median wall time, lines per second and peak memory (the child's maxrss from
wait4) of each, the ratio, the machine's load, and checks both give the same yearly totals.

usage: egalim_bench.py FILE RUNS SERVER_BIN PYTHON PANDAS_SCRIPT
"""
import json, os, selectors, statistics, sys, time

path, runs, server, python, script = sys.argv[1], int(sys.argv[2]), *sys.argv[3:6]
with open(path, "rb") as f:
    lines = sum(1 for _ in f) - 1
size_mb = os.path.getsize(path) / 1e6


def run_measured(argv):
    t = time.perf_counter()
    r, w = os.pipe()
    er, ew = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.dup2(w, 1)
        os.dup2(ew, 2)
        os.close(r)
        os.close(er)
        os.execv(argv[0], argv)
    os.close(w)
    os.close(ew)
    chunks, errs = [], []
    sel = selectors.DefaultSelector()
    sel.register(r, selectors.EVENT_READ, chunks)
    sel.register(er, selectors.EVENT_READ, errs)
    open_fds = 2
    while open_fds:
        for key, _ in sel.select():
            data = os.read(key.fd, 1 << 16)
            if data:
                key.data.append(data)
            else:
                sel.unregister(key.fd)
                os.close(key.fd)
                open_fds -= 1
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - t
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{argv[0]} failed: {b''.join(errs).decode(errors='replace')}")
    return b"".join(chunks), b"".join(errs), wall, usage.ru_maxrss  # KiB on Linux


ours = [server, "egalim", path]
theirs = [python, script, path, ","]
times = {"assiette-server egalim": [], "pandas": []}
rss = {"assiette-server egalim": [], "pandas": []}
outputs = {}
for i in range(runs):
    for name, argv in (("assiette-server egalim", ours), ("pandas", theirs)):
        out, err, wall, maxrss = run_measured(argv)
        times[name].append(wall)
        rss[name].append(maxrss)
        outputs[name] = out
        print(f"run {i + 1} {name}: {wall:.3f} s, peak {maxrss / 1024:.0f} MiB", file=sys.stderr)

# Same yearly simple totals, to the cent.
a = {(s["siret"], s["year"]): s for s in json.loads(outputs["assiette-server egalim"])["sites"]}
b = {(s["siret"], s["year"]): s for s in json.loads(outputs["pandas"])["sites"]}
assert a.keys() == b.keys(), "not the same sites and years"
fields = [k for k in next(iter(b.values())) if k.startswith("valeur_")]
for k in b:
    for f in fields:
        x, y = a[k][f], b[k][f]
        assert f"{float(x):.2f}" == f"{float(y):.2f}", f"{k} {f}: ours {x}, pandas {y}"

print(f"file: {lines:,} lines, {size_mb:.1f} MB; {runs} runs each, alternating")
print(f"load average now: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
med = {k: statistics.median(v) for k, v in times.items()}
for k in times:
    print(f"{k:24} median {med[k]:7.3f} s  (min {min(times[k]):.3f}, max {max(times[k]):.3f})  "
          f"{lines / med[k]:>12,.0f} lines/s  peak memory {max(rss[k]) / 1024:,.0f} MiB")
print(f"ratio pandas / assiette-server egalim: {med['pandas'] / med['assiette-server egalim']:.1f}x; "
      f"same {len(b)} site-years and {len(fields)} totals each, to the cent")

//! Build-time compression of the PWA's files.
//!
//! The app's transfer size is what tablets download on poor Wi-Fi. Its files are compressed
//! once, at build time, with Zopfli: a plain gzip stream (every browser reads it) a few percent
//! smaller than gzip -9, too slow to run per request. The server sends `<file>.gz` as is to
//! clients that accept gzip (tower-http `ServeDir::precompressed_gzip`).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Extensions worth compressing (text and wasm); images are already compressed.
const COMPRESSIBLE: [&str; 8] = ["wasm", "js", "mjs", "css", "html", "json", "webmanifest", "svg"];

/// What was done with one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compressed {
    pub path: PathBuf,
    pub original: u64,
    /// `None`: the gzip copy was not smaller, so none is kept.
    pub gzip: Option<u64>,
}

/// `data` as one gzip member, compressed with Zopfli's default effort.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() / 3 + 64);
    zopfli::compress(zopfli::Options::default(), zopfli::Format::Gzip, data, &mut out)
        .expect("writing to a Vec cannot fail");
    out
}

fn is_compressible(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| COMPRESSIBLE.contains(&e))
}

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            out.extend(files(&path)?);
        } else {
            out.push(path);
        }
    }
    Ok(out)
}

/// Writes `<file>.gz` beside every compressible file of `dir` (when smaller than the file) and
/// removes `.gz` copies that no longer match a compressible file, so a stale copy is never
/// served in place of a new build's file. Files are spread over the machine's cores.
pub fn precompress_dir(dir: &Path) -> io::Result<Vec<Compressed>> {
    let all = files(dir)?;
    for stale in all.iter().filter(|p| p.extension().is_some_and(|e| e == "gz")) {
        let source = stale.with_extension("");
        if !(source.is_file() && is_compressible(&source)) {
            fs::remove_file(stale)?;
        }
    }
    let mut sources: Vec<PathBuf> = all.into_iter().filter(|p| is_compressible(p)).collect();
    // Largest first, so the wasm file starts at once and the small ones fill the other cores.
    sources.sort_by_key(|p| std::cmp::Reverse(fs::metadata(p).map(|m| m.len()).unwrap_or(0)));
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<io::Result<Vec<Compressed>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(path) = sources.get(i) else { break };
                        done.push(compress_file(path)?);
                    }
                    Ok(done)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("a compression thread panicked")).collect()
    });
    let mut out = Vec::new();
    for r in results {
        out.extend(r?);
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

fn compress_file(path: &Path) -> io::Result<Compressed> {
    let data = fs::read(path)?;
    let packed = gzip(&data);
    let target = gz_path(path);
    let gzip = if packed.len() < data.len() {
        // Written beside and renamed: the server never sees half a file.
        let partial = target.with_extension("gz.partial");
        fs::write(&partial, &packed)?;
        fs::rename(&partial, &target)?;
        Some(packed.len() as u64)
    } else {
        if target.exists() {
            fs::remove_file(&target)?;
        }
        None
    };
    Ok(Compressed { path: path.to_owned(), original: data.len() as u64, gzip })
}

fn gz_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".gz");
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn gunzip(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(data).read_to_end(&mut out).unwrap();
        out
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("assiette-precompress-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("sub")).unwrap();
        dir
    }

    #[test]
    fn gzip_round_trips_and_beats_gzip_9_on_repetitive_text() {
        let text: Vec<u8> = (0..4000).flat_map(|i| format!("<li data-i=\"{i}\">Pesée {}</li>", i % 7).into_bytes()).collect();
        let packed = gzip(&text);
        assert_eq!(gunzip(&packed), text);
        let mut best = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        std::io::Write::write_all(&mut best, &text).unwrap();
        assert!(packed.len() <= best.finish().unwrap().len());
        assert_eq!(gunzip(&gzip(b"")), b"");
    }

    #[test]
    fn writes_gz_copies_of_compressible_files_only() {
        let dir = temp_dir("copies");
        let js: Vec<u8> = b"export function f() { return 'assiette'; }\n".repeat(200);
        fs::write(dir.join("app-1a2b.js"), &js).unwrap();
        fs::write(dir.join("sub/app_bg.wasm"), [0u8; 5000]).unwrap();
        fs::write(dir.join("icon.png"), [7u8; 5000]).unwrap();
        let done = precompress_dir(&dir).unwrap();
        assert_eq!(done.len(), 2, "{done:?}");
        assert_eq!(gunzip(&fs::read(dir.join("app-1a2b.js.gz")).unwrap()), js);
        assert_eq!(gunzip(&fs::read(dir.join("sub/app_bg.wasm.gz")).unwrap()), vec![0u8; 5000]);
        assert!(!dir.join("icon.png.gz").exists());
        assert!(done.iter().all(|c| c.gzip.unwrap() < c.original));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn removes_stale_copies_and_keeps_no_copy_that_is_not_smaller() {
        let dir = temp_dir("stale");
        fs::write(dir.join("old-9f9f.js.gz"), gzip(b"old build")).unwrap();
        fs::write(dir.join("photo.png.gz"), b"not ours to serve").unwrap();
        fs::write(dir.join("tiny.css"), b"a{}").unwrap();
        fs::write(dir.join("tiny.css.gz"), b"left by an older build").unwrap();
        let done = precompress_dir(&dir).unwrap();
        assert!(!dir.join("old-9f9f.js.gz").exists());
        assert!(!dir.join("photo.png.gz").exists());
        // gzip's header alone is larger than three bytes: the file is served as is.
        assert_eq!(done, vec![Compressed { path: dir.join("tiny.css"), original: 3, gzip: None }]);
        assert!(!dir.join("tiny.css.gz").exists());
        fs::remove_dir_all(&dir).unwrap();
    }
}

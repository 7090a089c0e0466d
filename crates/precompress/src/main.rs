//! `assiette-precompress <dir>`: writes Zopfli `.gz` copies of the built PWA's files (see lib.rs).

fn main() {
    let Some(dir) = std::env::args_os().nth(1) else {
        eprintln!("usage : assiette-precompress <dossier de l'application construite>");
        std::process::exit(2);
    };
    match assiette_precompress::precompress_dir(std::path::Path::new(&dir)) {
        Ok(done) => {
            let (original, sent): (u64, u64) =
                done.iter().fold((0, 0), |(o, s), c| (o + c.original, s + c.gzip.unwrap_or(c.original)));
            println!("precompress: {} fichiers, {} Ko → {} Ko (gzip Zopfli)", done.len(), original / 1024, sent / 1024);
        }
        Err(e) => {
            eprintln!("precompress: échec dans {} : {e}", std::path::Path::new(&dir).display());
            std::process::exit(1);
        }
    }
}

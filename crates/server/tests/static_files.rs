//! The PWA's files over real HTTP: the build's Zopfli copies are sent as they are to clients
//! that accept gzip, the plain files to the others, and client-side routes still get the app.

mod common;

use common::{http, TestServer};

async fn get(server: &TestServer, path: &str, gzip: bool) -> (u16, Option<String>, Vec<u8>) {
    let mut req = http().get(server.url(path));
    if gzip {
        req = req.header("Accept-Encoding", "gzip");
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let encoding = res.headers().get("content-encoding").map(|v| v.to_str().unwrap().to_owned());
    (status, encoding, res.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn precompressed_copies_are_sent_to_gzip_clients_and_plain_files_to_others() {
    let server = TestServer::start(&common::sqlite_backend().url).await;
    let js: Vec<u8> = b"export function assiette() { return 'pesee'; }\n".repeat(300);
    std::fs::write(server.static_dir.join("assiette-1a2b.js"), &js).unwrap();
    let done = assiette_precompress::precompress_dir(&server.static_dir).unwrap();
    assert!(done.iter().any(|c| c.path.ends_with("assiette-1a2b.js") && c.gzip.is_some()), "{done:?}");
    let zopfli = std::fs::read(server.static_dir.join("assiette-1a2b.js.gz")).unwrap();

    let (status, encoding, body) = get(&server, "/assiette-1a2b.js", true).await;
    assert_eq!((status, encoding.as_deref()), (200, Some("gzip")));
    assert_eq!(body, zopfli, "the build's copy, byte for byte, not a recompression");

    let (status, encoding, body) = get(&server, "/assiette-1a2b.js", false).await;
    assert_eq!((status, encoding), (200, None));
    assert_eq!(body, js);

    // A client-side route reloaded: the app's index.html, compressed or not.
    let (status, encoding, body) = get(&server, "/historique", false).await;
    assert_eq!((status, encoding), (200, None));
    assert!(String::from_utf8(body).unwrap().contains("<title>Assiette</title>"));
    let (status, _, _) = get(&server, "/historique", true).await;
    assert_eq!(status, 200);
    server.stop().await;
}

/// Issue 11, item 9: security headers on every response (the page, the app's files, the API,
/// errors), the policy allowing exactly the inline script Trunk writes; no dotfile served, no
/// symbolic link followed out of the app's folder.
#[tokio::test]
async fn security_headers_everywhere_and_no_file_outside_the_app() {
    // index.html as Trunk 0.21 writes it: an inline module script loads the wasm.
    let inline = "\nimport init, * as bindings from '/assiette-1a2b.js';\nconst wasm = await init({ module_or_path: '/assiette-1a2b_bg.wasm' });\nwindow.wasmBindings = bindings;\n";
    let static_dir = common::temp_dir("static");
    std::fs::write(static_dir.join("index.html"), format!("<!doctype html><title>Assiette</title>\n<script type=\"module\">{inline}</script>\n<script src=\"/x.js\"></script>")).unwrap();
    std::fs::write(static_dir.join("assiette-1a2b.js"), "export default function init() {}").unwrap();
    std::fs::write(static_dir.join(".env"), "DATABASE_URL=postgres://u:SECRET@h/db").unwrap();
    std::fs::create_dir_all(static_dir.join(".git")).unwrap();
    std::fs::write(static_dir.join(".git/config"), "SECRET").unwrap();
    std::fs::create_dir_all(static_dir.join("icons")).unwrap();
    std::fs::write(static_dir.join("icons/.hidden.png"), "SECRET").unwrap();
    let outside = common::temp_dir("outside");
    std::fs::write(outside.join("passwd"), "SECRET").unwrap();
    std::os::unix::fs::symlink(outside.join("passwd"), static_dir.join("leak.txt")).unwrap();
    std::os::unix::fs::symlink(&outside, static_dir.join("etc")).unwrap();
    // A link that stays inside the folder is fine.
    std::os::unix::fs::symlink(static_dir.join("assiette-1a2b.js"), static_dir.join("alias.js")).unwrap();

    let db = assiette_server::db::Db::open(&common::sqlite_backend().url).await.unwrap();
    let server = TestServer::serve_dir(db, static_dir.clone()).await;
    use sha2::Digest;
    use base64::Engine;
    let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(inline.as_bytes()));
    let csp = format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' 'sha256-{hash}'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    );
    for (path, status) in [("/", 200), ("/historique", 200), ("/assiette-1a2b.js", 200), ("/alias.js", 200), ("/api/v1/health", 200), ("/api/v1/nope", 404)] {
        for gzip in [false, true] {
            let mut req = http().get(server.url(path));
            if gzip {
                req = req.header("Accept-Encoding", "gzip");
            }
            let res = req.send().await.unwrap();
            assert_eq!(res.status().as_u16(), status, "{path}");
            let h = res.headers();
            assert_eq!(h["content-security-policy"], csp.as_str(), "{path}");
            assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
            assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
            assert_eq!(h["x-frame-options"], "DENY", "{path}");
        }
    }
    for path in ["/.env", "/.git/config", "/%2eenv", "/icons/.hidden.png", "/leak.txt", "/etc/passwd", "/etc/"] {
        for gzip in [false, true] {
            let mut req = http().get(server.url(path));
            if gzip {
                req = req.header("Accept-Encoding", "gzip");
            }
            let res = req.send().await.unwrap();
            let status = res.status().as_u16();
            assert!(res.headers().contains_key("content-security-policy"), "{path}");
            let body = res.text().await.unwrap();
            assert!(status == 404 || status == 400, "{path}: {status}");
            assert!(!body.contains("SECRET"), "{path}: {body}");
        }
    }
    server.stop().await;
}

/// The office bundle lives under /bureau/ and the territory bundle under /territoire/, each with
/// its own index.html: their routes, reloaded, get that shell (not the kitchen's), the
/// kitchen's routes still get theirs, and the policy allows the inline loader of every page.
#[tokio::test]
async fn each_bundle_routes_fall_back_to_its_own_shell() {
    let static_dir = common::temp_dir("static");
    let kitchen_loader = "import init from '/assiette-1a2b.js'; await init();";
    let office_loader = "import init from '/bureau/bureau-3c4d.js'; await init();";
    std::fs::write(static_dir.join("index.html"), format!("<title>Cuisine</title><script type=\"module\">{kitchen_loader}</script>")).unwrap();
    std::fs::create_dir_all(static_dir.join("bureau")).unwrap();
    std::fs::write(static_dir.join("bureau/index.html"), format!("<title>Bureau</title><script type=\"module\">{office_loader}</script>")).unwrap();
    std::fs::write(static_dir.join("bureau/bureau-3c4d.js"), "export default async function init() {}").unwrap();
    let territory_loader = "import init from '/territoire/territoire-5e6f.js'; await init();";
    std::fs::create_dir_all(static_dir.join("territoire")).unwrap();
    std::fs::write(static_dir.join("territoire/index.html"), format!("<title>Territoire</title><script type=\"module\">{territory_loader}</script>")).unwrap();
    std::fs::write(static_dir.join("territoire/territoire-5e6f.js"), "export default async function init() {}").unwrap();

    let db = assiette_server::db::Db::open(&common::sqlite_backend().url).await.unwrap();
    let server = TestServer::serve_dir(db, static_dir).await;
    for (path, title) in [
        ("/", "Cuisine"),
        ("/historique", "Cuisine"),
        ("/synchronisation", "Cuisine"),
        ("/bureau/", "Bureau"),
        ("/bureau/graphiques", "Bureau"),
        ("/bureau/reglages", "Bureau"),
        ("/territoire/", "Territoire"),
        ("/territoire/tendances", "Territoire"),
        ("/territoire/commune/76351", "Territoire"),
    ] {
        let (status, _, body) = get(&server, path, false).await;
        let body = String::from_utf8(body).unwrap();
        assert_eq!(status, 200, "{path}");
        assert!(body.contains(&format!("<title>{title}</title>")), "{path}: {body}");
        assert_eq!(get(&server, path, true).await.0, 200, "{path}, gzip");
    }
    let (status, _, body) = get(&server, "/bureau/bureau-3c4d.js", false).await;
    assert_eq!(status, 200);
    assert!(String::from_utf8(body).unwrap().contains("export default"));
    let (status, _, body) = get(&server, "/territoire/territoire-5e6f.js", false).await;
    assert_eq!(status, 200);
    assert!(String::from_utf8(body).unwrap().contains("export default"));

    let res = http().get(server.url("/bureau/reglages")).send().await.unwrap();
    let csp = res.headers()["content-security-policy"].to_str().unwrap().to_owned();
    use base64::Engine;
    use sha2::Digest;
    for loader in [kitchen_loader, office_loader, territory_loader] {
        let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(loader.as_bytes()));
        assert!(csp.contains(&format!("'sha256-{hash}'")), "{csp}");
    }
    server.stop().await;
}

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

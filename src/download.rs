//! Files offered to the person: a backup, an export, the totals. The browser saves them where
//! it saves downloads (Blob + object URL + a temporary link), so they work offline.

use wasm_bindgen::JsCast;

/// The kinds of file the app offers, with their MIME types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Json,
    Csv,
    Xlsx,
    /// A document a word processor opens (the clause checklist).
    Html,
}

impl FileKind {
    fn mime(self) -> &'static str {
        match self {
            FileKind::Json => "application/json",
            // With its charset: a spreadsheet opening it then reads the accents right.
            FileKind::Csv => "text/csv;charset=utf-8",
            FileKind::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            FileKind::Html => "text/html;charset=utf-8",
        }
    }
}

/// Offers `contents` as a file named `file_name`. The error says, in French, what to do.
pub fn offer(file_name: &str, kind: FileKind, contents: &[u8]) -> Result<(), String> {
    let fail = |what: &str| {
        format!("Le fichier « {file_name} » n'a pas pu être créé ({what}) : réessayez, ou libérez de la place sur l'appareil.")
    };
    let bytes = js_sys::Uint8Array::from(contents);
    let parts = js_sys::Array::of1(&bytes);
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(kind.mime());
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options).map_err(|_| fail("blob"))?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(|_| fail("url"))?;
    let document = web_sys::window().and_then(|w| w.document()).ok_or_else(|| fail("document"))?;
    let a: web_sys::HtmlAnchorElement = document.create_element("a").map_err(|_| fail("lien"))?.unchecked_into();
    a.set_href(&url);
    a.set_download(file_name);
    let _ = a.set_attribute("hidden", "");
    if let Some(body) = document.body() {
        let _ = body.append_child(&a);
    }
    a.click();
    a.remove();
    // Revoke later: revoking at once can cancel the download in some browsers.
    let revoke = wasm_bindgen::closure::Closure::once_into_js(move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    if let Some(w) = web_sys::window() {
        let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(revoke.unchecked_ref(), 60_000);
    }
    Ok(())
}

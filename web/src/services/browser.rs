//! Small browser adapters: files, downloads, the clipboard, the URL fragment, timing marks.

use gloo::file::futures::read_as_bytes;
use gloo::file::File;
use wasm_bindgen::{JsCast, JsValue};

/// The files of a `FileList`, taken at once: a picker's list empties when its value is reset.
pub fn take_files(list: &web_sys::FileList) -> Vec<web_sys::File> {
    (0..list.length()).filter_map(|i| list.get(i)).collect()
}

/// Reads files (from a picker or a drop) as bytes.
pub async fn read_files(list: Vec<web_sys::File>) -> Vec<(String, Result<Vec<u8>, String>)> {
    let mut out = Vec::new();
    for f in list {
        let file = File::from(f);
        let name = file.name();
        let bytes = read_as_bytes(&file).await.map_err(|e| format!("{name}: cannot read the file: {e}"));
        out.push((name, bytes));
    }
    out
}

/// Offers `text` as a download named `name`.
pub fn download(name: &str, mime: &str, text: &str) -> Result<(), String> {
    let err = |e: JsValue| format!("download failed: {e:?}");
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type(mime);
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts).map_err(err)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(err)?;
    let document = gloo::utils::document();
    let a: web_sys::HtmlAnchorElement = document.create_element("a").map_err(err)?.unchecked_into();
    a.set_href(&url);
    a.set_download(name);
    a.set_attribute("data-testid", "download-link").map_err(err)?;
    a.click();
    let _ = web_sys::Url::revoke_object_url(&url);
    Ok(())
}

/// Copies text to the clipboard (asynchronously; failures are silent, the text stays visible).
pub fn copy(text: &str) {
    let nav = gloo::utils::window().navigator();
    let Ok(clipboard) = js_sys::Reflect::get(&nav, &JsValue::from_str("clipboard")) else { return };
    let Ok(write) = js_sys::Reflect::get(&clipboard, &JsValue::from_str("writeText")) else { return };
    if let Some(f) = write.dyn_ref::<js_sys::Function>() {
        let _ = f.call1(&clipboard, &JsValue::from_str(text));
    }
}

pub fn fragment() -> String {
    gloo::utils::window().location().hash().unwrap_or_default()
}

/// Replaces the fragment without adding a history entry.
pub fn set_fragment(fragment: &str) {
    let window = gloo::utils::window();
    let Ok(history) = window.history() else { return };
    let loc = window.location();
    let base = format!("{}{}", loc.pathname().unwrap_or_default(), loc.search().unwrap_or_default());
    let url = if fragment.is_empty() { base } else { format!("{base}#{fragment}") };
    let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&url));
}

/// `performance.mark(name)`, for benchmarks that drive the page.
pub fn mark(name: &str) {
    if let Some(p) = gloo::utils::window().performance() {
        let _ = p.mark(name);
    }
}

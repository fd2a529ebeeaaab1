//! Small browser adapters: files, downloads, the clipboard, the URL fragment, timing marks.

use crate::state::FileBytes;
use gloo::file::futures::read_as_text;
use gloo::file::File;
use wasm_bindgen::{JsCast, JsValue};

/// The files of a `FileList`, taken at once: a picker's list empties when its value is reset.
pub fn take_files(list: &web_sys::FileList) -> Vec<web_sys::File> {
    (0..list.length()).filter_map(|i| list.get(i)).collect()
}

/// A picked or dropped file as an input: its name and a handle the worker reads.
pub fn file_input(f: web_sys::File) -> (String, FileBytes) {
    let size = f.size() as usize;
    (f.name(), FileBytes::Handle(f, size))
}

/// An input's text (for "keep in this browser"), read without blocking the page.
pub async fn text_of(name: &str, bytes: &FileBytes) -> Result<String, String> {
    match bytes {
        FileBytes::Data(b) => Ok(String::from_utf8_lossy(b).into_owned()),
        FileBytes::Handle(f, _) => {
            read_as_text(&File::from(f.clone())).await.map_err(|e| format!("{name}: cannot read the file: {e}"))
        }
    }
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

/// Runs `f` in a task of its own after the page has painted what is on it now, so that work
/// split across tasks is also split across frames. A hidden page paints nothing: there `f` runs
/// in the next task.
pub fn after_paint(f: impl FnOnce() + 'static) {
    let window = gloo::utils::window();
    let later = move || {
        gloo::timers::callback::Timeout::new(0, f).forget();
    };
    if gloo::utils::document().hidden() {
        return later();
    }
    let cb = wasm_bindgen::closure::Closure::once_into_js(later);
    if let Some(cb) = cb.dyn_ref::<js_sys::Function>() {
        let _ = window.request_animation_frame(cb);
    }
}

//! The analysis worker: runs podreach-core off the main thread and answers the page's requests.

#[cfg(target_arch = "wasm32")]
fn main() {
    console_error_panic_hook::set_once();
    podreach_web::services::worker::serve();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {}

//! The page's entry point: a panic hook, then the app.

#[cfg(target_arch = "wasm32")]
fn main() {
    console_error_panic_hook::set_once();
    yew::Renderer::<podreach_web::app::App>::new().render();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {}

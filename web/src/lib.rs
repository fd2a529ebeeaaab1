//! podreach-web: the page (yew) and the analysis worker, over podreach-core.
//!
//! `state`, `protocol`, `engine`, `example` and `mem` are pure and tested natively (`mem` also
//! gives WebAssembly a faster `memcmp`). Everything that touches the browser is compiled for
//! wasm32 only: `services` (the only module that calls browser APIs), `components` (views) and
//! `app` (wiring). The JavaScript API is served by the worker (`Request::Api`) and exposed by
//! `web/static/boot.js`.

pub mod engine;
pub mod example;
pub mod mem;
pub mod protocol;
pub mod state;

#[cfg(target_arch = "wasm32")]
pub mod app;
#[cfg(target_arch = "wasm32")]
pub mod components;
#[cfg(target_arch = "wasm32")]
pub mod services;

// Starts the second worker (web/src/services/worker.rs `serve_helper`): the analysis worker's
// module, under the name the page gives it. The page works without it, so if its wasm cannot be
// loaded (the network gone before the service worker kept it) it closes quietly, and the page never
// gives it a file (it does only once the second worker has said it is ready).
importScripts('./worker.js');
wasm_bindgen('./worker_bg.wasm').catch(() => close());

//! The analysis worker: its message loop (in the worker) and its client (in the page).

use crate::engine::Engine;
use crate::protocol::{Request, Response, Timings};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent, Worker};

thread_local! {
    static ENGINE: RefCell<Engine> = RefCell::new(Engine::default());
}

/// Runs in the worker: answers every request from the page.
pub fn serve() {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let reply = scope.clone();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
        let post = |r: &Response| {
            // A view or a page of rows is a large tree: as one JSON string it crosses to the page
            // and is read there in a fraction of the time that building it object by object takes
            // on the page's main thread.
            let v = match r {
                Response::View { .. } | Response::Rows { .. } => serde_json::to_string(r).ok().map(|json| {
                    let o = js_sys::Object::new();
                    let _ = js_sys::Reflect::set(&o, &JsValue::from_str("json"), &JsValue::from(json));
                    JsValue::from(o)
                }),
                _ => serde_wasm_bindgen::to_value(r).ok(),
            };
            if let Some(v) = v {
                let _ = reply.post_message(&v);
            }
        };
        let data = ev.data();
        if let Err((seq, message)) = read_files(&data) {
            return post(&Response::Failed { seq, message });
        }
        match serde_wasm_bindgen::from_value::<Request>(data) {
            Ok(req) => handle(req, &post),
            Err(e) => post(&Response::Failed {
                seq: 0,
                message: format!("the page sent a request the worker cannot read: {e}"),
            }),
        }
    });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    if let Ok(v) = serde_wasm_bindgen::to_value(&Response::Ready) {
        let _ = scope.post_message(&v);
    }
}

fn handle(req: Request, post: &dyn Fn(&Response)) {
    ENGINE.with(|cell| {
        let mut engine = cell.borrow_mut();
        match req {
            Request::Run { seq, inputs, query, page } => {
                let mut timings = Timings::default();
                if let Some(inputs) = inputs {
                    let bytes: usize = inputs.iter().map(|i| i.bytes.len()).sum();
                    post(&Response::Progress { seq, phase: format!("reading {} of json", human(bytes)), percent: 15 });
                    let t0 = js_sys::Date::now();
                    engine.set_inputs(inputs);
                    timings.load_ms = js_sys::Date::now() - t0;
                }
                post(&Response::Progress { seq, phase: "analysing every source".to_owned(), percent: 60 });
                let t1 = js_sys::Date::now();
                let mut view = engine.run(query.as_ref(), &page);
                timings.analyse_ms = js_sys::Date::now() - t1;
                view.timings = timings;
                post(&Response::Progress { seq, phase: "drawing".to_owned(), percent: 90 });
                post(&Response::View { seq, view: Box::new(view) });
            }
            Request::Page { seq, page } => post(&Response::Rows { seq, rows: engine.page(&page) }),
            Request::Api { seq, inputs, query } => match crate::engine::api(&inputs, query.as_ref()) {
                Ok(json) => post(&Response::Report { seq, json }),
                Err(message) => post(&Response::Failed { seq, message }),
            },
            Request::Export { seq, format } => match engine.export(&format) {
                Some(text) => post(&Response::Export { seq, format, text }),
                None => {
                    post(&Response::Failed { seq, message: "nothing to export yet: load an export first".to_owned() })
                }
            },
        }
    });
}

fn human(bytes: usize) -> String {
    if bytes >= 1_000_000 {
        format!("{:.1} MB", bytes as f64 / 1e6)
    } else {
        format!("{} KB", bytes.div_ceil(1000))
    }
}

fn get(o: &JsValue, k: &str) -> Option<JsValue> {
    js_sys::Reflect::get(o, &JsValue::from_str(k)).ok().filter(|v| !v.is_undefined())
}

/// The inputs of a `Run` request as JavaScript objects.
fn run_inputs(msg: &JsValue) -> Vec<JsValue> {
    get(msg, "Run")
        .and_then(|run| get(&run, "inputs"))
        .and_then(|i| i.dyn_into::<js_sys::Array>().ok())
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

/// In the worker: reads the browser files a `Run` request carries into its inputs' bytes. Reading
/// here, synchronously, keeps a large export off the page's main thread.
fn read_files(msg: &JsValue) -> Result<(), (u32, String)> {
    let seq = || get(msg, "Run").and_then(|r| get(&r, "seq")).and_then(|s| s.as_f64()).map_or(0, |s| s as u32);
    for input in run_inputs(msg) {
        let Some(file) = get(&input, "file").and_then(|f| f.dyn_into::<web_sys::File>().ok()) else { continue };
        let fail = |e: JsValue| (seq(), format!("{}: cannot read the file: {e:?}", file.name()));
        let reader = web_sys::FileReaderSync::new().map_err(fail)?;
        let buffer = reader.read_as_array_buffer(&file).map_err(fail)?;
        js_sys::Reflect::set(&input, &JsValue::from_str("bytes"), &js_sys::Uint8Array::new(&buffer)).map_err(fail)?;
    }
    Ok(())
}

/// Messages (and the buffers they transfer) waiting for the worker to be ready; `None` once it is.
type Queue = Rc<RefCell<Option<Vec<(JsValue, js_sys::Array)>>>>;

/// The page's handle on the worker. Requests wait in a queue until the worker says it is ready.
pub struct Client {
    worker: Worker,
    queue: Queue,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
}

impl Client {
    /// Starts `worker_loader.js` (next to the page, so any sub-path works).
    pub fn spawn(on_response: impl Fn(Response) + 'static) -> Result<Client, String> {
        let worker =
            Worker::new("./worker_loader.js").map_err(|e| format!("cannot start the analysis worker: {e:?}"))?;
        let queue: Queue = Rc::new(RefCell::new(Some(Vec::new())));
        let (q, w) = (queue.clone(), worker.clone());
        let on_response = Rc::new(on_response);
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
            let data = ev.data();
            let read = match get(&data, "json").and_then(|j| j.as_string()) {
                Some(json) => serde_json::from_str::<Response>(&json).map_err(|e| e.to_string()),
                None => serde_wasm_bindgen::from_value::<Response>(data).map_err(|e| e.to_string()),
            };
            match read {
                Ok(Response::Ready) => {
                    for (msg, transfer) in q.borrow_mut().take().unwrap_or_default() {
                        let _ = w.post_message_with_transfer(&msg, &transfer);
                    }
                }
                // A view is read in this task and drawn in the next: the first view also compiles
                // the page's drawing code, and together the two would hold the main thread too long.
                Ok(r @ Response::View { .. }) => {
                    let f = on_response.clone();
                    crate::services::browser::after_paint(move || f(r));
                }
                Ok(r) => on_response(r),
                Err(e) => {
                    on_response(Response::Failed { seq: u32::MAX, message: format!("unreadable worker message: {e}") })
                }
            }
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        Ok(Client { worker, queue, _on_message: on_message })
    }

    /// Posts a request; `files` are the browser files its inputs refer to, by input id. A file
    /// goes as a handle (the worker reads it), not as bytes.
    pub fn post(&self, req: &Request, files: &[(u32, web_sys::File)]) -> Result<(), String> {
        let v = serde_wasm_bindgen::to_value(req).map_err(|e| e.to_string())?;
        for input in run_inputs(&v) {
            let id = get(&input, "id").and_then(|i| i.as_f64());
            if let Some((_, file)) = files.iter().find(|(fid, _)| Some(f64::from(*fid)) == id) {
                js_sys::Reflect::set(&input, &JsValue::from_str("file"), file).map_err(|e| format!("{e:?}"))?;
            }
        }
        let transfer = transferables(&v);
        if let Some(waiting) = self.queue.borrow_mut().as_mut() {
            waiting.push((v, transfer));
            return Ok(());
        }
        self.worker.post_message_with_transfer(&v, &transfer).map_err(|e| format!("{e:?}"))
    }
}

/// The byte buffers of a `Run` request's inputs (pasted text): moved to the worker rather than
/// copied.
fn transferables(v: &JsValue) -> js_sys::Array {
    let out = js_sys::Array::new();
    for input in run_inputs(v) {
        if let Some(bytes) = get(&input, "bytes").and_then(|b| b.dyn_into::<js_sys::Uint8Array>().ok()) {
            out.push(&bytes.buffer());
        }
    }
    out
}

impl Drop for Client {
    fn drop(&mut self) {
        self.worker.terminate();
    }
}

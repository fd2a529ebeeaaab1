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
            if let Ok(v) = serde_wasm_bindgen::to_value(r) {
                let _ = reply.post_message(&v);
            }
        };
        match serde_wasm_bindgen::from_value::<Request>(ev.data()) {
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
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
            match serde_wasm_bindgen::from_value::<Response>(ev.data()) {
                Ok(Response::Ready) => {
                    for (msg, transfer) in q.borrow_mut().take().unwrap_or_default() {
                        let _ = w.post_message_with_transfer(&msg, &transfer);
                    }
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

    pub fn post(&self, req: &Request) -> Result<(), String> {
        let v = serde_wasm_bindgen::to_value(req).map_err(|e| e.to_string())?;
        let transfer = transferables(&v);
        if let Some(waiting) = self.queue.borrow_mut().as_mut() {
            waiting.push((v, transfer));
            return Ok(());
        }
        self.worker.post_message_with_transfer(&v, &transfer).map_err(|e| format!("{e:?}"))
    }
}

/// The byte buffers of a `Run` request's inputs: moved to the worker rather than copied, so a
/// large export does not hold up the page's main thread.
fn transferables(v: &JsValue) -> js_sys::Array {
    let out = js_sys::Array::new();
    let get = |o: &JsValue, k: &str| js_sys::Reflect::get(o, &JsValue::from_str(k)).ok();
    let Some(inputs) = get(v, "Run").and_then(|run| get(&run, "inputs")) else { return out };
    if let Some(list) = inputs.dyn_ref::<js_sys::Array>() {
        for input in list.iter() {
            if let Some(bytes) = get(&input, "bytes").and_then(|b| b.dyn_into::<js_sys::Uint8Array>().ok()) {
                out.push(&bytes.buffer());
            }
        }
    }
    out
}

impl Drop for Client {
    fn drop(&mut self) {
        self.worker.terminate();
    }
}

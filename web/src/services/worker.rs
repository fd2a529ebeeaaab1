//! The analysis worker: its message loop (in the worker) and its client (in the page).

use crate::engine::{Engine, Loading, Placed, Slice, Warmup};
use crate::protocol::{InputMsg, PageReq, QueryMsg, Request, Response, Timings};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent, Worker};

thread_local! {
    static ENGINE: RefCell<Engine> = RefCell::new(Engine::default());
    /// The run whose inputs are still arriving, if any.
    static PENDING: RefCell<Option<Pending>> = const { RefCell::new(None) };
    /// The warm-up while it runs, and when it began; `None` before, and once it is over or a
    /// request came.
    static WARM: RefCell<Option<(Warmup, f64)>> = const { RefCell::new(None) };
    /// Whether the page has sent any request: then the warm-up does not start.
    static ASKED: Cell<bool> = const { Cell::new(false) };
    /// Whether the idle warm-up ran to its end: then the code is optimised already.
    static WARMED: Cell<bool> = const { Cell::new(false) };
    /// The newest run whose request has come.
    static NEWEST_RUN: Cell<u32> = const { Cell::new(0) };
    /// Files' bytes that came before their run's request: the reader's channel and the page's
    /// requests are two queues, and the worker may take a message from either first (an e2e
    /// test lost files that way in two of ten runs). The run's request takes them.
    static EARLY: RefCell<Vec<Message>> = const { RefCell::new(Vec::new()) };
    /// In the second worker: the file it is putting together, and its channel to the analysis
    /// worker.
    static HELPING: RefCell<Option<Job>> = const { RefCell::new(None) };
    static TO_WORKER: RefCell<Option<web_sys::MessagePort>> = const { RefCell::new(None) };
}

/// The name the page gives the second worker: the same module, started to parse a kubectl
/// export beside the analysis worker ([`serve_helper`]).
pub const HELPER_NAME: &str = "podreach-helper";

/// A file the second worker is putting together from the reader's slices.
struct Job {
    run: u32,
    id: u32,
    loading: Loading,
}

/// A message to the worker: the page's requests, and the file reader's slices of bytes.
enum Message {
    Request(Request),
    Bytes(Bytes),
    Converted(Converted),
}

/// `reader.js`'s message with a slice of a file's bytes, or the second worker's with what it made
/// of a file.
#[derive(serde::Deserialize)]
enum FromReader {
    Bytes(Bytes),
    Converted(Converted),
}

/// Input `id` of the `Run` numbered `run`, parsed by the second worker, in the compact form of
/// `Parsed::to_wire`; `ms` is what that took there.
#[derive(serde::Deserialize)]
struct Converted {
    run: u32,
    id: u32,
    #[serde(with = "serde_wasm_bindgen::preserve")]
    bytes: js_sys::Uint8Array,
    ms: f64,
}

/// Bytes of input `id` of the `Run` numbered `run`, `offset` bytes into it (a large file comes
/// in slices), or why the page could not read them. The bytes stay the page's array until they
/// are copied, once, into place (`Loading::place`).
#[derive(serde::Deserialize)]
struct Bytes {
    run: u32,
    id: u32,
    #[serde(default)]
    offset: u64,
    #[serde(with = "serde_wasm_bindgen::preserve")]
    bytes: js_sys::Uint8Array,
    error: Option<String>,
    /// The whole file's size and name: the second worker needs them, as it has no request.
    #[serde(default)]
    size: u64,
    #[serde(default)]
    name: String,
    /// Whether the reader wants the buffer back once the bytes are copied (`reader.js`: it reads
    /// into the same few buffers again).
    #[serde(default)]
    recycle: bool,
    /// The channel the bytes came by, set on arrival: the buffer goes back by it.
    #[serde(skip)]
    from: Option<web_sys::MessagePort>,
}

impl Bytes {
    /// Sends the buffer back to the reader, if it asked for it, once its bytes are copied (the
    /// array is then empty).
    fn give_back(&self) {
        let (true, Some(port)) = (self.recycle, &self.from) else { return };
        let buffer = self.bytes.buffer();
        let msg = object(&[("Recycle", buffer.clone().into())]);
        let _ = port.post_message_with_transferable(&msg, &js_sys::Array::of1(&buffer));
    }

    /// Tells the reader, by the channel the bytes came by, `name` (`{ run, id }`) of their file.
    fn tell_reader(&self, name: &str) {
        let Some(port) = &self.from else { return };
        let inner = object(&[("run", JsValue::from(self.run)), ("id", JsValue::from(self.id))]);
        let _ = port.post_message(&object(&[(name, inner.into())]));
    }

    /// Notes the channel of the message event `ev` as the one the bytes came by.
    fn arrived_by(&mut self, ev: &MessageEvent) {
        self.from = ev.target().and_then(|t| t.dyn_into::<web_sys::MessagePort>().ok());
    }
}

/// A `Run` waiting for the bytes of its files.
struct Pending {
    /// The run that sent the inputs: their bytes name it.
    run: u32,
    /// The newest run that asked for an analysis of these inputs, with its query and page.
    seq: u32,
    query: Option<QueryMsg>,
    page: PageReq,
    loading: Loading,
    started: f64,
    parse_ms: f64,
    /// Warm-up rounds run while waiting for bytes (the long lists read first count as one).
    warm_rounds: u32,
    /// What the second worker spent on the inputs it parsed.
    helper_ms: f64,
}

/// Posts a response to the page.
fn post(r: &Response) {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    // A view or a page of rows is a large tree: as one JSON string it crosses to the page and is
    // read there in a fraction of the time that building it object by object takes on the page's
    // main thread.
    let v = match r {
        Response::View { .. } | Response::Rows { .. } => serde_json::to_string(r).ok().map(|json| {
            let o = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&o, &JsValue::from_str("json"), &JsValue::from(json));
            JsValue::from(o)
        }),
        _ => serde_wasm_bindgen::to_value(r).ok(),
    };
    if let Some(v) = v {
        let _ = scope.post_message(&v);
    }
}

/// Runs in the worker: answers every request from the page.
pub fn serve() {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    if scope.name() == HELPER_NAME {
        serve_helper();
        return;
    }
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
        // The page's one message with a port: the file reader's channel (`reader.js`), whose
        // messages are requests like the page's.
        if let Some(port) = ev.ports().get(0).dyn_ref::<web_sys::MessagePort>() {
            port.set_onmessage(js_sys::global().unchecked_into::<DedicatedWorkerGlobalScope>().onmessage().as_ref());
            return;
        }
        match read_message(ev.data()) {
            Ok(mut m) => {
                if let Message::Bytes(b) = &mut m {
                    b.arrived_by(&ev);
                }
                handle(m);
            }
            Err(e) => post(&Response::Failed {
                seq: 0,
                message: format!("the page sent a request the worker cannot read: {e}"),
            }),
        }
    });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    warm_message_reader();
    post(&Response::Ready);
    // Only once the user has left the page alone for a moment: a request in the first moments
    // (files chosen right away) runs without the warm-up and the compiling it sets off.
    gloo::timers::callback::Timeout::new(WARM_AFTER_MS, || {
        if !ASKED.with(Cell::get) {
            WARM.with(|w| *w.borrow_mut() = Some((Warmup::default(), now())));
            warm_slice();
        }
    })
    .forget();
}

/// A message from the page or the file reader, read.
fn read_message(data: JsValue) -> Result<Message, serde_wasm_bindgen::Error> {
    let has = |k: &str| js_sys::Reflect::has(&data, &JsValue::from_str(k)).unwrap_or(false);
    if has("Bytes") || has("Converted") {
        serde_wasm_bindgen::from_value::<FromReader>(data).map(|m| match m {
            FromReader::Bytes(b) => Message::Bytes(b),
            FromReader::Converted(c) => Message::Converted(c),
        })
    } else {
        serde_wasm_bindgen::from_value::<Request>(data).map(Message::Request)
    }
}

/// Reads a message of each kind a run brings (a `Run` with a file to come, a `Read`, a `Bytes`)
/// and drops them, before the worker says it is ready. The code that reads a message is compiled
/// lazily, on its first call: the first `Run` took 17 ms to read in a warm run at 5,000 nodes,
/// on the run's critical path (BENCHMARKS.md item 52), as the warm-up calls the engine directly.
fn warm_message_reader() {
    let run = Request::Run {
        seq: 0,
        inputs: Some(vec![InputMsg { id: 0, name: String::new(), bytes: Vec::new(), follows: Some(0) }]),
        query: Some(QueryMsg::default()),
        page: PageReq::default(),
    };
    let slice = js_sys::Object::new();
    for (k, v) in [("run", JsValue::from(0)), ("id", JsValue::from(0)), ("offset", JsValue::from(0))] {
        let _ = js_sys::Reflect::set(&slice, &JsValue::from_str(k), &v);
    }
    let _ = js_sys::Reflect::set(&slice, &JsValue::from_str("bytes"), &js_sys::Uint8Array::new_with_length(0));
    let _ = js_sys::Reflect::set(&slice, &JsValue::from_str("error"), &JsValue::NULL);
    let bytes = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&bytes, &JsValue::from_str("Bytes"), &slice);
    let messages = [
        serde_wasm_bindgen::to_value(&run).ok(),
        serde_wasm_bindgen::to_value(&Request::Read { run: 0, id: 0, read: 0 }).ok(),
        Some(bytes.into()),
    ];
    for m in messages.into_iter().flatten() {
        let _ = std::hint::black_box(read_message(m));
    }
}

/// How long after it is ready the worker waits, idle, before it warms up. Files chosen within
/// it run without the warm-up's compiling beside them; files chosen after it find the warm-up
/// further along, the sooner it started. No one picks files within a quarter of a second of the
/// page being ready; at 5,000 nodes, with files chosen 1 s after ready, the page took a median
/// 2.38-2.78× the CLI with this wait against 3.24-3.27× with a 1 s wait (two sets of five
/// rounds side by side, BENCHMARKS.md item 49).
const WARM_AFTER_MS: u32 = 250;

/// Milliseconds on the worker's clock.
fn now() -> f64 {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    scope.performance().map_or_else(js_sys::Date::now, |p| p.now())
}

/// Runs warm-up batches for about [`SLICE_MS`], then yields to any request that arrived and
/// carries on in a later task if none did.
fn warm_slice() {
    let slice = now();
    while let Some((mut warmup, began)) = WARM.with(|w| w.borrow_mut().take()) {
        let t = now();
        for _ in 0..Warmup::ROUNDS {
            crate::engine::warm_round();
        }
        let end = now();
        if warmup.record(end - t, end - began) {
            WARMED.with(|w| w.set(true));
            post(&Response::Warm { ms: end - began, rounds: warmup.rounds() });
            return;
        }
        WARM.with(|w| *w.borrow_mut() = Some((warmup, began)));
        if end - slice >= SLICE_MS {
            gloo::timers::callback::Timeout::new(0, warm_slice).forget();
            return;
        }
    }
}

/// How long the warm-up holds the worker before it looks for requests.
const SLICE_MS: f64 = 25.0;

/// While a large run waits for the bytes of its largest file (files chosen before the idle
/// warm-up could run: the page reads the largest first, which takes a hundred milliseconds or
/// more at 5,000 nodes), the worker reads the example's long lists once (`engine::warm_parse`),
/// so that V8 starts optimising the readers before the parse begins rather than during it
/// (BENCHMARKS.md item 47). Nothing more: the worker has by then spent most of the wait writing
/// the largest file's buffer (`Loading::prepare_largest`), and the warm-up rounds of the example
/// that used to follow held the worker when the file's slices came. The first round alone took
/// 30-40 ms of lazy compiling, and a cold run at 5,000 nodes began its parse 50-110 ms after the
/// last slice was read (item 59).
fn warm_while_waiting() {
    crate::engine::warm_parse(&crate::engine::parse_warm_texts());
    PENDING.with(|p| p.borrow_mut().as_mut().map(|x| x.warm_rounds += 1));
}

/// The inputs' size from which a run warms up while it waits. Smaller exports are read in a
/// moment, and the optimising it would set off then competes on two cores with the page drawing
/// the view soon after (BENCHMARKS.md item 34: at 500 nodes, 9 MB, frames of 84-251 ms instead
/// of 67-106 ms in cold runs).
const WAIT_WARM_MIN_BYTES: u64 = 32_000_000;

fn handle(message: Message) {
    // The user's work comes first: a request ends the warm-up, or keeps it from starting.
    ASKED.with(|a| a.set(true));
    WARM.with(|w| w.borrow_mut().take());
    let of_run = match &message {
        Message::Request(_) => None,
        Message::Bytes(b) => Some(b.run),
        Message::Converted(c) => Some(c.run),
    };
    if of_run.is_some_and(|r| r > NEWEST_RUN.with(Cell::get)) {
        EARLY.with(|e| e.borrow_mut().push(message));
        return;
    }
    let req = match message {
        Message::Request(req) => req,
        Message::Bytes(b) => return bytes_arrived(b),
        Message::Converted(c) => return converted_arrived(c),
    };
    match req {
        Request::Run { seq, inputs: Some(inputs), query, page } => {
            let bytes: u64 = inputs.iter().map(|i| i.follows.unwrap_or(i.bytes.len() as u64)).sum();
            post(&Response::Progress { seq, phase: format!("reading {} of json", human(bytes)), percent: 10 });
            let started = js_sys::Date::now();
            let mut loading = Loading::new(inputs);
            loading.parse_held();
            let mut pending = Pending {
                run: seq,
                seq,
                query,
                page,
                loading,
                started,
                parse_ms: js_sys::Date::now() - started,
                warm_rounds: 0,
                helper_ms: 0.0,
            };
            pending.loading.prepare_largest();
            PENDING.with(|p| *p.borrow_mut() = Some(pending));
            NEWEST_RUN.with(|n| n.set(n.get().max(seq)));
            // Bytes of this run that came first; those of older runs are of no use now.
            for early in EARLY.with(|e| std::mem::take(&mut *e.borrow_mut())) {
                match early {
                    Message::Bytes(b) if b.run == seq => bytes_arrived(b),
                    Message::Converted(c) if c.run == seq => converted_arrived(c),
                    _ => {}
                }
            }
            advance();
            let waiting = PENDING.with(|p| p.borrow().as_ref().is_some_and(|x| !x.loading.complete()));
            if bytes >= WAIT_WARM_MIN_BYTES && waiting && !WARMED.with(Cell::get) {
                warm_while_waiting();
            }
        }
        Request::Run { seq, inputs: None, query, page } => {
            // Inputs still arriving: the analysis they are for is now this one.
            let waiting = PENDING.with(|p| match p.borrow_mut().as_mut() {
                Some(pending) => {
                    (pending.seq, pending.query, pending.page) = (seq, query.clone(), page.clone());
                    true
                }
                None => false,
            });
            if !waiting {
                run(seq, query.as_ref(), &page, Timings::default());
            }
        }
        Request::Read { run, id, read } => {
            // Of the pending run only: a newer run's reads come before its request at most, and
            // are soon followed by its own.
            let counted = PENDING.with(|p| {
                p.borrow_mut().as_mut().filter(|x| x.run == run).is_some_and(|x| x.loading.reading(id, read))
            });
            if counted {
                advance();
            }
        }
        Request::Page { seq, page } => post(&Response::Rows { seq, rows: ENGINE.with(|e| e.borrow().page(&page)) }),
        Request::Api { seq, inputs, query } => match crate::engine::api(&inputs, query.as_ref()) {
            Ok(json) => post(&Response::Report { seq, json }),
            Err(message) => post(&Response::Failed { seq, message }),
        },
        Request::Export { seq, format } => match ENGINE.with(|e| e.borrow_mut().export(&format)) {
            Some(text) => post(&Response::Export { seq, format, text }),
            None => post(&Response::Failed { seq, message: "nothing to export yet: load an export first".to_owned() }),
        },
    }
}

impl Slice for js_sys::Uint8Array {
    fn size(&self) -> usize {
        self.length() as usize
    }
    fn copy_to(&self, to: &mut [u8]) {
        js_sys::Uint8Array::copy_to(self, to);
    }
    fn to_vec(&self) -> Vec<u8> {
        js_sys::Uint8Array::to_vec(self)
    }
}

/// Puts a slice of a file's bytes in place for the pending run, if they are its, and parses the
/// file once all of it is in (or fails the run if the file could not be read); bytes of a run
/// that is no longer pending are dropped.
fn bytes_arrived(b: Bytes) {
    let took = PENDING.with(|p| {
        let mut p = p.borrow_mut();
        let Some(pending) = p.as_mut().filter(|x| x.run == b.run) else {
            b.give_back();
            return None;
        };
        if let Some(e) = &b.error {
            let message = format!("{}: cannot read the file: {e}", pending.loading.name(b.id));
            return fail_pending(&mut p, message);
        }
        let placed = pending.loading.place(b.id, b.offset, &b.bytes);
        // Copied: the reader can read into the buffer again while the file is parsed.
        b.give_back();
        if placed != Some(Placed::All) {
            return Some(Ok(()));
        }
        // Read whole now: the bar says so, and which file is parsed meanwhile (a large one takes
        // a while, and no message goes out until it is done).
        let size = pending.loading.size(b.id);
        if size >= 1_000_000 {
            let phase = format!("parsing {} ({})", pending.loading.name(b.id), human(size));
            post(&Response::Progress { seq: pending.seq, phase, percent: read_percent(pending.loading.progress()) });
        }
        let t = js_sys::Date::now();
        pending.loading.parse(b.id);
        pending.parse_ms += js_sys::Date::now() - t;
        Some(Ok(()))
    });
    settle(took);
}

/// What a file's bytes (or the second worker's result) did to the pending run: nothing (they
/// were another run's), put in place, or failed it with a message for the run's `seq`.
type Arrival = Option<Result<(), (u32, String)>>;

/// Ends the pending run with `message`.
fn fail_pending(p: &mut Option<Pending>, message: String) -> Arrival {
    let seq = p.take()?.seq;
    Some(Err((seq, message)))
}

/// Goes on with the pending run after an arrival, or tells the page it failed.
fn settle(took: Arrival) {
    match took {
        Some(Ok(())) => advance(),
        Some(Err((seq, message))) => post(&Response::Failed { seq, message }),
        None => {}
    }
}

/// Takes what the second worker made of input `id` for the pending run, if it is its (or fails
/// the run if that cannot be read back); what is for a run no longer pending is dropped.
fn converted_arrived(Converted { run, id, bytes, ms }: Converted) {
    let took = PENDING.with(|p| {
        let mut p = p.borrow_mut();
        let pending = p.as_mut().filter(|x| x.run == run)?;
        let t = js_sys::Date::now();
        let Some(parsed) = podreach_core::Parsed::from_wire(&bytes.to_vec()) else {
            let message = format!(
                "{}: the second worker's result could not be read; reload the page and choose the files again",
                pending.loading.name(id)
            );
            return fail_pending(&mut p, message);
        };
        pending.loading.hand_over(id, parsed);
        pending.parse_ms += js_sys::Date::now() - t;
        pending.helper_ms += ms;
        Some(Ok(()))
    });
    drop(bytes);
    settle(took);
}

/// Runs in the second worker: puts together the file the reader sends it, parses it, converts its
/// pods and nodes, and sends the analysis worker the compact form of the result
/// (`Parsed::to_wire`), or, for a file that holds anything else, the file's bytes to parse there.
/// The page's one message to it carries two ports: the reader's channel and the analysis
/// worker's.
fn serve_helper() {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
        let ports = ev.ports();
        if ports.length() > 0 {
            let (from_reader, to_worker) = (ports.get(0), ports.get(1));
            if let (Some(from_reader), Ok(to_worker)) =
                (from_reader.dyn_ref::<web_sys::MessagePort>(), to_worker.dyn_into::<web_sys::MessagePort>())
            {
                from_reader.set_onmessage(
                    js_sys::global().unchecked_into::<DedicatedWorkerGlobalScope>().onmessage().as_ref(),
                );
                TO_WORKER.with(|t| *t.borrow_mut() = Some(to_worker));
            }
            return;
        }
        if let Ok(FromReader::Bytes(mut b)) = serde_wasm_bindgen::from_value::<FromReader>(ev.data()) {
            b.arrived_by(&ev);
            help(b);
        }
    });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    post(&Response::Ready);
}

/// A JavaScript object with `fields`, for a message.
fn object(fields: &[(&str, JsValue)]) -> js_sys::Object {
    let o = js_sys::Object::new();
    for (k, v) in fields {
        let _ = js_sys::Reflect::set(&o, &JsValue::from_str(k), v);
    }
    o
}

/// Posts `fields` as one message named `name` to the analysis worker, moving `bytes`' buffer.
fn to_worker(name: &str, fields: &[(&str, JsValue)], bytes: &js_sys::Uint8Array) {
    let inner = object(fields);
    let _ = js_sys::Reflect::set(&inner, &JsValue::from_str("bytes"), bytes);
    let msg = object(&[(name, inner.into())]);
    TO_WORKER.with(|t| {
        if let Some(port) = t.borrow().as_ref() {
            let _ = port.post_message_with_transferable(&msg, &js_sys::Array::of1(&bytes.buffer()));
        }
    });
}

/// The second worker's part: one slice of its file. Once it has sent the analysis worker what it
/// made of the file (or why it could not), it tells the reader (`Handed`), which otherwise takes
/// it for stuck after a while and sends the file to the analysis worker (`reader.js`).
fn help(mut b: Bytes) {
    if job_done(&mut b) {
        b.tell_reader("Handed");
    }
}

/// [`help`]'s work on one slice; true once the file is done with, whatever came of it.
fn job_done(b: &mut Bytes) -> bool {
    let (run, id) = (JsValue::from(b.run), JsValue::from(b.id));
    let failed = |error: &str| {
        let fields =
            [("run", run.clone()), ("id", id.clone()), ("offset", JsValue::from(0)), ("error", JsValue::from(error))];
        to_worker("Bytes", &fields, &js_sys::Uint8Array::new_with_length(0));
        true
    };
    if let Some(error) = &b.error {
        HELPING.with(|h| h.borrow_mut().take());
        return failed(error);
    }
    let whole = HELPING.with(|h| {
        let mut h = h.borrow_mut();
        if !h.as_ref().is_some_and(|j| j.run == b.run && j.id == b.id) {
            let input =
                InputMsg { id: b.id, name: std::mem::take(&mut b.name), bytes: Vec::new(), follows: Some(b.size) };
            let mut loading = Loading::new(vec![input]);
            loading.prepare_largest();
            *h = Some(Job { run: b.run, id: b.id, loading });
        }
        let job = h.as_mut()?;
        match job.loading.place(b.id, b.offset, &b.bytes) {
            Some(Placed::All) => h.take().map(Ok),
            Some(Placed::More) => None,
            None => Some(Err(())),
        }
    });
    b.give_back();
    let mut job = match whole {
        None => return false,
        Some(Err(())) => return failed("a slice of it did not fit where it belongs"),
        Some(Ok(job)) => job,
    };
    let t = now();
    let Some(bytes) = job.loading.take_whole(job.id) else { return failed("its bytes were not all read") };
    let mut parsed = podreach_core::parse(&podreach_core::Input { name: job.loading.name(job.id), bytes: &bytes });
    parsed.convert_k8s();
    match parsed.to_wire() {
        Some(wire) => {
            drop((parsed, bytes));
            let wire = js_sys::Uint8Array::from(wire.as_slice());
            to_worker("Converted", &[("run", run), ("id", id), ("ms", JsValue::from(now() - t))], &wire);
        }
        None => {
            drop(parsed);
            let whole = js_sys::Uint8Array::from(bytes.as_slice());
            drop(bytes);
            let fields = [("run", run), ("id", id), ("offset", JsValue::from(0)), ("error", JsValue::NULL)];
            to_worker("Bytes", &fields, &whole);
        }
    }
    true
}

/// The progress bar while files are read (`Loading::progress`: bytes still to read, of all):
/// from 10% to 60% as their bytes are read.
fn read_percent((waiting, total): (u64, u64)) -> u8 {
    10 + (50 * total.saturating_sub(waiting) / total.max(1)) as u8
}

/// Reports how far the pending inputs are, and once all are parsed, builds the model and runs.
fn advance() {
    let done = PENDING.with(|p| {
        let mut p = p.borrow_mut();
        let pending = p.as_ref()?;
        if !pending.loading.complete() {
            let (waiting, total) = pending.loading.progress();
            let phase = format!("read {} of {} of json", human(total - waiting), human(total));
            post(&Response::Progress { seq: pending.seq, phase, percent: read_percent((waiting, total)) });
            return None;
        }
        p.take()
    });
    let Some(pending) = done else { return };
    post(&Response::Progress { seq: pending.seq, phase: "building the model".to_owned(), percent: 60 });
    let t = js_sys::Date::now();
    ENGINE.with(|e| pending.loading.finish(&mut e.borrow_mut()));
    let build_ms = js_sys::Date::now() - t;
    let wall = js_sys::Date::now() - pending.started;
    let timings = Timings {
        // Waiting for bytes while nothing else was left to parse.
        files_ms: (wall - pending.parse_ms - build_ms).max(0.0),
        parse_ms: pending.parse_ms,
        model_ms: build_ms,
        warm_rounds: pending.warm_rounds,
        helper_ms: pending.helper_ms,
        ..Timings::default()
    };
    run(pending.seq, pending.query.as_ref(), &pending.page, timings);
}

/// Analyses the loaded inputs and posts the view.
fn run(seq: u32, query: Option<&QueryMsg>, page: &PageReq, mut timings: Timings) {
    post(&Response::Progress { seq, phase: "analysing every source".to_owned(), percent: 70 });
    let t = js_sys::Date::now();
    let mut view = ENGINE.with(|e| e.borrow_mut().run(query, page));
    timings.analyse_ms = js_sys::Date::now() - t;
    // The worker's memory only grows: its size now is the peak of every run so far.
    timings.memory_bytes = wasm_bindgen::memory()
        .dyn_into::<js_sys::WebAssembly::Memory>()
        .map_or(0.0, |m| m.buffer().unchecked_into::<js_sys::ArrayBuffer>().byte_length() as f64);
    view.timings = timings;
    post(&Response::Progress { seq, phase: "drawing".to_owned(), percent: 90 });
    post(&Response::View { seq, view: Box::new(view) });
}

fn human(bytes: u64) -> String {
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

/// Reads the example's view once and drops it: the page's code that reads a view is compiled
/// lazily, on its first call, and this makes that call now, at start-up, rather than in the task
/// that reads the first real view (where it held the main thread for about 30 ms more).
pub fn warm_view_reader() {
    let _ = std::hint::black_box(Response::from_json(crate::example::VIEW_JSON));
}

/// Messages (and the buffers they transfer) waiting for the worker to be ready, each with the
/// worker it is for (the analysis worker or the file reader); `None` once it is ready.
type Queue = Rc<RefCell<Option<Vec<(Worker, JsValue, js_sys::Array)>>>>;

/// The page's handle on the worker. Requests wait in a queue until the worker says it is ready.
pub struct Client {
    worker: Worker,
    /// Reads chosen files off the main thread (`reader.js`) and moves their bytes to `worker`.
    reader: Worker,
    /// The second worker, which parses a large kubectl export while `worker` parses the rest;
    /// `None` if it could not start (the page then works without it). A fresh one replaces it
    /// after a run it was offered ([`renew_later`]).
    helper: Rc<RefCell<Option<Helper>>>,
    /// How many runs have been offered the second worker: it is replaced only if none was since
    /// the run that ended ([`renew_later`]).
    offered: Rc<Cell<u32>>,
    /// The sequence number of the newest `Run` request: a failure with it is the end of a run
    /// (other requests fail too: an export, the JavaScript API).
    last_run: Rc<Cell<u32>>,
    queue: Queue,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_reader: Closure<dyn FnMut(MessageEvent)>,
}

impl Client {
    /// Starts `worker_loader.js` (next to the page, so any sub-path works).
    pub fn spawn(on_response: impl Fn(Response) + 'static) -> Result<Client, String> {
        let worker =
            Worker::new("./worker_loader.js").map_err(|e| format!("cannot start the analysis worker: {e:?}"))?;
        let queue: Queue = Rc::new(RefCell::new(Some(Vec::new())));
        let q = queue.clone();
        let helper: Rc<RefCell<Option<Helper>>> = Rc::default();
        // Runs offered the second worker, and how many had been when it was last replaced.
        let offered: Rc<Cell<u32>> = Rc::default();
        let counts = (offered.clone(), Rc::new(Cell::new(0)));
        let last_run: Rc<Cell<u32>> = Rc::default();
        let (h, last) = (helper.clone(), last_run.clone());
        let on_response = Rc::new(on_response);
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
            let data = ev.data();
            let read = match get(&data, "json").and_then(|j| j.as_string()) {
                Some(json) => Response::from_json(&json),
                None => serde_wasm_bindgen::from_value::<Response>(data).map_err(|e| e.to_string()),
            };
            match read {
                Ok(Response::Warm { ms, rounds }) => {
                    crate::services::browser::mark("podreach:worker-warm");
                    web_sys::console::debug_1(&JsValue::from(format!(
                        "podreach: the analysis worker warmed up in {ms:.0} ms ({rounds} rounds of the example)"
                    )));
                }
                Ok(Response::Ready) => {
                    crate::services::browser::mark("podreach:worker-ready");
                    for (to, msg, transfer) in q.borrow_mut().take().unwrap_or_default() {
                        let _ = to.post_message_with_transfer(&msg, &transfer);
                    }
                }
                // A view is read in this task and drawn in the next: the first view also compiles
                // the page's drawing code, and together the two would hold the main thread too long.
                Ok(r @ Response::View { .. }) => {
                    renew_later(&h, &counts);
                    let f = on_response.clone();
                    crate::services::browser::after_paint(move || f(r));
                }
                Ok(r @ Response::Failed { .. }) => {
                    if matches!(&r, Response::Failed { seq, .. } if *seq == last.get()) {
                        renew_later(&h, &counts);
                    }
                    on_response(r);
                }
                Ok(r) => on_response(r),
                Err(e) => {
                    on_response(Response::Failed { seq: u32::MAX, message: format!("unreadable worker message: {e}") })
                }
            }
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        let reader = spawn_reader(&worker, &queue)?;
        *helper.borrow_mut() = Helper::spawn(&worker, &reader, &queue).ok();
        // The reader's one message to the page: the second worker has not handed over a file.
        let h = helper.clone();
        let on_reader = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
            if let Some(ms) = get(&ev.data(), "helperStuck").and_then(|v| v.as_f64()) {
                if let Some(helper) = h.borrow().as_ref() {
                    helper.stuck(ms);
                }
            }
        });
        reader.set_onmessage(Some(on_reader.as_ref().unchecked_ref()));
        Ok(Client { worker, reader, helper, offered, last_run, queue, _on_message: on_message, _on_reader: on_reader })
    }

    /// Posts a request; `files` are the browser files its inputs refer to, by input id. The
    /// reader reads each file in the background, largest first, and its bytes follow the request
    /// as soon as they are read (moved, not copied), so the worker parses one file while the next
    /// is read.
    pub fn post(&self, req: &Request, files: &[(u32, web_sys::File)]) -> Result<(), String> {
        if let Request::Run { seq, .. } = req {
            self.last_run.set(*seq);
        }
        let v = serde_wasm_bindgen::to_value(req).map_err(|e| e.to_string())?;
        let transfer = transferables(&v);
        send(&self.worker, &self.queue, v, transfer)?;
        let Request::Run { seq: run, inputs: Some(inputs), .. } = req else { return Ok(()) };
        // Largest first, one at a time: the worker parses each while the next is read, and the
        // largest, read while the worker has nothing else to do, is the one it waits for.
        let mut files: Vec<(&str, u32, web_sys::File)> = files
            .iter()
            .filter_map(|(id, f)| {
                let input = inputs.iter().find(|i| i.id == *id && i.follows.is_some())?;
                Some((input.name.as_str(), *id, f.clone()))
            })
            .collect();
        files.sort_by(|a, b| b.2.size().total_cmp(&a.2.size()));
        let list = js_sys::Array::new();
        for (name, id, file) in &files {
            let item = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&item, &JsValue::from_str("id"), &JsValue::from(*id));
            let _ = js_sys::Reflect::set(&item, &JsValue::from_str("name"), &JsValue::from_str(name));
            let _ = js_sys::Reflect::set(&item, &JsValue::from_str("file"), file);
            list.push(&item);
        }
        let total: f64 = files.iter().map(|(_, _, f)| f.size()).sum();
        let helped = total >= HELP_MIN_BYTES && self.helper.borrow().as_ref().is_some_and(|h| h.ready.get());
        if helped {
            self.offered.set(self.offered.get().wrapping_add(1));
        }
        let msg = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&msg, &JsValue::from_str("run"), &JsValue::from(*run));
        let _ = js_sys::Reflect::set(&msg, &JsValue::from_str("files"), &list);
        let _ = js_sys::Reflect::set(&msg, &JsValue::from_str("helper"), &JsValue::from(helped));
        // Not before the worker is ready: the reader's messages would wait on the worker's end of
        // the channel and reach it together with the request, all of a file read before its
        // progress could be shown (an e2e test saw the bar go from nothing read to parsing). The
        // bytes may still reach the worker before the run's request (two queues): the worker
        // keeps them until it comes (`EARLY`).
        send(&self.reader, &self.queue, msg.into(), js_sys::Array::new())
    }
}

/// Starts `reader.js` and connects it to `worker` by a channel; the worker's end waits in the
/// queue (the worker cannot take messages before it is ready), ahead of any request.
fn spawn_reader(worker: &Worker, queue: &Queue) -> Result<Worker, String> {
    let failed = |e: JsValue| format!("cannot start the file reader: {e:?}");
    let reader = Worker::new("./reader.js").map_err(failed)?;
    let channel = web_sys::MessageChannel::new().map_err(failed)?;
    let connect = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&connect, &JsValue::from_str("connect"), &JsValue::TRUE);
    reader.post_message_with_transfer(&connect, &js_sys::Array::of1(&channel.port2())).map_err(failed)?;
    send(worker, queue, connect.into(), js_sys::Array::of1(&channel.port1()))?;
    Ok(reader)
}

/// Posts a message to `worker` (the analysis worker or the file reader), or queues it until the
/// analysis worker is ready.
fn send(worker: &Worker, queue: &Queue, v: JsValue, transfer: js_sys::Array) -> Result<(), String> {
    if let Some(waiting) = queue.borrow_mut().as_mut() {
        waiting.push((worker.clone(), v, transfer));
        return Ok(());
    }
    worker.post_message_with_transfer(&v, &transfer).map_err(|e| format!("{e:?}"))
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

/// The size of all chosen files from which the reader may give a kubectl export to the second
/// worker: below it the files are read and parsed in a moment, and the second worker's result
/// would come no sooner than the analysis worker could parse the file itself.
const HELP_MIN_BYTES: f64 = 32e6;

/// How long after a run it was offered ended (its view or its failure) the second worker is
/// replaced by a fresh one. Its wasm memory only grows, and it held what it grew to (480 MB more
/// in the renderer at 50,000 nodes, BENCHMARKS.md item 61) until the page closed. Not at once:
/// the view is being drawn.
const RENEW_AFTER_MS: u32 = 1000;

/// At the end of a run (its view, or the failure of the newest run; a view means no run is
/// pending in the analysis worker): if a run has been offered the second worker
/// since it was last replaced, replaces it by a fresh one [`RENEW_AFTER_MS`] from now, unless
/// another run is offered it meanwhile (that run's end asks again), so that no file it holds is
/// lost. One that failed, or never started, is not replaced: the page goes on without it.
fn renew_later(helper: &Rc<RefCell<Option<Helper>>>, (offered, renewed): &(Rc<Cell<u32>>, Rc<Cell<u32>>)) {
    let at = offered.get();
    if renewed.get() == at {
        return;
    }
    let (helper, offered, renewed) = (helper.clone(), offered.clone(), renewed.clone());
    gloo::timers::callback::Timeout::new(RENEW_AFTER_MS, move || {
        if offered.get() != at || renewed.get() == at {
            return;
        }
        renewed.set(at);
        let fresh = helper.borrow().as_ref().filter(|h| h.ready.get()).and_then(|h| {
            Helper::spawn(&h.peers.0, &h.peers.1, &h.peers.2)
                .map_err(|e| web_sys::console::debug_2(&JsValue::from("podreach: no fresh second worker:"), &e))
                .ok()
        });
        if let Some(fresh) = fresh {
            if let Some(old) = helper.borrow_mut().replace(fresh) {
                old.worker.terminate();
            }
        }
    })
    .forget();
}

/// The page's handle on the second worker (`serve_helper`).
struct Helper {
    worker: Worker,
    /// Whether it has said it is ready, and has not failed since: only then does the reader give
    /// it a file (a run does not wait for it).
    ready: Rc<Cell<bool>>,
    /// Whether the page has stopped it ([`stop`]).
    stopped: Rc<Cell<bool>>,
    /// The analysis worker, the file reader and the queue it was connected through: a fresh one
    /// is connected the same way.
    peers: (Worker, Worker, Queue),
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(web_sys::Event)>,
}

impl Helper {
    /// Starts a second instance of the worker (`helper_loader.js`), named [`HELPER_NAME`], with a
    /// channel from the reader and one to the analysis worker. Its ends of both go to it once it
    /// is ready (before that, a message to it is lost); the analysis worker's end waits in
    /// `queue` like the reader's.
    fn spawn(worker: &Worker, reader: &Worker, queue: &Queue) -> Result<Helper, JsValue> {
        let options = web_sys::WorkerOptions::new();
        options.set_name(HELPER_NAME);
        let helper = Worker::new_with_options("./helper_loader.js", &options)?;
        let (from_reader, to_worker) = (web_sys::MessageChannel::new()?, web_sys::MessageChannel::new()?);
        let connect = |key: &str| {
            let o = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&o, &JsValue::from_str(key), &JsValue::TRUE);
            JsValue::from(o)
        };
        reader.post_message_with_transfer(&connect("helper"), &js_sys::Array::of1(&from_reader.port1()))?;
        send(worker, queue, connect("connect"), js_sys::Array::of1(&to_worker.port1())).map_err(JsValue::from)?;
        let ports = RefCell::new(Some(js_sys::Array::of2(&from_reader.port2(), &to_worker.port2())));
        let ready = Rc::new(Cell::new(false));
        let r = ready.clone();
        let to = helper.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
            if let Ok(Response::Ready) = serde_wasm_bindgen::from_value::<Response>(ev.data()) {
                if let Some(ports) = ports.borrow_mut().take() {
                    let _ = to.post_message_with_transfer(&connect("helper"), &ports);
                    r.set(true);
                    crate::services::browser::mark("podreach:helper-ready");
                }
            }
        });
        helper.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        // The page works without it: if it cannot start (its wasm cut off, the network gone
        // before it was cached: `helper_loader.js` then closes it) or fails, it is not used
        // again, and that is not the page's error. A file it was given is lost with it: the
        // reader sends that file to the analysis worker, and the run goes on.
        let stopped = Rc::new(Cell::new(false));
        let (r, to, from, s) = (ready.clone(), helper.clone(), reader.clone(), stopped.clone());
        let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |ev: web_sys::Event| {
            ev.prevent_default();
            stop(
                &to,
                &r,
                &s,
                &from,
                &JsValue::from("podreach: the second worker failed; going on without it:"),
                Some(&ev),
            );
        });
        helper.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        let peers = (worker.clone(), reader.clone(), queue.clone());
        Ok(Helper { worker: helper, ready, stopped, peers, _on_message: on_message, _on_error: on_error })
    }

    /// Stops it when the reader has waited `ms` for it to hand over a file it had whole
    /// (`reader.js`: it seems stuck, and said nothing).
    fn stuck(&self, ms: f64) {
        let why =
            format!("podreach: the second worker did not hand its file over within {ms:.0} ms; going on without it");
        stop(&self.worker, &self.ready, &self.stopped, &self.peers.1, &JsValue::from(why), None);
    }
}

/// Stops the second worker `helper`, once (messages it had taken before it was stopped may fail
/// too): it is not given a file again, nor replaced, and the reader sends the file it had given
/// it, if any, to the analysis worker (`helperLost`).
fn stop(
    helper: &Worker,
    ready: &Cell<bool>,
    stopped: &Cell<bool>,
    reader: &Worker,
    why: &JsValue,
    what: Option<&JsValue>,
) {
    if stopped.replace(true) {
        return;
    }
    ready.set(false);
    helper.terminate();
    let _ = reader.post_message(&object(&[("helperLost", JsValue::TRUE)]));
    match what {
        Some(what) => web_sys::console::debug_2(why, what),
        None => web_sys::console::debug_1(why),
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.worker.terminate();
        self.reader.terminate();
        if let Some(h) = self.helper.borrow().as_ref() {
            h.worker.terminate();
        }
    }
}

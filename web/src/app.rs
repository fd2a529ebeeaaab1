//! The root component: owns the reducer, starts the worker, and wires services to actions.

use crate::components::{help::HowToExport, inputs::InputPanel, query::TargetPicker, results::Results};
use crate::protocol::{PageReq, QueryMsg, Request, Response};
use crate::services::{browser, storage, worker::Client};
use crate::state::{reduce, Action, AppState, QueryForm};
use std::cell::RefCell;
use std::rc::Rc;
use yew::prelude::*;

/// The state as yew holds it.
#[derive(Clone, PartialEq, Default)]
pub struct Store(pub AppState);

impl Reducible for Store {
    type Action = Action;
    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        Rc::new(Store(reduce(&self.0, action)))
    }
}

/// What components reach through context: the state and a way to change it, and the worker.
#[derive(Clone)]
pub struct Ctx {
    pub store: UseReducerHandle<Store>,
    pub worker: Rc<RefCell<Option<Client>>>,
    pub seq: Rc<RefCell<u32>>,
}

impl PartialEq for Ctx {
    fn eq(&self, other: &Self) -> bool {
        self.store == other.store
    }
}

impl Ctx {
    pub fn state(&self) -> &AppState {
        &self.store.0
    }

    pub fn dispatch(&self, a: Action) {
        self.store.dispatch(a);
    }

    pub fn callback<E>(&self, f: impl Fn(E) -> Action + 'static) -> Callback<E> {
        let store = self.store.clone();
        Callback::from(move |e| store.dispatch(f(e)))
    }

    /// Starts the worker on first use, so the page's first load carries only the page itself.
    fn ensure_worker(&self) {
        if self.worker.borrow().is_some() {
            return;
        }
        let store = self.store.clone();
        let client = Client::spawn(move |resp: Response| {
            if let Response::Export { format, text, .. } = &resp {
                if format == "markdown-copy" {
                    browser::copy(text);
                    store.dispatch(Action::Notice(Some("the report is on the clipboard as markdown".to_owned())));
                } else {
                    let (name, mime) = match format.as_str() {
                        "markdown" => ("podreach-report.md", "text/markdown"),
                        "csv" => ("podreach-report.csv", "text/csv"),
                        _ => ("podreach-report.json", "application/json"),
                    };
                    if let Err(e) = browser::download(name, mime, text) {
                        store.dispatch(Action::Notice(Some(e)));
                    }
                }
            }
            if matches!(resp, Response::View { .. }) {
                browser::mark("podreach:view");
            }
            store.dispatch(Action::Received(resp));
        });
        match client {
            Ok(c) => *self.worker.borrow_mut() = Some(c),
            Err(e) => self.store.dispatch(Action::Notice(Some(e))),
        }
    }

    /// Sends a request to the worker with a fresh sequence number.
    pub fn send(&self, make: impl FnOnce(u32) -> Request) {
        self.send_with_files(make, &[]);
    }

    /// Sends a request, with the browser file handles its inputs refer to.
    pub fn send_with_files(&self, make: impl FnOnce(u32) -> Request, files: &[(u32, web_sys::File)]) {
        let seq = {
            let mut s = self.seq.borrow_mut();
            *s += 1;
            *s
        };
        let req = make(seq);
        self.ensure_worker();
        let sent = match self.worker.borrow().as_ref() {
            Some(w) => w.post(&req, files),
            None => Err("the analysis worker did not start".to_owned()),
        };
        match sent {
            Ok(()) => self.store.dispatch(Action::Sent(seq)),
            Err(e) => {
                self.store.dispatch(Action::Sent(seq));
                self.store.dispatch(Action::Received(Response::Failed { seq, message: e }));
            }
        }
    }
}

/// What was last sent to the worker: the inputs' version, the query and the page.
type Sent = (u32, Option<QueryMsg>, PageReq);

#[component]
pub fn App() -> Html {
    let store = use_reducer(Store::default);
    let worker: Rc<RefCell<Option<Client>>> = use_mut_ref(|| None);
    let seq = use_mut_ref(|| 0u32);
    let ctx = Ctx { store: store.clone(), worker: worker.clone(), seq: seq.clone() };

    // Restore what the user asked this browser to keep, and the query in the URL, once.
    {
        let store = store.clone();
        use_effect_with((), move |_| {
            let fragment = browser::fragment();
            let query = (!fragment.trim_start_matches('#').is_empty()).then(|| QueryForm::from_fragment(&fragment));
            match storage::load() {
                Some(kept) => store.dispatch(Action::Restore {
                    paste: kept.paste,
                    files: kept.files.into_iter().map(|(n, t)| (n, t.into_bytes())).collect(),
                    query,
                    keep: true,
                }),
                None => {
                    if let Some(q) = query {
                        store.dispatch(Action::Restore {
                            paste: String::new(),
                            files: Vec::new(),
                            query: Some(q),
                            keep: false,
                        });
                    }
                }
            }
            || ()
        });
    }

    // Start the analysis worker once the page is drawn, not when the first files are chosen:
    // fetching and compiling it takes a quarter of a second that the user would otherwise wait.
    {
        let ctx = ctx.clone();
        use_effect_with((), move |_| {
            browser::after_paint(move || {
                ctx.ensure_worker();
                // Then, in a task of its own after the next paint, the code that reads a view.
                browser::after_paint(crate::services::worker::warm_view_reader);
            });
            || ()
        });
    }

    // Analyse whenever the inputs, the query or the page change (debounced while typing).
    {
        let ctx = ctx.clone();
        let s = &store.0;
        let deps = (s.inputs_version, s.query.to_msg(), s.page.clone());
        let last: Rc<RefCell<Option<Sent>>> = use_mut_ref(|| None);
        use_effect_with(deps, move |(version, query, page)| {
            let (version, query, page) = (*version, query.clone(), page.clone());
            let previous = last.borrow().clone();
            let inputs_changed = previous.as_ref().is_none_or(|p| p.0 != version);
            let query_changed = previous.as_ref().is_none_or(|p| p.1 != query);
            let page_only = !inputs_changed && !query_changed && previous.as_ref().is_some_and(|p| p.2 != page);
            let nothing = !inputs_changed && !query_changed && !page_only;
            let timer = if nothing || (!ctx.state().has_inputs() && ctx.state().view.is_none()) {
                None
            } else {
                let delay = match (inputs_changed, ctx.state().typing) {
                    (true, true) if previous.is_some() => 300,
                    // Files chosen, dropped or removed, or the example: at once (the timer still
                    // lets this task finish, so changes made together are sent together).
                    (true, false) => 0,
                    _ => 30,
                };
                Some(gloo::timers::callback::Timeout::new(delay, move || {
                    *last.borrow_mut() = Some((version, query.clone(), page.clone()));
                    if page_only {
                        ctx.send(|seq| Request::Page { seq, page });
                    } else {
                        let inputs = inputs_changed.then(|| ctx.state().inputs());
                        let files = if inputs_changed { ctx.state().handles() } else { Vec::new() };
                        ctx.send_with_files(|seq| Request::Run { seq, inputs, query, page }, &files);
                    }
                }))
            };
            move || drop(timer)
        });
    }

    // The query lives in the URL fragment, so a link reopens the same view.
    {
        let fragment = store.0.query.to_fragment();
        use_effect_with(fragment, |f| {
            browser::set_fragment(f);
            || ()
        });
    }

    // Keep in this browser: opt-in; switching it off or clearing removes the copy.
    {
        let s = store.clone();
        let deps = (store.0.keep, store.0.inputs_version);
        use_effect_with(deps, move |(keep, _)| {
            if *keep {
                let st = &s.0;
                let size = st.paste.len() + st.files.iter().map(|f| f.bytes.len()).sum::<usize>();
                if size > storage::LIMIT {
                    storage::clear();
                    s.dispatch(Action::Notice(Some(format!(
                        "the inputs ({} MB) are too large to keep in this browser; the page still works",
                        size.div_ceil(1_000_000)
                    ))));
                } else {
                    let paste = st.paste.clone();
                    let files: Vec<_> = st.files.iter().map(|f| (f.name.clone(), f.bytes.clone())).collect();
                    let s = s.clone();
                    wasm_bindgen_futures::spawn_local(async move {
                        let mut kept = storage::Kept { paste, files: Vec::new() };
                        for (name, bytes) in files {
                            match browser::text_of(&name, &bytes).await {
                                Ok(text) => kept.files.push((name, text)),
                                Err(e) => return s.dispatch(Action::Notice(Some(e))),
                            }
                        }
                        if let Err(e) = storage::save(&kept) {
                            s.dispatch(Action::Notice(Some(e)));
                        }
                    });
                }
            } else {
                storage::clear();
            }
            || ()
        });
    }

    html! {
        <ContextProvider<Ctx> context={ctx}>
            <a class="skip" href="#results">{ "skip to results" }</a>
            <header class="top">
                <h1>{ "podreach" }</h1>
                <p class="tagline">{ "Which pods can reach the database, which cannot, and exactly why. Everything runs in this page." }</p>
            </header>
            <main>
                <section class="panel" aria-labelledby="inputs-h">
                    <h2 id="inputs-h">{ "1. Exports" }</h2>
                    <InputPanel />
                    <HowToExport />
                </section>
                <section class="panel" aria-labelledby="query-h">
                    <h2 id="query-h">{ "2. Target" }</h2>
                    <TargetPicker />
                </section>
                <section class="panel" id="results" aria-labelledby="results-h" aria-live="polite">
                    <h2 id="results-h">{ "3. Results" }</h2>
                    <Results />
                </section>
            </main>
            <footer class="foot" data-testid="privacy-footer">
                <p>
                    { "Private by construction: after this page's own files load, it makes no network request. \
                       Your exports are read and analysed here, in a web worker, and never leave this browser. \
                       A Content-Security-Policy forbids connections to any other origin. \
                       To check: open the developer tools' Network tab, paste an export, and watch it stay empty; \
                       or disconnect from the network; it keeps working." }
                </p>
            </footer>
        </ContextProvider<Ctx>>
    }
}

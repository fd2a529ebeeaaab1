//! The page's state and its pure reducer. No IO here: services do the browser work, and the app
//! wires their results in as actions. Tested natively.

use crate::protocol::{InputMsg, PageReq, QueryMsg, Response, RowsPage, View};
use std::rc::Rc;

/// The name the pasted text carries in messages.
pub const PASTE_NAME: &str = "pasted text";
pub const PASTE_ID: u32 = 0;

#[derive(Clone, Debug, PartialEq)]
pub struct FileInput {
    pub id: u32,
    pub name: String,
    pub bytes: FileBytes,
}

/// A file's content. A file the user picks or drops stays a browser `File`: a handle that the
/// worker reads, so a whole-account export never passes through the page's memory or its main
/// thread. Text the page makes itself (the example, what it restores) is held as bytes.
#[derive(Clone, Debug, PartialEq)]
pub enum FileBytes {
    Data(Rc<Vec<u8>>),
    /// A browser file and its size (read by the service that made it: no browser calls here).
    #[cfg(target_arch = "wasm32")]
    Handle(web_sys::File, usize),
}

impl FileBytes {
    pub fn data(bytes: Vec<u8>) -> FileBytes {
        FileBytes::Data(Rc::new(bytes))
    }

    pub fn len(&self) -> usize {
        match self {
            FileBytes::Data(b) => b.len(),
            #[cfg(target_arch = "wasm32")]
            FileBytes::Handle(_, size) => *size,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes, when the page holds them (not for a browser file handle).
    pub fn held(&self) -> Option<&[u8]> {
        match self {
            FileBytes::Data(b) => Some(b),
            #[cfg(target_arch = "wasm32")]
            FileBytes::Handle(..) => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct QueryForm {
    pub to: String,
    pub protocol: String,
    pub port: String,
}

impl QueryForm {
    /// The query to run, when a target is chosen.
    pub fn to_msg(&self) -> Option<QueryMsg> {
        if self.to.trim().is_empty() {
            return None;
        }
        Some(QueryMsg {
            to: self.to.trim().to_owned(),
            protocol: if self.protocol.is_empty() { "tcp".to_owned() } else { self.protocol.clone() },
            port: self.port.trim().parse().ok(),
        })
    }

    /// `to=eni-0rds&protocol=tcp&port=5432`, for the URL fragment.
    pub fn to_fragment(&self) -> String {
        let mut parts = Vec::new();
        if !self.to.is_empty() {
            parts.push(format!("to={}", sanitize(&self.to)));
        }
        if !self.protocol.is_empty() && self.protocol != "tcp" {
            parts.push(format!("protocol={}", sanitize(&self.protocol)));
        }
        if !self.port.is_empty() {
            parts.push(format!("port={}", sanitize(&self.port)));
        }
        parts.join("&")
    }

    pub fn from_fragment(fragment: &str) -> QueryForm {
        let mut q = QueryForm { protocol: "tcp".to_owned(), ..QueryForm::default() };
        for part in fragment.trim_start_matches('#').split('&') {
            let Some((k, v)) = part.split_once('=') else { continue };
            let v = sanitize(v);
            match k {
                "to" => q.to = v,
                "protocol" => q.protocol = v,
                "port" => q.port = v,
                _ => {}
            }
        }
        q
    }
}

/// Keeps only characters an eni id, an address, a protocol or a port can have, both ways, so the
/// fragment never needs escaping and can never carry markup.
fn sanitize(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/' | ':')).collect()
}

#[derive(Clone, Debug, PartialEq)]
pub struct Progress {
    pub phase: String,
    pub percent: u8,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AppState {
    pub paste: String,
    pub files: Vec<FileInput>,
    pub next_id: u32,
    /// Bumped whenever the inputs change, so the app knows to send them again.
    pub inputs_version: u32,
    /// Whether the last change to the inputs was typing in the paste area: only that is
    /// debounced; chosen, dropped or removed files are analysed at once.
    pub typing: bool,
    pub query: QueryForm,
    pub page: PageReq,
    pub view: Option<Rc<View>>,
    pub rows: Rc<RowsPage>,
    pub busy: Option<Progress>,
    /// The sequence number of the newest request; older responses are ignored.
    pub seq: u32,
    pub keep: bool,
    pub expanded: Option<String>,
    pub notice: Option<String>,
    pub failure: Option<String>,
}

impl Default for AppState {
    fn default() -> Self {
        AppState {
            paste: String::new(),
            files: Vec::new(),
            next_id: 1,
            inputs_version: 0,
            typing: false,
            query: QueryForm { protocol: "tcp".to_owned(), ..QueryForm::default() },
            page: PageReq::default(),
            view: None,
            rows: Rc::new(RowsPage::default()),
            busy: None,
            seq: 0,
            keep: false,
            expanded: None,
            notice: None,
            failure: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    SetPaste(String),
    AddFiles(Vec<(String, FileBytes)>),
    /// Removes a file, or clears the pasted text.
    RemoveInput(u32),
    /// Removes one document (its byte range) from the pasted text.
    RemoveDocument {
        input: u32,
        start: usize,
        end: usize,
    },
    LoadExample,
    ClearAll,
    SetTarget(String),
    SetProtocol(String),
    SetPort(String),
    Preset {
        protocol: String,
        port: u16,
    },
    SetFilter(String),
    SetVerdict(String),
    SetSort(String),
    PageBy(isize),
    Toggle(String),
    SetKeep(bool),
    /// Restores inputs and the query (from local storage and the URL fragment).
    Restore {
        paste: String,
        files: Vec<(String, Vec<u8>)>,
        query: Option<QueryForm>,
        keep: bool,
    },
    /// A request was sent with this sequence number.
    Sent(u32),
    Received(Response),
    Notice(Option<String>),
}

impl AppState {
    /// The inputs to send to the worker, with names made unique. A browser file's bytes follow
    /// the request (see `services::worker::Client::post`), so they are left empty here.
    pub fn inputs(&self) -> Vec<InputMsg> {
        let mut out = Vec::new();
        if !self.paste.trim().is_empty() {
            out.push(InputMsg {
                id: PASTE_ID,
                name: PASTE_NAME.to_owned(),
                bytes: self.paste.as_bytes().to_vec(),
                follows: None,
            });
        }
        for f in &self.files {
            out.push(InputMsg {
                id: f.id,
                name: f.name.clone(),
                bytes: f.bytes.held().map(<[u8]>::to_vec).unwrap_or_default(),
                follows: f.bytes.held().is_none().then_some(f.bytes.len() as u64),
            });
        }
        out
    }

    /// Whether there is anything to analyse.
    pub fn has_inputs(&self) -> bool {
        !self.paste.trim().is_empty() || !self.files.is_empty()
    }

    /// The browser file handles among the inputs, by input id.
    #[cfg(target_arch = "wasm32")]
    pub fn handles(&self) -> Vec<(u32, web_sys::File)> {
        self.files
            .iter()
            .filter_map(|f| match &f.bytes {
                FileBytes::Handle(h, _) => Some((f.id, h.clone())),
                FileBytes::Data(_) => None,
            })
            .collect()
    }

    pub fn name_of(&self, input: u32) -> String {
        if input == PASTE_ID {
            return PASTE_NAME.to_owned();
        }
        self.files.iter().find(|f| f.id == input).map_or_else(String::new, |f| f.name.clone())
    }

    fn unique_name(&self, name: &str) -> String {
        let taken = |n: &str| n == PASTE_NAME || self.files.iter().any(|f| f.name == n);
        if !taken(name) {
            return name.to_owned();
        }
        (2..).map(|i| format!("{name} ({i})")).find(|n| !taken(n)).unwrap_or_else(|| name.to_owned())
    }

    /// Adds a file under a name no other input has.
    fn add_file(&mut self, name: &str, bytes: FileBytes) {
        let name = self.unique_name(name);
        self.files.push(FileInput { id: self.next_id, name, bytes });
        self.next_id += 1;
    }

    fn inputs_changed(mut self) -> Self {
        self.inputs_version = self.inputs_version.wrapping_add(1);
        self.typing = false;
        self.page.offset = 0;
        self
    }
}

/// The reducer: the next state from the current one and an action.
pub fn reduce(state: &AppState, action: Action) -> AppState {
    let mut s = state.clone();
    match action {
        Action::SetPaste(text) => {
            if text == s.paste {
                return s;
            }
            s.paste = text;
            s = s.inputs_changed();
            s.typing = true;
        }
        Action::AddFiles(files) => {
            for (name, bytes) in files {
                s.add_file(&name, bytes);
            }
            s = s.inputs_changed();
        }
        Action::RemoveInput(id) => {
            if id == PASTE_ID {
                s.paste.clear();
            } else {
                s.files.retain(|f| f.id != id);
            }
            s = s.inputs_changed();
        }
        Action::RemoveDocument { input, start, end } => {
            if input == PASTE_ID {
                if start <= end
                    && end <= s.paste.len()
                    && s.paste.is_char_boundary(start)
                    && s.paste.is_char_boundary(end)
                {
                    s.paste.replace_range(start..end, "");
                    s.paste = s.paste.trim().to_owned();
                }
            } else {
                // A file is one input; removing its document removes the file.
                s.files.retain(|f| f.id != input);
            }
            s = s.inputs_changed();
        }
        Action::LoadExample => {
            s.files.retain(|f| !crate::example::FILES.iter().any(|(n, _)| *n == f.name));
            for (name, text) in crate::example::FILES {
                s.add_file(name, FileBytes::data(text.as_bytes().to_vec()));
            }
            s.query = QueryForm {
                to: crate::example::TARGET.to_owned(),
                protocol: "tcp".to_owned(),
                port: crate::example::PORT.to_string(),
            };
            s = s.inputs_changed();
        }
        Action::ClearAll => {
            let keep = false;
            s = AppState { seq: s.seq, inputs_version: s.inputs_version.wrapping_add(1), keep, ..AppState::default() };
            s.notice = Some("cleared: inputs removed from the page and from this browser's storage".to_owned());
        }
        Action::SetTarget(t) => {
            s.query.to = t;
            s.page.offset = 0;
            s.expanded = None;
        }
        Action::SetProtocol(p) => {
            s.query.protocol = p;
            s.page.offset = 0;
        }
        Action::SetPort(p) => {
            s.query.port = p;
            s.page.offset = 0;
        }
        Action::Preset { protocol, port } => {
            s.query.protocol = protocol;
            s.query.port = port.to_string();
            s.page.offset = 0;
        }
        Action::SetFilter(f) => {
            s.page.filter = f;
            s.page.offset = 0;
        }
        Action::SetVerdict(v) => {
            s.page.verdict = v;
            s.page.offset = 0;
        }
        Action::SetSort(key) => {
            if s.page.sort == key {
                s.page.desc = !s.page.desc;
            } else {
                s.page.sort = key;
                s.page.desc = false;
            }
            s.page.offset = 0;
        }
        Action::PageBy(delta) => {
            let limit = s.page.limit.max(1);
            let total = s.rows.total;
            let next = if delta < 0 {
                s.page.offset.saturating_sub(limit * delta.unsigned_abs())
            } else {
                s.page.offset + limit * delta.unsigned_abs()
            };
            if next < total || next == 0 {
                s.page.offset = next;
            }
        }
        Action::Toggle(ip) => {
            s.expanded = if s.expanded.as_deref() == Some(ip.as_str()) { None } else { Some(ip) };
        }
        Action::SetKeep(keep) => s.keep = keep,
        Action::Restore { paste, files, query, keep } => {
            s.paste = paste;
            for (name, bytes) in files {
                s.add_file(&name, FileBytes::data(bytes));
            }
            if let Some(q) = query {
                s.query = q;
            }
            s.keep = keep;
            s = s.inputs_changed();
        }
        Action::Sent(seq) => {
            s.seq = seq;
            s.failure = None;
            if s.busy.is_none() {
                s.busy = Some(Progress { phase: "working".to_owned(), percent: 0 });
            }
        }
        Action::Received(resp) => {
            if resp.seq() != s.seq {
                return s;
            }
            match resp {
                Response::Progress { phase, percent, .. } => s.busy = Some(Progress { phase, percent }),
                Response::View { view, .. } => {
                    s.rows = Rc::new(view.rows.clone());
                    s.view = Some(Rc::new(*view));
                    s.busy = None;
                }
                Response::Rows { rows, .. } => {
                    s.rows = Rc::new(rows);
                    s.busy = None;
                }
                Response::Export { .. } | Response::Report { .. } => s.busy = None,
                Response::Ready | Response::Warm { .. } => {}
                Response::Failed { message, .. } => {
                    s.failure = Some(message);
                    s.busy = None;
                }
            }
        }
        Action::Notice(n) => s.notice = n,
    }
    s
}

#[cfg(test)]
mod tests;

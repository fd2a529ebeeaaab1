//! Messages between the page and its analysis worker, and the view the page renders.
//!
//! The worker keeps the loaded export and the full report; the page receives a `View` (summary,
//! matrix, drift, fixes, the cause groups) and pages of source rows, so that a whole-account
//! export never has to cross into the page at once.

use podreach_core::report::{DiagOut, Report, SourceOut};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InputMsg {
    pub id: u32,
    pub name: String,
    #[serde(with = "serde_bytes")]
    pub bytes: Vec<u8>,
    /// A browser file's size when its bytes follow in a `Bytes` request: the page reads the file
    /// while the worker parses the inputs that came before it.
    #[serde(default)]
    pub follows: Option<u64>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct QueryMsg {
    pub to: String,
    pub protocol: String,
    pub port: Option<u16>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageReq {
    /// Matches ip, pod, node, instance, eni, eth, group or cause (case-insensitive substring).
    pub filter: String,
    /// `""` for all, or `reachable`, `blocked`, `unknown`.
    pub verdict: String,
    /// `cause` (grouped), `ip`, `verdict`, `node`, `eni`, `pod`.
    pub sort: String,
    pub desc: bool,
    pub offset: usize,
    pub limit: usize,
}

impl Default for PageReq {
    fn default() -> Self {
        PageReq {
            filter: String::new(),
            verdict: String::new(),
            sort: "cause".to_owned(),
            desc: false,
            offset: 0,
            limit: 50,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Request {
    /// Load `inputs` (when given; otherwise keep the loaded ones) and analyse.
    Run { seq: u32, inputs: Option<Vec<InputMsg>>, query: Option<QueryMsg>, page: PageReq },
    /// How many bytes of input `id` of the `Run` numbered `run` the page has read so far. The
    /// bytes themselves come in `reader.js`'s `Bytes` messages, which only the worker reads
    /// (`services::worker::Bytes`): they carry the page's byte arrays as they are.
    Read { run: u32, id: u32, read: u64 },
    /// Another page of rows from the current report.
    Page { seq: u32, page: PageReq },
    /// The whole report as `json`, `markdown` or `csv`.
    Export { seq: u32, format: String },
    /// The JavaScript API (`window.podreach.analyze`): texts in, the whole report out, stateless.
    Api { seq: u32, inputs: Vec<InputMsg>, query: Option<QueryMsg> },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Response {
    /// The worker's handler is installed: requests sent before this would have been lost.
    Ready,
    /// The worker's warm-up is over (see `engine::warm_round`): `ms` after it began, after
    /// `rounds` rounds of the example.
    Warm {
        ms: f64,
        rounds: u32,
    },
    Progress {
        seq: u32,
        phase: String,
        percent: u8,
    },
    View {
        seq: u32,
        view: Box<View>,
    },
    Rows {
        seq: u32,
        rows: RowsPage,
    },
    Export {
        seq: u32,
        format: String,
        text: String,
    },
    /// The answer to `Request::Api`: the report as `podreach/report@1` JSON.
    Report {
        seq: u32,
        json: String,
    },
    Failed {
        seq: u32,
        message: String,
    },
}

impl Response {
    /// A view or a page of rows, as the worker sends them: one JSON string.
    pub fn from_json(json: &str) -> Result<Response, String> {
        serde_json::from_str::<Response>(json).map_err(|e| e.to_string())
    }

    pub fn seq(&self) -> u32 {
        match self {
            Response::Ready | Response::Warm { .. } => 0,
            Response::Progress { seq, .. }
            | Response::View { seq, .. }
            | Response::Rows { seq, .. }
            | Response::Export { seq, .. }
            | Response::Report { seq, .. }
            | Response::Failed { seq, .. } => *seq,
        }
    }
}

/// A recognised document, shown as a removable chip.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DocChip {
    pub input: u32,
    pub label: String,
    pub kind: String,
    pub partial: bool,
    pub line: usize,
    pub start: usize,
    pub end: usize,
}

/// A rejected input (or document), with where and what to do.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InputError {
    pub input: u32,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

/// A target the picker offers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TargetOption {
    pub eni: String,
    pub ip: String,
    pub label: String,
    /// `rds`, `load balancers`, `eks control plane`, `vpc endpoints`, `instances`, `other`.
    pub group: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CauseGroup {
    pub verdict: String,
    pub cause: String,
    pub count: usize,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RowsPage {
    /// Rows matching the filter, in all.
    pub total: usize,
    pub offset: usize,
    pub rows: Vec<SourceOut>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    /// Waiting for the bytes of chosen files with nothing left to parse (files are read while
    /// the ones before them are parsed).
    pub files_ms: f64,
    /// Parsing the inputs.
    pub parse_ms: f64,
    /// Building the model from the parsed inputs.
    pub model_ms: f64,
    pub analyse_ms: f64,
    /// The worker's WebAssembly memory after the run: the most it has held.
    pub memory_bytes: f64,
    /// Warm-up rounds the worker ran while it waited for bytes (`services::worker`).
    pub warm_rounds: u32,
    /// What the second worker spent parsing a kubectl export beside this one (its bytes never
    /// came here), and what reading its result back took is in `parse_ms`.
    #[serde(default)]
    pub helper_ms: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct View {
    pub documents: Vec<DocChip>,
    pub errors: Vec<InputError>,
    /// Warnings and notes (errors are in `errors`, by input).
    pub diagnostics: Vec<DiagOut>,
    /// Why the query could not run (an unknown target, a missing port), if it could not.
    pub query_error: Option<String>,
    pub targets: Vec<TargetOption>,
    /// The report without its sources (those come in pages) and with at most
    /// `MAX_INSTANCES` instances.
    pub report: Report,
    pub instances_total: usize,
    pub causes: Vec<CauseGroup>,
    pub rows: RowsPage,
    pub timings: Timings,
}

pub const MAX_INSTANCES: usize = 12;

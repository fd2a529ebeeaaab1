//! Diagnostics: what loading and analysis have to say about the input, short and actionable.

use std::collections::BTreeMap;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// An input (or a document in it) was rejected.
    Error,
    /// Accepted, but something is missing or odd and a verdict may depend on it.
    Warning,
    /// An assumption or a fact worth knowing.
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// Where in the input a diagnostic points. Lines and columns count from 1.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    pub file: String,
    pub line: usize,
    pub column: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Diagnostic {
    pub severity: Severity,
    /// A stable kebab-case code, for scripts and tests.
    pub code: &'static str,
    /// Lower-case, one line, says what to do; starts with `file:line:column:` when it has a location.
    pub message: String,
    pub location: Option<Location>,
}

impl Diagnostic {
    pub fn new(severity: Severity, code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic { severity, code, message: message.into(), location: None }
    }

    pub fn at(severity: Severity, code: &'static str, loc: Location, message: &str) -> Diagnostic {
        Diagnostic {
            severity,
            code,
            message: format!("{}:{}:{}: {message}", loc.file, loc.line, loc.column),
            location: Some(loc),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.severity.as_str(), self.message)
    }
}

type FoldKey = (Severity, &'static str, String);
type Folded = (usize, String, Option<Location>);

/// Collects diagnostics and folds repeats of one kind into a single line with a count, so that
/// an export with 50,000 odd items yields one diagnostic rather than 50,000.
#[derive(Debug, Default)]
pub struct Sink {
    /// (severity, code, key) → (count, first message, location of the first).
    folded: BTreeMap<FoldKey, Folded>,
}

impl Sink {
    /// Whether nothing was pushed.
    pub fn is_empty(&self) -> bool {
        self.folded.is_empty()
    }

    /// Adds a diagnostic; those with the same severity, code and `key` fold into one.
    pub fn push(&mut self, severity: Severity, code: &'static str, key: &str, message: String) {
        self.push_at(severity, code, key, message, None);
    }

    pub fn push_at(
        &mut self,
        severity: Severity,
        code: &'static str,
        key: &str,
        message: String,
        loc: Option<Location>,
    ) {
        self.folded.entry((severity, code, key.to_owned())).and_modify(|e| e.0 += 1).or_insert((1, message, loc));
    }

    /// Adds the diagnostics of a sink filled later, as if they had been pushed after this one's:
    /// a repeat keeps the first message and adds to its count.
    pub fn append(&mut self, later: Sink) {
        for (key, (count, message, loc)) in later.folded {
            self.folded.entry(key).and_modify(|e| e.0 += count).or_insert((count, message, loc));
        }
    }

    pub fn finish(self) -> Vec<Diagnostic> {
        let mut out: Vec<Diagnostic> = self
            .folded
            .into_iter()
            .map(|((severity, code, _), (count, message, loc))| {
                let message = if count > 1 { format!("{message} (and {} more like it)", count - 1) } else { message };
                match loc {
                    Some(loc) => Diagnostic::at(severity, code, loc, &message),
                    None => Diagnostic::new(severity, code, message),
                }
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

/// Line and column (both from 1, column in characters) of a byte offset in a text.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |p| p + 1);
    let column = before.get(line_start..).map_or(1, |s| s.chars().count() + 1);
    (line, column)
}

//! podreach-core: which pod addresses on EKS can reach a target, and exactly why (not).
//!
//! Pure analysis: text in, report out. No IO, no clock, no threads, no panics; builds natively
//! and for `wasm32-unknown-unknown`, and gives byte-identical output on both.
//!
//! ```text
//! load(&[Input]) -> Loaded { model, diagnostics, documents }
//! report::build(&loaded, Some(&query)) -> Report
//! render::{table, markdown, json, csv}(&report) -> String
//! ```
//!
//! `#[cfg_attr(target_arch = "wasm32", inline(never))]` marks the phases of a run (and per-item
//! work inside them) that must stay functions of their own in the browser's worker. V8 compiles a
//! wasm function with its optimising compiler only once it has run hot, and runs a call on the
//! code it began with; LLVM and `wasm-opt` would otherwise inline every phase with one caller
//! into a few functions of 25-50 KB, each called once per run, that take V8 100-500 ms apiece to
//! optimise (BENCHMARKS.md item 40). The page's worker is built with `wasm-opt`'s
//! `--one-caller-inline-max-function-size=100` (index.html) so that the marks survive. The same
//! marks keep a long walk (over every source, row or group) out of a large once-per-run function:
//! the walk spends V8's tiering budget, and a function whose budget runs out mid-run is optimised
//! for the next run only (BENCHMARKS.md items 50 and 55). Native builds are not affected.
#![warn(clippy::disallowed_methods)]
#![forbid(unsafe_code)]

pub mod aws;
pub mod diag;
pub mod drift;
pub mod hash;
pub mod lenient;
pub mod load;
pub mod model;
pub mod net;
pub mod par;
pub mod reach;
pub mod render;
pub mod report;

pub use diag::{Diagnostic, Severity};
pub use load::{assemble, assemble_with, load, parse, parse_with, Document, Input, Loaded, Parsed};
pub use net::{Flow, Proto};
pub use par::{Join, Sequential};
pub use reach::{Query, QueryError, TargetSpec, Verdict};
pub use report::Report;

/// Parses a `--protocol` value: `tcp`, `udp`, `icmp`, `all`, or an IP protocol number.
pub fn parse_protocol(s: &str) -> Result<Proto, String> {
    Proto::parse(s).ok_or_else(|| format!("`{s}` is not a protocol; use tcp, udp, icmp, all or a number 0-255"))
}

/// Parses a `--to` value: an `eni-` id or an IPv4 address.
pub fn parse_target(s: &str) -> Result<TargetSpec, String> {
    let s = s.trim();
    if s.starts_with("eni-") {
        return Ok(TargetSpec::Eni(s.to_owned()));
    }
    s.parse().map(TargetSpec::Ip).map_err(|_| format!("`{s}` is neither an `eni-` id nor an ipv4 address"))
}

/// Builds a query from the CLI's (or the page's) words.
pub fn make_query(to: &str, protocol: &str, port: Option<u16>) -> Result<Query, String> {
    let target = parse_target(to)?;
    let proto = parse_protocol(protocol)?;
    if proto.has_ports() && port.is_none() {
        return Err(format!("{proto} needs a destination port: add `--port N`"));
    }
    let port = if proto.has_ports() || proto.is_icmp() { port } else { None };
    Ok(Query { target, flow: Flow { proto, port } })
}

/// Loads the texts and builds the report in one call, as the page and the CLI do.
pub fn analyze(inputs: &[Input<'_>], query: Option<&Query>) -> Result<(Loaded, Report), String> {
    let loaded = load(inputs);
    let report = report::build(&loaded, query).map_err(|e| e.0)?;
    Ok((loaded, report))
}

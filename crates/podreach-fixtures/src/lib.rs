//! The shared fixture corpus (`tests/fixtures/<case>/`), embedded at build time, and the one
//! `check` that every runner uses: the native tests, the CLI tests and the browser tests.
//!
//! A case is `input/*` (exports exactly as the AWS CLI and kubectl print them), `case.json`
//! (hand-written expectations: verdicts, reason codes, drift causes, diagnostics) and
//! `expected/<query>.json` (the full report, a snapshot that pins every byte of the output).

use podreach_core::{render, report::Report, Input};
use serde::Deserialize;
use std::collections::BTreeMap;

pub struct Case {
    pub name: &'static str,
    pub spec: &'static str,
    pub inputs: &'static [(&'static str, &'static [u8])],
    pub snapshots: &'static [(&'static str, &'static str)],
}

/// Every case under `tests/fixtures`, sorted by name.
pub static CASES: &[Case] = include!(concat!(env!("OUT_DIR"), "/cases.rs"));

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    pub description: String,
    #[serde(default)]
    pub queries: Vec<QuerySpec>,
    /// `null`: not checked; `[]`: there must be no drift.
    pub drift: Option<Vec<DriftSpec>>,
    #[serde(default)]
    pub diagnostics: Vec<String>,
    #[serde(default)]
    pub absent_diagnostics: Vec<String>,
    pub error: Option<ErrorSpec>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct QuerySpec {
    pub name: String,
    pub to: String,
    pub protocol: String,
    pub port: Option<u16>,
    pub expect: Expect,
}

#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    #[serde(default)]
    pub sources: BTreeMap<String, SourceSpec>,
    /// When true, the listed sources are all the sources.
    #[serde(default)]
    pub exhaustive: bool,
    pub summary: Option<Counts>,
    pub pods: Option<Counts>,
    /// `code` or `code:text the command must contain`.
    pub fixes: Option<Vec<String>>,
    /// Fixes that must not be proposed, written as in `fixes`.
    #[serde(default)]
    pub no_fixes: Vec<String>,
    pub headline_contains: Option<String>,
    pub workloads: Option<Vec<WorkloadSpec>>,
    pub unmapped_pods: Option<Vec<UnmappedSpec>>,
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Counts {
    pub reachable: usize,
    pub blocked: usize,
    pub unknown: usize,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct SourceSpec {
    pub verdict: String,
    #[serde(default)]
    pub codes: Vec<String>,
    /// Texts that the reasons must mention.
    #[serde(default)]
    pub mentions: Vec<String>,
    pub pods: Option<Vec<String>>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct DriftSpec {
    pub eni: String,
    pub cause: String,
    pub missing: Option<Vec<String>>,
    pub extra: Option<Vec<String>>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct WorkloadSpec {
    pub name: String,
    pub kind: String,
    pub replicas: usize,
    pub reachable: usize,
    pub blocked: usize,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct UnmappedSpec {
    pub name: String,
    pub contains: String,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct ErrorSpec {
    pub code: String,
    pub contains: Vec<String>,
}

impl Case {
    pub fn spec(&self) -> Result<Spec, String> {
        serde_json::from_str(self.spec).map_err(|e| format!("{}: case.json: {e}", self.name))
    }

    pub fn inputs(&self) -> Vec<Input<'static>> {
        self.inputs.iter().map(|(name, bytes)| Input { name, bytes }).collect()
    }

    pub fn snapshot(&self, file: &str) -> Option<&'static str> {
        self.snapshots.iter().find(|(n, _)| *n == file).map(|(_, s)| *s)
    }
}

/// The outcome of running one case: the reports it produced (for snapshots) and every mismatch.
pub struct Outcome {
    pub reports: Vec<(String, String)>,
    pub failures: Vec<String>,
}

/// Runs one case and compares it with its expectations and snapshots.
pub fn check(case: &Case) -> Outcome {
    let mut failures = Vec::new();
    let mut reports = Vec::new();
    let spec = match case.spec() {
        Ok(s) => s,
        Err(e) => return Outcome { reports, failures: vec![e] },
    };
    let loaded = podreach_core::load(&case.inputs());
    let codes: Vec<&str> = loaded.diagnostics.iter().map(|d| d.code).collect();
    if let Some(err) = &spec.error {
        match loaded.diagnostics.iter().find(|d| d.code == err.code && d.severity == podreach_core::Severity::Error) {
            None => failures.push(format!("expected error `{}`, got {codes:?}", err.code)),
            Some(d) => {
                for c in &err.contains {
                    if !d.message.contains(c.as_str()) {
                        failures.push(format!("error message `{}` lacks `{c}`", d.message));
                    }
                }
            }
        }
    } else if loaded.has_errors() {
        let errs: Vec<String> = loaded
            .diagnostics
            .iter()
            .filter(|d| d.severity == podreach_core::Severity::Error)
            .map(|d| d.message.clone())
            .collect();
        failures.push(format!("unexpected errors: {errs:?}"));
    }
    // The report without a query: matrix, drift, diagnostics.
    let base = podreach_core::report::build(&loaded, None);
    match &base {
        Ok(r) => {
            let all: Vec<&str> = r.diagnostics.iter().map(|d| &*d.code).collect();
            for d in &spec.diagnostics {
                if spec.queries.is_empty() && !all.contains(&d.as_str()) {
                    failures.push(format!("missing diagnostic `{d}` (have {all:?})"));
                }
            }
            if let Some(expected) = &spec.drift {
                check_drift(r, expected, &mut failures);
            }
            reports.push(("matrix".to_owned(), render::json(r)));
        }
        Err(e) => failures.push(format!("report without a query failed: {}", e.0)),
    }
    for qs in &spec.queries {
        let query = match podreach_core::make_query(&qs.to, &qs.protocol, qs.port) {
            Ok(q) => q,
            Err(e) => {
                failures.push(format!("{}: bad query: {e}", qs.name));
                continue;
            }
        };
        match podreach_core::report::build(&loaded, Some(&query)) {
            Ok(r) => {
                check_query(&qs.name, &r, &qs.expect, &mut failures);
                let all: Vec<&str> = r.diagnostics.iter().map(|d| &*d.code).collect();
                for d in &spec.diagnostics {
                    if !all.contains(&d.as_str()) {
                        failures.push(format!("{}: missing diagnostic `{d}` (have {all:?})", qs.name));
                    }
                }
                for d in &spec.absent_diagnostics {
                    if all.contains(&d.as_str()) {
                        failures.push(format!("{}: diagnostic `{d}` should be absent", qs.name));
                    }
                }
                reports.push((qs.name.clone(), render::json(&r)));
            }
            Err(e) => failures.push(format!("{}: query failed: {}", qs.name, e.0)),
        }
    }
    // Snapshots: every byte of the JSON report.
    for (name, json) in &reports {
        let file = format!("{name}.json");
        match case.snapshot(&file) {
            Some(s) if s == json => {}
            Some(_) => failures
                .push(format!("snapshot expected/{file} differs (run UPDATE_EXPECT=1 cargo test natively and review)")),
            None => {
                failures.push(format!("snapshot expected/{file} is missing (run UPDATE_EXPECT=1 cargo test natively)"))
            }
        }
    }
    for (file, _) in case.snapshots {
        if !reports.iter().any(|(n, _)| format!("{n}.json") == *file) {
            failures.push(format!("snapshot expected/{file} is not produced by any query: remove it"));
        }
    }
    Outcome { reports, failures: failures.into_iter().map(|f| format!("{}: {f}", case.name)).collect() }
}

fn check_drift(r: &Report, expected: &[DriftSpec], failures: &mut Vec<String>) {
    if r.drift.len() != expected.len() {
        let got: Vec<String> = r.drift.iter().map(|d| format!("{} {}", d.eni, d.cause)).collect();
        failures.push(format!("expected {} drift findings, got {got:?}", expected.len()));
    }
    for e in expected {
        match r.drift.iter().find(|d| d.eni == e.eni) {
            None => failures.push(format!("no drift reported for {}", e.eni)),
            Some(d) => {
                if d.cause != e.cause {
                    failures.push(format!("drift of {}: cause `{}`, expected `{}`", e.eni, d.cause, e.cause));
                }
                if let Some(m) = &e.missing {
                    if &d.missing != m {
                        failures.push(format!("drift of {}: missing {:?}, expected {m:?}", e.eni, d.missing));
                    }
                }
                if let Some(x) = &e.extra {
                    if &d.extra != x {
                        failures.push(format!("drift of {}: extra {:?}, expected {x:?}", e.eni, d.extra));
                    }
                }
            }
        }
    }
}

fn check_query(name: &str, r: &Report, e: &Expect, failures: &mut Vec<String>) {
    let mut fail = |m: String| failures.push(format!("{name}: {m}"));
    for (ip, s) in &e.sources {
        let Some(got) = r.sources.iter().find(|x| x.ip.to_string() == *ip) else {
            fail(format!("no source {ip}"));
            continue;
        };
        if got.verdict != s.verdict {
            fail(format!(
                "{ip}: verdict {}, expected {} (reasons: {:?})",
                got.verdict,
                s.verdict,
                got.reasons().iter().map(|r| &r.message).collect::<Vec<_>>()
            ));
        }
        for c in &s.codes {
            if !got.reasons().iter().any(|r| *r.code == **c) {
                fail(format!(
                    "{ip}: no reason `{c}` (have {:?})",
                    got.reasons().iter().map(|r| &*r.code).collect::<Vec<_>>()
                ));
            }
        }
        let text: String = got.reasons().iter().map(|r| r.message.as_str()).collect::<Vec<_>>().join(" | ");
        for m in &s.mentions {
            if !text.contains(m.as_str()) {
                fail(format!("{ip}: reasons do not mention `{m}`: {text}"));
            }
        }
        if let Some(p) = &s.pods {
            let have: Vec<String> = got.pods.iter().map(|p| format!("{}/{}", p.namespace, p.name)).collect();
            if &have != p {
                fail(format!("{ip}: pods {have:?}, expected {p:?}"));
            }
        }
    }
    if e.exhaustive && r.sources.len() != e.sources.len() {
        let have: Vec<String> = r.sources.iter().map(|s| s.ip.to_string()).collect();
        fail(format!("{} sources, expected exactly {}: {have:?}", r.sources.len(), e.sources.len()));
    }
    if let Some(s) = &e.summary {
        let got = Counts { reachable: r.summary.reachable, blocked: r.summary.blocked, unknown: r.summary.unknown };
        if &got != s {
            fail(format!("summary {got:?}, expected {s:?}"));
        }
    }
    if let Some(p) = &e.pods {
        match &r.summary.pods {
            Some(c) => {
                let got = Counts { reachable: c.reachable, blocked: c.blocked, unknown: c.unknown };
                if &got != p {
                    fail(format!("pod summary {got:?}, expected {p:?}"));
                }
            }
            None => fail("no pod summary".to_owned()),
        }
    }
    if let Some(fixes) = &e.fixes {
        for f in fixes {
            let (code, text) = f.split_once(':').unwrap_or((f.as_str(), ""));
            if !r.fixes.iter().any(|x| x.code == code && x.command.contains(text)) {
                let have: Vec<String> = r.fixes.iter().map(|x| format!("{}: {}", x.code, x.command)).collect();
                fail(format!("no fix `{f}` (have {have:?})"));
            }
        }
    }
    for f in &e.no_fixes {
        let (code, text) = f.split_once(':').unwrap_or((f.as_str(), ""));
        if let Some(x) = r.fixes.iter().find(|x| x.code == code && x.command.contains(text)) {
            fail(format!("fix `{f}` should not be proposed: {}", x.command));
        }
    }
    if let Some(h) = &e.headline_contains {
        if !r.headline.as_deref().unwrap_or("").contains(h.as_str()) {
            fail(format!("headline {:?} lacks {h:?}", r.headline));
        }
    }
    if let Some(ws) = &e.workloads {
        for w in ws {
            match r.workloads.iter().find(|x| x.name == w.name && x.kind == w.kind) {
                None => fail(format!("no workload {} {}", w.kind, w.name)),
                Some(x) => {
                    if (x.replicas, x.reachable, x.blocked) != (w.replicas, w.reachable, w.blocked) {
                        fail(format!(
                            "workload {}: {}/{}/{} (replicas/reachable/blocked), expected {}/{}/{}",
                            w.name, x.replicas, x.reachable, x.blocked, w.replicas, w.reachable, w.blocked
                        ));
                    }
                }
            }
        }
    }
    if let Some(us) = &e.unmapped_pods {
        for u in us {
            match r.unmapped_pods.iter().find(|x| x.name == u.name) {
                None => fail(format!("pod {} is not listed as unmapped", u.name)),
                Some(x) => {
                    if !x.reason.contains(u.contains.as_str()) {
                        fail(format!("unmapped pod {}: reason `{}` lacks `{}`", u.name, x.reason, u.contains));
                    }
                }
            }
        }
    }
}

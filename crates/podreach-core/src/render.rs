//! Text renderings of a report: a table for a 100-column terminal, Markdown for a ticket, CSV for
//! a spreadsheet, and JSON (`podreach/report@1`). All are pure functions of the report.

use crate::report::{InstanceOut, Report, Source, Sources};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The report as pretty JSON, with a trailing newline.
///
/// Lines: one per top-level key, and one per element of a top-level list (one per source), each
/// compact. Readable in a diff, and a fraction of the size of fully indented JSON.
pub fn json(report: &Report) -> String {
    let mut out = Vec::with_capacity(4096 + report.sources.len() * 512);
    if let Err(e) = json_to(report, &mut out) {
        return format!("{{\"error\": \"{e}\"}}\n");
    }
    String::from_utf8(out).unwrap_or_default()
}

/// The same JSON, streamed into a writer (the CLI writes a large report without holding it).
///
/// Byte for byte what serialising the `Report` with a `LineFormatter` gives (a test holds them
/// together), but the source rows are written directly: the part of a row that sources with
/// one trace share (verdict, cause, reasons, missing) is escaped once and copied after that.
pub fn json_to<W: std::io::Write>(report: &Report, mut w: W) -> std::io::Result<()> {
    json_head(report, &mut w)?;
    JsonRows::default().write(&report.sources, 0..report.sources.len(), &mut w)?;
    json_tail(report, &mut w)
}

/// The JSON up to its source rows: [`json_to`] is this, [`JsonRows::write`] of every source row,
/// then [`json_tail`]. An edge that can may render blocks of rows on several threads.
pub fn json_head<W: std::io::Write>(report: &Report, mut w: W) -> std::io::Result<()> {
    let r = report;
    w.write_all(b"{")?;
    field(&mut w, true, "schema", &r.schema)?;
    field(&mut w, false, "target", &r.target)?;
    field(&mut w, false, "summary", &r.summary)?;
    field(&mut w, false, "headline", &r.headline)?;
    w.write_all(b",\n  \"sources\": [")
}

/// Writes source rows of the JSON, each the way [`json_to`] writes it. Keeps the escaped parts
/// that rows share (per trace and per ENI), so that each is escaped once per `JsonRows`.
#[derive(Default)]
pub struct JsonRows {
    shared: Shared,
}

impl JsonRows {
    /// Writes the rows of `sources` at `range` (a report's sources, written in ranges that
    /// follow each other from 0; each `JsonRows` is for one `Sources`).
    pub fn write<W: std::io::Write>(
        &mut self,
        sources: &Sources,
        range: std::ops::Range<usize>,
        mut w: W,
    ) -> std::io::Result<()> {
        for (i, s) in (range.start..).zip(sources.range(range)) {
            w.write_all(if i == 0 { b"\n    " } else { b",\n    " })?;
            source_json(&mut w, &s, &mut self.shared)?;
        }
        Ok(())
    }
}

/// The JSON after its source rows (see [`json_head`]).
pub fn json_tail<W: std::io::Write>(report: &Report, mut w: W) -> std::io::Result<()> {
    let r = report;
    w.write_all(if r.sources.is_empty() { b"]" } else { b"\n  ]" })?;
    field(&mut w, false, "drift", &r.drift)?;
    w.write_all(b",\n  \"instances\": [")?;
    for (i, x) in r.instances.iter().enumerate() {
        w.write_all(if i == 0 { b"\n    " } else { b",\n    " })?;
        instance_json(&mut w, x)?;
    }
    w.write_all(if r.instances.is_empty() { b"]" } else { b"\n  ]" })?;
    field(&mut w, false, "workloads", &r.workloads)?;
    field(&mut w, false, "unmapped_pods", &r.unmapped_pods)?;
    field(&mut w, false, "fixes", &r.fixes)?;
    field(&mut w, false, "assumptions", &r.assumptions)?;
    field(&mut w, false, "inputs", &r.inputs)?;
    field(&mut w, false, "diagnostics", &r.diagnostics)?;
    w.write_all(b"\n}\n")
}

/// The escaped JSON that rows share, written once: per trace the tail of a row, per ENI the part
/// after the address (each by its index in the `Sources`).
#[derive(Default)]
struct Shared {
    tails: Vec<Option<Vec<u8>>>,
    enis: Vec<Option<Vec<u8>>>,
}

/// Writes the part of a row under `key` into `w`: written by `write` into `cache` the first time,
/// and copied from there after that.
fn cached<W: std::io::Write>(
    w: &mut W,
    cache: &mut Vec<Option<Vec<u8>>>,
    key: usize,
    write: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    if let Some(Some(b)) = cache.get(key) {
        return w.write_all(b);
    }
    let mut b = Vec::new();
    write(&mut b)?;
    w.write_all(&b)?;
    if cache.len() <= key {
        cache.resize(key + 1, None);
    }
    if let Some(slot) = cache.get_mut(key) {
        *slot = Some(b);
    }
    Ok(())
}

/// One top-level `"key": value`, formatted as the `LineFormatter` formats it at depth 1.
fn field<W: std::io::Write, T: serde::Serialize>(w: &mut W, first: bool, key: &str, value: &T) -> std::io::Result<()> {
    w.write_all(if first { b"\n  " } else { b",\n  " })?;
    string(w, key)?;
    w.write_all(b": ")?;
    let mut ser = serde_json::Serializer::with_formatter(&mut *w, LineFormatter { depth: 1, filled: vec![false] });
    value.serialize(&mut ser).map_err(std::io::Error::other)
}

/// A JSON string, escaped as serde_json escapes it.
fn string<W: std::io::Write>(w: &mut W, s: &str) -> std::io::Result<()> {
    if s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
        serde_json::to_writer(&mut *w, s).map_err(std::io::Error::other)
    } else {
        w.write_all(b"\"")?;
        w.write_all(s.as_bytes())?;
        w.write_all(b"\"")
    }
}

fn opt_string<W: std::io::Write>(w: &mut W, s: Option<&str>) -> std::io::Result<()> {
    match s {
        Some(s) => string(w, s),
        None => w.write_all(b"null"),
    }
}

/// One source row, compact, in the field order of `SourceOut`.
fn source_json<W: std::io::Write>(w: &mut W, s: &Source<'_>, shared: &mut Shared) -> std::io::Result<()> {
    w.write_all(b"{\"ip\":\"")?;
    write_cidr(w, s.ip)?;
    // Rows on one ENI, and rows built from one trace, share these parts; a report read back
    // from JSON has an entry per row, and then each row is simply escaped on its own.
    cached(w, &mut shared.enis, s.eni_key(), |b| {
        b.extend_from_slice(b"\",\"eni\":");
        string(b, s.eni())?;
        b.extend_from_slice(b",\"eth\":");
        opt_string(b, s.eth())?;
        b.extend_from_slice(b",\"instance\":");
        opt_string(b, s.instance())?;
        b.extend_from_slice(b",\"node\":");
        opt_string(b, s.node())?;
        b.extend_from_slice(b",\"role\":");
        string(b, s.role())
    })?;
    cached(w, &mut shared.tails, s.trace_key(), |b| {
        b.extend_from_slice(b",\"verdict\":");
        string(b, s.verdict)?;
        b.extend_from_slice(b",\"cause\":");
        string(b, s.cause())?;
        b.extend_from_slice(b",\"reasons\":");
        serde_json::to_writer(&mut *b, s.reasons()).map_err(std::io::Error::other)?;
        b.extend_from_slice(b",\"missing\":");
        serde_json::to_writer(&mut *b, s.missing()).map_err(std::io::Error::other)
    })?;
    w.write_all(b",\"pods\":[")?;
    for (i, p) in s.pods.iter().enumerate() {
        w.write_all(if i == 0 { b"{\"namespace\":" } else { b",{\"namespace\":" })?;
        string(w, &p.namespace)?;
        w.write_all(b",\"name\":")?;
        string(w, &p.name)?;
        w.write_all(b"}")?;
    }
    w.write_all(b"]}")
}

/// One instance's matrix, compact, in the field order of `InstanceOut` (a whole account has
/// thousands: serde's derive spent five times as long on them).
fn instance_json<W: std::io::Write>(w: &mut W, x: &InstanceOut) -> std::io::Result<()> {
    w.write_all(b"{\"instance\":")?;
    string(w, &x.instance)?;
    w.write_all(b",\"label\":")?;
    string(w, &x.label)?;
    w.write_all(b",\"instance_type\":")?;
    opt_string(w, x.instance_type.as_deref())?;
    w.write_all(b",\"node\":")?;
    opt_string(w, x.node.as_deref())?;
    w.write_all(b",\"limits\":")?;
    match &x.limits {
        Some(l) => {
            w.write_all(b"{\"enis\":")?;
            number(w, l.enis)?;
            w.write_all(b",\"ipv4_per_eni\":")?;
            number(w, l.ipv4_per_eni)?;
            w.write_all(b",\"max_pods\":")?;
            number(w, l.max_pods)?;
            w.write_all(b"}")?;
        }
        None => w.write_all(b"null")?,
    }
    w.write_all(b",\"groups\":[")?;
    for (i, g) in x.groups.iter().enumerate() {
        w.write_all(if i == 0 { b"{\"id\":" } else { b",{\"id\":" })?;
        string(w, &g.id)?;
        w.write_all(b",\"name\":")?;
        opt_string(w, g.name.as_deref())?;
        w.write_all(b"}")?;
    }
    w.write_all(b"],\"enis\":[")?;
    for (i, e) in x.enis.iter().enumerate() {
        w.write_all(if i == 0 { b"{\"eni\":" } else { b",{\"eni\":" })?;
        string(w, &e.eni)?;
        w.write_all(b",\"eth\":")?;
        opt_string(w, e.eth.as_deref())?;
        w.write_all(b",\"device_index\":")?;
        opt_number(w, e.device_index)?;
        w.write_all(b",\"network_card\":")?;
        opt_number(w, e.network_card)?;
        w.write_all(b",\"subnet\":")?;
        opt_string(w, e.subnet.as_deref())?;
        w.write_all(b",\"interface_type\":")?;
        string(w, &e.interface_type)?;
        w.write_all(b",\"role\":")?;
        string(w, &e.role)?;
        w.write_all(b",\"description\":")?;
        string(w, &e.description)?;
        w.write_all(b",\"addresses\":")?;
        number(w, e.addresses)?;
        for (key, list) in [
            (&b",\"prefixes\":["[..], &e.prefixes),
            (b",\"groups\":[", &e.groups),
            (b",\"missing\":[", &e.missing),
            (b",\"extra\":[", &e.extra),
        ] {
            w.write_all(key)?;
            for (j, item) in list.iter().enumerate() {
                if j > 0 {
                    w.write_all(b",")?;
                }
                string(w, item)?;
            }
            w.write_all(b"]")?;
        }
        w.write_all(b"}")?;
    }
    w.write_all(b"]}")
}

/// A JSON number, as serde_json writes it.
fn number<W: std::io::Write, N: serde::Serialize>(w: &mut W, n: N) -> std::io::Result<()> {
    serde_json::to_writer(&mut *w, &n).map_err(std::io::Error::other)
}

fn opt_number<W: std::io::Write>(w: &mut W, n: Option<u32>) -> std::io::Result<()> {
    match n {
        Some(n) => number(w, n),
        None => w.write_all(b"null"),
    }
}

/// An address or block as `Cidr4`'s `Display` writes it, without the formatting machinery.
fn write_cidr<W: std::io::Write>(w: &mut W, c: crate::net::Cidr4) -> std::io::Result<()> {
    let mut buf = [0u8; 18];
    let mut n = 0;
    let mut put = |b: u8| {
        if let Some(slot) = buf.get_mut(n) {
            *slot = b;
            n += 1;
        }
    };
    let num = |v: u8, put: &mut dyn FnMut(u8)| {
        if v >= 100 {
            put(b'0' + v / 100);
        }
        if v >= 10 {
            put(b'0' + (v / 10) % 10);
        }
        put(b'0' + v % 10);
    };
    for (i, octet) in c.base.to_be_bytes().into_iter().enumerate() {
        if i > 0 {
            put(b'.');
        }
        num(octet, &mut put);
    }
    if c.len != 32 {
        put(b'/');
        num(c.len, &mut put);
    }
    w.write_all(buf.get(..n).unwrap_or(&[]))
}

/// The same JSON through serde's derive and the `LineFormatter` alone: the reference that
/// `json_to`'s hand-written rows are tested against.
#[doc(hidden)]
pub fn json_reference(report: &Report) -> String {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, LineFormatter::default());
    if serde::Serialize::serialize(report, &mut ser).is_err() {
        return String::new();
    }
    out.push(b'\n');
    String::from_utf8(out).unwrap_or_default()
}

/// A serde_json formatter that breaks lines only at depth 1 and 2.
#[derive(Default)]
struct LineFormatter {
    depth: usize,
    /// Whether each open array has had a value.
    filled: Vec<bool>,
}

impl serde_json::ser::Formatter for LineFormatter {
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.depth += 1;
        self.filled.push(false);
        w.write_all(b"[")
    }
    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        let filled = self.filled.pop().unwrap_or(false);
        if self.depth == 2 && filled {
            w.write_all(b"\n  ")?;
        }
        self.depth = self.depth.saturating_sub(1);
        w.write_all(b"]")
    }
    fn begin_array_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W, first: bool) -> std::io::Result<()> {
        if let Some(f) = self.filled.last_mut() {
            *f = true;
        }
        if !first {
            w.write_all(b",")?;
        }
        if self.depth == 2 {
            w.write_all(b"\n    ")?;
        }
        Ok(())
    }
    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.depth += 1;
        self.filled.push(false);
        w.write_all(b"{")
    }
    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.filled.pop();
        if self.depth == 1 {
            w.write_all(b"\n")?;
        }
        self.depth = self.depth.saturating_sub(1);
        w.write_all(b"}")
    }
    fn begin_object_key<W: ?Sized + std::io::Write>(&mut self, w: &mut W, first: bool) -> std::io::Result<()> {
        if !first {
            w.write_all(b",")?;
        }
        if self.depth == 1 {
            w.write_all(b"\n  ")?;
        }
        Ok(())
    }
    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(if self.depth == 1 { b": " } else { b":" })
    }
}

const WIDTH: usize = 100;

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(n.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// Wraps text to the terminal width with a hanging indent.
fn wrap(out: &mut String, indent: &str, text: &str) {
    let mut line = String::from(indent);
    let cont = " ".repeat(indent.chars().count() + 2);
    for word in text.split(' ') {
        if line.chars().count() + word.chars().count() + 1 > WIDTH && !line.trim().is_empty() {
            out.push_str(line.trim_end());
            out.push('\n');
            line = cont.clone();
        }
        line.push_str(word);
        line.push(' ');
    }
    out.push_str(line.trim_end());
    out.push('\n');
}

/// A cell of the matrix: `x` carried, `.` not carried, `!` missing (the primary has it),
/// `+` extra (the primary lacks it).
fn cell(row_groups: &[String], missing: &[String], extra: &[String], g: &str) -> char {
    if missing.iter().any(|m| m == g) {
        '!'
    } else if extra.iter().any(|m| m == g) {
        '+'
    } else if row_groups.iter().any(|m| m == g) {
        'x'
    } else {
        '.'
    }
}

fn matrix_table(out: &mut String, inst: &InstanceOut) {
    let node = inst.node.as_deref().map(|n| format!("  node {n}")).unwrap_or_default();
    let limits = inst
        .limits
        .as_ref()
        .map(|l| format!("  limit {} enis x {} ipv4, max pods {}", l.enis, l.ipv4_per_eni, l.max_pods))
        .unwrap_or_default();
    wrap(out, "", &format!("{}{node}{limits}", inst.label));
    let letters: Vec<String> = (0..inst.groups.len()).map(col_name).collect();
    let _ = writeln!(
        out,
        "  {:<5} {:<22} {:<24} {:<10} {:>5}  {}",
        "eth",
        "eni",
        "subnet",
        "type",
        "addrs",
        letters.join(" ")
    );
    for r in &inst.enis {
        let eth = r.eth.clone().unwrap_or_else(|| "-".to_owned());
        let addrs = if r.prefixes.is_empty() {
            r.addresses.to_string()
        } else {
            format!("{}+{}p", r.addresses, r.prefixes.len())
        };
        let cells: Vec<String> = inst
            .groups
            .iter()
            .zip(&letters)
            .map(|(g, l)| {
                let c = cell(&r.groups, &r.missing, &r.extra, &g.id);
                format!("{c:<w$}", w = l.len())
            })
            .collect();
        let _ = writeln!(
            out,
            "  {:<5} {:<22} {:<24} {:<10} {:>5}  {}",
            eth,
            clip(&r.eni, 22),
            clip(r.subnet.as_deref().unwrap_or("-"), 24),
            clip(&r.interface_type, 10),
            addrs,
            cells.join(" ").trim_end()
        );
    }
    for (g, l) in inst.groups.iter().zip(&letters) {
        let name = g.name.as_deref().map(|n| format!(" ({n})")).unwrap_or_default();
        let _ = writeln!(out, "    {l} = {}{}", g.id, clip(&name, 60));
    }
}

fn col_name(i: usize) -> String {
    let letters = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let n = letters.len();
    let first = letters.get(i % n).copied().unwrap_or(b'?') as char;
    if i < n {
        first.to_string()
    } else {
        format!("{first}{}", i / n)
    }
}

/// Sources grouped by verdict and cause, in a fixed order.
fn grouped(report: &Report) -> Vec<((&str, &str), Vec<Source<'_>>)> {
    let mut map: BTreeMap<(u8, &str, &str), Vec<Source<'_>>> = BTreeMap::new();
    for s in &report.sources {
        let rank = match s.verdict {
            "blocked" => 0,
            "unknown" => 1,
            _ => 2,
        };
        map.entry((rank, s.verdict, s.cause())).or_default().push(s);
    }
    map.into_iter().map(|((_, v, c), list)| ((v, c), list)).collect()
}

fn pods_text(s: &Source<'_>) -> String {
    s.pods.iter().map(|p| format!("{}/{}", p.namespace, p.name)).collect::<Vec<_>>().join(", ")
}

/// The table rendering: matrix per instance, drift, then verdicts grouped by cause.
pub fn table(report: &Report) -> String {
    let mut out = String::new();
    if let Some(h) = &report.headline {
        wrap(&mut out, "", h);
        out.push('\n');
    }
    if !report.instances.is_empty() {
        out.push_str(
            "ENI x SECURITY GROUP MATRIX   x carried   . not carried   ! missing (primary has it)   + extra\n\n",
        );
        for inst in report.instances.iter() {
            matrix_table(&mut out, inst);
            out.push('\n');
        }
    }
    if report.drift.is_empty() {
        out.push_str("DRIFT: none; every eni carries its primary eni's groups\n\n");
    } else {
        let _ = writeln!(out, "DRIFT ({})", report.drift.len());
        for d in report.drift.iter() {
            let eth = d.eth.clone().unwrap_or_default();
            let mut what = Vec::new();
            if !d.missing.is_empty() {
                what.push(format!("lacks {}", d.missing.join(", ")));
            }
            if !d.extra.is_empty() {
                what.push(format!("also has {}", d.extra.join(", ")));
            }
            let tag = if d.by_design { "by design" } else { "drift" };
            wrap(&mut out, "  ", &format!("{} {eth} {} [{tag}: {}]: {}", d.instance, d.eni, d.cause, what.join("; ")));
            wrap(&mut out, "    ", &format!("why: {}", d.explanation));
            if let Some(f) = &d.fix {
                let _ = writeln!(out, "    fix: {f}");
            }
        }
        out.push('\n');
    }
    if let Some(t) = &report.target {
        let s = &report.summary;
        let port = t.port.map(|p| format!("/{p}")).unwrap_or_default();
        let _ = writeln!(
            out,
            "REACHABILITY to {} on {}{port}: {} reachable, {} blocked, {} unknown",
            t.label, t.protocol, s.reachable, s.blocked, s.unknown
        );
        if let Some(p) = &s.pods {
            let _ = writeln!(out, "  pods: {} reachable, {} blocked, {} unknown", p.reachable, p.blocked, p.unknown);
        }
        out.push('\n');
        for ((verdict, cause), list) in grouped(report) {
            wrap(&mut out, "", &format!("{} ({}): {cause}", verdict.to_ascii_uppercase(), list.len()));
            for s in &list {
                let eth = s.eth().map(|e| format!(" {e}")).unwrap_or_default();
                let inst = s.instance().unwrap_or("-");
                let head = format!("  {:<18} {}{eth} {inst}", s.ip, s.eni());
                let pods = pods_text(s);
                let room = WIDTH.saturating_sub(head.chars().count() + 8);
                let pods =
                    if pods.is_empty() || room < 8 { String::new() } else { format!("  pods: {}", clip(&pods, room)) };
                let _ = writeln!(out, "{head}{pods}");
            }
            // One explanation per group is enough to see the chain.
            if verdict != "reachable" {
                // The group's rows are in report order: its first is the first with this cause.
                if let Some(first) = list.first() {
                    for r in first.reasons().iter() {
                        wrap(&mut out, "    ", &format!("{} [{}]: {}", r.layer, r.outcome, r.message));
                    }
                    for m in first.missing().iter() {
                        let _ = writeln!(out, "    export: {m}");
                    }
                }
            }
            out.push('\n');
        }
        if !report.workloads.is_empty() {
            out.push_str("WORKLOADS\n");
            for w in &report.workloads {
                wrap(&mut out, "  ", &w.message);
            }
            out.push('\n');
        }
        if !report.unmapped_pods.is_empty() {
            let _ = writeln!(out, "PODS ON NO EXPORTED ENI ({})", report.unmapped_pods.len());
            for p in &report.unmapped_pods {
                wrap(&mut out, "  ", &format!("{}/{} {}: {}", p.namespace, p.name, p.ip, p.reason));
            }
            out.push('\n');
        }
        if !report.fixes.is_empty() {
            out.push_str("FIXES\n");
            for f in &report.fixes {
                wrap(&mut out, "  ", &format!("- {}", f.title));
                let _ = writeln!(out, "    {}", f.command);
                wrap(&mut out, "    ", &format!("trade-off: {}", f.tradeoff));
            }
            out.push('\n');
        }
        if !report.assumptions.is_empty() {
            out.push_str("ASSUMPTIONS\n");
            for a in &report.assumptions {
                wrap(&mut out, "  ", &format!("- {a}"));
            }
            out.push('\n');
        }
    }
    if !report.diagnostics.is_empty() {
        out.push_str("DIAGNOSTICS\n");
        for d in &report.diagnostics {
            wrap(&mut out, "  ", &format!("{}: {}", d.severity, d.message));
        }
    }
    out
}

/// Escapes text for a Markdown table cell or line: input strings never become markup.
pub fn md_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '!' | '(' | ')' | '{' | '}' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// Markdown for pasting into a ticket.
pub fn markdown(report: &Report) -> String {
    let e = md_escape;
    let mut out = String::from("# podreach report\n\n");
    if let Some(h) = &report.headline {
        let _ = writeln!(out, "**{}**\n", e(h));
    }
    if let Some(t) = &report.target {
        let s = &report.summary;
        let port = t.port.map(|p| format!("/{p}")).unwrap_or_default();
        let _ = writeln!(
            out,
            "Target {} on {}{port}: **{}** reachable, **{}** blocked, **{}** unknown.\n",
            e(&t.label),
            e(&t.protocol),
            s.reachable,
            s.blocked,
            s.unknown
        );
    }
    out.push_str("## Security groups per ENI\n\n");
    for inst in report.instances.iter() {
        let _ = writeln!(out, "### {}\n", e(&inst.label));
        let heads: Vec<String> = inst
            .groups
            .iter()
            .map(|g| match &g.name {
                Some(n) => format!("{} ({})", e(&g.id), e(n)),
                None => e(&g.id),
            })
            .collect();
        let _ = writeln!(out, "| eth | eni | subnet | type | addresses | {} |", heads.join(" | "));
        let _ = writeln!(out, "|---|---|---|---|---|{}", "---|".repeat(inst.groups.len()));
        for r in &inst.enis {
            let cells: Vec<String> = inst
                .groups
                .iter()
                .map(|g| {
                    match cell(&r.groups, &r.missing, &r.extra, &g.id) {
                        'x' => "✓",
                        '!' => "✗ missing",
                        '+' => "＋ extra",
                        _ => "",
                    }
                    .to_owned()
                })
                .collect();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                e(r.eth.as_deref().unwrap_or("-")),
                e(&r.eni),
                e(r.subnet.as_deref().unwrap_or("-")),
                e(&r.interface_type),
                r.addresses + r.prefixes.len() * 16,
                cells.join(" | ")
            );
        }
        out.push('\n');
    }
    if !report.drift.is_empty() {
        out.push_str("## Drift\n\n");
        for d in report.drift.iter() {
            let _ = writeln!(
                out,
                "- **{} {} on {}** ({}): {}",
                e(d.eth.as_deref().unwrap_or("")),
                e(&d.eni),
                e(&d.instance),
                e(&d.cause),
                e(&d.explanation)
            );
            if let Some(f) = &d.fix {
                let _ = writeln!(out, "  ```\n  {f}\n  ```");
            }
        }
        out.push('\n');
    }
    if report.target.is_some() {
        out.push_str(
            "## Sources\n\n| verdict | address | eni | instance | pods | reason |\n|---|---|---|---|---|---|\n",
        );
        for ((_, _), list) in grouped(report) {
            for s in list {
                let reason = s
                    .reasons()
                    .iter()
                    .find(|r| r.outcome == s.verdict)
                    .or_else(|| s.reasons().last())
                    .map(|r| r.message.clone())
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "| {} | {} | {} {} | {} | {} | {} |",
                    e(s.verdict),
                    e(&s.ip.to_string()),
                    e(s.eni()),
                    e(s.eth().unwrap_or("")),
                    e(s.instance().unwrap_or("")),
                    e(&pods_text(&s)),
                    e(&reason)
                );
            }
        }
        out.push('\n');
        if !report.workloads.is_empty() {
            out.push_str("## Workloads\n\n");
            for w in &report.workloads {
                let _ = writeln!(out, "- {}", e(&w.message));
            }
            out.push('\n');
        }
        if !report.fixes.is_empty() {
            out.push_str("## Fixes\n\n");
            for f in &report.fixes {
                let _ = writeln!(
                    out,
                    "- {}: {}\n  ```\n  {}\n  ```",
                    e(&f.title),
                    e(&f.tradeoff),
                    f.command.replace("```", "'''")
                );
            }
            out.push('\n');
        }
        if !report.assumptions.is_empty() {
            out.push_str("## Assumptions\n\n");
            for a in &report.assumptions {
                let _ = writeln!(out, "- {}", e(a));
            }
            out.push('\n');
        }
    }
    if !report.diagnostics.is_empty() {
        out.push_str("## Diagnostics\n\n");
        for d in &report.diagnostics {
            let _ = writeln!(out, "- {}: {}", e(&d.severity), e(&d.message));
        }
    }
    out
}

/// A CSV cell: quoted, and neutralised when a spreadsheet would read it as a formula.
pub fn csv_cell(s: &str) -> String {
    let mut v = s.replace('"', "\"\"");
    if v.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        v.insert(0, '\'');
    }
    format!("\"{v}\"")
}

/// One row per source: address, eni, eth, instance, node, verdict, cause, pods.
pub fn csv(report: &Report) -> String {
    let mut out = String::from("ip,eni,eth,instance,node,verdict,cause,pods\n");
    for s in &report.sources {
        let ip = s.ip.to_string();
        let cells = [
            ip.as_str(),
            s.eni(),
            s.eth().unwrap_or(""),
            s.instance().unwrap_or(""),
            s.node().unwrap_or(""),
            s.verdict,
            s.cause(),
            &pods_text(&s),
        ];
        let row: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_neutralises_formulas() {
        assert_eq!(csv_cell("=cmd()"), "\"'=cmd()\"");
        assert_eq!(csv_cell("a\"b"), "\"a\"\"b\"");
        assert_eq!(csv_cell("10.0.0.1"), "\"10.0.0.1\"");
    }

    #[test]
    fn markdown_escapes_markup() {
        assert_eq!(md_escape("<script>|x"), "\\<script\\>\\|x");
    }
}

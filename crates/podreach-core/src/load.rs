//! Loading: texts in, a validated `Model` plus diagnostics out. Never aborts on one bad item.
//!
//! A text may hold several JSON documents one after another; each is recognised by its top-level
//! key, never by file name. Documents of the same kind are concatenated and deduplicated by id,
//! in an order that does not depend on the order of the inputs.

use crate::aws;
use crate::diag::{line_col, Diagnostic, Location, Severity, Sink};
use crate::hash::{FastMap, FastSet};
use crate::lenient::{meta_keys, Field, List, Obj};
use crate::model::*;
use crate::net::{parse_v4, parse_v6, Cidr4, Cidr6, Ports, Proto};
use crate::par::{Join, Sequential};
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::collections::BTreeMap;
use std::fmt;

mod fast;
mod halves;
mod wire;

/// One text to load: a file's bytes, or what was pasted.
#[derive(Clone, Copy, Debug)]
pub struct Input<'a> {
    /// Shown in messages: a path, `-` for stdin, or `pasted text`.
    pub name: &'a str,
    pub bytes: &'a [u8],
}

/// One recognised JSON document, for the page's chips and the CLI's summary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    pub file: String,
    pub line: usize,
    /// Byte range of the document in its text (after a byte-order mark, if any).
    pub start: usize,
    pub end: usize,
    pub kind: ExportKind,
    pub count: usize,
    pub partial: bool,
}

impl Document {
    /// "48 network interfaces", "12 security groups (partial page: NextToken)".
    pub fn label(&self) -> String {
        let mut s = format!("{} {}", self.count, self.kind.noun());
        if self.partial {
            s.push_str(" (partial page: NextToken)");
        }
        s
    }
}

#[derive(Debug)]
pub struct Loaded {
    pub model: Model,
    /// Sorted: errors first.
    pub diagnostics: Vec<Diagnostic>,
    pub documents: Vec<Document>,
}

impl Loaded {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| d.severity == Severity::Error)
    }
}

/// Loads every input into one model.
pub fn load(inputs: &[Input<'_>]) -> Loaded {
    assemble(inputs.iter().map(parse))
}

/// One input read into raw documents: the part of loading that each input does on its own. The
/// raw items own their strings, so the input's bytes can be dropped as soon as this returns.
pub struct Parsed {
    acc: Acc,
    sink: Sink,
    documents: Vec<Document>,
}

impl fmt::Debug for Parsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Parsed").field("documents", &self.documents).finish_non_exhaustive()
    }
}

impl Parsed {
    /// The documents read so far, in the order they appear in the input.
    pub fn documents(&self) -> &[Document] {
        &self.documents
    }

    /// Converts this input's pods and nodes into the model's form now rather than when the model
    /// is built: the page does it on a second worker while the first parses the ENIs. What
    /// [`assemble`] makes of the input does not change.
    pub fn convert_k8s(&mut self) {
        fn convert<C>(
            pile: &mut Vec<K8s<C>>,
            sink: &mut Sink,
            f: impl Fn(&str, aws::K8sObject, &mut Sink) -> Option<C>,
        ) {
            *pile = std::mem::take(pile).into_iter().map(|b| K8s::Converted(b.converted(sink, &f))).collect();
        }
        convert(&mut self.acc.pods, &mut self.sink, convert_pod);
        convert(&mut self.acc.nodes, &mut self.sink, |_, o, _| convert_node(o));
    }
}

/// Reads one input. Inputs can be parsed in any order, or at the same time on different threads;
/// [`assemble`] makes the result the same as [`load`]'s.
pub fn parse(input: &Input<'_>) -> Parsed {
    read(input, Reading::<Sequential>::Elements).0
}

/// Inputs at least this long are worth parsing in two halves.
const HALVES_FROM: usize = 1 << 20;

/// [`parse`], with a large input's one big array (the ENIs, a pod list) parsed in two halves
/// through `join` (on two threads in the CLI). The result is the same as [`parse`]'s.
pub fn parse_with(input: &Input<'_>, join: &impl Join) -> Parsed {
    read(input, Reading::Halves(join, HALVES_FROM)).0
}

/// For tests: [`parse_with`] for an input of any length, or `None` when the input is not one
/// document whose big array can be parsed in halves.
#[doc(hidden)]
pub fn parse_in_halves(input: &Input<'_>, join: &impl Join) -> Option<Parsed> {
    let (parsed, halved) = read(input, Reading::Halves(join, 0));
    halved.then_some(parsed)
}

/// For tests: [`parse`] with serde's readers only, the reference that the element readers
/// (`load::fast`) and the halves are checked against.
#[doc(hidden)]
pub fn parse_with_serde(input: &Input<'_>) -> Parsed {
    read(input, Reading::<Sequential>::Serde).0
}

/// How a text's one big array may be read.
enum Reading<'j, J> {
    /// By serde, with the rest of the document.
    Serde,
    /// Element by element, each with its own reader where it has one (`load::fast`).
    Elements,
    /// Element by element, in two halves through the join when the text is at least this long.
    Halves(&'j J, usize),
}

/// The input read, and whether it was read in halves.
fn read<J: Join>(input: &Input<'_>, reading: Reading<'_, J>) -> (Parsed, bool) {
    let mut parsed = Parsed { acc: Acc::default(), sink: Sink::default(), documents: Vec::new() };
    let halved = read_text(input, &mut parsed.acc, &mut parsed.sink, &mut parsed.documents, reading);
    (parsed, halved)
}

/// Builds one model from parsed inputs, given in the order of the inputs: identical to loading
/// the inputs in that order with [`load`].
pub fn assemble(parts: impl IntoIterator<Item = Parsed>) -> Loaded {
    assemble_with(parts, &Sequential)
}

/// [`assemble`], running independent parts of the build through `join` (on two threads in the
/// CLI). The result does not depend on how `join` runs them.
pub fn assemble_with(parts: impl IntoIterator<Item = Parsed>, join: &impl Join) -> Loaded {
    let mut acc = Acc::default();
    let mut sink = Sink::default();
    let mut documents = Vec::new();
    for part in parts {
        acc.append(part.acc);
        sink.append(part.sink);
        documents.extend(part.documents);
    }
    let model = build(acc, &mut sink, join);
    Loaded { model, diagnostics: sink.finish(), documents }
}

// ---------------------------------------------------------------------------------------------
// Reading texts into raw documents.

/// One document's items of one kind, with the file they came from. A parsed list is moved here
/// whole: copying a whole-account export's items one by one, each with its file name, cost a tenth
/// of the parse.
struct Batch<T> {
    file: String,
    items: Vec<T>,
}

/// Every batch of one kind, in input order.
type Pile<T> = Vec<Batch<T>>;

/// One document's pods or nodes: as read, or converted already by [`Parsed::convert_k8s`] (on
/// the page's second worker, which hands them over in [`Parsed::to_wire`]'s form).
enum K8s<C> {
    Raw(Batch<aws::K8sObject>),
    Converted(Batch<C>),
}

impl<C> K8s<C> {
    /// The batch converted: read ones with `convert`, converted ones as they are.
    fn converted(self, sink: &mut Sink, convert: impl Fn(&str, aws::K8sObject, &mut Sink) -> Option<C>) -> Batch<C> {
        match self {
            K8s::Raw(Batch { file, items }) => {
                let items = items.into_iter().filter_map(|o| convert(&file, o, sink)).collect();
                Batch { file, items }
            }
            K8s::Converted(b) => b,
        }
    }
}

/// Raw items gathered from every document, each batch with the file it came from.
#[derive(Default)]
struct Acc {
    enis: Pile<aws::NetworkInterface>,
    sgs: Pile<aws::SecurityGroup>,
    sg_rules: Pile<aws::SecurityGroupRule>,
    nacls: Pile<aws::NetworkAcl>,
    subnets: Pile<aws::Subnet>,
    prefix_lists: Pile<aws::PrefixList>,
    labelled_entries: Vec<(String, Vec<aws::PrefixListEntry>)>,
    unlabelled_entries: usize,
    instances: Pile<aws::Instance>,
    pods: Vec<K8s<Pod>>,
    nodes: Vec<K8s<Node>>,
    coverage: Coverage,
}

impl Acc {
    /// Adds what a later input gathered, as if it had been read after this one.
    fn append(&mut self, later: Acc) {
        concat(&mut self.enis, later.enis);
        concat(&mut self.sgs, later.sgs);
        concat(&mut self.sg_rules, later.sg_rules);
        concat(&mut self.nacls, later.nacls);
        concat(&mut self.subnets, later.subnets);
        concat(&mut self.prefix_lists, later.prefix_lists);
        concat(&mut self.labelled_entries, later.labelled_entries);
        self.unlabelled_entries += later.unlabelled_entries;
        concat(&mut self.instances, later.instances);
        concat(&mut self.pods, later.pods);
        concat(&mut self.nodes, later.nodes);
        self.coverage.have.extend(later.coverage.have);
        self.coverage.partial.extend(later.coverage.partial);
    }
}

/// `a` then `b`, without copying `b` when `a` is empty (the usual case: one file per kind).
fn concat<T>(a: &mut Vec<T>, b: Vec<T>) {
    if a.is_empty() {
        *a = b;
    } else {
        a.extend(b);
    }
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

#[cfg_attr(target_arch = "wasm32", inline(never))]
fn read_text<J: Join>(
    input: &Input<'_>,
    acc: &mut Acc,
    sink: &mut Sink,
    docs: &mut Vec<Document>,
    reading: Reading<'_, J>,
) -> bool {
    let name = input.name;
    let bytes = input.bytes.strip_prefix(BOM).unwrap_or(input.bytes);
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let good = bytes.get(..e.valid_up_to()).and_then(|b| std::str::from_utf8(b).ok()).unwrap_or("");
            let (line, column) = line_col(good, good.len());
            let bad = bytes.get(e.valid_up_to()).copied().unwrap_or(0);
            sink.push_at(
                Severity::Error,
                "not-utf8",
                name,
                format!(
                    "invalid utf-8 byte 0x{bad:02x}; save the export as utf-8 (the aws cli and kubectl print utf-8)"
                ),
                Some(Location { file: name.to_owned(), line, column }),
            );
            return false;
        }
    };
    if text.trim().is_empty() {
        sink.push_at(
            Severity::Error,
            "empty-input",
            name,
            "the input is empty; paste the output of an `aws ec2 describe-…` or `kubectl get … -o json` command"
                .to_owned(),
            Some(Location { file: name.to_owned(), line: 1, column: 1 }),
        );
        return false;
    }
    let mut offset = 0usize;
    let mut lines = Lines::new(text);
    let split = match reading {
        Reading::Serde => None,
        Reading::Elements => Some(None),
        Reading::Halves(join, from) => Some((text.len() >= from).then_some(join)),
    };
    if let Some(join) = split {
        if let Some((top, span)) = halves::parse(text, join) {
            let (line, column) = lines.at(span.0);
            accept(top, &Location { file: name.to_owned(), line, column }, span, acc, sink, docs);
            return join.is_some();
        }
    }
    while offset < text.len() {
        let start = first_non_ws(text, offset);
        if start > offset {
            offset = start;
            continue;
        }
        let rest = text.get(offset..).unwrap_or("");
        let Some(first) = rest.chars().next() else { break };
        if first != '{' && first != '[' {
            if let Some(hint) = sniff_format(rest) {
                let (line, column) = lines.at(start);
                sink.push_at(
                    Severity::Error,
                    "not-json",
                    name,
                    hint.to_owned(),
                    Some(Location { file: name.to_owned(), line, column }),
                );
                return false;
            }
            // Shell noise between documents (a prompt, a command line): skip to the next line that
            // opens a JSON object, if there is one.
            if let Some(next) = next_object_line(text, start) {
                let (line, column) = lines.at(start);
                sink.push_at(
                    Severity::Warning,
                    "skipped-text",
                    name,
                    "skipped text that is not json (a shell prompt or command?)".to_owned(),
                    Some(Location { file: name.to_owned(), line, column }),
                );
                offset = next;
                continue;
            }
        }
        let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<TopLevel>();
        let mut stop = true;
        loop {
            let doc_start = offset + stream.byte_offset();
            match stream.next() {
                None => break,
                Some(Ok(top)) => {
                    let first = first_non_ws(text, doc_start);
                    let (line, column) = lines.at(first);
                    let loc = Location { file: name.to_owned(), line, column };
                    let span = (first, offset + stream.byte_offset());
                    accept(top, &loc, span, acc, sink, docs);
                }
                Some(Err(e)) => {
                    let err_at = offset + offset_of(rest, e.line(), e.column());
                    let doc_first = first_non_ws(text, doc_start);
                    // A byte-order mark between documents: go on after it.
                    if doc_first > doc_start
                        && err_at <= doc_first + 1
                        && text.get(doc_start..doc_first).is_some_and(|s| s.contains('\u{feff}'))
                    {
                        offset = doc_first;
                        stop = false;
                        break;
                    }
                    // Text that is not JSON where a new document would begin: shell noise.
                    if err_at <= doc_first + 1 && doc_first > 0 {
                        if let Some(next) = next_object_line(text, doc_first) {
                            let (line, column) = lines.at(doc_first);
                            sink.push_at(
                                Severity::Warning,
                                "skipped-text",
                                name,
                                "skipped text that is not json (a shell prompt or command?)".to_owned(),
                                Some(Location { file: name.to_owned(), line, column }),
                            );
                            offset = next;
                            stop = false;
                            break;
                        }
                    }
                    let (line, column) = lines.at(err_at.min(text.len()));
                    sink.push_at(
                        Severity::Error,
                        "invalid-json",
                        name,
                        json_error_message(&e),
                        Some(Location { file: name.to_owned(), line, column }),
                    );
                    break;
                }
            }
        }
        if stop {
            break;
        }
    }
    false
}

/// Skips white space and byte-order marks (a `cat` of files saved by Windows editors has them
/// between documents).
fn first_non_ws(text: &str, from: usize) -> usize {
    let rest = text.get(from..).unwrap_or("");
    from + (rest.len() - rest.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}').len())
}

/// Line and column look-ups that move forward through a text: each look-up counts the newlines
/// since the previous one, so the documents of a text cost one pass in all (and a text with one
/// document, none). A look-up behind the cursor starts again from the beginning.
struct Lines<'t> {
    text: &'t str,
    /// Byte offset, 1-based line and the offset where that line starts, of the last look-up.
    at: usize,
    line: usize,
    line_start: usize,
}

impl<'t> Lines<'t> {
    fn new(text: &'t str) -> Lines<'t> {
        Lines { text, at: 0, line: 1, line_start: 0 }
    }

    fn at(&mut self, offset: usize) -> (usize, usize) {
        let bytes = self.text.as_bytes();
        let offset = offset.min(bytes.len());
        if offset < self.at {
            (self.at, self.line, self.line_start) = (0, 1, 0);
        }
        let span = bytes.get(self.at..offset).unwrap_or(&[]);
        self.line += span.iter().filter(|&&b| b == b'\n').count();
        if let Some(i) = span.iter().rposition(|&b| b == b'\n') {
            self.line_start = self.at + i + 1;
        }
        self.at = offset;
        let column = self.text.get(self.line_start..offset).map_or(1, |s| s.chars().count() + 1);
        (self.line, column)
    }
}

/// The byte offset of a 1-based line and column (serde_json counts columns in bytes).
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let mut off = 0usize;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            return off + column.saturating_sub(1).min(l.len());
        }
        off += l.len();
    }
    text.len()
}

/// The offset of the next line after `from` that starts with `{`.
fn next_object_line(text: &str, from: usize) -> Option<usize> {
    let rest = text.get(from..)?;
    let mut off = from;
    for l in rest.split_inclusive('\n') {
        if off > from && l.starts_with('{') {
            return Some(off);
        }
        off += l.len();
    }
    None
}

/// Recognises what people paste instead of JSON, and says how to get JSON.
#[cfg_attr(target_arch = "wasm32", inline(never))]
fn sniff_format(text: &str) -> Option<&'static str> {
    let head: String = text.chars().take(2000).collect();
    let lower = head.to_ascii_lowercase();
    let first_line = head.lines().next().unwrap_or("").trim_end();
    if lower.starts_with("<!doctype")
        || lower.starts_with("<html")
        || lower.starts_with("<?xml")
        || lower.starts_with('<')
    {
        return Some("this is an html or xml page (a proxy or sign-in error?), not command output; save what the command printed");
    }
    if first_line.starts_with("---") && head.lines().nth(1).is_some_and(|l| l.trim_start().starts_with('|'))
        || first_line.starts_with('+') && first_line.contains('-')
        || first_line.starts_with('|')
    {
        return Some("this looks like `aws --output table` output; re-run the command with `--output json`");
    }
    let yaml_keys = [
        "NetworkInterfaces:",
        "SecurityGroups:",
        "SecurityGroupRules:",
        "NetworkAcls:",
        "Subnets:",
        "PrefixLists:",
        "Entries:",
        "Reservations:",
        "apiVersion:",
        "kind:",
        "items:",
    ];
    if first_line == "---" || yaml_keys.iter().any(|k| first_line.starts_with(k)) || first_line.starts_with("- ") {
        return Some("this looks like yaml (`aws --output yaml` or `kubectl -o yaml`); re-run the command with `--output json` (or `-o json`)");
    }
    let text_prefixes = [
        "NETWORKINTERFACES",
        "SECURITYGROUPS",
        "SECURITYGROUPRULES",
        "NETWORKACLS",
        "SUBNETS",
        "PREFIXLISTS",
        "ENTRIES",
        "RESERVATIONS",
        "GROUPS",
        "IPPERMISSIONS",
        "PRIVATEIPADDRESSES",
    ];
    if text_prefixes.iter().any(|p| first_line.starts_with(p)) || first_line.contains('\t') {
        return Some("this looks like `aws --output text` output; re-run the command with `--output json`");
    }
    if lower.starts_with("name ") && lower.contains("ready") || lower.starts_with("namespace ") {
        return Some("this looks like kubectl's table output; re-run it with `-o json`");
    }
    None
}

#[cfg_attr(target_arch = "wasm32", inline(never))]
fn json_error_message(e: &serde_json::Error) -> String {
    let raw = e.to_string();
    let what = raw.split(" at line ").next().unwrap_or(&raw).to_owned();
    match e.classify() {
        serde_json::error::Category::Eof => {
            "the json ends early (truncated copy or a partial file?); export it again and paste all of it".to_owned()
        }
        _ if what.contains("trailing comma") => {
            "not valid json: trailing comma; remove it, or export again with `--output json`".to_owned()
        }
        _ if what.contains("recursion limit") => "not valid aws cli output: nesting deeper than 128 levels".to_owned(),
        _ if what.contains("trailing characters") => {
            "not valid json: unexpected text after a document; check the paste".to_owned()
        }
        _ => format!("not valid json: {what}; export again with `--output json`"),
    }
}

/// A top-level JSON document: whichever supported keys it has, and what else it looks like.
#[derive(Default)]
struct TopLevel {
    enis: Option<List<aws::NetworkInterface>>,
    sgs: Option<List<aws::SecurityGroup>>,
    sg_rules: Option<List<aws::SecurityGroupRule>>,
    nacls: Option<List<aws::NetworkAcl>>,
    subnets: Option<List<aws::Subnet>>,
    prefix_lists: Option<List<aws::PrefixList>>,
    entries: Option<List<aws::PrefixListEntry>>,
    entries_label: Option<String>,
    reservations: Option<List<aws::Reservation>>,
    kind: Option<String>,
    items: Option<List<aws::K8sObject>>,
    metadata: Option<aws::ObjectMeta>,
    spec: Option<aws::K8sSpec>,
    status: Option<aws::K8sStatus>,
    next_token: bool,
    response_metadata: bool,
    other_keys: Vec<String>,
    /// `None` for an object; otherwise what the document was instead.
    not_object: Option<&'static str>,
}

/// The value after a key of a top-level document. In WebAssembly a call of its own for each type:
/// inlined, every list's reader made `visit_map` one large function that V8 took 30-60 ms to
/// optimise while a cold run waits for its files (BENCHMARKS.md item 57).
#[cfg_attr(target_arch = "wasm32", inline(never))]
fn value<'de, T: Deserialize<'de>, A: MapAccess<'de>>(map: &mut A) -> Result<T, A::Error> {
    map.next_value()
}

struct TopVisitor;

impl<'de> Visitor<'de> for TopVisitor {
    type Value = TopLevel;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a json object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TopLevel, A::Error> {
        let mut t = TopLevel::default();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "NetworkInterfaces" => t.enis = Some(value(&mut map)?),
                "SecurityGroups" => t.sgs = Some(value(&mut map)?),
                "SecurityGroupRules" => t.sg_rules = Some(value(&mut map)?),
                "NetworkAcls" => t.nacls = Some(value(&mut map)?),
                "Subnets" => t.subnets = Some(value(&mut map)?),
                "PrefixLists" => t.prefix_lists = Some(value(&mut map)?),
                "Entries" => t.entries = Some(value(&mut map)?),
                "PrefixListId" => t.entries_label = value::<Field<String>, _>(&mut map)?.into_option(),
                "Reservations" => t.reservations = Some(value(&mut map)?),
                "kind" => t.kind = value::<Field<String>, _>(&mut map)?.into_option(),
                "items" => t.items = Some(value(&mut map)?),
                "metadata" => t.metadata = value::<Obj<aws::ObjectMeta>, _>(&mut map)?.0,
                "spec" => t.spec = value::<Obj<aws::K8sSpec>, _>(&mut map)?.0,
                "status" => t.status = value::<Obj<aws::K8sStatus>, _>(&mut map)?.0,
                "NextToken" | "nextToken" => {
                    let v = value::<Field<String>, _>(&mut map)?;
                    t.next_token = v.as_str().is_some_and(|s| !s.is_empty());
                }
                "ResponseMetadata" => {
                    value::<IgnoredAny, _>(&mut map)?;
                    t.response_metadata = true;
                }
                other => {
                    if t.other_keys.len() < 5 {
                        t.other_keys.push(other.to_owned());
                    }
                    value::<IgnoredAny, _>(&mut map)?;
                }
            }
        }
        Ok(t)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<TopLevel, A::Error> {
        // Walked with a depth-limited visitor, so absurd nesting is reported as such.
        while seq.next_element::<Shallow>()?.is_some() {}
        Ok(TopLevel { not_object: Some("array"), ..TopLevel::default() })
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<TopLevel, E> {
        Ok(TopLevel { not_object: Some("string"), ..TopLevel::default() })
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<TopLevel, E> {
        Ok(TopLevel { not_object: Some("boolean"), ..TopLevel::default() })
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<TopLevel, E> {
        Ok(TopLevel { not_object: Some("number"), ..TopLevel::default() })
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<TopLevel, E> {
        Ok(TopLevel { not_object: Some("number"), ..TopLevel::default() })
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<TopLevel, E> {
        Ok(TopLevel { not_object: Some("number"), ..TopLevel::default() })
    }
    fn visit_unit<E: de::Error>(self) -> Result<TopLevel, E> {
        Ok(TopLevel { not_object: Some("null"), ..TopLevel::default() })
    }
}

/// Any JSON value, walked through `deserialize_any` so that serde_json's nesting limit applies.
struct Shallow;

impl<'de> Deserialize<'de> for Shallow {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Shallow;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any json value")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Shallow, A::Error> {
                while seq.next_element::<Shallow>()?.is_some() {}
                Ok(Shallow)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Shallow, A::Error> {
                while map.next_entry::<IgnoredAny, Shallow>()?.is_some() {}
                Ok(Shallow)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Shallow, E> {
                Ok(Shallow)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Shallow, E> {
                Ok(Shallow)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Shallow, E> {
                Ok(Shallow)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Shallow, E> {
                Ok(Shallow)
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Shallow, E> {
                Ok(Shallow)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Shallow, E> {
                Ok(Shallow)
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for TopLevel {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TopVisitor)
    }
}

#[cfg_attr(target_arch = "wasm32", inline(never))]
fn accept(
    t: TopLevel,
    loc: &Location,
    (start, end): (usize, usize),
    acc: &mut Acc,
    sink: &mut Sink,
    docs: &mut Vec<Document>,
) {
    let file = &loc.file;
    if let Some(what) = t.not_object {
        let msg = if what == "array" {
            "a bare json array: this looks like `--query` output; run the command without `--query`"
        } else {
            "a bare json value, not an aws cli or kubectl document; paste the command's whole output"
        };
        sink.push_at(Severity::Error, "unsupported-document", file, msg.to_owned(), Some(loc.clone()));
        return;
    }
    let mut recognised = false;
    let partial = t.next_token;
    let mut doc = |kind: ExportKind, count: usize, acc: &mut Acc| {
        acc.coverage.have.insert(kind);
        if partial {
            acc.coverage.partial.insert(kind);
        }
        docs.push(Document { file: file.clone(), line: loc.line, start, end, kind, count, partial });
    };
    let mut dropped = 0usize;
    // Each list goes to its own pile; disjoint fields of `acc`, so all can be taken at once.
    let taken = [
        t.enis.map(|l| (ExportKind::NetworkInterfaces, take(l, file, &mut acc.enis))),
        t.sgs.map(|l| (ExportKind::SecurityGroups, take(l, file, &mut acc.sgs))),
        t.sg_rules.map(|l| (ExportKind::SecurityGroupRules, take(l, file, &mut acc.sg_rules))),
        t.nacls.map(|l| (ExportKind::NetworkAcls, take(l, file, &mut acc.nacls))),
        t.subnets.map(|l| (ExportKind::Subnets, take(l, file, &mut acc.subnets))),
        t.prefix_lists.map(|l| (ExportKind::ManagedPrefixLists, take(l, file, &mut acc.prefix_lists))),
    ];
    for (kind, (count, odd)) in taken.into_iter().flatten() {
        recognised = true;
        dropped += odd;
        doc(kind, count, acc);
    }
    if let Some(list) = t.entries {
        recognised = true;
        dropped += list.dropped;
        doc(ExportKind::PrefixListEntries, list.items.len(), acc);
        match t.entries_label {
            Some(label) => acc.labelled_entries.push((label, list.items)),
            None => {
                acc.unlabelled_entries += 1;
                sink.push_at(
                    Severity::Warning,
                    "unlabelled-prefix-list-entries",
                    file,
                    "`get-managed-prefix-list-entries` output does not say which prefix list it belongs to, so it is not used; \
                     re-run it with `--query '{PrefixListId: `pl-…`, Entries: Entries}'`"
                        .to_owned(),
                    Some(loc.clone()),
                );
            }
        }
    }
    if let Some(list) = t.reservations {
        recognised = true;
        dropped += list.dropped;
        let instances = instances_of(list.items);
        doc(ExportKind::Instances, instances.len(), acc);
        acc.instances.push(Batch { file: file.clone(), items: instances });
    }
    let kind = t.kind.as_deref().unwrap_or("");
    if let Some(list) = t.items {
        if matches!(kind, "List" | "PodList" | "NodeList") {
            dropped += list.dropped;
            let kind_of = |item: &aws::K8sObject| item_kind(item, kind);
            let (mut pods, mut nodes, mut other) = (Vec::new(), Vec::new(), 0usize);
            // A list of one kind (`kubectl get pods`) moves whole.
            match one_kind(&list.items, kind) {
                Some("Pod") => pods = list.items,
                Some("Node") => nodes = list.items,
                _ => {
                    for item in list.items {
                        match kind_of(&item) {
                            "Pod" => pods.push(item),
                            "Node" => nodes.push(item),
                            _ => other += 1,
                        }
                    }
                }
            }
            if !pods.is_empty() || kind == "PodList" {
                recognised = true;
                doc(ExportKind::Pods, pods.len(), acc);
                acc.pods.push(K8s::Raw(Batch { file: file.clone(), items: pods }));
            }
            if !nodes.is_empty() || kind == "NodeList" {
                recognised = true;
                doc(ExportKind::Nodes, nodes.len(), acc);
                acc.nodes.push(K8s::Raw(Batch { file: file.clone(), items: nodes }));
            }
            if kind == "List" && !recognised && other == 0 {
                recognised = true;
                sink.push_at(
                    Severity::Warning,
                    "empty-list",
                    file,
                    "an empty kubectl list (no pods or nodes matched); check the namespace (`-A`) and the context"
                        .to_owned(),
                    Some(loc.clone()),
                );
            }
            if other > 0 {
                sink.push_at(
                    Severity::Info,
                    "ignored-kubernetes-objects",
                    file,
                    format!("{other} kubernetes objects that are neither pods nor nodes were ignored"),
                    Some(loc.clone()),
                );
            }
        }
    }
    if matches!(kind, "Pod" | "Node") {
        let obj = aws::K8sObject {
            kind: Field::Value(kind.to_owned()),
            metadata: t.metadata.map(|m| Obj(Some(m))),
            spec: t.spec.map(|m| Obj(Some(m))),
            status: t.status.map(|m| Obj(Some(m))),
        };
        recognised = true;
        if kind == "Pod" {
            doc(ExportKind::Pods, 1, acc);
            acc.pods.push(K8s::Raw(Batch { file: file.clone(), items: vec![obj] }));
        } else {
            doc(ExportKind::Nodes, 1, acc);
            acc.nodes.push(K8s::Raw(Batch { file: file.clone(), items: vec![obj] }));
        }
    }
    if dropped > 0 {
        sink.push_at(
            Severity::Warning,
            "dropped-items",
            file,
            format!("{dropped} list elements were not objects and were skipped"),
            Some(loc.clone()),
        );
    }
    if !recognised {
        sink.push_at(
            Severity::Error,
            "unsupported-document",
            file,
            describe_unknown(&t.other_keys, kind),
            Some(loc.clone()),
        );
        return;
    }
    if t.next_token {
        sink.push_at(
            Severity::Warning,
            "partial-page",
            file,
            "this page ends with a `NextToken`, so the export is incomplete; re-run without `--max-items` or `--no-paginate`"
                .to_owned(),
            Some(loc.clone()),
        );
    }
    if t.response_metadata {
        sink.push_at(
            Severity::Info,
            "sdk-output",
            file,
            "`ResponseMetadata` means this came from an sdk, not the aws cli; it is read the same way".to_owned(),
            Some(loc.clone()),
        );
    }
}

/// The instances of `describe-instances`' reservations, in order. A function of its own for the
/// reason [`one_kind`] is: it walks every instance.
#[cfg_attr(target_arch = "wasm32", inline(never))]
fn instances_of(reservations: Vec<aws::Reservation>) -> Vec<aws::Instance> {
    reservations.into_iter().flat_map(|r| r.instances.items).collect()
}

/// The kind ([`item_kind`]) every item of a kubectl list of kind `list_kind` has, if they share
/// one. The walk over every pod is a function of its own so that it does not get all of
/// [`accept`] optimised mid-run (crate docs; BENCHMARKS.md items 50 and 55).
#[cfg_attr(target_arch = "wasm32", inline(never))]
fn one_kind(items: &[aws::K8sObject], list_kind: &str) -> Option<&'static str> {
    let first = item_kind(items.first()?, list_kind);
    items.iter().all(|i| item_kind(i, list_kind) == first).then_some(first)
}

/// "Pod", "Node" or "" (another kind) for an item of a kubectl list of kind `list_kind`.
fn item_kind(item: &aws::K8sObject, list_kind: &str) -> &'static str {
    match item.kind.as_str() {
        Some("Pod") => "Pod",
        Some("Node") => "Node",
        Some(_) => "",
        None => match list_kind {
            "PodList" => "Pod",
            "NodeList" => "Node",
            _ => "",
        },
    }
}

/// Moves a list onto a pile, with its file; returns (items, elements dropped).
fn take<T>(list: List<T>, file: &str, pile: &mut Pile<T>) -> (usize, usize) {
    let count = list.items.len();
    pile.push(Batch { file: file.to_owned(), items: list.items });
    (count, list.dropped)
}

#[cfg_attr(target_arch = "wasm32", inline(never))]
fn describe_unknown(keys: &[String], kind: &str) -> String {
    if !kind.is_empty() {
        return format!(
            "a kubernetes `{kind}` is not used; give `kubectl get pods -A -o json` and `kubectl get nodes -o json`"
        );
    }
    if keys.is_empty() {
        return "an empty json object is not an export; paste the command's whole output".to_owned();
    }
    let shown = keys.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ");
    let camel = keys.iter().any(|k| {
        matches!(
            k.as_str(),
            "networkInterfaces" | "securityGroups" | "configurationItems" | "resourceType" | "configuration"
        )
    });
    if camel {
        return format!(
            "keys {shown} are lowerCamelCase (aws config or another tool), not aws cli output; export with the aws cli"
        );
    }
    format!(
        "json with keys {shown} is not a supported export; give the output of `aws ec2 describe-network-interfaces`, `describe-security-groups` (and the others under how to export) or `kubectl get pods -A -o json`"
    )
}

// ---------------------------------------------------------------------------------------------
// Building the model.

fn tags(list: List<aws::Tag>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = list
        .items
        .into_iter()
        .filter_map(|t| Some((t.key.into_option()?, t.value.into_option().unwrap_or_default())))
        .collect();
    out.sort();
    out.dedup_by(|a, b| a.0 == b.0);
    out
}

fn name_tag(tags: &[(String, String)]) -> Option<String> {
    tags.iter().find(|(k, _)| k == "Name").map(|(_, v)| v.clone()).filter(|v| !v.is_empty())
}

fn opt_string(f: Field<String>) -> Option<String> {
    f.into_option().filter(|s| !s.is_empty())
}

/// Records coerced or wrong-typed fields of one item as a folded diagnostic.
fn note_field<T>(sink: &mut Sink, file: &str, item: &str, field: &str, f: &Field<T>) {
    match f {
        Field::Coerced(_) => sink.push(
            Severity::Warning,
            "coerced-field",
            &format!("{file}:{field}"),
            format!("{file}: {item}: `{field}` had the wrong json type (a string for a number or the reverse) and was converted"),
        ),
        Field::Wrong(kind) => sink.push(
            Severity::Warning,
            "wrong-field-type",
            &format!("{file}:{field}"),
            format!("{file}: {item}: `{field}` is {kind} and was ignored"),
        ),
        Field::Absent | Field::Value(_) => {}
    }
}

#[cfg_attr(target_arch = "wasm32", inline(never))]
fn convert_eni(file: &str, raw: aws::NetworkInterface, sink: &mut Sink, instance_hint: Option<&str>) -> Option<Eni> {
    let Some(id) = opt_string(raw.network_interface_id) else {
        sink.push(
            Severity::Warning,
            "missing-id",
            &format!("{file}:eni"),
            format!("{file}: a network interface without `NetworkInterfaceId` was skipped"),
        );
        return None;
    };
    let mut groups = Vec::with_capacity(raw.groups.items.len());
    for g in raw.groups.items {
        match opt_string(g.group_id) {
            Some(gid) => {
                if !groups.iter().any(|x: &GroupRef| x.id == gid) {
                    groups.push(GroupRef { id: gid, name: opt_string(g.group_name) });
                }
            }
            None => sink.push(
                Severity::Warning,
                "missing-id",
                &format!("{file}:eni-group"),
                format!("{file}: {id}: a group without `GroupId` was skipped"),
            ),
        }
    }
    // Sized once: an ENI has about ten addresses, and growing the list by pushes reallocates it.
    let mut private_ips = Vec::with_capacity(raw.private_ip_addresses.items.len() + 1);
    let mut primary_ip = None;
    let bad_ip = |sink: &mut Sink, s: &str| {
        sink.push(
            Severity::Warning,
            "bad-address",
            &format!("{file}:address"),
            format!("{file}: {id}: `{s}` is not an ipv4 address and was skipped"),
        );
    };
    for p in raw.private_ip_addresses.items {
        let Some(read) = p.private_ip_address.v4_or_text() else { continue };
        match read {
            Ok(ip) => {
                if p.primary.get() == Some(&true) {
                    primary_ip = Some(ip);
                }
                if !private_ips.contains(&ip) {
                    private_ips.push(ip);
                }
            }
            Err(s) => bad_ip(sink, s),
        }
    }
    if let Some(read) = raw.private_ip_address.v4_or_text() {
        match read {
            Ok(ip) => {
                if primary_ip.is_none() {
                    primary_ip = Some(ip);
                }
                if !private_ips.contains(&ip) {
                    private_ips.insert(0, ip);
                }
            }
            Err(s) => bad_ip(sink, s),
        }
    }
    // Primary first, then the rest in numeric order.
    private_ips.sort_unstable_by_key(|ip| (Some(*ip) != primary_ip, u32::from(*ip)));
    let mut prefixes = Vec::new();
    for p in raw.ipv4_prefixes.items {
        let Some(s) = p.ipv4_prefix.as_str() else { continue };
        match Cidr4::parse(s) {
            Some(c) => prefixes.push(c),
            None => bad_ip(sink, s),
        }
    }
    prefixes.sort();
    prefixes.dedup();
    let mut ipv6: Vec<_> =
        raw.ipv6_addresses.items.iter().filter_map(|a| a.ipv6_address.as_str().and_then(parse_v6)).collect();
    ipv6.sort();
    ipv6.dedup();
    let mut ipv6_prefixes: Vec<_> =
        raw.ipv6_prefixes.items.iter().filter_map(|a| a.ipv6_prefix.as_str().and_then(Cidr6::parse)).collect();
    ipv6_prefixes.sort();
    ipv6_prefixes.dedup();
    let attachment = raw.attachment.and_then(|a| a.0).map(|a| {
        note_field(sink, file, &id, "Attachment.DeviceIndex", &a.device_index);
        Attachment {
            instance: opt_string(a.instance_id).or_else(|| instance_hint.map(str::to_owned)),
            device_index: a.device_index.get().and_then(|d| u32::try_from(*d).ok()),
            network_card: a.network_card_index.get().and_then(|d| u32::try_from(*d).ok()).unwrap_or(0),
            owner: opt_string(a.instance_owner_id),
        }
    });
    note_field(sink, file, &id, "RequesterManaged", &raw.requester_managed);
    let interface_type = opt_string(raw.interface_type).unwrap_or_else(|| "interface".to_owned());
    Some(Eni {
        vpc: opt_string(raw.vpc_id),
        subnet: opt_string(raw.subnet_id),
        az: opt_string(raw.availability_zone),
        description: raw.description.into_option().unwrap_or_default(),
        interface_type,
        groups,
        private_ips,
        primary_ip,
        prefixes,
        ipv6,
        ipv6_prefixes,
        attachment,
        requester_id: opt_string(raw.requester_id),
        requester_managed: raw.requester_managed.get().copied().unwrap_or(false),
        tags: tags(raw.tag_set),
        public_ip: raw.association.and_then(|a| a.0).and_then(|a| a.public_ip.v4()),
        role: Role::Other,
        instance: None,
        id,
    })
}

fn classify(e: &Eni) -> Role {
    let t = e.interface_type.as_str();
    let d = e.description.as_str();
    let requester = e.requester_id.as_deref().unwrap_or("");
    match t {
        "branch" => return Role::Branch,
        "trunk" => return Role::Trunk,
        "nat_gateway" | "natGateway" => return Role::NatGateway,
        "vpc_endpoint" => return Role::VpcEndpoint,
        "network_load_balancer" | "gateway_load_balancer" | "load_balancer" => return Role::LoadBalancer,
        "lambda" => return Role::Lambda,
        _ => {}
    }
    if let Some(a) = &e.attachment {
        if a.instance.is_some() && a.owner.as_deref() != Some("amazon-rds") {
            return match a.device_index {
                Some(0) if a.network_card == 0 => Role::InstancePrimary,
                _ if d.starts_with("aws-K8S-") || e.tag(EniTag::InstanceId).is_some() => Role::CniSecondary,
                _ => Role::OtherSecondary,
            };
        }
    }
    if d == "RDSNetworkInterface" || requester == "amazon-rds" {
        Role::Rds
    } else if d.starts_with("ELB ") || requester == "amazon-elb" {
        Role::LoadBalancer
    } else if d.starts_with("Amazon EKS ") {
        Role::EksControlPlane
    } else if d.starts_with("VPC Endpoint Interface") {
        Role::VpcEndpoint
    } else if d.starts_with("Interface for NAT Gateway") {
        Role::NatGateway
    } else if d.starts_with("AWS Lambda VPC ENI") {
        Role::Lambda
    } else if d.starts_with("EFS mount target") {
        Role::Efs
    } else {
        Role::Other
    }
}

fn convert_rule_common(
    proto_s: &Field<String>,
    from: &Field<i64>,
    to: &Field<i64>,
    sink: &mut Sink,
    file: &str,
    gid: &str,
) -> Option<(Proto, RulePorts)> {
    let Some(p) = proto_s.as_str() else {
        sink.push(
            Severity::Warning,
            "bad-rule",
            &format!("{file}:proto"),
            format!("{file}: {gid}: a rule without `IpProtocol` was skipped"),
        );
        return None;
    };
    let Some(proto) = Proto::parse(p) else {
        sink.push(
            Severity::Warning,
            "bad-rule",
            &format!("{file}:proto"),
            format!("{file}: {gid}: protocol `{p}` is not a name or number; the rule was skipped"),
        );
        return None;
    };
    note_field(sink, file, gid, "FromPort", from);
    note_field(sink, file, gid, "ToPort", to);
    Some((proto, rule_ports(proto, from.get().copied(), to.get().copied())))
}

fn peer_of_pair(pair: aws::UserIdGroupPair) -> Option<(Peer, Option<String>)> {
    let id = opt_string(pair.group_id)?;
    Some((
        Peer::Group(GroupPeer {
            id,
            user_id: opt_string(pair.user_id),
            vpc: opt_string(pair.vpc_id),
            peering: opt_string(pair.vpc_peering_connection_id),
            peering_status: opt_string(pair.peering_status),
        }),
        opt_string(pair.description),
    ))
}

#[cfg_attr(target_arch = "wasm32", inline(never))]
fn convert_permissions(file: &str, gid: &str, perms: List<aws::IpPermission>, sink: &mut Sink) -> Vec<Rule> {
    let mut out = Vec::new();
    for p in perms.items {
        let Some((proto, ports)) = convert_rule_common(&p.ip_protocol, &p.from_port, &p.to_port, sink, file, gid)
        else {
            continue;
        };
        let mut push = |peer: Peer, description: Option<String>| {
            out.push(Rule { id: None, proto, ports, peer, description });
        };
        for r in p.ip_ranges.items {
            let Some(s) = r.cidr_ip.as_str() else { continue };
            match Cidr4::parse(s) {
                Some(c) => push(Peer::Cidr4(c), opt_string(r.description)),
                None => sink.push(
                    Severity::Warning,
                    "bad-rule",
                    &format!("{file}:cidr"),
                    format!("{file}: {gid}: `{s}` is not an ipv4 cidr; that rule source was skipped"),
                ),
            }
        }
        for r in p.ipv6_ranges.items {
            if let Some(c) = r.cidr_ipv6.as_str().and_then(Cidr6::parse) {
                push(Peer::Cidr6(c), opt_string(r.description));
            }
        }
        for r in p.prefix_list_ids.items {
            if let Some(id) = opt_string(r.prefix_list_id) {
                push(Peer::PrefixList(id), opt_string(r.description));
            }
        }
        for pair in p.user_id_group_pairs.items {
            if let Some((peer, d)) = peer_of_pair(pair) {
                push(peer, d);
            }
        }
    }
    out
}

#[cfg_attr(target_arch = "wasm32", inline(never))]
fn convert_sg_rule(file: &str, r: aws::SecurityGroupRule, sink: &mut Sink) -> Option<(String, bool, Rule)> {
    let gid = opt_string(r.group_id)?;
    let (proto, ports) = convert_rule_common(&r.ip_protocol, &r.from_port, &r.to_port, sink, file, &gid)?;
    let peer = if let Some(c) = r.cidr_ipv4.as_str() {
        Peer::Cidr4(Cidr4::parse(c)?)
    } else if let Some(c) = r.cidr_ipv6.as_str() {
        Peer::Cidr6(Cidr6::parse(c)?)
    } else if let Some(pl) = opt_string(r.prefix_list_id) {
        Peer::PrefixList(pl)
    } else {
        let g = r.referenced_group_info.and_then(|g| g.0)?;
        Peer::Group(GroupPeer {
            id: opt_string(g.group_id)?,
            user_id: opt_string(g.user_id),
            vpc: opt_string(g.vpc_id),
            peering: opt_string(g.vpc_peering_connection_id),
            peering_status: opt_string(g.peering_status),
        })
    };
    let egress = r.is_egress.get().copied().unwrap_or(false);
    let rule =
        Rule { id: opt_string(r.security_group_rule_id), proto, ports, peer, description: opt_string(r.description) };
    Some((gid, egress, rule))
}

/// Sorts rules, and merges duplicates (the same rule from describe-security-groups and
/// describe-security-group-rules), keeping the `sgr-` id where one copy has it.
fn normalise_rules(rules: &mut Vec<Rule>) {
    rules.sort_by(|a, b| {
        (a.proto, a.ports, &a.peer, a.id.is_none(), &a.id, &a.description).cmp(&(
            b.proto,
            b.ports,
            &b.peer,
            b.id.is_none(),
            &b.id,
            &b.description,
        ))
    });
    rules.dedup_by(|later, earlier| {
        later.proto == earlier.proto
            && later.ports == earlier.ports
            && later.peer == earlier.peer
            && (later.id.is_none() || later.id == earlier.id)
    });
}

#[cfg_attr(target_arch = "wasm32", inline(never))]
fn nacl_entries(
    file: &str,
    id: &str,
    entries: List<aws::NaclEntry>,
    sink: &mut Sink,
) -> (Vec<NaclEntry>, Vec<NaclEntry>) {
    let (mut ingress, mut egress) = (Vec::new(), Vec::new());
    for e in entries.items {
        let number = e.rule_number.get().and_then(|n| u32::try_from(*n).ok());
        let proto = e.protocol.as_str().and_then(Proto::parse);
        let action = match e.rule_action.as_str().map(str::to_ascii_lowercase).as_deref() {
            Some("allow") => Some(Action::Allow),
            Some("deny") => Some(Action::Deny),
            _ => None,
        };
        let addr = if let Some(c) = e.cidr_block.as_str().and_then(Cidr4::parse) {
            Some(NaclAddr::V4(c))
        } else {
            e.ipv6_cidr_block.as_str().and_then(Cidr6::parse).map(NaclAddr::V6)
        };
        let (Some(number), Some(proto), Some(action), Some(addr)) = (number, proto, action, addr) else {
            sink.push(
                Severity::Warning,
                "bad-nacl-entry",
                &format!("{file}:nacl"),
                format!("{file}: {id}: an entry without a valid rule number, protocol, action or cidr was skipped"),
            );
            continue;
        };
        let ports = if proto.has_ports() {
            e.port_range.and_then(|p| p.0).and_then(|p| {
                let f = u16::try_from(*p.from.get()?).ok()?;
                let t = u16::try_from(*p.to.get()?).ok()?;
                Some(Ports { from: f.min(t), to: f.max(t) })
            })
        } else {
            None
        };
        let icmp_type = if proto.is_icmp() {
            e.icmp_type_code.and_then(|c| c.0).and_then(|c| c.kind.get().and_then(|t| u8::try_from(*t).ok()))
        } else {
            None
        };
        let egress_flag = e.egress.get().copied().unwrap_or(false);
        let entry = NaclEntry { number, egress: egress_flag, action, proto, addr, ports, icmp_type };
        if egress_flag {
            egress.push(entry);
        } else {
            ingress.push(entry);
        }
    }
    ingress.sort_by_key(|e| (e.number, matches!(e.addr, NaclAddr::V6(_))));
    egress.sort_by_key(|e| (e.number, matches!(e.addr, NaclAddr::V6(_))));
    (ingress, egress)
}

fn k8s_parts(o: aws::K8sObject) -> (aws::ObjectMeta, aws::K8sSpec, aws::K8sStatus) {
    (
        o.metadata.and_then(|m| m.0).unwrap_or_default(),
        o.spec.and_then(|m| m.0).unwrap_or_default(),
        o.status.and_then(|m| m.0).unwrap_or_default(),
    )
}

#[cfg_attr(target_arch = "wasm32", inline(never))]
fn convert_pod(file: &str, o: aws::K8sObject, sink: &mut Sink) -> Option<Pod> {
    let (meta, spec, status) = k8s_parts(o);
    let name = opt_string(meta.name)?;
    let namespace = opt_string(meta.namespace).unwrap_or_else(|| "default".to_owned());
    let mut ips = Vec::new();
    let mut ipv6 = Vec::new();
    let mut add = |ip: &crate::lenient::Ip| match ip.v4_or_text() {
        Some(Ok(v4)) if !ips.contains(&v4) => ips.push(v4),
        Some(Err(s)) => {
            if let Some(v6) = parse_v6(s).filter(|v6| !ipv6.contains(v6)) {
                ipv6.push(v6);
            }
        }
        Some(Ok(_)) | None => {}
    };
    add(&status.pod_ip);
    for p in &status.pod_ips.items {
        add(&p.ip);
    }
    let branch_eni = meta.annotations.get(meta_keys::POD_ENI).and_then(|raw| {
        match serde_json::from_str::<Vec<aws::PodEni>>(raw) {
            Ok(list) => list.into_iter().find_map(|p| opt_string(p.eni_id)),
            Err(_) => {
                sink.push(
                    Severity::Warning,
                    "bad-annotation",
                    &format!("{file}:pod-eni"),
                    format!("{file}: pod {namespace}/{name}: the `vpc.amazonaws.com/pod-eni` annotation is not a json array; ignored"),
                );
                None
            }
        }
    });
    let owner = meta
        .owner_references
        .items
        .iter()
        .find(|r| r.controller.get() == Some(&true))
        .or_else(|| meta.owner_references.items.first())
        .and_then(|r| {
            let kind = r.kind.as_str()?;
            let oname = r.name.as_str()?;
            if kind == "ReplicaSet" {
                let hash = meta.labels.get(meta_keys::POD_TEMPLATE_HASH);
                let deployment = hash.and_then(|h| oname.strip_suffix(h)).and_then(|s| s.strip_suffix('-'));
                return Some(match deployment {
                    Some(d) => Workload { kind: "Deployment".to_owned(), name: d.to_owned() },
                    None => Workload { kind: "ReplicaSet".to_owned(), name: oname.to_owned() },
                });
            }
            Some(Workload { kind: kind.to_owned(), name: oname.to_owned() })
        });
    Some(Pod {
        namespace,
        name,
        node: opt_string(spec.node_name),
        host_network: spec.host_network.get().copied().unwrap_or(false),
        ips,
        ipv6,
        branch_eni,
        owner,
        phase: opt_string(status.phase),
    })
}

#[cfg_attr(target_arch = "wasm32", inline(never))]
fn convert_node(o: aws::K8sObject) -> Option<Node> {
    let (meta, spec, status) = k8s_parts(o);
    let name = opt_string(meta.name)?;
    let instance = spec.provider_id.as_str().and_then(|p| {
        let last = p.trim_start_matches("aws://").rsplit('/').next()?;
        last.starts_with("i-").then(|| last.to_owned())
    });
    let internal_ip = status
        .addresses
        .items
        .iter()
        .find(|a| a.kind.as_str() == Some("InternalIP"))
        .and_then(|a| a.address.as_str().and_then(parse_v4));
    let eni_config = meta
        .labels
        .get(meta_keys::ENI_CONFIG)
        .or_else(|| meta.annotations.get(meta_keys::ENI_CONFIG))
        .map(str::to_owned);
    let fargate = meta.labels.get(meta_keys::COMPUTE_TYPE) == Some("fargate");
    Some(Node { name, instance, internal_ip, eni_config, fargate })
}

fn build(mut acc: Acc, sink: &mut Sink, join: &impl Join) -> Model {
    // ENIs and instances; everything else (what stays in `acc`); pods and nodes: three parts,
    // on two threads in the CLI. At 5,000 nodes the pods alone took as long as the other two
    // together, but at 50,000 the ENIs and the rest took 0.41 s against the pods' 0.24 s on two
    // threads, and 0.30, 0.18 and 0.24 s as three (BENCHMARKS.md item 66). The diagnostics are
    // added in the order a sequential build would push them: ENIs, the rest, then pods.
    let (enis, instances) = (std::mem::take(&mut acc.enis), std::mem::take(&mut acc.instances));
    let (pods, nodes) = (std::mem::take(&mut acc.pods), std::mem::take(&mut acc.nodes));
    let (mut coverage, unlabelled_entries) = (std::mem::take(&mut acc.coverage), acc.unlabelled_entries);
    let ((net, net_sink), ((mut model, rest_sink), ((pods, nodes), k8s_sink))) = join.join(
        || {
            let mut s = Sink::default();
            let net = build_enis(instances, enis, &mut s);
            (net, s)
        },
        || {
            join.join(
                || {
                    let mut s = Sink::default();
                    let model = build_rest(acc, &mut s);
                    (model, s)
                },
                || {
                    let mut s = Sink::default();
                    let k8s = build_k8s(pods, nodes, &mut s);
                    (k8s, s)
                },
            )
        },
    );
    sink.append(net_sink);
    sink.append(rest_sink);
    sink.append(k8s_sink);
    model.pods = pods;
    model.nodes = nodes;
    if net.from_instances {
        coverage.have.insert(ExportKind::NetworkInterfaces);
    }
    model.coverage = coverage;
    model.unlabelled_entries = unlabelled_entries;
    model.enis = net.enis;
    model.instances = net.instances;

    // Branch ENIs whose trunk is not exported: use the pod annotation and the pod's node.
    let node_instance: FastMap<&str, &str> =
        model.nodes.iter().filter_map(|n| Some((n.name.as_str(), n.instance.as_deref()?))).collect();
    let mut branch_hint: FastMap<String, String> = FastMap::default();
    for p in &model.pods {
        if let (Some(b), Some(node)) = (&p.branch_eni, &p.node) {
            if let Some(i) = node_instance.get(node.as_str()) {
                branch_hint.insert(b.clone(), (*i).to_owned());
            }
        }
    }
    for e in &mut model.enis {
        if e.role == Role::Branch && e.instance.is_none() {
            e.instance = branch_hint.get(&e.id).cloned();
        }
    }

    // Instances named by ENIs but absent from describe-instances. (Looked up by hash: a tree
    // look-up per ENI compared a dozen ids each, with `memcmp`.)
    let known: FastSet<&str> = model.instances.keys().map(String::as_str).collect();
    let missing: Vec<String> = model
        .enis
        .iter()
        .filter_map(|e| e.instance.as_ref())
        .filter(|i| !known.contains(i.as_str()))
        .cloned()
        .collect();
    drop(known);
    for i in missing {
        model.instances.entry(i.clone()).or_insert(Instance { id: i, instance_type: None, name: None, state: None });
    }

    build_index(&mut model, sink, join);
    model
}

/// The ENIs and instances of a load.
struct Network {
    enis: Vec<Eni>,
    instances: BTreeMap<String, Instance>,
    /// Some ENIs came only from describe-instances.
    from_instances: bool,
}

/// An ENI's role and instance, once every copy of it is merged. The body of a walk over every
/// ENI, out of [`build_enis`] (crate docs; BENCHMARKS.md item 55).
#[cfg_attr(target_arch = "wasm32", inline(never))]
fn settle_role(e: &mut Eni) {
    e.role = classify(e);
    e.instance = e.attachment.as_ref().and_then(|a| a.instance.clone());
}

#[cfg_attr(target_arch = "wasm32", inline(never))]
fn build_enis(instances: Pile<aws::Instance>, raw_enis: Pile<aws::NetworkInterface>, sink: &mut Sink) -> Network {
    let mut by_instance: BTreeMap<String, Instance> = BTreeMap::new();
    // Instances, and the ENIs that describe-instances lists for them.
    let mut instance_enis: Vec<Eni> = Vec::new();
    for (file, inst) in each(instances) {
        let Some(id) = opt_string(inst.instance_id) else { continue };
        let t = tags(inst.tags);
        for raw in inst.network_interfaces.items {
            if let Some(e) = convert_eni(&file, raw, sink, Some(&id)) {
                instance_enis.push(e);
            }
        }
        let state = inst.state.and_then(|s| s.0).and_then(|s| opt_string(s.name));
        let entry =
            Instance { id: id.clone(), instance_type: opt_string(inst.instance_type), name: name_tag(&t), state };
        by_instance.entry(id).or_insert(entry);
    }

    // ENIs: describe-network-interfaces first; describe-instances fills in the ones it lacks.
    let mut converted: Vec<Eni> = Vec::with_capacity(raw_enis.iter().map(|b| b.items.len()).sum());
    converted.extend(each(raw_enis).filter_map(|(file, raw)| convert_eni(&file, raw, sink, None)));
    // By id; a stable sort keeps the copies of one ENI in input order.
    converted.sort_by(|a, b| a.id.cmp(&b.id));
    let mut dup_count = 0usize;
    let mut first_dup = String::new();
    let mut enis = Vec::with_capacity(converted.len());
    let mut copies: Vec<Eni> = Vec::new();
    let mut rest = converted.into_iter().peekable();
    while let Some(e) = rest.next() {
        let more = rest.peek().is_some_and(|next| next.id == e.id);
        if !more && copies.is_empty() {
            // One copy: `convert_eni` already sorted its addresses as a merge would.
            enis.push(e);
            continue;
        }
        copies.push(e);
        if more {
            continue;
        }
        dup_count += 1;
        if first_dup.is_empty() {
            if let Some(c) = copies.first() {
                first_dup.clone_from(&c.id);
            }
        }
        enis.extend(merge_copies(std::mem::take(&mut copies), sink));
    }
    if dup_count > 0 {
        sink.push(
            Severity::Warning,
            "duplicate-eni",
            "dup",
            format!(
                "{dup_count} network interfaces appear more than once (first: {first_dup}); the copies were merged"
            ),
        );
    }
    let known: FastSet<&str> = enis.iter().map(|e| e.id.as_str()).collect();
    let mut extra: BTreeMap<String, Eni> = BTreeMap::new();
    for e in instance_enis {
        if !known.contains(e.id.as_str()) {
            extra.entry(e.id.clone()).or_insert(e);
        }
    }
    let from_instances = !extra.is_empty();
    if from_instances {
        enis.extend(extra.into_values());
        enis.sort_by(|a, b| a.id.cmp(&b.id));
    }
    for e in &mut enis {
        settle_role(e);
    }
    // A branch ENI belongs to the instance of its trunk.
    let trunk_instance: FastMap<String, String> = enis
        .iter()
        .filter(|e| e.role == Role::Trunk)
        .filter_map(|e| Some((e.id.clone(), e.instance.clone()?)))
        .collect();
    for e in &mut enis {
        if e.role == Role::Branch && e.instance.is_none() {
            e.instance = e
                .tag(EniTag::TrunkEniId)
                .and_then(|t| trunk_instance.get(t).cloned())
                .or_else(|| e.tag(EniTag::InstanceId).map(str::to_owned));
        }
    }
    Network { enis, instances: by_instance, from_instances }
}

/// A pile's items in input order, each with its batch's file (shared, not copied).
fn each<T>(pile: Pile<T>) -> impl Iterator<Item = (std::rc::Rc<str>, T)> {
    pile.into_iter().flat_map(|b| {
        let file: std::rc::Rc<str> = b.file.into();
        b.items.into_iter().map(move |i| (std::rc::Rc::clone(&file), i))
    })
}

/// Groups, NACLs, subnets and prefix lists: a model without ENIs, instances, pods or nodes
/// (`build` has taken those out of `acc`).
#[cfg_attr(target_arch = "wasm32", inline(never))]
fn build_rest(acc: Acc, sink: &mut Sink) -> Model {
    let mut model = Model { groups: build_groups(acc.sgs, acc.sg_rules, sink), ..Model::default() };
    // NACLs.
    let mut nacls: BTreeMap<String, Nacl> = BTreeMap::new();
    for (file, raw) in each(acc.nacls) {
        let Some(id) = opt_string(raw.network_acl_id) else { continue };
        let (ingress, egress) = nacl_entries(&file, &id, raw.entries, sink);
        let mut subnets: Vec<String> =
            raw.associations.items.into_iter().filter_map(|a| opt_string(a.subnet_id)).collect();
        subnets.sort();
        subnets.dedup();
        nacls.entry(id.clone()).or_insert(Nacl {
            id,
            vpc: opt_string(raw.vpc_id),
            is_default: raw.is_default.get().copied().unwrap_or(false),
            subnets,
            ingress,
            egress,
        });
    }
    model.nacls = nacls.into_values().collect();

    for (_, raw) in each(acc.subnets) {
        let Some(id) = opt_string(raw.subnet_id) else { continue };
        let t = tags(raw.tags);
        model.subnets.entry(id.clone()).or_insert(Subnet {
            id,
            vpc: opt_string(raw.vpc_id),
            cidr: raw.cidr_block.as_str().and_then(Cidr4::parse),
            az: opt_string(raw.availability_zone),
            name: name_tag(&t),
        });
    }

    // Prefix lists.
    for (_, raw) in each(acc.prefix_lists) {
        let Some(id) = opt_string(raw.prefix_list_id) else { continue };
        let cidrs: Vec<Cidr4> = raw.cidrs.0.iter().filter_map(|c| Cidr4::parse(c)).collect();
        let pl = model.prefix_lists.entry(id.clone()).or_insert(PrefixList {
            id,
            name: None,
            cidrs: None,
            cidrs6: Vec::new(),
        });
        pl.name = pl.name.take().or(opt_string(raw.prefix_list_name));
        if !raw.cidrs.0.is_empty() {
            pl.cidrs.get_or_insert_with(Vec::new).extend(cidrs);
        }
    }
    for (label, entries) in acc.labelled_entries {
        let pl = model.prefix_lists.entry(label.clone()).or_insert(PrefixList {
            id: label,
            name: None,
            cidrs: None,
            cidrs6: Vec::new(),
        });
        let list = pl.cidrs.get_or_insert_with(Vec::new);
        for e in entries {
            if let Some(s) = e.cidr.as_str() {
                if let Some(c) = Cidr4::parse(s) {
                    list.push(c);
                } else if let Some(c) = Cidr6::parse(s) {
                    pl.cidrs6.push(c);
                }
            }
        }
    }
    for pl in model.prefix_lists.values_mut() {
        if let Some(c) = pl.cidrs.as_mut() {
            c.sort();
            c.dedup();
        }
        pl.cidrs6.sort();
        pl.cidrs6.dedup();
    }

    model
}

/// Security groups: describe-security-groups and describe-security-group-rules, merged. A
/// function of its own in the worker: its loops over thousands of groups and their rules would
/// otherwise get all of [`build_rest`] optimised in the middle of a cold run, for the next run
/// only (BENCHMARKS.md item 50).
#[cfg_attr(target_arch = "wasm32", inline(never))]
fn build_groups(
    sgs: Pile<aws::SecurityGroup>,
    sg_rules: Pile<aws::SecurityGroupRule>,
    sink: &mut Sink,
) -> BTreeMap<String, SecurityGroup> {
    let mut groups: BTreeMap<String, SecurityGroup> = BTreeMap::new();
    for (file, raw) in each(sgs) {
        let Some(id) = opt_string(raw.group_id) else { continue };
        let ingress = convert_permissions(&file, &id, raw.ip_permissions, sink);
        let egress = convert_permissions(&file, &id, raw.ip_permissions_egress, sink);
        let g = groups.entry(id.clone()).or_insert_with(|| SecurityGroup { id, ..SecurityGroup::default() });
        g.name = g.name.take().or(opt_string(raw.group_name));
        g.description = g.description.take().or(opt_string(raw.description));
        g.vpc = g.vpc.take().or(opt_string(raw.vpc_id));
        g.ingress.extend(ingress);
        g.egress.extend(egress);
    }
    for (file, raw) in each(sg_rules) {
        let Some((gid, egress, rule)) = convert_sg_rule(&file, raw, sink) else { continue };
        let g = groups.entry(gid.clone()).or_insert_with(|| SecurityGroup { id: gid, ..SecurityGroup::default() });
        if egress {
            g.egress.push(rule);
        } else {
            g.ingress.push(rule);
        }
    }
    for g in groups.values_mut() {
        normalise_rules(&mut g.ingress);
        normalise_rules(&mut g.egress);
    }
    groups
}

/// Pods and nodes, each kept once by name (the first in input order).
#[cfg_attr(target_arch = "wasm32", inline(never))]
fn build_k8s(pods: Vec<K8s<Pod>>, nodes: Vec<K8s<Node>>, sink: &mut Sink) -> (Vec<Pod>, Vec<Node>) {
    let pods = converted(pods, sink, convert_pod);
    let order = first_of_each(pods.iter().map(|p| (p.namespace.as_str(), p.name.as_str())));
    let pods = in_order(pods, order);
    let nodes = converted(nodes, sink, |_, o, _| convert_node(o));
    let order = first_of_each(nodes.iter().map(|n| n.name.as_str()));
    (pods, in_order(nodes, order))
}

/// Every pod (or node) of a pile in input order, converted ([`K8s::converted`]).
fn converted<C>(
    pile: Vec<K8s<C>>,
    sink: &mut Sink,
    convert: impl Fn(&str, aws::K8sObject, &mut Sink) -> Option<C>,
) -> Vec<C> {
    let mut out = Vec::new();
    for batch in pile {
        concat(&mut out, batch.converted(sink, &convert).items);
    }
    out
}

/// The indexes of `keys` in key order, keeping the first (in input order) of equal keys: with
/// [`in_order`], what `entry(key).or_insert(item)` into a `BTreeMap` and its values give, without
/// shifting large items through the map's nodes on every insert (a whole account has hundreds of
/// thousands of pods). Only (key, index) pairs are sorted, side by side.
fn first_of_each<K: Ord>(keys: impl Iterator<Item = K>) -> Vec<usize> {
    // The index breaks ties: of equal keys, the first in input order comes first and is kept.
    let mut order: Vec<(K, usize)> = keys.zip(0..).collect();
    order.sort_unstable();
    order.dedup_by(|later, earlier| later.0 == earlier.0);
    order.into_iter().map(|(_, i)| i).collect()
}

/// The items at `order`, each moved once (indexes out of range, or repeated, are skipped).
fn in_order<T>(items: Vec<T>, order: Vec<usize>) -> Vec<T> {
    let mut slots: Vec<Option<T>> = items.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots.get_mut(i).and_then(Option::take)).collect()
}

/// Merges copies of one ENI: addresses are united; when the group sets differ, the copy with the
/// greatest sorted group list wins, so the result does not depend on input order.
#[cfg_attr(target_arch = "wasm32", inline(never))]
fn merge_copies(mut copies: Vec<Eni>, sink: &mut Sink) -> Option<Eni> {
    copies
        .sort_by(|a, b| b.group_ids().cmp(&a.group_ids()).then_with(|| b.private_ips.len().cmp(&a.private_ips.len())));
    let mut copies = copies.into_iter();
    let mut base = copies.next()?;
    for other in copies {
        if other.group_ids() != base.group_ids() {
            let show = |e: &Eni| e.groups.iter().map(|g| g.id.as_str()).collect::<Vec<_>>().join(" ");
            sink.push(
                Severity::Warning,
                "conflicting-eni",
                &base.id,
                format!(
                    "copies of {} disagree on security groups ([{}] and [{}]); using [{}]; export again so both come from one moment",
                    base.id,
                    show(&base),
                    show(&other),
                    show(&base)
                ),
            );
        }
        for ip in other.private_ips {
            if !base.private_ips.contains(&ip) {
                base.private_ips.push(ip);
            }
        }
        for p in other.prefixes {
            if !base.prefixes.contains(&p) {
                base.prefixes.push(p);
            }
        }
        if base.attachment.is_none() {
            base.attachment = other.attachment;
        }
    }
    let primary = base.primary_ip;
    base.private_ips.sort_by_key(|ip| (Some(*ip) != primary, u32::from(*ip)));
    base.prefixes.sort();
    Some(base)
}

#[cfg_attr(target_arch = "wasm32", inline(never))]
fn build_index(model: &mut Model, sink: &mut Sink, join: &impl Join) {
    // The address map (and its conflicts), the other look-ups, and the candidate sources with
    // the ENI classes: three parts. (The address map against the other two was about even at
    // 5,000 nodes, but 0.14 s against 0.29 s at 50,000: BENCHMARKS.md item 66.)
    let m = &*model;
    let (ip_owner, (mut idx, (sources, eni_class))) = join.join(
        || ip_owners(m, sink),
        || join.join(|| lookups(m), || (crate::reach::candidate_sources(&m.enis), crate::reach::eni_classes(&m.enis))),
    );
    idx.ip_owner = ip_owner;
    idx.sources = sources;
    idx.eni_class = eni_class;
    model.index = idx;
}

/// Private IPv4 address → ENI; an address two ENIs hold stays with the first, with a warning.
#[cfg_attr(target_arch = "wasm32", inline(never))]
fn ip_owners(model: &Model, sink: &mut Sink) -> FastMap<u32, usize> {
    let mut owners = FastMap::default();
    owners.reserve(model.enis.iter().map(|e| e.private_ips.len()).sum());
    for (i, e) in model.enis.iter().enumerate() {
        for ip in &e.private_ips {
            if let Some(prev) = owners.insert(u32::from(*ip), i) {
                let prev_id = model.enis.get(prev).map_or("", |p| p.id.as_str());
                sink.push(
                    Severity::Warning,
                    "address-conflict",
                    "ip",
                    format!(
                        "{ip} is held by both {prev_id} and {} (overlapping vpcs, or exports from different times)",
                        e.id
                    ),
                );
                owners.insert(u32::from(*ip), prev);
            }
        }
    }
    owners
}

/// One ENI's entries in the index, and its place among its instance's ENIs. The body of a walk
/// over every ENI, out of [`lookups`] (crate docs; BENCHMARKS.md item 55).
#[cfg_attr(target_arch = "wasm32", inline(never))]
fn index_eni<'m>(idx: &mut Index, instance_enis: &mut FastMap<&'m str, Vec<usize>>, i: usize, e: &'m Eni) {
    idx.eni_by_id.insert(e.id.clone(), i);
    for p in &e.prefixes {
        idx.prefix_owner.push((*p, i));
    }
    // Ids are copied once per group and instance, not once per ENI that names them.
    for g in &e.groups {
        match idx.members.get_mut(g.id.as_str()) {
            Some(list) => list.push(i),
            None => _ = idx.members.insert(g.id.clone(), vec![i]),
        }
    }
    if let Some(inst) = &e.instance {
        instance_enis.entry(inst.as_str()).or_default().push(i);
    }
}

/// The look-ups by id, prefix, group, instance, node and subnet.
#[cfg_attr(target_arch = "wasm32", inline(never))]
fn lookups(model: &Model) -> Index {
    let mut idx = Index::default();
    idx.eni_by_id.reserve(model.enis.len());
    // Instances' ENIs gathered in a hash map, then ordered once: a tree compares the ids text
    // by text for every ENI.
    let mut instance_enis: FastMap<&str, Vec<usize>> = FastMap::default();
    for (i, e) in model.enis.iter().enumerate() {
        index_eni(&mut idx, &mut instance_enis, i, e);
    }
    idx.prefix_owner.sort();
    for (i, n) in model.nodes.iter().enumerate() {
        if let Some(inst) = &n.instance {
            idx.instance_node.entry(inst.clone()).or_insert(i);
        }
    }
    for (i, n) in model.nacls.iter().enumerate() {
        for s in &n.subnets {
            idx.subnet_nacl.entry(s.clone()).or_insert(i);
        }
    }
    idx.instance_enis = instance_enis.into_iter().map(|(inst, list)| (inst.to_owned(), list)).collect();
    // ENIs of an instance in device-index order; branch ENIs last.
    for list in idx.instance_enis.values_mut() {
        list.sort_by_key(|&i| {
            let e = model.enis.get(i);
            (
                e.and_then(|e| e.attachment.as_ref()).map(|a| a.network_card).unwrap_or(u32::MAX),
                e.and_then(Eni::device_index).unwrap_or(u32::MAX),
                e.map(|e| e.id.as_str()),
            )
        });
    }
    idx
}

#[cfg(test)]
mod tests {
    use super::{first_of_each, in_order};

    #[test]
    fn first_of_each_sorts_and_keeps_the_first_of_equal_items() {
        // (key, which): as a BTreeMap with `entry(key).or_insert(..)` would keep them.
        let items = vec![("b", 1), ("a", 2), ("b", 3), ("c", 4), ("a", 5), ("b", 6)];
        let order = first_of_each(items.iter().map(|x| x.0));
        assert_eq!(order, vec![1, 0, 3]);
        assert_eq!(in_order(items, order), vec![("a", 2), ("b", 1), ("c", 4)]);
        assert_eq!(first_of_each(Vec::<&str>::new().into_iter()), Vec::<usize>::new());
        assert_eq!(in_order(vec!["x", "y"], vec![1, 1, 7, 0]), vec!["y", "x"]);
    }
}

//! The worker's state machine, pure and testable natively: inputs in, views and row pages out.

use crate::protocol::*;
use podreach_core::hash::{FastMap, FastSet};
use podreach_core::model::Role;
use podreach_core::report::{Prepared, Report, Source};
use podreach_core::{Input, Loaded, Parsed, Severity};
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Default)]
pub struct Engine {
    /// The loaded inputs' ids and names: diagnostics name an input's file, the page its id.
    names: Vec<(u32, String)>,
    loaded: Option<Loaded>,
    /// What every query on the loaded inputs shares (matrix, drift, pod index), built once.
    prepared: Option<Prepared>,
    report: Option<Report>,
}

impl Engine {
    pub fn set_inputs(&mut self, inputs: Vec<InputMsg>) {
        let mut loading = Loading::new(inputs);
        loading.parse_held();
        loading.finish(self);
    }

    /// Builds the model from inputs parsed one by one (see [`Loading`]).
    fn set_parsed(&mut self, names: Vec<(u32, String)>, parts: Vec<Parsed>) {
        self.names = names;
        let loaded = podreach_core::assemble(parts);
        // The view shows a dozen matrices: the rest are built only for an export.
        self.prepared = Some(Prepared::without_matrices(&loaded.model, &loaded.diagnostics, &loaded.documents));
        self.loaded = Some(loaded);
        self.report = None;
    }

    pub fn has_inputs(&self) -> bool {
        self.loaded.is_some()
    }

    fn input_id(&self, file: &str) -> u32 {
        self.names.iter().find(|(_, n)| n == file).map_or(0, |(id, _)| *id)
    }

    /// Analyses the loaded inputs (matrix and drift always; reachability with a query).
    pub fn run(&mut self, query: Option<&QueryMsg>, page: &PageReq) -> View {
        let (Some(loaded), Some(prepared)) = (&self.loaded, &self.prepared) else {
            self.set_inputs(Vec::new());
            return self.run(query, page);
        };
        let mut query_error = None;
        let parsed = match query {
            Some(q) if !q.to.trim().is_empty() => match podreach_core::make_query(&q.to, &q.protocol, q.port) {
                Ok(q) => Some(q),
                Err(e) => {
                    query_error = Some(e);
                    None
                }
            },
            _ => None,
        };
        let report = match prepared.report(&loaded.model, parsed.as_ref()) {
            Ok(r) => r,
            Err(e) => {
                query_error = Some(e.0);
                prepared.report_with(&loaded.model, None)
            }
        };
        let errors = loaded
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| InputError {
                input: d.location.as_ref().map_or(0, |l| self.input_id(&l.file)),
                line: d.location.as_ref().map(|l| l.line),
                column: d.location.as_ref().map(|l| l.column),
                message: d.message.clone(),
            })
            .collect();
        let documents = loaded
            .documents
            .iter()
            .map(|d| DocChip {
                input: self.input_id(&d.file),
                label: d.label(),
                kind: d.kind.slug().to_owned(),
                partial: d.partial,
                line: d.line,
                start: d.start,
                end: d.end,
            })
            .collect();
        let diagnostics = report.diagnostics.iter().filter(|d| d.severity != "error").cloned().collect();
        let targets = targets(loaded);
        // Rows of one trace share verdict and cause: counted per trace, then the few traces by
        // their texts in a hash map, then ordered (a tree would compare the long cause texts).
        let mut counts: FastMap<(&str, &str), usize> = FastMap::default();
        for (verdict, cause, n) in report.sources.by_trace() {
            *counts.entry((verdict, cause)).or_default() += n;
        }
        let causes: BTreeMap<(u8, &str, &str), usize> =
            counts.into_iter().map(|((verdict, cause), n)| ((rank(verdict), verdict, cause), n)).collect();
        let causes = causes
            .into_iter()
            .map(|((_, verdict, cause), count)| CauseGroup {
                verdict: verdict.to_owned(),
                cause: cause.to_owned(),
                count,
            })
            .collect();
        // The view carries the report without its sources (those travel in pages): move them
        // aside rather than cloning every row only to drop it.
        let mut report = report;
        let sources = std::mem::take(&mut report.sources);
        let mut light = report.clone();
        report.sources = sources;
        let instances_total = loaded.model.index.instance_enis.len();
        if instances_total <= MAX_INSTANCES {
            light.instances = prepared.matrices(&loaded.model);
        } else {
            // Instances with drift first: those are the matrices worth a look.
            light.instances = Arc::new(prepared.first_matrices(&loaded.model, MAX_INSTANCES));
            // The page shows drift next to its instance's matrix: only the shown ones travel.
            let shown: std::collections::BTreeSet<&str> = light.instances.iter().map(|i| i.instance.as_str()).collect();
            light.drift =
                Arc::new(light.drift.iter().filter(|d| shown.contains(d.instance.as_str())).cloned().collect());
        }
        self.report = Some(report);
        let rows = self.page(page);
        View {
            documents,
            errors,
            diagnostics,
            query_error,
            targets,
            report: light,
            instances_total,
            causes,
            rows,
            timings: Timings::default(),
        }
    }

    /// One page of source rows, filtered and sorted.
    pub fn page(&self, page: &PageReq) -> RowsPage {
        let Some(report) = &self.report else { return RowsPage::default() };
        let model = self.loaded.as_ref().map(|l| &l.model);
        let needle = page.filter.trim().to_ascii_lowercase();
        let rows = rows_of(report, page.verdict.as_str(), &needle, model);
        let total = rows.len();
        let window = Window { offset: page.offset.min(total), limit: page.limit.clamp(1, 1000), desc: page.desc };
        // A report's rows come in address order: then ordering them by a key of few values and
        // the address is a stable grouping by that key, in one pass without comparisons, and
        // only the rows of the page are put in place.
        let by_address = in_address_order(&rows);
        let shown = match page.sort.as_str() {
            "ip" => window.of_keyed(&rows, key_ip),
            "verdict" if by_address => window.of_groups(&rows, |s| usize::from(rank(s.verdict))),
            "verdict" => window.of_keyed(&rows, |s| (rank(s.verdict), key_ip(s))),
            "node" => window.of_keyed(&rows, |s| (s.node(), s.instance(), key_ip(s))),
            "eni" => window.of_keyed(&rows, |s| (s.eni(), key_ip(s))),
            "pod" => window.of_keyed(&rows, |s| (s.pods.first(), key_ip(s))),
            _ => {
                let causes = CausePlaces::of(&rows, report);
                if by_address {
                    window.of_groups(&rows, |s| causes.group(s))
                } else {
                    window.of_keyed(&rows, |s| (rank(s.verdict), causes.place(s), key_ip(s)))
                }
            }
        };
        RowsPage { total, offset: window.offset, rows: shown.into_iter().map(|s| s.owned()).collect() }
    }

    /// The whole report in a format for download.
    pub fn export(&mut self, format: &str) -> Option<String> {
        let (r, loaded, prepared) = (self.report.as_mut()?, self.loaded.as_ref()?, self.prepared.as_ref()?);
        // Every matrix, built once for the first export (a run's report leaves them out).
        if r.instances.is_empty() {
            r.instances = prepared.matrices(&loaded.model);
        }
        Some(match format {
            "markdown" | "markdown-copy" => podreach_core::render::markdown(r),
            "csv" => podreach_core::render::csv(r),
            _ => podreach_core::render::json(r),
        })
    }
}

/// Inputs on their way in: each is parsed as soon as its bytes are here (the page reads browser
/// files while the worker parses the inputs before them), and the model is built once all are.
/// The result does not depend on the order the bytes arrive in.
pub struct Loading {
    names: Vec<(u32, String)>,
    /// Per input, in input order: its bytes while they wait to be parsed, then its parsed part.
    parts: Vec<Part>,
    total: u64,
}

enum Part {
    /// Its bytes are still being read: `read` of `size` so far. A file read in slices is put
    /// together in `into` (empty until its first slice comes), `filled` bytes of it so far.
    Waiting {
        size: u64,
        read: u64,
        into: Vec<u8>,
        filled: u64,
    },
    Held(Vec<u8>),
    Parsed(Box<Parsed>),
}

/// What [`Loading::place`] did with a slice of a file's bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placed {
    /// Put in place; slices of the file are still to come.
    More,
    /// The file's bytes are all in: [`Loading::parse`] it.
    All,
}

impl Loading {
    pub fn new(inputs: Vec<InputMsg>) -> Loading {
        let mut names = Vec::with_capacity(inputs.len());
        let mut parts = Vec::with_capacity(inputs.len());
        let mut total = 0;
        for i in inputs {
            total += i.follows.unwrap_or(i.bytes.len() as u64);
            names.push((i.id, i.name));
            parts.push(match i.follows {
                Some(size) => Part::Waiting { size, read: 0, into: Vec::new(), filled: 0 },
                None => Part::Held(i.bytes),
            });
        }
        Loading { names, parts, total }
    }

    /// Parses the inputs whose bytes came with the request.
    pub fn parse_held(&mut self) {
        for (part, (_, name)) in self.parts.iter_mut().zip(&self.names) {
            if let Part::Held(bytes) = part {
                *part = Part::Parsed(Box::new(podreach_core::parse(&Input { name, bytes })));
            }
        }
    }

    /// Puts `bytes`, the slice of input `id` that starts `offset` bytes into it, in place (the
    /// page reads a large file in slices, several at once, so they come in any order:
    /// BENCHMARKS.md item 52). A slice that is the whole file becomes its buffer, copied once;
    /// others are copied into a buffer of the file's size. `None` if no input `id` is waiting for
    /// bytes, or the slice does not lie within it.
    pub fn place(&mut self, id: u32, offset: u64, bytes: &(impl Slice + ?Sized)) -> Option<Placed> {
        let k = self.names.iter().position(|(i, _)| *i == id)?;
        let Some(Part::Waiting { size, read, into, filled }) = self.parts.get_mut(k) else { return None };
        let len = bytes.size();
        let end = offset.checked_add(len as u64).filter(|end| *end <= *size)?;
        if offset == 0 && end == *size && into.is_empty() {
            *into = bytes.to_vec();
        } else {
            if into.len() as u64 != *size {
                *into = written(usize::try_from(*size).ok()?)?;
            }
            bytes.copy_to(into.get_mut(usize::try_from(offset).ok()?..usize::try_from(end).ok()?)?);
        }
        *filled += len as u64;
        if *filled < *size {
            return Some(Placed::More);
        }
        *read = *size;
        Some(Placed::All)
    }

    /// Sets aside the buffer of the largest input still to come, and writes it, while the worker
    /// waits for its bytes: the system maps a page of a grown wasm memory on its first write
    /// (under node here, a copy of 52 MB, the largest file at 5,000 nodes, took 54-56 ms into
    /// fresh pages and 9-10 ms into written ones), and the copy of its bytes comes later, on the
    /// run's critical path. Set aside before any slice comes, it is also one block: a slice's
    /// buffer taken first from the same free memory would leave no room for it (at 50,000 nodes
    /// the memory then grew by two fifths: item 52).
    pub fn prepare_largest(&mut self) {
        let largest = self
            .parts
            .iter_mut()
            .filter_map(|p| match p {
                Part::Waiting { size, into, .. } if into.is_empty() => Some((*size, into)),
                _ => None,
            })
            .max_by_key(|(size, _)| *size);
        if let Some((size, into)) = largest {
            *into = usize::try_from(size).ok().and_then(written).unwrap_or_default();
        }
    }

    /// Parses input `id` once [`Loading::place`] has said its bytes are all in. False if input
    /// `id` is not waiting to be parsed.
    pub fn parse(&mut self, id: u32) -> bool {
        let Some(k) = self.names.iter().position(|(i, _)| *i == id) else { return false };
        let (Some(part), Some((_, name))) = (self.parts.get_mut(k), self.names.get(k)) else { return false };
        let Part::Waiting { into, .. } = part else { return false };
        *part = Part::Parsed(Box::new(podreach_core::parse(&Input { name, bytes: into })));
        true
    }

    /// Takes the parsed form of input `id` that another worker made of its bytes (the page's
    /// second worker parses a kubectl export while this one parses the ENIs). False if input `id`
    /// is not waiting for its bytes.
    pub fn hand_over(&mut self, id: u32, parsed: Parsed) -> bool {
        let Some(k) = self.names.iter().position(|(i, _)| *i == id) else { return false };
        let Some(part) = self.parts.get_mut(k) else { return false };
        if !matches!(part, Part::Waiting { .. }) {
            return false;
        }
        *part = Part::Parsed(Box::new(parsed));
        true
    }

    /// Takes the bytes of input `id` once [`Loading::place`] has said they are all in, instead of
    /// parsing them here; the input then counts as empty. `None` if they are not all in.
    pub fn take_whole(&mut self, id: u32) -> Option<Vec<u8>> {
        let k = self.names.iter().position(|(i, _)| *i == id)?;
        match self.parts.get_mut(k)? {
            Part::Waiting { size, filled, into, .. } if filled == size && into.len() as u64 == *size => {
                let bytes = std::mem::take(into);
                *self.parts.get_mut(k)? = Part::Held(Vec::new());
                Some(bytes)
            }
            _ => None,
        }
    }

    /// Records that `read` bytes of input `id` have been read; false if no input `id` is
    /// waiting for its bytes.
    pub fn reading(&mut self, id: u32, read: u64) -> bool {
        let Some(k) = self.names.iter().position(|(i, _)| *i == id) else { return false };
        match self.parts.get_mut(k) {
            Some(Part::Waiting { size, read: so_far, .. }) => {
                *so_far = read.min(*size).max(*so_far);
                true
            }
            _ => false,
        }
    }

    /// Bytes still to read, and the size of all inputs.
    pub fn progress(&self) -> (u64, u64) {
        let waiting = self
            .parts
            .iter()
            .map(|p| if let Part::Waiting { size, read, .. } = p { size.saturating_sub(*read) } else { 0 })
            .sum();
        (waiting, self.total)
    }

    pub fn complete(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, Part::Parsed(_)))
    }

    /// The size of input `id` while its bytes are awaited; 0 for any other.
    pub fn size(&self, id: u32) -> u64 {
        let k = self.names.iter().position(|(i, _)| *i == id);
        match k.and_then(|k| self.parts.get(k)) {
            Some(Part::Waiting { size, .. }) => *size,
            _ => 0,
        }
    }

    /// The name of input `id`.
    pub fn name(&self, id: u32) -> &str {
        self.names.iter().find(|(i, _)| *i == id).map_or("", |(_, n)| n.as_str())
    }

    /// Builds the model in `engine` from every input (one still waiting counts as empty).
    pub fn finish(self, engine: &mut Engine) {
        let parts = self
            .parts
            .into_iter()
            .zip(&self.names)
            .map(|(p, (_, name))| match p {
                Part::Parsed(p) => *p,
                Part::Held(bytes) => podreach_core::parse(&Input { name, bytes: &bytes }),
                Part::Waiting { .. } => podreach_core::parse(&Input { name, bytes: &[] }),
            })
            .collect();
        engine.set_parsed(self.names, parts);
    }
}

/// A slice of a file's bytes as it comes to [`Loading::place`]: the page's array in the worker
/// (`services::worker`), bytes in tests.
pub trait Slice {
    /// Its length in bytes.
    fn size(&self) -> usize;
    /// Copies it into `to`, which is [`Slice::size`] bytes long.
    fn copy_to(&self, to: &mut [u8]);
    /// A copy of it.
    fn to_vec(&self) -> Vec<u8>;
}

impl Slice for [u8] {
    fn size(&self) -> usize {
        self.len()
    }
    fn copy_to(&self, to: &mut [u8]) {
        to.copy_from_slice(self);
    }
    fn to_vec(&self) -> Vec<u8> {
        self.into()
    }
}

/// `n` zero bytes, written rather than only allocated (a fresh allocation's pages are mapped on
/// first write: [`Loading::prepare_largest`]); `None` if the memory cannot grow that far.
fn written(n: usize) -> Option<Vec<u8>> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).ok()?;
    v.resize(n, 0);
    Some(v)
}

/// The JavaScript API: a stateless analysis of texts, as `podreach/report@1` JSON.
pub fn api(inputs: &[InputMsg], query: Option<&QueryMsg>) -> Result<String, String> {
    let list: Vec<Input<'_>> = inputs.iter().map(|i| Input { name: &i.name, bytes: &i.bytes }).collect();
    let q = match query {
        Some(q) if !q.to.trim().is_empty() => {
            let proto = if q.protocol.is_empty() { "tcp" } else { q.protocol.as_str() };
            Some(podreach_core::make_query(&q.to, proto, q.port)?)
        }
        _ => None,
    };
    let (_, report) = podreach_core::analyze(&list, q.as_ref())?;
    Ok(podreach_core::render::json(&report))
}

fn rank(verdict: &str) -> u8 {
    match verdict {
        "blocked" => 0,
        "unknown" => 1,
        _ => 2,
    }
}

/// The report's rows with `verdict` (all if empty) that match `needle` (all if empty), in report
/// order. The walks over every row in [`Engine::page`] are functions of their own, so that their
/// loops do not get `page`'s large body optimised in the middle of a cold run, for the next run
/// only (BENCHMARKS.md item 50).
#[inline(never)]
fn rows_of<'a>(
    report: &'a Report,
    verdict: &str,
    needle: &str,
    model: Option<&podreach_core::model::Model>,
) -> Vec<Source<'a>> {
    // Without a filter every row is listed: sized up front, since grown by doubling the list of
    // 138,649 rows at 5,000 nodes was moved 16 times (7.8 ms of `realloc` in a warm profile).
    let all = verdict.is_empty() && needle.is_empty();
    let mut rows: Vec<Source<'_>> = Vec::with_capacity(if all { report.sources.len() } else { 0 });
    let mut matcher = Matcher::new(needle, model);
    rows.extend(
        report
            .sources
            .iter()
            .filter(|s| verdict.is_empty() || s.verdict == verdict)
            .filter(|s| needle.is_empty() || matcher.matches(s)),
    );
    rows
}

/// Whether `rows` are in address order (as a report's rows come).
#[inline(never)]
fn in_address_order(rows: &[Source<'_>]) -> bool {
    rows.is_sorted_by_key(key_ip)
}

/// A row's address as a sort key: its first address, then its prefix length.
fn key_ip(s: &Source<'_>) -> (u32, u8) {
    (s.ip.first(), s.ip.len)
}

/// The rows of a page: `limit` rows from `offset` of the rows in their order, or in the reverse
/// order when `desc`.
#[derive(Clone, Copy)]
struct Window {
    offset: usize,
    limit: usize,
    desc: bool,
}

impl Window {
    /// The places of the page's rows in the ascending order: a descending page is the same
    /// number of rows counted from the end.
    fn places(self, n: usize) -> std::ops::Range<usize> {
        let end = self.offset.saturating_add(self.limit);
        if self.desc {
            n.saturating_sub(end)..n.saturating_sub(self.offset)
        } else {
            self.offset.min(n)..end.min(n)
        }
    }

    /// The page's rows of `rows` ordered by `key`, rows of equal keys in the order they have in
    /// `rows` (as a stable sort by `key` orders them). Only the rows of the page are sorted: the
    /// others are set apart around them by two selections, about as many comparisons as rows
    /// rather than a full sort's 17 per row (138,649 rows at 5,000 nodes: sorting them all by
    /// node took 23-25 ms natively for a page of 50, BENCHMARKS.md item 51).
    #[inline(never)]
    fn of_keyed<T: Copy, K: Ord>(self, rows: &[T], key: impl Fn(&T) -> K) -> Vec<T> {
        let places = self.places(rows.len());
        if places.is_empty() {
            return Vec::new();
        }
        // With its index, each key is unique: the selections then put each row at its place.
        let mut keyed: Vec<(K, usize)> = rows.iter().map(key).zip(0..).collect();
        if places.start > 0 {
            keyed.select_nth_unstable(places.start);
        }
        let after = keyed.get_mut(places.start..).unwrap_or_default();
        if places.len() < after.len() {
            after.select_nth_unstable(places.len());
        }
        let page = after.get_mut(..places.len()).unwrap_or_default();
        page.sort_unstable();
        self.directed(page.iter().filter_map(|(_, i)| rows.get(*i).copied()))
    }

    /// The page's rows of `rows` ordered by `group`, keeping the order they have within each group
    /// (a counting sort, for groups that are few next to the rows). Only the rows of the page are
    /// put in place: ordering all 138,649 rows at 5,000 nodes for the 50 of the first page took
    /// 20 ms of a warm run (BENCHMARKS.md item 51).
    #[inline(never)]
    fn of_groups<T: Copy>(self, rows: &[T], group: impl Fn(&T) -> usize) -> Vec<T> {
        let groups: Vec<usize> = rows.iter().map(group).collect();
        // Where each group's rows start in the order.
        let mut start = vec![0usize; groups.iter().max().map_or(0, |m| m + 1)];
        for &g in &groups {
            if let Some(n) = start.get_mut(g) {
                *n += 1;
            }
        }
        let mut sum = 0;
        for n in &mut start {
            (*n, sum) = (sum, sum + *n);
        }
        let places = self.places(rows.len());
        let mut shown: Vec<(usize, T)> = Vec::with_capacity(places.len());
        for (row, &g) in rows.iter().zip(&groups) {
            if let Some(at) = start.get_mut(g) {
                if places.contains(at) {
                    shown.push((*at, *row));
                }
                *at += 1;
            }
        }
        shown.sort_unstable_by_key(|(place, _)| *place);
        self.directed(shown.into_iter().map(|(_, row)| row))
    }

    /// The page's rows, given in ascending order, in the page's direction.
    fn directed<T>(self, rows: impl DoubleEndedIterator<Item = T>) -> Vec<T> {
        if self.desc {
            rows.rev().collect()
        } else {
            rows.collect()
        }
    }
}

/// Each row's cause by its place among the causes of the rows, for the page's default order:
/// verdict, then cause, then address. Causes are few, long and shared by many rows, so each
/// trace's place is found once, rather than comparing the text at every step of a sort (byte by
/// byte in wasm, 40 ms at 5,000 nodes on the baseline code of a cold run).
struct CausePlaces {
    /// By trace.
    places: Vec<Option<usize>>,
    /// How many causes there are.
    width: usize,
}

impl CausePlaces {
    #[inline(never)]
    fn of(rows: &[Source<'_>], report: &Report) -> CausePlaces {
        let mut cause_of: Vec<Option<&str>> = vec![None; report.sources.trace_entries()];
        for s in rows {
            if let Some(slot) = cause_of.get_mut(s.trace_key()) {
                *slot = Some(s.cause());
            }
        }
        let mut causes: Vec<&str> = cause_of.iter().flatten().copied().collect::<FastSet<&str>>().into_iter().collect();
        causes.sort_unstable();
        let place: FastMap<&str, usize> = causes.into_iter().enumerate().map(|(i, c)| (c, i)).collect();
        let places = cause_of.iter().map(|c| c.and_then(|c| place.get(c).copied())).collect();
        CausePlaces { places, width: place.len() }
    }

    fn place(&self, s: &Source<'_>) -> Option<usize> {
        self.places.get(s.trace_key()).copied().flatten()
    }

    /// The row's group in the default order: every row of the report has a place, and `width`
    /// keeps the verdicts apart.
    fn group(&self, s: &Source<'_>) -> usize {
        usize::from(rank(s.verdict)) * self.width + self.place(s).unwrap_or(0)
    }
}

/// The row filter: whether any text of a row (its address, ENI, interface, instance, node, cause,
/// pods, and its ENI's groups) holds `needle`, a lower-case text, ASCII case ignored.
///
/// Rows of one ENI share all but their address and pods, and rows of one trace their cause: those
/// texts are matched once per ENI and once per trace, and no text is copied to lower case. A
/// filter went over every text of every row, each lower-cased into a new string: 130-190 ms
/// natively for the 138,649 rows at 5,000 nodes, for every key typed (BENCHMARKS.md item 51).
struct Matcher<'m> {
    needle: &'m str,
    model: Option<&'m podreach_core::model::Model>,
    /// By ENI entry, then by trace entry: whether its shared texts hold the needle, once known.
    by_eni: Vec<Option<bool>>,
    by_trace: Vec<Option<bool>>,
    /// Where a row's address and each of its pods' `namespace/name` are written.
    text: String,
    /// Whether the needle could be in an address's text (digits, dots and a slash only): if not,
    /// no address is written out.
    address_like: bool,
}

impl<'m> Matcher<'m> {
    fn new(needle: &'m str, model: Option<&'m podreach_core::model::Model>) -> Matcher<'m> {
        let address_like = needle.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b'/');
        Matcher { needle, model, by_eni: Vec::new(), by_trace: Vec::new(), text: String::new(), address_like }
    }

    fn matches(&mut self, s: &Source<'_>) -> bool {
        use std::fmt::Write;
        let needle = self.needle;
        let eni = remember(&mut self.by_eni, s.eni_key(), || {
            has(s.eni(), needle)
                || s.eth().is_some_and(|t| has(t, needle))
                || s.instance().is_some_and(|t| has(t, needle))
                || s.node().is_some_and(|t| has(t, needle))
                || self.model.and_then(|m| m.eni(s.eni())).is_some_and(|e| {
                    e.groups.iter().any(|g| has(&g.id, needle) || g.name.as_deref().is_some_and(|n| has(n, needle)))
                })
        });
        if eni || remember(&mut self.by_trace, s.trace_key(), || has(s.cause(), needle)) {
            return true;
        }
        if self.address_like {
            self.text.clear();
            let _ = write!(self.text, "{}", s.ip);
            if has(&self.text, needle) {
                return true;
            }
        }
        s.pods.iter().any(|p| {
            self.text.clear();
            let _ = write!(self.text, "{}/{}", p.namespace, p.name);
            has(&self.text, needle)
        })
    }
}

/// `memo[key]`, worked out by `work` the first time.
fn remember(memo: &mut Vec<Option<bool>>, key: usize, work: impl FnOnce() -> bool) -> bool {
    if let Some(Some(known)) = memo.get(key) {
        return *known;
    }
    let found = work();
    if memo.len() <= key {
        memo.resize(key + 1, None);
    }
    if let Some(slot) = memo.get_mut(key) {
        *slot = Some(found);
    }
    found
}

/// Whether `text` holds `needle` (lower case), ASCII case ignored: what
/// `text.to_ascii_lowercase().contains(needle)` says, without the copy.
fn has(text: &str, needle: &str) -> bool {
    let n = needle.as_bytes();
    n.is_empty() || text.as_bytes().windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}

/// The picker's targets: every ENI that is not an instance's secondary, grouped by kind.
/// Instances can be thousands; the picker keeps the first few hundred (any IP can be typed). The
/// ENIs are picked and ordered before any label is written: writing every instance's label only
/// to drop all but 300 of them took 20 ms of a warm run at 5,000 nodes (BENCHMARKS.md item 51).
#[inline(never)]
fn targets(loaded: &Loaded) -> Vec<TargetOption> {
    let mut picked: Vec<(usize, &podreach_core::model::Eni, std::net::Ipv4Addr)> = loaded
        .model
        .enis
        .iter()
        .filter_map(|e| Some((target_group(e.role)?, e, e.primary_ip.or_else(|| e.private_ips.first().copied())?)))
        .collect();
    picked.sort_by(|a, b| (a.0, &a.1.id).cmp(&(b.0, &b.1.id)));
    let mut instances = 0usize;
    picked.retain(|(_, e, _)| {
        if e.role == Role::InstancePrimary {
            instances += 1;
            instances <= MAX_INSTANCE_TARGETS
        } else {
            true
        }
    });
    picked
        .into_iter()
        .map(|(place, e, ip)| {
            let what = match e.role {
                Role::InstancePrimary => loaded.model.instance_label(e.instance.as_deref().unwrap_or("")).to_string(),
                _ => {
                    let d: String = e.description.chars().take(48).collect();
                    if d.is_empty() {
                        e.role.label().to_owned()
                    } else {
                        d
                    }
                }
            };
            TargetOption {
                eni: e.id.clone(),
                ip: ip.to_string(),
                label: format!("{} · {ip} · {what}", e.id),
                group: TARGET_GROUPS.get(place).copied().unwrap_or_default().to_owned(),
            }
        })
        .collect()
}

/// The picker's groups, in the order it lists them.
const TARGET_GROUPS: [&str; 6] = ["rds", "load balancers", "eks control plane", "vpc endpoints", "other", "instances"];

/// The picker's group of an ENI with `role` (its place in [`TARGET_GROUPS`]); `None` for the
/// ENIs that are not targets: an instance's secondaries, trunks and branches, NAT gateways.
fn target_group(role: Role) -> Option<usize> {
    Some(match role {
        Role::Rds => 0,
        Role::LoadBalancer => 1,
        Role::EksControlPlane => 2,
        Role::VpcEndpoint => 3,
        Role::Efs | Role::Lambda | Role::Other => 4,
        Role::InstancePrimary => 5,
        Role::CniSecondary | Role::OtherSecondary | Role::Trunk | Role::Branch | Role::NatGateway => return None,
    })
}

/// How many instances the picker lists.
const MAX_INSTANCE_TARGETS: usize = 300;

/// One warm-up round: the bundled example through a fresh engine and into the view's JSON, the
/// same code a real run takes. Returns the JSON's length.
///
/// Why: V8 first runs WebAssembly through its baseline compiler and optimises each function only
/// once it has run for a while, in the background; a function already running keeps its baseline
/// code. Parsing one large file is one long call, so without a warm-up most of it runs unoptimised
/// (about twice as slow at 5,000 nodes, BENCHMARKS.md item 30). The worker warms up while the
/// user picks files, and stops as soon as a request arrives.
pub fn warm_round() -> usize {
    let mut engine = Engine::default();
    engine.set_inputs(crate::example::inputs());
    let view = engine.run(Some(&crate::example::query()), &PageReq::default());
    serde_json::to_string(&Response::View { seq: 0, view: Box::new(view) }).map_or(0, |json| json.len())
}

/// The example's files whose list is read item by item, each list repeated [`PARSE_COPIES`]
/// times: a few hundred KB of ENIs, groups and pods, the three largest files of an export.
pub fn parse_warm_texts() -> Vec<(&'static str, String)> {
    const LISTS: [(&str, &str); 3] = [
        ("network-interfaces.json", "\"NetworkInterfaces\""),
        ("security-groups.json", "\"SecurityGroups\""),
        ("pods.json", "\"items\""),
    ];
    LISTS
        .iter()
        .filter_map(|(name, key)| {
            let (_, text) = crate::example::FILES.iter().find(|(n, _)| n == name)?;
            Some((*name, repeat_list(text, key, PARSE_COPIES)?))
        })
        .collect()
}

/// How many times the parse warm-up repeats each example list (the ENIs: 4 to 240).
pub const PARSE_COPIES: usize = 60;

/// Parses [`parse_warm_texts`]; the number of items read.
///
/// Why: a cold run (files chosen the moment the worker is ready) waits a few hundred milliseconds
/// for the largest file, and warm-up rounds of the example fill that wait. But V8 optimises a
/// function only once it has run for a while, and the example's lists are a few items long: in
/// a trace of a cold run at 5,000 nodes, the optimising compiler did nothing while the worker
/// waited, with one core idle, and then competed with the parse for the cores once the file came.
/// Reading lists of a few hundred items runs each item's reader often enough that V8 starts
/// optimising it at once, while the worker still waits.
pub fn warm_parse(texts: &[(&'static str, String)]) -> usize {
    texts
        .iter()
        .map(|(name, text)| {
            let parsed = podreach_core::parse(&Input { name, bytes: text.as_bytes() });
            std::hint::black_box(&parsed).documents().iter().map(|d| d.count).sum::<usize>()
        })
        .sum()
}

/// `text` with the elements of the list under `key` (a JSON array of objects) repeated `copies`
/// times; `None` if the list is not found whole.
fn repeat_list(text: &str, key: &str, copies: usize) -> Option<String> {
    let at = text.find(key)? + key.len();
    let open = at + text.get(at..)?.find('[')?;
    let close = matching_bracket(text, open)?;
    let inner = text.get(open + 1..close)?.trim();
    let mut out = String::with_capacity(text.len() + inner.len() * copies);
    out.push_str(text.get(..=open)?);
    out.push_str(&[inner].repeat(copies).join(","));
    out.push_str(text.get(close..)?);
    Some(out)
}

/// The offset of the `]` that closes the `[` at `open`, skipping strings.
fn matching_bracket(text: &str, open: usize) -> Option<usize> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (i, b) in text.bytes().enumerate().skip(open) {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => depth += 1,
            b']' | b'}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return (b == b']').then_some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// When the warm-up is done: once a run of batches is steady at the fastest so far and clearly
/// faster than the first batches (the optimised code is in place), or after [`Warmup::CAP_MS`]
/// in any case. Measured in Chromium (5,000-node bench), batches of the baseline code take 7-37 ms
/// and vary; the optimised ones take 2-4 ms.
#[derive(Debug, Default)]
pub struct Warmup {
    /// Every batch's duration in ms, in order.
    batches: Vec<f64>,
}

impl Warmup {
    /// Warm-up rounds per measured batch.
    pub const ROUNDS: u32 = 10;
    /// Batches in a row within [`Warmup::SLACK`] of the fastest that count as steady.
    pub const STEADY: usize = 8;
    pub const SLACK: f64 = 1.25;
    /// The baseline is the median of batches 2 to 6 (the first also compiles); the steady
    /// batches must be at most this share of it.
    pub const SPEEDUP: f64 = 0.6;
    /// The most the warm-up runs, whatever the timings say.
    pub const CAP_MS: f64 = 4000.0;

    /// Records a batch that took `ms`, `elapsed` ms after the warm-up began; true when done.
    pub fn record(&mut self, ms: f64, elapsed: f64) -> bool {
        self.batches.push(ms);
        elapsed >= Self::CAP_MS || self.warm()
    }

    pub fn rounds(&self) -> u32 {
        self.batches.len() as u32 * Self::ROUNDS
    }

    fn warm(&self) -> bool {
        let (Some(early), Some(recent)) =
            (self.batches.get(1..6), self.batches.len().checked_sub(Self::STEADY).and_then(|k| self.batches.get(k..)))
        else {
            return false;
        };
        let mut early = early.to_vec();
        early.sort_by(f64::total_cmp);
        let baseline = early.get(early.len() / 2).copied().unwrap_or(0.0);
        let best = self.batches.iter().copied().fold(f64::INFINITY, f64::min);
        best <= baseline * Self::SPEEDUP && recent.iter().all(|&m| m <= best * Self::SLACK)
    }
}

#[cfg(test)]
mod tests;

//! A report's source rows, compact: a whole account has more than a million of them.
//!
//! Each row is two indexes: into the slots, which hold each source's address, ENI and pods and
//! are built once per load, and into the traces (a few thousand for a million rows). Building a
//! row touches nothing but the row, and a new query on loaded data builds only rows and traces.

use super::{Label, PodRef, ReasonOut, SourceEni, SourceOut, SourceWhy};
use crate::net::Cidr4;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The source rows of a report, in address order. Read them as [`Source`] views.
#[derive(Clone, Debug, Default)]
pub struct Sources {
    rows: Vec<Row>,
    slots: Arc<[Slot]>,
    enis: Arc<[SourceEni]>,
    traces: Arc<[Traced]>,
    pods: Arc<[PodRef]>,
}

/// One row: its source's slot and its trace. Eight bytes: a new query on a whole account writes
/// a hundred thousand of them.
#[derive(Clone, Copy, Debug)]
struct Row {
    slot: u32,
    trace: u32,
}

/// What a source's rows share whatever the query: its address, its ENI and its pods.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Slot {
    pub ip: Cidr4,
    pub eni: u32,
    /// The source's pods are `pods[pods..pods + pod_count]`.
    pub pods: u32,
    pub pod_count: u32,
}

/// What the rows of one trace share: the verdict and why.
#[derive(Clone, Debug)]
pub(crate) struct Traced {
    pub verdict: Label,
    pub why: SourceWhy,
}

/// One source row, borrowed from its [`Sources`]. Compares by value, as [`SourceOut`] does.
#[derive(Clone, Copy, Debug)]
pub struct Source<'r> {
    pub ip: Cidr4,
    pub on: &'r SourceEni,
    pub verdict: &'r str,
    pub why: &'r SourceWhy,
    pub pods: &'r [PodRef],
    /// Which ENI and trace entries of its `Sources` the row points at: rows that share one share
    /// its text.
    eni_at: u32,
    trace_at: u32,
}

impl PartialEq for Source<'_> {
    fn eq(&self, o: &Self) -> bool {
        (self.ip, self.on, self.verdict, self.why, self.pods) == (o.ip, o.on, o.verdict, o.why, o.pods)
    }
}

impl<'r> Source<'r> {
    pub fn eni(&self) -> &'r str {
        &self.on.eni
    }
    pub fn eth(&self) -> Option<&'r str> {
        self.on.eth.as_deref()
    }
    pub fn instance(&self) -> Option<&'r str> {
        self.on.instance.as_deref()
    }
    pub fn node(&self) -> Option<&'r str> {
        self.on.node.as_deref()
    }
    pub fn role(&self) -> &'r str {
        &self.on.role
    }
    pub fn cause(&self) -> &'r str {
        &self.why.cause
    }
    pub fn reasons(&self) -> &'r [ReasonOut] {
        &self.why.reasons
    }
    pub fn missing(&self) -> &'r [String] {
        &self.why.missing
    }
    /// The index of the row's ENI entry in its `Sources`: rows of one `Sources` with one index
    /// share the ENI's names and role.
    pub fn eni_key(&self) -> usize {
        self.eni_at as usize
    }
    /// The index of the row's trace entry in its `Sources` (below
    /// [`Sources::trace_entries`]): rows of one `Sources` with one index share verdict, cause,
    /// reasons and missing.
    pub fn trace_key(&self) -> usize {
        self.trace_at as usize
    }
    /// The row on its own, owning its parts (the page sends rows in pages).
    pub fn owned(&self) -> SourceOut {
        SourceOut {
            ip: self.ip,
            on: Arc::new(self.on.clone()),
            verdict: Label::Owned(self.verdict.to_owned()),
            why: Arc::new(self.why.clone()),
            pods: self.pods.into(),
        }
    }
}

impl Sources {
    /// Rows over shared tables; [`Sources::push`] adds rows that index them.
    pub(crate) fn over(
        slots: Arc<[Slot]>,
        enis: Arc<[SourceEni]>,
        traces: Arc<[Traced]>,
        pods: Arc<[PodRef]>,
        capacity: usize,
    ) -> Sources {
        Sources { rows: Vec::with_capacity(capacity), slots, enis, traces, pods }
    }

    /// Adds a row; false (and nothing added) when an index is out of its table, or the slot's are.
    pub(crate) fn push(&mut self, slot: usize, trace: usize) -> bool {
        let fits = trace < self.traces.len()
            && self.slots.get(slot).is_some_and(|s| {
                (s.eni as usize) < self.enis.len()
                    && (s.pods as usize).checked_add(s.pod_count as usize).is_some_and(|end| end <= self.pods.len())
            });
        let (Ok(slot), Ok(trace)) = (u32::try_from(slot), u32::try_from(trace)) else { return false };
        if fits {
            self.rows.push(Row { slot, trace });
        }
        fits
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// How many trace entries the rows index: every [`Source::trace_key`] is below it.
    pub fn trace_entries(&self) -> usize {
        self.traces.len()
    }

    /// Per trace entry that rows index, in entry order: its verdict, its cause, and how many rows
    /// index it. One pass over the compact rows, without a view per row (a function of its own in
    /// the worker, so that its loop does not get its caller optimised mid-run: BENCHMARKS.md item 50).
    #[cfg_attr(target_arch = "wasm32", inline(never))]
    pub fn by_trace(&self) -> Vec<(&str, &str, usize)> {
        let mut counts = vec![0usize; self.traces.len()];
        for r in &self.rows {
            if let Some(n) = counts.get_mut(r.trace as usize) {
                *n += 1;
            }
        }
        self.traces
            .iter()
            .zip(counts)
            .filter(|(_, n)| *n > 0)
            .map(|(t, n)| (&*t.verdict, t.why.cause.as_str(), n))
            .collect()
    }

    /// The row at `i`.
    pub fn get(&self, i: usize) -> Option<Source<'_>> {
        self.rows.get(i).and_then(|r| self.view(r))
    }

    /// Every row, in order.
    pub fn iter(&self) -> SourcesIter<'_> {
        self.range(0..self.rows.len())
    }

    /// The rows at `range` (clamped to the rows there are).
    pub fn range(&self, range: std::ops::Range<usize>) -> SourcesIter<'_> {
        let end = range.end.min(self.rows.len());
        SourcesIter { rows: self.rows.get(range.start.min(end)..end).unwrap_or(&[]).iter(), of: self }
    }

    fn view(&self, r: &Row) -> Option<Source<'_>> {
        let t = self.traces.get(r.trace as usize)?;
        let s = self.slots.get(r.slot as usize)?;
        let start = s.pods as usize;
        Some(Source {
            ip: s.ip,
            on: self.enis.get(s.eni as usize)?,
            verdict: &t.verdict,
            why: &t.why,
            pods: self.pods.get(start..start.checked_add(s.pod_count as usize)?)?,
            eni_at: s.eni,
            trace_at: r.trace,
        })
    }
}

/// The rows of a [`Sources`] as [`Source`] views.
#[derive(Clone, Debug)]
pub struct SourcesIter<'r> {
    rows: std::slice::Iter<'r, Row>,
    of: &'r Sources,
}

impl<'r> Iterator for SourcesIter<'r> {
    type Item = Source<'r>;
    fn next(&mut self) -> Option<Source<'r>> {
        // Every row that `push` or `from_iter` added has a view; the check only keeps this total.
        let of = self.of;
        self.rows.by_ref().find_map(|r| of.view(r))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.rows.len()))
    }
}

impl DoubleEndedIterator for SourcesIter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        let of = self.of;
        self.rows.by_ref().rev().find_map(|r| of.view(r))
    }
}

impl<'r> IntoIterator for &'r Sources {
    type Item = Source<'r>;
    type IntoIter = SourcesIter<'r>;
    fn into_iter(self) -> SourcesIter<'r> {
        self.iter()
    }
}

impl PartialEq for Sources {
    fn eq(&self, o: &Sources) -> bool {
        self.len() == o.len() && self.iter().eq(o.iter())
    }
}

/// Rows that each own their parts (a report read back from JSON, a test's edited rows): each
/// gets its own table entries.
impl FromIterator<SourceOut> for Sources {
    fn from_iter<I: IntoIterator<Item = SourceOut>>(rows: I) -> Sources {
        let (mut slots, mut enis, mut traces, mut pods, mut out) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for s in rows {
            let (start, count) = (pods.len(), s.pods.len());
            pods.extend(s.pods.iter().cloned());
            // Tables this size have indexes that fit: u32 holds every row a report can have.
            let at = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
            out.push(Row { slot: at(slots.len()), trace: at(traces.len()) });
            slots.push(Slot { ip: s.ip, eni: at(enis.len()), pods: at(start), pod_count: at(count) });
            enis.push(Arc::unwrap_or_clone(s.on));
            traces.push(Traced { verdict: s.verdict, why: Arc::unwrap_or_clone(s.why) });
        }
        Sources { rows: out, slots: slots.into(), enis: enis.into(), traces: traces.into(), pods: pods.into() }
    }
}

impl Serialize for Source<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        super::SourceRow::borrowed(self.ip, self.on, self.verdict, self.why, self.pods).serialize(s)
    }
}

impl Serialize for Sources {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for Sources {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Vec::<SourceOut>::deserialize(d)?.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(ip: &str, eni: &str, verdict: &'static str, pods: &[&str]) -> SourceOut {
        SourceOut {
            ip: Cidr4::parse(ip).unwrap(),
            on: Arc::new(SourceEni { eni: eni.into(), eth: None, instance: None, node: None, role: "other".into() }),
            verdict: verdict.into(),
            why: Arc::new(SourceWhy { cause: format!("{verdict} cause"), reasons: vec![], missing: vec![] }),
            pods: pods.iter().map(|p| PodRef { namespace: "ns".into(), name: (*p).into() }).collect(),
        }
    }

    #[test]
    fn owned_rows_round_trip_through_the_compact_form() {
        let rows = vec![row("10.0.0.1", "eni-a", "blocked", &["p1", "p2"]), row("10.0.0.2", "eni-b", "reachable", &[])];
        let s: Sources = rows.clone().into_iter().collect();
        assert_eq!(s.len(), 2);
        let back: Vec<SourceOut> = s.iter().map(|v| v.owned()).collect();
        assert_eq!(back, rows);
        assert_eq!(s.get(0).map(|v| v.pods.len()), Some(2));
        assert_eq!(s.get(2), None);
        assert_eq!(s.range(1..9).map(|v| v.eni()).collect::<Vec<_>>(), ["eni-b"]);
        assert_eq!(s.range(5..9).count(), 0);
        assert_eq!(s.iter().rev().map(|v| v.eni()).collect::<Vec<_>>(), ["eni-b", "eni-a"]);
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(json, serde_json::to_string(&rows).unwrap());
        let read: Sources = serde_json::from_str(&json).unwrap();
        assert_eq!(read, s);
    }

    #[test]
    fn a_row_that_indexes_past_a_table_is_not_added() {
        let enis: Arc<[SourceEni]> = vec![row("10.0.0.1", "eni-a", "blocked", &[]).on.as_ref().clone()].into();
        let traces: Arc<[Traced]> = vec![Traced {
            verdict: "blocked".into(),
            why: SourceWhy { cause: "c".into(), reasons: vec![], missing: vec![] },
        }]
        .into();
        let pods: Arc<[PodRef]> = vec![PodRef { namespace: "ns".into(), name: "p".into() }].into();
        let ip = Cidr4::parse("10.0.0.1").unwrap();
        let slot = |eni, pods, pod_count| Slot { ip, eni, pods, pod_count };
        let slots: Arc<[Slot]> = vec![slot(0, 0, 1), slot(1, 0, 0), slot(0, 1, 1), slot(0, u32::MAX, 2)].into();
        let mut s = Sources::over(slots, enis, traces, pods, 4);
        assert!(s.push(0, 0));
        // An ENI past its table, a trace past its table, pods past their table, a slot past its
        // table, pods whose end overflows.
        assert!(!s.push(1, 0));
        assert!(!s.push(0, 1));
        assert!(!s.push(2, 0));
        assert!(!s.push(4, 0));
        assert!(!s.push(3, 0));
        assert_eq!(s.len(), 1);
        assert_eq!(s.get(0).map(|v| v.pods.len()), Some(1));
    }

    #[test]
    fn rows_are_counted_by_trace_entry_and_unused_entries_left_out() {
        let enis: Arc<[SourceEni]> = vec![row("10.0.0.1", "eni-a", "blocked", &[]).on.as_ref().clone()].into();
        let traced = |verdict: &'static str, cause: &str| Traced {
            verdict: verdict.into(),
            why: SourceWhy { cause: cause.into(), reasons: vec![], missing: vec![] },
        };
        let traces: Arc<[Traced]> =
            vec![traced("blocked", "no rule"), traced("unknown", "unused"), traced("reachable", "rule r1")].into();
        let ip = Cidr4::parse("10.0.0.1").unwrap();
        let slots: Arc<[Slot]> = vec![Slot { ip, eni: 0, pods: 0, pod_count: 0 }].into();
        let mut s = Sources::over(slots, enis, traces, Arc::from(Vec::new()), 4);
        for trace in [2, 0, 2, 2] {
            assert!(s.push(0, trace));
        }
        assert_eq!(s.by_trace(), [("blocked", "no rule", 1), ("reachable", "rule r1", 3)]);
        // The same counts as a walk over the rows' views.
        let mut walked = std::collections::BTreeMap::new();
        for v in &s {
            *walked.entry((v.trace_key(), v.verdict, v.cause())).or_insert(0) += 1;
        }
        let walked: Vec<_> = walked.into_iter().map(|((_, v, c), n)| (v, c, n)).collect();
        assert_eq!(s.by_trace(), walked);
        assert!(Sources::default().by_trace().is_empty());
    }
}

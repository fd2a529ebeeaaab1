//! The report: everything the CLI and the page show, as one serialisable value.
//!
//! Built from the model, the drift findings and (with a target) the analysis. Field order and
//! list order are fixed, so the same input gives byte-identical JSON on every platform.

use crate::diag::Diagnostic;
use crate::drift::{drift, Cause, Drift};
use crate::hash::{FastMap, FastSet};
use crate::load::{Document, Loaded};
use crate::model::*;
use crate::net::{Cidr4, Ports, Proto};
use crate::par::{Join, Sequential};
use crate::reach::{self, eni_label, Analysis, Block, Query, QueryError, SourceResult, Trace, Verdict};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// A fixed word (a verdict, a code, a role): borrowed when built, owned when read back.
pub type Label = Cow<'static, str>;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

mod sources;
use sources::Slot;
use sources::Traced;
pub use sources::{Source, Sources, SourcesIter};

pub const SCHEMA: &str = "podreach/report@1";

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Report {
    pub schema: Label,
    pub target: Option<TargetOut>,
    pub summary: Summary,
    /// One sentence that says what is going on.
    pub headline: Option<String>,
    pub sources: Sources,
    /// Shared with every report of the same load (they do not depend on the query).
    pub drift: Arc<Vec<DriftOut>>,
    pub instances: Arc<Vec<InstanceOut>>,
    pub workloads: Vec<WorkloadOut>,
    pub unmapped_pods: Vec<UnmappedPod>,
    pub fixes: Vec<FixOut>,
    pub assumptions: Vec<String>,
    pub inputs: Arc<Vec<InputOut>>,
    pub diagnostics: Vec<DiagOut>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TargetOut {
    pub eni: String,
    pub ip: String,
    pub protocol: String,
    pub port: Option<u16>,
    pub role: Label,
    pub label: String,
    pub groups: Vec<String>,
    pub subnet: Option<String>,
    pub vpc: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    pub reachable: usize,
    pub blocked: usize,
    pub unknown: usize,
    /// Pods by the verdict of their address, when pods were given.
    pub pods: Option<Counts>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Counts {
    pub reachable: usize,
    pub blocked: usize,
    pub unknown: usize,
}

/// One source row on its own, holding its parts (the page's pages of rows, a report read back
/// from JSON). A report keeps its rows compact, as [`Sources`], and lends them out as [`Source`]
/// views. In JSON a row is flat: `ip, eni, eth, instance, node, role, verdict, cause, reasons,
/// missing, pods`.
#[derive(Clone, Debug, PartialEq)]
pub struct SourceOut {
    /// A host address (`10.0.1.57`) or a delegated prefix (`10.0.2.32/28`).
    pub ip: Cidr4,
    pub on: Arc<SourceEni>,
    pub verdict: Label,
    pub why: Arc<SourceWhy>,
    /// The pods whose address is this source's (shared by every report on the same inputs).
    pub pods: Arc<[PodRef]>,
}

/// What the rows of one ENI share.
#[derive(Clone, Debug, PartialEq)]
pub struct SourceEni {
    pub eni: String,
    pub eth: Option<String>,
    pub instance: Option<String>,
    pub node: Option<String>,
    pub role: Label,
}

/// What the rows of one trace share.
#[derive(Clone, Debug, PartialEq)]
pub struct SourceWhy {
    /// The deciding fact, without this source's own names: sources with the same cause group.
    pub cause: String,
    pub reasons: Vec<ReasonOut>,
    /// For `unknown`: the exports that would settle it.
    pub missing: Vec<String>,
}

impl SourceOut {
    pub fn eni(&self) -> &str {
        &self.on.eni
    }
    pub fn eth(&self) -> Option<&str> {
        self.on.eth.as_deref()
    }
    pub fn instance(&self) -> Option<&str> {
        self.on.instance.as_deref()
    }
    pub fn node(&self) -> Option<&str> {
        self.on.node.as_deref()
    }
    pub fn role(&self) -> &str {
        &self.on.role
    }
    pub fn cause(&self) -> &str {
        &self.why.cause
    }
    pub fn reasons(&self) -> &[ReasonOut] {
        &self.why.reasons
    }
    pub fn missing(&self) -> &[String] {
        &self.why.missing
    }
}

/// A source row as it is written: flat.
#[derive(Serialize, Deserialize)]
struct SourceRow<'a> {
    ip: Cidr4,
    eni: Cow<'a, str>,
    eth: Option<Cow<'a, str>>,
    instance: Option<Cow<'a, str>>,
    node: Option<Cow<'a, str>>,
    role: Cow<'a, str>,
    verdict: Cow<'a, str>,
    cause: Cow<'a, str>,
    reasons: Cow<'a, [ReasonOut]>,
    missing: Cow<'a, [String]>,
    pods: Cow<'a, [PodRef]>,
}

impl<'a> SourceRow<'a> {
    /// A row's parts, borrowed, as they are written (a [`SourceOut`] and a [`Source`] alike).
    fn borrowed(ip: Cidr4, on: &'a SourceEni, verdict: &'a str, why: &'a SourceWhy, pods: &'a [PodRef]) -> Self {
        use Cow::Borrowed;
        SourceRow {
            ip,
            eni: Borrowed(&on.eni),
            eth: on.eth.as_deref().map(Borrowed),
            instance: on.instance.as_deref().map(Borrowed),
            node: on.node.as_deref().map(Borrowed),
            role: Borrowed(&on.role),
            verdict: Borrowed(verdict),
            cause: Borrowed(&why.cause),
            reasons: Borrowed(&why.reasons),
            missing: Borrowed(&why.missing),
            pods: Borrowed(pods),
        }
    }
}

impl Serialize for SourceOut {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        SourceRow::borrowed(self.ip, &self.on, &self.verdict, &self.why, &self.pods).serialize(s)
    }
}

impl<'de> Deserialize<'de> for SourceOut {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let r = SourceRow::deserialize(d)?;
        Ok(SourceOut {
            ip: r.ip,
            on: Arc::new(SourceEni {
                eni: r.eni.into_owned(),
                eth: r.eth.map(Cow::into_owned),
                instance: r.instance.map(Cow::into_owned),
                node: r.node.map(Cow::into_owned),
                role: Cow::Owned(r.role.into_owned()),
            }),
            verdict: Cow::Owned(r.verdict.into_owned()),
            why: Arc::new(SourceWhy {
                cause: r.cause.into_owned(),
                reasons: r.reasons.into_owned(),
                missing: r.missing.into_owned(),
            }),
            pods: r.pods.into_owned().into(),
        })
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ReasonOut {
    pub code: Label,
    pub layer: Label,
    pub outcome: Label,
    pub message: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct PodRef {
    pub namespace: Arc<str>,
    pub name: Arc<str>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct DriftOut {
    pub instance: String,
    pub primary_eni: String,
    pub eni: String,
    pub eth: Option<String>,
    pub missing: Vec<String>,
    pub extra: Vec<String>,
    pub cause: Label,
    pub by_design: bool,
    pub explanation: String,
    pub fix: Option<String>,
    pub fix_tradeoff: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct InstanceOut {
    pub instance: String,
    pub label: String,
    pub instance_type: Option<String>,
    pub node: Option<String>,
    /// ENI and IPv4 limits of the instance type, when known.
    pub limits: Option<Limits>,
    /// The matrix columns: every group any ENI of the instance carries.
    pub groups: Vec<GroupCol>,
    /// The matrix rows, in device-index order; branch ENIs last.
    pub enis: Vec<EniRow>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Limits {
    pub enis: u32,
    pub ipv4_per_eni: u32,
    pub max_pods: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct GroupCol {
    pub id: String,
    pub name: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct EniRow {
    pub eni: String,
    pub eth: Option<String>,
    pub device_index: Option<u32>,
    pub network_card: Option<u32>,
    pub subnet: Option<String>,
    pub interface_type: String,
    pub role: Label,
    pub description: String,
    pub addresses: usize,
    pub prefixes: Vec<String>,
    pub groups: Vec<String>,
    /// Groups of the primary this ENI lacks, and groups it has that the primary lacks.
    pub missing: Vec<String>,
    pub extra: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct WorkloadOut {
    pub namespace: String,
    pub kind: String,
    pub name: String,
    pub replicas: usize,
    pub reachable: usize,
    pub blocked: usize,
    pub unknown: usize,
    pub message: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct UnmappedPod {
    pub namespace: String,
    pub name: String,
    pub ip: String,
    pub reason: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct FixOut {
    pub code: Label,
    pub title: String,
    pub command: String,
    pub tradeoff: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct InputOut {
    pub file: String,
    pub line: usize,
    pub kind: Label,
    pub count: usize,
    pub partial: bool,
    pub label: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct DiagOut {
    pub severity: Label,
    pub code: Label,
    pub message: String,
    pub file: Option<String>,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

impl From<&Diagnostic> for DiagOut {
    fn from(d: &Diagnostic) -> DiagOut {
        DiagOut {
            severity: d.severity.as_str().into(),
            code: d.code.into(),
            message: d.message.clone(),
            file: d.location.as_ref().map(|l| l.file.clone()),
            line: d.location.as_ref().map(|l| l.line),
            column: d.location.as_ref().map(|l| l.column),
        }
    }
}

/// Builds the report: the matrix and drift always, and reachability when a query is given.
pub fn build(loaded: &Loaded, query: Option<&Query>) -> Result<Report, QueryError> {
    build_on(loaded, query, &Sequential)
}

/// [`build`], with the query's evaluation and the query-independent parts run through `join`
/// (on two threads in the CLI). The report does not depend on how `join` runs them.
pub fn build_on(loaded: &Loaded, query: Option<&Query>, join: &impl Join) -> Result<Report, QueryError> {
    let model = &loaded.model;
    let (prepared, analysis) = join.join(
        || Prepared::new_on(model, &loaded.diagnostics, &loaded.documents, join),
        || query.map(|q| reach::analyze(model, q)).transpose(),
    );
    Ok(prepared.report_with(model, analysis?.as_ref()))
}

/// Builds the report from an analysis that was already run.
pub fn build_with(
    model: &Model,
    diagnostics: &[Diagnostic],
    documents: &[Document],
    analysis: Option<&Analysis>,
) -> Report {
    Prepared::new(model, diagnostics, documents).report_with(model, analysis)
}

/// Everything in a report that does not depend on the query, computed once per load: the matrix,
/// drift, inputs, and the indexes that put pods and names on source rows. A new query (another
/// target, port or protocol) then pays only for its own evaluation and rows.
#[derive(Debug)]
pub struct Prepared {
    /// The load's diagnostics with what the model lacks, sorted: for a report without and with
    /// a query (only the second says that NACLs were not evaluated).
    diagnostics: [Vec<DiagOut>; 2],
    drifts: Vec<Drift>,
    drift: Arc<Vec<DriftOut>>,
    /// Every instance's matrix, or `None` when built on request ([`Prepared::without_matrices`]).
    instances: Option<Arc<Vec<InstanceOut>>>,
    inputs: Arc<Vec<InputOut>>,
    /// One per model pod, in the model's order (sorted by namespace and name, deduplicated).
    pods: Vec<PodRef>,
    /// (address, index into `pods`), sorted.
    pods_by_ip: Vec<(u32, u32)>,
    /// The pods of `pods_by_ip`, in its order: a source row's pods are a run of them.
    pods_in_ip_order: Arc<[PodRef]>,
    /// Per ENI, what each of its source rows shares (names, role).
    source_enis: Arc<[SourceEni]>,
    /// Per model source (`Index::sources`, in its order), its address, ENI and pods.
    source_slots: Arc<[Slot]>,
    /// Pods no exported ENI holds, and IPv6-only pods: (index into `pods`, row).
    unmapped: Vec<(u32, UnmappedPod)>,
    /// Pods by owning workload (namespace, kind, name), sorted; pods in model order.
    workloads: Vec<WorkloadPods>,
}

/// The parts of [`Prepared`] built beside the matrix and drift.
struct PreparedRest {
    diagnostics: [Vec<DiagOut>; 2],
    pods: Vec<PodRef>,
    pods_by_ip: Vec<(u32, u32)>,
    pods_in_ip_order: Arc<[PodRef]>,
    source_enis: Arc<[SourceEni]>,
    source_slots: Arc<[Slot]>,
    unmapped: Vec<(u32, UnmappedPod)>,
    workloads: Vec<WorkloadPods>,
}

/// A workload (namespace, kind, name) and the indexes of its pods.
type WorkloadPods = ((String, String, String), Vec<u32>);

impl Prepared {
    pub fn new(model: &Model, diagnostics: &[Diagnostic], documents: &[Document]) -> Prepared {
        Prepared::new_on(model, diagnostics, documents, &Sequential)
    }

    /// [`Prepared::new`], with the matrix and drift on one side of `join` and the rest on the other.
    pub fn new_on(model: &Model, diagnostics: &[Diagnostic], documents: &[Document], join: &impl Join) -> Prepared {
        Prepared::build(model, diagnostics, documents, join, true)
    }

    /// [`Prepared::new`] without the instances' matrices, for an edge that shows a few of them:
    /// its reports leave them out, and [`Prepared::first_matrices`] and [`Prepared::matrices`]
    /// build them on request. A whole account has thousands of instances, and their matrices
    /// were a fifth of the work of preparing (BENCHMARKS.md, item 43).
    pub fn without_matrices(model: &Model, diagnostics: &[Diagnostic], documents: &[Document]) -> Prepared {
        Prepared::build(model, diagnostics, documents, &Sequential, false)
    }

    fn build(
        model: &Model,
        diagnostics: &[Diagnostic],
        documents: &[Document],
        join: &impl Join,
        matrices: bool,
    ) -> Prepared {
        let ((drifts, drift, instances), rest) = join.join(
            || {
                let drifts = drift(model);
                let out = drifts.iter().map(drift_out).collect();
                let rows = matrices.then(|| Arc::new(instance_rows(model, &drifts, model.index.instance_enis.iter())));
                (drifts, out, rows)
            },
            || {
                let pods: Vec<PodRef> = model.pods.iter().map(pod_ref).collect();
                let mut pods_by_ip = Vec::new();
                // Keyed by borrowed names: a whole account has a hundred thousand pods on a few
                // thousand workloads, and each key is copied once.
                let mut workloads: Workloads<'_> = FastMap::default();
                for (i, p) in (0u32..).zip(&model.pods) {
                    place_pod(&mut pods_by_ip, &mut workloads, i, p);
                }
                pods_by_ip.sort_unstable();
                // Every index comes from enumerating the model's pods, which `pods` maps one to one,
                // so this lines up with `pods_by_ip`.
                let pods_in_ip_order = pods_by_ip.iter().filter_map(|&(_, i)| pods.get(i as usize).cloned()).collect();
                let diags = |query: bool| {
                    let mut d = diagnostics.to_vec();
                    coverage_diagnostics(model, query, &mut d);
                    d.sort();
                    d.dedup();
                    d.iter().map(DiagOut::from).collect()
                };
                PreparedRest {
                    diagnostics: [diags(false), diags(true)],
                    source_slots: source_slots(&model.index.sources, &pods_by_ip),
                    pods_by_ip,
                    pods_in_ip_order,
                    source_enis: model.enis.iter().map(|e| source_eni(model, e)).collect(),
                    unmapped: unmapped_pods(model),
                    workloads: {
                        let mut w: Vec<WorkloadPods> = workloads
                            .into_iter()
                            .map(|((ns, kind, name), pods)| ((ns.to_owned(), kind.to_owned(), name.to_owned()), pods))
                            .collect();
                        w.sort_unstable_by(|a, b| a.0.cmp(&b.0));
                        w
                    },
                    pods,
                }
            },
        );
        Prepared {
            diagnostics: rest.diagnostics,
            drift: Arc::new(drift),
            instances,
            inputs: Arc::new(
                documents
                    .iter()
                    .map(|d| InputOut {
                        file: d.file.clone(),
                        line: d.line,
                        kind: d.kind.slug().into(),
                        count: d.count,
                        partial: d.partial,
                        label: d.label(),
                    })
                    .collect(),
            ),
            drifts,
            pods_by_ip: rest.pods_by_ip,
            pods_in_ip_order: rest.pods_in_ip_order,
            source_enis: rest.source_enis,
            source_slots: rest.source_slots,
            unmapped: rest.unmapped,
            workloads: rest.workloads,
            pods: rest.pods,
        }
    }

    /// The report for `query` (matrix and drift only without one).
    pub fn report(&self, model: &Model, query: Option<&Query>) -> Result<Report, QueryError> {
        let analysis = match query {
            Some(q) => Some(reach::analyze(model, q)?),
            None => None,
        };
        Ok(self.report_with(model, analysis.as_ref()))
    }

    /// The report for an analysis that was already run.
    pub fn report_with(&self, model: &Model, analysis: Option<&Analysis>) -> Report {
        let [without, with] = &self.diagnostics;
        let mut report = Report {
            schema: SCHEMA.into(),
            target: None,
            summary: Summary::default(),
            headline: None,
            sources: Sources::default(),
            drift: Arc::clone(&self.drift),
            instances: self.instances.clone().unwrap_or_default(),
            workloads: Vec::new(),
            unmapped_pods: Vec::new(),
            fixes: Vec::new(),
            assumptions: Vec::new(),
            inputs: Arc::clone(&self.inputs),
            diagnostics: if analysis.is_some() { with.clone() } else { without.clone() },
        };
        if let Some(a) = analysis {
            self.reachability(model, a, &mut report);
        }
        report
    }

    /// Every instance's matrix, as a report of [`Prepared::new`] holds them.
    pub fn matrices(&self, model: &Model) -> Arc<Vec<InstanceOut>> {
        match &self.instances {
            Some(all) => Arc::clone(all),
            None => Arc::new(instance_rows(model, &self.drifts, model.index.instance_enis.iter())),
        }
    }

    /// The matrices of at most `n` instances: those with drift first, then the others, each in
    /// the order of [`Prepared::matrices`].
    pub fn first_matrices(&self, model: &Model, n: usize) -> Vec<InstanceOut> {
        let drifted: FastSet<&str> = self.drifts.iter().map(|d| d.instance.as_str()).collect();
        let all = &model.index.instance_enis;
        let first = all.iter().filter(|(i, _)| drifted.contains(i.as_str()));
        let rest = all.iter().filter(|(i, _)| !drifted.contains(i.as_str()));
        instance_rows(model, &self.drifts, first.chain(rest).take(n))
    }

    #[cfg_attr(target_arch = "wasm32", inline(never))]
    fn reachability(&self, model: &Model, a: &Analysis, out: &mut Report) {
        out.target = model.enis.get(a.target.eni).map(|t| TargetOut {
            eni: t.id.clone(),
            ip: a.target.ip.to_string(),
            protocol: a.flow.proto.to_string(),
            port: a.flow.port,
            role: t.role.slug().into(),
            label: target_label(t),
            groups: t.groups.iter().map(|g| g.id.clone()).collect(),
            subnet: t.subnet.clone(),
            vpc: t.vpc.clone(),
        });
        // Per pod: the verdict of its (last) address, and the cause of its first blocked one.
        let mut pod_verdict: Vec<Option<Verdict>> = vec![None; self.pods.len()];
        let mut pod_blocked_by: Vec<Option<usize>> = vec![None; self.pods.len()];
        let traces: Arc<[Traced]> =
            a.traces.iter().map(|t| Traced { verdict: t.verdict.as_str().into(), why: source_why(t) }).collect();
        let summary = &mut out.summary;
        let mut sources = Sources::over(
            Arc::clone(&self.source_slots),
            Arc::clone(&self.source_enis),
            Arc::clone(&traces),
            Arc::clone(&self.pods_in_ip_order),
            a.sources.len(),
        );
        // The analysis' sources are the model's (`Index::sources`) without the target's, in the
        // same order: each one's slot is mostly the one after the previous row's.
        let slots = &self.source_slots;
        let mut at = 0usize;
        let verdicts = trace_verdicts(a);
        for r in &a.sources {
            let Some(&verdict) = verdicts.get(r.trace) else { continue };
            let holds = |s: &Slot| s.ip == r.addr && s.eni as usize == r.eni;
            if !slots.get(at).is_some_and(holds) {
                // Past the target's sources, or an analysis in some other order: look it up.
                let key = (r.addr.first(), r.addr.len, r.eni);
                at = slots.partition_point(|s| (s.ip.first(), s.ip.len, s.eni as usize) < key);
            }
            let Some(slot) = slots.get(at).filter(|s| holds(s)) else { continue };
            let pushed = sources.push(at, r.trace);
            at += 1;
            if !pushed {
                continue;
            }
            let start = slot.pods as usize;
            let pods = self.pods_by_ip.get(start..start.saturating_add(slot.pod_count as usize)).unwrap_or(&[]);
            for &(_, i) in pods {
                let i = i as usize;
                if let Some(v) = pod_verdict.get_mut(i) {
                    *v = Some(verdict);
                }
                if verdict == Verdict::Blocked {
                    if let Some(c @ None) = pod_blocked_by.get_mut(i) {
                        *c = Some(r.trace);
                    }
                }
            }
            match verdict {
                Verdict::Reachable => summary.reachable += 1,
                Verdict::Blocked => summary.blocked += 1,
                Verdict::Unknown => summary.unknown += 1,
            }
        }
        out.sources = sources;
        // Pods whose address no exported ENI holds: unknown unless an address of theirs decided.
        for (i, row) in &self.unmapped {
            if let Some(v @ None) = pod_verdict.get_mut(*i as usize) {
                *v = Some(Verdict::Unknown);
            }
            out.unmapped_pods.push(row.clone());
        }
        if !model.pods.is_empty() {
            let mut c = Counts::default();
            for v in pod_verdict.iter().flatten() {
                match v {
                    Verdict::Reachable => c.reachable += 1,
                    Verdict::Blocked => c.blocked += 1,
                    Verdict::Unknown => c.unknown += 1,
                }
            }
            out.summary.pods = Some(c);
        }
        let cause_of = |pod: u32| -> Option<&str> {
            let t = pod_blocked_by.get(pod as usize).copied().flatten()?;
            traces.get(t).map(|s| s.why.cause.as_str())
        };
        out.workloads = workload_rows(a, &self.workloads, &pod_verdict, cause_of);
        let runs = source_runs(a);
        out.fixes = build_fixes(model, a, &runs, &self.drifts, |addr| !self.pods_in(addr).is_empty());
        out.headline = Some(make_headline(model, a, &runs, &out.summary));
        out.assumptions.clone_from(&a.assumptions);
    }

    /// Indexes into `pods` of the pods whose address lies in `block`.
    fn pods_in(&self, block: Cidr4) -> &[(u32, u32)] {
        let start = self.pods_by_ip.partition_point(|(ip, _)| *ip < block.first());
        let rest = self.pods_by_ip.get(start..).unwrap_or(&[]);
        let n = rest.partition_point(|(ip, _)| *ip <= block.last());
        rest.get(..n).unwrap_or(&[])
    }
}

/// Per source, its slot: its address, ENI and the run of `pods_by_ip` in its block. Both are
/// sorted by address, so one cursor walks the pods.
#[cfg_attr(target_arch = "wasm32", inline(never))]
fn source_slots(sources: &[(Cidr4, usize)], pods_by_ip: &[(u32, u32)]) -> Arc<[Slot]> {
    let at = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    let mut cursor = 0usize;
    sources
        .iter()
        .map(|(addr, eni)| {
            let rest = pods_by_ip.get(cursor..).unwrap_or(&[]);
            cursor += rest.iter().take_while(|(ip, _)| *ip < addr.first()).count();
            let rest = pods_by_ip.get(cursor..).unwrap_or(&[]);
            let count = rest.iter().take_while(|(ip, _)| *ip <= addr.last()).count();
            Slot { ip: *addr, eni: at(*eni), pods: at(cursor), pod_count: at(count) }
        })
        .collect()
}

/// Pods that no exported ENI holds an address of, and IPv6-only pods, with why.
#[cfg_attr(target_arch = "wasm32", inline(never))]
fn unmapped_pods(model: &Model) -> Vec<(u32, UnmappedPod)> {
    let eni_partial = model.coverage.partial.contains(&ExportKind::NetworkInterfaces);
    let mut out = Vec::new();
    // Whether each node name's first node is on Fargate, looked up once per unmapped address (a
    // scan of every node for each was quadratic in a whole account's export).
    let mut fargate: crate::hash::FastMap<&str, bool> = crate::hash::FastMap::default();
    for n in &model.nodes {
        fargate.entry(n.name.as_str()).or_insert(n.fargate);
    }
    for (i, p) in (0u32..).zip(&model.pods) {
        let row = |ip: String, reason: &str| UnmappedPod {
            namespace: p.namespace.clone(),
            name: p.name.clone(),
            ip,
            reason: reason.to_owned(),
        };
        if p.ips.is_empty() {
            if let Some(v6) = p.ipv6.first() {
                out.push((i, row(v6.to_string(), "ipv6-only pod: not evaluated; podreach evaluates ipv4 flows, and an ipv4 rule never matches ipv6 traffic")));
            }
        }
        for ip in &p.ips {
            if model.owner_of(*ip).is_some() {
                continue;
            }
            let node_fargate = p.node.as_deref().and_then(|n| fargate.get(n)).copied().unwrap_or(false);
            let reason = if eni_partial {
                "no exported eni holds this address, and the eni export is partial (NextToken): unknown, not blocked"
            } else if node_fargate {
                "a fargate pod: its eni is not in the export"
            } else {
                "no exported eni holds this address (another vpc, a stale pods list, or an incomplete eni export)"
            };
            out.push((i, row(ip.to_string(), reason)));
        }
    }
    out
}

/// What the model lacks that matters, as diagnostics.
#[cfg_attr(target_arch = "wasm32", inline(never))]
fn coverage_diagnostics(model: &Model, query: bool, out: &mut Vec<Diagnostic>) {
    use crate::diag::Severity;
    let cov = &model.coverage;
    if !cov.have.contains(&ExportKind::NetworkInterfaces) {
        out.push(Diagnostic::new(
            Severity::Warning,
            "no-network-interfaces",
            "no network interfaces were given; run `aws ec2 describe-network-interfaces`",
        ));
    }
    if !cov.have.contains(&ExportKind::SecurityGroups) && !cov.have.contains(&ExportKind::SecurityGroupRules) {
        out.push(Diagnostic::new(
            Severity::Warning,
            "no-security-groups",
            "no security groups were given, so every verdict is unknown; run `aws ec2 describe-security-groups`",
        ));
    }
    if query && !cov.have.contains(&ExportKind::NetworkAcls) {
        out.push(Diagnostic::new(
            Severity::Info,
            "nacls-not-evaluated",
            "network acls were not given, so they were not evaluated; add `aws ec2 describe-network-acls` to check them",
        ));
    }
    // Groups that ENIs carry but the export lacks.
    if cov.have.contains(&ExportKind::SecurityGroups) || cov.have.contains(&ExportKind::SecurityGroupRules) {
        // Each group id once (the index holds every id an ENI carries), not once per ENI.
        let missing: BTreeSet<&str> =
            model.index.members.keys().filter(|id| !model.groups.contains_key(*id)).map(String::as_str).collect();
        if !missing.is_empty() {
            let list: Vec<&str> = missing.iter().copied().take(8).collect();
            let more = if missing.len() > 8 { format!(" and {} more", missing.len() - 8) } else { String::new() };
            out.push(Diagnostic::new(
                Severity::Warning,
                "missing-groups",
                format!(
                    "enis carry groups that are not in the security-group export: {}{more}; run `aws ec2 describe-security-groups --group-ids {}`",
                    list.join(", "),
                    list.join(" ")
                ),
            ));
        }
    }
    let unresolved = unresolved_prefix_lists(model);
    if !unresolved.is_empty() {
        let list: Vec<&str> = unresolved.into_iter().collect();
        out.push(Diagnostic::new(
            Severity::Info,
            "unresolved-prefix-lists",
            format!(
                "rules reference prefix lists whose entries were not given: {}; verdicts that depend on them are unknown",
                list.join(", ")
            ),
        ));
    }
    let (v6_only, pending) = pods_without_ipv4(&model.pods);
    if v6_only > 0 && query {
        out.push(Diagnostic::new(
            Severity::Warning,
            "ipv6-not-evaluated",
            format!(
                "{v6_only} pods have only ipv6 addresses; podreach evaluates ipv4 flows, so they are listed as unknown"
            ),
        ));
    }
    if pending > 0 {
        out.push(Diagnostic::new(
            Severity::Info,
            "pods-without-address",
            format!("{pending} pods have no address yet (pending) and are not placed"),
        ));
    }
}

/// A pod's names, shared by every row of its addresses. This and [`place_pod`] are the bodies of
/// walks over every pod, out of [`Prepared::build`] (crate docs; BENCHMARKS.md item 55).
#[cfg_attr(target_arch = "wasm32", inline(never))]
fn pod_ref(p: &Pod) -> PodRef {
    PodRef { namespace: Arc::from(p.namespace.as_str()), name: Arc::from(p.name.as_str()) }
}

/// Pods by workload: (namespace, owner kind, owner name) to the pods' indexes.
type Workloads<'m> = FastMap<(&'m str, &'m str, &'m str), Vec<u32>>;

/// Pod `i`'s addresses and its place in its workload.
#[cfg_attr(target_arch = "wasm32", inline(never))]
fn place_pod<'m>(pods_by_ip: &mut Vec<(u32, u32)>, workloads: &mut Workloads<'m>, i: u32, p: &'m Pod) {
    pods_by_ip.extend(p.ips.iter().map(|ip| (u32::from(*ip), i)));
    if let Some(owner) = &p.owner {
        workloads.entry((p.namespace.as_str(), owner.kind.as_str(), owner.name.as_str())).or_default().push(i);
    }
}

/// Prefix lists referenced by rules without entries. This and [`pods_without_ipv4`] walk every
/// rule and every pod, out of [`coverage_diagnostics`] (crate docs; BENCHMARKS.md item 55).
#[cfg_attr(target_arch = "wasm32", inline(never))]
fn unresolved_prefix_lists(model: &Model) -> BTreeSet<&str> {
    let mut unresolved: BTreeSet<&str> = BTreeSet::new();
    for g in model.groups.values() {
        for r in g.ingress.iter().chain(&g.egress) {
            if let Peer::PrefixList(id) = &r.peer {
                if model.prefix_lists.get(id).and_then(|p| p.cidrs.as_ref()).is_none() {
                    unresolved.insert(id.as_str());
                }
            }
        }
    }
    unresolved
}

/// Pods with no IPv4 address: (those with only IPv6 addresses, those with no address at all).
#[cfg_attr(target_arch = "wasm32", inline(never))]
fn pods_without_ipv4(pods: &[Pod]) -> (usize, usize) {
    let (mut v6_only, mut pending) = (0, 0);
    for p in pods.iter().filter(|p| p.ips.is_empty()) {
        if p.ipv6.is_empty() {
            pending += 1;
        } else {
            v6_only += 1;
        }
    }
    (v6_only, pending)
}

fn target_label(t: &Eni) -> String {
    let ip = t.primary_ip.map(|i| i.to_string()).unwrap_or_default();
    let what = match t.role {
        Role::Rds => "rds".to_owned(),
        Role::InstancePrimary | Role::CniSecondary | Role::OtherSecondary => {
            format!("{} of {}", t.eth().unwrap_or_default(), t.instance.as_deref().unwrap_or("?"))
        }
        r => r.label().to_owned(),
    };
    format!("{} ({what}, {ip})", t.id)
}

/// Per trace, its verdict: rows read theirs from here rather than from their trace, which is
/// large and far away (a whole account has a million rows on a few thousand traces).
fn trace_verdicts(a: &Analysis) -> Vec<Verdict> {
    a.traces.iter().map(|t| t.verdict).collect()
}

fn source_why(t: &Trace) -> SourceWhy {
    SourceWhy {
        cause: t.cause(),
        reasons: t
            .steps
            .iter()
            .map(|s| ReasonOut {
                code: s.code.into(),
                layer: s.layer.as_str().into(),
                outcome: s.outcome.as_str().into(),
                message: s.message.clone(),
            })
            .collect(),
        missing: t.missing.iter().map(reach::Missing::command).collect(),
    }
}

#[cfg_attr(target_arch = "wasm32", inline(never))]
fn source_eni(model: &Model, e: &Eni) -> SourceEni {
    SourceEni {
        eni: e.id.clone(),
        eth: if e.role == Role::Branch { None } else { e.eth() },
        instance: e.instance.clone(),
        node: e.instance.as_deref().and_then(|i| model.node_of_instance(i)).map(|n| n.name.clone()),
        role: e.role.slug().into(),
    }
}

#[cfg_attr(target_arch = "wasm32", inline(never))]
fn drift_out(d: &Drift) -> DriftOut {
    DriftOut {
        instance: d.instance.clone(),
        primary_eni: d.primary_eni.clone(),
        eni: d.eni.clone(),
        eth: d.device_index.map(|i| format!("eth{i}")),
        missing: d.missing.clone(),
        extra: d.extra.clone(),
        cause: d.cause.code().into(),
        by_design: !d.cause.is_fault(),
        explanation: d.explanation.clone(),
        fix: d.fix.clone(),
        fix_tradeoff: d.fix_tradeoff.clone(),
    }
}

/// The matrices of `instances` (each with its ENIs' indexes), in that order.
#[cfg_attr(target_arch = "wasm32", inline(never))]
fn instance_rows<'m>(
    model: &'m Model,
    drifts: &[Drift],
    instances: impl Iterator<Item = (&'m String, &'m Vec<usize>)>,
) -> Vec<InstanceOut> {
    // A whole account has thousands of instances on a few groups: the ENIs' groups are compared
    // as short lists, and each group's name is looked up once.
    let drift_of: FastMap<&str, &Drift> = drifts.iter().map(|d| (d.eni.as_str(), d)).collect();
    let mut names: FastMap<&str, Option<String>> = FastMap::default();
    let mut out = Vec::with_capacity(instances.size_hint().0);
    for (inst, enis) in instances {
        let rows_enis: Vec<&Eni> = enis.iter().filter_map(|&i| model.enis.get(i)).collect();
        let primary = rows_enis.iter().find(|e| e.role == Role::InstancePrimary);
        // The primary's groups in its order, and sorted without repeats.
        let pgroups: Vec<&str> = primary.map(|p| p.groups.iter().map(|g| g.id.as_str()).collect()).unwrap_or_default();
        let mut pset = pgroups.clone();
        pset.sort_unstable();
        pset.dedup();
        // Columns: the primary's groups first (in its order), then the others by id.
        let mut rest: Vec<&str> =
            rows_enis.iter().flat_map(|e| &e.groups).map(|g| g.id.as_str()).filter(|id| !pset.contains(id)).collect();
        rest.sort_unstable();
        rest.dedup();
        let rows = rows_enis
            .iter()
            .map(|e| {
                let drifted = drift_of.get(e.id.as_str()).copied();
                let compare = primary.is_some() && e.role != Role::Branch && e.role != Role::InstancePrimary;
                let has = |id: &str| e.groups.iter().any(|g| g.id == id);
                EniRow {
                    eni: e.id.clone(),
                    eth: if e.role == Role::Branch { None } else { e.eth() },
                    device_index: e.device_index(),
                    network_card: e.attachment.as_ref().map(|a| a.network_card),
                    subnet: e.subnet.clone(),
                    interface_type: e.interface_type.clone(),
                    role: e.role.slug().into(),
                    description: e.description.clone(),
                    addresses: e.private_ips.len(),
                    prefixes: e.prefixes.iter().map(Cidr4::to_string).collect(),
                    groups: e.groups.iter().map(|g| g.id.clone()).collect(),
                    missing: match drifted {
                        Some(d) => d.missing.clone(),
                        None if compare => pset.iter().filter(|id| !has(id)).map(|id| (*id).to_owned()).collect(),
                        None => Vec::new(),
                    },
                    extra: match drifted {
                        Some(d) => d.extra.clone(),
                        None if compare => {
                            let mut v: Vec<&str> = e
                                .groups
                                .iter()
                                .map(|g| g.id.as_str())
                                .filter(|id| pset.binary_search(id).is_err())
                                .collect();
                            v.sort_unstable();
                            v.dedup();
                            v.into_iter().map(str::to_owned).collect()
                        }
                        None => Vec::new(),
                    },
                }
            })
            .collect();
        let i = model.instances.get(inst);
        let instance_type = i.and_then(|i| i.instance_type.clone());
        let groups = pgroups
            .iter()
            .chain(&rest)
            .map(|id| GroupCol {
                id: (*id).to_owned(),
                name: names.entry(id).or_insert_with(|| model.group_name(id).map(str::to_owned)).clone(),
            })
            .collect();
        out.push(InstanceOut {
            instance: inst.clone(),
            label: model.instance_label(inst),
            limits: instance_type.as_deref().and_then(limits),
            instance_type,
            node: model.node_of_instance(inst).map(|n| n.name.clone()),
            groups,
            enis: rows,
        });
    }
    out
}

/// ENIs × IPv4 addresses per ENI for common instance types (VPC CNI `vpc_ip_resource_limit.go`).
fn limits(t: &str) -> Option<Limits> {
    let (enis, ips) = match t {
        "t3.nano" | "t3a.nano" => (2, 2),
        "t3.micro" | "t3a.micro" => (2, 2),
        "t3.small" | "t3a.small" => (3, 4),
        "t3.medium" | "t3a.medium" => (3, 6),
        "t3.large" | "t3a.large" => (3, 12),
        "t3.xlarge" | "t3a.xlarge" | "t3.2xlarge" | "t3a.2xlarge" => (4, 15),
        "m5.large" | "m5a.large" | "m6i.large" | "m6a.large" | "m7i.large" | "c5.large" | "c6i.large" | "r5.large"
        | "r6i.large" | "m6g.large" | "m7g.large" | "c6g.large" | "r6g.large" => (3, 10),
        "m5.xlarge" | "m5a.xlarge" | "m6i.xlarge" | "m6a.xlarge" | "m7i.xlarge" | "c5.xlarge" | "c6i.xlarge"
        | "r5.xlarge" | "r6i.xlarge" | "m6g.xlarge" | "m7g.xlarge" | "c6g.xlarge" | "r6g.xlarge" => (4, 15),
        "m5.2xlarge" | "m5a.2xlarge" | "m6i.2xlarge" | "m6a.2xlarge" | "m7i.2xlarge" | "c5.2xlarge" | "c6i.2xlarge"
        | "r5.2xlarge" | "r6i.2xlarge" | "m6g.2xlarge" | "m7g.2xlarge" | "c6g.2xlarge" | "r6g.2xlarge" => (4, 15),
        "m5.4xlarge" | "m5a.4xlarge" | "m6i.4xlarge" | "m6a.4xlarge" | "c5.4xlarge" | "c6i.4xlarge" | "r5.4xlarge"
        | "r6i.4xlarge" => (8, 30),
        _ => return None,
    };
    Some(Limits { enis, ipv4_per_eni: ips, max_pods: enis * (ips - 1) + 2 })
}

#[cfg_attr(target_arch = "wasm32", inline(never))]
fn workload_rows<'c>(
    a: &Analysis,
    groups: &[WorkloadPods],
    verdicts: &[Option<Verdict>],
    cause_of: impl Fn(u32) -> Option<&'c str>,
) -> Vec<WorkloadOut> {
    let mut out = Vec::new();
    for ((ns, kind, name), members) in groups {
        // Only pods with a verdict count as replicas (a pending pod has no address yet).
        let pods: Vec<(u32, Verdict)> =
            members.iter().filter_map(|&i| Some((i, verdicts.get(i as usize).copied().flatten()?))).collect();
        if pods.is_empty() {
            continue;
        }
        let n = pods.len();
        let reachable = pods.iter().filter(|(_, v)| *v == Verdict::Reachable).count();
        let blocked = pods.iter().filter(|(_, v)| *v == Verdict::Blocked).count();
        let unknown = n - reachable - blocked;
        let kind_l = kind.to_ascii_lowercase();
        let cause = pods.iter().find_map(|(p, _)| cause_of(*p)).unwrap_or_default();
        let message = if blocked > 0 && reachable > 0 {
            format!(
                "works sometimes: {blocked} of {n} replicas of {kind_l} {ns}/{name} sit on blocked addresses ({cause}); a restarted pod takes a free address from whichever eni of its node has one, so which replicas fail changes with every restart"
            )
        } else if blocked == n && n > 1 {
            format!("all {n} replicas of {kind_l} {ns}/{name} are blocked ({cause})")
        } else if reachable == n && n == 1 {
            format!("the one replica of {kind_l} {ns}/{name} can reach the target on {}", a.flow)
        } else if blocked == n && n == 1 {
            format!("the one replica of {kind_l} {ns}/{name} is blocked ({cause})")
        } else if reachable == n {
            format!("all {n} replicas of {kind_l} {ns}/{name} can reach the target on {}", a.flow)
        } else {
            format!("{reachable} of {n} replicas of {kind_l} {ns}/{name} reach it, {blocked} are blocked, {unknown} are unknown")
        };
        out.push(WorkloadOut {
            namespace: ns.clone(),
            kind: kind.clone(),
            name: name.clone(),
            replicas: n,
            reachable,
            blocked,
            unknown,
            message,
        });
    }
    // Intermittent ones first, then by how many are blocked.
    out.sort_by(|a, b| {
        let ia = a.blocked > 0 && a.reachable > 0;
        let ib = b.blocked > 0 && b.reachable > 0;
        ib.cmp(&ia).then(b.blocked.cmp(&a.blocked)).then((&a.namespace, &a.kind, &a.name).cmp(&(
            &b.namespace,
            &b.kind,
            &b.name,
        )))
    });
    out
}

#[cfg_attr(target_arch = "wasm32", inline(never))]
fn make_headline(model: &Model, a: &Analysis, runs: &[Run<'_>], s: &Summary) -> String {
    let total = s.reachable + s.blocked + s.unknown;
    let target = model.enis.get(a.target.eni).map(target_label).unwrap_or_default();
    let what = if total == 1 { "source address" } else { "source addresses" };
    if total == 0 {
        return format!("no source addresses to evaluate against {target}: the export has no instance or branch enis");
    }
    if s.blocked == 0 && s.unknown == 0 {
        return format!("all {total} {what} can reach {target} on {}", a.flow);
    }
    let mut out = if s.blocked > 0 {
        format!("{} of {total} {what} cannot reach {target} on {}", s.blocked, a.flow)
    } else {
        format!("no address is blocked from {target} on {}, but {} of {total} are unknown", a.flow, s.unknown)
    };
    // Blocked sources by ENI and by trace: the sentence depends on which ENIs and which causes, and
    // a whole-account export has a hundred thousand sources on a few hundred of them.
    let (eni_ids, by_trace) = blocked_tally(model.enis.len(), a.traces.len(), runs, &trace_verdicts(a));
    let blocked_total: usize = by_trace.iter().sum();
    if blocked_total > 0 {
        let enis: Vec<&Eni> = eni_ids.iter().filter_map(|&i| model.enis.get(i)).collect();
        let all_secondary = enis.iter().all(|e| matches!(e.role, Role::CniSecondary | Role::OtherSecondary));

        // Groups the primaries have that every blocked ENI lacks (only said when all blocked ENIs
        // are secondaries; once nothing is left, nothing can come back).
        let mut lacking: Option<BTreeSet<String>> = None;
        // The primary's groups, once per instance.
        let mut primaries: BTreeMap<&str, Option<BTreeSet<&str>>> = BTreeMap::new();
        for e in enis.iter().filter(|_| all_secondary) {
            let primary = e.instance.as_deref().and_then(|i| {
                primaries
                    .entry(i)
                    .or_insert_with(|| model.primary_eni(i).and_then(|p| model.enis.get(p)).map(Eni::group_ids))
                    .as_ref()
            });
            let Some(pset) = primary else {
                lacking = Some(BTreeSet::new());
                break;
            };
            let miss: BTreeSet<String> = pset.difference(&e.group_ids()).map(|s| (*s).to_owned()).collect();
            let now: BTreeSet<String> = match lacking {
                None => miss,
                Some(prev) => prev.intersection(&miss).cloned().collect(),
            };
            let done = now.is_empty();
            lacking = Some(now);
            if done {
                break;
            }
        }
        let lacking = lacking.unwrap_or_default();
        if all_secondary && !lacking.is_empty() {
            let instances: BTreeSet<&str> = enis.iter().filter_map(|e| e.instance.as_deref()).collect();
            let inst = if instances.len() == 1 {
                instances.iter().next().map(|s| (*s).to_owned()).unwrap_or_default()
            } else {
                format!("{} instances", instances.len())
            };
            let groups: Vec<String> = lacking.iter().map(|g| model.group_label(g)).collect();
            out.push_str(&format!(": all on secondary enis of {inst} that lack {}", groups.join(", ")));
        } else {
            let mut causes: BTreeMap<String, usize> = BTreeMap::new();
            for (t, n) in by_trace.into_iter().enumerate().filter(|(_, n)| *n > 0) {
                *causes.entry(a.traces.get(t).map(Trace::cause).unwrap_or_default()).or_default() += n;
            }
            let mut causes: Vec<(String, usize)> = causes.into_iter().collect();
            causes.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
            if let Some((c, n)) = causes.first() {
                if *n == blocked_total {
                    out.push_str(&format!(": {c}"));
                } else {
                    out.push_str(&format!(": mostly ({n}) {c}"));
                }
            }
        }
    }
    if s.unknown > 0 && s.blocked > 0 {
        out.push_str(&format!("; {} more are unknown", s.unknown));
    }
    if let Some(p) = &s.pods {
        let n = p.reachable + p.blocked + p.unknown;
        out.push_str(&format!(" ({} of {n} pods blocked)", p.blocked));
    }
    out
}

/// A run of neighbouring sources (in address order) on one ENI with one trace: everything but
/// their addresses is the same, and the 5,000-node export has about seven sources per run.
type Run<'a> = &'a [SourceResult];

/// The runs of `a`'s sources, in order. A function of its own for the reason [`blocked_tally`] is.
#[cfg_attr(target_arch = "wasm32", inline(never))]
fn source_runs(a: &Analysis) -> Vec<Run<'_>> {
    a.sources.chunk_by(|x, y| (x.eni, x.trace) == (y.eni, y.trace)).collect()
}

/// The runs whose trace blocks, by the traces' `verdicts` ([`trace_verdicts`]), each with its
/// first source.
fn blocked_runs<'a: 'v, 'v>(
    runs: &'v [Run<'a>],
    verdicts: &'v [Verdict],
) -> impl Iterator<Item = (Run<'a>, &'a SourceResult)> + 'v {
    runs.iter()
        .filter_map(|run| Some((*run, run.first()?)))
        .filter(|(_, r)| verdicts.get(r.trace) == Some(&Verdict::Blocked))
}

/// The ENIs that hold a blocked source, in ENI order, and per trace its blocked sources: one pass,
/// no sort. The walk over every run is a function of its own so that its loop spends V8's tiering
/// budget here, not in the headline's large body, which would otherwise be optimised in the middle
/// of a cold run for the next run only (BENCHMARKS.md item 50).
#[cfg_attr(target_arch = "wasm32", inline(never))]
fn blocked_tally(
    eni_count: usize,
    trace_count: usize,
    runs: &[Run<'_>],
    verdicts: &[Verdict],
) -> (Vec<usize>, Vec<usize>) {
    let mut on_eni = vec![false; eni_count];
    let mut by_trace = vec![0usize; trace_count];
    for (run, r) in blocked_runs(runs, verdicts) {
        if let Some(m) = on_eni.get_mut(r.eni) {
            *m = true;
        }
        if let Some(c) = by_trace.get_mut(r.trace) {
            *c += run.len();
        }
    }
    let enis = on_eni.iter().enumerate().filter(|(_, on)| **on).map(|(i, _)| i).collect();
    (enis, by_trace)
}

/// The first blocked source of each (eni, trace), in address order, with its trace. A function
/// of its own for the reason [`blocked_tally`] is.
#[cfg_attr(target_arch = "wasm32", inline(never))]
fn first_blocked<'a>(
    a: &'a Analysis,
    runs: &[Run<'a>],
    eni_count: usize,
    verdicts: &[Verdict],
) -> Vec<(&'a SourceResult, &'a Trace)> {
    // Per ENI, the trace of its first blocked run, and whether it has had others: most ENIs have
    // one, and the set holds only the pairs of those that have more.
    let mut first_of_eni: Vec<(usize, bool)> = vec![(usize::MAX, false); eni_count];
    let mut seen_pairs: FastSet<(usize, usize)> = FastSet::default();
    blocked_runs(runs, verdicts)
        .filter_map(|(_, r)| Some((r, a.trace(r)?)))
        .filter(|(r, _)| match first_of_eni.get_mut(r.eni) {
            Some((first, _)) if *first == usize::MAX => {
                *first = r.trace;
                true
            }
            Some((first, _)) if *first == r.trace => false,
            Some((first, more)) => {
                if !*more {
                    *more = true;
                    seen_pairs.insert((r.eni, *first));
                }
                seen_pairs.insert((r.eni, r.trace))
            }
            None => seen_pairs.insert((r.eni, r.trace)),
        })
        .collect()
}

/// The ENIs that hold a source and are not branch ENIs, in ENI order (marked in one pass over the
/// runs). A function of its own for the reason [`blocked_tally`] is.
#[cfg_attr(target_arch = "wasm32", inline(never))]
fn node_enis_with_sources(model: &Model, runs: &[Run<'_>]) -> Vec<usize> {
    let mut holds = vec![false; model.enis.len()];
    for r in runs.iter().filter_map(|run| run.first()) {
        if let Some(m) = holds.get_mut(r.eni) {
            *m = true;
        }
    }
    model
        .enis
        .iter()
        .zip(holds)
        .enumerate()
        .filter(|(_, (e, holds))| *holds && e.role != Role::Branch)
        .map(|(i, _)| i)
        .collect()
}

/// The first blocked source (in address order) whose address holds a pod, else the first blocked
/// source. A function of its own for the reason [`blocked_tally`] is.
#[cfg_attr(target_arch = "wasm32", inline(never))]
fn representative_blocked<'a>(
    a: &'a Analysis,
    verdicts: &[Verdict],
    has_pods: &impl Fn(Cidr4) -> bool,
) -> Option<&'a SourceResult> {
    let blocked = || blocked_sources(a, verdicts).filter(|r| a.trace(r).is_some());
    blocked().find(|r| has_pods(r.addr)).or_else(|| blocked().next())
}

/// The blocked sources, in address order, by their traces' `verdicts` ([`trace_verdicts`]).
fn blocked_sources<'a: 'v, 'v>(
    a: &'a Analysis,
    verdicts: &'v [Verdict],
) -> impl Iterator<Item = &'a SourceResult> + 'v {
    a.sources.iter().filter(|r| verdicts.get(r.trace) == Some(&Verdict::Blocked))
}

/// The blocked source blocks behind each NACL and direction (see [`NaclGroup`]). A function of
/// its own for the reason [`blocked_tally`] is: it walks every source.
#[cfg_attr(target_arch = "wasm32", inline(never))]
fn nacl_groups<'a>(model: &'a Model, a: &'a Analysis, runs: &[Run<'a>], target: &Eni) -> Vec<NaclGroup<'a>> {
    let mut nacl_groups: Vec<NaclGroup<'_>> = Vec::new();
    let subnet_cidr = |eni: &Eni| eni.subnet.as_ref().and_then(|s| model.subnets.get(s)).and_then(|s| s.cidr);
    let target_block = subnet_cidr(target).unwrap_or(Cidr4::host(a.target.ip));
    // Per ENI, its subnet's block, looked up once; per trace, whether it passes through SNAT.
    let mut subnet_of: Vec<Option<Option<Cidr4>>> = vec![None; model.enis.len()];
    // Neighbouring ENIs are mostly in one subnet: the last one looked up is tried before the map.
    let mut last_subnet: Option<(&str, Option<Cidr4>)> = None;
    let snat_of: Vec<bool> = a.traces.iter().map(|t| t.steps.iter().any(|s| s.code == "snat")).collect();
    let mut last_key: Option<(&str, bool, Cidr4)> = None;
    let by_nacl: Vec<bool> =
        a.traces.iter().map(|t| t.verdict == Verdict::Blocked && matches!(t.block, Some(Block::Nacl { .. }))).collect();
    // Per ENI, the trace of its last source whose block depended on nothing else: another source
    // with that ENI and trace adds nothing, so of most runs only the first source is looked at.
    let mut done: Vec<usize> = vec![usize::MAX; model.enis.len()];
    let blocked = runs.iter().filter(|run| run.first().is_some_and(|r| by_nacl.get(r.trace) == Some(&true)));
    for run in blocked {
        // The sources of a run share their ENI and trace: what ends one ends the run, and once
        // the block is known to depend on nothing else, so do the others.
        for r in run.iter() {
            let Some(t) = a.trace(r) else { break };
            let Some(Block::Nacl { nacl, egress, entry, peer, ports }) = &t.block else { break };
            if done.get(r.eni) == Some(&r.trace) {
                break;
            }
            let (peer_block, per_pair) = if *peer == Cidr4::host(a.target.ip) {
                (target_block, true)
            } else {
                // Widen the address the target sees to the subnet of the ENI that holds it, so one
                // entry serves every pod there. That is the source's own ENI, or after SNAT the
                // node's primary ENI, whose address the block names (with custom networking the two
                // are in different subnets).
                let snat = snat_of.get(r.trace).copied().unwrap_or(false);
                let seen = if snat { *peer } else { r.addr };
                let holder = if snat { model.owner_of(std::net::Ipv4Addr::from(peer.first())) } else { Some(r.eni) };
                let subnet = holder.and_then(|h| {
                    let slot = subnet_of.get_mut(h)?;
                    *slot.get_or_insert_with(|| {
                        let id = model.enis.get(h)?.subnet.as_deref()?;
                        match last_subnet {
                            Some((last, cidr)) if last == id => cidr,
                            _ => {
                                let cidr = model.subnets.get(id).and_then(|s| s.cidr);
                                last_subnet = Some((id, cidr));
                                cidr
                            }
                        }
                    })
                });
                // Without the subnet, the block is the address itself, which only SNAT fixes.
                subnet.map_or((seen, snat), |s| (s, true))
            };
            if per_pair {
                if let Some(d) = done.get_mut(r.eni) {
                    *d = r.trace;
                }
            }
            // Neighbouring sources mostly share their block: skip the look-ups for them.
            let key = (nacl.as_str(), *egress, peer_block);
            if last_key == Some(key) {
                continue;
            }
            last_key = Some(key);
            let group = match nacl_groups.iter_mut().position(|g| g.nacl == nacl.as_str() && g.egress == *egress) {
                Some(i) => nacl_groups.get_mut(i),
                None => {
                    nacl_groups.push(NaclGroup { nacl, egress: *egress, blocks: Vec::new(), seen: BTreeSet::new() });
                    nacl_groups.last_mut()
                }
            };
            if let Some(g) = group {
                if g.seen.insert(peer_block) {
                    g.blocks.push((peer_block, *entry, *ports));
                }
            }
        }
    }
    nacl_groups
}

/// Past this many blocked source blocks behind one NACL direction, one covering entry is proposed
/// instead of one entry each.
const NACL_ENTRIES_MAX: usize = 4;

/// The blocked source blocks behind one NACL and direction, in the order they were found, each
/// with the entry that blocked it and the ports to open.
struct NaclGroup<'a> {
    nacl: &'a str,
    egress: bool,
    blocks: Vec<(Cidr4, Option<u32>, Option<Ports>)>,
    seen: BTreeSet<Cidr4>,
}

#[cfg_attr(target_arch = "wasm32", inline(never))]
fn build_fixes<'a>(
    model: &'a Model,
    a: &'a Analysis,
    runs: &[Run<'a>],
    drifts: &[Drift],
    has_pods: impl Fn(Cidr4) -> bool,
) -> Vec<FixOut> {
    let mut fixes = Vec::new();
    let flow = a.flow;
    let perm_ports = match (flow.proto, flow.port) {
        (p, Some(port)) if p.has_ports() => format!("IpProtocol={},FromPort={port},ToPort={port}", p.cli()),
        (p, Some(t)) if p.is_icmp() => format!("IpProtocol={},FromPort={t},ToPort=-1", p.cli()),
        (Proto::All, _) => "IpProtocol=-1".to_owned(),
        (p, _) => format!("IpProtocol={}", p.cli()),
    };
    // The first blocked source of each (eni, trace), in address order: everything below but the
    // representative source depends only on these.
    let verdicts = trace_verdicts(a);
    let distinct = first_blocked(a, runs, model.enis.len(), &verdicts);
    let Some(target) = model.enis.get(a.target.eni) else { return fixes };

    // 1. Ingress: admit a group that every blocked source (ideally every node eni) carries.
    let ingress_blocked: Vec<(&SourceResult, usize, Option<String>)> = distinct
        .iter()
        .filter_map(|(r, t)| match &t.block {
            Some(Block::Ingress { source_eni, near, .. }) => Some((*r, *source_eni, near.clone())),
            _ => None,
        })
        .collect();
    if !ingress_blocked.is_empty() {
        let mut blocked_enis: Vec<usize> = ingress_blocked.iter().map(|(_, e, _)| *e).collect();
        blocked_enis.sort_unstable();
        blocked_enis.dedup();
        let all_node_enis = node_enis_with_sources(model, runs);
        let everywhere = reach::common_groups(model, &all_node_enis);
        let among_blocked = reach::common_groups(model, &blocked_enis);
        let pick = |set: &BTreeSet<&str>| -> Option<String> {
            let mut v: Vec<&str> = set.iter().copied().collect();
            // Prefer a group whose name says it is for nodes; then the smallest id.
            v.sort_by_key(|g| {
                let name = model.group_name(g).unwrap_or("").to_ascii_lowercase();
                (!(name.contains("node") || name.contains("eks-cluster-sg")), (*g).to_owned())
            });
            v.first().map(|s| (*s).to_owned())
        };
        let target_group = ingress_blocked
            .iter()
            .find_map(|(_, _, near)| near.clone())
            .or_else(|| target.groups.first().map(|g| g.id.clone()))
            .unwrap_or_default();
        let branch_only = blocked_enis.iter().filter_map(|&i| model.enis.get(i)).all(|e| e.role == Role::Branch);
        let chosen =
            if branch_only { pick(&among_blocked) } else { pick(&everywhere).or_else(|| pick(&among_blocked)) };
        if let Some(g) = chosen {
            let covers_all = everywhere.contains(g.as_str());
            let title = format!("admit {} to {} on {flow}", model.group_label(&g), model.group_label(&target_group));
            let desc = if covers_all { "pods on every node eni" } else { "blocked pods" };
            fixes.push(FixOut {
                code: "authorize-ingress-group".into(),
                title,
                command: format!(
                    "aws ec2 authorize-security-group-ingress --group-id {target_group} --ip-permissions '{perm_ports},UserIdGroupPairs=[{{GroupId={g},Description=\"podreach: {desc}\"}}]'"
                ),
                tradeoff: if covers_all {
                    format!("{g} is on every node eni, so pods reach the target whichever eni their address comes from; it also admits anything else that carries {g}")
                } else {
                    format!("admits every eni that carries {g}; it does not cover all node enis, so check the ones it misses")
                },
            });
        } else {
            // Distinct subnets first, then their text, in text order.
            let subnets: BTreeSet<Cidr4> = blocked_enis
                .iter()
                .filter_map(|&i| model.enis.get(i))
                .filter_map(|e| e.subnet.as_ref())
                .filter_map(|s| model.subnets.get(s))
                .filter_map(|s| s.cidr)
                .collect();
            let cidrs: BTreeSet<String> = subnets.iter().map(ToString::to_string).collect();
            if !cidrs.is_empty() {
                let ranges: Vec<String> =
                    cidrs.iter().map(|c| format!("{{CidrIp={c},Description=\"podreach: pod subnet\"}}")).collect();
                fixes.push(FixOut {
                    code: "authorize-ingress-cidr".into(),
                    title: format!("admit the blocked pods' subnets to {} on {flow}", model.group_label(&target_group)),
                    command: format!(
                        "aws ec2 authorize-security-group-ingress --group-id {target_group} --ip-permissions '{perm_ports},IpRanges=[{}]'",
                        ranges.join(",")
                    ),
                    tradeoff: "no group is common to the blocked enis, so this admits whole subnets: everything in them, not only these pods".to_owned(),
                });
            }
        }
    }

    // 1b. Paths where no group reference can match: a cidr rule for the address the target sees.
    let mut seen: BTreeMap<String, BTreeSet<Cidr4>> = BTreeMap::new();
    for (_, t) in &distinct {
        if let Some(Block::Path { target_group: Some(g), seen: s }) = &t.block {
            seen.entry(g.clone()).or_default().insert(*s);
        }
    }
    for (g, addrs) in seen {
        let ranges: Vec<String> = addrs
            .iter()
            .map(|c| format!("{{CidrIp={},Description=\"podreach: address seen after snat or nat\"}}", c.cidr_string()))
            .collect();
        fixes.push(FixOut {
            code: "authorize-ingress-cidr".into(),
            title: format!("admit the addresses the target really sees to {} on {flow}", model.group_label(&g)),
            command: format!(
                "aws ec2 authorize-security-group-ingress --group-id {g} --ip-permissions '{perm_ports},IpRanges=[{}]'",
                ranges.join(",")
            ),
            tradeoff: "group references cannot match on this path (another region, or a public address after nat), so only cidr rules work; keep them in step when nodes or nat addresses change".to_owned(),
        });
    }

    // 2. Drifted ENIs that hold blocked sources.
    let mut holds_blocked = vec![false; model.enis.len()];
    for (r, _) in &distinct {
        if let Some(b) = holds_blocked.get_mut(r.eni) {
            *b = true;
        }
    }
    let holds_blocked = |id: &str| model.index.eni_by_id.get(id).is_some_and(|&i| holds_blocked.get(i) == Some(&true));
    let mut launch_template_groups: BTreeSet<String> = BTreeSet::new();
    let mut primary_groups: Vec<String> = Vec::new();
    for d in drifts.iter().filter(|d| holds_blocked(&d.eni)) {
        if let (Some(cmd), Some(t)) = (&d.fix, &d.fix_tradeoff) {
            fixes.push(FixOut {
                code: "resync-eni-groups".into(),
                title: format!("give {} the primary eni's groups", d.eni),
                command: cmd.clone(),
                tradeoff: t.clone(),
            });
        }
        if d.cause == Cause::PrimaryChanged {
            launch_template_groups.extend(d.missing.iter().cloned());
            if primary_groups.is_empty() {
                if let Some(p) = model.eni(&d.primary_eni) {
                    primary_groups = p.groups.iter().map(|g| g.id.clone()).collect();
                }
            }
        }
    }
    if !launch_template_groups.is_empty() {
        let groups: Vec<String> = launch_template_groups.into_iter().collect();
        fixes.push(FixOut {
            code: "node-group-groups".into(),
            title: format!("put {} on the node group instead of attaching it by hand", groups.join(", ")),
            command: format!(
                "aws ec2 create-launch-template-version --launch-template-id <launch-template-id> --source-version '$Latest' --launch-template-data '{{\"NetworkInterfaces\":[{{\"DeviceIndex\":0,\"Groups\":[{}]}}]}}'",
                primary_groups.iter().map(|g| format!("\"{g}\"")).collect::<Vec<_>>().join(",")
            ),
            tradeoff: "new nodes start with the group on eth0, and the vpc cni copies eth0's groups to every eni it creates; existing nodes need a roll (or the command above)".to_owned(),
        });
    }

    // 3. Egress.
    let egress_blocked: Vec<usize> = distinct
        .iter()
        .filter_map(|(_, t)| match &t.block {
            Some(Block::Egress { source_eni }) => Some(*source_eni),
            _ => None,
        })
        .collect();
    if !egress_blocked.is_empty() {
        let mut enis = egress_blocked;
        enis.sort_unstable();
        enis.dedup();
        let common = reach::common_groups(model, &enis);
        if let Some(g) = common.iter().next() {
            let dest = target.groups.first().map_or_else(
                || format!("IpRanges=[{{CidrIp={}/32}}]", a.target.ip),
                |tg| format!("UserIdGroupPairs=[{{GroupId={}}}]", tg.id),
            );
            fixes.push(FixOut {
                code: "authorize-egress".into(),
                title: format!("let {} out to the target on {flow}", model.group_label(g)),
                command: format!(
                    "aws ec2 authorize-security-group-egress --group-id {g} --ip-permissions '{perm_ports},{dest}'"
                ),
                tradeoff: "opens only this port to the target's group; leaves the rest of the egress policy as it is"
                    .to_owned(),
            });
        }
    }

    // 4. NACL entries: per NACL and direction, one entry per peer block (sources in several
    // subnets, or whose subnet is not exported, each need their own), numbered apart; past
    // `NACL_ENTRIES_MAX` blocks, one entry for the smallest block that covers them all.
    // Every blocked source counts (a trace's block names only its first source's address); the
    // subnet of the previous source's ENI is reused, as sources come in address order.
    let nacl_groups = nacl_groups(model, a, runs, target);
    for g in &nacl_groups {
        let Some(n) = model.nacls.iter().find(|x| x.id == g.nacl) else { continue };
        let entries = if g.egress { &n.egress } else { &n.ingress };
        let mut used: BTreeSet<u32> = entries.iter().map(|e| e.number).collect();
        let top = entries.iter().map(|e| e.number).filter(|x| *x < 32767).max().unwrap_or(0);
        let mut number_below = |blocking: Option<u32>| {
            let n = match blocking {
                Some(b) => (1..b).rev().find(|x| !used.contains(x)),
                None => (((top / 10) + 1) * 10..32767).step_by(10).find(|x| !used.contains(x)),
            };
            if let Some(n) = n {
                used.insert(n);
            }
            n
        };
        let wide = g.blocks.len() > NACL_ENTRIES_MAX;
        let entries_to_add: Vec<(Cidr4, Option<u32>, Option<Ports>)> = if wide {
            let Some(cover) = Cidr4::covering(g.blocks.iter().map(|b| b.0)) else { continue };
            let blocking = g.blocks.iter().filter_map(|b| b.1).min();
            let ports = g.blocks.first().and_then(|b| b.2);
            vec![(cover, blocking, ports)]
        } else {
            g.blocks.clone()
        };
        for (block, blocking, ports) in entries_to_add {
            let Some(number) = number_below(blocking) else { continue };
            let port_arg = match ports {
                Some(p) => format!(" --port-range From={},To={}", p.from, p.to),
                None => String::new(),
            };
            let (dir, way) = if g.egress { ("--egress", "outbound") } else { ("--ingress", "inbound") };
            let tradeoff = if wide {
                format!(
                    "one entry for the {} blocked source blocks (subnets, or addresses when subnets are not exported): it admits everything in {}, more than they need; nacls are stateless, so the reply direction needs its own entry",
                    g.blocks.len(),
                    block.cidr_string()
                )
            } else {
                "nacls are stateless: the reply direction needs its own entry, and the entry applies to every address in the subnet".to_owned()
            };
            fixes.push(FixOut {
                code: "nacl-entry".into(),
                title: format!("allow the flow in {} ({way})", g.nacl),
                command: format!(
                    "aws ec2 create-network-acl-entry --network-acl-id {} {dir} --rule-number {number} --protocol {}{port_arg} --cidr-block {} --rule-action allow",
                    g.nacl,
                    flow.proto.cli(),
                    block.cidr_string()
                ),
                tradeoff,
            });
        }
    }

    // 5. Confirm one case with Reachability Analyzer: a blocked source with a pod, if any.
    if let Some(r) = representative_blocked(a, &verdicts, &has_pods) {
        if let Some(e) = model.enis.get(r.eni) {
            let port = match (flow.proto.has_ports(), flow.port) {
                (true, Some(p)) => format!(" --destination-port {p}"),
                _ => String::new(),
            };
            let proto = match flow.proto {
                p if p == Proto::Num(crate::net::UDP) => "udp",
                _ => "tcp",
            };
            let src_ip = if r.addr.len == 32 {
                r.addr.to_string()
            } else {
                Cidr4::host(std::net::Ipv4Addr::from(r.addr.first().saturating_add(1))).to_string()
            };
            fixes.push(FixOut {
                code: "reachability-analyzer".into(),
                title: format!("confirm one blocked source ({src_ip} on {}) with reachability analyzer", eni_label(e)),
                command: format!(
                    "aws ec2 create-network-insights-path --source {} --source-ip {src_ip} --destination {} --protocol {proto}{port} --query NetworkInsightsPath.NetworkInsightsPathId --output text  # then: aws ec2 start-network-insights-analysis --network-insights-path-id <path-id>",
                    e.id, target.id
                ),
                tradeoff: "an independent check by aws from live data; each analysis is billed and checks one path".to_owned(),
            });
        }
    }

    // 6. Unknowns: what to export.
    let mut missing: BTreeSet<String> = BTreeSet::new();
    for t in a.traces.iter().filter(|t| t.verdict == Verdict::Unknown) {
        for m in &t.missing {
            missing.insert(m.command());
        }
    }
    for cmd in missing.into_iter().take(10) {
        fixes.push(FixOut {
            code: "export-missing".into(),
            title: "export what is missing to settle unknown verdicts".to_owned(),
            command: format!("{cmd} --output json"),
            tradeoff: "read-only; add its output to the inputs and run again".to_owned(),
        });
    }
    fixes
}

//! The evaluator: can each source address reach the target, and exactly why (not).
//!
//! Security groups are allow-only and stateful; NACLs are ordered, first match wins, stateless.
//! Missing data can only turn `blocked` into `unknown`, never into `reachable`.

use crate::hash::FastMap;
use crate::model::*;
use crate::net::{Cidr4, Cover, Flow, Ports, Proto, ICMP};
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::net::Ipv4Addr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verdict {
    Reachable,
    Blocked,
    Unknown,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Reachable => "reachable",
            Verdict::Blocked => "blocked",
            Verdict::Unknown => "unknown",
        }
    }
}

/// The layer a step of the path belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Layer {
    Path,
    SourceEgress,
    NaclSourceOut,
    NaclTargetIn,
    NaclTargetOut,
    NaclSourceIn,
    TargetIngress,
}

impl Layer {
    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Path => "path",
            Layer::SourceEgress => "source egress",
            Layer::NaclSourceOut => "source subnet nacl, outbound",
            Layer::NaclTargetIn => "target subnet nacl, inbound",
            Layer::NaclTargetOut => "target subnet nacl, outbound reply",
            Layer::NaclSourceIn => "source subnet nacl, inbound reply",
            Layer::TargetIngress => "target ingress",
        }
    }
}

/// One step of the explanation chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub layer: Layer,
    /// The step's own verdict: `Reachable` means it let the traffic pass.
    pub outcome: Verdict,
    pub code: &'static str,
    /// Specific to this source.
    pub message: String,
    /// The same fact without the source's own names, for grouping sources by cause.
    pub cause: String,
}

/// One source: its address block, its ENI, and the evaluation it shares with every other source
/// that the rules cannot tell apart (same ENI, same side of every address boundary).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceResult {
    /// The source block: a host address or a delegated prefix.
    pub addr: Cidr4,
    pub eni: usize,
    /// Index into `Analysis::traces`.
    pub trace: usize,
}

/// The evaluation of a path: the verdict and the explanation chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trace {
    pub verdict: Verdict,
    pub steps: Vec<Step>,
    /// The step that decided the verdict (the first blocking one, else the first unknown one).
    pub decisive: Option<usize>,
    /// What blocked it, for fixes.
    pub block: Option<Block>,
    /// Exports that would settle an `unknown`.
    pub missing: Vec<Missing>,
}

impl Trace {
    pub fn cause(&self) -> String {
        match self.decisive.and_then(|i| self.steps.get(i)) {
            Some(s) => s.cause.clone(),
            None => "allowed in both directions".to_owned(),
        }
    }
}

/// What stopped a blocked source, in the terms a fix needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Block {
    /// The target's groups admit nothing that matches; `near` is the group holding the nearest rule.
    Ingress { target_groups: Vec<String>, near: Option<String>, source_eni: usize },
    /// The source ENI's groups let nothing out to the target.
    Egress { source_eni: usize },
    /// A NACL entry (or the default deny when `entry` is `None`).
    Nacl { nacl: String, egress: bool, entry: Option<u32>, peer: Cidr4, ports: Option<Ports> },
    /// A group reference cannot match on this path (another region, a public address): only a
    /// CIDR rule for `seen`, the address the target really sees, would admit it.
    Path { target_group: Option<String>, seen: Cidr4 },
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Missing {
    Groups(Vec<String>),
    PrefixList(String),
    NaclFor(String),
    Subnet(String),
    PrimaryEni(String),
    NatGateway,
    SecurityGroups,
}

impl Missing {
    /// The export that would settle it.
    pub fn command(&self) -> String {
        match self {
            Missing::Groups(ids) => format!("aws ec2 describe-security-groups --group-ids {}", ids.join(" ")),
            Missing::SecurityGroups => "aws ec2 describe-security-groups".to_owned(),
            Missing::PrefixList(id) => format!(
                "aws ec2 get-managed-prefix-list-entries --prefix-list-id {id} --query '{{PrefixListId: `{id}`, Entries: Entries}}'"
            ),
            Missing::NaclFor(subnet) => {
                format!("aws ec2 describe-network-acls --filters Name=association.subnet-id,Values={subnet}")
            }
            Missing::Subnet(eni) => format!("aws ec2 describe-network-interfaces --network-interface-ids {eni}  # its SubnetId is missing"),
            Missing::PrimaryEni(instance) => format!(
                "aws ec2 describe-network-interfaces --filters Name=attachment.instance-id,Values={instance}"
            ),
            Missing::NatGateway => {
                "aws ec2 describe-network-interfaces --filters Name=interface-type,Values=nat_gateway".to_owned()
            }
        }
    }
}

/// What to reach.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TargetSpec {
    Eni(String),
    Ip(Ipv4Addr),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    pub target: TargetSpec,
    pub flow: Flow,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub eni: usize,
    pub ip: Ipv4Addr,
    /// The address asked for is the ENI's public address: traffic leaves the VPC.
    pub public: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Analysis {
    pub target: Target,
    pub flow: Flow,
    pub sources: Vec<SourceResult>,
    /// The distinct evaluations the sources share.
    pub traces: Vec<Trace>,
    /// Assumptions the verdicts rest on, stated once.
    pub assumptions: Vec<String>,
    pub nacls_evaluated: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryError(pub String);

/// Resolves the target of a query against the model.
pub fn resolve(model: &Model, spec: &TargetSpec) -> Result<Target, QueryError> {
    match spec {
        TargetSpec::Eni(id) => {
            let i = *model.index.eni_by_id.get(id).ok_or_else(|| {
                QueryError(format!("`{id}` is not in the exported network interfaces; check the id or export it"))
            })?;
            let e = model.enis.get(i).ok_or_else(|| QueryError(format!("`{id}` is not loaded")))?;
            let ip = e
                .primary_ip
                .or_else(|| e.private_ips.first().copied())
                .ok_or_else(|| QueryError(format!("`{id}` has no private ipv4 address in the export")))?;
            Ok(Target { eni: i, ip, public: false })
        }
        TargetSpec::Ip(ip) => {
            if let Some(i) = model.owner_of(*ip) {
                return Ok(Target { eni: i, ip: *ip, public: false });
            }
            if let Some(i) = model.public_owner_of(*ip) {
                return Ok(Target { eni: i, ip: *ip, public: true });
            }
            Err(QueryError(format!(
                "no exported network interface holds `{ip}`; give an `eni-` id, or export the target's interfaces"
            )))
        }
    }
}

/// The source blocks of a query: every private IPv4 address and delegated prefix of every ENI
/// attached to an instance or of type `branch`, except the target ENI's own.
pub fn sources(model: &Model, target_eni: usize) -> impl Iterator<Item = (Cidr4, usize)> + '_ {
    model.index.sources.iter().copied().filter(move |(_, i)| *i != target_eni)
}

/// Every private IPv4 address and delegated prefix of an ENI attached to an instance (an RDS
/// ENI is not a source) or of a branch ENI, sorted by address: the sources of any target, for
/// `Index::sources`.
pub fn candidate_sources(enis: &[Eni]) -> Vec<(Cidr4, usize)> {
    sorted_sources(enis, ENI_BITS)
}

/// The bits of an ENI's index in a packed source key, below six of prefix length and 32 of
/// address: 2^26 ENIs, far past any account.
const ENI_BITS: u32 = 26;

/// [`candidate_sources`], packing each source into a word when the ENIs' indexes fit in
/// `eni_bits` bits, and as tuples otherwise.
fn sorted_sources(enis: &[Eni], eni_bits: u32) -> Vec<(Cidr4, usize)> {
    let sources = enis.iter().enumerate().filter(|(_, e)| {
        let attached = e.attachment.as_ref().is_some_and(|a| a.instance.is_some()) && e.role != Role::Rds;
        attached || e.role == Role::Branch
    });
    // The mask of an ENI's index in a packed word, when every index fits in `eni_bits` bits.
    let fits = |mask: &u64| u64::try_from(enis.len()).is_ok_and(|n| n <= *mask);
    let Some(mask) = 1u64.checked_shl(eni_bits).map(|b| b - 1).filter(fits) else {
        let mut out: Vec<(Cidr4, usize)> = sources.flat_map(|(i, e)| cidrs(e).map(move |c| (c, i))).collect();
        // Elements with equal keys are equal, so an unstable sort gives the same order.
        out.sort_unstable_by_key(|(c, i)| (c.first(), c.len, *i));
        return out;
    };
    // Sorted by (first address, prefix length, ENI): packed into one word per source from the
    // high bits down, they sort as numbers. A whole account has hundreds of thousands of sources,
    // and sorting them as tuples took twice the instructions.
    let mut keys: Vec<u64> = sources.flat_map(|(i, e)| cidrs(e).map(move |c| pack(c, i, eni_bits))).collect();
    keys.sort_unstable();
    keys.into_iter()
        .map(|k| (Cidr4 { base: (k >> 32) as u32, len: (k >> eni_bits & 63) as u8 }, (k & mask) as usize))
        .collect()
}

/// An ENI's addresses as sources: each address, then each prefix.
fn cidrs(e: &Eni) -> impl Iterator<Item = Cidr4> + '_ {
    e.private_ips.iter().map(|ip| Cidr4::host(*ip)).chain(e.prefixes.iter().copied())
}

/// A source as one word: its first address, its prefix length (at most 32: six bits) and its
/// ENI's index (below `1 << eni_bits`), from the high bits down.
fn pack(c: Cidr4, eni: usize, eni_bits: u32) -> u64 {
    u64::from(c.first()) << 32 | u64::from(c.len & 63) << eni_bits | eni as u64
}

/// The target and flow of a query, checked.
fn query_target(model: &Model, query: &Query) -> Result<Target, QueryError> {
    let target = resolve(model, &query.target)?;
    let flow = query.flow;
    if flow.proto.has_ports() && flow.port.is_none() {
        return Err(QueryError(format!("{} needs a destination port: add `--port N`", flow.proto)));
    }
    Ok(target)
}

/// A fresh evaluation context for one query: the target's rule index, and empty memos.
#[cfg_attr(target_arch = "wasm32", inline(never))]
fn context<'a>(model: &'a Model, target: &'a Target, flow: Flow) -> Ctx<'a> {
    let ingress_index = model
        .enis
        .get(target.eni)
        .map(|t| {
            t.groups
                .iter()
                .filter_map(|g| model.groups.get(&g.id))
                .map(|sg| (sg.id.as_str(), RuleIndex::new(model, &sg.ingress, flow)))
                .collect()
        })
        .unwrap_or_default();
    Ctx {
        model,
        target,
        flow,
        nacls: model.coverage.have.contains(&ExportKind::NetworkAcls),
        ingress_index,
        nacl_memo: RefCell::default(),
        memo: RefCell::default(),
    }
}

/// Every source evaluated on its own, each in a fresh context: no shared traces, signatures or
/// memos. The reference that `analyze`'s sharing is tested against; quadratic, for tests only.
#[doc(hidden)]
pub fn evaluate_each(model: &Model, query: &Query) -> Result<Vec<(Cidr4, usize, Trace)>, QueryError> {
    let target = query_target(model, query)?;
    Ok(sources(model, target.eni)
        .map(|(addr, eni)| (addr, eni, context(model, &target, query.flow).evaluate(addr, eni)))
        .collect())
}

/// Evaluates every source against the target.
pub fn analyze(model: &Model, query: &Query) -> Result<Analysis, QueryError> {
    let target = query_target(model, query)?;
    let flow = query.flow;
    let ctx = context(model, &target, flow);
    let mut assumptions = vec![
        "routing inside a vpc follows the `local` route (route tables were not given; a middlebox in the path would also stop security-group references from matching)".to_owned(),
    ];
    if flow.proto.has_ports() {
        assumptions.push(format!(
            "clients use linux ephemeral ports {}-{} for replies",
            Ports::EPHEMERAL.from,
            Ports::EPHEMERAL.to
        ));
    }
    // Sources on one ENI that fall on the same side of every address boundary the rules draw
    // evaluate identically: evaluate once, share the trace.
    let boundaries = address_boundaries(model, &target);
    // Where a boundary starts or ends. Between two neighbouring edges every boundary covers all or
    // nothing, so sources of one kind there share a signature.
    let mut edges: Vec<u64> = boundaries.iter().flat_map(|b| [u64::from(b.first()), u64::from(b.last()) + 1]).collect();
    edges.sort_unstable();
    edges.dedup();
    let mut walk = Walk {
        model,
        ctx: &ctx,
        target_eni: model.enis.get(target.eni),
        public: target.public,
        sig: Vec::with_capacity(boundaries.len() + 1),
        next_sig: Vec::with_capacity(boundaries.len() + 1),
        boundaries,
        edges,
        classes: FastMap::default(),
        class_of: vec![None; model.enis.len()],
        cache: Vec::new(),
        sig_gen: 0,
        span: None,
        last: None,
        results: Vec::with_capacity(model.index.sources.len()),
        traces: Vec::new(),
    };
    for (addr, eni) in sources(model, target.eni) {
        walk.step(addr, eni);
    }
    let Walk { results, traces, .. } = walk;
    let snat_seen = traces.iter().any(|t| t.steps.iter().any(|s| s.code == "snat"));
    if snat_seen {
        assumptions.push(
            "pods reach addresses outside their vpc through snat to the node's primary address and primary eni (AWS_VPC_K8S_CNI_EXTERNALSNAT=false, the default)".to_owned(),
        );
    }
    if model.enis.iter().any(|e| e.role == Role::Branch) {
        assumptions.push(
            "pods with branch enis (security groups for pods) use strict mode, the default: all their traffic is subject to the branch eni's groups".to_owned(),
        );
    }
    if results.iter().any(|r| r.addr.len < 32) {
        assumptions.push(
            "a security-group reference matches addresses inside a delegated /28 prefix of an eni that carries the group (implied by the eks docs, not stated by aws)".to_owned(),
        );
    }
    let nacls_evaluated = ctx.nacls;
    Ok(Analysis { target, flow, sources: results, traces, assumptions, nacls_evaluated })
}

impl Analysis {
    pub fn trace(&self, r: &SourceResult) -> Option<&Trace> {
        self.traces.get(r.trace)
    }

    pub fn verdict(&self, r: &SourceResult) -> Verdict {
        self.trace(r).map_or(Verdict::Unknown, |t| t.verdict)
    }
}

/// The walk of [`analyze`] over every source, one [`Walk::step`] per source.
struct Walk<'w, 'm> {
    model: &'m Model,
    ctx: &'w Ctx<'m>,
    target_eni: Option<&'m Eni>,
    public: bool,
    /// The address boundaries the target's rules draw, and where each starts or ends (sorted).
    boundaries: Vec<Cidr4>,
    edges: Vec<u64>,
    /// ENIs that the rules cannot tell apart share a class: the same groups, subnet, VPC,
    /// region, kind, relation to the target's instance, and SNAT path.
    classes: FastMap<ClassKey<'m>, usize>,
    class_of: Vec<Option<usize>>,
    /// Per class, the trace of each signature seen.
    cache: Vec<SigMap>,
    /// A source's signature: whether it is a host, and how each boundary covers it.
    sig: Vec<u8>,
    next_sig: Vec<u8>,
    /// Bumped whenever `sig` changes, so equal generations mean equal signatures.
    sig_gen: u64,
    /// The previous source's [edge, next edge) and kind, when the source lay inside it: sources
    /// of one kind there share a signature.
    span: Option<(u64, u64, bool)>,
    /// The previous source's ENI, signature generation and trace. Sources come in address
    /// order, so neighbours are mostly on one ENI and one side of every boundary: its answer is
    /// checked before any map.
    last: Option<(usize, u64, usize)>,
    results: Vec<SourceResult>,
    traces: Vec<Trace>,
}

impl Walk<'_, '_> {
    /// One source. A call of its own in WebAssembly: V8 optimises a function only after it has
    /// run a while and a running call keeps its code, so inlined into [`analyze`]'s loop the whole
    /// walk ran on baseline code in a cold run, and the optimised `analyze` served only the next
    /// query (BENCHMARKS.md item 57).
    #[cfg_attr(target_arch = "wasm32", inline(never))]
    fn step(&mut self, addr: Cidr4, eni: usize) {
        let (first, end, host) = (u64::from(addr.first()), u64::from(addr.last()), addr.len == 32);
        if !self.span.is_some_and(|(lo, hi, h)| lo <= first && end < hi && h == host) {
            self.next_sig.clear();
            self.next_sig.push(u8::from(host));
            self.next_sig.extend(self.boundaries.iter().map(|b| match b.cover(addr) {
                Cover::All => 2u8,
                Cover::Part => 1,
                Cover::None => 0,
            }));
            if self.next_sig != self.sig {
                std::mem::swap(&mut self.sig, &mut self.next_sig);
                self.sig_gen += 1;
            }
            let i = self.edges.partition_point(|e| *e <= first);
            let lo = i.checked_sub(1).and_then(|j| self.edges.get(j)).copied().unwrap_or(0);
            let hi = self.edges.get(i).copied().unwrap_or(u64::MAX);
            self.span = (end < hi).then_some((lo, hi, host));
        }
        if let Some((e, g, t)) = self.last {
            if e == eni && g == self.sig_gen {
                self.results.push(SourceResult { addr, eni, trace: t });
                return;
            }
        }
        let class = match self.class_of.get(eni).copied().flatten() {
            Some(c) => c,
            None => {
                let key =
                    self.model.enis.get(eni).map_or((u32::MAX, false, None), |e| {
                        class_key(self.model, eni, e, self.target_eni, self.public)
                    });
                let next = self.classes.len();
                let c = *self.classes.entry(key).or_insert(next);
                if let Some(slot) = self.class_of.get_mut(eni) {
                    *slot = Some(c);
                }
                if self.cache.len() <= c {
                    self.cache.resize_with(c + 1, SigMap::default);
                }
                c
            }
        };
        let known = self.cache.get(class).and_then(|m| m.get(self.sig.as_slice())).copied();
        let trace = match known {
            Some(t) => t,
            None => {
                self.traces.push(self.ctx.evaluate(addr, eni));
                let t = self.traces.len() - 1;
                if let Some(m) = self.cache.get_mut(class) {
                    m.insert(self.sig.clone(), t);
                }
                t
            }
        };
        self.results.push(SourceResult { addr, eni, trace });
        self.last = Some((eni, self.sig_gen, trace));
    }
}

/// Address-side signatures of one ENI class → trace.
type SigMap = FastMap<Vec<u8>, usize>;

/// What the evaluation of a source ENI depends on, besides the source address.
#[cfg_attr(target_arch = "wasm32", inline(never))]
fn class_key<'m>(model: &'m Model, i: usize, e: &'m Eni, target: Option<&Eni>, public: bool) -> ClassKey<'m> {
    let same_instance = e.instance.is_some() && e.instance.as_deref() == target.and_then(|t| t.instance.as_deref());
    let other_vpc = matches!((e.vpc.as_deref(), target.and_then(|t| t.vpc.as_deref())), (Some(a), Some(b)) if a != b);
    // Off-VPC traffic is snatted to the instance's primary ENI: that ENI, not this one, decides.
    let snat = (other_vpc || public) && e.role != Role::Branch;
    let path = snat.then(|| {
        let primary = e.instance.as_deref().and_then(|i| model.primary_eni(i)).map_or(usize::MAX, |p| p);
        (primary, e.instance.as_deref())
    });
    let base = model.index.eni_class.get(i).copied().unwrap_or(u32::MAX);
    (base, same_instance, path)
}

/// An ENI's class for one query: its query-independent class (`eni_classes`), whether it shares
/// the target's instance, and its SNAT path (primary ENI and instance) when it has one.
type ClassKey<'m> = (u32, bool, Option<(usize, Option<&'m str>)>);

/// Per ENI, a class number shared by the ENIs that no rule can tell apart whatever the target:
/// the same groups in the same order, subnet, VPC, region and kind (branch or not). Built once per
/// load.
pub fn eni_classes(enis: &[Eni]) -> Vec<u32> {
    // (group ids, subnet, VPC, region, branch) → class. The groups stay in the ENI's order: the
    // verdict does not depend on it, but the explanation does (the first group whose rule allows
    // the flow is the one named, and "no rule of sg-a, sg-b" lists them in that order).
    type Key<'e> = (Vec<&'e str>, Option<&'e str>, Option<&'e str>, Option<&'e str>, bool);
    // Numbered in order of first appearance, so a hash map gives the same numbers.
    let mut classes: FastMap<Key<'_>, u32> = FastMap::default();
    enis.iter()
        .map(|e| {
            let groups: Vec<&str> = e.groups.iter().map(|g| g.id.as_str()).collect();
            let key = (groups, e.subnet.as_deref(), e.vpc.as_deref(), e.region(), e.role == Role::Branch);
            let next = u32::try_from(classes.len()).unwrap_or(u32::MAX);
            *classes.entry(key).or_insert(next)
        })
        .collect()
}

/// Every CIDR against which a source address is compared: the target's ingress rules (and the
/// prefix lists they name) and the target subnet's NACL entries.
#[cfg_attr(target_arch = "wasm32", inline(never))]
fn address_boundaries(model: &Model, target: &Target) -> Vec<Cidr4> {
    let mut out = Vec::new();
    let Some(t) = model.enis.get(target.eni) else { return out };
    for g in &t.groups {
        let Some(sg) = model.groups.get(&g.id) else { continue };
        for r in &sg.ingress {
            match &r.peer {
                crate::model::Peer::Cidr4(c) => out.push(*c),
                crate::model::Peer::PrefixList(id) => {
                    if let Some(c) = model.prefix_lists.get(id).and_then(|p| p.cidrs.as_ref()) {
                        out.extend(c.iter().copied());
                    }
                }
                _ => {}
            }
        }
    }
    if let Some((n, _)) = t.subnet.as_deref().and_then(|s| model.nacl_of(s, t.vpc.as_deref())) {
        if let Some(nacl) = model.nacls.get(n) {
            for e in nacl.ingress.iter().chain(&nacl.egress) {
                if let NaclAddr::V4(c) = e.addr {
                    out.push(c);
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

struct Ctx<'a> {
    model: &'a Model,
    target: &'a Target,
    flow: Flow,
    nacls: bool,
    /// The target's groups' inbound rules, indexed by the group they reference (see `RuleIndex`).
    ingress_index: FastMap<&'a str, RuleIndex<'a>>,
    /// The NACL steps already worked out in this query (see `nacl_steps`).
    nacl_memo: RefCell<FastMap<NaclKey, NaclMemo>>,
    /// Rule descriptions, labels and group look-ups already done in this query: thousands of
    /// traces name the same few rules and groups.
    memo: RefCell<Memo<'a>>,
}

/// See `Ctx::memo`: rule descriptions by the rule's address (and direction), group and ENI
/// labels by id, and groups by id (a hash look-up instead of a walk down the id-ordered map,
/// whose ids share long prefixes).
#[derive(Default)]
struct Memo<'a> {
    rules: FastMap<(usize, bool), String>,
    group_labels: FastMap<String, String>,
    eni_labels: FastMap<String, String>,
    groups: FastMap<String, Option<&'a SecurityGroup>>,
}

/// What a source's four NACL checks depend on within one query: the two NACLs (and whether each
/// was assumed to be its VPC's default), how the source is shown, and how the source address
/// falls against each entry of the target's NACL (the source's own NACL is checked against the
/// target's address, the same for every source).
type NaclKey = (usize, bool, usize, bool, String, Vec<u8>);

/// The steps those checks add, and the block they found, if any: `true` when the block's peer
/// is the source address (a check of the target's NACL), which differs between sources.
type NaclMemo = (Vec<Step>, Option<(Block, bool)>);

/// One group's rules split for checks against an ENI peer: the rules that reference a live group
/// (no stale peering, a group that exists), by that group, and all the others. A rule of the
/// first kind matches only a peer that carries its group, so a check needs only the rules of
/// the peer's groups and the others; of the skipped ones, only the first that covers the flow can
/// matter (as the nearest miss). A database group that admits a thousand node groups is then
/// checked in a few steps per source instead of a thousand.
struct RuleIndex<'a> {
    by_group: FastMap<&'a str, Vec<usize>>,
    others: Vec<usize>,
    /// The indexed rules that cover the flow, in order.
    flow_ok: Vec<usize>,
}

impl<'a> RuleIndex<'a> {
    fn new(model: &'a Model, rules: &'a [Rule], flow: Flow) -> RuleIndex<'a> {
        let mut ix = RuleIndex { by_group: FastMap::default(), others: Vec::new(), flow_ok: Vec::new() };
        for (i, rule) in rules.iter().enumerate() {
            // Live: what `peer_match` would not call stale, whoever the peer is.
            let live = match &rule.peer {
                crate::model::Peer::Group(gp)
                    if gp.peering_status.as_deref().is_none_or(|s| s == "active")
                        && (gp.user_id.is_some()
                            || model.groups.contains_key(&gp.id)
                            || model.index.members.contains_key(&gp.id)) =>
                {
                    Some(gp.id.as_str())
                }
                _ => None,
            };
            match live {
                Some(g) => {
                    ix.by_group.entry(g).or_default().push(i);
                    if proto_matches(rule, flow) {
                        ix.flow_ok.push(i);
                    }
                }
                None => ix.others.push(i),
            }
        }
        ix
    }
}

/// The far end of a security-group check: the address the rules must match, and the ENI that
/// carries it (for security-group references).
#[derive(Clone, Copy)]
struct Peer<'a> {
    addr: Cidr4,
    /// How messages name the address: never a per-source address, so one trace fits all sources.
    shown: &'a str,
    eni: Option<&'a Eni>,
    /// Addresses that can never match a security-group reference (public, after NAT).
    public: bool,
}

enum SgOutcome {
    Allowed { group: String, rule: String, inferred: bool },
    Blocked { why: String, cause: String, near: Option<String>, notes: Vec<String> },
    Unknown { why: String, missing: Vec<Missing> },
}

enum NaclOutcome {
    Allowed(String),
    Denied { entry: Option<u32>, text: String },
}

impl<'a> Ctx<'a> {
    #[cfg_attr(target_arch = "wasm32", inline(never))]
    fn evaluate(&self, addr: Cidr4, eni_idx: usize) -> Trace {
        let m = self.model;
        let mut steps = Vec::new();
        let mut missing = Vec::new();
        let mut block = None;
        let Some(src) = m.enis.get(eni_idx) else {
            return finish(steps, block, missing);
        };
        let Some(tgt) = m.enis.get(self.target.eni) else {
            return finish(steps, block, missing);
        };
        // Same instance: the traffic never crosses an ENI.
        if src.role != Role::Branch && src.instance.is_some() && src.instance == tgt.instance && !self.target.public {
            steps.push(Step {
                layer: Layer::Path,
                outcome: Verdict::Reachable,
                code: "same-instance",
                message: format!(
                    "the source and the target are on the same instance {}: the traffic stays on the host, so security groups and nacls do not apply (kubernetes network policy is out of scope)",
                    src.instance.as_deref().unwrap_or("")
                ),
                cause: "same instance: security groups and nacls do not apply".to_owned(),
            });
            return finish(steps, None, missing);
        }

        // Which ENI and address the packet leaves with.
        let other_vpc = match (&src.vpc, &tgt.vpc) {
            (Some(a), Some(b)) => a != b,
            _ => false,
        };
        let leaves_vpc = other_vpc || self.target.public;
        let mut eff = src;
        let mut eff_addr = addr;
        if leaves_vpc && src.role != Role::Branch {
            let primary = src.instance.as_deref().and_then(|i| m.primary_eni(i)).and_then(|i| m.enis.get(i));
            match primary.and_then(|p| p.primary_ip.map(|ip| (p, ip))) {
                Some((p, ip)) => {
                    eff = p;
                    eff_addr = Cidr4::host(ip);
                    let why = if self.target.public { "is a public address" } else { "is in another vpc" };
                    steps.push(Step {
                        layer: Layer::Path,
                        outcome: Verdict::Reachable,
                        code: "snat",
                        message: format!(
                            "the target {why}, so the vpc cni snats the pod address to the node's primary address {ip} and the packet leaves through {}{}; that eni's groups decide",
                            p.id,
                            p.eth().map(|e| format!(" ({e})")).unwrap_or_default()
                        ),
                        cause: format!("snat to the node's primary eni (the target {why})"),
                    });
                }
                None => {
                    let inst = src.instance.clone().unwrap_or_default();
                    missing.push(Missing::PrimaryEni(inst.clone()));
                    steps.push(Step {
                        layer: Layer::Path,
                        outcome: Verdict::Unknown,
                        code: "missing-primary-eni",
                        message: format!(
                            "the target is outside the vpc, so traffic is snatted to the primary eni of {inst}, which is not in the export"
                        ),
                        cause: "the node's primary eni is not in the export".to_owned(),
                    });
                    return finish(steps, None, missing);
                }
            }
        }

        // Cross-region peering: security-group references never match.
        let cross_region = match (eff.region(), tgt.region()) {
            (Some(a), Some(b)) => a != b,
            _ => false,
        };

        // 1. Source egress.
        let target_shown = self.target.ip.to_string();
        let source_shown = if eff_addr != addr {
            eff_addr.to_string()
        } else if addr.len < 32 {
            "the source prefix".to_owned()
        } else {
            "the source address".to_owned()
        };
        let egress_peer = Peer {
            addr: Cidr4::host(self.target.ip),
            shown: &target_shown,
            eni: Some(tgt),
            public: self.target.public,
        };
        let eg = self.sg_check(eff, false, egress_peer, cross_region);
        self.push_sg_step(&mut steps, &mut missing, &mut block, Layer::SourceEgress, eff, eg);

        // 2. NACLs, both directions.
        if self.nacls {
            self.nacl_steps(&mut steps, &mut missing, &mut block, eff, (eff_addr, &source_shown), tgt);
        }

        // 3. Target ingress.
        let ingress_peer = if self.target.public {
            Peer { addr: eff_addr, shown: &source_shown, eni: None, public: true }
        } else {
            Peer { addr: eff_addr, shown: &source_shown, eni: Some(eff), public: false }
        };
        if self.target.public {
            // After NAT or an internet gateway the target sees the NAT's elastic ip.
            let nat_ips: Vec<Ipv4Addr> = m
                .enis
                .iter()
                .filter(|e| e.role == Role::NatGateway && e.vpc.is_some() && e.vpc == eff.vpc)
                .filter_map(|e| e.public_ip)
                .collect();
            if nat_ips.is_empty() {
                missing.push(Missing::NatGateway);
                steps.push(Step {
                    layer: Layer::TargetIngress,
                    outcome: Verdict::Unknown,
                    code: "unknown-public-source",
                    message: format!(
                        "{} is a public address: the target sees the nat gateway's elastic ip, and no nat gateway eni of {} is in the export; security-group references never match here",
                        self.target.ip,
                        eff.vpc.as_deref().unwrap_or("the source vpc")
                    ),
                    cause: "public target: the nat gateway's address is not in the export".to_owned(),
                });
            } else {
                let mut outcomes = Vec::new();
                let shown: Vec<String> = nat_ips.iter().map(ToString::to_string).collect();
                for (ip, shown) in nat_ips.iter().zip(&shown) {
                    let peer = Peer { addr: Cidr4::host(*ip), shown, eni: None, public: true };
                    outcomes.push((ip, self.sg_check(tgt, true, peer, true)));
                }
                let all_allowed = outcomes.iter().all(|(_, o)| matches!(o, SgOutcome::Allowed { .. }));
                if all_allowed {
                    if let Some((_, first)) = outcomes.into_iter().next() {
                        self.push_sg_step(&mut steps, &mut missing, &mut block, Layer::TargetIngress, tgt, first);
                    }
                } else if let Some((ip, o)) =
                    outcomes.into_iter().find(|(_, o)| !matches!(o, SgOutcome::Allowed { .. }))
                {
                    let o = match o {
                        SgOutcome::Blocked { why, cause, near, notes } => SgOutcome::Blocked {
                            why: format!("the source arrives as the nat gateway's address {ip}: {why}"),
                            cause: format!("public target via nat: {cause}"),
                            near,
                            notes,
                        },
                        other => other,
                    };
                    self.push_sg_step(&mut steps, &mut missing, &mut block, Layer::TargetIngress, tgt, o);
                    if let Some(Block::Ingress { target_groups, .. }) = &block {
                        block =
                            Some(Block::Path { target_group: target_groups.first().cloned(), seen: Cidr4::host(*ip) });
                    }
                }
            }
        } else {
            let ing = self.sg_check(tgt, true, ingress_peer, cross_region);
            self.push_sg_step(&mut steps, &mut missing, &mut block, Layer::TargetIngress, tgt, ing);
            if let Some(Block::Ingress { source_eni, .. }) = &mut block {
                *source_eni = m.index.eni_by_id.get(&eff.id).copied().unwrap_or(eni_idx);
            }
        }
        if let Some(Block::Egress { source_eni }) = &mut block {
            *source_eni = m.index.eni_by_id.get(&eff.id).copied().unwrap_or(eni_idx);
        }
        if cross_region {
            if let Some(Block::Ingress { near, target_groups, .. }) = &block {
                block = Some(Block::Path {
                    target_group: near.clone().or_else(|| target_groups.first().cloned()),
                    seen: eff_addr,
                });
            }
        }
        finish(steps, block, missing)
    }

    /// `Model::groups[id]`, remembered for this query.
    fn group(&self, id: &str) -> Option<&'a SecurityGroup> {
        self.remember(|m| &mut m.groups, id, || self.model.groups.get(id))
    }

    /// `describe_rule`, written once per rule and query. The rule is one of the model's (`'a`),
    /// so its address names it for the whole query.
    fn describe(&self, rule: &'a Rule, ingress: bool) -> String {
        let key = (std::ptr::from_ref(rule) as usize, ingress);
        self.remember(|m| &mut m.rules, &key, || describe_rule(self.model, rule, ingress))
    }

    /// `Model::group_label`, written once per group and query.
    fn group_label(&self, id: &str) -> String {
        self.remember(|m| &mut m.group_labels, id, || self.model.group_label(id))
    }

    /// `eni_label`, written once per ENI and query.
    fn eni_label(&self, e: &Eni) -> String {
        self.remember(|m| &mut m.eni_labels, e.id.as_str(), || eni_label(e))
    }

    /// The value under `key` in one of `memo`'s maps, made by `make` the first time.
    fn remember<K, Q, V: Clone>(
        &self,
        map: impl for<'m> Fn(&'m mut Memo<'a>) -> &'m mut FastMap<K, V>,
        key: &Q,
        make: impl FnOnce() -> V,
    ) -> V
    where
        K: std::borrow::Borrow<Q> + std::hash::Hash + Eq,
        Q: std::hash::Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        let Ok(mut memo) = self.memo.try_borrow_mut() else { return make() };
        let values = map(&mut memo);
        if let Some(v) = values.get(key) {
            return v.clone();
        }
        let v = make();
        values.insert(key.to_owned(), v.clone());
        v
    }

    fn push_sg_step(
        &self,
        steps: &mut Vec<Step>,
        missing: &mut Vec<Missing>,
        block: &mut Option<Block>,
        layer: Layer,
        eni: &Eni,
        o: SgOutcome,
    ) {
        let ingress = layer == Layer::TargetIngress;
        let dir = if ingress { "ingress" } else { "egress" };
        // The source ENI is never named here (its row names it), so one trace fits every ENI of
        // a class; the target is the same for all.
        let eni_name = if ingress { self.eni_label(eni) } else { "the source eni".to_owned() };
        match o {
            SgOutcome::Allowed { group, rule, inferred } => {
                let label = self.group_label(&group);
                let extra =
                    if inferred { " (a reference matching a delegated prefix: inferred, see assumptions)" } else { "" };
                steps.push(Step {
                    layer,
                    outcome: Verdict::Reachable,
                    code: if ingress { "sg-ingress-allowed" } else { "sg-egress-allowed" },
                    message: format!("{dir} of {eni_name} allowed by {label}: {rule}{extra}"),
                    cause: format!("{dir} allowed by {label}: {rule}"),
                });
            }
            SgOutcome::Blocked { why, cause, near, notes } => {
                for n in notes {
                    steps.push(Step {
                        layer,
                        outcome: Verdict::Blocked,
                        code: "stale-reference",
                        message: n.clone(),
                        cause: n,
                    });
                }
                steps.push(Step {
                    layer,
                    outcome: Verdict::Blocked,
                    code: if ingress { "sg-ingress-blocked" } else { "sg-egress-blocked" },
                    message: format!("{dir} of {eni_name} blocked: {why}"),
                    cause: format!("{dir} blocked: {cause}"),
                });
                if block.is_none() {
                    *block = Some(if ingress {
                        Block::Ingress {
                            target_groups: eni.groups.iter().map(|g| g.id.clone()).collect(),
                            near,
                            source_eni: usize::MAX,
                        }
                    } else {
                        Block::Egress { source_eni: usize::MAX }
                    });
                }
            }
            SgOutcome::Unknown { why, missing: mut more } => {
                let code = if more.iter().any(|m| matches!(m, Missing::PrefixList(_))) {
                    "unresolved-prefix-list"
                } else {
                    "missing-group"
                };
                steps.push(Step {
                    layer,
                    outcome: Verdict::Unknown,
                    code,
                    message: format!("{dir} of {eni_name} unknown: {why}"),
                    cause: format!("{dir} unknown: {why}"),
                });
                missing.append(&mut more);
            }
        }
    }

    /// Whether the groups of `eni` let the flow out to (or in from) `peer`.
    fn sg_check(&self, eni: &Eni, ingress: bool, peer: Peer<'_>, cross_region: bool) -> SgOutcome {
        let m = self.model;
        let flow = self.flow;
        let dir_word = if ingress { "admits" } else { "lets out" };
        if eni.groups.is_empty() {
            if eni.role == Role::NatGateway {
                return SgOutcome::Allowed {
                    group: "(none)".to_owned(),
                    rule: "this interface has no security groups (nat gateway)".to_owned(),
                    inferred: false,
                };
            }
            return SgOutcome::Blocked {
                why: if ingress {
                    format!("{} carries no security groups", eni.id)
                } else {
                    "the source eni carries no security groups".to_owned()
                },
                cause: "the eni carries no security groups".to_owned(),
                near: None,
                notes: Vec::new(),
            };
        }
        let mut missing_groups = Vec::new();
        let mut unresolved = Vec::new();
        let mut partial: Option<(String, String)> = None;
        let mut notes = Vec::new();
        let mut best_near: Option<(u8, String, &Rule)> = None;
        for g in &eni.groups {
            let Some(sg) = self.group(&g.id) else {
                missing_groups.push(g.id.clone());
                continue;
            };
            let rules = if ingress { &sg.ingress } else { &sg.egress };
            // The rules to look at, in order, and for each whether its outcome is already known to
            // be "covers the flow, does not match the peer" (a skipped rule of the index).
            let order: Vec<(usize, bool)> = match (ingress, peer.eni, self.ingress_index.get(sg.id.as_str())) {
                (true, Some(other), Some(ix)) if !peer.public => {
                    let mut v: Vec<(usize, bool)> = ix.others.iter().map(|&i| (i, false)).collect();
                    for og in &other.groups {
                        v.extend(ix.by_group.get(og.id.as_str()).into_iter().flatten().map(|&i| (i, false)));
                    }
                    let skipped = ix.flow_ok.iter().copied().find(|&i| {
                        rules.get(i).is_some_and(|r| match &r.peer {
                            crate::model::Peer::Group(gp) => !other.has_group(&gp.id),
                            _ => false,
                        })
                    });
                    v.extend(skipped.map(|i| (i, true)));
                    v.sort_unstable();
                    v.dedup_by_key(|(i, _)| *i);
                    v
                }
                _ => (0..rules.len()).map(|i| (i, false)).collect(),
            };
            for (i, known_miss) in order {
                let Some(rule) = rules.get(i) else { continue };
                let (proto_ok, addr) = if known_miss {
                    (true, AddrMatch::No)
                } else {
                    (proto_matches(rule, flow), self.peer_match(rule, peer, eni, cross_region, &mut notes))
                };
                match (proto_ok, addr) {
                    (true, AddrMatch::Yes { inferred }) => {
                        return SgOutcome::Allowed {
                            group: sg.id.clone(),
                            rule: self.describe(rule, ingress),
                            inferred,
                        };
                    }
                    (true, AddrMatch::Unresolved(pl)) => unresolved.push(pl),
                    (_, AddrMatch::Stale) => {}
                    (true, AddrMatch::Part) => {
                        if partial.is_none() {
                            partial = Some((sg.id.clone(), self.describe(rule, ingress)));
                        }
                    }
                    (true, AddrMatch::No) => {
                        let score = 2;
                        if best_near.as_ref().is_none_or(|(s, _, _)| *s < score) {
                            best_near = Some((score, sg.id.clone(), rule));
                        }
                    }
                    (false, AddrMatch::Yes { .. }) => {
                        let score = 1;
                        if best_near.as_ref().is_none_or(|(s, _, _)| *s < score) {
                            best_near = Some((score, sg.id.clone(), rule));
                        }
                    }
                    (false, _) => {}
                }
            }
        }
        if !unresolved.is_empty() {
            unresolved.sort();
            unresolved.dedup();
            let ids = unresolved.join(", ");
            return SgOutcome::Unknown {
                why: format!(
                    "a rule for {flow} references prefix list {ids}, whose entries were not given (or not labelled)"
                ),
                missing: unresolved.into_iter().map(Missing::PrefixList).collect(),
            };
        }
        if !missing_groups.is_empty() {
            let ids = missing_groups.join(", ");
            let why = if m.coverage.have.contains(&ExportKind::SecurityGroups)
                || m.coverage.have.contains(&ExportKind::SecurityGroupRules)
            {
                format!("no exported rule {dir_word} it, and {ids} is not in the security-group export")
            } else {
                "security groups were not exported".to_owned()
            };
            let missing = if m.coverage.have.contains(&ExportKind::SecurityGroups)
                || m.coverage.have.contains(&ExportKind::SecurityGroupRules)
            {
                vec![Missing::Groups(missing_groups)]
            } else {
                vec![Missing::SecurityGroups]
            };
            return SgOutcome::Unknown { why, missing };
        }
        if let Some((gid, rule)) = partial {
            return SgOutcome::Blocked {
                why: format!(
                    "{} {rule} covers only part of {}; the rest of the prefix is not admitted",
                    self.group_label(&gid),
                    peer.shown
                ),
                cause: format!("{} covers only part of the prefix", self.group_label(&gid)),
                near: Some(gid),
                notes,
            };
        }
        let groups: Vec<String> = eni.groups.iter().map(|g| self.group_label(&g.id)).collect();
        let groups = groups.join(", ");
        match best_near {
            Some((2, gid, rule)) => {
                let label = self.group_label(&gid);
                let (why, cause) = self.explain_near(rule, peer, &label, ingress, cross_region);
                SgOutcome::Blocked { why, cause, near: Some(gid), notes }
            }
            Some((_, gid, rule)) => {
                let label = self.group_label(&gid);
                let what = self.describe(rule, ingress);
                SgOutcome::Blocked {
                    why: format!("{label} matches this address only in {what}, not for {flow}"),
                    cause: format!("{label} matches the address only in {what}, not for {flow}"),
                    near: Some(gid),
                    notes,
                }
            }
            None => {
                let total: usize = eni
                    .groups
                    .iter()
                    .filter_map(|g| self.group(&g.id))
                    .map(|g| if ingress { g.ingress.len() } else { g.egress.len() })
                    .sum();
                let why = if total == 0 {
                    format!(
                        "{groups} {} no {} rules",
                        if eni.groups.len() == 1 { "has" } else { "have" },
                        if ingress { "inbound" } else { "outbound" }
                    )
                } else {
                    format!("no rule of {groups} {dir_word} {flow} for {}", peer.shown)
                };
                let cause = if total == 0 {
                    format!("{groups}: no {} rules", if ingress { "inbound" } else { "outbound" })
                } else {
                    format!("no rule of {groups} {dir_word} {flow}")
                };
                SgOutcome::Blocked { why, cause, near: None, notes }
            }
        }
    }

    /// Why a rule that covers the protocol and port does not match this peer.
    fn explain_near(
        &self,
        rule: &Rule,
        peer: Peer<'_>,
        label: &str,
        ingress: bool,
        cross_region: bool,
    ) -> (String, String) {
        let flow = self.flow;
        let from_to = if ingress { "from" } else { "to" };
        let verb = if ingress { "admits" } else { "lets out" };
        match &rule.peer {
            crate::model::Peer::Group(gp) => {
                let gl = self.group_label(&gp.id);
                if peer.public {
                    return (
                        format!("{label} {verb} {flow} {from_to} {gl}, but the traffic arrives from a public address, which group references never match"),
                        format!("{label} {verb} {flow} {from_to} {gl}; public addresses never match a group reference"),
                    );
                }
                if cross_region {
                    return (
                        format!("{label} {verb} {flow} {from_to} {gl}, but the peer is in another region, where group references do not work (use a cidr rule)"),
                        format!("{label} {verb} {flow} {from_to} {gl}; group references do not cross regions"),
                    );
                }
                let who = if ingress {
                    "the source eni".to_owned()
                } else {
                    peer.eni.map_or_else(|| peer.shown.to_owned(), |e| self.eni_label(e))
                };
                (
                    format!("{label} {verb} {flow} {from_to} {gl}, which {who} does not carry"),
                    format!(
                        "{label} {verb} {flow} {from_to} {gl}, which the {} eni does not carry",
                        if ingress { "source" } else { "target" }
                    ),
                )
            }
            crate::model::Peer::Cidr4(c) => (
                format!("{label} {verb} {flow} {from_to} {}, which does not contain {}", c.cidr_string(), peer.shown),
                format!("{label} {verb} {flow} only {from_to} {}", c.cidr_string()),
            ),
            crate::model::Peer::Cidr6(c) => (
                format!("{label} {verb} {flow} {from_to} {c} (ipv6), which never matches ipv4 {}", peer.shown),
                format!("{label} {verb} {flow} only {from_to} ipv6 {c}"),
            ),
            crate::model::Peer::PrefixList(pl) => (
                format!("{label} {verb} {flow} {from_to} prefix list {pl}, which does not contain {}", peer.shown),
                format!("{label} {verb} {flow} only {from_to} prefix list {pl}"),
            ),
        }
    }

    fn peer_match(
        &self,
        rule: &Rule,
        peer: Peer<'_>,
        this: &Eni,
        cross_region: bool,
        notes: &mut Vec<String>,
    ) -> AddrMatch {
        let m = self.model;
        match &rule.peer {
            crate::model::Peer::Cidr4(c) => cover_match(c.cover(peer.addr)),
            crate::model::Peer::Cidr6(_) => AddrMatch::No,
            crate::model::Peer::PrefixList(id) => match m.prefix_lists.get(id).and_then(|p| p.cidrs.as_ref()) {
                Some(cidrs) => {
                    let mut best = AddrMatch::No;
                    for c in cidrs {
                        match cover_match(c.cover(peer.addr)) {
                            AddrMatch::Yes { .. } => return AddrMatch::Yes { inferred: false },
                            AddrMatch::Part => best = AddrMatch::Part,
                            _ => {}
                        }
                    }
                    best
                }
                None => AddrMatch::Unresolved(id.clone()),
            },
            crate::model::Peer::Group(gp) => {
                if peer.public {
                    return AddrMatch::No;
                }
                if let Some(status) = gp.peering_status.as_deref() {
                    if status != "active" {
                        let n = format!(
                            "stale reference: a rule of {} names {} through peering {} whose status is `{status}`; it matches nothing",
                            this.id,
                            gp.id,
                            gp.peering.as_deref().unwrap_or("?")
                        );
                        if !notes.contains(&n) {
                            notes.push(n);
                        }
                        return AddrMatch::Stale;
                    }
                }
                let Some(other) = peer.eni else { return AddrMatch::No };
                if !other.has_group(&gp.id) {
                    if gp.user_id.is_none() && !m.groups.contains_key(&gp.id) && !m.index.members.contains_key(&gp.id) {
                        let n = format!(
                            "stale reference: {} no longer exists (no `UserId`, no eni carries it); it matches nothing",
                            gp.id
                        );
                        if !notes.contains(&n) {
                            notes.push(n);
                        }
                        return AddrMatch::Stale;
                    }
                    return AddrMatch::No;
                }
                if cross_region {
                    return AddrMatch::No;
                }
                AddrMatch::Yes { inferred: peer.addr.len < 32 }
            }
        }
    }

    fn nacl_steps(
        &self,
        steps: &mut Vec<Step>,
        missing: &mut Vec<Missing>,
        block: &mut Option<Block>,
        src: &Eni,
        (src_addr, src_shown): (Cidr4, &str),
        tgt: &Eni,
    ) {
        let m = self.model;
        let (Some(ss), Some(ts)) = (src.subnet.as_deref(), tgt.subnet.as_deref()) else {
            let which = if src.subnet.is_none() { "the source eni".to_owned() } else { tgt.id.clone() };
            missing.push(Missing::Subnet(if src.subnet.is_none() { src.id.clone() } else { tgt.id.clone() }));
            steps.push(Step {
                layer: Layer::NaclSourceOut,
                outcome: Verdict::Unknown,
                code: "unknown-subnet",
                message: format!("the subnet of {which} is not in the export, so its nacl is unknown"),
                cause: "an eni's subnet is not in the export".to_owned(),
            });
            return;
        };
        if ss == ts {
            steps.push(Step {
                layer: Layer::NaclSourceOut,
                outcome: Verdict::Reachable,
                code: "nacl-same-subnet",
                message: format!("source and target are both in {ss}: nacls apply only at subnet boundaries"),
                cause: "same subnet: nacls do not apply".to_owned(),
            });
            return;
        }
        let lookup = |subnet: &str, vpc: Option<&str>| m.nacl_of(subnet, vpc);
        let Some((sn, s_default)) = lookup(ss, src.vpc.as_deref()) else {
            missing.push(Missing::NaclFor(ss.to_owned()));
            steps.push(Step {
                layer: Layer::NaclSourceOut,
                outcome: Verdict::Unknown,
                code: "missing-nacl",
                message: format!(
                    "no exported nacl is associated with {ss}, and its vpc's default nacl is not exported"
                ),
                cause: "a subnet's nacl is not in the export".to_owned(),
            });
            return;
        };
        let Some((tn, t_default)) = lookup(ts, tgt.vpc.as_deref()) else {
            missing.push(Missing::NaclFor(ts.to_owned()));
            steps.push(Step {
                layer: Layer::NaclTargetIn,
                outcome: Verdict::Unknown,
                code: "missing-nacl",
                message: format!(
                    "no exported nacl is associated with {ts}, and its vpc's default nacl is not exported"
                ),
                cause: "a subnet's nacl is not in the export".to_owned(),
            });
            return;
        };
        let (Some(snacl), Some(tnacl)) = (m.nacls.get(sn), m.nacls.get(tn)) else { return };
        // Thousands of sources share their NACLs and differ only in addresses that every entry
        // treats the same: work each combination out once.
        let sig: Vec<u8> = tnacl
            .ingress
            .iter()
            .chain(&tnacl.egress)
            .map(|e| match e.addr {
                NaclAddr::V4(c) => match c.cover(src_addr) {
                    Cover::All => 0,
                    Cover::Part => 1,
                    Cover::None => 2,
                },
                _ => 3,
            })
            .collect();
        let key: NaclKey = (sn, s_default, tn, t_default, src_shown.to_owned(), sig);
        let cached = self.nacl_memo.try_borrow().ok().and_then(|memo| memo.get(&key).cloned());
        let (new_steps, found) = match cached {
            Some(hit) => hit,
            None => {
                let fresh = self.nacl_checks((snacl, s_default), (tnacl, t_default), (src_addr, src_shown));
                if let Ok(mut memo) = self.nacl_memo.try_borrow_mut() {
                    memo.insert(key, fresh.clone());
                }
                fresh
            }
        };
        steps.extend(new_steps);
        if block.is_none() {
            *block = found.map(|(b, peer_is_source)| match b {
                Block::Nacl { nacl, egress, entry, peer: _, ports } if peer_is_source => {
                    Block::Nacl { nacl, egress, entry, peer: src_addr, ports }
                }
                other => other,
            });
        }
    }

    /// The four NACL checks of a path between a source and the target: out of the source's
    /// subnet, into the target's, and the replies back.
    fn nacl_checks(
        &self,
        (snacl, s_default): (&Nacl, bool),
        (tnacl, t_default): (&Nacl, bool),
        (src_addr, src_shown): (Cidr4, &str),
    ) -> NaclMemo {
        let mut steps = Vec::new();
        let mut block: Option<(Block, bool)> = None;
        let t_addr = Cidr4::host(self.target.ip);
        let t_shown = self.target.ip.to_string();
        let fwd_ports = self.flow.port.filter(|_| self.flow.proto.has_ports()).map(Ports::one);
        let reply_ports = fwd_ports.map(|_| Ports::EPHEMERAL);
        let icmp_fwd = self.flow.port.filter(|_| self.flow.proto.is_icmp());
        let icmp_reply = icmp_fwd.map(|t| if t == 8 && self.flow.proto == Proto::Num(ICMP) { 0 } else { t });
        let checks = [
            (Layer::NaclSourceOut, snacl, s_default, true, (t_addr, t_shown.as_str()), fwd_ports, icmp_fwd),
            (Layer::NaclTargetIn, tnacl, t_default, false, (src_addr, src_shown), fwd_ports, icmp_fwd),
            (Layer::NaclTargetOut, tnacl, t_default, true, (src_addr, src_shown), reply_ports, icmp_reply),
            (Layer::NaclSourceIn, snacl, s_default, false, (t_addr, t_shown.as_str()), reply_ports, icmp_reply),
        ];
        for (layer, nacl, assumed_default, egress, (peer, shown), ports, icmp) in checks {
            let outcome = nacl_eval(nacl, egress, peer, self.flow.proto, ports, icmp);
            let dir = if egress { "outbound" } else { "inbound" };
            let what = match ports {
                Some(p) if p == Ports::EPHEMERAL => format!("{} ports {p} (replies)", self.flow.proto),
                Some(p) => format!("{}/{p}", self.flow.proto),
                None => self.flow.to_string(),
            };
            let note = if assumed_default {
                " (default nacl of the vpc, assumed: no explicit association exported)"
            } else {
                ""
            };
            match outcome {
                NaclOutcome::Allowed(text) => steps.push(Step {
                    layer,
                    outcome: Verdict::Reachable,
                    code: "nacl-allowed",
                    message: format!(
                        "{}{note} {dir} {what} {} {shown}: {text}",
                        nacl.id,
                        if egress { "to" } else { "from" }
                    ),
                    cause: format!("{} {dir} allowed", nacl.id),
                }),
                NaclOutcome::Denied { entry, text } => {
                    steps.push(Step {
                        layer,
                        outcome: Verdict::Blocked,
                        code: if ports == Some(Ports::EPHEMERAL) { "nacl-reply-blocked" } else { "nacl-blocked" },
                        message: format!(
                            "{}{note} {dir} {what} {} {shown}: {text}",
                            nacl.id,
                            if egress { "to" } else { "from" }
                        ),
                        cause: format!("{} {dir} {what}: {text}", nacl.id),
                    });
                    if block.is_none() {
                        let peer_is_source = matches!(layer, Layer::NaclTargetIn | Layer::NaclTargetOut);
                        block =
                            Some((Block::Nacl { nacl: nacl.id.clone(), egress, entry, peer, ports }, peer_is_source));
                    }
                }
            }
        }
        // When all four checks pass, one step says so (the chain stays short and the report small).
        let ours = steps.as_slice();
        if ours.len() == 4 && ours.iter().all(|s| s.outcome == Verdict::Reachable) {
            let parts: Vec<String> = ours.iter().map(|s| s.message.clone()).collect();
            steps.clear();
            steps.push(Step {
                layer: Layer::NaclSourceOut,
                outcome: Verdict::Reachable,
                code: "nacl-allowed",
                message: format!("nacls allow both directions: {}", parts.join("; ")),
                cause: "nacls allow both directions".to_owned(),
            });
        }
        (steps, block)
    }
}

enum AddrMatch {
    Yes {
        inferred: bool,
    },
    /// A reference to a deleted group or through an inactive peering: matches nothing.
    Stale,
    Part,
    No,
    Unresolved(String),
}

fn cover_match(c: Cover) -> AddrMatch {
    match c {
        Cover::All => AddrMatch::Yes { inferred: false },
        Cover::Part => AddrMatch::Part,
        Cover::None => AddrMatch::No,
    }
}

fn finish(steps: Vec<Step>, block: Option<Block>, mut missing: Vec<Missing>) -> Trace {
    let blocked = steps.iter().position(|s| s.outcome == Verdict::Blocked && s.code != "stale-reference");
    let unknown = steps.iter().position(|s| s.outcome == Verdict::Unknown);
    let (verdict, decisive) = match (blocked, unknown) {
        (Some(b), _) => (Verdict::Blocked, Some(b)),
        (None, Some(u)) => (Verdict::Unknown, Some(u)),
        (None, None) => (Verdict::Reachable, None),
    };
    missing.sort();
    missing.dedup();
    if verdict != Verdict::Unknown {
        missing.clear();
    }
    let block = if verdict == Verdict::Blocked { block } else { None };
    Trace { verdict, steps, decisive, block, missing }
}

/// Whether a rule's protocol and ports cover the flow.
pub fn proto_matches(rule: &Rule, flow: Flow) -> bool {
    match (rule.proto, flow.proto) {
        (Proto::All, _) => true,
        (Proto::Num(_), Proto::All) => false,
        (Proto::Num(a), Proto::Num(b)) if a != b => false,
        (Proto::Num(_), Proto::Num(_)) => match rule.ports {
            RulePorts::Any => true,
            RulePorts::Range(r) => flow.port.is_none_or(|p| r.contains(p)),
            RulePorts::Icmp { kind, .. } => match (kind, flow.port) {
                (None, _) | (_, None) => true,
                (Some(k), Some(t)) => u16::from(k) == t,
            },
        },
    }
}

/// The rule in words: "tcp/5432 from sg-0abc (node)".
pub fn describe_rule(m: &Model, rule: &Rule, ingress: bool) -> String {
    let what = match (rule.proto, rule.ports) {
        (Proto::All, _) => "all traffic".to_owned(),
        (p, RulePorts::Range(r)) => format!("{p}/{r}"),
        (p, RulePorts::Icmp { kind: None, .. }) => format!("{p} (all types)"),
        (p, RulePorts::Icmp { kind: Some(k), code }) => match code {
            Some(c) => format!("{p} type {k} code {c}"),
            None => format!("{p} type {k}"),
        },
        (p, RulePorts::Any) => format!("{p} (all)"),
    };
    let dir = if ingress { "from" } else { "to" };
    let peer = match &rule.peer {
        crate::model::Peer::Cidr4(c) => c.cidr_string(),
        crate::model::Peer::Cidr6(c) => c.to_string(),
        crate::model::Peer::PrefixList(pl) => match m.prefix_lists.get(pl).and_then(|p| p.name.as_deref()) {
            Some(n) => format!("{pl} ({n})"),
            None => pl.clone(),
        },
        crate::model::Peer::Group(g) => m.group_label(&g.id),
    };
    let id = rule.id.as_deref().map(|i| format!(" [{i}]")).unwrap_or_default();
    let desc = rule.description.as_deref().map(|d| format!(" \"{d}\"")).unwrap_or_default();
    format!("{what} {dir} {peer}{id}{desc}")
}

pub fn eni_label(e: &Eni) -> String {
    match (&e.instance, e.eth()) {
        (Some(i), Some(eth)) if e.role != Role::Branch => format!("{} ({eth} of {i})", e.id),
        (Some(i), _) if e.role == Role::Branch => format!("{} (branch eni on {i})", e.id),
        _ => e.id.clone(),
    }
}

/// Evaluates one direction of a NACL for a peer block, a protocol and a range of ports.
/// Every port of the range must be allowed; the first entry that denies any remaining port wins.
fn nacl_eval(
    nacl: &Nacl,
    egress: bool,
    peer: Cidr4,
    proto: Proto,
    ports: Option<Ports>,
    icmp: Option<u16>,
) -> NaclOutcome {
    let entries = if egress { &nacl.egress } else { &nacl.ingress };
    // Ports still undecided, as disjoint ranges.
    let mut remaining: Vec<Ports> = ports.into_iter().collect();
    let mut allowed_by: Vec<u32> = Vec::new();
    let whole = ports.is_none();
    for e in entries {
        let NaclAddr::V4(c) = e.addr else { continue };
        let addr_cover = c.cover(peer);
        if addr_cover == Cover::None {
            continue;
        }
        let proto_ok = match (e.proto, proto) {
            (Proto::All, _) => true,
            (Proto::Num(_), Proto::All) => false,
            (Proto::Num(a), Proto::Num(b)) => a == b,
        };
        if !proto_ok {
            continue;
        }
        if proto.is_icmp() && e.proto != Proto::All {
            if let (Some(t), Some(q)) = (e.icmp_type, icmp) {
                if u16::from(t) != q {
                    continue;
                }
            }
        }
        let entry_ports = if e.proto == Proto::All || !e.proto.has_ports() { None } else { e.ports };
        match e.action {
            Action::Deny => {
                let hits = whole || entry_ports.is_none_or(|ep| remaining.iter().any(|r| r.overlaps(ep)));
                if hits {
                    let text = format!("denied by rule {}{}", rule_no(e.number), entry_text(e));
                    return NaclOutcome::Denied { entry: Some(e.number).filter(|n| *n < 32767), text };
                }
            }
            Action::Allow => {
                if addr_cover != Cover::All {
                    continue;
                }
                if whole {
                    return NaclOutcome::Allowed(format!("rule {}{}", rule_no(e.number), entry_text(e)));
                }
                match entry_ports {
                    None => {
                        allowed_by.push(e.number);
                        remaining.clear();
                    }
                    Some(ep) => {
                        if remaining.iter().any(|r| r.overlaps(ep)) {
                            allowed_by.push(e.number);
                            remaining = subtract(&remaining, ep);
                        }
                    }
                }
                if remaining.is_empty() {
                    let rules = allowed_by.iter().map(|n| rule_no(*n)).collect::<Vec<_>>().join(", ");
                    return NaclOutcome::Allowed(format!(
                        "allowed by rule {rules}{}",
                        if allowed_by.len() == 1 { entry_text(e) } else { String::new() }
                    ));
                }
            }
        }
    }
    let left = remaining.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(", ");
    let text = if whole || left.is_empty() {
        "no rule allows it, so the default rule * denies it".to_owned()
    } else {
        format!("no rule allows ports {left}, so the default rule * denies them")
    };
    NaclOutcome::Denied { entry: None, text }
}

fn rule_no(n: u32) -> String {
    if n >= 32767 {
        "*".to_owned()
    } else {
        n.to_string()
    }
}

fn entry_text(e: &NaclEntry) -> String {
    let act = match e.action {
        Action::Allow => "allow",
        Action::Deny => "deny",
    };
    let what = match (e.proto, e.ports) {
        (Proto::All, _) => "all".to_owned(),
        (p, Some(r)) if p.has_ports() => format!("{p}/{r}"),
        (p, _) => p.to_string(),
    };
    let addr = match &e.addr {
        NaclAddr::V4(c) => c.cidr_string(),
        NaclAddr::V6(c) => c.to_string(),
    };
    format!(" ({act} {what} {} {addr})", if e.egress { "to" } else { "from" })
}

/// Ranges minus one range.
fn subtract(ranges: &[Ports], cut: Ports) -> Vec<Ports> {
    let mut out = Vec::new();
    for r in ranges {
        if !r.overlaps(cut) {
            out.push(*r);
            continue;
        }
        if r.from < cut.from {
            out.push(Ports { from: r.from, to: cut.from.saturating_sub(1) });
        }
        if r.to > cut.to {
            out.push(Ports { from: cut.to.saturating_add(1), to: r.to });
        }
    }
    out
}

/// Groups every attached ENI of the sources carries (for fixes).
pub fn common_groups<'m>(model: &'m Model, enis: &[usize]) -> BTreeSet<&'m str> {
    let mut iter = enis.iter().filter_map(|&i| model.enis.get(i));
    let Some(first) = iter.next() else { return BTreeSet::new() };
    let mut set = first.group_ids();
    for e in iter {
        if set.is_empty() {
            break;
        }
        set.retain(|x| e.groups.iter().any(|g| g.id == *x));
    }
    set
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subtract_splits_ranges() {
        let r = subtract(&[Ports { from: 100, to: 200 }], Ports { from: 120, to: 150 });
        assert_eq!(r, vec![Ports { from: 100, to: 119 }, Ports { from: 151, to: 200 }]);
        assert_eq!(subtract(&[Ports { from: 1, to: 5 }], Ports::ALL), vec![]);
    }

    /// Sources sorted as packed words and as tuples come out the same, for every case of the
    /// corpus and all of them loaded together; with two bits for the index, the sets with more
    /// than three ENIs take the tuples.
    #[test]
    fn sources_sort_the_same_packed_or_as_tuples() {
        // The fixtures crate's inputs are those of the core it links, another copy than this one.
        let inputs = |c: &podreach_fixtures::Case| -> Vec<crate::Input<'static>> {
            c.inputs().into_iter().map(|i| crate::Input { name: i.name, bytes: i.bytes }).collect()
        };
        let together: Vec<_> = podreach_fixtures::CASES.iter().flat_map(inputs).collect();
        let sets = podreach_fixtures::CASES.iter().map(|c| (c.name, inputs(c))).chain([("together", together)]);
        let (mut packed, mut tuples) = (0, 0);
        for (name, inputs) in sets {
            let model = crate::load(&inputs).model;
            let want = sorted_sources(&model.enis, 0);
            assert_eq!(sorted_sources(&model.enis, ENI_BITS), want, "{name}");
            assert_eq!(sorted_sources(&model.enis, 2), want, "{name}");
            packed += want.len();
            tuples += usize::from(model.enis.len() > 3);
        }
        assert_eq!((packed, tuples), (131, 8), "sources, and sets sorted as tuples with two bits");
    }

    /// A word keeps every field at its extremes: the highest address, a /0 and a /32, and the
    /// highest index below the limit.
    #[test]
    fn a_packed_source_keeps_its_fields() {
        let mask = (1u64 << ENI_BITS) - 1;
        for (base, len, eni) in [(u32::MAX, 32, mask as usize), (0, 0, 0), (0x0a00_0010, 28, 12_345)] {
            let k = pack(Cidr4 { base, len }, eni, ENI_BITS);
            assert_eq!(((k >> 32) as u32, (k >> ENI_BITS & 63) as u8, (k & mask) as usize), (base, len, eni));
        }
    }
}

//! Drift: a node's ENIs whose security groups differ from its primary ENI's, and why.
//!
//! The causes follow the VPC CNI's behaviour (semantics doc 4.3-4.5): a new secondary ENI copies
//! the primary's groups; ipamd re-syncs them only when the primary's set changes (v1.7.2+), never
//! under custom networking, never for `no_manage` ENIs, and never for branch ENIs.

use crate::model::{Eni, EniTag, Model, Role};
use std::collections::BTreeSet;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Cause {
    /// Secondary ENIs carry the ENIConfig's groups by design.
    CustomNetworking,
    /// Tagged `node.k8s.amazonaws.com/no_manage=true`: the CNI never touches it.
    NoManage,
    /// Attached by something other than the VPC CNI, which never syncs it.
    NotCniManaged,
    /// A group reached the primary (by hand in the console) and never this ENI.
    PrimaryChanged,
    /// This ENI's groups were edited directly.
    SecondaryEdited,
}

impl Cause {
    pub fn code(self) -> &'static str {
        match self {
            Cause::CustomNetworking => "custom-networking",
            Cause::NoManage => "no-manage",
            Cause::NotCniManaged => "not-cni-managed",
            Cause::PrimaryChanged => "primary-changed",
            Cause::SecondaryEdited => "secondary-edited",
        }
    }

    pub fn is_fault(self) -> bool {
        self != Cause::CustomNetworking
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Drift {
    pub instance: String,
    pub primary_eni: String,
    pub eni: String,
    pub device_index: Option<u32>,
    /// Groups on the primary and not on this ENI.
    pub missing: Vec<String>,
    /// Groups on this ENI and not on the primary.
    pub extra: Vec<String>,
    pub cause: Cause,
    pub explanation: String,
    pub fix: Option<String>,
    pub fix_tradeoff: Option<String>,
}

/// Every attached non-primary ENI whose group set differs from its instance's primary ENI.
#[cfg_attr(target_arch = "wasm32", inline(never))]
pub fn drift(model: &Model) -> Vec<Drift> {
    let mut out = Vec::new();
    for (instance, enis) in &model.index.instance_enis {
        if let Some((primary, pset)) = drifting_primary(model, enis) {
            instance_drift(model, instance, enis, primary, &pset, &mut out);
        }
    }
    out.sort_by(|a, b| (&a.instance, a.device_index, &a.eni).cmp(&(&b.instance, b.device_index, &b.eni)));
    out
}

/// A secondary ENI that takes part in drift: the CNI's, another, or a trunk.
fn compared(e: &Eni) -> bool {
    matches!(e.role, Role::CniSecondary | Role::OtherSecondary | Role::Trunk)
}

/// An instance's primary ENI and its groups, if one of its compared ENIs has another set of
/// groups. Most instances do not drift, so this check is the walk over every instance, in a
/// function of its own so that it does not get all of [`drift`] optimised mid-run (crate docs;
/// BENCHMARKS.md items 50 and 55).
#[cfg_attr(target_arch = "wasm32", inline(never))]
fn drifting_primary<'m>(model: &'m Model, enis: &[usize]) -> Option<(&'m Eni, BTreeSet<&'m str>)> {
    let primary = enis.iter().filter_map(|&i| model.enis.get(i)).find(|e| e.role == Role::InstancePrimary)?;
    // The same groups in the same order are the same set, and the sets are built only when not:
    // a set per ENI of every instance took 4 ms of a warm page's model at 5,000 nodes.
    fn listed(e: &Eni) -> impl Iterator<Item = &str> {
        e.groups.iter().map(|g| g.id.as_str())
    }
    let mut pset = None;
    let differs = enis.iter().filter_map(|&i| model.enis.get(i)).any(|e| {
        compared(e)
            && !listed(e).eq(listed(primary))
            && e.group_ids() != *pset.get_or_insert_with(|| primary.group_ids())
    });
    // An ENI that differs has had the primary's set built.
    pset.filter(|_| differs).map(|set| (primary, set))
}

/// The drift of one instance whose `primary` (with groups `pset`) differs from one of its
/// compared ENIs.
#[cfg_attr(target_arch = "wasm32", inline(never))]
fn instance_drift(
    model: &Model,
    instance: &str,
    enis: &[usize],
    primary: &Eni,
    pset: &BTreeSet<&str>,
    out: &mut Vec<Drift>,
) {
    let others: Vec<&Eni> = enis.iter().filter_map(|&i| model.enis.get(i)).filter(|e| compared(e)).collect();
    let node = model.node_of_instance(instance);
    let differing: Vec<&&Eni> = others.iter().filter(|e| e.group_ids() != *pset).collect();
    // Custom networking: known from the node label, or likely when every CNI secondary ENI
    // agrees with the others, sits outside the primary's subnet, and differs from the primary.
    let cni: Vec<&&Eni> = others.iter().filter(|e| e.role == Role::CniSecondary).collect();
    let cni_sets: BTreeSet<BTreeSet<&str>> = cni.iter().map(|e| e.group_ids()).collect();
    let consistent = cni_sets.len() == 1 && cni.iter().all(|e| e.group_ids() != *pset);
    let other_subnet = cni.iter().all(|e| e.subnet.is_some() && e.subnet != primary.subnet);
    let eni_config = node.and_then(|n| n.eni_config.clone());
    let custom_known = eni_config.is_some();
    let custom_likely = !cni.is_empty() && consistent && other_subnet;
    let matching_others = others.iter().filter(|e| e.group_ids() == *pset).count();
    let differing_count = differing.len();
    let differing_sets_agree = differing.iter().map(|e| e.group_ids()).collect::<BTreeSet<_>>().len() == 1;
    for e in differing {
        let eset = e.group_ids();
        let missing: Vec<String> = pset.difference(&eset).map(|s| (*s).to_owned()).collect();
        let extra: Vec<String> = eset.difference(pset).map(|s| (*s).to_owned()).collect();
        let eth = e.eth().unwrap_or_else(|| "?".to_owned());
        let cause = if e.tag(EniTag::NoManage) == Some("true") {
            Cause::NoManage
        } else if e.role == Role::OtherSecondary {
            Cause::NotCniManaged
        } else if e.role == Role::CniSecondary && (custom_known || custom_likely) {
            Cause::CustomNetworking
        } else if !missing.is_empty() && extra.is_empty() {
            Cause::PrimaryChanged
        } else if missing.is_empty() {
            Cause::SecondaryEdited
        } else if matching_others == 0 && differing_sets_agree && differing_count >= 2 {
            // Every other eni still has the same older set: the primary's set was replaced.
            Cause::PrimaryChanged
        } else {
            Cause::SecondaryEdited
        };
        let list = |v: &[String]| v.iter().map(|g| model.group_label(g)).collect::<Vec<_>>().join(", ");
        let explanation = match cause {
            Cause::CustomNetworking => format!(
                "{} custom networking: secondary enis take the eniconfig's groups{}, not the primary's; by design, not a fault. pods on {eth} are judged by [{}]",
                if custom_known { "node uses" } else { "likely" },
                eni_config.as_deref().map(|c| format!(" (`{c}`)")).unwrap_or_default(),
                list(&e.groups.iter().map(|g| g.id.clone()).collect::<Vec<_>>())
            ),
            Cause::NoManage => format!(
                "{} is tagged node.k8s.amazonaws.com/no_manage=true, so the vpc cni never syncs its groups; keep it in step by hand",
                e.id
            ),
            Cause::NotCniManaged => format!(
                "{} was not created by the vpc cni (description `{}`), so nothing syncs its groups with the primary's",
                e.id, e.description
            ),
            Cause::PrimaryChanged => format!(
                "{} reached the primary eni (a console edit changes eth0 only) but not {eth}: the vpc cni is older than v1.7.2, its sync failed (the node role needs ec2:ModifyNetworkInterfaceAttribute; a failed sync is not retried until aws-node restarts), or eni provisioning is disabled",
                if missing.is_empty() { "a change of groups".to_owned() } else { list(&missing) }
            ),
            Cause::SecondaryEdited => format!(
                "{eth} was edited directly{}: the vpc cni never compares a secondary eni with the primary, so this stays until the primary's groups change or aws-node restarts",
                if extra.is_empty() { String::new() } else { format!(" (it has {})", list(&extra)) }
            ),
        };
        let (fix, fix_tradeoff) = if cause.is_fault() {
            let groups: Vec<&str> = primary.groups.iter().map(|g| g.id.as_str()).collect();
            (
                Some(format!(
                    "aws ec2 modify-network-interface-attribute --network-interface-id {} --groups {}",
                    e.id,
                    groups.join(" ")
                )),
                Some(match cause {
                    Cause::PrimaryChanged => "sets this eni to the primary's groups now; new nodes still come up without them unless the node group's launch template has them".to_owned(),
                    _ => "replaces this eni's whole group list with the primary's; pods on it lose whatever only the extra groups allowed".to_owned(),
                }),
            )
        } else {
            (None, None)
        };
        out.push(Drift {
            instance: instance.to_owned(),
            primary_eni: primary.id.clone(),
            eni: e.id.clone(),
            device_index: e.device_index(),
            missing,
            extra,
            cause,
            explanation,
            fix,
            fix_tradeoff,
        });
    }
}

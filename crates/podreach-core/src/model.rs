//! The validated model: what the exports say, after one conversion from the AWS shapes.
//!
//! Everything is sorted by id so that iteration is deterministic. Indexes used only for look-ups
//! may be hash maps; nothing iterates them.

use crate::hash::FastMap;
use crate::net::{Cidr4, Cidr6, Ports, Proto};
use std::collections::{BTreeMap, BTreeSet};
use std::net::{Ipv4Addr, Ipv6Addr};

/// Which kinds of export were given; `partial` holds the ones that carried a `NextToken`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Coverage {
    pub have: BTreeSet<ExportKind>,
    pub partial: BTreeSet<ExportKind>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ExportKind {
    NetworkInterfaces,
    SecurityGroups,
    SecurityGroupRules,
    NetworkAcls,
    Subnets,
    ManagedPrefixLists,
    PrefixListEntries,
    Instances,
    Pods,
    Nodes,
}

impl ExportKind {
    /// The command that produces this export, for messages.
    pub fn command(self) -> &'static str {
        match self {
            ExportKind::NetworkInterfaces => "aws ec2 describe-network-interfaces",
            ExportKind::SecurityGroups => "aws ec2 describe-security-groups",
            ExportKind::SecurityGroupRules => "aws ec2 describe-security-group-rules",
            ExportKind::NetworkAcls => "aws ec2 describe-network-acls",
            ExportKind::Subnets => "aws ec2 describe-subnets",
            ExportKind::ManagedPrefixLists => "aws ec2 describe-managed-prefix-lists",
            ExportKind::PrefixListEntries => "aws ec2 get-managed-prefix-list-entries",
            ExportKind::Instances => "aws ec2 describe-instances",
            ExportKind::Pods => "kubectl get pods -A -o json",
            ExportKind::Nodes => "kubectl get nodes -o json",
        }
    }

    /// A noun for counts: "network interfaces", "security groups", …
    pub fn noun(self) -> &'static str {
        match self {
            ExportKind::NetworkInterfaces => "network interfaces",
            ExportKind::SecurityGroups => "security groups",
            ExportKind::SecurityGroupRules => "security group rules",
            ExportKind::NetworkAcls => "network acls",
            ExportKind::Subnets => "subnets",
            ExportKind::ManagedPrefixLists => "prefix lists",
            ExportKind::PrefixListEntries => "prefix list entries",
            ExportKind::Instances => "instances",
            ExportKind::Pods => "pods",
            ExportKind::Nodes => "nodes",
        }
    }

    pub fn slug(self) -> &'static str {
        match self {
            ExportKind::NetworkInterfaces => "network-interfaces",
            ExportKind::SecurityGroups => "security-groups",
            ExportKind::SecurityGroupRules => "security-group-rules",
            ExportKind::NetworkAcls => "network-acls",
            ExportKind::Subnets => "subnets",
            ExportKind::ManagedPrefixLists => "prefix-lists",
            ExportKind::PrefixListEntries => "prefix-list-entries",
            ExportKind::Instances => "instances",
            ExportKind::Pods => "pods",
            ExportKind::Nodes => "nodes",
        }
    }
}

/// What an ENI is for, recognised from its description, type, requester and tags.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Device index 0 of an instance.
    InstancePrimary,
    /// A further ENI of an instance, created by the VPC CNI (`aws-K8S-i-…`).
    CniSecondary,
    /// A further ENI of an instance that the VPC CNI did not create.
    OtherSecondary,
    Trunk,
    Branch,
    Rds,
    LoadBalancer,
    EksControlPlane,
    VpcEndpoint,
    NatGateway,
    Lambda,
    Efs,
    Other,
}

impl Role {
    pub fn label(self) -> &'static str {
        match self {
            Role::InstancePrimary => "instance primary",
            Role::CniSecondary => "vpc cni secondary",
            Role::OtherSecondary => "secondary (not vpc cni)",
            Role::Trunk => "trunk",
            Role::Branch => "branch (pod)",
            Role::Rds => "rds",
            Role::LoadBalancer => "load balancer",
            Role::EksControlPlane => "eks control plane",
            Role::VpcEndpoint => "vpc endpoint",
            Role::NatGateway => "nat gateway",
            Role::Lambda => "lambda",
            Role::Efs => "efs",
            Role::Other => "other",
        }
    }

    pub fn slug(self) -> &'static str {
        match self {
            Role::InstancePrimary => "instance-primary",
            Role::CniSecondary => "cni-secondary",
            Role::OtherSecondary => "other-secondary",
            Role::Trunk => "trunk",
            Role::Branch => "branch",
            Role::Rds => "rds",
            Role::LoadBalancer => "load-balancer",
            Role::EksControlPlane => "eks-control-plane",
            Role::VpcEndpoint => "vpc-endpoint",
            Role::NatGateway => "nat-gateway",
            Role::Lambda => "lambda",
            Role::Efs => "efs",
            Role::Other => "other",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupRef {
    pub id: String,
    pub name: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attachment {
    pub instance: Option<String>,
    pub device_index: Option<u32>,
    pub network_card: u32,
    pub owner: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Eni {
    pub id: String,
    pub vpc: Option<String>,
    pub subnet: Option<String>,
    pub az: Option<String>,
    pub description: String,
    /// `InterfaceType` exactly as printed (an open enum: `interface`, `branch`, `nat_gateway`, …).
    pub interface_type: String,
    /// Security groups in the order AWS printed them.
    pub groups: Vec<GroupRef>,
    /// Private IPv4 addresses, primary first.
    pub private_ips: Vec<Ipv4Addr>,
    pub primary_ip: Option<Ipv4Addr>,
    pub prefixes: Vec<Cidr4>,
    pub ipv6: Vec<Ipv6Addr>,
    pub ipv6_prefixes: Vec<Cidr6>,
    pub attachment: Option<Attachment>,
    pub requester_id: Option<String>,
    pub requester_managed: bool,
    /// Tags sorted by key: only those whose key is one of [`ENI_TAGS`].
    pub tags: Vec<(String, String)>,
    pub public_ip: Option<Ipv4Addr>,
    /// Derived: what the ENI is for.
    pub role: Role,
    /// Derived: the instance whose traffic uses this ENI (via the trunk for a branch ENI).
    pub instance: Option<String>,
}

/// An ENI tag podreach reads; an ENI keeps no other ([`ENI_TAGS`]). The VPC CNI puts four or more
/// tags on each ENI it creates (aws-semantics.md §5: the instance, the creation time, the cluster,
/// the owner), and each kept tag was two strings read, sorted and stored for nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EniTag {
    /// `node.k8s.amazonaws.com/instance_id`: the instance whose VPC CNI created the ENI.
    InstanceId,
    /// `node.k8s.amazonaws.com/no_manage`: the VPC CNI leaves the ENI alone.
    NoManage,
    /// `vpcresources.k8s.aws/trunk-eni-id`: a branch ENI's trunk.
    TrunkEniId,
}

impl EniTag {
    pub const fn key(self) -> &'static str {
        match self {
            EniTag::InstanceId => "node.k8s.amazonaws.com/instance_id",
            EniTag::NoManage => "node.k8s.amazonaws.com/no_manage",
            EniTag::TrunkEniId => "vpcresources.k8s.aws/trunk-eni-id",
        }
    }
}

/// The keys of the tags an ENI keeps: those of [`EniTag`].
pub const ENI_TAGS: [&str; 3] = [EniTag::InstanceId.key(), EniTag::NoManage.key(), EniTag::TrunkEniId.key()];

impl Eni {
    /// The value of a tag podreach reads (the only ones kept).
    pub fn tag(&self, tag: EniTag) -> Option<&str> {
        let key = tag.key();
        self.tags.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    pub fn has_group(&self, id: &str) -> bool {
        self.groups.iter().any(|g| g.id == id)
    }

    pub fn group_ids(&self) -> BTreeSet<&str> {
        self.groups.iter().map(|g| g.id.as_str()).collect()
    }

    pub fn device_index(&self) -> Option<u32> {
        self.attachment.as_ref().and_then(|a| a.device_index)
    }

    /// The region, taken from the availability zone name (`eu-west-1c` → `eu-west-1`).
    pub fn region(&self) -> Option<&str> {
        let az = self.az.as_deref()?;
        let trimmed = az.trim_end_matches(|c: char| c.is_ascii_lowercase());
        if trimmed.len() < az.len() && trimmed.ends_with(|c: char| c.is_ascii_digit()) {
            Some(trimmed)
        } else {
            None
        }
    }

    /// `ethN` for an attached ENI.
    pub fn eth(&self) -> Option<String> {
        self.device_index().map(|d| format!("eth{d}"))
    }

    pub fn address_count(&self) -> usize {
        self.private_ips.len() + self.prefixes.len() * 16
    }
}

/// The ports part of a security-group rule, with AWS's per-protocol meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RulePorts {
    /// `-1` rules and protocols other than tcp/udp/icmp/icmpv6: ports are ignored.
    Any,
    Range(Ports),
    /// ICMP type and code; `None` means all.
    Icmp {
        kind: Option<u8>,
        code: Option<u8>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Peer {
    Cidr4(Cidr4),
    Cidr6(Cidr6),
    PrefixList(String),
    Group(GroupPeer),
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GroupPeer {
    pub id: String,
    pub user_id: Option<String>,
    pub vpc: Option<String>,
    pub peering: Option<String>,
    pub peering_status: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// `sgr-…` when the rules export was given.
    pub id: Option<String>,
    pub proto: Proto,
    pub ports: RulePorts,
    pub peer: Peer,
    pub description: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SecurityGroup {
    pub id: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub vpc: Option<String>,
    pub ingress: Vec<Rule>,
    pub egress: Vec<Rule>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Allow,
    Deny,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NaclAddr {
    V4(Cidr4),
    V6(Cidr6),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NaclEntry {
    pub number: u32,
    pub egress: bool,
    pub action: Action,
    pub proto: Proto,
    pub addr: NaclAddr,
    /// tcp/udp port range; `None` means all ports.
    pub ports: Option<Ports>,
    /// icmp type; `None` means all.
    pub icmp_type: Option<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Nacl {
    pub id: String,
    pub vpc: Option<String>,
    pub is_default: bool,
    pub subnets: Vec<String>,
    /// Inbound entries sorted by rule number.
    pub ingress: Vec<NaclEntry>,
    /// Outbound entries sorted by rule number.
    pub egress: Vec<NaclEntry>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subnet {
    pub id: String,
    pub vpc: Option<String>,
    pub cidr: Option<Cidr4>,
    pub az: Option<String>,
    pub name: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrefixList {
    pub id: String,
    pub name: Option<String>,
    /// `None` until entries were given for this list.
    pub cidrs: Option<Vec<Cidr4>>,
    pub cidrs6: Vec<Cidr6>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instance {
    pub id: String,
    pub instance_type: Option<String>,
    pub name: Option<String>,
    pub state: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Workload {
    pub kind: String,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pod {
    pub namespace: String,
    pub name: String,
    pub node: Option<String>,
    pub host_network: bool,
    pub ips: Vec<Ipv4Addr>,
    pub ipv6: Vec<Ipv6Addr>,
    /// From the `vpc.amazonaws.com/pod-eni` annotation (security groups for pods).
    pub branch_eni: Option<String>,
    pub owner: Option<Workload>,
    pub phase: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    pub name: String,
    pub instance: Option<String>,
    pub internal_ip: Option<Ipv4Addr>,
    /// The `k8s.amazonaws.com/eniConfig` label or annotation: custom networking is on.
    pub eni_config: Option<String>,
    pub fargate: bool,
}

/// Everything the exports say, validated and indexed.
#[derive(Clone, Debug, Default)]
pub struct Model {
    /// Sorted by id.
    pub enis: Vec<Eni>,
    pub groups: BTreeMap<String, SecurityGroup>,
    /// Sorted by id.
    pub nacls: Vec<Nacl>,
    pub subnets: BTreeMap<String, Subnet>,
    pub prefix_lists: BTreeMap<String, PrefixList>,
    /// `get-managed-prefix-list-entries` outputs that did not say which list they belong to.
    pub unlabelled_entries: usize,
    pub instances: BTreeMap<String, Instance>,
    /// Sorted by namespace and name.
    pub pods: Vec<Pod>,
    /// Sorted by name.
    pub nodes: Vec<Node>,
    pub coverage: Coverage,
    pub index: Index,
}

/// Look-up tables built once after loading.
#[derive(Clone, Debug, Default)]
pub struct Index {
    pub eni_by_id: FastMap<String, usize>,
    /// Private IPv4 address → ENI.
    pub ip_owner: FastMap<u32, usize>,
    /// Delegated prefixes, sorted by first address.
    pub prefix_owner: Vec<(Cidr4, usize)>,
    /// Group id → ENIs that carry it, in ENI order.
    pub members: FastMap<String, Vec<usize>>,
    /// Subnet → NACL (index into `nacls`), from the explicit associations.
    pub subnet_nacl: FastMap<String, usize>,
    /// Instance → its ENIs (attached and branch), in ENI order.
    pub instance_enis: BTreeMap<String, Vec<usize>>,
    /// Instance → the node (index into `nodes`) that runs on it.
    pub instance_node: FastMap<String, usize>,
    /// Every source any query evaluates (see `reach::sources`), sorted by address: built once,
    /// so a new query only leaves out its target's own addresses.
    pub sources: Vec<(Cidr4, usize)>,
    /// Per ENI, its query-independent class (`reach::eni_classes`).
    pub eni_class: Vec<u32>,
}

impl Model {
    pub fn eni(&self, id: &str) -> Option<&Eni> {
        self.index.eni_by_id.get(id).and_then(|&i| self.enis.get(i))
    }

    /// The ENI that owns an IPv4 address, as a private address or inside a delegated prefix.
    pub fn owner_of(&self, ip: Ipv4Addr) -> Option<usize> {
        let n = u32::from(ip);
        if let Some(&i) = self.index.ip_owner.get(&n) {
            return Some(i);
        }
        let pos = self.index.prefix_owner.partition_point(|(c, _)| c.first() <= n);
        let (cidr, i) = self.index.prefix_owner.get(pos.checked_sub(1)?)?;
        cidr.contains_addr(n).then_some(*i)
    }

    /// The ENI that holds a public IPv4 address.
    pub fn public_owner_of(&self, ip: Ipv4Addr) -> Option<usize> {
        self.enis.iter().position(|e| e.public_ip == Some(ip))
    }

    /// The primary ENI (device index 0) of an instance.
    pub fn primary_eni(&self, instance: &str) -> Option<usize> {
        self.index
            .instance_enis
            .get(instance)?
            .iter()
            .copied()
            .find(|&i| self.enis.get(i).is_some_and(|e| e.role == Role::InstancePrimary))
    }

    /// The NACL of a subnet: its explicit association, or else its VPC's default NACL.
    /// The flag is true when the default was assumed.
    pub fn nacl_of(&self, subnet: &str, vpc: Option<&str>) -> Option<(usize, bool)> {
        if let Some(&i) = self.index.subnet_nacl.get(subnet) {
            return Some((i, false));
        }
        let vpc = vpc.or_else(|| self.subnets.get(subnet).and_then(|s| s.vpc.as_deref()))?;
        self.nacls.iter().position(|n| n.is_default && n.vpc.as_deref() == Some(vpc)).map(|i| (i, true))
    }

    pub fn group_name(&self, id: &str) -> Option<&str> {
        if let Some(name) = self.groups.get(id).and_then(|g| g.name.as_deref()) {
            return Some(name);
        }
        // Else the first ENI that carries the group names it (ENIs print `GroupName` too). The
        // index lists those ENIs in order, so a look-up does not walk every ENI (which, per
        // matrix column of a whole account without the group export, was quadratic); before the
        // index is built, walk them.
        let first = match self.index.members.get(id) {
            Some(carriers) => carriers.first().and_then(|&i| self.enis.get(i)),
            None if self.index.members.is_empty() => self.enis.iter().find(|e| e.groups.iter().any(|g| g.id == id)),
            None => None,
        };
        first.and_then(|e| e.groups.iter().find(|g| g.id == id)).and_then(|g| g.name.as_deref())
    }

    /// `sg-0abc (node-sg)` or just the id.
    pub fn group_label(&self, id: &str) -> String {
        match self.group_name(id) {
            Some(name) => format!("{id} ({name})"),
            None => id.to_owned(),
        }
    }

    pub fn instance_label(&self, id: &str) -> String {
        match self.instances.get(id) {
            Some(Instance { instance_type: Some(t), name: Some(n), .. }) => format!("{id} ({t}, {n})"),
            Some(Instance { instance_type: Some(t), name: None, .. }) => format!("{id} ({t})"),
            Some(Instance { instance_type: None, name: Some(n), .. }) => format!("{id} ({n})"),
            _ => id.to_owned(),
        }
    }

    /// The node that runs on an instance, when nodes JSON was given.
    pub fn node_of_instance(&self, instance: &str) -> Option<&Node> {
        self.index.instance_node.get(instance).and_then(|&i| self.nodes.get(i))
    }
}

/// Whether a protocol's rule ports are meaningful (tcp/udp ranges, icmp type/code).
pub fn rule_ports(proto: Proto, from: Option<i64>, to: Option<i64>) -> RulePorts {
    match proto {
        Proto::All => RulePorts::Any,
        p if p.has_ports() => match (from, to) {
            (Some(f), Some(t)) if (0..=65535).contains(&f) && (0..=65535).contains(&t) && f <= t => {
                RulePorts::Range(Ports { from: clamp16(f), to: clamp16(t) })
            }
            (Some(f), None) if (0..=65535).contains(&f) => RulePorts::Range(Ports::one(clamp16(f))),
            _ => RulePorts::Range(Ports::ALL),
        },
        p if p.is_icmp() => RulePorts::Icmp {
            kind: from.and_then(|f| u8::try_from(f).ok()),
            code: to.and_then(|t| u8::try_from(t).ok()),
        },
        Proto::Num(_) => RulePorts::Any,
    }
}

fn clamp16(v: i64) -> u16 {
    u16::try_from(v.clamp(0, 65535)).unwrap_or(u16::MAX)
}

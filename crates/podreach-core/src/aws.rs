//! Serde types shaped exactly like the JSON the AWS CLI v2 and kubectl print.
//!
//! These are the boundary and nothing else: every member is optional and lenient, and the only
//! consumer is `load`, which converts them once into the validated `model`.

use crate::lenient::{Field, Ip, List, StrList, StrMap};
use serde::Deserialize;

type S = Field<String>;
type I = Field<i64>;
type B = Field<bool>;

#[derive(Deserialize, Default, Debug, PartialEq)]
#[serde(default)]
pub struct Tag {
    #[serde(rename = "Key")]
    pub key: S,
    #[serde(rename = "Value")]
    pub value: S,
}

#[derive(Deserialize, Default, Debug, PartialEq)]
#[serde(default, rename_all = "PascalCase")]
pub struct GroupIdentifier {
    pub group_id: S,
    pub group_name: S,
}

#[derive(Deserialize, Default, Debug, PartialEq)]
#[serde(default, rename_all = "PascalCase")]
pub struct PrivateIp {
    pub private_ip_address: Ip,
    pub primary: B,
}

#[derive(Deserialize, Default, Debug, PartialEq)]
#[serde(default, rename_all = "PascalCase")]
pub struct Ipv4PrefixSpec {
    pub ipv4_prefix: S,
}

#[derive(Deserialize, Default, Debug, PartialEq)]
#[serde(default, rename_all = "PascalCase")]
pub struct Ipv6Addr {
    pub ipv6_address: S,
}

#[derive(Deserialize, Default, Debug, PartialEq)]
#[serde(default, rename_all = "PascalCase")]
pub struct Ipv6PrefixSpec {
    pub ipv6_prefix: S,
}

#[derive(Deserialize, Default, Debug, PartialEq)]
#[serde(default, rename_all = "PascalCase")]
pub struct Attachment {
    pub instance_id: S,
    pub instance_owner_id: S,
    pub device_index: I,
    pub network_card_index: I,
}

#[derive(Deserialize, Default, Debug, PartialEq)]
#[serde(default, rename_all = "PascalCase")]
pub struct Association {
    pub public_ip: Ip,
}

/// `NetworkInterface` (describe-network-interfaces) and `InstanceNetworkInterface`
/// (describe-instances); the second lacks `TagSet`, `RequesterId` and `RequesterManaged`.
#[derive(Deserialize, Default, Debug, PartialEq)]
#[serde(default, rename_all = "PascalCase")]
pub struct NetworkInterface {
    pub network_interface_id: S,
    pub vpc_id: S,
    pub subnet_id: S,
    pub availability_zone: S,
    pub description: S,
    pub interface_type: S,
    pub groups: List<GroupIdentifier>,
    pub private_ip_address: Ip,
    pub private_ip_addresses: List<PrivateIp>,
    pub ipv4_prefixes: List<Ipv4PrefixSpec>,
    pub ipv6_addresses: List<Ipv6Addr>,
    pub ipv6_prefixes: List<Ipv6PrefixSpec>,
    pub attachment: Option<crate::lenient::Obj<Attachment>>,
    pub requester_id: S,
    pub requester_managed: B,
    /// Only the tags whose key is one of [`crate::model::ENI_TAGS`].
    #[serde(deserialize_with = "eni_tags")]
    pub tag_set: List<Tag>,
    pub association: Option<crate::lenient::Obj<Association>>,
}

/// An ENI's `TagSet`, read as any list and then cut to the tags podreach reads (the ENI reader in
/// `load::fast` skips the others without keeping their text, and must give the same list).
fn eni_tags<'de, D: serde::Deserializer<'de>>(d: D) -> Result<List<Tag>, D::Error> {
    let mut tags = List::<Tag>::deserialize(d)?;
    tags.items.retain(|t| t.key.as_str().is_some_and(|k| crate::model::ENI_TAGS.contains(&k)));
    Ok(tags)
}

#[derive(Deserialize, Default, Debug, PartialEq)]
#[serde(default, rename_all = "PascalCase")]
pub struct IpRange {
    pub cidr_ip: S,
    pub description: S,
}

#[derive(Deserialize, Default, Debug, PartialEq)]
#[serde(default, rename_all = "PascalCase")]
pub struct Ipv6Range {
    pub cidr_ipv6: S,
    pub description: S,
}

#[derive(Deserialize, Default, Debug, PartialEq)]
#[serde(default, rename_all = "PascalCase")]
pub struct PrefixListId {
    pub prefix_list_id: S,
    pub description: S,
}

#[derive(Deserialize, Default, Debug, PartialEq)]
#[serde(default, rename_all = "PascalCase")]
pub struct UserIdGroupPair {
    pub group_id: S,
    pub group_name: S,
    pub user_id: S,
    pub vpc_id: S,
    pub vpc_peering_connection_id: S,
    pub peering_status: S,
    pub description: S,
}

#[derive(Deserialize, Default, Debug, PartialEq)]
#[serde(default, rename_all = "PascalCase")]
pub struct IpPermission {
    pub ip_protocol: S,
    pub from_port: I,
    pub to_port: I,
    pub ip_ranges: List<IpRange>,
    pub ipv6_ranges: List<Ipv6Range>,
    pub prefix_list_ids: List<PrefixListId>,
    pub user_id_group_pairs: List<UserIdGroupPair>,
}

#[derive(Deserialize, Default, Debug, PartialEq)]
#[serde(default, rename_all = "PascalCase")]
pub struct SecurityGroup {
    pub group_id: S,
    pub group_name: S,
    pub description: S,
    pub vpc_id: S,
    pub owner_id: S,
    pub ip_permissions: List<IpPermission>,
    pub ip_permissions_egress: List<IpPermission>,
    pub tags: List<Tag>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
pub struct ReferencedGroupInfo {
    pub group_id: S,
    pub user_id: S,
    pub vpc_id: S,
    pub vpc_peering_connection_id: S,
    pub peering_status: S,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
pub struct SecurityGroupRule {
    pub security_group_rule_id: S,
    pub group_id: S,
    pub is_egress: B,
    pub ip_protocol: S,
    pub from_port: I,
    pub to_port: I,
    pub cidr_ipv4: S,
    pub cidr_ipv6: S,
    pub prefix_list_id: S,
    pub referenced_group_info: Option<crate::lenient::Obj<ReferencedGroupInfo>>,
    pub description: S,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
pub struct NaclAssociation {
    pub subnet_id: S,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
pub struct PortRange {
    pub from: I,
    pub to: I,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
pub struct IcmpTypeCode {
    #[serde(rename = "Type")]
    pub kind: I,
    pub code: I,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
pub struct NaclEntry {
    pub rule_number: I,
    pub egress: B,
    pub rule_action: S,
    pub protocol: S,
    pub cidr_block: S,
    pub ipv6_cidr_block: S,
    pub port_range: Option<crate::lenient::Obj<PortRange>>,
    pub icmp_type_code: Option<crate::lenient::Obj<IcmpTypeCode>>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
pub struct NetworkAcl {
    pub network_acl_id: S,
    pub vpc_id: S,
    pub is_default: B,
    pub associations: List<NaclAssociation>,
    pub entries: List<NaclEntry>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
pub struct Subnet {
    pub subnet_id: S,
    pub vpc_id: S,
    pub cidr_block: S,
    pub availability_zone: S,
    pub tags: List<Tag>,
}

/// `describe-managed-prefix-lists` (AddressFamily, MaxEntries) and `describe-prefix-lists` (Cidrs)
/// share the key `PrefixLists`; one shape holds both.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
pub struct PrefixList {
    pub prefix_list_id: S,
    pub prefix_list_name: S,
    pub address_family: S,
    pub max_entries: I,
    pub cidrs: StrList,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
pub struct PrefixListEntry {
    pub cidr: S,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
pub struct InstanceState {
    pub name: S,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
pub struct Instance {
    pub instance_id: S,
    pub instance_type: S,
    pub private_ip_address: S,
    pub state: Option<crate::lenient::Obj<InstanceState>>,
    pub tags: List<Tag>,
    pub network_interfaces: List<NetworkInterface>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
pub struct Reservation {
    pub instances: List<Instance>,
}

// ----- kubectl -----

#[derive(Deserialize, Default, Debug, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct OwnerReference {
    pub kind: S,
    pub name: S,
    pub controller: B,
}

#[derive(Deserialize, Default, Debug, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct ObjectMeta {
    pub name: S,
    pub namespace: S,
    pub labels: StrMap,
    pub annotations: StrMap,
    pub owner_references: List<OwnerReference>,
}

#[derive(Deserialize, Default, Debug, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct K8sSpec {
    // Pod
    pub node_name: S,
    pub host_network: B,
    // Node
    #[serde(rename = "providerID")]
    pub provider_id: S,
}

#[derive(Deserialize, Default, Debug, PartialEq)]
#[serde(default)]
pub struct PodIp {
    pub ip: Ip,
}

#[derive(Deserialize, Default, Debug, PartialEq)]
#[serde(default)]
pub struct NodeAddress {
    #[serde(rename = "type")]
    pub kind: S,
    pub address: S,
}

#[derive(Deserialize, Default, Debug, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct K8sStatus {
    // Pod
    #[serde(rename = "podIP")]
    pub pod_ip: Ip,
    #[serde(rename = "podIPs")]
    pub pod_ips: List<PodIp>,
    pub phase: S,
    // Node
    pub addresses: List<NodeAddress>,
}

/// A `Pod` or a `Node` (or anything else with a `kind`) from kubectl.
#[derive(Deserialize, Default, Debug, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct K8sObject {
    pub kind: S,
    pub metadata: Option<crate::lenient::Obj<ObjectMeta>>,
    pub spec: Option<crate::lenient::Obj<K8sSpec>>,
    pub status: Option<crate::lenient::Obj<K8sStatus>>,
}

/// The `vpc.amazonaws.com/pod-eni` annotation's elements.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct PodEni {
    pub eni_id: S,
    pub private_ip: S,
}

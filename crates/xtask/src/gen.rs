//! `cargo xtask gen-export`: a realistic, deterministic whole-account export for benchmarks.
//!
//! N nodes with 3-4 ENIs each (about 10 addresses, or a few /28 prefixes on prefix-delegation
//! nodes), about N/2 security groups with a handful of rules (CIDRs, group references, prefix
//! lists), RDS, NAT and load-balancer ENIs, subnets and NACLs across three zones, a pods list,
//! and drift on some nodes. Shaped exactly as the AWS CLI and kubectl print it (4-space JSON).

use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};

/// A small deterministic generator (SplitMix64), so the same seed gives the same bytes.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const ACCOUNT: &str = "111122223333";
const AZS: [&str; 3] = ["us-east-1a", "us-east-1b", "us-east-1c"];

pub struct Generated {
    pub dir: PathBuf,
    pub files: Vec<PathBuf>,
    pub rds_enis: Vec<String>,
    pub bytes: u64,
}

fn ip(n: u32) -> String {
    std::net::Ipv4Addr::from(n).to_string()
}

fn write_json(path: &Path, v: &Value) -> Result<u64, String> {
    let f = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut w = std::io::BufWriter::new(f);
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut w, fmt);
    serde::Serialize::serialize(v, &mut ser).map_err(|e| e.to_string())?;
    w.write_all(b"\n").map_err(|e| e.to_string())?;
    w.flush().map_err(|e| e.to_string())?;
    std::fs::metadata(path).map(|m| m.len()).map_err(|e| e.to_string())
}

fn group_ref(gid: &str) -> Value {
    json!({"GroupId": gid, "UserId": ACCOUNT})
}

fn perm(proto: &str, from: Option<i64>, to: Option<i64>, cidrs: &[String], groups: &[String], pls: &[String]) -> Value {
    let mut p = json!({
        "IpProtocol": proto,
        "IpRanges": cidrs.iter().map(|c| json!({"CidrIp": c, "Description": "generated"})).collect::<Vec<_>>(),
        "Ipv6Ranges": [],
        "PrefixListIds": pls.iter().map(|c| json!({"PrefixListId": c})).collect::<Vec<_>>(),
        "UserIdGroupPairs": groups.iter().map(|g| group_ref(g)).collect::<Vec<_>>(),
    });
    if let (Some(f), Some(t)) = (from, to) {
        p["FromPort"] = json!(f);
        p["ToPort"] = json!(t);
    }
    p
}

#[allow(clippy::too_many_arguments, reason = "a record of the eni's fields")]
fn eni(
    id: &str,
    ips: &[u32],
    prefixes: &[u32],
    groups: &[(String, String)],
    subnet: &str,
    az: &str,
    attachment: Option<Value>,
    desc: &str,
    itype: &str,
    tags: Value,
    requester: Option<&str>,
) -> Value {
    let mut v = json!({
        "AvailabilityZone": az,
        "Description": desc,
        "Groups": groups.iter().map(|(g, n)| json!({"GroupId": g, "GroupName": n})).collect::<Vec<_>>(),
        "InterfaceType": itype,
        "Ipv6Addresses": [],
        "MacAddress": format!("02:{:02x}:{:02x}:{:02x}:{:02x}:01", ips[0] >> 24 & 255, ips[0] >> 16 & 255, ips[0] >> 8 & 255, ips[0] & 255),
        "NetworkInterfaceId": id,
        "OwnerId": ACCOUNT,
        "PrivateDnsName": format!("ip-{}.ec2.internal", ip(ips[0]).replace('.', "-")),
        "PrivateIpAddress": ip(ips[0]),
        "PrivateIpAddresses": ips.iter().enumerate().map(|(i, a)| json!({
            "Primary": i == 0,
            "PrivateDnsName": format!("ip-{}.ec2.internal", ip(*a).replace('.', "-")),
            "PrivateIpAddress": ip(*a),
        })).collect::<Vec<_>>(),
        "RequesterManaged": requester.is_some(),
        "SourceDestCheck": true,
        "Status": "in-use",
        "SubnetId": subnet,
        "TagSet": tags,
        "VpcId": "vpc-0bench",
    });
    if !prefixes.is_empty() {
        v["Ipv4Prefixes"] =
            json!(prefixes.iter().map(|p| json!({"Ipv4Prefix": format!("{}/28", ip(*p))})).collect::<Vec<_>>());
    }
    if let Some(a) = attachment {
        v["Attachment"] = a;
    }
    if let Some(r) = requester {
        v["RequesterId"] = json!(r);
    }
    v
}

fn attachment(id: &str, instance: Option<&str>, device: u32, owner: &str) -> Value {
    let mut a = json!({
        "AttachTime": "2026-11-20T09:12:44+00:00",
        "AttachmentId": format!("eni-attach-{id}"),
        "DeleteOnTermination": true,
        "DeviceIndex": device,
        "NetworkCardIndex": 0,
        "InstanceOwnerId": owner,
        "Status": "attached",
    });
    if let Some(i) = instance {
        a["InstanceId"] = json!(i);
    }
    a
}

/// Writes the export for `nodes` nodes into `dir`.
pub fn generate(nodes: u32, seed: u64, dir: &Path) -> Result<Generated, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut rng = Rng::new(seed);
    // Node subnets: /18s from 10.0.0.0 (16,384 addresses), one per 200 nodes per zone, at least
    // one per zone. A node takes about 60 addresses (prefix-mode nodes about 160), so a subnet
    // fills to about 12,000; the allocation below refuses to overflow into the next subnet.
    // Subnet `idx` is zone `idx / subnets_per_az`'s number `idx % subnets_per_az`.
    let subnets_per_az = nodes / 600 + 1;
    let mut subnets = Vec::new();
    let mut subnet_base = Vec::new();
    for (z, az) in AZS.iter().enumerate() {
        for s in 0..subnets_per_az {
            let idx = z as u32 * subnets_per_az + s;
            let base = (10u32 << 24) + idx * 4096 * 4; // /18 apart
            let id = format!("subnet-0n{idx:05}");
            subnets.push(json!({"AvailabilityZone": az, "CidrBlock": format!("{}/18", ip(base)), "SubnetId": id, "VpcId": "vpc-0bench", "State": "available", "OwnerId": ACCOUNT, "Tags": [{"Key": "Name", "Value": format!("nodes-{az}-{s}")}]}));
            subnet_base.push((id, *az, base));
        }
    }
    let db_subnets: Vec<(String, &str, u32)> = AZS
        .iter()
        .enumerate()
        .map(|(z, az)| (format!("subnet-0db{z}"), *az, (10u32 << 24) + (200u32 << 16) + (z as u32) * 256))
        .collect();
    for (id, az, base) in &db_subnets {
        subnets.push(json!({"AvailabilityZone": az, "CidrBlock": format!("{}/24", ip(*base)), "SubnetId": id, "VpcId": "vpc-0bench", "State": "available", "OwnerId": ACCOUNT}));
    }

    // Security groups: node groups (one per node group of 50 nodes), app groups, db groups.
    let node_groups = (nodes / 50).max(1);
    let total_groups = (nodes / 2).max(8);
    let mut sgs = Vec::new();
    let cluster = "sg-0cluster".to_owned();
    sgs.push(json!({"Description": "EKS created security group", "GroupName": "eks-cluster-sg-bench", "GroupId": cluster, "OwnerId": ACCOUNT, "VpcId": "vpc-0bench",
        "IpPermissions": [perm("-1", None, None, &[], std::slice::from_ref(&cluster), &[])],
        "IpPermissionsEgress": [perm("-1", None, None, &["0.0.0.0/0".to_owned()], &[], &[])], "Tags": []}));
    let gid = |i: u32| format!("sg-0g{i:07}");
    for i in 0..total_groups {
        let mut ingress = Vec::new();
        let n_rules = 2 + rng.below(4);
        for _ in 0..n_rules {
            let port = [443, 5432, 3306, 6379, 8080, 9090][rng.below(6) as usize];
            match rng.below(3) {
                0 => ingress.push(perm(
                    "tcp",
                    Some(port),
                    Some(port),
                    &[format!("10.{}.0.0/16", rng.below(255))],
                    &[],
                    &[],
                )),
                1 => ingress.push(perm(
                    "tcp",
                    Some(port),
                    Some(port),
                    &[],
                    &[gid(rng.below(u64::from(total_groups)) as u32)],
                    &[],
                )),
                _ => ingress.push(perm("tcp", Some(port), Some(port), &[], &[], &["pl-0corp".to_owned()])),
            }
        }
        sgs.push(json!({"Description": format!("group {i}"), "GroupName": format!("bench-{i}"), "GroupId": gid(i), "OwnerId": ACCOUNT, "VpcId": "vpc-0bench",
            "IpPermissions": ingress,
            "IpPermissionsEgress": [perm("-1", None, None, &["0.0.0.0/0".to_owned()], &[], &[])], "Tags": []}));
    }
    // The database group admits every node group on 5432.
    let node_group_ids: Vec<String> = (0..node_groups).map(gid).collect();
    sgs.push(json!({"Description": "orders database", "GroupName": "rds-orders", "GroupId": "sg-0rdsorders", "OwnerId": ACCOUNT, "VpcId": "vpc-0bench",
        "IpPermissions": [perm("tcp", Some(5432), Some(5432), &[], &node_group_ids, &[])],
        "IpPermissionsEgress": [], "Tags": []}));

    let mut enis = Vec::new();
    let mut instances = Vec::new();
    let mut pods = Vec::new();
    let mut k8s_nodes = Vec::new();
    let mut next_host: Vec<u32> = subnet_base.iter().map(|(_, _, b)| b + 16).collect();
    for n in 0..nodes {
        // As a managed node group spreads its nodes over one subnet per zone: the group's
        // subnets are its zones' subnet number `ng % subnets_per_az`, and its nodes take the
        // zones in turn. So there are three (group, subnet) combinations per node group, whatever
        // the number of subnets.
        let ng = n % node_groups;
        let zone = (n / node_groups) % AZS.len() as u32;
        let s = (zone * subnets_per_az + ng % subnets_per_az) as usize;
        let (subnet, az, _) = subnet_base[s].clone();
        let inst = format!("i-0{n:016x}");
        let mut groups = vec![(cluster.clone(), "eks-cluster-sg-bench".to_owned()), (gid(ng), format!("bench-{ng}"))];
        let n_enis = if rng.chance(25) { 4 } else { 3 };
        let prefix_mode = rng.chance(20);
        let drift = rng.chance(5);
        let node_name = format!("ip-node-{n}.ec2.internal");
        let mut node_ip = 0;
        for d in 0..n_enis {
            let mut ips = Vec::new();
            let mut prefixes = Vec::new();
            let count = if prefix_mode { 1 } else { 9 + rng.below(3) as u32 };
            for _ in 0..count {
                ips.push(next_host[s]);
                next_host[s] += 1;
            }
            if prefix_mode {
                next_host[s] = (next_host[s] + 15) & !15;
                for _ in 0..(1 + rng.below(3)) {
                    prefixes.push(next_host[s]);
                    next_host[s] += 16;
                }
            }
            if next_host[s] >= subnet_base[s].2 + 16_384 {
                return Err(format!("gen: subnet {subnet} is full at node {n}: more subnets are needed"));
            }
            if d == 0 {
                node_ip = ips[0];
            }
            let id = format!("eni-0{:08x}{d:08x}", n);
            let mut g = groups.clone();
            if drift && d > 0 {
                g.truncate(1);
            }
            let desc = if d == 0 { String::new() } else { format!("aws-K8S-{inst}") };
            // The tags the VPC CNI puts on an ENI it creates, with CLUSTER_NAME set
            // (aws-semantics.md §5).
            let tags = if d == 0 {
                json!([])
            } else {
                json!([
                    {"Key": "node.k8s.amazonaws.com/createdAt", "Value": format!("2026-11-{:02}T{:02}:{:02}:{:02}Z", 1 + n % 28, n % 24, (n / 24) % 60, d * 7)},
                    {"Key": "node.k8s.amazonaws.com/instance_id", "Value": inst},
                    {"Key": "cluster.k8s.amazonaws.com/name", "Value": "bench"},
                    {"Key": "eks:eni:owner", "Value": "amazon-vpc-cni"}
                ])
            };
            enis.push(eni(
                &id,
                &ips,
                &prefixes,
                &g,
                &subnet,
                az,
                Some(attachment(&id, Some(&inst), d, ACCOUNT)),
                &desc,
                "interface",
                tags,
                None,
            ));
            // Pods on the secondary addresses (and in the prefixes).
            let mut pod_ips: Vec<u32> = ips.iter().skip(1).copied().collect();
            for p in &prefixes {
                pod_ips.extend((0..8).map(|k| p + k));
            }
            for (k, a) in pod_ips.iter().enumerate() {
                if !rng.chance(12) {
                    continue;
                }
                let app = rng.below(200);
                let hash = format!("{:x}", 0x5d78c9 + app);
                pods.push(json!({"apiVersion": "v1", "kind": "Pod",
                    "metadata": {"name": format!("app{app}-{hash}-{n}x{d}x{k}"), "namespace": format!("ns{}", app % 20),
                        "labels": {"app": format!("app{app}"), "pod-template-hash": hash},
                        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": format!("app{app}-{hash}"), "controller": true, "uid": "u"}]},
                    "spec": {"nodeName": node_name, "hostNetwork": false, "containers": [{"name": "app", "image": "app:1"}]},
                    "status": {"phase": "Running", "hostIP": ip(node_ip), "podIP": ip(*a), "podIPs": [{"ip": ip(*a)}]}}));
            }
        }
        if drift {
            groups.truncate(1);
        }
        instances.push(json!({"InstanceId": inst, "InstanceType": "m5.large", "PrivateIpAddress": ip(node_ip), "State": {"Code": 16, "Name": "running"},
            "SubnetId": subnet, "VpcId": "vpc-0bench", "Tags": [{"Key": "Name", "Value": format!("ng-{ng}")}], "NetworkInterfaces": []}));
        k8s_nodes.push(json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": node_name, "labels": {"topology.kubernetes.io/zone": az}},
            "spec": {"providerID": format!("aws:///{az}/{inst}")}, "status": {"addresses": [{"type": "InternalIP", "address": ip(node_ip)}]}}));
    }
    // Databases, NAT gateways, load balancers.
    let mut rds_enis = Vec::new();
    for (z, (subnet, az, base)) in db_subnets.iter().enumerate() {
        let id = format!("eni-0rds{z:012}");
        enis.push(eni(
            &id,
            &[base + 10],
            &[],
            &[("sg-0rdsorders".to_owned(), "rds-orders".to_owned())],
            subnet,
            az,
            Some(attachment(&id, None, 1, "amazon-rds")),
            "RDSNetworkInterface",
            "interface",
            json!([]),
            Some("amazon-rds"),
        ));
        rds_enis.push(id);
        let nat = format!("eni-0nat{z:012}");
        let mut v = eni(
            &nat,
            &[base + 20],
            &[],
            &[],
            subnet,
            az,
            Some(attachment(&nat, None, 1, "amazon-aws")),
            &format!("Interface for NAT Gateway nat-0{z:016}"),
            "nat_gateway",
            json!([]),
            None,
        );
        v["Association"] = json!({"PublicIp": format!("3.3.3.{}", z + 1), "IpOwnerId": "amazon"});
        enis.push(v);
        let lb = format!("eni-0alb{z:012}");
        enis.push(eni(
            &lb,
            &[base + 30],
            &[],
            &[(gid(1), "bench-1".to_owned())],
            subnet,
            az,
            Some(attachment(&lb, None, 1, "amazon-elb")),
            "ELB app/bench/0123456789abcdef",
            "interface",
            json!([]),
            Some("amazon-elb"),
        ));
    }
    // NACLs: one per zone for nodes (open, with a deny for a quarantine range), one for databases.
    let mut nacls = Vec::new();
    let open = |n: u32, egress: bool| json!({"CidrBlock": "0.0.0.0/0", "Egress": egress, "Protocol": "-1", "RuleAction": "allow", "RuleNumber": n});
    let deny_all = |egress: bool| json!({"CidrBlock": "0.0.0.0/0", "Egress": egress, "Protocol": "-1", "RuleAction": "deny", "RuleNumber": 32767});
    for (z, _) in AZS.iter().enumerate() {
        let assoc: Vec<Value> = subnet_base
            .iter()
            .filter(|(_, az, _)| *az == AZS[z])
            .map(|(id, _, _)| json!({"NetworkAclAssociationId": format!("aclassoc-{id}"), "NetworkAclId": format!("acl-0n{z}"), "SubnetId": id}))
            .collect();
        nacls.push(json!({"Associations": assoc, "Entries": [
            {"CidrBlock": "192.168.66.0/24", "Egress": false, "Protocol": "-1", "RuleAction": "deny", "RuleNumber": 50},
            open(100, true), open(100, false), deny_all(true), deny_all(false)],
            "IsDefault": false, "NetworkAclId": format!("acl-0n{z}"), "OwnerId": ACCOUNT, "Tags": [], "VpcId": "vpc-0bench"}));
    }
    let db_assoc: Vec<Value> = db_subnets.iter().map(|(id, _, _)| json!({"NetworkAclAssociationId": format!("aclassoc-{id}"), "NetworkAclId": "acl-0db", "SubnetId": id})).collect();
    nacls.push(json!({"Associations": db_assoc, "Entries": [
        {"CidrBlock": "10.0.0.0/8", "Egress": false, "PortRange": {"From": 5432, "To": 5432}, "Protocol": "6", "RuleAction": "allow", "RuleNumber": 100},
        {"CidrBlock": "10.0.0.0/8", "Egress": true, "PortRange": {"From": 1024, "To": 65535}, "Protocol": "6", "RuleAction": "allow", "RuleNumber": 100},
        deny_all(true), deny_all(false)],
        "IsDefault": false, "NetworkAclId": "acl-0db", "OwnerId": ACCOUNT, "Tags": [], "VpcId": "vpc-0bench"}));
    let pl = json!({"PrefixListId": "pl-0corp", "Entries": [{"Cidr": "10.0.0.0/12", "Description": "corp"}, {"Cidr": "172.16.0.0/12"}]});

    let mut files = Vec::new();
    let mut bytes = 0;
    // kubectl prints a list in the API server's key order: by namespace, then name.
    let key = |v: &Value, k: &str| {
        v.pointer(&format!("/metadata/{k}")).and_then(Value::as_str).unwrap_or_default().to_owned()
    };
    pods.sort_by_cached_key(|p| (key(p, "namespace"), key(p, "name")));
    k8s_nodes.sort_by_cached_key(|n| key(n, "name"));
    let docs: [(&str, Value); 8] = [
        ("enis.json", json!({"NetworkInterfaces": enis})),
        ("sgs.json", json!({"SecurityGroups": sgs})),
        ("nacls.json", json!({"NetworkAcls": nacls})),
        ("subnets.json", json!({"Subnets": subnets})),
        ("prefix-list-entries.json", pl),
        (
            "instances.json",
            json!({"Reservations": [{"ReservationId": "r-0bench", "OwnerId": ACCOUNT, "Groups": [], "Instances": instances}]}),
        ),
        ("pods.json", json!({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": pods})),
        (
            "nodes.json",
            json!({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": k8s_nodes}),
        ),
    ];
    for (name, v) in docs.iter() {
        let p = dir.join(name);
        bytes += write_json(&p, v)?;
        files.push(p);
    }
    Ok(Generated { dir: dir.to_path_buf(), files, rds_enis, bytes })
}

pub fn main(args: &[String]) -> Result<(), String> {
    let mut nodes = 5000u32;
    let mut seed = 1u64;
    let mut out = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--nodes" => nodes = it.next().and_then(|v| v.parse().ok()).ok_or("--nodes takes a number")?,
            "--seed" => seed = it.next().and_then(|v| v.parse().ok()).ok_or("--seed takes a number")?,
            "--out" => out = it.next().cloned(),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    let dir =
        out.map(PathBuf::from).unwrap_or_else(|| crate::root().join(format!("target/bench/export-{nodes}-{seed}")));
    let g = generate(nodes, seed, &dir)?;
    eprintln!(
        "wrote {} files, {:.1} MB, to {} (rds enis: {})",
        g.files.len(),
        g.bytes as f64 / 1e6,
        g.dir.display(),
        g.rds_enis.join(", ")
    );
    Ok(())
}

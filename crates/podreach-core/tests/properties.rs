//! Property tests: no panic on any input, determinism under reordering and splitting, and the
//! monotonicity the semantics promise (rules only allow; missing data only adds uncertainty).
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests fail loudly")]

use podreach_core::{reach, report, Input};
use proptest::prelude::*;
use serde_json::{json, Value};

fn run(texts: &[(&str, Vec<u8>)], to: &str, port: u16) -> Option<report::Report> {
    let inputs: Vec<Input<'_>> = texts.iter().map(|(n, b)| Input { name: n, bytes: b }).collect();
    let loaded = podreach_core::load(&inputs);
    let q = podreach_core::make_query(to, "tcp", Some(port)).ok()?;
    let _ = report::build(&loaded, None);
    report::build(&loaded, Some(&q)).ok()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Arbitrary bytes never panic the loader or the report.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = run(&[("x.json", bytes)], "10.0.0.1", 5432);
    }

    /// JSON-ish token soup (deep, odd, half-valid) never panics.
    #[test]
    fn json_token_soup_never_panics(tokens in proptest::collection::vec(prop_oneof![
        Just("{"), Just("}"), Just("["), Just("]"), Just(","), Just(":"), Just("\"NetworkInterfaces\""),
        Just("\"SecurityGroups\""), Just("\"Groups\""), Just("\"GroupId\""), Just("\"PrivateIpAddress\""),
        Just("\"10.0.0.1\""), Just("null"), Just("true"), Just("-1"), Just("1e400"), Just("123456789012345678901234"),
        Just("\"\\ud800\""), Just("\"NextToken\""), Just("\"kind\""), Just("\"List\""), Just("\"items\""),
    ], 0..400)) {
        let text: String = tokens.concat();
        let _ = run(&[("soup.json", text.into_bytes())], "eni-1", 1);
    }

    /// Mutating a real fixture byte by byte never panics.
    #[test]
    fn mutated_fixtures_never_panic(case in 0usize..1000, edits in proptest::collection::vec((any::<usize>(), any::<u8>(), 0u8..3), 1..12)) {
        let cases = podreach_fixtures::CASES;
        let c = &cases[case % cases.len()];
        let mut texts: Vec<(&str, Vec<u8>)> = c.inputs.iter().map(|(n, b)| (*n, b.to_vec())).collect();
        for (pos, byte, kind) in edits {
            let Some((_, t)) = texts.get_mut(pos % c.inputs.len().max(1)) else { continue };
            if t.is_empty() { t.push(byte); continue; }
            let at = pos % t.len();
            match kind {
                0 => t[at] = byte,
                1 => t.insert(at, byte),
                _ => { t.remove(at); }
            }
        }
        let _ = run(&texts, "eni-0rds", 5432);
    }

    /// The same documents in any order, split across any files, give byte-identical output.
    #[test]
    fn order_and_split_never_change_the_report(world in world(), split in any::<bool>(), rot in 0usize..5) {
        let docs = world.documents();
        let a: Vec<(&str, Vec<u8>)> = vec![("a.json", docs.concat().into_bytes())];
        let mut rotated = docs.clone();
        rotated.rotate_left(rot % docs.len());
        let b: Vec<(&str, Vec<u8>)> = if split {
            rotated.iter().map(|d| ("part.json", d.clone().into_bytes())).collect()
        } else {
            vec![("b.json", rotated.concat().into_bytes())]
        };
        let strip = |r: Option<report::Report>| r.map(|mut r| { r.inputs = Default::default(); r.diagnostics.clear(); podreach_core::render::json(&r) });
        prop_assert_eq!(strip(run(&a, "eni-t", world.port)), strip(run(&b, "eni-t", world.port)));
    }

    /// Sharing never changes an answer: each source's shared trace (one per class of ENIs and
    /// side of every rule boundary, with the query's memos) says what evaluating that source on
    /// its own, in a fresh context, says. Only the block's first-source details may differ
    /// (`unsourced`).
    #[test]
    fn shared_traces_match_each_source_on_its_own(world in world()) {
        let texts = world.texts();
        let inputs: Vec<Input<'_>> = texts.iter().map(|(n, b)| Input { name: n, bytes: b }).collect();
        let loaded = podreach_core::load(&inputs);
        let q = podreach_core::make_query("eni-t", "tcp", Some(world.port)).unwrap();
        let shared = reach::analyze(&loaded.model, &q).unwrap();
        let each = reach::evaluate_each(&loaded.model, &q).unwrap();
        prop_assert_eq!(shared.sources.len(), each.len());
        for (r, (addr, eni, own)) in shared.sources.iter().zip(&each) {
            prop_assert_eq!((r.addr, r.eni), (*addr, *eni));
            let t = shared.trace(r).unwrap();
            prop_assert_eq!(&t.verdict, &own.verdict, "{}", addr);
            prop_assert_eq!(&t.steps, &own.steps, "{}", addr);
            prop_assert_eq!(&t.decisive, &own.decisive, "{}", addr);
            prop_assert_eq!(&t.missing, &own.missing, "{}", addr);
            prop_assert_eq!(t.block.clone().map(unsourced), own.block.clone().map(unsourced), "{}", addr);
        }
    }

    /// A report's rows are the analysis' sources, whatever their order: in the model's order each
    /// row's address, ENI and pods come from the load's table beside it, and in any other order
    /// they are looked up.
    #[test]
    fn rows_follow_the_analysis_in_any_order(world in world(), rot in 1usize..7) {
        let texts = world.texts();
        let inputs: Vec<Input<'_>> = texts.iter().map(|(n, b)| Input { name: n, bytes: b }).collect();
        let loaded = podreach_core::load(&inputs);
        let q = podreach_core::make_query("eni-t", "tcp", Some(world.port)).unwrap();
        let prepared = report::Prepared::new(&loaded.model, &loaded.diagnostics, &loaded.documents);
        let a = reach::analyze(&loaded.model, &q).unwrap();
        let rows = |a: &reach::Analysis| -> Vec<_> {
            prepared.report_with(&loaded.model, Some(a)).sources.iter().map(|s| s.owned()).collect()
        };
        let straight = rows(&a);
        prop_assert_eq!(straight.len(), a.sources.len());
        for (row, r) in straight.iter().zip(&a.sources) {
            prop_assert_eq!(row.ip, r.addr);
            prop_assert_eq!(&row.on.eni, &loaded.model.enis[r.eni].id);
        }
        let mut turned = a.clone();
        let n = turned.sources.len();
        turned.sources.rotate_left(rot.min(n));
        turned.sources.reverse();
        let mut expected = straight.clone();
        expected.rotate_left(rot.min(n));
        expected.reverse();
        prop_assert_eq!(rows(&turned), expected);
    }

    /// Adding an allow rule never turns `reachable` into anything else.
    #[test]
    fn an_added_allow_rule_never_blocks(world in world(), extra in rule(), group in 0usize..4, egress in any::<bool>()) {
        let before = run(&world.texts(), "eni-t", world.port).unwrap();
        let mut more = world.clone();
        let g = &mut more.groups[group];
        if egress { g.egress.push(extra) } else { g.ingress.push(extra) }
        let after = run(&more.texts(), "eni-t", more.port).unwrap();
        for (x, y) in before.sources.iter().zip(&after.sources) {
            prop_assert_eq!(&x.ip, &y.ip);
            if x.verdict == "reachable" {
                prop_assert_eq!(y.verdict, "reachable", "{} became {}", x.ip, y.verdict);
            }
        }
    }

    /// Giving a group that was missing from the export never turns a confident verdict into another.
    #[test]
    fn a_missing_group_never_flips_a_confident_verdict(world in world(), missing in 0usize..4) {
        let mut partial = world.clone();
        partial.omit = Some(missing);
        let before = run(&partial.texts(), "eni-t", world.port).unwrap();
        let after = run(&world.texts(), "eni-t", world.port).unwrap();
        for (x, y) in before.sources.iter().zip(&after.sources) {
            if x.verdict != "unknown" {
                prop_assert_eq!(&x.verdict, &y.verdict, "{}: {:?}", x.ip, x.reasons());
            }
            prop_assert_ne!(y.verdict, "unknown", "complete data left {} unknown", y.ip);
        }
    }
}

#[derive(Clone, Debug)]
struct Group {
    ingress: Vec<Value>,
    egress: Vec<Value>,
}

/// A small random VPC: four groups with random rules, a target ENI, and node ENIs.
#[derive(Clone, Debug)]
struct World {
    groups: Vec<Group>,
    target_groups: Vec<usize>,
    /// Per node ENI: its subnet's third octet, its groups, how many secondary addresses it has,
    /// and whether it has a delegated /28 prefix.
    nodes: Vec<(u8, Vec<usize>, u8, bool)>,
    port: u16,
    omit: Option<usize>,
}

/// A block without what names the first source of its trace (its ENI, its address), which a
/// shared trace takes from whichever source was evaluated first.
fn unsourced(b: reach::Block) -> reach::Block {
    use reach::Block;
    let anywhere = podreach_core::net::Cidr4::host([0, 0, 0, 0].into());
    match b {
        Block::Ingress { target_groups, near, .. } => Block::Ingress { target_groups, near, source_eni: 0 },
        Block::Egress { .. } => Block::Egress { source_eni: 0 },
        Block::Nacl { nacl, egress, entry, ports, .. } => Block::Nacl { nacl, egress, entry, peer: anywhere, ports },
        Block::Path { target_group, .. } => Block::Path { target_group, seen: anywhere },
    }
}

fn gid(i: usize) -> String {
    format!("sg-{i}")
}

fn rule() -> impl Strategy<Value = Value> {
    let proto = prop_oneof![Just("tcp"), Just("6"), Just("udp"), Just("-1"), Just("50")];
    let peer = prop_oneof![
        (0u8..4).prop_map(|g| json!({"UserIdGroupPairs": [{"GroupId": gid(g as usize), "UserId": "1"}]})),
        (0u8..=32, 0u8..4)
            .prop_map(|(len, third)| json!({"IpRanges": [{"CidrIp": format!("10.0.{third}.0/{}", len.max(8))}]})),
        // Small blocks that cut through a node's addresses and prefixes.
        (26u8..=32, 0u8..4, 8u8..192).prop_map(|(len, third, host)| {
            let size = 1u16 << (32 - len);
            let base = u16::from(host) / size * size;
            json!({"IpRanges": [{"CidrIp": format!("10.0.{third}.{base}/{len}")}]})
        }),
    ];
    (proto, 5430u16..5435, 0u16..3, peer).prop_map(|(p, from, width, mut peer)| {
        peer["IpProtocol"] = json!(p);
        if p != "-1" {
            peer["FromPort"] = json!(from);
            peer["ToPort"] = json!(from + width);
        }
        peer
    })
}

fn world() -> impl Strategy<Value = World> {
    let group = (proptest::collection::vec(rule(), 0..3), proptest::collection::vec(rule(), 0..2))
        .prop_map(|(ingress, egress)| Group { ingress, egress });
    (
        proptest::collection::vec(group, 4),
        proptest::collection::vec(0usize..4, 1..3),
        proptest::collection::vec((0u8..4, proptest::collection::vec(0usize..4, 0..3), 0u8..6, any::<bool>()), 1..5),
        5430u16..5434,
    )
        .prop_map(|(groups, target_groups, nodes, port)| World { groups, target_groups, nodes, port, omit: None })
}

impl World {
    fn documents(&self) -> Vec<String> {
        let eni = |id: String, ip: String, groups: &[usize], device: Option<usize>, subnet: u8| {
            let mut e = json!({
                "NetworkInterfaceId": id, "VpcId": "vpc-1", "SubnetId": format!("subnet-{subnet}"), "AvailabilityZone": "us-east-1a",
                "PrivateIpAddress": ip, "PrivateIpAddresses": [{"PrivateIpAddress": ip, "Primary": true}],
                "Groups": groups.iter().map(|g| json!({"GroupId": gid(*g)})).collect::<Vec<_>>(),
                "InterfaceType": "interface", "Status": "in-use",
            });
            if let Some(d) = device {
                e["Attachment"] = json!({"InstanceId": format!("i-{d}"), "DeviceIndex": 0});
            }
            e
        };
        let mut enis = vec![eni("eni-t".into(), "10.0.9.9".into(), &self.target_groups, None, 9)];
        for (i, (third, groups, secondary, prefix)) in self.nodes.iter().enumerate() {
            let mut e = eni(format!("eni-{i}"), format!("10.0.{third}.{}", 10 + i * 6), groups, Some(i), *third);
            for k in 1..=usize::from(*secondary) {
                e["PrivateIpAddresses"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"PrivateIpAddress": format!("10.0.{third}.{}", 10 + i * 6 + k), "Primary": false}));
            }
            if *prefix {
                e["Ipv4Prefixes"] = json!([{"Ipv4Prefix": format!("10.0.{third}.{}/28", 128 + 16 * i)}]);
            }
            enis.push(e);
        }
        let groups: Vec<Value> = self
            .groups
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != self.omit)
            .map(|(i, g)| json!({"GroupId": gid(i), "IpPermissions": g.ingress, "IpPermissionsEgress": g.egress}))
            .collect();
        vec![json!({"NetworkInterfaces": enis}).to_string(), json!({"SecurityGroups": groups}).to_string()]
    }

    fn texts(&self) -> Vec<(&'static str, Vec<u8>)> {
        self.documents().into_iter().map(|d| ("w.json", d.into_bytes())).collect()
    }
}

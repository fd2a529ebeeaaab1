//! The worker's engine, natively, over the bundled example and the fixture corpus.
use super::*;
use podreach_core::report::{SourceOut, Sources};

use crate::example::{inputs as example_inputs, query as story_query};

#[test]
fn the_example_view_tells_the_story() {
    let mut e = Engine::default();
    e.set_inputs(example_inputs());
    let v = e.run(Some(&story_query()), &PageReq::default());
    assert!(v.errors.is_empty());
    assert_eq!(v.documents.len(), 5);
    assert_eq!(v.report.summary.blocked, 12);
    assert_eq!(v.report.summary.reachable, 6);
    assert!(v.report.sources.is_empty(), "sources travel in pages");
    assert_eq!(v.rows.total, 18);
    assert_eq!(v.rows.rows.first().map(|r| &*r.verdict), Some("blocked"));
    assert_eq!(v.causes.len(), 2);
    assert_eq!(v.targets.first().map(|t| t.group.as_str()), Some("rds"));
    assert_eq!(v.report.drift.len(), 2);
}

#[test]
fn filters_and_sorts_rows() {
    let mut e = Engine::default();
    e.set_inputs(example_inputs());
    e.run(Some(&story_query()), &PageReq::default());
    let page = |filter: &str, verdict: &str, sort: &str| {
        e.page(&PageReq { filter: filter.into(), verdict: verdict.into(), sort: sort.into(), ..PageReq::default() })
    };
    assert_eq!(page("orders-api", "", "cause").total, 4);
    assert_eq!(page("", "reachable", "cause").total, 6);
    assert_eq!(page("eth2", "", "cause").total, 6);
    assert_eq!(page("sg-0cluster", "reachable", "cause").total, 6, "the group filter matches enis carrying it");
    assert_eq!(page("sg-0dbaccess", "", "cause").total, 18, "eth0 carries it; the others name it in their cause");
    assert_eq!(page("", "", "ip").rows.first().map(|r| r.ip.to_string()).as_deref(), Some("10.0.1.10"));
    let limited = e.page(&PageReq { limit: 5, offset: 15, ..PageReq::default() });
    assert_eq!((limited.total, limited.offset, limited.rows.len()), (18, 15, 3));
}

#[test]
fn errors_point_at_their_input_and_keep_the_others() {
    let mut inputs = example_inputs();
    inputs.push(InputMsg { id: 0, name: "pasted text".into(), bytes: b"{\"Subnets\": [,]}".to_vec(), follows: None });
    let mut e = Engine::default();
    e.set_inputs(inputs);
    let v = e.run(Some(&story_query()), &PageReq::default());
    assert_eq!(v.errors.len(), 1);
    let err = &v.errors[0];
    assert_eq!((err.input, err.line, err.column), (0, Some(1), Some(14)));
    assert!(err.message.starts_with("pasted text:1:14:"), "{}", err.message);
    assert_eq!(v.report.summary.blocked, 12, "the other documents still load");
}

#[test]
fn a_bad_query_is_reported_not_fatal() {
    let mut e = Engine::default();
    e.set_inputs(example_inputs());
    let v =
        e.run(Some(&QueryMsg { to: "eni-0nope".into(), protocol: "tcp".into(), port: Some(1) }), &PageReq::default());
    assert!(v.query_error.as_deref().unwrap_or("").contains("eni-0nope"));
    assert_eq!(v.report.drift.len(), 2);
}

#[test]
fn exports_match_the_core_renderings() {
    let mut e = Engine::default();
    e.set_inputs(example_inputs());
    e.run(Some(&story_query()), &PageReq::default());
    let json = e.export("json").unwrap();
    assert!(json.contains("\"schema\": \"podreach/report@1\""));
    // The whole report, matrices included, though the run built none of them up front.
    assert_eq!(json, api(&example_inputs(), Some(&story_query())).unwrap());
    assert!(json.contains("\"instances\": [\n"));
    assert!(e.export("markdown").unwrap().starts_with("# podreach report"));
    assert_eq!(e.export("csv").unwrap().lines().count(), 19);
}

#[test]
fn the_javascript_api_returns_the_cli_schema() {
    let q = QueryMsg { to: "eni-0rds".into(), protocol: String::new(), port: Some(5432) };
    let json = api(&example_inputs(), Some(&q)).unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["schema"], "podreach/report@1");
    assert_eq!(v["summary"]["blocked"], 12);
    assert!(api(&example_inputs(), Some(&QueryMsg { to: "nope".into(), ..QueryMsg::default() })).is_err());
    let matrix_only: serde_json::Value = serde_json::from_str(&api(&example_inputs(), None).unwrap()).unwrap();
    assert!(matrix_only["target"].is_null());
}

#[test]
fn inputs_that_arrive_one_by_one_in_any_order_give_the_same_view() {
    let mut whole = Engine::default();
    let mut inputs = example_inputs();
    inputs.push(InputMsg { id: 0, name: "pasted text".into(), bytes: b"{\"Subnets\": [,]}".to_vec(), follows: None });
    whole.set_inputs(inputs.clone());
    let expected = whole.run(Some(&story_query()), &PageReq::default());
    // Every file input but the first follows the request; they arrive last first.
    let mut sent = inputs.clone();
    for i in sent.iter_mut().skip(1).filter(|i| i.id != 0) {
        i.follows = Some(i.bytes.len() as u64);
        i.bytes.clear();
    }
    let mut loading = Loading::new(sent);
    loading.parse_held();
    let total: u64 = inputs.iter().map(|i| i.bytes.len() as u64).sum();
    let (waiting, all) = loading.progress();
    assert_eq!(all, total);
    assert!(waiting > 0 && waiting < total);
    assert_eq!(place(&mut loading, 999, 0, b"{}"), None, "no input 999 waits");
    // Bytes read count before they arrive, up to the input's size, and never go back.
    let last = inputs.iter().rev().find(|i| i.id != 0).map(|i| (i.id, i.bytes.len() as u64)).unwrap();
    assert!(loading.reading(last.0, 10));
    assert_eq!(loading.progress().0, waiting - 10);
    assert!(loading.reading(last.0, 5));
    assert_eq!(loading.progress().0, waiting - 10, "a read count does not go back");
    assert!(loading.reading(last.0, u64::MAX));
    assert_eq!(loading.progress().0, waiting - last.1, "counted up to the input's size");
    assert!(!loading.reading(999, 1), "no input 999 is read");
    assert!(!loading.reading(0, 1), "the pasted text came with the request");
    for i in inputs.iter().skip(1).filter(|i| i.id != 0).rev() {
        assert!(!loading.complete());
        assert_eq!(place(&mut loading, i.id, 0, &i.bytes), Some(Placed::All), "{} was waiting", i.name);
        assert!(loading.parse(i.id), "{} was waiting", i.name);
        assert_eq!(place(&mut loading, i.id, 0, &i.bytes), None, "{} arrives once", i.name);
        assert!(!loading.parse(i.id), "{} is parsed once", i.name);
    }
    assert!(loading.complete());
    assert_eq!(loading.progress().0, 0);
    assert_eq!(loading.name(0), "pasted text");
    let mut e = Engine::default();
    loading.finish(&mut e);
    assert_eq!(e.run(Some(&story_query()), &PageReq::default()), expected);
    assert_eq!(e.export("json"), whole.export("json"));
}

/// The page reads a large file in slices, several at once, so they come in any order.
#[test]
fn inputs_that_arrive_in_slices_in_any_order_give_the_same_view() {
    let (inputs, sent) = example_inputs_to_follow();
    let mut loading = Loading::new(sent);
    // As the worker does while it waits: the largest input's slices then go into that buffer.
    loading.prepare_largest();
    for (n, i) in inputs.iter().enumerate() {
        let len = i.bytes.len();
        // Cuts of every size up to a few, last slice first, then the rest from the front.
        let step = (len / (n % 4 + 2)).max(1);
        let mut cuts: Vec<(usize, usize)> = (0..len).step_by(step).map(|a| (a, (a + step).min(len))).collect();
        cuts.rotate_right(1);
        assert!(cuts.len() >= 2, "{} is cut", i.name);
        assert_eq!(place(&mut loading, i.id, len as u64, b"x"), None, "a slice past the end of {}", i.name);
        for (k, (a, b)) in cuts.iter().enumerate() {
            let placed = place(&mut loading, i.id, *a as u64, &i.bytes[*a..*b]);
            let last = k + 1 == cuts.len();
            assert_eq!(placed, Some(if last { Placed::All } else { Placed::More }), "{} slice {k}", i.name);
            if !last {
                assert_eq!(loading.size(i.id), len as u64);
            }
        }
        assert!(loading.parse(i.id), "{} was waiting", i.name);
    }
    assert_eq!(loading.progress().0, 0);
    gives_the_examples_view(loading);
}

/// The example's inputs, and the same inputs as a run sends them when their bytes follow.
fn example_inputs_to_follow() -> (Vec<InputMsg>, Vec<InputMsg>) {
    let inputs = example_inputs();
    let mut sent = inputs.clone();
    for i in &mut sent {
        i.follows = Some(i.bytes.len() as u64);
        i.bytes.clear();
    }
    (inputs, sent)
}

/// `loading`, complete, gives the view and export that the example's inputs given whole give.
fn gives_the_examples_view(loading: Loading) {
    assert!(loading.complete());
    let mut whole = Engine::default();
    whole.set_inputs(example_inputs());
    let mut e = Engine::default();
    loading.finish(&mut e);
    assert_eq!(e.run(Some(&story_query()), &PageReq::default()), whole.run(Some(&story_query()), &PageReq::default()));
    assert_eq!(e.export("json"), whole.export("json"));
}

/// The second worker's path: it puts a file together in a `Loading` of its own and takes its
/// bytes whole; the analysis worker takes what it made of them in the file's place. The view is
/// the one the analysis worker alone gives, whether the file is handed over in the compact form
/// (the example's pods) or goes back whole (anything else).
#[test]
fn inputs_parsed_by_the_second_worker_give_the_same_view() {
    let (inputs, sent) = example_inputs_to_follow();
    let mut loading = Loading::new(sent.clone());
    let mut handed = 0;
    for (i, s) in inputs.iter().zip(&sent) {
        // The second worker, with the reader's slices in two.
        let mut helper = Loading::new(vec![s.clone()]);
        helper.prepare_largest();
        let half = i.bytes.len() / 2;
        assert_eq!(place(&mut helper, i.id, half as u64, &i.bytes[half..]), Some(Placed::More));
        assert_eq!(helper.take_whole(i.id), None, "{}: not all in", i.name);
        assert_eq!(place(&mut helper, i.id, 0, &i.bytes[..half]), Some(Placed::All));
        let bytes = helper.take_whole(i.id).unwrap();
        assert_eq!(bytes, i.bytes);
        assert_eq!(helper.take_whole(i.id), None, "{}: taken once", i.name);
        let mut parsed = podreach_core::parse(&podreach_core::Input { name: &i.name, bytes: &bytes });
        parsed.convert_k8s();
        match parsed.to_wire() {
            Some(wire) => {
                handed += 1;
                assert!(loading.hand_over(i.id, podreach_core::Parsed::from_wire(&wire).unwrap()));
                assert!(!loading.hand_over(i.id, podreach_core::Parsed::from_wire(&wire).unwrap()), "once");
            }
            None => {
                assert_eq!(place(&mut loading, i.id, 0, &bytes), Some(Placed::All));
                assert!(loading.parse(i.id));
            }
        }
    }
    assert_eq!(handed, 2, "the example's pods and nodes are handed over, nothing else");
    gives_the_examples_view(loading);
}

/// Places `bytes` as the worker does with a slice the page read.
fn place(loading: &mut Loading, id: u32, offset: u64, bytes: &[u8]) -> Option<Placed> {
    loading.place(id, offset, bytes)
}

/// The example's view with its query, as the worker sends it.
fn example_view_json() -> String {
    let mut e = Engine::default();
    e.set_inputs(example_inputs());
    let v = e.run(Some(&story_query()), &PageReq::default());
    serde_json::to_string(&Response::View { seq: 0, view: Box::new(v) }).unwrap()
}

#[test]
fn the_example_view_the_page_reads_at_start_up_is_current() {
    let json = example_view_json();
    #[cfg(not(target_arch = "wasm32"))]
    if std::env::var_os("PODREACH_UPDATE").is_some() {
        std::fs::write(concat!(env!("CARGO_MANIFEST_DIR"), "/src/example_view.json"), &json).unwrap();
        return;
    }
    assert!(
        json == crate::example::VIEW_JSON,
        "web/src/example_view.json is stale: run `PODREACH_UPDATE=1 cargo test -p podreach-web --lib example_view`"
    );
    // What the page reads at start-up is a view, and the same one.
    let read = Response::from_json(crate::example::VIEW_JSON).unwrap();
    assert!(matches!(&read, Response::View { view, .. } if view.rows.total > 0 && !view.causes.is_empty()));
    assert_eq!(serde_json::to_string(&read).unwrap(), json);
}

#[test]
fn a_warm_up_round_runs_the_example_into_a_view() {
    assert_eq!(warm_round(), example_view_json().len());
}

/// Feeds `batches` (ms each) to a fresh warm-up; the index of the batch that ended it, if any.
fn warm_after(batches: &[f64]) -> Option<usize> {
    let mut w = Warmup::default();
    let mut t = 0.0;
    batches.iter().position(|ms| {
        t += ms;
        w.record(*ms, t)
    })
}

#[test]
fn the_warm_up_stops_once_batches_are_steady_and_clearly_faster() {
    // Measured in Chromium: the first batch compiles, then baseline code, noisy, then the
    // optimised code arrives.
    let slow = [182.3, 11.6, 24.8, 13.9, 14.6, 7.3, 7.5, 9.1, 7.7, 14.4, 10.5, 9.1, 6.4, 9.0, 5.9, 12.0];
    let fast = [4.1, 3.9, 4.0, 4.4, 3.9, 4.2, 4.8, 4.0, 3.7];
    let all: Vec<f64> = slow.iter().chain(&fast).copied().collect();
    assert_eq!(warm_after(&all), Some(slow.len() + 7), "the eighth steady batch ends it");
}

#[test]
fn a_steady_plateau_of_baseline_code_is_not_warm() {
    // Steady, but no faster than the first batches: the optimised code has not arrived.
    let plateau = [191.8, 13.0, 7.2, 6.9, 6.7, 11.5, 7.0, 7.1, 6.8, 7.3, 6.9, 7.0, 7.2, 6.9];
    assert_eq!(warm_after(&plateau), None);
    let then_fast: Vec<f64> = plateau.iter().copied().chain([4.0; 8]).collect();
    assert_eq!(warm_after(&then_fast), Some(then_fast.len() - 1));
}

#[test]
fn one_slow_batch_restarts_the_steady_run() {
    let mut batches = vec![100.0, 20.0, 20.0, 20.0, 20.0, 20.0];
    batches.extend([4.0; Warmup::STEADY - 1]);
    batches.push(5.1); // more than 1.25 x 4.0 ms
    batches.extend([4.0; Warmup::STEADY - 1]);
    assert_eq!(warm_after(&batches), None);
    batches.push(4.0);
    assert_eq!(warm_after(&batches), Some(batches.len() - 1));
}

#[test]
fn the_warm_up_gives_up_at_its_cap() {
    let mut w = Warmup::default();
    assert!(!w.record(30.0, 100.0));
    assert!(!w.record(10.0, Warmup::CAP_MS - 1.0));
    assert!(w.record(30.0, Warmup::CAP_MS));
    assert_eq!(w.rounds(), 3 * Warmup::ROUNDS);
}

/// The default row order, by comparing the texts: verdict, cause, then address.
fn in_text_order(rows: &Sources) -> Vec<SourceOut> {
    let mut sorted: Vec<SourceOut> = rows.iter().map(|s| s.owned()).collect();
    sorted.sort_by(|a, b| {
        (rank(&a.verdict), a.cause(), (a.ip.first(), a.ip.len)).cmp(&(
            rank(&b.verdict),
            b.cause(),
            (b.ip.first(), b.ip.len),
        ))
    });
    sorted
}

/// A corpus case's input files as the worker receives them, numbered from 1.
fn corpus_inputs(case: &podreach_fixtures::Case) -> Vec<InputMsg> {
    case.inputs
        .iter()
        .zip(1..)
        .map(|(&(name, bytes), id)| InputMsg { id, name: name.into(), bytes: bytes.to_vec(), follows: None })
        .collect()
}

#[test]
fn the_default_row_order_and_the_cause_counts_match_the_plain_text_order_over_the_corpus() {
    // The engine orders rows by each cause's place among the causes and counts causes in a hash
    // map: both must give exactly what comparing and counting the texts gives.
    let mut checked = 0;
    for case in podreach_fixtures::CASES {
        let spec: podreach_fixtures::Spec = serde_json::from_str(case.spec).unwrap();
        let inputs = corpus_inputs(case);
        for q in &spec.queries {
            let mut e = Engine::default();
            e.set_inputs(inputs.clone());
            let query = QueryMsg { to: q.to.clone(), protocol: q.protocol.clone(), port: q.port };
            let v = e.run(Some(&query), &PageReq { limit: 1000, ..PageReq::default() });
            let Some(report) = &e.report else { continue };
            let want: Vec<SourceOut> = in_text_order(&report.sources).into_iter().take(1000).collect();
            assert_eq!(v.rows.rows, want, "{}: {}", case.name, q.name);
            let by_verdict = e.page(&PageReq { limit: 1000, sort: "verdict".into(), ..PageReq::default() });
            let mut want: Vec<SourceOut> = report.sources.iter().map(|s| s.owned()).collect();
            want.sort_by_key(|s| (rank(&s.verdict), s.ip.first(), s.ip.len));
            want.truncate(1000);
            assert_eq!(by_verdict.rows, want, "{}: {} by verdict", case.name, q.name);
            let mut counts: BTreeMap<(u8, String, String), usize> = BTreeMap::new();
            for s in &report.sources {
                *counts.entry((rank(s.verdict), s.verdict.to_owned(), s.cause().to_owned())).or_default() += 1;
            }
            let got: Vec<(String, String, usize)> =
                v.causes.iter().map(|c| (c.verdict.clone(), c.cause.clone(), c.count)).collect();
            let want: Vec<(String, String, usize)> = counts.into_iter().map(|((_, v, c), n)| (v, c, n)).collect();
            assert_eq!(got, want, "{}: {}", case.name, q.name);
            checked += usize::from(v.causes.len() > 1);
        }
    }
    assert!(checked >= 8, "only {checked} queries with more than one cause");
}

/// The example's engine after the story's query, its rows given `causes` in turn (one verdict's
/// rows then have several), and those rows.
fn example_with_causes(causes: &[&str]) -> (Engine, Vec<SourceOut>) {
    let mut e = Engine::default();
    e.set_inputs(example_inputs());
    e.run(Some(&story_query()), &PageReq::default());
    let Some(report) = e.report.as_mut() else { panic!("no report") };
    let mut rows: Vec<SourceOut> = report.sources.iter().map(|s| s.owned()).collect();
    for (i, s) in rows.iter_mut().enumerate() {
        let mut why = (*s.why).clone();
        why.cause = causes[i % causes.len()].to_owned();
        s.why = std::sync::Arc::new(why);
    }
    report.sources = rows.iter().cloned().collect();
    (e, rows)
}

#[test]
fn rows_of_one_verdict_are_ordered_by_the_text_of_their_cause() {
    // No corpus query has two causes of one verdict; give the example's rows three.
    let (mut e, _) = example_with_causes(&["b: the second", "c: the third", "a: the first", "b: the second, longer"]);
    let Some(report) = e.report.as_ref() else { panic!("no report") };
    let want = in_text_order(&report.sources);
    let got = e.page(&PageReq { limit: 1000, ..PageReq::default() }).rows;
    assert_eq!(got, want);
    let blocked: Vec<&str> = got.iter().filter(|r| &*r.verdict == "blocked").map(|r| r.cause()).collect();
    assert!(blocked.windows(2).all(|w| w[0] <= w[1]) && blocked.first() != blocked.last(), "{blocked:?}");
    // Rows out of address order take the sort rather than the grouping, to the same order.
    let Some(report) = e.report.as_mut() else { panic!("no report") };
    report.sources = report.sources.iter().rev().map(|s| s.owned()).collect();
    assert_eq!(e.page(&PageReq { limit: 1000, ..PageReq::default() }).rows, want);
}

#[test]
fn a_window_of_groups_is_that_window_of_the_rows_grouped_stably() {
    let rows = [("b", 1), ("a", 2), ("c", 3), ("b", 4), ("a", 5), ("a", 6), ("c", 7)];
    let group = |r: &(&str, i32)| usize::from(r.0.as_bytes()[0] - b'a');
    let mut grouped = rows.to_vec();
    grouped.sort_by_key(group);
    assert_eq!(grouped, [("a", 2), ("a", 5), ("a", 6), ("b", 1), ("b", 4), ("c", 3), ("c", 7)]);
    let mut checked = 0;
    for desc in [false, true] {
        let ordered: Vec<_> = if desc { grouped.iter().rev().copied().collect() } else { grouped.clone() };
        for offset in 0..=8 {
            for limit in 1..=8 {
                let w = Window { offset, limit, desc };
                let want: Vec<_> = ordered.iter().skip(offset).take(limit).copied().collect();
                assert_eq!(w.of_groups(&rows, group), want, "{offset} {limit} {desc}");
                // Sorting by the group selects the same rows: equal keys keep their order.
                assert_eq!(w.of_keyed(&rows, group), want, "{offset} {limit} {desc}");
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 144);
    assert!(Window { offset: 0, limit: 5, desc: true }.of_groups(&[] as &[(&str, i32)], |_| 7).is_empty());
}

#[test]
fn every_sort_pages_as_the_whole_sorted_list_would() {
    // Each page of each order, both ways, is the slice of the full list sorted plainly (the
    // default order by the causes' texts); the example's rows get three causes of one verdict.
    let (e, rows) = example_with_causes(&["b: the second", "c: the third", "a: the first"]);
    let total = rows.len();
    assert_eq!(total, 18);
    let ip = |s: &SourceOut| (s.ip.first(), s.ip.len);
    let mut checked = 0;
    for sort in ["cause", "verdict", "ip", "node", "eni", "pod"] {
        let mut want = rows.clone();
        match sort {
            "cause" => {
                want.sort_by(|a, b| (rank(&a.verdict), a.cause(), ip(a)).cmp(&(rank(&b.verdict), b.cause(), ip(b))))
            }
            "verdict" => want.sort_by_key(|s| (rank(&s.verdict), ip(s))),
            "ip" => want.sort_by_key(ip),
            "node" => want.sort_by(|a, b| (a.node(), a.instance(), ip(a)).cmp(&(b.node(), b.instance(), ip(b)))),
            "eni" => want.sort_by(|a, b| (a.eni(), ip(a)).cmp(&(b.eni(), ip(b)))),
            _ => want.sort_by(|a, b| (a.pods.first(), ip(a)).cmp(&(b.pods.first(), ip(b)))),
        }
        for desc in [false, true] {
            let ordered: Vec<SourceOut> = if desc { want.iter().rev().cloned().collect() } else { want.clone() };
            for (offset, limit) in [(0, 50), (0, 5), (3, 4), (total - 2, 10), (total + 5, 10), (7, 1)] {
                let got = e.page(&PageReq { sort: sort.into(), desc, offset, limit, ..PageReq::default() });
                let expect: Vec<SourceOut> = ordered.iter().skip(offset).take(limit).cloned().collect();
                assert_eq!(got.rows, expect, "{sort} desc={desc} offset={offset} limit={limit}");
                assert_eq!((got.total, got.offset), (total, offset.min(total)));
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 72);
}

#[test]
fn the_picker_lists_the_first_300_instances_and_every_other_target_in_group_order() {
    // 331 instances' primary ENIs, a secondary, and one ENI of each other kind, in an order
    // that is not their ids' (the picker sorts by group, then id); some instances named.
    let mut enis = Vec::new();
    for k in 0..331u32 {
        let n = (k * 37) % 331;
        enis.push(format!(
            r#"{{"NetworkInterfaceId": "eni-i{n:05}", "PrivateIpAddress": "10.1.{}.{}", "Description": "",
               "Attachment": {{"InstanceId": "i-{n:05}", "DeviceIndex": 0, "NetworkCardIndex": 0}}}}"#,
            n / 200,
            n % 200 + 10
        ));
    }
    let others = [
        ("eni-z1", "", Some("i-00007"), "interface", "10.2.0.1"),
        ("eni-r2", "RDSNetworkInterface", None, "interface", "10.2.0.2"),
        ("eni-r1", "RDSNetworkInterface", None, "interface", "10.2.0.3"),
        ("eni-l1", "ELB app/web/1", None, "interface", "10.2.0.4"),
        ("eni-k1", "Amazon EKS cluster", None, "interface", "10.2.0.5"),
        ("eni-v1", "", None, "vpc_endpoint", "10.2.0.6"),
        ("eni-o2", "a description longer than forty-eight characters, cut in the label", None, "interface", "10.2.0.7"),
        ("eni-o1", "", None, "interface", "10.2.0.8"),
        ("eni-n1", "Interface for NAT Gateway nat-1", None, "nat_gateway", "10.2.0.9"),
    ];
    for (id, description, instance, kind, ip) in others {
        let attachment = instance
            .map(|i| format!(r#", "Attachment": {{"InstanceId": "{i}", "DeviceIndex": 1, "NetworkCardIndex": 0}}"#))
            .unwrap_or_default();
        enis.push(format!(
            r#"{{"NetworkInterfaceId": "{id}", "PrivateIpAddress": "{ip}", "Description": "{description}", "InterfaceType": "{kind}"{attachment}}}"#
        ));
    }
    let instances: Vec<String> = (0..331u32)
        .step_by(3)
        .map(|n| format!(r#"{{"InstanceId": "i-{n:05}", "Tags": [{{"Key": "Name", "Value": "node-{n}"}}]}}"#))
        .collect();
    let inputs = vec![
        InputMsg {
            id: 1,
            name: "enis.json".into(),
            bytes: format!(r#"{{"NetworkInterfaces": [{}]}}"#, enis.join(",")).into_bytes(),
            follows: None,
        },
        InputMsg {
            id: 2,
            name: "instances.json".into(),
            bytes: format!(r#"{{"Reservations": [{{"Instances": [{}]}}]}}"#, instances.join(",")).into_bytes(),
            follows: None,
        },
    ];
    let mut e = Engine::default();
    e.set_inputs(inputs);
    let v = e.run(None, &PageReq::default());
    let Some(loaded) = e.loaded.as_ref() else { panic!("not loaded") };
    let order = ["rds", "load balancers", "eks control plane", "vpc endpoints", "other", "instances"];
    let mut want: Vec<TargetOption> = Vec::new();
    for en in &loaded.model.enis {
        let group = match en.role {
            Role::Rds => "rds",
            Role::LoadBalancer => "load balancers",
            Role::EksControlPlane => "eks control plane",
            Role::VpcEndpoint => "vpc endpoints",
            Role::InstancePrimary => "instances",
            Role::Efs | Role::Lambda | Role::Other => "other",
            _ => continue,
        };
        let Some(ip) = en.primary_ip.or_else(|| en.private_ips.first().copied()) else { continue };
        let what = match en.role {
            Role::InstancePrimary => loaded.model.instance_label(en.instance.as_deref().unwrap_or("")).to_string(),
            _ if en.description.is_empty() => en.role.label().to_owned(),
            _ => en.description.chars().take(48).collect(),
        };
        want.push(TargetOption {
            eni: en.id.clone(),
            ip: ip.to_string(),
            label: format!("{} · {ip} · {what}", en.id),
            group: group.to_owned(),
        });
    }
    let place = |g: &str| order.iter().position(|o| *o == g);
    want.sort_by(|a, b| (place(&a.group), &a.eni).cmp(&(place(&b.group), &b.eni)));
    let instances = want.iter().filter(|t| t.group == "instances").count();
    assert_eq!(instances, 331);
    let mut kept = 0;
    want.retain(|t| {
        t.group != "instances" || {
            kept += 1;
            kept <= 300
        }
    });
    assert_eq!(v.targets, want);
    let groups: Vec<(&str, usize)> =
        order.iter().map(|g| (*g, v.targets.iter().filter(|t| t.group == *g).count())).collect();
    assert_eq!(
        groups,
        [
            ("rds", 2),
            ("load balancers", 1),
            ("eks control plane", 1),
            ("vpc endpoints", 1),
            ("other", 2),
            ("instances", 300)
        ]
    );
    assert_eq!(v.targets.first().map(|t| t.eni.as_str()), Some("eni-r1"));
    assert!(
        v.targets.iter().any(|t| t.label == "eni-i00003 · 10.1.0.13 · i-00003 (node-3)"),
        "{:?}",
        &v.targets[7..10]
    );
}

#[test]
fn the_parse_warm_up_reads_long_lists_of_the_examples_items() {
    let texts = parse_warm_texts();
    let names: Vec<&str> = texts.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, ["network-interfaces.json", "security-groups.json", "pods.json"]);
    let count = |p: &Parsed| p.documents().iter().map(|d| d.count).sum::<usize>();
    let mut ones = 0;
    // Each text is a valid export of the same kind with its list repeated, read without an error.
    for (name, text) in &texts {
        let original = crate::example::FILES.iter().find(|f| f.0 == *name).unwrap().1;
        let one = podreach_core::parse(&Input { name, bytes: original.as_bytes() });
        let many = podreach_core::parse(&Input { name, bytes: text.as_bytes() });
        assert!(count(&one) > 0, "{name}");
        assert_eq!(count(&many), count(&one) * PARSE_COPIES, "{name}");
        assert_eq!(many.documents().len(), 1, "{name}");
        assert_eq!(many.documents()[0].kind, one.documents()[0].kind, "{name}");
        ones += count(&one);
        let loaded = podreach_core::assemble([many]);
        assert!(
            !loaded.has_errors(),
            "{name}: {:?}",
            loaded.diagnostics.iter().filter(|d| d.severity == Severity::Error).collect::<Vec<_>>()
        );
    }
    assert_eq!(warm_parse(&texts), ones * PARSE_COPIES);
}

#[test]
fn a_list_is_repeated_whole_and_brackets_in_strings_do_not_end_it() {
    let text = r#"{"a": [1], "items": [{"x": "]}[\"]"}, {"y": [2, 3]}], "z": {}}"#;
    let out = repeat_list(text, "\"items\"", 2).unwrap();
    assert_eq!(out, r#"{"a": [1], "items": [{"x": "]}[\"]"}, {"y": [2, 3]},{"x": "]}[\"]"}, {"y": [2, 3]}], "z": {}}"#);
    assert!(serde_json::from_str::<serde_json::Value>(&out).is_ok());
    assert_eq!(repeat_list(text, "\"missing\"", 2), None);
    assert_eq!(repeat_list(r#"{"items": [{"x": 1}"#, "\"items\"", 2), None, "an unclosed list");
}

/// The filter as it was first written: every text of the row lower-cased and searched.
fn plain_match(s: &Source<'_>, needle: &str, model: Option<&podreach_core::model::Model>) -> bool {
    let hit = |t: &str| t.to_ascii_lowercase().contains(needle);
    hit(&s.ip.to_string())
        || hit(s.eni())
        || s.eth().is_some_and(hit)
        || s.instance().is_some_and(hit)
        || s.node().is_some_and(hit)
        || hit(s.cause())
        || s.pods.iter().any(|p| hit(&p.namespace) || hit(&p.name) || hit(&format!("{}/{}", p.namespace, p.name)))
        || model
            .and_then(|m| m.eni(s.eni()))
            .is_some_and(|e| e.groups.iter().any(|g| hit(&g.id) || g.name.as_deref().is_some_and(hit)))
}

#[test]
fn the_filter_finds_the_rows_whose_texts_hold_it_ignoring_ascii_case() {
    // Over the example and every corpus query: filters cut from each kind of text a row has (an
    // address, an ENI, a node, a pod, a namespace/name across the slash, a cause, a group id and
    // name), upper-cased as typed, and ones that match nothing, give exactly the rows the plain
    // filter gives, listed by address.
    let mut cases: Vec<(String, Vec<InputMsg>, Option<QueryMsg>)> =
        vec![("example".into(), example_inputs(), Some(story_query()))];
    for case in podreach_fixtures::CASES {
        let spec: podreach_fixtures::Spec = serde_json::from_str(case.spec).unwrap();
        let inputs = corpus_inputs(case);
        for q in &spec.queries {
            cases.push((
                case.name.into(),
                inputs.clone(),
                Some(QueryMsg { to: q.to.clone(), protocol: q.protocol.clone(), port: q.port }),
            ));
        }
    }
    let (mut checked, mut found) = (0, 0);
    let engines = cases.into_iter().map(|(name, inputs, query)| {
        let mut e = Engine::default();
        e.set_inputs(inputs);
        e.run(query.as_ref(), &PageReq::default());
        (name, e)
    });
    // And the example with the database's group also admitting two addresses of a secondary ENI
    // by CIDR, so that rows of one ENI differ in cause.
    let mut split = example_inputs();
    for i in &mut split {
        if i.name == "security-groups.json" {
            let text = String::from_utf8(i.bytes.clone()).unwrap();
            let at = text.find("who may talk to the orders database").unwrap();
            let rule = text[at..].find("\"IpRanges\": []").unwrap() + at;
            let text = format!(
                "{}\"IpRanges\": [{{\"CidrIp\": \"10.0.1.20/31\"}}]{}",
                &text[..rule],
                &text[rule + "\"IpRanges\": []".len()..]
            );
            i.bytes = text.into_bytes();
        }
    }
    let mut e = Engine::default();
    e.set_inputs(split);
    e.run(Some(&story_query()), &PageReq::default());
    let report = e.report.as_ref().unwrap();
    let eni_causes: BTreeMap<usize, std::collections::BTreeSet<&str>> =
        report.sources.iter().fold(BTreeMap::new(), |mut m, s| {
            m.entry(s.eni_key()).or_default().insert(s.cause());
            m
        });
    assert!(eni_causes.values().any(|c| c.len() > 1), "{eni_causes:?}");
    for (name, e) in engines.chain(std::iter::once(("two causes on one eni".to_owned(), e))) {
        let (Some(report), Some(loaded)) = (&e.report, &e.loaded) else { continue };
        let model = Some(&loaded.model);
        let mut filters: Vec<String> = vec!["zzz-nothing".into(), "é".into(), "/".into(), ".".into()];
        // Every cause: rows of one ENI can differ in cause (their addresses on either side of a
        // rule's CIDR), so this is what tells a cause matched once per trace from once per ENI.
        filters.extend(report.sources.by_trace().into_iter().map(|(_, cause, _)| cause.to_owned()));
        for s in report.sources.iter().step_by(5).take(12) {
            filters.push(s.ip.to_string());
            filters.push(s.eni().get(4..).unwrap_or("").to_uppercase());
            filters.extend(s.node().map(str::to_owned));
            filters.push(s.cause().split(' ').nth(1).unwrap_or("").to_owned());
            if let Some(p) = s.pods.first() {
                let tail: String = p.namespace.chars().rev().take(2).collect::<Vec<_>>().into_iter().rev().collect();
                filters.push(format!("{tail}/{}", p.name.chars().take(3).collect::<String>()).to_uppercase());
            }
            if let Some(g) = loaded.model.eni(s.eni()).and_then(|e| e.groups.first()) {
                filters.push(g.id.clone());
                filters.extend(g.name.clone());
            }
        }
        for f in filters {
            let needle = f.trim().to_ascii_lowercase();
            let mut want: Vec<SourceOut> =
                report.sources.iter().filter(|s| plain_match(s, &needle, model)).map(|s| s.owned()).collect();
            want.sort_by_key(|s| (s.ip.first(), s.ip.len));
            want.truncate(1000);
            let got = e.page(&PageReq { filter: f.clone(), limit: 1000, sort: "ip".into(), ..PageReq::default() });
            assert_eq!(got.rows, want, "{name}: filter {f:?}");
            checked += 1;
            found += usize::from(!want.is_empty() && want.len() < report.sources.len());
        }
    }
    assert!(checked > 400 && found > 40, "{checked} filters, {found} that kept some rows but not all");
}

//! The worker's engine, natively, over the bundled example and the fixture corpus.
use super::*;

fn example_inputs() -> Vec<InputMsg> {
    crate::example::FILES
        .iter()
        .enumerate()
        .map(|(i, (n, t))| InputMsg {
            id: i as u32 + 1,
            name: (*n).to_owned(),
            bytes: t.as_bytes().to_vec(),
            follows: None,
        })
        .collect()
}

fn story_query() -> QueryMsg {
    QueryMsg { to: "eni-0rds".into(), protocol: "tcp".into(), port: Some(5432) }
}

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
    assert!(!loading.arrived(999, b"{}"), "no input 999 waits");
    for i in inputs.iter().skip(1).filter(|i| i.id != 0).rev() {
        assert!(!loading.complete());
        assert!(loading.arrived(i.id, &i.bytes), "{} was waiting", i.name);
        assert!(!loading.arrived(i.id, &i.bytes), "{} arrives once", i.name);
    }
    assert!(loading.complete());
    assert_eq!(loading.progress().0, 0);
    assert_eq!(loading.name(0), "pasted text");
    let mut e = Engine::default();
    loading.finish(&mut e);
    assert_eq!(e.run(Some(&story_query()), &PageReq::default()), expected);
    assert_eq!(e.export("json"), whole.export("json"));
}

//! The reducer, natively.
use super::*;
use crate::protocol::{RowsPage, View};

fn example() -> AppState {
    reduce(&AppState::default(), Action::LoadExample)
}

#[test]
fn load_example_adds_the_story_and_its_query() {
    let s = example();
    assert_eq!(s.files.len(), 5);
    assert_eq!(s.query.to, "eni-0rds");
    assert_eq!(s.query.port, "5432");
    assert_ne!(s.inputs_version, AppState::default().inputs_version);
    // Loading it twice does not duplicate the files.
    assert_eq!(reduce(&s, Action::LoadExample).files.len(), 5);
}

#[test]
fn file_names_are_made_unique() {
    let s = reduce(
        &AppState::default(),
        Action::AddFiles(vec![
            ("a.json".into(), FileBytes::data(b"{}".to_vec())),
            ("a.json".into(), FileBytes::data(b"{}".to_vec())),
        ]),
    );
    let names: Vec<&str> = s.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["a.json", "a.json (2)"]);
    assert_eq!(s.inputs().len(), 2);
}

#[test]
fn removing_a_pasted_document_cuts_only_its_range() {
    let text = "{\"Subnets\": []}\n{\"NetworkAcls\": []}";
    let s = reduce(&AppState::default(), Action::SetPaste(text.into()));
    let s = reduce(&s, Action::RemoveDocument { input: PASTE_ID, start: 0, end: 15 });
    assert_eq!(s.paste, "{\"NetworkAcls\": []}");
    // A range that is not on a character boundary is ignored rather than panicking.
    let s2 = reduce(&AppState::default(), Action::SetPaste("é{}".into()));
    assert_eq!(reduce(&s2, Action::RemoveDocument { input: PASTE_ID, start: 1, end: 3 }).paste, "é{}");
}

#[test]
fn stale_responses_are_ignored() {
    let s = reduce(&example(), Action::Sent(7));
    assert!(s.busy.is_some());
    let stale = reduce(&s, Action::Received(Response::Failed { seq: 6, message: "old".into() }));
    assert_eq!(stale.failure, None);
    let fresh = reduce(&s, Action::Received(Response::Failed { seq: 7, message: "new".into() }));
    assert_eq!(fresh.failure.as_deref(), Some("new"));
    assert!(fresh.busy.is_none());
}

#[test]
fn sorting_twice_flips_the_order_and_paging_stays_in_range() {
    let s = reduce(&AppState::default(), Action::SetSort("ip".into()));
    assert!(!s.page.desc);
    assert!(reduce(&s, Action::SetSort("ip".into())).page.desc);
    let mut s = s;
    // Two and a quarter pages of rows, whatever the page size.
    let n = s.page.limit;
    s.rows = Rc::new(RowsPage { total: 2 * n + n / 4, offset: 0, rows: Vec::new() });
    let s = reduce(&s, Action::PageBy(1));
    assert_eq!(s.page.offset, n);
    let s = reduce(&s, Action::PageBy(1));
    assert_eq!(s.page.offset, 2 * n);
    assert_eq!(reduce(&s, Action::PageBy(1)).page.offset, 2 * n, "no page past the last");
    assert_eq!(reduce(&s, Action::PageBy(-5)).page.offset, 0);
}

#[test]
fn the_fragment_round_trips_and_rejects_markup() {
    let q = QueryForm { to: "eni-0rds".into(), protocol: "udp".into(), port: "53".into() };
    assert_eq!(QueryForm::from_fragment(&format!("#{}", q.to_fragment())), q);
    let evil = QueryForm::from_fragment("#to=<script>alert(1)</script>&port=5432");
    assert!(!evil.to.contains('<'));
}

#[test]
fn clear_all_forgets_everything_but_the_sequence() {
    let s = reduce(&example(), Action::Sent(3));
    let s = reduce(&s, Action::ClearAll);
    assert!(s.files.is_empty() && s.paste.is_empty() && s.query.to.is_empty());
    assert_eq!(s.seq, 3);
    assert!(!s.keep);
}

#[test]
fn a_view_replaces_rows_and_ends_busy() {
    let mut engine = crate::engine::Engine::default();
    let s = example();
    engine.set_inputs(s.inputs());
    let view: View = engine.run(s.query.to_msg().as_ref(), &s.page);
    let s = reduce(&s, Action::Sent(1));
    let s = reduce(&s, Action::Received(Response::View { seq: 1, view: Box::new(view) }));
    assert!(s.busy.is_none());
    assert_eq!(s.rows.total, 18);
}

#[test]
fn only_typing_is_debounced() {
    let s = reduce(&AppState::default(), Action::SetPaste("{\"Subnets\": []}".into()));
    assert!(s.typing);
    let s = reduce(&s, Action::AddFiles(vec![("a.json".into(), FileBytes::data(b"{}".to_vec()))]));
    assert!(!s.typing, "chosen files are analysed at once");
    let s = reduce(&s, Action::SetPaste(String::new()));
    assert!(s.typing);
    assert!(!reduce(&s, Action::RemoveInput(1)).typing);
}

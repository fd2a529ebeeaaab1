//! The original story, bundled so that a first visit shows something real: a t3.medium node with
//! three ENIs, a group attached by hand to the primary ENI only, and the RDS ENI it guards.

/// The example's files, as `aws` and `kubectl` print them.
pub const FILES: &[(&str, &str)] = &[
    (
        "network-interfaces.json",
        include_str!("../../tests/fixtures/story-t3-medium-hand-attached-group/input/network-interfaces.json"),
    ),
    (
        "security-groups.json",
        include_str!("../../tests/fixtures/story-t3-medium-hand-attached-group/input/security-groups.json"),
    ),
    ("instances.json", include_str!("../../tests/fixtures/story-t3-medium-hand-attached-group/input/instances.json")),
    ("pods.json", include_str!("../../tests/fixtures/story-t3-medium-hand-attached-group/input/pods.json")),
    ("nodes.json", include_str!("../../tests/fixtures/story-t3-medium-hand-attached-group/input/nodes.json")),
];

/// The query the example opens with.
pub const TARGET: &str = "eni-0rds";
pub const PORT: u16 = 5432;

/// The example's files as the worker receives them, numbered from 1.
pub fn inputs() -> Vec<crate::protocol::InputMsg> {
    FILES
        .iter()
        .zip(1..)
        .map(|((name, text), id)| crate::protocol::InputMsg {
            id,
            name: (*name).to_owned(),
            bytes: text.as_bytes().to_vec(),
            follows: None,
        })
        .collect()
}

/// The example's query as the worker receives it.
pub fn query() -> crate::protocol::QueryMsg {
    crate::protocol::QueryMsg { to: TARGET.to_owned(), protocol: "tcp".to_owned(), port: Some(PORT) }
}

/// The view of the example with its query, as the worker sends it (`Response::View`). The page
/// reads it once at start-up, so that the code that reads a view is compiled before the first
/// real view comes (V8 compiles a page's WebAssembly lazily, on each function's first call: about
/// 30 ms of the task that reads the first view, BENCHMARKS.md item 39). Kept current by a test:
/// `PODREACH_UPDATE=1 cargo test -p podreach-web --lib example_view` writes it again.
pub const VIEW_JSON: &str = include_str!("example_view.json");

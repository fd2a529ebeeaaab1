//! The fixture corpus, run natively and (compiled to wasm32) in headless Chromium.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "test helpers fail loudly")]
//!
//! `UPDATE_EXPECT=1 cargo test -p podreach-core --test corpus` rewrites the report snapshots
//! natively; the browser run only compares, so both targets must produce the same bytes.

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn corpus() {
    let mut failures = Vec::new();
    assert!(podreach_fixtures::CASES.len() >= 30, "the corpus lost cases");
    for case in podreach_fixtures::CASES {
        let outcome = podreach_fixtures::check(case);
        #[cfg(not(target_arch = "wasm32"))]
        if std::env::var_os("UPDATE_EXPECT").is_some() {
            update(case.name, &outcome.reports);
            // The snapshots now match; the hand-written expectations still have to hold.
            failures.extend(podreach_fixtures::check(case).failures);
            continue;
        }
        failures.extend(outcome.failures);
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

#[cfg(not(target_arch = "wasm32"))]
fn update(case: &str, reports: &[(String, String)]) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures").join(case).join("expected");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (name, json) in reports {
        std::fs::write(dir.join(format!("{name}.json")), json).unwrap();
    }
}

/// Determinism: the same documents in another order, split differently, give the same bytes.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn order_and_split_do_not_matter() {
    for case in podreach_fixtures::CASES {
        let spec = case.spec().unwrap();
        if spec.error.is_some() {
            continue;
        }
        let forward: Vec<podreach_core::Input> = case.inputs();
        let mut reversed = forward.clone();
        reversed.reverse();
        // All inputs concatenated into one text, in reverse order.
        let joined: Vec<u8> = reversed.iter().flat_map(|i| i.bytes.iter().copied().chain(*b"\n")).collect();
        let one = [podreach_core::Input { name: "all.json", bytes: &joined }];
        for q in &spec.queries {
            let query = podreach_core::make_query(&q.to, &q.protocol, q.port).unwrap();
            let render = |inputs: &[podreach_core::Input]| {
                let (_, mut r) = podreach_core::analyze(inputs, Some(&query)).unwrap();
                // File names and lines legitimately differ; everything else must not.
                r.inputs = Default::default();
                for d in &mut r.diagnostics {
                    d.file = None;
                    d.line = None;
                    d.column = None;
                    d.message = d.message.split_once(": ").map(|(_, m)| m.to_owned()).unwrap_or(d.message.clone());
                }
                podreach_core::render::json(&r)
            };
            let a = render(&forward);
            assert_eq!(a, render(&reversed), "{}: input order changed the report", case.name);
            assert_eq!(a, render(&one), "{}: splitting changed the report", case.name);
        }
    }
}

/// The hand-written JSON rows equal what serde's derive gives, for every case and for a report
/// read back from JSON (whose rows share nothing).
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn streamed_json_equals_derived_json() {
    let mut rows = 0;
    for case in podreach_fixtures::CASES {
        let spec = case.spec().unwrap();
        if spec.error.is_some() {
            continue;
        }
        for q in &spec.queries {
            let query = podreach_core::make_query(&q.to, &q.protocol, q.port).unwrap();
            let (_, r) = podreach_core::analyze(&case.inputs(), Some(&query)).unwrap();
            let json = podreach_core::render::json(&r);
            assert_eq!(json, podreach_core::render::json_reference(&r), "{}", case.name);
            // Rows written in blocks, each by a writer of its own (as the CLI's threads do).
            for block in [1, 2, 3] {
                let mut b = Vec::new();
                podreach_core::render::json_head(&r, &mut b).unwrap();
                for start in (0..r.sources.len()).step_by(block) {
                    let rows = start..start + block;
                    podreach_core::render::JsonRows::default().write(&r.sources, rows, &mut b).unwrap();
                }
                podreach_core::render::json_tail(&r, &mut b).unwrap();
                assert_eq!(String::from_utf8(b).unwrap(), json, "{}: rows in blocks of {block}", case.name);
            }
            let back: podreach_core::report::Report = serde_json::from_str(&json).unwrap();
            assert_eq!(back, r, "{}: the report does not survive a round trip", case.name);
            assert_eq!(podreach_core::render::json(&back), json, "{}", case.name);
            rows += r.sources.len();
        }
    }
    assert!(rows > 100, "the corpus has source rows to compare ({rows})");
}

/// Runs `b` before `a`: the core's parts must not depend on the order `join` runs them in.
struct Reversed;

impl podreach_core::Join for Reversed {
    fn join<A, B, RA, RB>(&self, a: A, b: B) -> (RA, RB)
    where
        A: FnOnce() -> RA + Send,
        B: FnOnce() -> RB + Send,
        RA: Send,
        RB: Send,
    {
        let rb = b();
        (a(), rb)
    }
}

/// Both at once, on two threads (native only).
#[cfg(not(target_arch = "wasm32"))]
struct Threads;

#[cfg(not(target_arch = "wasm32"))]
impl podreach_core::Join for Threads {
    fn join<A, B, RA, RB>(&self, a: A, b: B) -> (RA, RB)
    where
        A: FnOnce() -> RA + Send,
        B: FnOnce() -> RB + Send,
        RA: Send,
        RB: Send,
    {
        std::thread::scope(|s| {
            let h = s.spawn(b);
            let ra = a();
            (ra, h.join().unwrap())
        })
    }
}

/// Every case gives the same diagnostics, documents and report bytes whether its inputs are
/// parsed one by one and assembled (in reverse, or on threads) or loaded in one call.
fn parts_match(join: &impl podreach_core::Join) {
    let compared = match_one_load(join, |inputs| {
        // Parsed last input first, then put back in input order.
        let mut parts: Vec<_> = inputs.iter().rev().map(podreach_core::parse).collect();
        parts.reverse();
        parts
    });
    assert!(compared > 60, "compared {compared} reports");
}

/// For every case, the parts `parts` makes of its inputs, assembled through `join`, give the
/// diagnostics, documents and report bytes (with and without each query) that one load gives.
/// Returns how many reports were compared.
fn match_one_load(
    join: &impl podreach_core::Join,
    parts: impl Fn(&[podreach_core::Input<'_>]) -> Vec<podreach_core::Parsed>,
) -> usize {
    let mut compared = 0;
    for case in podreach_fixtures::CASES {
        let spec = case.spec().unwrap();
        let inputs = case.inputs();
        let whole = podreach_core::load(&inputs);
        let assembled = podreach_core::assemble_with(parts(&inputs), join);
        assert_eq!(whole.diagnostics, assembled.diagnostics, "{}", case.name);
        assert_eq!(whole.documents, assembled.documents, "{}", case.name);
        let mut queries = vec![None];
        queries.extend(spec.queries.iter().map(|q| podreach_core::make_query(&q.to, &q.protocol, q.port).ok()));
        for q in queries {
            let a = podreach_core::report::build(&whole, q.as_ref()).map(|r| podreach_core::render::json(&r));
            let b =
                podreach_core::report::build_on(&assembled, q.as_ref(), join).map(|r| podreach_core::render::json(&r));
            assert_eq!(a.map_err(|e| e.0), b.map_err(|e| e.0), "{}", case.name);
            compared += 1;
        }
    }
    compared
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn parsed_parts_in_any_order_match_one_load() {
    parts_match(&Reversed);
}

#[cfg(not(target_arch = "wasm32"))]
#[test]
fn parsed_parts_on_threads_match_one_load() {
    parts_match(&Threads);
}

/// Every case gives the same diagnostics, documents and report bytes when each input's pods and
/// nodes are converted as soon as it is parsed (as the page's second worker does), and, where an
/// input holds only those, when it is handed over in the compact form and read back.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn pods_converted_early_or_handed_over_match_one_load() {
    let handed = std::cell::Cell::new(0);
    let compared = match_one_load(&podreach_core::Sequential, |inputs| {
        let handed_over = |input| {
            let mut p = podreach_core::parse(input);
            p.convert_k8s();
            match p.to_wire() {
                Some(wire) => {
                    handed.set(handed.get() + 1);
                    podreach_core::Parsed::from_wire(&wire).unwrap()
                }
                None => p,
            }
        };
        inputs.iter().map(handed_over).collect()
    });
    assert!(compared > 60, "compared {compared} reports");
    assert!(handed.get() >= 8, "only {} inputs were handed over in the compact form", handed.get());
}

/// `part` gives what serde's readers alone give for `input`: the same diagnostics, documents
/// and report bytes.
fn same_as_serde(input: &podreach_core::Input<'_>, part: podreach_core::Parsed, what: &str) {
    let reference = podreach_core::assemble([podreach_core::load::parse_with_serde(input)]);
    let other = podreach_core::assemble([part]);
    assert_eq!(reference.diagnostics, other.diagnostics, "{what}");
    assert_eq!(reference.documents, other.documents, "{what}");
    let a = podreach_core::report::build(&reference, None).map(|r| podreach_core::render::json(&r));
    let b = podreach_core::report::build(&other, None).map(|r| podreach_core::render::json(&r));
    assert_eq!(a.map_err(|e| e.0), b.map_err(|e| e.0), "{what}");
}

/// Every input of the corpus, read as `parse` reads it (the big array element by element, ENIs,
/// kubectl items and security groups by their own readers), gives what serde's readers alone
/// give.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn inputs_read_by_element_match_serde() {
    let mut inputs = 0;
    for case in podreach_fixtures::CASES {
        for input in case.inputs() {
            inputs += 1;
            same_as_serde(&input, podreach_core::parse(&input), &format!("{} {}", case.name, input.name));
        }
    }
    // Every input of the corpus: a new fixture raises the count.
    assert_eq!(inputs, 117, "inputs compared");
}

/// Every input that `parse_in_halves` can split gives what serde's readers alone give, whichever
/// order `join` runs the halves in.
fn halves_match(join: &impl podreach_core::Join) {
    let mut halved = 0;
    for case in podreach_fixtures::CASES {
        for input in case.inputs() {
            let Some(part) = podreach_core::load::parse_in_halves(&input, join) else { continue };
            halved += 1;
            same_as_serde(&input, part, &format!("{} {}", case.name, input.name));
        }
    }
    // Every input of the corpus that is one document with two or more ENIs, kubectl items or
    // security groups, printed as the AWS CLI and kubectl print them (the rest: a single item,
    // several documents, a truncated or non-UTF-8 file). A new fixture of that shape raises the
    // count.
    assert_eq!(halved, 83, "inputs parsed in halves");
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn inputs_parsed_in_halves_match_whole_inputs() {
    halves_match(&Reversed);
}

#[cfg(not(target_arch = "wasm32"))]
#[test]
fn inputs_parsed_in_halves_on_threads_match_whole_inputs() {
    halves_match(&Threads);
}

/// Matrices built on request are the ones built up front: all of them, and the first `n` with
/// drifted instances first, for every `n` up to one past the count, on every corpus case and on
/// the inputs of every case loaded together (no single case has instances with and without
/// drift).
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn matrices_on_request_match_matrices_up_front() {
    use podreach_core::report::Prepared;
    let mut partial = 0;
    let together: Vec<podreach_core::Input<'_>> = podreach_fixtures::CASES.iter().flat_map(|c| c.inputs()).collect();
    let sets = podreach_fixtures::CASES.iter().map(|c| (c.name, c.inputs())).chain([("together", together)]);
    for (name, inputs) in sets {
        let loaded = podreach_core::load(&inputs);
        let (model, diags, docs) = (&loaded.model, &loaded.diagnostics, &loaded.documents);
        let eager = Prepared::new(model, diags, docs);
        let lazy = Prepared::without_matrices(model, diags, docs);
        let all = eager.matrices(model);
        assert_eq!(lazy.matrices(model), all, "{name}");
        assert_eq!(eager.report_with(model, None).instances, all, "{name}");
        assert!(lazy.report_with(model, None).instances.is_empty(), "{name}");
        let report = eager.report_with(model, None);
        let drifted: Vec<&str> = report.drift.iter().map(|d| d.instance.as_str()).collect();
        let (first, rest): (Vec<_>, Vec<_>) = all.iter().partition(|i| drifted.contains(&i.instance.as_str()));
        for n in 0..=all.len() + 1 {
            let want: Vec<_> = first.iter().chain(&rest).take(n).map(|i| (*i).clone()).collect();
            assert_eq!(lazy.first_matrices(model, n), want, "{name} n={n}");
            partial += usize::from(n < all.len() && !first.is_empty() && !rest.is_empty());
        }
    }
    // The cuts between drifted and other instances (all of them in the cases loaded together).
    assert_eq!(partial, 8, "selections cut between drifted and other instances");
}

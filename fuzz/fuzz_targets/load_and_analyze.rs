//! Fuzzes loading and analysis: any bytes, split into up to three inputs, then the matrix and a
//! reachability query against the first ENI found, and each input read element by element and in
//! halves against the same input read by serde alone. Any panic is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first two bytes choose where to split the data into three inputs.
    let (a, b) = match data {
        [x, y, ..] => (*x as usize, *y as usize),
        _ => (0, 0),
    };
    let body = data.get(2..).unwrap_or(&[]);
    let cut1 = if body.is_empty() { 0 } else { (a * body.len() / 256).min(body.len()) };
    let cut2 = if body.is_empty() { 0 } else { (cut1 + b * (body.len() - cut1) / 256).min(body.len()) };
    let inputs = [
        podreach_core::Input { name: "a.json", bytes: &body[..cut1] },
        podreach_core::Input { name: "b.json", bytes: &body[cut1..cut2] },
        podreach_core::Input { name: "c.json", bytes: &body[cut2..] },
    ];
    // Differential: an input read element by element (ENIs by their own reader), and one that
    // parses in halves, must give what serde's readers alone give.
    for input in &inputs {
        let reference = podreach_core::assemble([podreach_core::load::parse_with_serde(input)]);
        let halves = podreach_core::load::parse_in_halves(input, &podreach_core::Sequential);
        for part in [Some(podreach_core::parse(input)), halves].into_iter().flatten() {
            let other = podreach_core::assemble([part]);
            assert_eq!(reference.diagnostics, other.diagnostics);
            assert_eq!(reference.documents, other.documents);
            let json = |l: &podreach_core::Loaded| {
                podreach_core::report::build(l, None).map(|r| podreach_core::render::json(&r)).map_err(|e| e.0)
            };
            assert_eq!(json(&reference), json(&other));
        }
    }
    let loaded = podreach_core::load(&inputs);
    let _ = podreach_core::report::build(&loaded, None);
    let target = loaded.model.enis.first().map(|e| e.id.clone()).unwrap_or_else(|| "10.0.0.1".to_owned());
    for (proto, port) in [("tcp", Some(5432)), ("icmp", Some(8)), ("all", None)] {
        if let Ok(q) = podreach_core::make_query(&target, proto, port) {
            if let Ok(r) = podreach_core::report::build(&loaded, Some(&q)) {
                let _ = podreach_core::render::table(&r);
                let _ = podreach_core::render::markdown(&r);
                let _ = podreach_core::render::csv(&r);
                let _ = podreach_core::render::json(&r);
            }
        }
    }
});

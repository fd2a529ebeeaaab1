//! Fuzzes loading and analysis: any bytes, split into up to three inputs, then the matrix and a
//! reachability query against the first ENI found, and each input parsed in halves against the
//! same input parsed whole. Any panic is a bug.
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
    // Differential: an input that parses in halves must give what parsing it whole gives.
    for input in &inputs {
        if let Some(part) = podreach_core::load::parse_in_halves(input, &podreach_core::Sequential) {
            let whole = podreach_core::assemble([podreach_core::parse(input)]);
            let halves = podreach_core::assemble([part]);
            assert_eq!(whole.diagnostics, halves.diagnostics);
            assert_eq!(whole.documents, halves.documents);
            let json = |l: &podreach_core::Loaded| {
                podreach_core::report::build(l, None).map(|r| podreach_core::render::json(&r)).map_err(|e| e.0)
            };
            assert_eq!(json(&whole), json(&halves));
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

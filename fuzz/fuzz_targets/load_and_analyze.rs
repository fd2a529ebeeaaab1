//! Fuzzes loading and analysis: any bytes, split into up to three inputs, then the matrix and a
//! reachability query against the first ENI found. Any panic is a bug.
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

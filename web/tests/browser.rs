//! What needs a real browser: components rendered into the DOM, and the worker's engine and the
//! reducer compiled to wasm32, in headless Chromium (`wasm-bindgen-test`).
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests fail loudly")]

use podreach_web::components::common::{Command, Verdict};
use podreach_web::engine::Engine;
use podreach_web::protocol::{InputMsg, PageReq, QueryMsg};
use podreach_web::state::{reduce, Action, AppState};
use wasm_bindgen_test::*;
use yew::prelude::*;

wasm_bindgen_test_configure!(run_in_browser);

fn mount(html: Html) -> web_sys::Element {
    let document = gloo::utils::document();
    let host = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&host).unwrap();
    #[component]
    fn Host(props: &HostProps) -> Html {
        props.html.clone()
    }
    #[derive(Properties, PartialEq)]
    struct HostProps {
        html: Html,
    }
    yew::Renderer::<Host>::with_root_and_props(host.clone(), HostProps { html }).render();
    host
}

async fn tick() {
    gloo::timers::future::TimeoutFuture::new(20).await;
}

#[wasm_bindgen_test]
async fn a_verdict_is_a_word_and_a_symbol_not_colour_alone() {
    let host = mount(html! { <Verdict verdict="blocked" /> });
    tick().await;
    let text = host.text_content().unwrap();
    assert!(text.contains('✗') && text.contains("blocked"), "{text}");
}

#[wasm_bindgen_test]
async fn markup_in_input_is_rendered_as_text() {
    let host = mount(html! { <Command command="<img src=x onerror=alert(1)>" /> });
    tick().await;
    assert!(host.query_selector("img").unwrap().is_none(), "input became markup");
    assert!(host.text_content().unwrap().contains("<img src=x onerror=alert(1)>"));
}

#[wasm_bindgen_test]
fn the_engine_and_reducer_run_in_the_browser() {
    let s = reduce(&AppState::default(), Action::LoadExample);
    let inputs: Vec<InputMsg> = s.inputs();
    let mut e = Engine::default();
    e.set_inputs(inputs);
    let q = QueryMsg { to: "eni-0rds".into(), protocol: "tcp".into(), port: Some(5432) };
    let v = e.run(Some(&q), &PageReq::default());
    assert_eq!((v.report.summary.reachable, v.report.summary.blocked), (6, 12));
}

/// The `memcmp` the web crate gives WebAssembly (`podreach_web::mem`), called as the compiler
/// calls it: over slices of every length up to three words, differing at every offset, its sign
/// is a byte-by-byte comparison's, and it reads nothing of empty or dangling slices.
#[wasm_bindgen_test]
#[allow(unsafe_code, reason = "calls the C function under test")]
fn the_wasm_memcmp_orders_as_a_byte_by_byte_comparison() {
    use std::cmp::Ordering;
    let by_bytes =
        |a: &[u8], b: &[u8]| a.iter().zip(b).find(|(x, y)| x != y).map_or(Ordering::Equal, |(x, y)| x.cmp(y));
    // SAFETY: both slices have `a.len()` bytes.
    let memcmp = |a: &[u8], b: &[u8]| unsafe { podreach_web::mem::memcmp(a.as_ptr(), b.as_ptr(), a.len()) }.cmp(&0);
    let base = b"eni-0123456789abcdef-xyz";
    let mut checked = 0;
    for n in 0..=base.len() {
        let a = &base[..n];
        assert_eq!(memcmp(a, a), Ordering::Equal);
        for at in 0..n {
            for v in [0u8, a[at] - 1, a[at] + 1, 0x80, 0xff] {
                let mut b = a.to_vec();
                b[at] = v;
                // A second change later must not matter.
                if at + 1 < n {
                    b[n - 1] ^= 0x55;
                }
                assert_eq!(memcmp(a, &b), by_bytes(a, &b), "{a:?} {b:?}");
                assert_eq!(memcmp(&b, a), by_bytes(&b, a), "{b:?} {a:?}");
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 1_500);
    // SAFETY: no byte is read when the length is zero.
    assert_eq!(unsafe { podreach_web::mem::memcmp(std::ptr::null(), std::ptr::null(), 0) }, 0);
    let mut ids =
        vec!["sg-0g0000010", "sg-0g000001", "sg-0cluster", "eni-00000000000000010", "eni-00000000000000002", "é", "e"];
    ids.sort_unstable();
    assert_eq!(
        ids,
        ["e", "eni-00000000000000002", "eni-00000000000000010", "sg-0cluster", "sg-0g000001", "sg-0g0000010", "é"]
    );
}

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

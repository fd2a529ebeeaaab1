//! The target picker: ENIs grouped by kind, or a typed IP; protocol and port with presets.

use crate::app::Ctx;
use crate::state::Action;
use std::collections::BTreeMap;
use yew::prelude::*;

const PRESETS: &[(&str, &str, u16)] = &[
    ("PostgreSQL 5432", "tcp", 5432),
    ("MySQL 3306", "tcp", 3306),
    ("Redis 6379", "tcp", 6379),
    ("HTTPS 443", "tcp", 443),
];

#[component]
pub fn TargetPicker() -> Html {
    let Some(ctx) = use_context::<Ctx>() else { return html! {} };
    let s = ctx.state();
    let targets = s.view.as_ref().map(|v| v.targets.clone()).unwrap_or_default();
    let mut groups: Vec<(String, Vec<Html>)> = Vec::new();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    for t in &targets {
        let pos = *index.entry(t.group.clone()).or_insert_with(|| {
            groups.push((t.group.clone(), Vec::new()));
            groups.len() - 1
        });
        if let Some((_, list)) = groups.get_mut(pos) {
            list.push(
                html! { <option value={t.eni.clone()} selected={s.query.to == t.eni}>{ t.label.clone() }</option> },
            );
        }
    }
    let on_select = ctx.callback(|e: Event| {
        let el: web_sys::HtmlSelectElement = e.target_unchecked_into();
        Action::SetTarget(el.value())
    });
    let on_typed = ctx.callback(|e: InputEvent| {
        let el: web_sys::HtmlInputElement = e.target_unchecked_into();
        Action::SetTarget(el.value())
    });
    let on_proto = ctx.callback(|e: Event| {
        let el: web_sys::HtmlSelectElement = e.target_unchecked_into();
        Action::SetProtocol(el.value())
    });
    let on_port = ctx.callback(|e: InputEvent| {
        let el: web_sys::HtmlInputElement = e.target_unchecked_into();
        Action::SetPort(el.value())
    });
    let known = targets.iter().any(|t| t.eni == s.query.to);
    let query_error = s.view.as_ref().and_then(|v| v.query_error.clone());
    html! {
        <div class="picker">
            <div class="field">
                <label for="target-select">{ "Target network interface" }</label>
                <select id="target-select" data-testid="target-select" onchange={on_select} disabled={targets.is_empty()}>
                    <option value="" selected={!known}>{ if targets.is_empty() { "load exports first" } else { "choose a target…" } }</option>
                    { for groups.into_iter().map(|(g, opts)| html! { <optgroup label={g}>{ for opts }</optgroup> }) }
                </select>
            </div>
            <div class="field">
                <label for="target-typed">{ "or type an eni id or IPv4 address" }</label>
                <input id="target-typed" data-testid="target-typed" type="text" spellcheck="false" value={s.query.to.clone()} oninput={on_typed} placeholder="eni-… or 10.0.100.20" />
            </div>
            <div class="field small">
                <label for="protocol">{ "Protocol" }</label>
                <select id="protocol" data-testid="protocol" onchange={on_proto}>
                    { for ["tcp", "udp", "icmp", "all"].iter().map(|p| html! { <option value={*p} selected={s.query.protocol == *p}>{ *p }</option> }) }
                </select>
            </div>
            <div class="field small">
                <label for="port">{ "Port" }</label>
                <input id="port" data-testid="port" type="number" min="0" max="65535" inputmode="numeric" value={s.query.port.clone()} oninput={on_port} />
            </div>
            <div class="presets" role="group" aria-label="port presets">
                { for PRESETS.iter().map(|(label, proto, port)| {
                    let onclick = ctx.callback(move |_: MouseEvent| Action::Preset { protocol: (*proto).to_owned(), port: *port });
                    html! { <button type="button" {onclick} data-testid={format!("preset-{port}")}>{ *label }</button> }
                }) }
            </div>
            if let Some(e) = query_error {
                <p class="error" role="alert" data-testid="query-error">{ e }</p>
            }
        </div>
    }
}

//! The results: headline and counts, per-node matrices with drift, sources grouped by cause with
//! their explanation chains, fixes, workloads, exports and diagnostics.

use super::common::{Command, Verdict};
use crate::app::Ctx;
use crate::protocol::{Request, View};
use crate::state::Action;
use podreach_core::report::{InstanceOut, SourceOut};
use yew::prelude::*;

#[component]
pub fn Results() -> Html {
    // A new view is drawn in four tasks: the answer (headline and counts), the sources, the
    // matrices, then the rest (workloads, fixes, exports, notes), so that none holds the page's
    // main thread for long. `drawn` is (view, how many parts of it are on the page).
    let drawn = use_state(|| (0usize, 0u8));
    let ctx = use_context::<Ctx>();
    let id = ctx.as_ref().and_then(|c| c.state().view.as_ref().map(|v| std::rc::Rc::as_ptr(v) as usize)).unwrap_or(0);
    let stage = if drawn.0 == id { drawn.1.max(1) } else { 1 };
    {
        let drawn = drawn.clone();
        use_effect_with((id, stage), move |&(id, stage)| {
            // Each part in a frame of its own; a part scheduled for a view that is no longer the
            // page's is not drawn (`stage` goes back to 1 for the new view).
            if stage < 4 {
                crate::services::browser::after_paint(move || drawn.set((id, stage + 1)));
            }
        });
    }
    let Some(ctx) = ctx else { return html! {} };
    let s = ctx.state();
    let (sources, matrices, full) = (stage >= 2, stage >= 3, stage >= 4);
    let busy = s.busy.as_ref().map(|b| {
        html! {
            <div class="progress" role="status" data-testid="progress">
                <progress max="100" value={b.percent.to_string()} aria-label="analysis progress"></progress>
                <span>{ format!(" {}…", b.phase) }</span>
            </div>
        }
    });
    let failure = s.failure.as_ref().map(|f| html! { <p class="error" role="alert">{ f.clone() }</p> });
    let Some(view) = s.view.clone() else {
        return html! {
            <>
                { for busy }{ for failure }
                <p class="empty" data-testid="empty">{ "Nothing to show yet: paste or drop exports above, or press “Load example” to see the classic case." }</p>
            </>
        };
    };
    html! {
        <>
            { for busy }{ for failure }
            <Summary view={view.clone()} />
            if matrices {
                <Matrices view={view.clone()} />
            }
            if view.report.target.is_some() && sources {
                <Sources view={view.clone()} />
                if full {
                    <Workloads view={view.clone()} />
                    <Fixes view={view.clone()} />
                }
            }
            if full {
                <Exports />
                <Diagnostics view={view.clone()} />
                // For tests and benchmarks: every part of this view is on the page.
                <span hidden=true data-testid="drawn"></span>
            }
        </>
    }
}

#[derive(Properties, PartialEq)]
pub struct ViewProps {
    pub view: std::rc::Rc<View>,
}

#[component]
fn Summary(props: &ViewProps) -> Html {
    let r = &props.view.report;
    let Some(t) = &r.target else {
        return html! { <p class="headline" data-testid="headline">{ "Choose a target to see which sources reach it." }</p> };
    };
    let port = t.port.map(|p| format!("/{p}")).unwrap_or_default();
    let timing = &props.view.timings;
    html! {
        <div class="summary">
            <p class="headline" data-testid="headline">{ r.headline.clone().unwrap_or_default() }</p>
            <ul class="counts" aria-label={format!("verdicts for {} on {}{port}", t.label, t.protocol)}>
                <li class="v-ok" data-testid="count-reachable"><span aria-hidden="true">{ "✓ " }</span><strong>{ r.summary.reachable }</strong>{ " reachable" }</li>
                <li class="v-blocked" data-testid="count-blocked"><span aria-hidden="true">{ "✗ " }</span><strong>{ r.summary.blocked }</strong>{ " blocked" }</li>
                <li class="v-unknown" data-testid="count-unknown"><span aria-hidden="true">{ "? " }</span><strong>{ r.summary.unknown }</strong>{ " unknown" }</li>
                if let Some(p) = &r.summary.pods {
                    <li data-testid="count-pods">{ format!("pods: {} reachable, {} blocked, {} unknown", p.reachable, p.blocked, p.unknown) }</li>
                }
            </ul>
            if timing.parse_ms + timing.model_ms + timing.analyse_ms > 0.0 {
                <p class="timing" data-testid="timing">{ format!("parsed in {:.0} ms (and {:.0} ms waiting for files{}){}, modelled in {:.0} ms, analysed in {:.0} ms, in this browser; the analysis holds {:.0} MB", timing.parse_ms, timing.files_ms, warming(timing.warm_rounds), helped(timing.helper_ms), timing.model_ms, timing.analyse_ms, timing.memory_bytes / 1e6) }</p>
            }
        </div>
    }
}

/// The timing line's note on the second worker's part, if it had one.
fn helped(ms: f64) -> String {
    if ms > 0.0 {
        format!(" with {ms:.0} ms more on a second worker beside it")
    } else {
        String::new()
    }
}

/// The timing line's note on warm-up rounds run while the worker waited for files.
fn warming(rounds: u32) -> String {
    match rounds {
        0 => String::new(),
        1 => ", warming up meanwhile: 1 round".to_owned(),
        n => format!(", warming up meanwhile: {n} rounds"),
    }
}

#[component]
fn Matrices(props: &ViewProps) -> Html {
    let v = &props.view;
    if v.report.instances.is_empty() {
        return html! {};
    }
    let more = v.instances_total.saturating_sub(v.report.instances.len());
    html! {
        <section aria-labelledby="matrix-h" class="matrices">
            <h3 id="matrix-h">{ "Security groups per ENI" }</h3>
            <p class="legend">{ "✓ carried · ✗ missing: the primary ENI has it, this ENI does not · ＋ extra: only this ENI has it" }</p>
            { for v.report.instances.iter().map(|i| html! { <Matrix inst={i.clone()} drift={v.report.drift.iter().filter(|d| d.instance == i.instance).cloned().collect::<Vec<_>>()} /> }) }
            if more > 0 {
                <p class="note">{ format!("{more} more instances are in the exports (JSON, Markdown and CSV exports include them all).") }</p>
            }
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct MatrixProps {
    inst: InstanceOut,
    drift: Vec<podreach_core::report::DriftOut>,
}

#[component]
fn Matrix(props: &MatrixProps) -> Html {
    let i = &props.inst;
    let limits = i
        .limits
        .as_ref()
        .map(|l| format!(" · limit {} ENIs × {} IPv4, max pods {}", l.enis, l.ipv4_per_eni, l.max_pods))
        .unwrap_or_default();
    let node = i.node.as_ref().map(|n| format!(" · node {n}")).unwrap_or_default();
    html! {
        <div class="matrix" data-testid="matrix" data-instance={i.instance.clone()}>
            <h4>{ format!("{}{node}{limits}", i.label) }</h4>
            <div class="scroll">
            <table>
                <caption class="visually-hidden">{ format!("ENIs of {} and their security groups", i.instance) }</caption>
                <thead><tr>
                    <th scope="col">{ "eth" }</th><th scope="col">{ "ENI" }</th><th scope="col">{ "subnet" }</th><th scope="col">{ "type" }</th><th scope="col">{ "addresses" }</th>
                    { for i.groups.iter().map(|g| html! { <th scope="col" title={g.name.clone().unwrap_or_default()}>{ g.id.clone() }<br/><small>{ g.name.clone().unwrap_or_default() }</small></th> }) }
                </tr></thead>
                <tbody>
                { for i.enis.iter().map(|r| {
                    let addr = if r.prefixes.is_empty() { r.addresses.to_string() } else { format!("{} + {} × /28", r.addresses, r.prefixes.len()) };
                    let drifted = !r.missing.is_empty() || !r.extra.is_empty();
                    html! {
                        <tr data-testid="matrix-row" data-eth={r.eth.clone().unwrap_or_default()} class={classes!(drifted.then_some("drifted"))}>
                            <th scope="row">{ r.eth.clone().unwrap_or_else(|| "branch".to_owned()) }</th>
                            <td><code>{ r.eni.clone() }</code></td>
                            <td>{ r.subnet.clone().unwrap_or_default() }</td>
                            <td>{ r.interface_type.clone() }</td>
                            <td>{ addr }</td>
                            { for i.groups.iter().map(|g| {
                                let (sym, label, class) = if r.missing.contains(&g.id) {
                                    ("✗", "missing", "cell-missing")
                                } else if r.extra.contains(&g.id) {
                                    ("＋", "extra", "cell-extra")
                                } else if r.groups.contains(&g.id) {
                                    ("✓", "carried", "cell-ok")
                                } else {
                                    ("", "not carried", "cell-none")
                                };
                                html! { <td class={class} data-testid={format!("cell-{label}")}><span aria-hidden="true">{ sym }</span><span class="visually-hidden">{ label }</span>if label != "carried" && label != "not carried" { <small>{ format!(" {label}") }</small> }</td> }
                            }) }
                        </tr>
                    }
                }) }
                </tbody>
            </table>
            </div>
            if !props.drift.is_empty() {
                <ul class="drift" data-testid="drift">
                { for props.drift.iter().map(|d| html! {
                    <li data-testid="drift-item" data-eth={d.eth.clone().unwrap_or_default()}>
                        <strong>{ format!("{} {} — {}{}: ", d.eth.clone().unwrap_or_default(), d.eni, d.cause, if d.by_design { " (by design)" } else { "" }) }</strong>
                        { d.explanation.clone() }
                        if let Some(f) = &d.fix { <Command command={f.clone()} /> }
                    </li>
                }) }
                </ul>
            }
        </div>
    }
}

#[component]
fn Sources(props: &ViewProps) -> Html {
    let Some(ctx) = use_context::<Ctx>() else { return html! {} };
    let s = ctx.state();
    let rows = s.rows.clone();
    let on_filter = ctx.callback(|e: InputEvent| {
        let el: web_sys::HtmlInputElement = e.target_unchecked_into();
        Action::SetFilter(el.value())
    });
    let on_verdict = ctx.callback(|e: Event| {
        let el: web_sys::HtmlSelectElement = e.target_unchecked_into();
        Action::SetVerdict(el.value())
    });
    let sort_button = |key: &'static str, label: &'static str| {
        let onclick = ctx.callback(move |_: MouseEvent| Action::SetSort(key.to_owned()));
        let active = s.page.sort == key;
        let aria = if active {
            if s.page.desc {
                "descending"
            } else {
                "ascending"
            }
        } else {
            "none"
        };
        html! { <th scope="col" aria-sort={aria}><button type="button" class="sort" {onclick} data-testid={format!("sort-{key}")}>{ label }{ if active { if s.page.desc { " ▼" } else { " ▲" } } else { "" } }</button></th> }
    };
    let prev = ctx.callback(|_: MouseEvent| Action::PageBy(-1));
    let next = ctx.callback(|_: MouseEvent| Action::PageBy(1));
    let end = (rows.offset + rows.rows.len()).min(rows.total);
    let grouped = s.page.sort == "cause";
    let mut last_cause: Option<String> = None;
    let mut body: Vec<Html> = Vec::new();
    for r in &rows.rows {
        if grouped && last_cause.as_deref() != Some(r.cause()) {
            last_cause = Some(r.cause().to_string());
            let count = props
                .view
                .causes
                .iter()
                .find(|c| c.cause == *r.cause() && c.verdict == *r.verdict)
                .map_or(0, |c| c.count);
            body.push(html! {
                <tr class="group" data-testid="cause-group"><th colspan="7" scope="rowgroup"><Verdict verdict={r.verdict.to_string()} />{ format!(" ({count}): {}", r.cause()) }</th></tr>
            });
        }
        body.push(
            html! { <SourceRow row={r.clone()} expanded={s.expanded.as_deref() == Some(r.ip.to_string().as_str())} /> },
        );
    }
    html! {
        <section aria-labelledby="sources-h" class="sources">
            <h3 id="sources-h">{ "Sources" }</h3>
            <div class="row">
                <label for="filter">{ "Filter by IP, pod, node, ENI or group " }</label>
                <input id="filter" type="search" data-testid="filter" value={s.page.filter.clone()} oninput={on_filter} />
                <label for="verdict-filter">{ " Verdict " }</label>
                <select id="verdict-filter" data-testid="verdict-filter" onchange={on_verdict}>
                    { for [("", "all"), ("blocked", "blocked"), ("unknown", "unknown"), ("reachable", "reachable")].iter().map(|(v, l)| html! { <option value={*v} selected={s.page.verdict == *v}>{ *l }</option> }) }
                </select>
                { sort_button_inline(&ctx, grouped) }
            </div>
            <div class="scroll">
            <table data-testid="sources-table">
                <thead><tr>
                    { sort_button("ip", "address") }
                    { sort_button("pod", "pods") }
                    { sort_button("node", "node") }
                    { sort_button("eni", "ENI") }
                    { sort_button("verdict", "verdict") }
                    <th scope="col">{ "reason" }</th>
                    <th scope="col"><span class="visually-hidden">{ "explanation" }</span></th>
                </tr></thead>
                <tbody>{ for body }</tbody>
            </table>
            </div>
            <div class="pager">
                <button type="button" onclick={prev} disabled={rows.offset == 0}>{ "← previous" }</button>
                <span data-testid="page-info">{ format!(" {}–{} of {} ", if rows.total == 0 { 0 } else { rows.offset + 1 }, end, rows.total) }</span>
                <button type="button" onclick={next} disabled={end >= rows.total}>{ "next →" }</button>
            </div>
        </section>
    }
}

fn sort_button_inline(ctx: &Ctx, grouped: bool) -> Html {
    let onclick = ctx.callback(|_: MouseEvent| Action::SetSort("cause".to_owned()));
    html! { <button type="button" {onclick} aria-pressed={grouped.to_string()} data-testid="group-by-cause">{ "group by cause" }</button> }
}

#[derive(Properties, PartialEq)]
struct RowProps {
    row: SourceOut,
    expanded: bool,
}

#[component]
fn SourceRow(props: &RowProps) -> Html {
    let Some(ctx) = use_context::<Ctx>() else { return html! {} };
    let r = &props.row;
    let ip = r.ip.to_string();
    let key = ip.clone();
    let toggle = ctx.callback(move |_: MouseEvent| Action::Toggle(key.clone()));
    let pods = r.pods.iter().map(|p| format!("{}/{}", p.namespace, p.name)).collect::<Vec<_>>().join(", ");
    let decisive = r
        .reasons()
        .iter()
        .find(|x| *x.outcome == *r.verdict && *r.verdict != *"reachable")
        .or_else(|| r.reasons().last());
    let node = r.node().or_else(|| r.instance()).unwrap_or_default().to_owned();
    let eth = r.eth().as_ref().map(|e| format!(" ({e})")).unwrap_or_default();
    html! {
        <>
        <tr data-testid="source-row" data-ip={ip.clone()} data-verdict={r.verdict.to_string()}>
            <td><code>{ ip.clone() }</code></td>
            <td>{ pods }</td>
            <td>{ node }</td>
            <td><code>{ r.eni().to_owned() }</code>{ eth }</td>
            <td><Verdict verdict={r.verdict.to_string()} /></td>
            <td class="reason">{ decisive.map(|d| d.message.clone()).unwrap_or_default() }</td>
            <td><button type="button" onclick={toggle} aria-expanded={props.expanded.to_string()} data-testid="explain">{ if props.expanded { "hide" } else { "explain" } }</button></td>
        </tr>
        if props.expanded {
            <tr class="chain-row"><td colspan="7">
                <ol class="chain" data-testid="chain" aria-label={format!("path from {}", r.ip)}>
                    { for r.reasons().iter().map(|x| html! {
                        <li class={format!("step step-{}", x.outcome)} data-testid="chain-step">
                            <Verdict verdict={x.outcome.to_string()} />
                            <strong>{ format!(" {}: ", x.layer) }</strong>{ x.message.clone() }
                        </li>
                    }) }
                    { for r.missing().iter().map(|m| html! { <li class="step">{ "export: " }<Command command={m.clone()} /></li> }) }
                </ol>
            </td></tr>
        }
        </>
    }
}

/// Long lists (a whole-account export has hundreds of fixes and workloads) show their first
/// items, most important first, and the rest on request: drawing them all at once would hold the
/// page's main thread for a quarter of a second.
const SHOWN: usize = 20;

/// "show all N" for a list cut at `SHOWN`; nothing when the list is short or already whole.
fn show_all(total: usize, all: &UseStateHandle<bool>, what: &str, testid: &'static str) -> Html {
    if total <= SHOWN || **all {
        return html! {};
    }
    let all = all.clone();
    html! {
        <button type="button" class="more" data-testid={testid} onclick={Callback::from(move |_: MouseEvent| all.set(true))}>
            { format!("show all {total} {what}") }
        </button>
    }
}

#[component]
fn Workloads(props: &ViewProps) -> Html {
    let all = use_state(|| false);
    let w = &props.view.report.workloads;
    if w.is_empty() {
        return html! {};
    }
    let shown = if *all { w.len() } else { SHOWN };
    html! {
        <section aria-labelledby="workloads-h" data-testid="workloads">
            <h3 id="workloads-h">{ "Works sometimes? Workloads" }</h3>
            <table>
                <thead><tr><th scope="col">{ "workload" }</th><th scope="col">{ "replicas" }</th><th scope="col">{ "blocked" }</th><th scope="col">{ "what it means" }</th></tr></thead>
                <tbody>
                { for w.iter().take(shown).map(|x| html! {
                    <tr data-testid="workload-row"><td>{ format!("{} {}/{}", x.kind.to_lowercase(), x.namespace, x.name) }</td><td>{ x.replicas }</td><td>{ x.blocked }</td><td>{ x.message.clone() }</td></tr>
                }) }
                </tbody>
            </table>
            { show_all(w.len(), &all, "workloads", "more-workloads") }
        </section>
    }
}

#[component]
fn Fixes(props: &ViewProps) -> Html {
    let all = use_state(|| false);
    let f = &props.view.report.fixes;
    if f.is_empty() {
        return html! {};
    }
    let shown = if *all { f.len() } else { SHOWN };
    html! {
        <section aria-labelledby="fixes-h" data-testid="fixes">
            <h3 id="fixes-h">{ "Fixes" }</h3>
            <ol class="fixes">
            { for f.iter().take(shown).map(|x| html! {
                <li data-testid="fix" data-code={x.code.to_string()}>
                    <strong>{ x.title.clone() }</strong>
                    <Command command={x.command.clone()} />
                    <p class="tradeoff">{ format!("Trade-off: {}", x.tradeoff) }</p>
                </li>
            }) }
            </ol>
            { show_all(f.len(), &all, "fixes", "more-fixes") }
            if !props.view.report.assumptions.is_empty() {
                <details><summary>{ "Assumptions behind these verdicts" }</summary>
                    <ul>{ for props.view.report.assumptions.iter().map(|a| html! { <li>{ a.clone() }</li> }) }</ul>
                </details>
            }
        </section>
    }
}

#[component]
fn Exports() -> Html {
    let Some(ctx) = use_context::<Ctx>() else { return html! {} };
    let export = |format: &'static str| {
        let ctx = ctx.clone();
        Callback::from(move |_: MouseEvent| ctx.send(|seq| Request::Export { seq, format: format.to_owned() }))
    };
    html! {
        <section aria-labelledby="export-h" class="exports">
            <h3 id="export-h">{ "Export" }</h3>
            <div class="row">
                <button type="button" onclick={export("json")} data-testid="export-json">{ "JSON (podreach/report@1)" }</button>
                <button type="button" onclick={export("markdown")} data-testid="export-markdown">{ "Markdown" }</button>
                <button type="button" onclick={export("csv")} data-testid="export-csv">{ "CSV" }</button>
                <button type="button" onclick={export("markdown-copy")} data-testid="copy-markdown">{ "Copy as Markdown" }</button>
            </div>
        </section>
    }
}

#[component]
fn Diagnostics(props: &ViewProps) -> Html {
    let d = &props.view.diagnostics;
    if d.is_empty() {
        return html! {};
    }
    html! {
        <section aria-labelledby="diag-h" data-testid="diagnostics">
            <h3 id="diag-h">{ "Notes on the input" }</h3>
            <ul class="diags">
            { for d.iter().map(|x| html! { <li class={format!("diag-{}", x.severity)}><strong>{ format!("{}: ", x.severity) }</strong>{ x.message.clone() }</li> }) }
            </ul>
        </section>
    }
}

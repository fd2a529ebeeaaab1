//! The inputs: one large paste area, drag-and-drop and a file picker, document chips, inline
//! errors with line and column, the example, and "keep in this browser".

use crate::app::Ctx;
use crate::services::browser;
use crate::state::{Action, FileBytes, PASTE_ID};
use yew::prelude::*;

#[component]
pub fn InputPanel() -> Html {
    let Some(ctx) = use_context::<Ctx>() else { return html! {} };
    let s = ctx.state();
    let dragging = use_state(|| false);

    let on_paste_input = ctx.callback(|e: InputEvent| {
        let el: web_sys::HtmlTextAreaElement = e.target_unchecked_into();
        Action::SetPaste(el.value())
    });

    // Picked and dropped files stay browser file handles: the worker reads them, so a large
    // export costs the page's main thread nothing but a message.
    let add_files = {
        let ctx = ctx.clone();
        Callback::from(move |list: Vec<web_sys::File>| {
            browser::mark("podreach:files-chosen");
            let files: Vec<(String, FileBytes)> = list.into_iter().map(browser::file_input).collect();
            if !files.is_empty() {
                ctx.dispatch(Action::AddFiles(files));
            }
        })
    };
    let on_pick = {
        let add = add_files.clone();
        Callback::from(move |e: Event| {
            let input: web_sys::HtmlInputElement = e.target_unchecked_into();
            if let Some(list) = input.files() {
                add.emit(browser::take_files(&list));
            }
            input.set_value("");
        })
    };
    let on_drop = {
        let add = add_files.clone();
        let dragging = dragging.clone();
        Callback::from(move |e: DragEvent| {
            e.prevent_default();
            dragging.set(false);
            if let Some(list) = e.data_transfer().and_then(|d| d.files()) {
                if list.length() > 0 {
                    add.emit(browser::take_files(&list));
                }
            }
        })
    };
    let on_drag_over = {
        let dragging = dragging.clone();
        Callback::from(move |e: DragEvent| {
            e.prevent_default();
            dragging.set(true);
        })
    };
    let on_drag_leave = {
        let dragging = dragging.clone();
        Callback::from(move |_: DragEvent| dragging.set(false))
    };
    let on_keep = ctx.callback(|e: Event| {
        let el: web_sys::HtmlInputElement = e.target_unchecked_into();
        Action::SetKeep(el.checked())
    });

    let view = s.view.clone();
    let chips: Vec<Html> = view
        .as_ref()
        .map(|v| {
            v.documents
                .iter()
                .map(|d| {
                    let (input, start, end) = (d.input, d.start, d.end);
                    let label = format!("{} · {}", d.label, s.name_of(d.input));
                    let remove = ctx.callback(move |_: MouseEvent| Action::RemoveDocument { input, start, end });
                    html! {
                        <li class={classes!("chip", d.partial.then_some("partial"))} data-testid="doc-chip">
                            <span>{ label.clone() }</span>
                            <button type="button" class="chip-x" onclick={remove} aria-label={format!("remove {label}")}>{ "×" }</button>
                        </li>
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let files_without_docs: Vec<Html> = s
        .files
        .iter()
        .filter(|f| view.as_ref().is_none_or(|v| !v.documents.iter().any(|d| d.input == f.id)))
        .map(|f| {
            let id = f.id;
            let remove = ctx.callback(move |_: MouseEvent| Action::RemoveInput(id));
            html! {
                <li class="chip bad" data-testid="file-chip">
                    <span>{ format!("{} · not recognised", f.name) }</span>
                    <button type="button" class="chip-x" onclick={remove} aria-label={format!("remove {}", f.name)}>{ "×" }</button>
                </li>
            }
        })
        .collect();
    let errors: Vec<Html> = view
        .as_ref()
        .map(|v| {
            v.errors
                .iter()
                .map(|e| {
                    let where_ = match (e.line, e.column) {
                        (Some(l), Some(c)) => format!("{} line {l}, column {c}", s.name_of(e.input)),
                        _ => s.name_of(e.input),
                    };
                    html! {
                        <li class="error" data-testid="input-error" data-line={e.line.map(|l| l.to_string())} data-column={e.column.map(|c| c.to_string())}>
                            <strong>{ where_ }</strong>{ ": " }{ e.message.clone() }
                        </li>
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let load_example = ctx.callback(|_: MouseEvent| Action::LoadExample);
    let clear = ctx.callback(|_: MouseEvent| Action::ClearAll);
    let paste_has_error = view.as_ref().is_some_and(|v| v.errors.iter().any(|e| e.input == PASTE_ID));

    html! {
        <div class="inputs">
            <div class={classes!("drop", (*dragging).then_some("dragging"))}
                 ondrop={on_drop} ondragover={on_drag_over} ondragleave={on_drag_leave} data-testid="drop-zone">
                <label for="paste" class="label">{ "Paste one or more exports (JSON), or drop files here" }</label>
                <textarea id="paste" data-testid="paste" rows="10" spellcheck="false"
                    aria-invalid={paste_has_error.to_string()}
                    aria-describedby="paste-help input-errors"
                    placeholder="{ \"NetworkInterfaces\": [ … ] }   { \"SecurityGroups\": [ … ] }"
                    value={s.paste.clone()} oninput={on_paste_input} />
                <p id="paste-help" class="hint">{ "Several documents one after another are fine. Each is recognised by its content, not its name." }</p>
                <div class="row">
                    <label class="button" for="file-picker">{ "Choose files…" }</label>
                    <input id="file-picker" class="visually-hidden" type="file" multiple=true accept=".json,application/json,text/plain" onchange={on_pick} data-testid="file-picker" />
                    <button type="button" onclick={load_example} data-testid="load-example">{ "Load example" }</button>
                    <button type="button" onclick={clear} data-testid="clear">{ "Clear" }</button>
                    <label class="switch">
                        <input type="checkbox" checked={s.keep} onchange={on_keep} data-testid="keep" />
                        { " Keep in this browser (local storage; off by default)" }
                    </label>
                </div>
            </div>
            <ul class="chips" aria-label="recognised documents" data-testid="chips">{ for chips }{ for files_without_docs }</ul>
            <ul id="input-errors" class="errors" aria-live="assertive">{ for errors }</ul>
            if let Some(n) = &s.notice {
                <p class="notice" role="status" data-testid="notice">{ n.clone() }</p>
            }
        </div>
    }
}

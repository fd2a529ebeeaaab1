//! Small shared pieces: a copy button, a verdict badge, a code block with a copy button.

use crate::services::browser;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct CopyProps {
    pub text: AttrValue,
    #[prop_or(AttrValue::Static("copy"))]
    pub label: AttrValue,
}

#[component]
pub fn CopyButton(props: &CopyProps) -> Html {
    let copied = use_state(|| false);
    let onclick = {
        let text = props.text.clone();
        let copied = copied.clone();
        Callback::from(move |_| {
            browser::copy(&text);
            copied.set(true);
        })
    };
    html! {
        <button type="button" class="copy" {onclick} aria-label={format!("{} to the clipboard", props.label)} data-testid="copy">
            { if *copied { "copied ✓" } else { "copy" } }
        </button>
    }
}

#[derive(Properties, PartialEq)]
pub struct CommandProps {
    pub command: AttrValue,
}

/// A command to paste into a terminal, with a copy button.
#[component]
pub fn Command(props: &CommandProps) -> Html {
    html! {
        <div class="command">
            <pre><code>{ props.command.clone() }</code></pre>
            <CopyButton text={props.command.clone()} label="command" />
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct VerdictProps {
    pub verdict: AttrValue,
}

/// A verdict as a symbol and a word, never colour alone.
#[component]
pub fn Verdict(props: &VerdictProps) -> Html {
    let (sym, class) = match props.verdict.as_str() {
        "reachable" => ("✓", "v-ok"),
        "blocked" => ("✗", "v-blocked"),
        _ => ("?", "v-unknown"),
    };
    html! { <span class={classes!("verdict", class)}><span aria-hidden="true">{ sym }</span>{ " " }{ props.verdict.clone() }</span> }
}

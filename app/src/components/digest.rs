//! A digest as people handle it: short, monospace, the full value on hover and a copy
//! button.

use crate::components::copy_button::CopyButton;
use leptos::prelude::*;

#[component]
pub fn Digest(#[prop(into)] digest: String) -> impl IntoView {
    // `sha256:` plus 12 hex digits, like docker's short ids.
    let short: String = digest.chars().take(19).collect();
    view! {
        <span class="digest">
            <code title=digest.clone()>{short}</code>
            <CopyButton text=digest.clone() label=format!("Copy digest {digest}")/>
        </span>
    }
}

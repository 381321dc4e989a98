//! Page titles that follow a route parameter.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

/// The title text of a page named after a route parameter (`format` gets its value).
/// The server renders the `<head>` after the page, when the page's reactive values
/// may already be disposed, so the text falls back to what it was when the page was
/// made instead of panicking.
pub fn param_title(
    param: &'static str,
    format: impl Fn(&str) -> String + Send + Sync + 'static,
) -> impl Fn() -> String + Send + Sync + 'static {
    let params = use_params_map();
    let initial = format(&params.get_untracked().get(param).unwrap_or_default());
    move || {
        params
            .try_with(|p| format(&p.get(param).unwrap_or_default()))
            .unwrap_or_else(|| initial.clone())
    }
}

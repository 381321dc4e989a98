//! A server function's failure, in the words the server chose, announced to screen
//! readers.

use crate::api::session::error_text;
use leptos::prelude::*;

#[component]
pub fn ServerError(error: ServerFnError) -> impl IntoView {
    view! { <p class="error" role="alert">{error_text(&error)}</p> }
}

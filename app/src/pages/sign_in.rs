//! Sign in with a username and password.

use crate::api::session::{SignIn, error_text};
use crate::model::SignInRefusal;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn SignInPage() -> impl IntoView {
    let action = ServerAction::<SignIn>::new();
    let query = use_query_map();
    let error = move || {
        let refused = query
            .read()
            .get("error")
            .and_then(|c| SignInRefusal::from_code(&c))
            .map(|r| r.message().to_owned());
        refused.or_else(|| {
            action
                .value()
                .get()
                .and_then(|r| r.err())
                .map(|e| error_text(&e))
        })
    };
    // The page to return to once signed in (the server checks it is one of ours).
    let next = move || query.read().get("next").unwrap_or_default();
    view! {
        <Title text="Sign in — Berth"/>
        <section class="card narrow" aria-labelledby="sign-in-heading">
            <h1 id="sign-in-heading">"Sign in"</h1>
            <ActionForm action=action>
                <input type="hidden" name="next" value=next/>
                <div class="field">
                    <label for="username">"Username"</label>
                    <input id="username" name="username" autocomplete="username" required/>
                </div>
                <div class="field">
                    <label for="password">"Password"</label>
                    <input id="password" type="password" name="password" autocomplete="current-password" required/>
                </div>
                <button class="primary" type="submit">"Sign in"</button>
            </ActionForm>
            {move || error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </section>
    }
}

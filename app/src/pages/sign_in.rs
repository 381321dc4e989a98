//! Sign in: with the company's identity provider (single sign-on), when configured,
//! and with a username and password (with single sign-on, for site admins only).

use crate::api::session::{SignIn, error_text, sign_in_options};
use crate::model::{SignInOptions, SignInRefusal, query_escape};
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
    let options = Resource::new(|| (), |_| sign_in_options());
    let sso_href = move || match next() {
        n if n.is_empty() => "/auth/oidc/start".to_owned(),
        n => format!("/auth/oidc/start?next={}", query_escape(&n)),
    };
    view! {
        <Title text="Sign in — Berth"/>
        <section class="card narrow" aria-labelledby="sign-in-heading">
            <h1 id="sign-in-heading">"Sign in"</h1>
            <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let o = options.await.unwrap_or(SignInOptions { sso: None, password: true });
                view! {
                    {o.sso.map(|name| view! {
                        // `rel="external"`: a page load the server answers, not a route of the app.
                        <p><a class="button primary sso" rel="external" href=sso_href>{format!("Sign in with {name}")}</a></p>
                    })}
                    {o.password.then(|| view! { <PasswordForm action next/> })}
                }
            })}
            </Suspense>
            {move || error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </section>
    }
}

#[component]
fn PasswordForm(
    action: ServerAction<SignIn>,
    next: impl Fn() -> String + Send + Sync + 'static,
) -> impl IntoView {
    view! {
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
    }
}

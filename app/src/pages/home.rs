//! The landing page: how to reach this registry with docker.

use crate::api::session::{current_user, take_notice};
use crate::components::copy_button::CopyButton;
use leptos::prelude::*;
use leptos_meta::Title;

/// The commands shown to a visitor; the host is the one their browser used.
#[component]
pub fn HomePage() -> impl IntoView {
    let host = registry_host();
    let login = format!("docker login {host}");
    let push = format!(
        "docker tag alpine:3.20 {host}/<namespace>/alpine:3.20\ndocker push {host}/<namespace>/alpine:3.20"
    );
    let me = Resource::new(|| (), |_| current_user());
    let notice = Resource::new(|| (), |_| take_notice());
    view! {
        <Title text="Berth — private container registry"/>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                notice.await.ok().flatten().map(|n| view! { <p class="notice card" role="status">{n}</p> })
            })}
        </Suspense>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match me.await.ok().flatten() {
                    None => view! {
                        <p class="signin-hint"><a href="/sign-in">"Sign in"</a>" to see your repositories."</p>
                    }.into_any(),
                    Some(user) => view! {
                        <section class="card" aria-labelledby="accounts-heading">
                            <h2 id="accounts-heading">{format!("Signed in as {}", user.username)}</h2>
                            {(user.accounts.is_empty() && !user.site_admin).then(|| {
                                let who = if user.site_admins.is_empty() {
                                    "a site admin".to_owned()
                                } else {
                                    user.site_admins.join(", ")
                                };
                                view! {
                                    <p class="notice" role="status">"You have no access to an account yet. "
                                        {format!("Ask {who} to add you to one, or to map one of your single sign-on groups to it.")}</p>
                                }
                            })}
                            <ul class="accounts">
                                {user.accounts.into_iter().map(|a| {
                                    let href = format!("/a/{}", a.account);
                                    view! { <li><a href=href>{a.account.clone()}</a>" — "{a.role.clone()}</li> }
                                }).collect_view()}
                            </ul>
                        </section>
                    }.into_any(),
                }
            })}
        </Suspense>
        <section class="hero">
            <h1>"Your private container registry"</h1>
            <p class="lead">
                "Every account has its own namespace. Push with docker, pull from anywhere you log in."
            </p>
        </section>
        <section class="card" aria-labelledby="login-heading">
            <h2 id="login-heading">"Log in with docker"</h2>
            <div class="command">
                <pre><code>{login.clone()}</code></pre>
                <CopyButton text=login label="Copy docker login command"/>
            </div>
            <h2>"Push an image"</h2>
            <div class="command">
                <pre><code>{push.clone()}</code></pre>
                <CopyButton text=push label="Copy push commands"/>
            </div>
        </section>
    }
}

/// The host (and port) the page was requested from.
fn registry_host() -> String {
    #[cfg(feature = "ssr")]
    {
        use leptos::prelude::use_context;
        if let Some(parts) = use_context::<http::request::Parts>()
            && let Some(h) = parts.headers.get("host").and_then(|h| h.to_str().ok())
        {
            return h.to_owned();
        }
        "localhost:5000".to_owned()
    }
    #[cfg(not(feature = "ssr"))]
    {
        window().location().host().unwrap_or_default()
    }
}

//! The frame of every page: header with the product name and who is signed in,
//! main content, footer.

use crate::api::session::{SignOut, current_user};
use leptos::prelude::*;
use leptos_router::hooks::use_location;

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let location = use_location();
    // Asked again on every navigation, so signing in or out shows at once.
    let me = Resource::new(move || location.pathname.get(), |_| current_user());
    let sign_out = ServerAction::<SignOut>::new();
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="topbar">
            <a class="brand" href="/" aria-label="Berth home">
                <span class="brand-mark" aria-hidden="true">"⚓"</span>
                <span class="brand-name">"Berth"</span>
            </a>
            <nav aria-label="Main">
                <a href="/explore">"Explore"</a>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        match me.await.ok().flatten() {
                            None => view! { <a href="/sign-in">"Sign in"</a> }.into_any(),
                            Some(user) => view! {
                                {user.accounts.into_iter().map(|a| {
                                    let href = format!("/a/{}", a.account);
                                    view! { <a href=href>{a.account.clone()}</a> }
                                }).collect_view()}
                                {user.site_admin.then(|| view! { <a href="/accounts">"Accounts"</a> })}
                                <a href="/tokens">"Tokens"</a>
                                <span class="visually-hidden">"Signed in as "</span>
                                <a class="who" href="/password" title="Change your password">{user.username.clone()}</a>
                                <ActionForm action=sign_out attr:class="inline">
                                    <button type="submit" class="link">"Sign out"</button>
                                </ActionForm>
                            }.into_any(),
                        }
                    })}
                </Suspense>
            </nav>
        </header>
        <main id="main" class="content">{children()}</main>
        <footer class="footer">
            <span>"Berth — private container registry"</span>
        </footer>
    }
}

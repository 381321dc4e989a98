//! First start: create the first site admin through the one-time link from the log.

use crate::api::session::Setup;
use crate::components::server_error::ServerError;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn SetupPage() -> impl IntoView {
    let action = ServerAction::<Setup>::new();
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    view! {
        <Title text="Set up Berth"/>
        <section class="card narrow" aria-labelledby="setup-heading">
            <h1 id="setup-heading">"Welcome to Berth"</h1>
            <p>"Create the first administrator. They can then create accounts and invite people."</p>
            <ActionForm action=action>
                <input type="hidden" name="token" value=token/>
                <div class="field">
                    <label for="username">"Username"</label>
                    <input id="username" name="username" autocomplete="username" required/>
                </div>
                <div class="field">
                    <label for="password">"Password (at least 8 characters)"</label>
                    <input id="password" type="password" name="password" autocomplete="new-password" minlength="8" required/>
                </div>
                <button class="primary" type="submit">"Create administrator"</button>
            </ActionForm>
            {move || action.value().get().and_then(|r| r.err()).map(|e| view! { <ServerError error=e/> })}
        </section>
    }
}

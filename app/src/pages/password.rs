//! Changing one's own password.

use crate::api::accounts::ChangePassword;
use crate::components::server_error::ServerError;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn PasswordPage() -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    view! {
        <Title text="Change password — Berth"/>
        <h1>"Change password"</h1>
        <section class="card narrow">
            <ActionForm action=change>
                <div class="field">
                    <label for="current">"Current password"</label>
                    <input id="current" name="current" type="password" required autocomplete="current-password"/>
                </div>
                <div class="field">
                    <label for="new">"New password (at least 8 characters)"</label>
                    <input id="new" name="new" type="password" required minlength="8" autocomplete="new-password"/>
                </div>
                <button class="primary" type="submit">"Change password"</button>
            </ActionForm>
            {move || change.value().get().map(|r| match r {
                Ok(()) => view! { <p class="success" role="status">"Your password is changed."</p> }.into_any(),
                Err(e) => view! { <ServerError error=e/> }.into_any(),
            })}
        </section>
    }
}

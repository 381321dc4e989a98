//! Personal access tokens: create one (its secret is shown once), see them, revoke.

use crate::api::credentials::{CreateToken, RevokeToken, list_tokens};
use crate::components::copy_button::CopyButton;
use crate::components::server_error::ServerError;
use crate::pages::repositories::format_time;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn TokensPage() -> impl IntoView {
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let tokens = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| list_tokens(),
    );
    view! {
        <Title text="Access tokens — Berth"/>
        <div class="page-head"><h1>"Access tokens"</h1></div>
        <section class="card" aria-labelledby="new-token">
            <h2 id="new-token">"New token"</h2>
            <p class="muted">"Use a token instead of your password for docker login, CI and scripts. The 24-hour credentials of an account's Docker Login button are listed here too."</p>
            <ActionForm action=create attr:class="token-form">
                <div class="field">
                    <label for="label">"Name"</label>
                    <input id="label" name="label" required maxlength="64" placeholder="laptop, ci, …"/>
                </div>
                <div class="field">
                    <label for="access">"Access"</label>
                    <select id="access" name="access">
                        <option value="pull">"Pull"</option>
                        <option value="push" selected>"Pull and push"</option>
                        <option value="delete">"Pull, push and delete"</option>
                    </select>
                </div>
                <div class="field">
                    <label for="expires">"Expires"</label>
                    <select id="expires" name="expires_days">
                        <option value="7">"In 7 days"</option>
                        <option value="30" selected>"In 30 days"</option>
                        <option value="90">"In 90 days"</option>
                        <option value="0">"Never"</option>
                    </select>
                </div>
                <button class="primary" type="submit">"Create token"</button>
            </ActionForm>
            {move || create.value().get().map(|r| match r {
                Ok(t) => view! {
                    <div class="secret" role="status">
                        <p>"Copy the token now: it is not shown again."</p>
                        <div class="command">
                            <pre><code data-testid="new-secret">{t.secret.clone()}</code></pre>
                            <CopyButton text=t.secret.clone() label="Copy the new token"/>
                        </div>
                    </div>
                }.into_any(),
                Err(e) => view! { <ServerError error=e/> }.into_any(),
            })}
        </section>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match tokens.await {
                    Err(e) => view! { <ServerError error=e/> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <p class="empty">"No tokens yet."</p> }.into_any(),
                    Ok(list) => view! {
                        <table class="table tokens">
                            <thead><tr>
                                <th scope="col">"Name"</th>
                                <th scope="col">"Access"</th>
                                <th scope="col">"Created"</th>
                                <th scope="col">"Expires"</th>
                                <th scope="col">"Last used"</th>
                                <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                            </tr></thead>
                            <tbody>
                                {list.into_iter().map(|t| {
                                    let name = match (t.kind.as_str(), &t.account) {
                                        ("login", Some(a)) => format!("Docker Login ({a})"),
                                        ("login", None) => "Docker Login".to_owned(),
                                        _ => t.name.clone(),
                                    };
                                    view! {
                                    <tr>
                                        <td class="name">{name.clone()}</td>
                                        <td>{t.access.clone()}</td>
                                        <td>{format_time(t.created_at_ms)}</td>
                                        <td>{t.expires_at_ms.map(format_time).unwrap_or_else(|| "never".into())}</td>
                                        <td>{t.last_used_at_ms.map(format_time).unwrap_or_else(|| "never".into())}</td>
                                        <td>{if t.revoked {
                                            view! { <span class="muted">"revoked"</span> }.into_any()
                                        } else {
                                            view! {
                                                <ActionForm action=revoke attr:class="inline">
                                                    <input type="hidden" name="id" value=t.id/>
                                                    <button type="submit" class="danger-outline"
                                                        aria-label=format!("Revoke token {name}")>"Revoke"</button>
                                                </ActionForm>
                                            }.into_any()
                                        }}</td>
                                    </tr>
                                }}).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

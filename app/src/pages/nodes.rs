//! Nodes of an account: machines (appliances, CI runners) that pull every repository
//! of the account and nothing more. Admins create (secret shown once) and revoke.

use crate::api::credentials::{CreateNode, RevokeNode, list_nodes};
use crate::components::copy_button::CopyButton;
use crate::components::server_error::ServerError;
use crate::components::title::param_title;
use crate::pages::repositories::format_time;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn NodesPage() -> impl IntoView {
    let params = use_params_map();
    let account = move || params.read().get("account").unwrap_or_default();
    let create = ServerAction::<CreateNode>::new();
    let revoke = ServerAction::<RevokeNode>::new();
    let nodes = Resource::new(
        move || (account(), create.version().get(), revoke.version().get()),
        |(a, _, _)| list_nodes(a),
    );
    view! {
        <Title text=param_title("account", |v| format!("{v} — Nodes — Berth"))/>
        <div class="page-head">
            <div>
                <h1>"Nodes"</h1>
                <p class="muted">"Machines that pull every repository of " <code>{account}</code> ", and nothing more."</p>
            </div>
        </div>
        <section class="card" aria-labelledby="new-node">
            <h2 id="new-node">"New node"</h2>
            <ActionForm action=create attr:class="token-form">
                <input type="hidden" name="account" value=account/>
                <div class="field">
                    <label for="node-name">"Name"</label>
                    <input id="node-name" name="name" required maxlength="64" placeholder="edge-1"/>
                </div>
                <button class="primary" type="submit">"Create node"</button>
            </ActionForm>
            {move || create.value().get().map(|r| match r {
                Ok(n) => {
                    let command = format!("echo {} | docker login <host> -u {} --password-stdin", n.secret, n.username);
                    view! {
                        <div class="secret" role="status">
                            <p>"Copy the node's secret now: it is not shown again. It logs in as " <code>{n.username.clone()}</code> "."</p>
                            <div class="command">
                                <pre><code data-testid="new-node-secret">{n.secret.clone()}</code></pre>
                                <CopyButton text=n.secret.clone() label="Copy the node's secret"/>
                            </div>
                            <div class="command">
                                <pre><code>{command.clone()}</code></pre>
                                <CopyButton text=command label="Copy the node's docker login command"/>
                            </div>
                        </div>
                    }.into_any()
                }
                Err(e) => view! { <ServerError error=e/> }.into_any(),
            })}
        </section>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match nodes.await {
                    Err(e) => view! { <ServerError error=e/> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <p class="empty">"No nodes yet."</p> }.into_any(),
                    Ok(list) => view! {
                        <table class="table nodes">
                            <thead><tr>
                                <th scope="col">"Name"</th>
                                <th scope="col">"Logs in as"</th>
                                <th scope="col">"Created"</th>
                                <th scope="col">"Last used"</th>
                                <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                            </tr></thead>
                            <tbody>
                                {list.into_iter().map(|n| view! {
                                    <tr>
                                        <td class="name">{n.name.clone()}</td>
                                        <td><code>{n.username.clone()}</code></td>
                                        <td>{format_time(n.created_at_ms)}</td>
                                        <td>{n.last_used_at_ms.map(format_time).unwrap_or_else(|| "never".into())}</td>
                                        <td>{if n.revoked {
                                            view! { <span class="muted">"revoked"</span> }.into_any()
                                        } else {
                                            view! {
                                                <ActionForm action=revoke attr:class="inline">
                                                    <input type="hidden" name="account" value=account()/>
                                                    <input type="hidden" name="id" value=n.id/>
                                                    <button type="submit" class="danger-outline"
                                                        aria-label=format!("Revoke node {}", n.name)>"Revoke"</button>
                                                </ActionForm>
                                            }.into_any()
                                        }}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

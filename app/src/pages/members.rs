//! Members of an account, for its admins: add people (creating a user when needed),
//! set roles read / write / admin, remove.

use crate::api::accounts::{AddMember, RemoveMember, list_members};
use crate::components::server_error::ServerError;
use crate::components::title::param_title;
use crate::pages::repositories::format_time;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

/// Roles and what each may do, for the role picker.
const ROLES: [(&str, &str); 3] = [
    ("read", "Read — pull"),
    ("write", "Write — pull, push, delete tags"),
    ("admin", "Admin — also people, nodes, repositories"),
];

#[component]
pub fn MembersPage() -> impl IntoView {
    let params = use_params_map();
    let account = move || params.read().get("account").unwrap_or_default();
    let add = ServerAction::<AddMember>::new();
    let remove = ServerAction::<RemoveMember>::new();
    let members = Resource::new(
        move || (account(), add.version().get(), remove.version().get()),
        |(a, _, _)| list_members(a),
    );
    view! {
        <Title text=param_title("account", |v| format!("{v} — Members — Berth"))/>
        <div class="page-head">
            <div>
                <h1>"Members"</h1>
                <p class="muted">"People of " <a href=move || format!("/a/{}", account())><code>{account}</code></a> " and what they may do."</p>
            </div>
        </div>
        <section class="card" aria-labelledby="add-member">
            <h2 id="add-member">"Add a member or change a role"</h2>
            <ActionForm action=add attr:class="token-form">
                <input type="hidden" name="account" value=account/>
                <div class="field">
                    <label for="member-username">"Username"</label>
                    <input id="member-username" name="username" required maxlength="64" autocomplete="off"/>
                </div>
                <div class="field">
                    <label for="member-role">"Role"</label>
                    <select id="member-role" name="role">
                        {ROLES.iter().map(|(v, l)| view! { <option value=*v>{*l}</option> }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="member-password">"First password (only for a new user)"</label>
                    <input id="member-password" name="password" type="password" autocomplete="new-password" minlength="8"/>
                </div>
                <button class="primary" type="submit">"Save member"</button>
            </ActionForm>
            {move || add.value().get().map(|r| match r {
                Ok(()) => view! { <p class="success" role="status">"Saved."</p> }.into_any(),
                Err(e) => view! { <ServerError error=e/> }.into_any(),
            })}
            {move || remove.value().get().and_then(|r| r.err()).map(|e| view! { <ServerError error=e/> })}
        </section>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match members.await {
                    Err(e) => view! { <ServerError error=e/> }.into_any(),
                    Ok(list) => view! {
                        <table class="table members">
                            <thead><tr>
                                <th scope="col">"User"</th>
                                <th scope="col">"Role"</th>
                                <th scope="col">"Member since"</th>
                                <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                            </tr></thead>
                            <tbody>
                                {list.into_iter().map(|m| view! {
                                    <tr>
                                        <td class="name">{m.username.clone()}</td>
                                        <td>{m.role.clone()}
                                            {m.sso_group.clone().map(|g| view! {
                                                <span class="muted">{format!(
                                                    " — from SSO group {g}{}",
                                                    m.synced_at_ms.map(|t| format!(", synced at {}", format_time(t))).unwrap_or_default()
                                                )}</span>
                                            })}
                                            {m.disabled.then(|| view! { <span class="muted">" — disabled"</span> })}
                                        </td>
                                        <td>{format_time(m.since_ms)}</td>
                                        <td>
                                            <ActionForm action=remove attr:class="inline">
                                                <input type="hidden" name="account" value=account()/>
                                                <input type="hidden" name="username" value=m.username.clone()/>
                                                <button type="submit" class="danger-outline"
                                                    aria-label=format!("Remove {}", m.username)>"Remove"</button>
                                            </ActionForm>
                                        </td>
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

//! An account's immutable tags: the rules (a tag glob, in one repository or in all)
//! whose tags can be neither overwritten nor deleted. Account admins add rules; only
//! site admins remove them.

use crate::api::immutability::{AddImmutability, RemoveImmutability, list_immutability};
use crate::components::server_error::ServerError;
use crate::components::title::param_title;
use crate::pages::repositories::format_time;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn ImmutabilityPage() -> impl IntoView {
    let params = use_params_map();
    let account = move || params.read().get("account").unwrap_or_default();
    let add = ServerAction::<AddImmutability>::new();
    let remove = ServerAction::<RemoveImmutability>::new();
    let rules = Resource::new(
        move || (account(), add.version().get(), remove.version().get()),
        |(a, _, _)| list_immutability(a),
    );
    view! {
        <Title text=param_title("account", |v| format!("{v} — Immutable tags — Berth"))/>
        <div class="page-head">
            <div>
                <h1>"Immutable tags"</h1>
                <p class="muted">"Tags of " <a href=move || format!("/a/{}", account())><code>{account}</code></a>
                    " matching a rule can be neither overwritten nor deleted. Only a site admin can remove a rule."</p>
            </div>
        </div>
        <section class="card" aria-labelledby="add-rule">
            <h2 id="add-rule">"Add a rule"</h2>
            <ActionForm action=add attr:class="token-form">
                <input type="hidden" name="account" value=account/>
                <div class="field">
                    <label for="rule-pattern">"Tag pattern (* and ? match)"</label>
                    <input id="rule-pattern" name="pattern" required maxlength="128" placeholder="v*" autocomplete="off"/>
                </div>
                <div class="field">
                    <label for="rule-repository">"Repository within the account (empty for all)"</label>
                    <input id="rule-repository" name="repository" maxlength="255" placeholder="app" autocomplete="off"/>
                </div>
                <button class="primary" type="submit">"Add rule"</button>
            </ActionForm>
            {move || add.value().get().map(|r| match r {
                Ok(()) => view! { <p class="success" role="status">"Added."</p> }.into_any(),
                Err(e) => view! { <ServerError error=e/> }.into_any(),
            })}
            {move || remove.value().get().and_then(|r| r.err()).map(|e| view! { <ServerError error=e/> })}
        </section>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match rules.await {
                    Err(e) => view! { <ServerError error=e/> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <p class="empty">"No rule yet: every tag can be overwritten and deleted."</p>
                    }.into_any(),
                    Ok(list) => view! {
                        <table class="table rules">
                            <thead><tr>
                                <th scope="col">"Pattern"</th>
                                <th scope="col">"Repository"</th>
                                <th scope="col">"Added"</th>
                                <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                            </tr></thead>
                            <tbody>
                                {list.into_iter().map(|r| {
                                    let scope = r.repository.clone().unwrap_or_else(|| "every repository".into());
                                    view! {
                                        <tr>
                                            <td class="name"><code>{r.pattern.clone()}</code></td>
                                            <td>{scope.clone()}</td>
                                            <td>{format_time(r.created_at_ms)}</td>
                                            <td>
                                                {r.removable.then(|| view! {
                                                    <ActionForm action=remove attr:class="inline">
                                                        <input type="hidden" name="account" value=account()/>
                                                        <input type="hidden" name="pattern" value=r.pattern.clone()/>
                                                        <input type="hidden" name="repository" value=r.repository.clone().unwrap_or_default()/>
                                                        <button type="submit" class="danger-outline"
                                                            aria-label=format!("Remove rule {} in {scope}", r.pattern)>"Remove"</button>
                                                    </ActionForm>
                                                })}
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

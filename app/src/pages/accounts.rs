//! Every account of the site, for site admins: create one, see its repositories,
//! members and storage, open it.

use crate::api::accounts::{CollectGarbage, CreateAccount, SetQuota, list_accounts};
use crate::components::server_error::ServerError;
use crate::model::human_size;
use crate::pages::repositories::format_time;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AccountsPage() -> impl IntoView {
    let create = ServerAction::<CreateAccount>::new();
    let gc = ServerAction::<CollectGarbage>::new();
    let quota = ServerAction::<SetQuota>::new();
    let accounts = Resource::new(
        move || {
            (
                create.version().get(),
                gc.version().get(),
                quota.version().get(),
            )
        },
        |_| list_accounts(),
    );
    view! {
        <Title text="Accounts — Berth"/>
        <div class="page-head">
            <div>
                <h1>"Accounts"</h1>
                <p class="muted">"Each account is a namespace of its own: " <code>"host/account/repository"</code></p>
            </div>
        </div>
        <section class="card" aria-labelledby="new-account">
            <h2 id="new-account">"New account"</h2>
            <ActionForm action=create attr:class="token-form">
                <div class="field">
                    <label for="account-name">"Name"</label>
                    <input id="account-name" name="name" required maxlength="64" placeholder="acme" autocomplete="off"/>
                </div>
                <button class="primary" type="submit">"Create account"</button>
            </ActionForm>
            {move || create.value().get().map(|r| match r {
                Ok(()) => view! { <p class="success" role="status">"Account created. Add its first admin on its Members page."</p> }.into_any(),
                Err(e) => view! { <ServerError error=e/> }.into_any(),
            })}
        </section>
        <section class="card" aria-labelledby="gc-heading">
            <h2 id="gc-heading">"Storage"</h2>
            <p class="muted">"Garbage collection runs on its own every hour; it frees what nothing references any more, while pushes and pulls go on."</p>
            <ActionForm action=gc>
                <button type="submit">"Collect garbage now"</button>
            </ActionForm>
            {move || quota.value().get().and_then(|r| r.err()).map(|e| view! { <ServerError error=e/> })}
            {move || gc.value().get().map(|r| match r {
                Ok(words) => view! { <p class="success" role="status" data-testid="gc-report">{words}</p> }.into_any(),
                Err(e) => view! { <ServerError error=e/> }.into_any(),
            })}
        </section>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match accounts.await {
                    Err(e) => view! { <ServerError error=e/> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <p class="empty">"No accounts yet."</p> }.into_any(),
                    Ok(list) => view! {
                        <table class="table account-list">
                            <thead><tr>
                                <th scope="col">"Account"</th>
                                <th scope="col">"Repositories"</th>
                                <th scope="col">"Members"</th>
                                <th scope="col">"Storage"</th>
                                <th scope="col">"Quota"</th>
                                <th scope="col">"Created"</th>
                                <th scope="col"><span class="visually-hidden">"Manage"</span></th>
                            </tr></thead>
                            <tbody>
                                {list.into_iter().map(|a| {
                                    let quota_value = a.quota.map(human_size).unwrap_or_else(|| "none".into());
                                    let (hidden, label, button) = (
                                        a.name.clone(),
                                        format!("Quota of {}", a.name),
                                        format!("Set the quota of {}", a.name),
                                    );
                                    view! {
                                    <tr>
                                        <td class="name"><a href=format!("/a/{}", a.name.clone())>{a.name.clone()}</a></td>
                                        <td>{a.repositories}</td>
                                        <td>{a.members}</td>
                                        <td>{human_size(a.storage)}</td>
                                        <td>
                                            <ActionForm action=quota attr:class="inline quota-form">
                                                <input type="hidden" name="account" value=hidden/>
                                                <input name="quota" size="8" value=quota_value aria-label=label/>
                                                <button type="submit" aria-label=button>"Set"</button>
                                            </ActionForm>
                                        </td>
                                        <td>{format_time(a.created_at_ms)}</td>
                                        <td><a href=format!("/a/{}/members", a.name.clone()) aria-label=format!("Members of {}", a.name.clone())>"Members"</a></td>
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

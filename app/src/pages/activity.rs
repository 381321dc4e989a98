//! The audit log of an account: pushes, deletes, logins and credential changes,
//! newest first, filterable by kind and repository.

use crate::api::activity::list_activity;
use crate::components::server_error::ServerError;
use crate::components::title::param_title;
use crate::model::query_escape;
use crate::pages::repositories::format_time;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn ActivityPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let account = move || params.read().get("account").unwrap_or_default();
    let kind = move || query.read().get("kind").unwrap_or_default();
    let repository = move || query.read().get("repository").unwrap_or_default();
    let page = move || {
        query
            .read()
            .get("page")
            .and_then(|p| p.parse::<u64>().ok())
            .unwrap_or(1)
    };
    let log = Resource::new(
        move || (account(), kind(), repository(), page()),
        |(a, k, r, p)| list_activity(a, k, r, p),
    );
    // A link to another page of the same filtered log.
    let page_link = move |p: u64| {
        format!(
            "?kind={}&repository={}&page={p}",
            query_escape(&kind()),
            query_escape(&repository())
        )
    };
    let kinds = [
        ("", "All"),
        ("push", "Pushes"),
        ("delete", "Deletions"),
        ("login", "Logins"),
        ("credentials", "Credentials"),
    ];
    view! {
        <Title text=param_title("account", |v| format!("{v} — Activity — Berth"))/>
        <div class="page-head"><h1>"Activity"</h1></div>
        <form method="get" class="filter" role="search">
            <label for="kind">"Kind"</label>
            <select id="kind" name="kind">
                {kinds.into_iter().map(|(value, label)| view! {
                    <option value=value selected=move || kind() == value>{label}</option>
                }).collect_view()}
            </select>
            <label for="repository">"Repository"</label>
            <input id="repository" name="repository" type="search" placeholder="acme/app" value=repository/>
            <button type="submit">"Filter"</button>
        </form>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match log.await {
                    Err(e) => view! { <ServerError error=e/> }.into_any(),
                    Ok(l) if l.rows.is_empty() => view! { <p class="empty">"Nothing happened yet."</p> }.into_any(),
                    Ok(l) => {
                        let pages = l.total.div_ceil(l.per_page).max(1);
                        view! {
                            <table class="table activity" tabindex="0" aria-label="Activity log">
                                <thead><tr>
                                    <th scope="col">"When"</th>
                                    <th scope="col">"Who"</th>
                                    <th scope="col">"What"</th>
                                    <th scope="col">"Repository"</th>
                                    <th scope="col">"Details"</th>
                                    <th scope="col">"From"</th>
                                </tr></thead>
                                <tbody>
                                    {l.rows.into_iter().map(|e| view! {
                                        <tr>
                                            <td>{format_time(e.at_ms)}</td>
                                            <td>{e.actor}</td>
                                            <td class="action">{e.action}</td>
                                            <td>{e.repository.unwrap_or_default()}</td>
                                            <td><code>{e.detail.unwrap_or_default()}</code></td>
                                            <td class="client">{e.client.unwrap_or_else(|| "command line".to_owned())}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                            <nav class="pager" aria-label="Pages">
                                <span class="muted">{format!("{} — page {} of {}", crate::model::count(l.total, "event"), l.page, pages)}</span>
                                {(l.page > 1).then(|| view! { <a rel="prev" href=page_link(l.page - 1)>"Newer"</a> })}
                                {(l.page < pages).then(|| view! { <a rel="next" href=page_link(l.page + 1)>"Older"</a> })}
                            </nav>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

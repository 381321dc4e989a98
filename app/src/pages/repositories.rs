//! The repositories of an account: name, tags, size, last push and pull URI; filter,
//! sort, page, and delete the checked ones.

use crate::api::credentials::DockerLogin;
use crate::api::repositories::{DeleteRepositories, list_repositories};
use crate::api::session::error_text;
use crate::components::confirm_dialog::ConfirmDialog;
use crate::components::copy_button::CopyButton;
use crate::components::live::use_account_changes;
use crate::components::server_error::ServerError;
use crate::components::title::param_title;
use crate::model::{count as count_of, human_size, query_escape, time_ago};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use std::collections::BTreeSet;

/// Page sizes people can pick; the first is the default.
const PAGE_SIZES: [u64; 3] = [25, 50, 100];

/// Sort orders: query value and label.
const ORDERS: [(&str, &str); 3] = [
    ("name", "Name"),
    ("pushed", "Last pushed"),
    ("size", "Size"),
];

#[component]
pub fn RepositoriesPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let account = Signal::derive(move || params.read().get("account").unwrap_or_default());
    let filter = move || query.read().get("q").unwrap_or_default();
    let order = move || {
        let o = query.read().get("sort").unwrap_or_default();
        if ORDERS.iter().any(|(v, _)| *v == o) {
            o
        } else {
            "name".to_owned()
        }
    };
    let per_page = move || {
        query
            .read()
            .get("per")
            .and_then(|p| p.parse::<u64>().ok())
            .filter(|p| PAGE_SIZES.contains(p))
            .unwrap_or(PAGE_SIZES[0])
    };
    let page = move || {
        query
            .read()
            .get("page")
            .and_then(|p| p.parse::<u64>().ok())
            .unwrap_or(1)
    };
    let changes = use_account_changes(account, |_| true);
    let delete = ServerAction::<DeleteRepositories>::new();
    let list = Resource::new(
        move || {
            (
                account.get(),
                filter(),
                order(),
                page(),
                per_page(),
                changes.get(),
                delete.version().get(),
            )
        },
        |(account, filter, order, page, per_page, _, _)| {
            list_repositories(account, filter, order, page, per_page)
        },
    );
    let login = ServerAction::<DockerLogin>::new();
    // The checked rows, by repository name; kept across live refreshes.
    let checked = RwSignal::new(BTreeSet::<String>::new());
    let confirming = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(Ok(())) = delete.value().get() {
            confirming.set(false);
            checked.set(BTreeSet::new());
        }
    });
    let delete_error = Signal::derive(move || {
        delete
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| error_text(&e))
    });
    // A link to another page of the same list.
    let page_link = move |p: u64| {
        format!(
            "?q={}&sort={}&per={}&page={p}",
            query_escape(&filter()),
            order(),
            per_page()
        )
    };
    view! {
        <Title text=param_title("account", |v| format!("{v} — Repositories — Berth"))/>
        <div class="page-head">
            <div>
                <h1>"Repositories"</h1>
                <p class="muted">"Namespace " <code>{account}</code></p>
            </div>
            <div class="head-actions">
            <a class="button" href=move || format!("/a/{}/activity", account.get())>"Activity"</a>
            <a class="button" href=move || format!("/a/{}/members", account.get())>"Members"</a>
            <a class="button" href=move || format!("/a/{}/nodes", account.get())>"Nodes"</a>
            <a class="button" href=move || format!("/a/{}/trash", account.get())>"Trash"</a>
            <a class="button" href=move || format!("/a/{}/immutability", account.get())>"Immutable tags"</a>
            <a class="button" href=move || format!("/a/{}/retention", account.get())>"Retention"</a>
            <a class="button" href=move || format!("/a/{}/webhooks", account.get())>"Webhooks"</a>
            <ActionForm action=login>
                <input type="hidden" name="account" value=account/>
                <button class="primary" type="submit">"Docker Login"</button>
            </ActionForm>
            </div>
        </div>
        {move || login.value().get().map(|r| match r {
            Ok(c) => view! {
                <section class="card login-command" aria-labelledby="login-heading">
                    <h2 id="login-heading">"Log in with docker"</h2>
                    <div class="command">
                        <pre><code data-testid="login-command">{c.command.clone()}</code></pre>
                        <CopyButton text=c.command.clone() label="Copy docker login command"/>
                    </div>
                    <p class="muted">"This credential works until " {format_time(c.expires_at_ms)} "."</p>
                    <h2>"Then push"</h2>
                    <div class="command">
                        <pre><code>{c.push_example.clone()}</code></pre>
                        <CopyButton text=c.push_example.clone() label="Copy push commands"/>
                    </div>
                </section>
            }.into_any(),
            Err(e) => view! { <ServerError error=e/> }.into_any(),
        })}
        <div class="toolbar">
            <form method="get" class="filter" role="search">
                <label for="q" class="visually-hidden">"Filter by name"</label>
                <input id="q" name="q" type="search" placeholder="Filter by name" value=filter/>
                <label for="sort">"Sort"</label>
                <select id="sort" name="sort">
                    {ORDERS.iter().map(|(value, label)| view! {
                        <option value=*value selected=move || order() == *value>{*label}</option>
                    }).collect_view()}
                </select>
                <label for="per">"Per page"</label>
                <select id="per" name="per">
                    {PAGE_SIZES.iter().map(|n| view! {
                        <option value=n.to_string() selected=move || per_page() == *n>{n.to_string()}</option>
                    }).collect_view()}
                </select>
                <button type="submit">"Apply"</button>
            </form>
            <details class="menu">
                <summary class="button">"Actions"</summary>
                <div class="menu-items">
                    <button type="button" class="danger-outline"
                        disabled=move || checked.with(|c| c.is_empty())
                        on:click=move |_| confirming.set(true)>
                        {move || format!("Delete {} selected", checked.with(|c| c.len()))}
                    </button>
                </div>
            </details>
        </div>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Err(e) => view! { <ServerError error=e/> }.into_any(),
                    Ok(l) if l.rows.is_empty() && filter().is_empty() => view! {
                        <EmptyRepositories account=account.get_untracked()/>
                    }.into_any(),
                    Ok(l) if l.rows.is_empty() => view! {
                        <p class="empty">"No repository matches that filter."</p>
                    }.into_any(),
                    Ok(l) => {
                        let pages = l.total.div_ceil(l.per_page).max(1);
                        let now = l.now_ms;
                        view! {
                            <table class="table repositories">
                                <thead><tr>
                                    <th scope="col"><span class="visually-hidden">"Select"</span></th>
                                    <th scope="col">"Name"</th>
                                    <th scope="col">"Tags"</th>
                                    <th scope="col">"Size"</th>
                                    <th scope="col">"Last pushed"</th>
                                    <th scope="col">"Pull"</th>
                                </tr></thead>
                                <tbody>
                                    {l.rows.into_iter().map(|r| {
                                        let pull = format!("docker pull {}", r.pull_uri);
                                        let name = StoredValue::new(r.name.clone());
                                        view! {
                                            <tr>
                                                <td><input type="checkbox"
                                                    aria-label=format!("Select {}", r.name)
                                                    prop:checked=move || checked.with(|c| name.with_value(|n| c.contains(n)))
                                                    on:change=move |ev| {
                                                        let on = event_target_checked(&ev);
                                                        checked.update(|c| {
                                                            let n = name.get_value();
                                                            if on { c.insert(n); } else { c.remove(&n); }
                                                        });
                                                    }/></td>
                                                <td class="name"><a href=format!("/r/{}", r.name)>{r.name.clone()}</a></td>
                                                <td class="fact" data-label="Tags">{r.tags}</td>
                                                <td class="fact" data-label="Size">{human_size(r.size)}</td>
                                                <td class="fact" data-label="Pushed"><time datetime=format_time(r.pushed_at_ms) title=format_time(r.pushed_at_ms)>
                                                    {time_ago(r.pushed_at_ms, now)}</time></td>
                                                <td class="pull"><div class="pull-cell"><code>{r.pull_uri.clone()}</code>
                                                    <CopyButton text=pull label=format!("Copy pull command for {}", r.name)/></div></td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                            <nav class="pager" aria-label="Pages">
                                <span class="muted">{format!("{} — page {} of {}", count_of(l.total, "repository"), l.page, pages)}</span>
                                {(l.page > 1).then(|| view! { <a rel="prev" href=page_link(l.page - 1)>"Previous"</a> })}
                                {(l.page < pages).then(|| view! { <a rel="next" href=page_link(l.page + 1)>"Next"</a> })}
                            </nav>
                        }.into_any()
                    }
                }
            })}
        </Transition>
        {move || confirming.get().then(|| {
            let names: Vec<String> = checked.get_untracked().into_iter().collect();
            let count = names.len();
            let bytes: u64 = list
                .get_untracked()
                .and_then(|l| l.ok())
                .map(|l| l.rows.iter().filter(|r| names.contains(&r.name)).map(|r| r.size).sum())
                .unwrap_or(0);
            let tags: u64 = list
                .get_untracked()
                .and_then(|l| l.ok())
                .map(|l| l.rows.iter().filter(|r| names.contains(&r.name)).map(|r| r.tags).sum())
                .unwrap_or(0);
            // One repository is confirmed by its full name, as on its own page; two or
            // more by how many (the server asks the same).
            let (title, ask, expected, field_label) = match names.as_slice() {
                [one] => (
                    format!("Delete repository {one}?"),
                    format!("Type the repository's name, {one}, to confirm."),
                    one.clone(),
                    "Repository name".to_owned(),
                ),
                _ => (
                    format!("Delete {}?", count_of(count as u64, "repository")),
                    format!("Type the number of repositories, {count}, to confirm."),
                    count.to_string(),
                    "Number of repositories".to_owned(),
                ),
            };
            let what = match names.as_slice() {
                [one] => format!("This deletes {one} with its {}", count_of(tags, "tag")),
                _ => format!("This deletes {} with their {}", names.join(", "), count_of(tags, "tag")),
            };
            view! {
                <ConfirmDialog
                    title=title
                    description=format!(
                        "{what}, which can free up to {}. Pulls of {} stop at once. {ask}",
                        human_size(bytes),
                        if count == 1 { "it" } else { "them" }
                    )
                    expected=expected
                    field_label=field_label
                    confirm_label=if count == 1 { "Delete repository" } else { "Delete repositories" }
                    on_confirm=Callback::new(move |typed: String| {
                        delete.dispatch(DeleteRepositories { repositories: names.clone(), confirm: typed });
                    })
                    on_close=Callback::new(move |_| confirming.set(false))
                    error=delete_error
                />
            }
        })}
    }
}

/// What an account with no repository shows: the commands that push its first one.
#[component]
fn EmptyRepositories(account: String) -> impl IntoView {
    let host = use_host();
    let commands = format!(
        "docker tag alpine:latest {host}/{account}/alpine:latest\ndocker push {host}/{account}/alpine:latest"
    );
    view! {
        <section class="card empty">
            <h2>"No repositories yet"</h2>
            <p>"Push an image into this namespace with docker (log in first with the Docker Login button):"</p>
            <div class="command">
                <pre><code data-testid="first-push">{commands.clone()}</code></pre>
                <CopyButton text=commands label="Copy push commands"/>
            </div>
        </section>
    }
}

/// The host the browser reached us at, as docker should address it.
fn use_host() -> String {
    #[cfg(feature = "ssr")]
    {
        crate::api::session::request_host()
    }
    #[cfg(not(feature = "ssr"))]
    {
        window().location().host().unwrap_or_default()
    }
}

/// `2026-11-25 21:04 UTC` from Unix milliseconds.
pub fn format_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
}

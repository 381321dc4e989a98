//! The repositories of an account: name, tags, size, last push and pull URI.

use crate::api::credentials::DockerLogin;
use crate::api::repositories::list_repositories;
use crate::components::copy_button::CopyButton;
use crate::components::server_error::ServerError;
use crate::model::human_size;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

const PER_PAGE: u64 = 25;

#[component]
pub fn RepositoriesPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let account = move || params.read().get("account").unwrap_or_default();
    let filter = move || query.read().get("q").unwrap_or_default();
    let page = move || {
        query
            .read()
            .get("page")
            .and_then(|p| p.parse::<u64>().ok())
            .unwrap_or(1)
    };
    let list = Resource::new(
        move || (account(), filter(), page()),
        |(account, filter, page)| list_repositories(account, filter, page, PER_PAGE),
    );
    let login = ServerAction::<DockerLogin>::new();
    view! {
        <Title text=move || format!("{} — Repositories — Berth", account())/>
        <div class="page-head">
            <div>
                <h1>"Repositories"</h1>
                <p class="muted">"Namespace " <code>{account}</code></p>
            </div>
            <div class="head-actions">
            <a class="button" href=move || format!("/a/{}/activity", account())>"Activity"</a>
            <a class="button" href=move || format!("/a/{}/nodes", account())>"Nodes"</a>
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
        <form method="get" class="filter" role="search">
            <label for="q" class="visually-hidden">"Filter by name"</label>
            <input id="q" name="q" type="search" placeholder="Filter by name" value=filter/>
            <button type="submit">"Filter"</button>
        </form>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Err(e) => view! { <ServerError error=e/> }.into_any(),
                    Ok(l) if l.rows.is_empty() => view! {
                        <p class="empty">"No repositories yet. Push one with docker:"</p>
                    }.into_any(),
                    Ok(l) => {
                        let pages = l.total.div_ceil(l.per_page).max(1);
                        view! {
                            <table class="table">
                                <thead><tr>
                                    <th scope="col">"Name"</th>
                                    <th scope="col">"Tags"</th>
                                    <th scope="col">"Size"</th>
                                    <th scope="col">"Last pushed"</th>
                                    <th scope="col">"Pull"</th>
                                </tr></thead>
                                <tbody>
                                    {l.rows.into_iter().map(|r| {
                                        let pull = format!("docker pull {}", r.pull_uri);
                                        view! {
                                            <tr>
                                                <td class="name"><a href=format!("/r/{}", r.name)>{r.name.clone()}</a></td>
                                                <td>{r.tags}</td>
                                                <td>{human_size(r.size)}</td>
                                                <td><time datetime=format_time(r.pushed_at_ms)>{format_time(r.pushed_at_ms)}</time></td>
                                                <td class="pull"><div class="pull-cell"><code>{r.pull_uri.clone()}</code>
                                                    <CopyButton text=pull label=format!("Copy pull command for {}", r.name)/></div></td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                            <nav class="pager" aria-label="Pages">
                                <span class="muted">{format!("{} repositories — page {} of {}", l.total, l.page, pages)}</span>
                                {(l.page > 1).then(|| view! {
                                    <a rel="prev" href=format!("?page={}&q={}", l.page - 1, query_escape(&filter()))>"Previous"</a>
                                })}
                                {(l.page < pages).then(|| view! {
                                    <a rel="next" href=format!("?page={}&q={}", l.page + 1, query_escape(&filter()))>"Next"</a>
                                })}
                            </nav>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// Percent-encodes a query value.
fn query_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
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

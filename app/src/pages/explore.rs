//! Every public repository, for anyone, signed in or not: name, tags, size, last
//! push and pull command; filter by name and page. Reads with JavaScript off.

use crate::api::repositories::explore_repositories;
use crate::components::copy_button::CopyButton;
use crate::components::server_error::ServerError;
use crate::model::{count as count_of, human_size, query_escape, time_ago};
use crate::pages::repositories::format_time;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// Repositories per page.
const PER_PAGE: u64 = 50;

#[component]
pub fn ExplorePage() -> impl IntoView {
    let query = use_query_map();
    let filter = move || query.read().get("q").unwrap_or_default();
    let page = move || {
        query
            .read()
            .get("page")
            .and_then(|p| p.parse::<u64>().ok())
            .unwrap_or(1)
    };
    let list = Resource::new(
        move || (filter(), page()),
        |(filter, page)| explore_repositories(filter, page, PER_PAGE),
    );
    let page_link = move |p: u64| format!("?q={}&page={p}", query_escape(&filter()));
    view! {
        <Title text="Explore public repositories — Berth"/>
        <div class="page-head">
            <div>
                <h1>"Public repositories"</h1>
                <p class="muted">"Anyone can pull these, without signing in."</p>
            </div>
        </div>
        <div class="toolbar">
            <form method="get" class="filter" role="search">
                <label for="q" class="visually-hidden">"Filter by name"</label>
                <input id="q" name="q" type="search" placeholder="Filter by name" value=filter/>
                <button type="submit">"Apply"</button>
            </form>
        </div>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Err(e) => view! { <ServerError error=e/> }.into_any(),
                    Ok(l) if l.rows.is_empty() && filter().is_empty() => view! {
                        <p class="empty">"No repository is public yet."</p>
                    }.into_any(),
                    Ok(l) if l.rows.is_empty() => view! {
                        <p class="empty">"No public repository matches that filter."</p>
                    }.into_any(),
                    Ok(l) => {
                        let pages = l.total.div_ceil(l.per_page).max(1);
                        let now = l.now_ms;
                        view! {
                            <table class="table repositories explore">
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
    }
}

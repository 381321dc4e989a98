//! One repository: its pull command, its tags, untagged manifests and referrers;
//! delete a tag or the repository after typing its name; make it public (after typing
//! its name) or private. Visitors without a session see public ones. Updates live.

use crate::api::repositories::{DeleteRepository, DeleteTag, SetVisibility, get_repository};
use crate::api::session::error_text;
use crate::components::confirm_dialog::ConfirmDialog;
use crate::components::copy_button::CopyButton;
use crate::components::digest::Digest;
use crate::components::live::use_account_changes;
use crate::components::server_error::ServerError;
use crate::components::title::param_title;
use crate::model::{UntaggedRow, human_size, time_ago};
use crate::pages::repositories::format_time;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};

#[component]
pub fn RepositoryPage() -> impl IntoView {
    let params = use_params_map();
    let name = move || params.read().get("name").unwrap_or_default();
    let delete = ServerAction::<DeleteTag>::new();
    let delete_repo = ServerAction::<DeleteRepository>::new();
    let visibility = ServerAction::<SetVisibility>::new();
    let account = Signal::derive(move || name().split('/').next().unwrap_or_default().to_owned());
    let changes = use_account_changes(account, move |r| r == name());
    let detail = Resource::new(
        move || {
            (
                name(),
                delete.version().get(),
                visibility.version().get(),
                changes.get(),
            )
        },
        |(n, _, _, _)| get_repository(n),
    );
    // The tag whose deletion is being confirmed, and whether the repository's is.
    let confirming = RwSignal::new(None::<String>);
    let confirming_repo = RwSignal::new(false);
    let confirming_public = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(Ok(())) = visibility.value().get() {
            confirming_public.set(false);
        }
    });
    let visibility_error = Signal::derive(move || {
        visibility
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| error_text(&e))
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = delete.value().get() {
            confirming.set(None);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = delete_repo.value().get() {
            let namespace = name().split('/').next().unwrap_or_default().to_owned();
            use_navigate()(&format!("/a/{namespace}"), Default::default());
        }
    });
    let tag_error = Signal::derive(move || {
        delete
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| error_text(&e))
    });
    let repo_error = Signal::derive(move || {
        delete_repo
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| error_text(&e))
    });
    view! {
        <Title text=param_title("name", |v| format!("{v} — Berth"))/>
        <div class="page-head">
            <div>
                <p class="muted"><a href=move || format!("/a/{}", account.get())>{account}</a>" /"</p>
                <h1 class="repo-name">{name}</h1>
            </div>
        </div>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Err(e) => view! { <ServerError error=e/> }.into_any(),
                    Ok(d) => {
                        let pull = format!("docker pull {}:<tag>", d.pull_uri);
                        let now = d.now_ms;
                        let repo = d.name.clone();
                        let standing = d.standing.clone();
                        let may_delete = standing.may_delete;
                        view! {
                            <div class="repo-actions">
                                {if standing.public {
                                    view! { <span class="visibility public" data-testid="visibility">"Public"</span> }.into_any()
                                } else {
                                    view! { <span class="visibility private" data-testid="visibility">"Private"</span> }.into_any()
                                }}
                                {standing.may_administer.then(|| {
                                    let repository = d.name.clone();
                                    view! {
                                        {if standing.public {
                                            view! {
                                                <button type="button" on:click=move |_| {
                                                    visibility.dispatch(SetVisibility {
                                                        repository: repository.clone(),
                                                        visibility: "private".into(),
                                                        confirm: String::new(),
                                                    });
                                                }>"Make private"</button>
                                            }.into_any()
                                        } else {
                                            view! {
                                                <button type="button" on:click=move |_| confirming_public.set(true)>"Make public"</button>
                                            }.into_any()
                                        }}
                                        <button type="button" class="danger-outline" on:click=move |_| confirming_repo.set(true)>
                                            "Delete repository"
                                        </button>
                                    }
                                })}
                            </div>
                            {move || (!confirming_public.get()).then(|| visibility_error.get()).flatten().map(|e| view! {
                                <p class="error" role="alert">{e}</p>
                            })}
                            <div class="command">
                                <pre><code>{pull.clone()}</code></pre>
                                <CopyButton text=pull label="Copy pull command"/>
                            </div>
                            <h2>"Tags"</h2>
                            {if d.tags.is_empty() {
                                view! { <p class="empty">"No tags."</p> }.into_any()
                            } else {
                                view! {
                                    <div class="table-scroll">
                                    <table class="table tags">
                                        <thead><tr>
                                            <th scope="col">"Tag"</th>
                                            <th scope="col">"Digest"</th>
                                            <th scope="col">"Kind"</th>
                                            <th scope="col">"Platforms"</th>
                                            <th scope="col">"Size"</th>
                                            <th scope="col">"Pushed"</th>
                                            <th scope="col">"Last pulled"</th>
                                            <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                                        </tr></thead>
                                        <tbody>
                                            {d.tags.into_iter().map(|t| {
                                                let tag = t.name.clone();
                                                view! {
                                                    <tr>
                                                        <td class="name"><a href=format!("/t/{}:{}", repo, t.name)>{t.name.clone()}</a>
                                                            {t.immutable.then(|| view! {
                                                                <span class="visibility immutable" title="This tag can be neither overwritten nor deleted.">"immutable"</span>
                                                            })}</td>
                                                        <td><Digest digest=t.manifest.digest.clone()/></td>
                                                        <td>{t.manifest.kind.clone()}</td>
                                                        <td>{platforms(&t.manifest.platforms)}</td>
                                                        <td>{t.manifest.size.map(human_size).unwrap_or_else(|| "—".into())}</td>
                                                        <td><When ms=t.pushed_at_ms now=now/></td>
                                                        <td>{match t.pulled_at_ms {
                                                            Some(ms) => view! { <When ms=ms now=now/> }.into_any(),
                                                            None => view! { <span class="muted">"never"</span> }.into_any(),
                                                        }}</td>
                                                        <td>
                                                            {(may_delete && !t.immutable).then(|| view! {
                                                                <button type="button" class="danger-outline"
                                                                    aria-label=format!("Delete tag {}", t.name)
                                                                    on:click=move |_| confirming.set(Some(tag.clone()))>
                                                                    "Delete"
                                                                </button>
                                                            })}
                                                        </td>
                                                    </tr>
                                                }
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                    </div>
                                }.into_any()
                            }}
                            <ManifestTable title="Untagged manifests" rows=d.untagged repo=d.name.clone() now=now/>
                            <ManifestTable title="Referrers (signatures, SBOMs, attestations)" rows=d.referrers repo=d.name.clone() now=now/>
                        }.into_any()
                    }
                }
            })}
        </Transition>
        {move || confirming.get().map(|tag| {
            let repository = name();
            let size = detail
                .get_untracked()
                .and_then(|d| d.ok())
                .and_then(|d| d.tags.into_iter().find(|t| t.name == tag))
                .and_then(|t| t.manifest.size)
                .unwrap_or(0);
            view! {
                <ConfirmDialog
                    title=format!("Delete tag {tag}?")
                    description=format!(
                        "This removes the tag {tag} from {repository}; it can free up to {} not used by other tags. Pulls of it stop at once. Type the tag's name to confirm.",
                        human_size(size)
                    )
                    expected=tag.clone()
                    field_label="Tag name"
                    confirm_label="Delete tag"
                    on_confirm=Callback::new(move |typed: String| {
                        delete.dispatch(DeleteTag { repository: repository.clone(), tag: tag.clone(), confirm: typed });
                    })
                    on_close=Callback::new(move |_| confirming.set(None))
                    error=tag_error
                />
            }
        })}
        {move || confirming_public.get().then(|| {
            let repository = name();
            view! {
                <ConfirmDialog
                    title=format!("Make {repository} public?")
                    description=format!(
                        "Anyone who can reach this registry will be able to pull {repository} and see its tags, without signing in. Type the repository's full name to confirm."
                    )
                    expected=repository.clone()
                    field_label="Repository name"
                    confirm_label="Make public"
                    on_confirm=Callback::new(move |typed: String| {
                        visibility.dispatch(SetVisibility { repository: repository.clone(), visibility: "public".into(), confirm: typed });
                    })
                    on_close=Callback::new(move |_| confirming_public.set(false))
                    error=visibility_error
                />
            }
        })}
        {move || confirming_repo.get().then(|| {
            let repository = name();
            let (tags, size) = detail
                .get_untracked()
                .and_then(|d| d.ok())
                .map(|d| (d.tags.len(), d.size))
                .unwrap_or_default();
            view! {
                <ConfirmDialog
                    title=format!("Delete repository {repository}?")
                    description=format!(
                        "This deletes {repository} and its {}, which can free up to {}. Pulls of it stop at once. Type the repository's full name to confirm.", crate::model::count(tags as u64, "tag"), human_size(size)
                    )
                    expected=repository.clone()
                    field_label="Repository name"
                    confirm_label="Delete repository"
                    on_confirm=Callback::new(move |typed: String| {
                        delete_repo.dispatch(DeleteRepository { repository: repository.clone(), confirm: typed });
                    })
                    on_close=Callback::new(move |_| confirming_repo.set(false))
                    error=repo_error
                />
            }
        })}
    }
}

/// A time as "3 hours ago", exact on hover.
#[component]
pub fn When(ms: i64, now: i64) -> impl IntoView {
    view! { <time datetime=format_time(ms) title=format_time(ms)>{time_ago(ms, now)}</time> }
}

/// `linux/amd64, linux/arm64`, or a dash.
fn platforms(p: &[String]) -> String {
    if p.is_empty() {
        "—".into()
    } else {
        p.join(", ")
    }
}

/// Untagged manifests or referrers; nothing when there are none.
#[component]
fn ManifestTable(
    title: &'static str,
    rows: Vec<UntaggedRow>,
    repo: String,
    now: i64,
) -> impl IntoView {
    (!rows.is_empty()).then(|| view! {
        <h2>{title}</h2>
        <div class="table-scroll">
        <table class="table">
            <thead><tr>
                <th scope="col">"Digest"</th>
                <th scope="col">"Kind"</th>
                <th scope="col">"Artifact type"</th>
                <th scope="col">"Refers to"</th>
                <th scope="col">"Size"</th>
                <th scope="col">"Pushed"</th>
            </tr></thead>
            <tbody>
                {rows.into_iter().map(|m| {
                    let href = format!("/t/{repo}@{}", m.manifest.digest);
                    view! {
                        <tr>
                            <td><a href=href><code title=m.manifest.digest.clone()>{m.manifest.digest.chars().take(19).collect::<String>()}</code></a></td>
                            <td>{m.manifest.kind.clone()}</td>
                            <td>{m.manifest.artifact_type.clone().unwrap_or_else(|| "—".into())}</td>
                            <td>{m.manifest.subject.clone().map(|s| view! { <code title=s.clone()>{s.chars().take(19).collect::<String>()}</code> })}</td>
                            <td>{m.manifest.size.map(human_size).unwrap_or_else(|| "—".into())}</td>
                            <td><When ms=m.pushed_at_ms now=now/></td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        </div>
    })
}

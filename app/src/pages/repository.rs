//! One repository: its pull command and its tags; delete a tag after typing its name.

use crate::api::repositories::{DeleteRepository, DeleteTag, get_repository};
use crate::api::session::error_text;
use crate::components::confirm_dialog::ConfirmDialog;
use crate::components::copy_button::CopyButton;
use crate::components::server_error::ServerError;
use crate::model::human_size;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};

#[component]
pub fn RepositoryPage() -> impl IntoView {
    let params = use_params_map();
    let name = move || params.read().get("name").unwrap_or_default();
    let delete = ServerAction::<DeleteTag>::new();
    let delete_repo = ServerAction::<DeleteRepository>::new();
    let detail = Resource::new(
        move || (name(), delete.version().get()),
        |(n, _)| get_repository(n),
    );
    // The tag whose deletion is being confirmed, and whether the repository's is.
    let confirming = RwSignal::new(None::<String>);
    let confirming_repo = RwSignal::new(false);
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
        <Title text=move || format!("{} — Berth", name())/>
        <div class="page-head">
            <div>
                <h1 class="repo-name">{name}</h1>
            </div>
            <button type="button" class="danger-outline" on:click=move |_| confirming_repo.set(true)>
                "Delete repository"
            </button>
        </div>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Err(e) => view! { <ServerError error=e/> }.into_any(),
                    Ok(d) => {
                        let pull = format!("docker pull {}:<tag>", d.pull_uri);
                        view! {
                            <div class="command">
                                <pre><code>{pull.clone()}</code></pre>
                                <CopyButton text=pull label="Copy pull command"/>
                            </div>
                            <h2>"Tags"</h2>
                            {if d.tags.is_empty() {
                                view! { <p class="empty">"No tags."</p> }.into_any()
                            } else {
                                view! {
                                    <table class="table tags">
                                        <thead><tr>
                                            <th scope="col">"Tag"</th>
                                            <th scope="col">"Digest"</th>
                                            <th scope="col">"Kind"</th>
                                            <th scope="col">"Size"</th>
                                            <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                                        </tr></thead>
                                        <tbody>
                                            {d.tags.into_iter().map(|t| {
                                                let short = t.digest.chars().take(19).collect::<String>();
                                                let tag = t.name.clone();
                                                view! {
                                                    <tr>
                                                        <td class="name">{t.name.clone()}</td>
                                                        <td><code title=t.digest.clone()>{short}</code></td>
                                                        <td>{t.kind.clone()}</td>
                                                        <td>{t.size.map(human_size).unwrap_or_else(|| "—".into())}</td>
                                                        <td>
                                                            <button type="button" class="danger-outline"
                                                                aria-label=format!("Delete tag {}", t.name)
                                                                on:click=move |_| confirming.set(Some(tag.clone()))>
                                                                "Delete"
                                                            </button>
                                                        </td>
                                                    </tr>
                                                }
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                }.into_any()
                            }}
                        }.into_any()
                    }
                }
            })}
        </Suspense>
        {move || confirming.get().map(|tag| {
            let repository = name();
            view! {
                <ConfirmDialog
                    title=format!("Delete tag {tag}?")
                    description=format!(
                        "This removes the tag {tag} from {repository}. Pulls of it stop at once. Type the tag's name to confirm."
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
        {move || confirming_repo.get().then(|| {
            let repository = name();
            let tags = detail.get().and_then(|d| d.ok()).map(|d| d.tags.len()).unwrap_or(0);
            view! {
                <ConfirmDialog
                    title=format!("Delete repository {repository}?")
                    description=format!(
                        "This deletes {repository} and its {tags} tags. Pulls of it stop at once. Type the repository's full name to confirm."
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

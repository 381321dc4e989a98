//! One repository: its pull command and its tags; delete a tag after typing its name.

use crate::api::repositories::{DeleteTag, get_repository};
use crate::api::session::error_text;
use crate::components::copy_button::CopyButton;
use crate::model::human_size;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn RepositoryPage() -> impl IntoView {
    let params = use_params_map();
    let name = move || params.read().get("name").unwrap_or_default();
    let delete = ServerAction::<DeleteTag>::new();
    let detail = Resource::new(
        move || (name(), delete.version().get()),
        |(n, _)| get_repository(n),
    );
    // The tag whose deletion is being confirmed, and what was typed.
    let confirming = RwSignal::new(None::<String>);
    let typed = RwSignal::new(String::new());
    let close = move || {
        confirming.set(None);
        typed.set(String::new());
    };
    Effect::new(move |_| {
        if let Some(Ok(())) = delete.value().get() {
            close();
        }
    });
    view! {
        <Title text=move || format!("{} — Berth", name())/>
        <div class="page-head">
            <div>
                <h1 class="repo-name">{name}</h1>
            </div>
        </div>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Err(e) => view! { <p class="error" role="alert">{error_text(&e)}</p> }.into_any(),
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
            let expected = tag.clone();
            view! {
                <div class="backdrop">
                    <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="confirm-title"
                        on:keydown=move |ev| if ev.key() == "Escape" { close() }>
                        <h2 id="confirm-title">{format!("Delete tag {tag}?")}</h2>
                        <p>"This removes the tag " <code>{tag.clone()}</code> " from " <code>{name()}</code>
                           ". Pulls of it stop at once. Type the tag's name to confirm."</p>
                        <ActionForm action=delete>
                            <input type="hidden" name="repository" value=name()/>
                            <input type="hidden" name="tag" value=tag.clone()/>
                            <div class="field">
                                <label for="confirm">"Tag name"</label>
                                <input id="confirm" name="confirm" autocomplete="off" autofocus
                                    prop:value=move || typed.get()
                                    on:input=move |ev| typed.set(event_target_value(&ev))/>
                            </div>
                            {move || delete.value().get().and_then(|r| r.err()).map(|e| view! {
                                <p class="error" role="alert">{error_text(&e)}</p>
                            })}
                            <div class="actions">
                                <button type="button" on:click=move |_| close()>"Cancel"</button>
                                <button type="submit" class="danger" disabled=move || typed.get() != expected>
                                    "Delete tag"
                                </button>
                            </div>
                        </ActionForm>
                    </div>
                </div>
            }
        })}
    }
}

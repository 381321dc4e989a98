//! An account's retention policies: which tags its repositories keep (the last N
//! pushed, those pushed or pulled within a period, among the tags a glob selects) and
//! when untagged images go. A draft is previewed, the tags that would go and the bytes
//! that frees, before it is saved; what a run removes goes to the trash.

use crate::api::retention::{PreviewRetention, RemoveRetention, SaveRetention, list_retention};
use crate::components::digest::Digest;
use crate::components::server_error::ServerError;
use crate::components::title::param_title;
use crate::model::{RetentionFields, count, human_size};
use crate::pages::repositories::format_time;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn RetentionPage() -> impl IntoView {
    let params = use_params_map();
    let account = move || params.read().get("account").unwrap_or_default();
    let preview = ServerAction::<PreviewRetention>::new();
    let save = ServerAction::<SaveRetention>::new();
    let remove = ServerAction::<RemoveRetention>::new();
    let policies = Resource::new(
        move || (account(), save.version().get(), remove.version().get()),
        |(a, _, _)| list_retention(a),
    );
    view! {
        <Title text=param_title("account", |v| format!("{v} — Retention — Berth"))/>
        <div class="page-head">
            <div>
                <h1>"Retention"</h1>
                <p class="muted">"Which tags of " <a href=move || format!("/a/{}", account())><code>{account}</code></a>
                    " are kept. A tag stays when any keep rule keeps it; immutable tags, signatures and SBOMs of what stays are never removed. What a run removes goes to the "
                    <a href=move || format!("/a/{}/trash", account())>"trash"</a>", restorable; runs happen with every garbage collection."</p>
            </div>
        </div>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match policies.await {
                    Err(e) => view! { <ServerError error=e/> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <p class="empty">"No policy yet: every tag stays until someone deletes it."</p>
                    }.into_any(),
                    Ok(list) => view! {
                        <div class="table-scroll">
                        <table class="table policies">
                            <caption class="visually-hidden">"Retention policies"</caption>
                            <thead><tr>
                                <th scope="col">"Applies to"</th>
                                <th scope="col">"Policy"</th>
                                <th scope="col">"Set by"</th>
                                <th scope="col">"Updated"</th>
                                <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                            </tr></thead>
                            <tbody>
                                {list.into_iter().map(|p| {
                                    let scope = if p.fields.repository.is_empty() {
                                        "every repository".to_owned()
                                    } else {
                                        p.fields.repository.clone()
                                    };
                                    view! {
                                        <tr>
                                            <td class="name">{scope.clone()}</td>
                                            <td>{p.description.clone()}</td>
                                            <td>{p.updated_by.clone()}</td>
                                            <td>{format_time(p.updated_at_ms)}</td>
                                            <td>
                                                <ActionForm action=remove attr:class="inline">
                                                    <input type="hidden" name="account" value=account()/>
                                                    <input type="hidden" name="repository" value=p.fields.repository.clone()/>
                                                    <button type="submit" class="danger-outline"
                                                        aria-label=format!("Remove the policy of {scope}")>"Remove"</button>
                                                </ActionForm>
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                        </div>
                    }.into_any(),
                }
            })}
        </Suspense>
        {move || remove.value().get().and_then(|r| r.err()).map(|e| view! { <ServerError error=e/> })}
        <section class="card" aria-labelledby="set-policy">
            <h2 id="set-policy">"Set a policy"</h2>
            <p class="muted">"A repository's own policy replaces the account's for it. Periods read like 30d, 12h or 2w; a bare number is days."</p>
            <ActionForm action=preview attr:class="token-form retention-form">
                <input type="hidden" name="account" value=account/>
                <div class="field">
                    <label for="retention-repository">"Repository within the account (empty for all)"</label>
                    <input id="retention-repository" name="repository" maxlength="255" placeholder="app" autocomplete="off"/>
                </div>
                <div class="field">
                    <label for="retention-keep-last">"Keep the last N pushed"</label>
                    <input id="retention-keep-last" name="keep_last" inputmode="numeric" maxlength="6" placeholder="10" autocomplete="off"/>
                </div>
                <div class="field">
                    <label for="retention-keep-days">"Keep those pushed or pulled within"</label>
                    <input id="retention-keep-days" name="keep_days" maxlength="8" placeholder="30d" autocomplete="off"/>
                </div>
                <div class="field">
                    <label for="retention-tag">"Only tags matching (* and ?)"</label>
                    <input id="retention-tag" name="tag" maxlength="128" placeholder="*" autocomplete="off"/>
                </div>
                <div class="field">
                    <label for="retention-exclude">"Never tags matching"</label>
                    <input id="retention-exclude" name="exclude" maxlength="128" placeholder="latest" autocomplete="off"/>
                </div>
                <div class="field">
                    <label for="retention-untagged">"Remove untagged images older than"</label>
                    <input id="retention-untagged" name="untagged_older_than" maxlength="8" placeholder="7d" autocomplete="off"/>
                </div>
                <button class="primary" type="submit">"Preview"</button>
            </ActionForm>
            {move || preview.value().get().map(|r| match r {
                Err(e) => view! { <ServerError error=e/> }.into_any(),
                Ok(p) => view! {
                    <div class="preview" data-testid="retention-preview">
                        <h3>"Preview"</h3>
                        <p>{format!("This policy {}.", p.description)}</p>
                        <p role="status">{
                            if p.removals.is_empty() {
                                "Nothing would go now.".to_owned()
                            } else {
                                format!(
                                    "Now it would move {} and {} to the trash, freeing up to {}.",
                                    count(p.tags, "tag"),
                                    count(p.manifests, "untagged image"),
                                    human_size(p.bytes)
                                )
                            }
                        }</p>
                        {(!p.removals.is_empty()).then(|| view! {
                            <div class="table-scroll">
                            <table class="table removals">
                                <caption class="visually-hidden">"What would go"</caption>
                                <thead><tr>
                                    <th scope="col">"Repository"</th>
                                    <th scope="col">"Tag"</th>
                                    <th scope="col">"Digest"</th>
                                    <th scope="col">"Pushed"</th>
                                    <th scope="col">"Last pulled"</th>
                                    <th scope="col">"Frees"</th>
                                </tr></thead>
                                <tbody>
                                    {p.removals.iter().map(|r| view! {
                                        <tr>
                                            <td>{r.repository.clone()}</td>
                                            <td class="name">{r.tag.clone().unwrap_or_else(|| "(untagged)".into())}</td>
                                            <td><Digest digest=r.digest.clone()/></td>
                                            <td>{format_time(r.pushed_at_ms)}</td>
                                            <td>{r.pulled_at_ms.map(format_time).unwrap_or_else(|| "never".into())}</td>
                                            <td>{human_size(r.bytes)}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                            </div>
                        })}
                        <SaveForm action=save account=account() fields=p.fields.clone()/>
                    </div>
                }.into_any(),
            })}
            {move || save.value().get().map(|r| match r {
                Ok(()) => view! { <p class="success" role="status">"Saved."</p> }.into_any(),
                Err(e) => view! { <ServerError error=e/> }.into_any(),
            })}
        </section>
    }
}

/// Saves exactly the draft that was previewed.
#[component]
fn SaveForm(
    action: ServerAction<SaveRetention>,
    account: String,
    fields: RetentionFields,
) -> impl IntoView {
    view! {
        <ActionForm action=action attr:class="inline">
            <input type="hidden" name="account" value=account/>
            <input type="hidden" name="repository" value=fields.repository/>
            <input type="hidden" name="keep_last" value=fields.keep_last/>
            <input type="hidden" name="keep_days" value=fields.keep_days/>
            <input type="hidden" name="tag" value=fields.tag/>
            <input type="hidden" name="exclude" value=fields.exclude/>
            <input type="hidden" name="untagged_older_than" value=fields.untagged_older_than/>
            <button class="primary" type="submit">"Save policy"</button>
        </ActionForm>
    }
}

//! An account's webhooks (`WebhooksPage`): create one (its secret is shown once),
//! see what each hears, turn it off and on, delete it; and one webhook's deliveries
//! (`WebhookPage`): status, latency and the first bytes of each answer, with
//! Redeliver and Send test. For the account's admins.

use crate::api::webhooks::{
    CreateWebhook, DeleteWebhook, RedeliverWebhook, SendTestWebhook, SetWebhookEnabled,
    list_deliveries, list_webhooks,
};
use crate::components::copy_button::CopyButton;
use crate::components::server_error::ServerError;
use crate::components::title::param_title;
use crate::model::{DeliveryRow, WebhookRow};
use crate::pages::repositories::format_time;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

/// The events a webhook may hear, with what each means; the first two are ticked for
/// a new one (pulls are noisy, so opt-in).
const EVENTS: [(&str, &str, bool); 5] = [
    ("push", "Push: an image or tag was pushed", true),
    (
        "delete",
        "Delete: a tag, image or repository was deleted",
        true,
    ),
    ("pull", "Pull: an image was pulled (many messages)", false),
    (
        "quota",
        "Quota: a push was refused for the storage quota",
        false,
    ),
    (
        "retention",
        "Retention: a retention run removed something",
        false,
    ),
];

#[component]
pub fn WebhooksPage() -> impl IntoView {
    let params = use_params_map();
    let account = move || params.read().get("account").unwrap_or_default();
    let create = ServerAction::<CreateWebhook>::new();
    let delete = ServerAction::<DeleteWebhook>::new();
    let toggle = ServerAction::<SetWebhookEnabled>::new();
    let hooks = Resource::new(
        move || {
            (
                account(),
                create.version().get(),
                delete.version().get(),
                toggle.version().get(),
            )
        },
        |(a, ..)| list_webhooks(a),
    );
    view! {
        <Title text=param_title("account", |v| format!("{v} — Webhooks — Berth"))/>
        <div class="page-head">
            <div>
                <h1>"Webhooks"</h1>
                <p class="muted">"Endpoints that hear what happens in "
                    <a href=move || format!("/a/{}", account())><code>{account}</code></a>
                    ". Each message is a signed JSON POST (Standard Webhooks), retried for more than a day until it is answered with 2xx."</p>
            </div>
        </div>
        <section class="card" aria-labelledby="new-webhook">
            <h2 id="new-webhook">"New webhook"</h2>
            <ActionForm action=create attr:class="token-form webhook-form">
                <input type="hidden" name="account" value=account/>
                <div class="field wide">
                    <label for="webhook-url">"Endpoint URL"</label>
                    <input id="webhook-url" name="url" type="url" required maxlength="2000"
                        placeholder="https://ci.example.com/hooks/berth" autocomplete="off"/>
                </div>
                <fieldset class="field events">
                    <legend>"Events"</legend>
                    {EVENTS.into_iter().map(|(name, label, ticked)| view! {
                        <label class="check">
                            <input type="checkbox" name=name value="on" checked=ticked/>
                            " " {label}
                        </label>
                    }).collect_view()}
                </fieldset>
                <div class="field">
                    <label for="webhook-repository">"Repositories within the account (glob; empty for all)"</label>
                    <input id="webhook-repository" name="repository" maxlength="255" placeholder="team/*" autocomplete="off"/>
                </div>
                <div class="field">
                    <label for="webhook-tag">"Tags (glob; empty for all)"</label>
                    <input id="webhook-tag" name="tag" maxlength="128" placeholder="v*" autocomplete="off"/>
                </div>
                <button class="primary" type="submit">"Create webhook"</button>
            </ActionForm>
            {move || create.value().get().map(|r| match r {
                Ok(w) => view! {
                    <div class="secret" role="status">
                        <p>"Copy the signing secret now: it is not shown again. Verify each message's "
                            <code>"webhook-signature"</code> " with it."</p>
                        <div class="command">
                            <pre><code data-testid="new-secret">{w.secret.clone()}</code></pre>
                            <CopyButton text=w.secret.clone() label="Copy the signing secret"/>
                        </div>
                    </div>
                }.into_any(),
                Err(e) => view! { <ServerError error=e/> }.into_any(),
            })}
            {move || delete.value().get().and_then(|r| r.err()).map(|e| view! { <ServerError error=e/> })}
            {move || toggle.value().get().and_then(|r| r.err()).map(|e| view! { <ServerError error=e/> })}
        </section>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match hooks.await {
                    Err(e) => view! { <ServerError error=e/> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <p class="empty">"No webhook yet."</p>
                    }.into_any(),
                    Ok(list) => view! {
                        <table class="table webhooks">
                            <thead><tr>
                                <th scope="col">"Endpoint"</th>
                                <th scope="col">"Events"</th>
                                <th scope="col">"Repositories"</th>
                                <th scope="col">"Tags"</th>
                                <th scope="col">"Status"</th>
                                <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                            </tr></thead>
                            <tbody>
                                {list.into_iter().map(|w| view! {
                                    <WebhookListRow account=account() hook=w toggle delete/>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn WebhookListRow(
    account: String,
    hook: WebhookRow,
    toggle: ServerAction<SetWebhookEnabled>,
    delete: ServerAction<DeleteWebhook>,
) -> impl IntoView {
    let href = format!("/a/{account}/webhooks/{}", hook.id);
    let status = status_words(&hook);
    let (switch_to, switch_label) = if hook.enabled {
        ("false", "Turn off")
    } else {
        ("true", "Turn on")
    };
    let deliveries_label = format!("Deliveries of {}", hook.url);
    let switch_aria = format!("{switch_label} {}", hook.url);
    let delete_label = format!("Delete {}", hook.url);
    let account2 = account.clone();
    let repository = hook.repository.unwrap_or_else(|| "all".into());
    let tag = hook.tag.unwrap_or_else(|| "all".into());
    let events = hook.events.join(", ");
    let status_class = if hook.enabled { "" } else { "warning" };
    view! {
        <tr>
            <td class="name" data-label="Endpoint"><a href=href.clone()><code>{hook.url}</code></a></td>
            <td data-label="Events">{events}</td>
            <td data-label="Repositories">{repository}</td>
            <td data-label="Tags">{tag}</td>
            <td data-label="Status" class=status_class>{status}</td>
            <td class="row-actions">
                <a class="button" href=href aria-label=deliveries_label>"Deliveries"</a>
                <ActionForm action=toggle attr:class="inline">
                    <input type="hidden" name="account" value=account2/>
                    <input type="hidden" name="id" value=hook.id/>
                    <input type="hidden" name="enabled" value=switch_to/>
                    <button type="submit" aria-label=switch_aria>{switch_label}</button>
                </ActionForm>
                <ActionForm action=delete attr:class="inline">
                    <input type="hidden" name="account" value=account/>
                    <input type="hidden" name="id" value=hook.id/>
                    <button type="submit" class="danger-outline" aria-label=delete_label>"Delete"</button>
                </ActionForm>
            </td>
        </tr>
    }
}

/// "Active", or "Off: why".
fn status_words(w: &WebhookRow) -> String {
    match (w.enabled, &w.disabled_reason) {
        (true, _) => "Active".into(),
        (false, Some(why)) => format!("Off: {why}"),
        (false, None) => "Off".into(),
    }
}

#[component]
pub fn WebhookPage() -> impl IntoView {
    let params = use_params_map();
    let account = move || params.read().get("account").unwrap_or_default();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let test = ServerAction::<SendTestWebhook>::new();
    let redeliver = ServerAction::<RedeliverWebhook>::new();
    let log = Resource::new(
        move || {
            (
                account(),
                id(),
                test.version().get(),
                redeliver.version().get(),
            )
        },
        |(a, id, ..)| list_deliveries(a, id),
    );
    let back = move || format!("/a/{}/webhooks", account());
    view! {
        <Title text=param_title("account", |v| format!("{v} — Webhook deliveries — Berth"))/>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match log.await {
                    Err(e) => view! {
                        <div class="page-head"><h1>"Webhook deliveries"</h1></div>
                        <ServerError error=e/>
                    }.into_any(),
                    Ok(found) => {
                        let w = found.webhook;
                        view! {
                            <div class="page-head">
                                <div>
                                    <h1>"Webhook deliveries"</h1>
                                    <p class="muted"><code>{w.url.clone()}</code> " hears " {w.events.join(", ")}
                                        " · " {status_words(&w)} " · " <a href=back>"All webhooks"</a></p>
                                </div>
                                <div class="head-actions">
                                    <a class="button" href=move || format!("/a/{}/webhooks/{}", account(), id())>"Refresh"</a>
                                    <ActionForm action=test>
                                        <input type="hidden" name="account" value=account/>
                                        <input type="hidden" name="id" value=w.id/>
                                        <button class="primary" type="submit">"Send test"</button>
                                    </ActionForm>
                                </div>
                            </div>
                            {move || test.value().get().map(|r| match r {
                                Ok(()) => view! { <p class="success" role="status">"A ping message is on its way; Refresh to see how it went."</p> }.into_any(),
                                Err(e) => view! { <ServerError error=e/> }.into_any(),
                            })}
                            {move || redeliver.value().get().map(|r| match r {
                                Ok(()) => view! { <p class="success" role="status">"Sent again; Refresh to see how it went."</p> }.into_any(),
                                Err(e) => view! { <ServerError error=e/> }.into_any(),
                            })}
                            {if found.deliveries.is_empty() {
                                view! { <p class="empty">"No delivery yet."</p> }.into_any()
                            } else {
                                view! {
                                    // Focusable: on a phone the table scrolls sideways, and a
                                    // keyboard must be able to scroll it too.
                                    <table class="table deliveries" tabindex="0" aria-label="Deliveries">
                                        <thead><tr>
                                            <th scope="col">"Event"</th>
                                            <th scope="col">"Created"</th>
                                            <th scope="col">"State"</th>
                                            <th scope="col">"Answer"</th>
                                            <th scope="col">"Latency"</th>
                                            <th scope="col">"Response"</th>
                                            <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                                        </tr></thead>
                                        <tbody>
                                            {found.deliveries.into_iter().map(|d| view! {
                                                <DeliveryListRow account=account() delivery=d redeliver/>
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
    }
}

#[component]
fn DeliveryListRow(
    account: String,
    delivery: DeliveryRow,
    redeliver: ServerAction<RedeliverWebhook>,
) -> impl IntoView {
    let d = delivery;
    let state = match (d.state.as_str(), d.next_attempt_ms) {
        ("pending", Some(at)) if d.attempts > 0 => {
            format!(
                "retrying (attempt {} at {})",
                d.attempts + 1,
                format_time(at)
            )
        }
        ("pending", _) => "sending".to_owned(),
        ("delivered", _) => format!("delivered ({})", attempts(d.attempts)),
        (other, _) => format!("{other} ({})", attempts(d.attempts)),
    };
    let answer = match (d.last_status, d.last_attempt_ms) {
        (Some(s), _) => s.to_string(),
        (None, Some(_)) => "no answer".to_owned(),
        (None, None) => "—".to_owned(),
    };
    let latency = d
        .latency_ms
        .map_or_else(|| "—".to_owned(), |ms| format!("{ms} ms"));
    let ok = d.state == "delivered";
    view! {
        <tr>
            <td class="name" data-label="Event">{d.event.clone()} " " <code class="muted">{d.message_id.clone()}</code></td>
            <td data-label="Created">{format_time(d.created_at_ms)}</td>
            <td data-label="State" class=if ok { "" } else { "warning" }>{state}</td>
            <td data-label="Answer">{answer}</td>
            <td data-label="Latency">{latency}</td>
            <td data-label="Response" class="response"><code>{d.response.clone().unwrap_or_default()}</code></td>
            <td class="row-actions">
                {(d.state != "pending").then(|| view! {
                    <ActionForm action=redeliver attr:class="inline">
                        <input type="hidden" name="account" value=account/>
                        <input type="hidden" name="delivery" value=d.id/>
                        <button type="submit" aria-label=format!("Redeliver {}", d.message_id)>"Redeliver"</button>
                    </ActionForm>
                })}
            </td>
        </tr>
    }
}

fn attempts(n: i32) -> String {
    crate::model::count(n.max(0) as u64, "attempt")
}

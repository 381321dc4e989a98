//! An account's trash: deleted tags and repositories, restorable until they expire;
//! Empty trash frees them for good after typing the account's name.

use crate::api::accounts::{EmptyTrash, Restore, list_trash};
use crate::api::session::error_text;
use crate::components::confirm_dialog::ConfirmDialog;
use crate::components::server_error::ServerError;
use crate::components::title::param_title;
use crate::model::human_size;
use crate::pages::repositories::format_time;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn TrashPage() -> impl IntoView {
    let params = use_params_map();
    let account = move || params.read().get("account").unwrap_or_default();
    let restore = ServerAction::<Restore>::new();
    let empty = ServerAction::<EmptyTrash>::new();
    let entries = Resource::new(
        move || (account(), restore.version().get(), empty.version().get()),
        |(a, _, _)| list_trash(a),
    );
    let confirming = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(Ok(_)) = empty.value().get() {
            confirming.set(false);
        }
    });
    let empty_error = Signal::derive(move || {
        empty
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| error_text(&e))
    });
    view! {
        <Title text=param_title("account", |v| format!("{v} — Trash — Berth"))/>
        <div class="page-head">
            <div>
                <h1>"Trash"</h1>
                <p class="muted">"Deleted tags and repositories of " <a href=move || format!("/a/{}", account())><code>{account}</code></a>
                    ". Restore them until they expire; then their storage is freed."</p>
            </div>
            <button type="button" class="danger-outline" on:click=move |_| confirming.set(true)>"Empty trash"</button>
        </div>
        {move || restore.value().get().map(|r| match r {
            Ok(()) => view! { <p class="success" role="status">"Restored."</p> }.into_any(),
            Err(e) => view! { <ServerError error=e/> }.into_any(),
        })}
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match entries.await {
                    Err(e) => view! { <ServerError error=e/> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <p class="empty">"The trash is empty."</p> }.into_any(),
                    Ok(list) => view! {
                        <table class="table trash">
                            <thead><tr>
                                <th scope="col">"What"</th>
                                <th scope="col">"Deleted by"</th>
                                <th scope="col">"Deleted"</th>
                                <th scope="col">"Holds"</th>
                                <th scope="col">"Restorable until"</th>
                                <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                            </tr></thead>
                            <tbody>
                                {list.into_iter().map(|e| {
                                    let what = match (&e.tag, &e.digest) {
                                        (Some(t), _) => format!("{}:{t}", e.repository),
                                        (None, Some(d)) => format!("{}@{d} (untagged image)", e.repository),
                                        (None, None) => format!("{} (repository)", e.repository),
                                    };
                                    view! {
                                        <tr>
                                            <td class="name">{what.clone()}</td>
                                            <td>{e.deleted_by.clone()}</td>
                                            <td>{format_time(e.deleted_at_ms)}</td>
                                            <td>{human_size(e.bytes)}</td>
                                            <td>{format_time(e.expires_at_ms)}</td>
                                            <td>
                                                <ActionForm action=restore attr:class="inline">
                                                    <input type="hidden" name="account" value=account()/>
                                                    <input type="hidden" name="id" value=e.id/>
                                                    <button type="submit" aria-label=format!("Restore {what}")>"Restore"</button>
                                                </ActionForm>
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                }
            })}
        </Suspense>
        {move || confirming.get().then(|| {
            let name = account();
            view! {
                <ConfirmDialog
                    title="Empty the trash?"
                    description=format!("This deletes everything in the trash of {name} for good; the storage it holds is freed at the next garbage collection. Type the account's name, {name}, to confirm.")
                    expected=name.clone()
                    field_label="Account name"
                    confirm_label="Empty trash"
                    on_confirm=Callback::new(move |typed: String| {
                        empty.dispatch(EmptyTrash { account: name.clone(), confirm: typed });
                    })
                    on_close=Callback::new(move |_| confirming.set(false))
                    error=empty_error
                />
            }
        })}
    }
}

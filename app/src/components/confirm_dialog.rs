//! The type-to-confirm dialog: says what will go, and enables its button only once
//! the exact name is typed. Escape and Cancel close it. The server checks the typed
//! name again; this only keeps people from deleting by accident. While open, Tab and
//! Shift+Tab cycle inside it (a real modal).

use leptos::prelude::*;

#[component]
pub fn ConfirmDialog(
    /// The heading, e.g. "Delete tag 1.0?".
    #[prop(into)]
    title: String,
    /// What goes, in a sentence.
    #[prop(into)]
    description: String,
    /// The text to type.
    #[prop(into)]
    expected: String,
    /// The label of the field and of the button ("Tag name", "Delete tag").
    #[prop(into)]
    field_label: String,
    #[prop(into)] confirm_label: String,
    /// Called with the typed text when confirmed.
    on_confirm: Callback<String>,
    on_close: Callback<()>,
    /// An error from the last attempt, shown in the dialog.
    #[prop(into)]
    error: Signal<Option<String>>,
) -> impl IntoView {
    let typed = RwSignal::new(String::new());
    let input = NodeRef::<leptos::html::Input>::new();
    let dialog = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        if let Some(el) = input.get() {
            let _ = el.focus();
        }
    });
    let expected = StoredValue::new(expected);
    let matches = move || typed.with(|t| expected.with_value(|e| t == e));
    let confirm = move || {
        if matches() {
            on_confirm.run(typed.get_untracked());
        }
    };
    view! {
        <div class="backdrop">
            <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="confirm-title"
                node_ref=dialog
                on:keydown=move |ev| {
                    if ev.key() == "Escape" {
                        on_close.run(());
                    } else if ev.key() == "Tab" {
                        trap_focus(&ev, dialog);
                    }
                }>
                <h2 id="confirm-title">{title}</h2>
                <p>{description}</p>
                <form on:submit=move |ev| { ev.prevent_default(); confirm(); }>
                    <div class="field">
                        <label for="confirm">{field_label}</label>
                        <input id="confirm" node_ref=input autocomplete="off"
                            prop:value=move || typed.get()
                            on:input=move |ev| typed.set(event_target_value(&ev))/>
                    </div>
                    {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                    <div class="actions">
                        <button type="button" on:click=move |_| on_close.run(())>"Cancel"</button>
                        <button type="submit" class="danger" disabled=move || !matches()>{confirm_label}</button>
                    </div>
                </form>
            </div>
        </div>
    }
}

/// Keeps Tab and Shift+Tab inside the dialog: from its last focusable control to its
/// first, and back.
fn trap_focus(ev: &leptos::ev::KeyboardEvent, dialog: NodeRef<leptos::html::Div>) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let Some(dialog) = dialog.get() else { return };
        let Ok(nodes) = dialog.query_selector_all("input, button:not([disabled]), a[href]") else {
            return;
        };
        let focusable: Vec<web_sys::HtmlElement> = (0..nodes.length())
            .filter_map(|i| nodes.item(i)?.dyn_into::<web_sys::HtmlElement>().ok())
            .collect();
        let (Some(first), Some(last)) = (focusable.first(), focusable.last()) else {
            return;
        };
        let active = document().active_element();
        let at = |el: &web_sys::HtmlElement| active.as_ref() == Some(el.unchecked_ref());
        if ev.shift_key() && at(first) {
            ev.prevent_default();
            let _ = last.focus();
        } else if !ev.shift_key() && at(last) {
            ev.prevent_default();
            let _ = first.focus();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (ev, dialog);
}

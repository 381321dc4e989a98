//! The type-to-confirm dialog: says what will go, and enables its button only once
//! the exact name is typed. Escape and Cancel close it. The server checks the typed
//! name again; this only keeps people from deleting by accident.

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
                on:keydown=move |ev| if ev.key() == "Escape" { on_close.run(()) }>
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

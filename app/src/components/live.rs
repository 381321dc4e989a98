//! Live updates: the page listens to its account's change stream (server-sent events)
//! and bumps a version that its resources depend on, so a push or a deletion shows up
//! without a reload. On the server, and with JavaScript off, nothing listens.

use leptos::prelude::*;

/// A counter that grows when a repository of `account` changes (only those for which
/// `wanted` is true, given the repository's name).
pub fn use_account_changes(
    account: Signal<String>,
    wanted: impl Fn(&str) -> bool + Send + Sync + 'static,
) -> ReadSignal<u64> {
    let (version, set_version) = signal(0u64);
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        use wasm_bindgen::closure::Closure;
        let wanted = std::sync::Arc::new(wanted);
        Effect::new(move |_| {
            let account = account.get();
            let Ok(source) = web_sys::EventSource::new(&format!("/events/a/{account}")) else {
                return;
            };
            let wanted = wanted.clone();
            let on_change = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
                move |ev: web_sys::MessageEvent| {
                    let data = ev.data().as_string().unwrap_or_default();
                    let repository = serde_json::from_str::<serde_json::Value>(&data)
                        .ok()
                        .and_then(|v| v["repository"].as_str().map(str::to_owned));
                    // A change of unknown repository (missed events) refreshes anyway.
                    if repository.as_deref().is_none_or(|r| wanted(r)) {
                        set_version.update(|v| *v += 1);
                    }
                },
            );
            let _ = source
                .add_event_listener_with_callback("change", on_change.as_ref().unchecked_ref());
            let source = send_wrapper::SendWrapper::new((source, on_change));
            on_cleanup(move || {
                let (source, _listener) = &*source;
                source.close();
            });
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (account, wanted, set_version);
    version
}

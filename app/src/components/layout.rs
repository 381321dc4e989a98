//! The frame of every page: header with the product name, main content, footer.

use leptos::prelude::*;

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="topbar">
            <a class="brand" href="/" aria-label="Berth home">
                <span class="brand-mark" aria-hidden="true">"⚓"</span>
                <span class="brand-name">"Berth"</span>
            </a>
            <nav aria-label="Main">
                <a href="/">"Registry"</a>
            </nav>
        </header>
        <main id="main" class="content">{children()}</main>
        <footer class="footer">
            <span>"Berth — private container registry"</span>
        </footer>
    }
}

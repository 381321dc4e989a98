//! The one route table of the portal.

use crate::components::layout::Layout;
use crate::pages::{
    accounts::AccountsPage, activity::ActivityPage, explore::ExplorePage, home::HomePage,
    immutability::ImmutabilityPage, members::MembersPage, nodes::NodesPage,
    not_found::NotFoundPage, password::PasswordPage, repositories::RepositoriesPage,
    repository::RepositoryPage, retention::RetentionPage, setup::SetupPage, sign_in::SignInPage,
    tag::TagPage, tokens::TokensPage, trash::TrashPage, webhooks::WebhookPage,
    webhooks::WebhooksPage,
};
use leptos::prelude::*;
use leptos_router::{
    SsrMode,
    components::{Route, Router, Routes},
    path,
};

/// Pages render whole on the server (`SsrMode::Async`): their data is in the HTML,
/// so every page reads with JavaScript off.
#[component]
pub fn AppRoutes() -> impl IntoView {
    view! {
        <Router>
            <Layout>
                <Routes fallback=NotFoundPage>
                    <Route path=path!("") view=HomePage ssr=SsrMode::Async/>
                    <Route path=path!("/sign-in") view=SignInPage ssr=SsrMode::Async/>
                    <Route path=path!("/explore") view=ExplorePage ssr=SsrMode::Async/>
                    <Route path=path!("/a/:account") view=RepositoriesPage ssr=SsrMode::Async/>
                    <Route path=path!("/a/:account/nodes") view=NodesPage ssr=SsrMode::Async/>
                    <Route path=path!("/a/:account/activity") view=ActivityPage ssr=SsrMode::Async/>
                    <Route path=path!("/r/*name") view=RepositoryPage ssr=SsrMode::Async/>
                    <Route path=path!("/t/*reference") view=TagPage ssr=SsrMode::Async/>
                    <Route path=path!("/a/:account/members") view=MembersPage ssr=SsrMode::Async/>
                    <Route path=path!("/a/:account/trash") view=TrashPage ssr=SsrMode::Async/>
                    <Route path=path!("/a/:account/immutability") view=ImmutabilityPage ssr=SsrMode::Async/>
                    <Route path=path!("/a/:account/retention") view=RetentionPage ssr=SsrMode::Async/>
                    <Route path=path!("/a/:account/webhooks") view=WebhooksPage ssr=SsrMode::Async/>
                    <Route path=path!("/a/:account/webhooks/:id") view=WebhookPage ssr=SsrMode::Async/>
                    <Route path=path!("/accounts") view=AccountsPage ssr=SsrMode::Async/>
                    <Route path=path!("/password") view=PasswordPage ssr=SsrMode::Async/>
                    <Route path=path!("/tokens") view=TokensPage ssr=SsrMode::Async/>
                    <Route path=path!("/setup") view=SetupPage ssr=SsrMode::Async/>
                </Routes>
            </Layout>
        </Router>
    }
}

//! The one route table of the portal.

use crate::components::layout::Layout;
use crate::pages::{
    activity::ActivityPage, home::HomePage, nodes::NodesPage, not_found::NotFoundPage,
    repositories::RepositoriesPage, repository::RepositoryPage, setup::SetupPage,
    sign_in::SignInPage, tokens::TokensPage,
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
                    <Route path=path!("/a/:account") view=RepositoriesPage ssr=SsrMode::Async/>
                    <Route path=path!("/a/:account/nodes") view=NodesPage ssr=SsrMode::Async/>
                    <Route path=path!("/a/:account/activity") view=ActivityPage ssr=SsrMode::Async/>
                    <Route path=path!("/r/*name") view=RepositoryPage ssr=SsrMode::Async/>
                    <Route path=path!("/tokens") view=TokensPage ssr=SsrMode::Async/>
                    <Route path=path!("/setup") view=SetupPage ssr=SsrMode::Async/>
                </Routes>
            </Layout>
        </Router>
    }
}

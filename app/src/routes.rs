//! The one route table of the portal.

use crate::components::layout::Layout;
use crate::pages::{
    home::HomePage, not_found::NotFoundPage, repositories::RepositoriesPage, sign_in::SignInPage,
};
use leptos::prelude::*;
use leptos_router::{
    components::{Route, Router, Routes},
    path,
};

#[component]
pub fn AppRoutes() -> impl IntoView {
    view! {
        <Router>
            <Layout>
                <Routes fallback=NotFoundPage>
                    <Route path=path!("") view=HomePage/>
                    <Route path=path!("/sign-in") view=SignInPage/>
                    <Route path=path!("/a/:account") view=RepositoriesPage/>
                </Routes>
            </Layout>
        </Router>
    }
}

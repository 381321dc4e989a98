//! The one route table of the portal.

use crate::components::layout::Layout;
use crate::pages::{home::HomePage, not_found::NotFoundPage};
use leptos::prelude::*;
use leptos_router::{
    StaticSegment,
    components::{Route, Router, Routes},
};

#[component]
pub fn AppRoutes() -> impl IntoView {
    view! {
        <Router>
            <Layout>
                <Routes fallback=NotFoundPage>
                    <Route path=StaticSegment("") view=HomePage/>
                </Routes>
            </Layout>
        </Router>
    }
}

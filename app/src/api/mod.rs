//! Server functions, grouped by resource.

pub mod accounts;
pub mod activity;
pub mod credentials;
pub mod immutability;
pub mod repositories;
pub mod retention;
pub mod session;
pub mod webhooks;

/// Turns a port's refusal into the server function's error, answering with its HTTP
/// status, so a refused request is a 403 (or 400, 409…) and never looks like a crash.
#[cfg(feature = "ssr")]
pub fn refused(r: crate::server::Refusal) -> leptos::prelude::ServerFnError {
    use leptos::prelude::use_context;
    if let (Some(response), Ok(status)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::StatusCode::from_u16(r.status),
    ) {
        response.set_status(status);
    }
    leptos::prelude::ServerFnError::new(r.message)
}

/// The server's clock in Unix milliseconds.
#[cfg(feature = "ssr")]
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The portal's edge: the text a server function receives becomes the domain's types
/// here, once, before any port sees it. A name that cannot exist is refused like one
/// the person may not see; what a person typed is refused with the parser's words.
#[cfg(feature = "ssr")]
pub mod parse {
    use crate::server::Refusal;
    use domain::{AccountName, ParseError, Reference, RepositoryName, TagName};
    use leptos::prelude::ServerFnError;

    /// Refused as another account's thing: 403 when signed in, 401 for a visitor.
    pub fn hidden(signed_in: bool) -> ServerFnError {
        super::refused(if signed_in {
            Refusal::no_access()
        } else {
            Refusal::sign_in()
        })
    }

    pub fn account(s: &str) -> Result<AccountName, ServerFnError> {
        AccountName::parse(s).map_err(|_| hidden(true))
    }

    pub fn repository(s: &str, signed_in: bool) -> Result<RepositoryName, ServerFnError> {
        RepositoryName::parse(s).map_err(|_| hidden(signed_in))
    }

    pub fn tag(s: &str) -> Result<TagName, ServerFnError> {
        TagName::parse(s).map_err(|_| hidden(true))
    }

    /// `repository:tag` or `repository@digest`, as the Tag page's address holds it;
    /// what cannot be one is a tag that does not exist.
    pub fn named_reference(s: &str) -> Result<(RepositoryName, Reference), ServerFnError> {
        let not_found = || super::refused(Refusal::new(404, "There is no such tag or manifest."));
        let (name, reference) =
            domain::reference::split_named_reference(s).ok_or_else(not_found)?;
        Ok((
            RepositoryName::parse(name).map_err(|_| not_found())?,
            Reference::parse(reference).map_err(|_| not_found())?,
        ))
    }

    /// What a person typed: refused with the parser's words, as bad input (400).
    pub fn typed<T>(r: Result<T, ParseError>) -> Result<T, ServerFnError> {
        r.map_err(|e| super::refused(Refusal::from(e.0)))
    }
}

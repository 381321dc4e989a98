//! The portal as a browser reaches it: sign in with the form, call server functions,
//! read pages.

use super::*;

/// Signs in through the server function's form endpoint; returns the session cookie.
pub fn sign_in(s: &Server, user: &str, password: &str) -> Resp {
    let c = Client::new(s);
    let body = format!("username={user}&password={}", password.replace(' ', "+"));
    c.send(
        "POST",
        "/api/sign_in",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Accept", "text/html"),
            ("Origin", &s.url("")),
            ("Referer", &s.url("/sign-in")),
        ],
        Some(body.as_bytes()),
    )
}

/// A server function call as the app's JavaScript makes it: form body, JSON answer.
pub fn post_form(s: &Server, cookie: &str, path: &str, body: &str) -> Resp {
    Client::new(s).send(
        "POST",
        path,
        &[
            ("Cookie", cookie),
            ("Origin", &s.url("")),
            ("Accept", "application/json"),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        Some(body.as_bytes()),
    )
}

pub fn session_cookie(r: &Resp) -> String {
    r.headers_all("set-cookie")
        .into_iter()
        .find(|c| c.starts_with("berth_session="))
        .and_then(|c| c.split(';').next())
        .unwrap_or_else(|| panic!("no session cookie: {:?}", r.headers))
        .to_owned()
}

pub fn page(s: &Server, path: &str, cookie: &str) -> Resp {
    Client::new(s).send("GET", path, &[("Cookie", cookie)], None)
}

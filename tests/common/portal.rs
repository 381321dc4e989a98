//! The portal as a browser reaches it: sign in with the form, call server functions,
//! read pages.

use super::*;
use std::io::Write;
use std::net::TcpStream;

/// Signs in through the server function's form endpoint; returns the session cookie.
pub fn sign_in(s: &Server, user: &str, password: &str) -> Resp {
    sign_in_with(
        s,
        &format!("username={user}&password={}", password.replace(' ', "+")),
    )
}

/// Signs in as the form does when the sign-in page was sent a page to return to.
pub fn sign_in_to(s: &Server, user: &str, password: &str, next: &str) -> Resp {
    let next: String = url_encode(next);
    sign_in_with(
        s,
        &format!(
            "username={user}&password={}&next={next}",
            password.replace(' ', "+")
        ),
    )
}

/// Percent-encodes a form value.
pub fn url_encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn sign_in_with(s: &Server, body: &str) -> Resp {
    let c = Client::new(s);
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

/// A live-update stream read line by line, as a page's `EventSource` would.
pub struct EventStream {
    reader: BufReader<TcpStream>,
}

impl EventStream {
    pub fn open(s: &Server, path: &str, cookie: &str) -> (u16, Self) {
        let mut stream = TcpStream::connect(&s.addr).unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {}\r\nCookie: {cookie}\r\nAccept: text/event-stream\r\n\r\n",
            s.addr
        )
        .unwrap();
        stream
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let mut reader = BufReader::new(stream);
        let mut status = String::new();
        let deadline = Instant::now() + Duration::from_secs(5);
        while status.is_empty() && Instant::now() < deadline {
            let _ = reader.read_line(&mut status);
        }
        let code = status.split(' ').nth(1).unwrap_or("0").parse().unwrap_or(0);
        (code, Self { reader })
    }

    /// Whether the server ends the stream (the chunked body's last chunk, or the
    /// connection closed) within `within`.
    pub fn wait_for_end(&mut self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            let mut line = String::new();
            match self.reader.read_line(&mut line) {
                Ok(0) => return true,
                Ok(_) if line == "0\r\n" => return true,
                _ => {}
            }
        }
        false
    }

    pub fn wait_for(&mut self, want: &str, within: Duration) -> Option<String> {
        let deadline = Instant::now() + within;
        let mut seen = String::new();
        while Instant::now() < deadline {
            let mut line = String::new();
            if self.reader.read_line(&mut line).is_ok() {
                seen.push_str(&line);
                if line.contains(want) {
                    return Some(line);
                }
            }
        }
        None
    }
}

/// Submits the setup form as a JSON caller, with a password long enough; the status.
pub fn submit_setup(s: &Server, token: &str, username: &str) -> u16 {
    Client::new(s)
        .send(
            "POST",
            "/api/setup",
            &[
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Accept", "application/json"),
            ],
            Some(format!("token={token}&username={username}&password=long+enough+1").as_bytes()),
        )
        .status
}

/// The secret of the setup link a server logged (waiting up to 5 s for the line).
pub fn setup_token(s: &Server) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let found = s
            .log
            .lock()
            .unwrap()
            .iter()
            .find_map(|l| l.split("setup?token=").nth(1).map(|t| t[..32].to_owned()));
        if let Some(t) = found {
            return t;
        }
        assert!(std::time::Instant::now() < deadline, "no setup link logged");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

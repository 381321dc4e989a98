//! What a slow or hostile client can hold: a request head has a deadline and a size
//! limit, while long responses (live updates) and ordinary clients carry on.

mod common;
use common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const PW: &str = "limits password 1";

/// Reads until the server closes the connection (or `within` passes); returns what
/// arrived and whether it was closed.
fn read_until_closed(stream: &mut TcpStream, within: Duration) -> (String, bool) {
    stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let deadline = Instant::now() + within;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        match stream.read(&mut buf) {
            Ok(0) => return (String::from_utf8_lossy(&got).into_owned(), true),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return (String::from_utf8_lossy(&got).into_owned(), true),
        }
    }
    (String::from_utf8_lossy(&got).into_owned(), false)
}

#[test]
fn clients_that_never_finish_their_headers_are_cut_off_and_others_are_served() {
    let s = Server::start_with(&["--header-timeout", "2s"]);
    // Forty clients start a request and never finish its head, one trickling a
    // header line every half second.
    let mut slow: Vec<TcpStream> = (0..40)
        .map(|_| {
            let mut c = TcpStream::connect(&s.addr).unwrap();
            write!(c, "GET /v2/ HTTP/1.1\r\nHost: {}\r\nX-Slow: ", s.addr).unwrap();
            c
        })
        .collect();
    let mut trickle = TcpStream::connect(&s.addr).unwrap();
    write!(trickle, "GET /v2/ HTTP/1.1\r\n").unwrap();
    let idle = TcpStream::connect(&s.addr).unwrap();
    let started = Instant::now();

    // Meanwhile everyone else is served at once.
    let ok = Client::new(&s).get("/v2/");
    assert_eq!(ok.status, 401);
    assert!(started.elapsed() < Duration::from_secs(1));
    for i in 0..8 {
        std::thread::sleep(Duration::from_millis(500));
        if trickle
            .write_all(format!("X-Line-{i}: x\r\n").as_bytes())
            .is_err()
        {
            break;
        }
    }

    for c in slow.iter_mut().chain([&mut trickle]) {
        let (reply, closed) = read_until_closed(c, Duration::from_secs(3));
        assert!(
            closed,
            "a slow client was still connected after {:?}",
            started.elapsed()
        );
        // Either a bare close or a 408; never a served request.
        assert!(
            reply.is_empty() || reply.starts_with("HTTP/1.1 408"),
            "{reply}"
        );
    }
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    let mut idle = idle;
    let (reply, closed) = read_until_closed(&mut idle, Duration::from_secs(3));
    assert!(
        closed,
        "a connection that sent nothing stays open: {reply:?}"
    );
    // A keep-alive connection left idle after its request is closed too.
    let mut kept = TcpStream::connect(&s.addr).unwrap();
    write!(kept, "GET /v2/ HTTP/1.1\r\nHost: {}\r\n\r\n", s.addr).unwrap();
    let (reply, closed) = read_until_closed(&mut kept, Duration::from_secs(5));
    assert!(reply.starts_with("HTTP/1.1 401"), "{reply:?}");
    assert!(closed, "an idle keep-alive connection stays open");
    // The server still answers.
    assert_eq!(Client::new(&s).get("/v2/").status, 401);
}

#[test]
fn oversized_request_heads_are_refused_with_431() {
    let s = Server::start();
    let mut c = TcpStream::connect(&s.addr).unwrap();
    let huge = "a".repeat(200 * 1024);
    // The server may close before all of it is written.
    let _ = write!(
        c,
        "GET /v2/ HTTP/1.1\r\nHost: {}\r\nX-Huge: {huge}\r\n\r\n",
        s.addr
    );
    let (reply, closed) = read_until_closed(&mut c, Duration::from_secs(5));
    assert!(reply.starts_with("HTTP/1.1 431"), "{reply:?}");
    assert!(closed);
    // Ordinary large headers (a long bearer token) are fine.
    let long_token = "t".repeat(16 * 1024);
    let r = Client::new(&s).send(
        "GET",
        "/v2/",
        &[("Authorization", &format!("Bearer {long_token}"))],
        None,
    );
    assert_eq!(r.status, 401);
}

#[test]
fn live_update_streams_outlast_the_header_timeout() {
    let s = Server::start_with(&["--header-timeout", "1s"]);
    s.tenant("acme", "alice", PW, "admin");
    let alice = session_cookie(&sign_in(&s, "alice", PW));
    let (status, mut events) = EventStream::open(&s, "/events/a/acme", &alice);
    assert_eq!(status, 200);
    std::thread::sleep(Duration::from_secs(3));
    let a = Client::with_bearer(
        &s,
        &token(&s, "alice", PW, &["repository:acme/live:pull,push"]),
    );
    push_image(&a, "acme/live", "1.0", &[b"still listening"]);
    assert!(
        events
            .wait_for("acme/live", Duration::from_secs(2))
            .is_some()
    );
}

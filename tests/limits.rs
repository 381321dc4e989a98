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

/// Sends a request head and only part of its body, then waits.
fn stall_after(s: &Server, head: &str, part: &[u8]) -> TcpStream {
    let mut c = TcpStream::connect(&s.addr).unwrap();
    c.write_all(head.as_bytes()).unwrap();
    c.write_all(part).unwrap();
    c
}

#[test]
fn a_body_that_goes_silent_ends_its_request_and_an_upload_resumes_where_it_stopped() {
    let s = Server::start_with(&["--body-timeout", "1s"]);
    s.tenant("acme", "alice", PW, "admin");
    let bearer = token(&s, "alice", PW, &["repository:acme/app:pull,push"]);
    let a = Client::with_bearer(&s, &bearer);
    let blob: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let start = a.send("POST", "/v2/acme/app/blobs/uploads/", &[], None);
    let location = start.header("location").unwrap().to_owned();
    let started = Instant::now();
    let mut c = stall_after(
        &s,
        &format!(
            "PATCH {location} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {bearer}\r\n\
             Content-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n",
            s.addr,
            blob.len()
        ),
        &blob[..200_000],
    );
    let (reply, _) = read_until_closed(&mut c, Duration::from_secs(5));
    assert!(reply.starts_with("HTTP/1.1 4"), "{reply:?}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );

    // The upload is still there, consistent, and resumes from what it kept.
    let status = a.get(&location);
    assert_eq!(status.status, 204, "{}", status.text());
    let kept: usize = status
        .header("range")
        .and_then(|r| r.strip_prefix("0-"))
        .map_or(0, |end| end.parse::<usize>().unwrap() + 1);
    assert_eq!(kept, 200_000, "every byte that arrived is kept");
    let location = status.header("location").unwrap_or(&location).to_owned();
    let rest = a.send(
        "PATCH",
        &location,
        &[("Content-Type", "application/octet-stream")],
        Some(&blob[kept..]),
    );
    assert_eq!(rest.status, 202, "{}", rest.text());
    let location = rest.header("location").unwrap().to_owned();
    let sep = if location.contains('?') { '&' } else { '?' };
    let done = a.send(
        "PUT",
        &format!("{location}{sep}digest={}", sha256(&blob)),
        &[],
        None,
    );
    assert_eq!(done.status, 201, "{}", done.text());
    assert_eq!(
        a.get(&format!("/v2/acme/app/blobs/{}", sha256(&blob))).body,
        blob
    );

    // A manifest whose body stalls is refused too, and the server keeps serving.
    let mut c = stall_after(
        &s,
        &format!(
            "PUT /v2/acme/app/manifests/1 HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {bearer}\r\n\
             Content-Type: application/vnd.oci.image.manifest.v1+json\r\nContent-Length: 500\r\n\r\n",
            s.addr
        ),
        b"{\"schemaVersion\":2,",
    );
    let started = Instant::now();
    let (reply, closed) = read_until_closed(&mut c, Duration::from_secs(5));
    assert!(
        closed || reply.starts_with("HTTP/1.1 4"),
        "still waiting after {:?}: {reply:?}",
        started.elapsed()
    );
    assert!(started.elapsed() < Duration::from_secs(4));
    assert_eq!(a.get("/v2/acme/app/manifests/1").status, 404);
}

#[test]
fn portal_requests_with_oversized_bodies_are_refused_before_they_are_read() {
    let s = Server::start();
    // Only the head of a 1 MiB request goes out: the answer must come without the body.
    let mut c = TcpStream::connect(&s.addr).unwrap();
    write!(
        c,
        "POST /api/sign_in HTTP/1.1\r\nHost: {}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        s.addr,
        1 << 20
    )
    .unwrap();
    let (reply, _) = read_until_closed(&mut c, Duration::from_secs(5));
    assert!(reply.starts_with("HTTP/1.1 413"), "{reply:?}");
    // An ordinary form still goes through.
    let r = Client::new(&s).send(
        "POST",
        "/api/sign_in",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        Some(b"username=nobody&password=wrong+password+1"),
    );
    assert_ne!(r.status, 413);
    assert!(r.status < 500, "{} {}", r.status, r.text());
}

#[test]
fn a_client_that_stops_reading_a_download_is_let_go() {
    let s = Server::start_with(&["--body-timeout", "1s"]);
    s.tenant("acme", "alice", PW, "admin");
    let bearer = token(&s, "alice", PW, &["repository:acme/app:pull,push"]);
    let a = Client::with_bearer(&s, &bearer);
    let blob: Vec<u8> = (0..16u32 << 20).map(|i| (i % 253) as u8).collect();
    let digest = push_blob(&a, "acme/app", &blob);
    let mut c = TcpStream::connect(&s.addr).unwrap();
    // A small, fixed receive buffer (no autotuning), so that the blob is far more than
    // the kernel holds for a client that reads nothing.
    let size: libc::c_int = 64 * 1024;
    // SAFETY: a valid socket and a c_int option value of the stated length.
    let set = unsafe {
        libc::setsockopt(
            std::os::fd::AsRawFd::as_raw_fd(&c),
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&size as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    assert_eq!(set, 0);
    write!(
        c,
        "GET /v2/acme/app/blobs/{digest} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {bearer}\r\n\r\n",
        s.addr
    )
    .unwrap();
    // Read nothing for a while: the server gives up on the response.
    std::thread::sleep(Duration::from_secs(4));
    let (got, closed) = read_until_closed(&mut c, Duration::from_secs(10));
    assert!(closed, "the connection was kept");
    assert!(
        got.len() < blob.len(),
        "the whole blob went out to a client that read nothing for 4 s"
    );
    // Ordinary downloads are whole.
    assert_eq!(a.get(&format!("/v2/acme/app/blobs/{digest}")).body, blob);
}

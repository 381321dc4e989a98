//! The portal in a real browser (Debian's Chromium, headless): the page hydrates,
//! i.e. the WebAssembly bundle embedded in the binary loads and takes over the
//! server-rendered HTML without a hydration mismatch.

mod common;
use common::*;
use std::process::Command;

fn chromium_dom(url: &str) -> (String, String) {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=10000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(url)
        .output()
        .expect("chromium (make test installs it)");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_start_page_hydrates_in_chromium() {
    let s = Server::start();
    let (dom, log) = chromium_dom(&s.url("/"));
    assert!(dom.contains(&format!("docker login {}", s.addr)), "{dom}");
    assert!(
        !log.contains("panicked"),
        "the app panicked in the browser:\n{log}"
    );
    assert!(
        dom.contains("data-hydrated=\"true\""),
        "the page did not hydrate:\n{dom}\n{log}"
    );
}

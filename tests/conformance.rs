//! The official OCI Distribution conformance suite (../shared/oci-conformance) against
//! Berth with token auth on: it must report no failure and no skip.

mod common;
use common::*;
use std::process::Command;

#[test]
fn oci_conformance_suite_passes() {
    let Some(shared) = shared_dir() else {
        eprintln!("../shared/oci-conformance is not here; the suite runs where it is (CI has it)");
        return;
    };
    let run = shared.join("oci-conformance/run");
    assert!(run.exists(), "{} is missing", run.display());
    let s = Server::start();
    s.tenant("conformance", "oci", "conformance password", "admin");
    let results = tempfile::tempdir().unwrap();
    let out = Command::new("bash")
        .arg(&run)
        .args([s.addr.as_str(), "oci", "conformance password"])
        .env("OCI_RESULTS_DIR", results.path())
        .output()
        .expect("run the conformance suite");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    let summary = stdout
        .lines()
        .find(|l| l.starts_with("conformance: "))
        .unwrap_or_else(|| {
            panic!(
                "no summary line:\n{stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    // "conformance: N passed, N failed, N skipped"
    let n = |word: &str| -> u64 {
        summary["conformance: ".len()..]
            .split(", ")
            .find_map(|part| part.strip_suffix(word).and_then(|x| x.trim().parse().ok()))
            .unwrap_or(u64::MAX)
    };
    let (passed, failed, skipped) = (n("passed"), n("failed"), n("skipped"));
    assert!(passed > 0 && passed != u64::MAX, "{summary}");
    assert_eq!((failed, skipped), (0, 0), "{summary}\n{stdout}");
    assert!(out.status.success(), "{summary}");
}

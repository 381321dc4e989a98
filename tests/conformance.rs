//! The official OCI Distribution conformance suite (../shared/oci-conformance) against
//! Berth with token auth on: it must report no failure and no skip.

mod common;
use common::*;

#[test]
fn oci_conformance_suite_passes() {
    let s = Server::start();
    s.tenant("conformance", "oci", "conformance password", "admin");
    let Some((counts, output)) = run_conformance(&s.addr, "oci", "conformance password") else {
        return;
    };
    let (_, failed, skipped) = counts;
    assert_eq!((failed, skipped), (0, 0), "{output}");
}

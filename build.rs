//! Tells the portal where the site folder built by `.ci/build-site` is, so its files are
//! embedded in the binary, and rebuilds when they change.

fn main() {
    let dir = std::env::var("BERTH_SITE_DIR").unwrap_or_else(|_| {
        format!(
            "{}/target/site",
            std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into())
        )
    });
    // The folder may not exist before the first front-end build (e.g. for clippy).
    let _ = std::fs::create_dir_all(&dir);
    println!("cargo:rustc-env=BERTH_SITE_DIR={dir}");
    println!("cargo:rerun-if-env-changed=BERTH_SITE_DIR");
    println!("cargo:rerun-if-changed={dir}");
}

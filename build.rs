//! Tells the portal where the site folder built by `.ci/build-site` is, so its files are
//! embedded in the binary, and rebuilds when they change; records the commit for
//! `berth --version`.

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
    commit();
}

/// The commit the binary is built from, for `berth --version`: `BERTH_COMMIT` when set
/// (a build outside a checkout), else git's, else "unknown".
fn commit() {
    println!("cargo:rerun-if-env-changed=BERTH_COMMIT");
    let root = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let git = std::path::Path::new(&root).join(".git");
    for watched in ["HEAD", "refs/heads", "packed-refs"] {
        if git.join(watched).exists() {
            println!("cargo:rerun-if-changed={}", git.join(watched).display());
        }
    }
    let commit = std::env::var("BERTH_COMMIT").ok().or_else(|| {
        std::process::Command::new("git")
            .args(["rev-parse", "--short=12", "HEAD"])
            .current_dir(&root)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    });
    println!(
        "cargo:rustc-env=BERTH_COMMIT={}",
        commit.unwrap_or_else(|| "unknown".into())
    );
}

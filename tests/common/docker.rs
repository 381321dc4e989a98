//! A dockerd of our own for the tests that need the real docker CLI and engine, and
//! images made without any download.

use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A dockerd of our own on a unix socket in a temp folder, stopped by PID on drop.
pub struct Dockerd {
    child: Child,
    pub dir: tempfile::TempDir,
}

impl Dockerd {
    pub fn start() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("bd")
            .tempdir_in("/tmp")
            .unwrap();
        let p = dir.path();
        let log = std::fs::File::create(p.join("dockerd.log")).unwrap();
        let child = Command::new("dockerd")
            .args([
                "--iptables=false",
                "--ip6tables=false",
                "--bridge=none",
                "--storage-driver=vfs",
            ])
            .arg("--data-root")
            .arg(p.join("root"))
            .arg("--exec-root")
            .arg(p.join("exec"))
            .arg("--pidfile")
            .arg(p.join("docker.pid"))
            .arg("-H")
            .arg(format!("unix://{}", p.join("docker.sock").display()))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("dockerd (make test installs docker.io)");
        let d = Dockerd { child, dir };
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            if d.docker(&["version"]).status.success() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "dockerd did not start: {}",
                d.log()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
        d
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dockerd.log")).unwrap_or_default()
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new("docker");
        c.args(args)
            .env(
                "DOCKER_HOST",
                format!("unix://{}", self.dir.path().join("docker.sock").display()),
            )
            .env("DOCKER_CONFIG", self.dir.path().join("config"));
        c
    }

    pub fn docker(&self, args: &[&str]) -> Output {
        self.cmd(args)
            .stdin(Stdio::null())
            .output()
            .expect("docker CLI")
    }

    pub fn docker_stdin(&self, args: &[&str], input: &str) -> Output {
        use std::io::Write;
        let mut child = self
            .cmd(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    /// The socket, for `DOCKER_HOST`.
    pub fn host(&self) -> String {
        format!("unix://{}", self.dir.path().join("docker.sock").display())
    }

    /// Runs docker and insists it succeeds; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.docker(args);
        assert!(
            out.status.success(),
            "docker {args:?}: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        text(&out.stdout)
    }

    /// Runs docker and insists it fails; returns stdout + stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.docker(args);
        assert!(
            !out.status.success(),
            "docker {args:?} should have failed: {}",
            text(&out.stdout)
        );
        format!("{}{}", text(&out.stdout), text(&out.stderr))
    }

    pub fn login(&self, host: &str, user: &str, secret: &str) -> Output {
        self.docker_stdin(&["login", host, "-u", user, "--password-stdin"], secret)
    }
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Imports a tiny root filesystem as an image, then adds a second layer with
/// `docker create` + `docker cp` + `docker commit` (no container ever runs).
pub fn make_image(d: &Dockerd, name: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("rootfs");
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::write(root.join("etc/os-release"), "NAME=berth-test\n").unwrap();
    std::fs::write(root.join("hello.txt"), format!("hello from {name}\n")).unwrap();
    let tar = Command::new("tar")
        .arg("-C")
        .arg(&root)
        .args(["-cf", "-", "."])
        .output()
        .unwrap();
    assert!(tar.status.success());
    let base = "berth-test-base:1".to_owned();
    let mut imp = d
        .cmd(&["import", "--change", "CMD [\"/hello\"]", "-", &base])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        imp.stdin.take().unwrap().write_all(&tar.stdout).unwrap();
    }
    let out = imp.wait_with_output().unwrap();
    assert!(out.status.success(), "docker import: {}", text(&out.stderr));
    let cid = d.ok(&["create", &base]).trim().to_owned();
    let extra = tmp.path().join("second.txt");
    std::fs::write(&extra, "second layer\n").unwrap();
    d.ok(&["cp", extra.to_str().unwrap(), &format!("{cid}:/second.txt")]);
    d.ok(&["commit", &cid, name]);
    d.ok(&["rm", &cid]);
    let layers = d.ok(&["image", "inspect", "-f", "{{len .RootFS.Layers}}", name]);
    assert_eq!(layers.trim(), "2", "a multi-layer image");
}

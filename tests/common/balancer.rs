//! Debian's nginx as a round-robin balancer on loopback in front of several Berth
//! replicas, configured as the README's "Running several replicas" says. Started by the
//! test on a free port and stopped by PID.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Balancer {
    child: Child,
    pub addr: String,
    dir: tempfile::TempDir,
}

impl Balancer {
    /// A free loopback address for the balancer, chosen before the replicas start
    /// (they are told it as their public URL).
    pub fn free_addr() -> String {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().to_string()
    }

    /// Starts nginx on `addr`, sending each request to the next of `upstreams`.
    pub fn start(addr: &str, upstreams: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display();
        let servers: String = upstreams
            .iter()
            .map(|u| format!("        server {u};\n"))
            .collect();
        let conf = format!(
            r#"daemon off;
master_process off;
worker_processes 1;
error_log {d}/error.log warn;
pid {d}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
    log_format upstream '$request_method $uri $status $upstream_addr';
    access_log {d}/access.log upstream;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    upstream berth {{
{servers}    }}
    server {{
        listen {addr};
        client_max_body_size 0;
        proxy_http_version 1.1;
        proxy_request_buffering off;
        proxy_buffering off;
        proxy_read_timeout 900s;
        proxy_send_timeout 900s;
        location / {{
            proxy_pass http://berth;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $http_host;
            proxy_set_header Connection "";
        }}
    }}
}}
"#
        );
        let conf_path = dir.path().join("nginx.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let child = Command::new("nginx")
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&conf_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx (Debian's; make test-deps installs it)");
        let b = Balancer {
            child,
            addr: addr.to_owned(),
            dir,
        };
        let started = Instant::now();
        while std::net::TcpStream::connect(addr).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "nginx did not start: {}",
                std::fs::read_to_string(b.dir.path().join("error.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        b
    }

    /// Each request served so far, in order, as `METHOD PATH STATUS UPSTREAM`.
    pub fn requests(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("access.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// The upstreams that served requests whose line (see [`Self::requests`]) starts
    /// with `prefix`, in order.
    pub fn served_by(&self, prefix: &str) -> Vec<String> {
        self.requests()
            .iter()
            .filter(|l| l.starts_with(prefix))
            .filter_map(|l| l.rsplit(' ').next().map(str::to_owned))
            .collect()
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

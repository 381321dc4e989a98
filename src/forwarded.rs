//! Who the client is when Berth sits behind proxies. Only a peer inside a
//! `--trusted-proxy` network has its `Forwarded` / `X-Forwarded-For` / `-Proto` /
//! `-Host` headers read; from anyone else they are ignored. Either way they are
//! removed from the request here, once, so that nothing after this layer can read a
//! forged one:
//!
//! - `ConnectInfo<SocketAddr>` becomes the client's address (what throttling, the
//!   audit log and the request span use); the peer that connected stays in [`Peer`];
//! - `Host` becomes the host the client asked for (also over HTTP/2, which sends it
//!   as the request's authority);
//! - `X-Forwarded-Proto` is set to exactly `https` or `http`, the scheme the client
//!   used (TLS on our own port counts), for the URLs Berth prints.

use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// The networks whose peers are proxies we trust to say who their client is.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Arc<Vec<IpNet>>);

/// The address that opened the connection, before any forwarding header is read.
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

/// Marks a request that arrived over TLS on Berth's own port.
#[derive(Debug, Clone, Copy)]
pub struct Tls;

/// Parses `10.0.0.0/8`, `fd00::/8` or a single address (`10.0.0.5`).
pub fn parse_network(s: &str) -> Result<IpNet, String> {
    let s = s.trim();
    s.parse::<IpNet>()
        .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("invalid network {s:?}: use e.g. 10.0.0.0/8 or 127.0.0.1"))
}

impl TrustedProxies {
    pub fn new(networks: Vec<IpNet>) -> Self {
        TrustedProxies(Arc::new(networks))
    }

    pub fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|n| n.contains(&ip))
    }

    /// The client, host and scheme of a request from `peer`, with forwarding headers
    /// read only when `peer` is trusted.
    fn resolve(&self, peer: IpAddr, headers: &HeaderMap) -> Origin {
        let mut origin = Origin {
            client: peer,
            host: None,
            https: None,
        };
        if !self.trusts(peer) {
            return origin;
        }
        let hops = forwarded_hops(headers);
        // Walk from the nearest hop outwards: each hop was written by a proxy we trust
        // (the peer first), and the first address that is not a trusted proxy is the
        // client. Its hop says which host and scheme the client used.
        for hop in hops.iter().rev() {
            let Some(addr) = hop.client else {
                break;
            };
            origin.client = addr;
            origin.host = hop.host.clone().or(origin.host);
            origin.https = hop.https.or(origin.https);
            if !self.trusts(addr) {
                break;
            }
        }
        origin
    }
}

/// What a request's origin is, after forwarding headers.
struct Origin {
    client: IpAddr,
    host: Option<String>,
    https: Option<bool>,
}

/// One proxy's account of its client.
#[derive(Debug, Default, Clone, PartialEq)]
struct Hop {
    client: Option<IpAddr>,
    host: Option<String>,
    https: Option<bool>,
}

/// The hops of `Forwarded` (RFC 7239) when present, else of `X-Forwarded-For` with
/// `-Host` and `-Proto` (a proxy that appends to those lists keeps them in step with
/// the addresses; a single value belongs to the nearest hop).
fn forwarded_hops(headers: &HeaderMap) -> Vec<Hop> {
    let values = |name: &str| -> Vec<String> {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .collect()
    };
    let forwarded = values("forwarded");
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .map(|e| parse_forwarded_element(e))
            .collect();
    }
    let fors = values("x-forwarded-for");
    let hosts = values("x-forwarded-host");
    let protos = values("x-forwarded-proto");
    let mut hops: Vec<Hop> = fors
        .iter()
        .map(|f| Hop {
            client: parse_node(f),
            ..Hop::default()
        })
        .collect();
    let n = hops.len();
    let spread = |hops: &mut Vec<Hop>, list: &[String], set: &dyn Fn(&mut Hop, &str)| {
        if list.len() == n {
            for (hop, v) in hops.iter_mut().zip(list) {
                set(hop, v);
            }
        } else if let (Some(last), Some(v)) = (hops.last_mut(), list.last()) {
            set(last, v);
        }
    };
    spread(&mut hops, &hosts, &|h, v| h.host = valid_host(v));
    spread(&mut hops, &protos, &|h, v| h.https = parse_proto(v));
    hops
}

/// `for=192.0.2.60;proto=https;host=registry.example.com`.
fn parse_forwarded_element(element: &str) -> Hop {
    let mut hop = Hop::default();
    for pair in element.split(';') {
        let Some((k, v)) = pair.split_once('=') else {
            continue;
        };
        let v = v.trim().trim_matches('"');
        match k.trim().to_ascii_lowercase().as_str() {
            "for" => hop.client = parse_node(v),
            "host" => hop.host = valid_host(v),
            "proto" => hop.https = parse_proto(v),
            _ => {}
        }
    }
    hop
}

/// An address as proxies write it: `192.0.2.60`, `192.0.2.60:4711`, `[2001:db8::1]`,
/// `[2001:db8::1]:4711`, `2001:db8::1`. Obfuscated and `unknown` nodes are `None`.
fn parse_node(v: &str) -> Option<IpAddr> {
    let v = v.trim().trim_matches('"');
    if let Ok(ip) = v.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Ok(sa) = v.parse::<SocketAddr>() {
        return Some(canonical(sa.ip()));
    }
    v.strip_prefix('[')
        .and_then(|r| r.split(']').next())
        .and_then(|ip| ip.parse().ok())
        .map(canonical)
}

fn parse_proto(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "https" => Some(true),
        "http" => Some(false),
        _ => None,
    }
}

/// A host header value we are willing to print back in URLs: a name or address
/// with an optional port, nothing else.
fn valid_host(v: &str) -> Option<String> {
    let v = v.trim();
    let ok = !v.is_empty()
        && v.len() <= 255
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    ok.then(|| v.to_owned())
}

/// IPv4-mapped IPv6 addresses are the IPv4 address they carry.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

const FORWARDING_HEADERS: [&str; 4] = [
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
];

/// The middleware: resolves the client (see the module's comment) before anything
/// else sees the request.
pub async fn resolve_client(
    axum::extract::State(trusted): axum::extract::State<TrustedProxies>,
    mut req: Request,
    next: Next,
) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
        .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)));
    let origin = trusted.resolve(peer.ip(), req.headers());
    let tls = req.extensions().get::<Tls>().is_some();
    // HTTP/2 names the host in the request's authority, not in a `Host` header.
    let authority = req
        .uri()
        .authority()
        .and_then(|a| HeaderValue::from_str(a.as_str()).ok());
    let headers = req.headers_mut();
    for name in FORWARDING_HEADERS {
        headers.remove(name);
    }
    if let Some(a) = authority
        && !headers.contains_key(header::HOST)
    {
        headers.insert(header::HOST, a);
    }
    if let Some(host) = origin
        .host
        .as_deref()
        .and_then(|h| HeaderValue::from_str(h).ok())
    {
        headers.insert(header::HOST, host);
    }
    let https = origin.https.unwrap_or(tls);
    headers.insert(
        "x-forwarded-proto",
        HeaderValue::from_static(if https { "https" } else { "http" }),
    );
    let extensions = req.extensions_mut();
    extensions.insert(Peer(peer));
    extensions.insert(ConnectInfo(SocketAddr::new(origin.client, 0)));
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trusted(nets: &[&str]) -> TrustedProxies {
        TrustedProxies::new(nets.iter().map(|n| parse_network(n).unwrap()).collect())
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_says() {
        let t = trusted(&["10.0.0.0/8"]);
        let h = headers(&[
            ("x-forwarded-for", "1.2.3.4"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "evil.example"),
        ]);
        let o = t.resolve(ip("192.0.2.7"), &h);
        assert_eq!(o.client, ip("192.0.2.7"));
        assert_eq!(o.host, None);
        assert_eq!(o.https, None);
    }

    #[test]
    fn the_right_most_untrusted_address_is_the_client() {
        let t = trusted(&["10.0.0.0/8", "127.0.0.1"]);
        // The client forged the first entry; our two proxies appended the rest.
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 203.0.113.9, 10.1.1.1")]);
        let o = t.resolve(ip("127.0.0.1"), &h);
        assert_eq!(o.client, ip("203.0.113.9"));
        // Only trusted proxies all the way: the outermost one is the client.
        let h = headers(&[("x-forwarded-for", "10.2.2.2")]);
        assert_eq!(t.resolve(ip("127.0.0.1"), &h).client, ip("10.2.2.2"));
    }

    #[test]
    fn forwarded_elements_give_client_host_and_scheme() {
        let t = trusted(&["127.0.0.0/8"]);
        let h = headers(&[(
            "forwarded",
            r#"for="[2001:db8::17]:4711";proto=https;host=registry.example.com"#,
        )]);
        let o = t.resolve(ip("127.0.0.1"), &h);
        assert_eq!(o.client, ip("2001:db8::17"));
        assert_eq!(o.host.as_deref(), Some("registry.example.com"));
        assert_eq!(o.https, Some(true));
        // Forwarded wins over the X- headers when both are there.
        let h = headers(&[
            ("forwarded", "for=198.51.100.1"),
            ("x-forwarded-for", "198.51.100.2"),
        ]);
        assert_eq!(t.resolve(ip("127.0.0.1"), &h).client, ip("198.51.100.1"));
    }

    #[test]
    fn single_host_and_proto_values_belong_to_the_nearest_hop() {
        let t = trusted(&["127.0.0.1"]);
        let h = headers(&[
            ("x-forwarded-for", "198.51.100.1"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "registry.example.com:443"),
        ]);
        let o = t.resolve(ip("127.0.0.1"), &h);
        assert_eq!(o.client, ip("198.51.100.1"));
        assert_eq!(o.https, Some(true));
        assert_eq!(o.host.as_deref(), Some("registry.example.com:443"));
        // A host with anything but name characters is not printed back.
        let h = headers(&[
            ("x-forwarded-for", "198.51.100.1"),
            ("x-forwarded-host", "a\"b/c"),
        ]);
        assert_eq!(t.resolve(ip("127.0.0.1"), &h).host, None);
    }

    #[test]
    fn networks_parse_with_and_without_prefix() {
        assert!(trusted(&["10.0.0.5"]).trusts(ip("10.0.0.5")));
        assert!(!trusted(&["10.0.0.5"]).trusts(ip("10.0.0.6")));
        assert!(trusted(&["fd00::/8"]).trusts(ip("fd12::1")));
        assert!(trusted(&["127.0.0.1"]).trusts(ip("::ffff:127.0.0.1")));
        assert!(parse_network("10.0.0.0/33").is_err());
        assert!(parse_network("example.com").is_err());
    }
}

//! Webhooks: an account's endpoints hear its pushes, deletions, pulls, refused
//! pushes and retention runs. Each message is written to the outbox in the transaction
//! that records its event (see `db::webhooks`), then delivered at least once, signed
//! as the Standard Webhooks specification says, and retried with growing delays for
//! more than a day. One process at a time sends a message (a lease on its row).
//!
//! The payload, one JSON object for every kind:
//! `{"id":"evt_…","type":"push","timestamp":"2026-12-02T10:00:00Z","account":"acme",
//! "repository":"acme/app","tag":"1.0","digest":"sha256:…","media_type":"…",
//! "size":1234,"actor":"alice"}`; fields that do not apply are `null`, and `quota`
//! and `retention` events add their numbers.

use super::access::Caller;
use super::{Error, Invalid, Result, Services, Thing, now_ms};
use crate::db::{self, Attempt, Event, NewWebhook, Webhook, WebhookDelivery};
use crate::domain::{AccountName, EventKind, EventSet, RepositoryGlob, RepositoryName, TagPattern};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

/// A delivery that gets no answer within this time failed.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a rotated-out secret keeps signing beside the new one.
pub const ROTATION_OVERLAP: Duration = Duration::from_secs(24 * 3600);
/// An endpoint whose deliveries all failed for this long is disabled.
pub const DISABLE_AFTER: Duration = Duration::from_secs(3 * 24 * 3600);
/// The delay before each retry: the first within 5 s, the second within 30 s, then
/// growing to hours; the last retry comes more than a day after the event.
pub const RETRY_DELAYS: [Duration; 11] = [
    Duration::from_secs(5),
    Duration::from_secs(30),
    Duration::from_secs(120),
    Duration::from_secs(600),
    Duration::from_secs(1800),
    Duration::from_secs(3600),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(4 * 3600),
    Duration::from_secs(8 * 3600),
    Duration::from_secs(8 * 3600),
    Duration::from_secs(8 * 3600),
];
/// How many bytes of a response the delivery log keeps.
const RESPONSE_KEPT: usize = 512;
/// How long a claim on a message lasts: twice what an attempt can take, so a claim
/// of a process that died mid-attempt lapses soon (a message then may arrive twice,
/// which at-least-once delivery allows).
const CLAIM: Duration = Duration::from_secs(30);
/// How often the outbox is looked at when nothing woke the deliverer (another
/// replica's events, retries coming due).
const POLL: Duration = Duration::from_secs(1);
/// Messages sent at once by one process.
const BATCH: u64 = 32;

/// The HTTP client of deliveries and the wake-up of the loop that sends them.
pub struct Deliverer {
    client: reqwest::Client,
    allow_private: bool,
    wake: tokio::sync::Notify,
    holder: String,
}

impl Deliverer {
    /// Redirects are not followed (a 3xx is a failure), no proxy is used, and names
    /// resolve only to public addresses unless `allow_private`: the address checked is
    /// the one connected to, so a name that resolves elsewhere later gains nothing.
    pub fn new(allow_private: bool) -> Self {
        // ring, as for our own TLS and the object store's client.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(DELIVERY_TIMEOUT)
            .user_agent(concat!("Berth-Webhooks/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(PublicOnly { allow_private })
            .build()
            .expect("an HTTP client with no TLS configuration to load");
        Self {
            client,
            allow_private,
            wake: tokio::sync::Notify::new(),
            holder: uuid::Uuid::new_v4().to_string(),
        }
    }
}

impl Default for Deliverer {
    fn default() -> Self {
        Self::new(false)
    }
}

/// What one event says, before it becomes a message.
pub(super) struct EventFacts<'a> {
    pub kind: EventKind,
    pub account_id: i64,
    pub repository: Option<&'a RepositoryName>,
    /// Without a repository: the account's name.
    pub account: Option<&'a str>,
    pub tag: Option<&'a str>,
    pub digest: Option<&'a str>,
    pub media_type: Option<&'a str>,
    pub size: Option<u64>,
    pub actor: &'a str,
    /// The kind's own numbers (a quota's, a retention run's).
    pub extra: Option<Value>,
}

impl EventFacts<'_> {
    pub fn new(kind: EventKind, account_id: i64, actor: &str) -> EventFacts<'_> {
        EventFacts {
            kind,
            account_id,
            repository: None,
            account: None,
            tag: None,
            digest: None,
            media_type: None,
            size: None,
            actor,
            extra: None,
        }
    }

    /// The event with its id and payload, timestamped `now`.
    pub fn event(self, now: i64) -> Event {
        let id = format!("evt_{}", uuid::Uuid::new_v4().simple());
        let account = self
            .account
            .or_else(|| self.repository.and_then(|r| r.namespace()))
            .unwrap_or_default();
        let within = self.repository.map(|r| {
            r.as_str()
                .split_once('/')
                .map_or("", |(_, rest)| rest)
                .to_owned()
        });
        let mut payload = json!({
            "id": id,
            "type": self.kind.as_str(),
            "timestamp": super::format_rfc3339(now),
            "account": account,
            "repository": self.repository.map(|r| r.as_str()),
            "tag": self.tag,
            "digest": self.digest,
            "media_type": self.media_type,
            "size": self.size,
            "actor": self.actor,
        });
        if let (Some(Value::Object(extra)), Some(map)) = (self.extra, payload.as_object_mut()) {
            map.extend(extra);
        }
        Event {
            account_id: self.account_id,
            kind: self.kind,
            repository: within,
            tag: self.tag.map(str::to_owned),
            id,
            payload: payload.to_string(),
        }
    }
}

/// A new secret: `whsec_` and the base64 of 32 random bytes.
pub fn new_secret() -> String {
    use rand::RngCore;
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    format!("whsec_{}", B64.encode(key))
}

/// `v1,<base64 of HMAC-SHA256("id.timestamp.body")>`, keyed with the secret's
/// decoded bytes, as the Standard Webhooks specification says.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &str) -> String {
    use hmac::{KeyInit, Mac};
    let key = B64
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .unwrap_or_default();
    let mut mac =
        hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).expect("HMAC takes keys of any length");
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    format!("v1,{}", B64.encode(mac.finalize().into_bytes()))
}

/// Whether an address is one a webhook may not reach without
/// `--webhook-allow-private`: loopback, private networks, link-local, shared
/// (carrier-grade NAT), unspecified, multicast and documentation ranges, and their
/// IPv4-mapped IPv6 forms.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (b == 18 || b == 19))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8
        }
    }
}

/// Resolves names to their public addresses only (or to all, when allowed).
struct PublicOnly {
    allow_private: bool,
}

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let all: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let usable: Vec<SocketAddr> = all
                .iter()
                .copied()
                .filter(|a| allow_private || !is_private(a.ip()))
                .collect();
            if usable.is_empty() {
                return Err(format!(
                    "{host} resolves only to private or loopback addresses, which webhooks may not reach unless Berth runs with --webhook-allow-private"
                )
                .into());
            }
            Ok(Box::new(usable.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// A webhook URL: `http` or `https`, with a host, at most 2,000 characters.
pub fn parse_webhook_url(s: &str) -> Result<url::Url> {
    let bad = |why: &str| Error::Invalid(Invalid::Request(format!("webhook URL {s:?}: {why}")));
    if s.len() > 2000 {
        return Err(bad("longer than 2,000 characters"));
    }
    let u = url::Url::parse(s).map_err(|e| bad(&e.to_string()))?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(bad("use http:// or https://"));
    }
    if u.host().is_none() {
        return Err(bad("name a host"));
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err(bad("put no credentials in the URL"));
    }
    Ok(u)
}

impl Services {
    /// Creates a webhook for an account's admins (and the operator); returns its id
    /// and its secret, which is shown this once. Audited.
    pub async fn create_webhook(
        &self,
        caller: &Caller,
        account: &AccountName,
        url: &str,
        events: &EventSet,
        repository: Option<&RepositoryGlob>,
        tag: Option<&TagPattern>,
    ) -> Result<(i64, String)> {
        let (a, actor) = self.administered(caller, account).await?;
        // Which addresses it may reach is the serving process's setting, checked on
        // every delivery (its log says why one was refused).
        let url = parse_webhook_url(url)?;
        let secret = new_secret();
        let id = self
            .db
            .create_webhook(NewWebhook {
                account_id: a.id,
                url: url.as_str(),
                events,
                repository,
                tag,
                secret: &secret,
                created_by: &actor,
                now: now_ms(),
            })
            .await?;
        self.audit(
            Some(a.id),
            &actor,
            "webhook.create",
            None,
            Some(format!("{id} {url} {events}")),
        )
        .await;
        Ok((id, secret))
    }

    /// An account's webhooks, for its admins.
    pub async fn webhooks(&self, caller: &Caller, account: &AccountName) -> Result<Vec<Webhook>> {
        let (a, _) = self.administered(caller, account).await?;
        Ok(self.db.webhooks(a.id).await?)
    }

    /// Deletes a webhook with its delivery log. Audited.
    pub async fn delete_webhook(&self, caller: &Caller, hook: Hook<'_>) -> Result<()> {
        let (w, actor) = self.administered_webhook(caller, hook).await?;
        if !self.db.delete_webhook(w.id).await? {
            return Err(Error::NotFound(Thing::Webhook));
        }
        self.audit(
            Some(w.account_id),
            &actor,
            "webhook.delete",
            None,
            Some(format!("{} {}", w.id, w.url)),
        )
        .await;
        Ok(())
    }

    /// A new secret for a webhook; for 24 hours the old one signs beside it. Audited.
    pub async fn rotate_webhook_secret(&self, caller: &Caller, hook: Hook<'_>) -> Result<String> {
        let (w, actor) = self.administered_webhook(caller, hook).await?;
        let secret = new_secret();
        let until = now_ms() + ROTATION_OVERLAP.as_millis() as i64;
        if !self.db.rotate_webhook_secret(w.id, &secret, until).await? {
            return Err(Error::NotFound(Thing::Webhook));
        }
        self.audit(
            Some(w.account_id),
            &actor,
            "webhook.rotate-secret",
            None,
            Some(w.id.to_string()),
        )
        .await;
        Ok(secret)
    }

    /// A webhook's latest deliveries, newest first, for its account's admins.
    pub async fn webhook_deliveries(
        &self,
        caller: &Caller,
        hook: Hook<'_>,
        limit: u64,
    ) -> Result<(Webhook, Vec<WebhookDelivery>)> {
        let (w, _) = self.administered_webhook(caller, hook).await?;
        let deliveries = self.db.webhook_deliveries(w.id, limit).await?;
        Ok((w, deliveries))
    }

    /// Sends a delivered or failed message again, with its id; `account`, when
    /// named, must be its webhook's.
    pub async fn redeliver_webhook(
        &self,
        caller: &Caller,
        account: Option<&AccountName>,
        delivery: i64,
    ) -> Result<()> {
        let d = self
            .db
            .webhook_delivery(delivery)
            .await?
            .ok_or(Error::NotFound(Thing::Delivery))?;
        let hook = Hook {
            id: d.webhook_id,
            account,
        };
        self.administered_webhook(caller, hook).await?;
        if !self.db.redeliver(d.id, now_ms()).await? {
            return Err(Error::Conflict(
                "that delivery is being sent already".into(),
            ));
        }
        self.webhooks.wake.notify_one();
        Ok(())
    }

    /// Turns a webhook on again (after a `410` or days of failures: its next event
    /// is sent) or off (nothing is queued for it meanwhile). Audited.
    pub async fn set_webhook_enabled(
        &self,
        caller: &Caller,
        hook: Hook<'_>,
        enabled: bool,
    ) -> Result<()> {
        let (w, actor) = self.administered_webhook(caller, hook).await?;
        let reason = (!enabled).then(|| format!("turned off by {actor}"));
        if !self
            .db
            .set_webhook_enabled(w.id, enabled, reason.as_deref())
            .await?
        {
            return Err(Error::NotFound(Thing::Webhook));
        }
        self.audit(
            Some(w.account_id),
            &actor,
            if enabled {
                "webhook.enable"
            } else {
                "webhook.disable"
            },
            None,
            Some(format!("{} {}", w.id, w.url)),
        )
        .await;
        Ok(())
    }

    /// Sends a `ping` message to one webhook (whatever events it hears).
    pub async fn send_test_webhook(&self, caller: &Caller, hook: Hook<'_>) -> Result<()> {
        let (w, actor) = self.administered_webhook(caller, hook).await?;
        let now = now_ms();
        let event_id = format!("evt_{}", uuid::Uuid::new_v4().simple());
        let account = self.db.account_by_id(w.account_id).await?.map(|a| a.name);
        let payload = json!({
            "id": event_id,
            "type": "ping",
            "timestamp": super::format_rfc3339(now),
            "account": account,
            "repository": null, "tag": null, "digest": null, "media_type": null,
            "size": null,
            "actor": actor,
        });
        self.db
            .enqueue_test(w.id, &event_id, &payload.to_string(), now)
            .await?;
        self.webhooks.wake.notify_one();
        Ok(())
    }

    /// Messages for events recorded by no other write (a refused push, a retention
    /// run), in a transaction of their own. A failure is logged: the event itself
    /// happened either way.
    pub(super) async fn raise_events(&self, events: Vec<Event>) {
        match self.db.enqueue_events(&events, now_ms()).await {
            Ok(n) if n > 0 => self.webhooks.wake.notify_one(),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not write webhook messages"),
        }
    }

    /// The error of a refused blob link; one refused for the quota raises a `quota`
    /// event.
    pub(super) async fn refused_push(
        &self,
        repo: &RepositoryName,
        digest: &crate::domain::Digest,
        size: u64,
        actor: &str,
        refused: db::LinkRefused,
    ) -> Error {
        let error = Error::from(refused);
        self.raise_quota(repo, Some(digest), size, actor, &error)
            .await;
        error
    }

    /// A `quota` event for a push the quota refused (in a transaction of its own:
    /// nothing else was written); other errors raise nothing.
    pub(super) async fn raise_quota(
        &self,
        repo: &RepositoryName,
        digest: Option<&crate::domain::Digest>,
        size: u64,
        actor: &str,
        error: &Error,
    ) {
        let Error::QuotaExceeded { used, quota } = error else {
            return;
        };
        let Ok(r) = self.repository(repo).await else {
            return;
        };
        let digest = digest.map(|d| d.to_string());
        let mut facts = EventFacts::new(EventKind::Quota, r.account_id, actor);
        facts.repository = Some(repo);
        facts.digest = digest.as_deref();
        facts.size = Some(size);
        facts.extra = Some(json!({"used": used, "quota": quota}));
        self.raise_events(vec![facts.event(now_ms())]).await;
    }

    /// Wakes this process's deliverer after a write that may have queued messages.
    pub(super) fn events_written(&self) {
        self.webhooks.wake.notify_one();
    }

    /// Sends what is due, for as long as the server runs.
    pub async fn deliver_webhooks(&self) {
        loop {
            match self.deliver_due().await {
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "could not read the webhook outbox"),
            }
            tokio::select! {
                _ = self.webhooks.wake.notified() => {}
                _ = tokio::time::sleep(POLL) => {}
            }
        }
    }

    /// One round: claims up to a batch of due messages and sends them at once;
    /// returns how many it sent.
    pub async fn deliver_due(&self) -> Result<usize> {
        let now = now_ms();
        let holder = &self.webhooks.holder;
        let claimed = self
            .db
            .claim_deliveries(holder, now, now + CLAIM.as_millis() as i64, BATCH)
            .await?;
        let n = claimed.len();
        futures_util::future::join_all(claimed.into_iter().map(|(d, w)| self.attempt(d, w))).await;
        Ok(n)
    }

    async fn attempt(&self, d: WebhookDelivery, w: Webhook) {
        let started = Instant::now();
        let at = now_ms();
        let outcome = self.send(&d, &w, at).await;
        let latency_ms = started.elapsed().as_millis() as i64;
        let ok = matches!(outcome, Sent::Answered(s, _) if (200..300).contains(&s));
        let gone = matches!(outcome, Sent::Answered(410, _));
        let (status, response) = match outcome {
            Sent::Answered(s, body) => (Some(s as i32), body),
            Sent::Failed(why) => (None, why),
        };
        let retry_at = (!ok && !gone)
            .then(|| RETRY_DELAYS.get(d.attempts.max(0) as usize))
            .flatten()
            .map(|delay| at + delay.as_millis() as i64);
        let state = match (ok, retry_at) {
            (true, _) => db::DELIVERED,
            (false, Some(_)) => db::PENDING,
            (false, None) => db::FAILED,
        };
        let recorded = Attempt {
            at,
            status,
            latency_ms,
            response,
            retry_at,
            state,
        };
        if let Err(e) = self
            .db
            .finish_delivery(d.id, &self.webhooks.holder, &recorded)
            .await
        {
            tracing::warn!(delivery = d.id, error = %e, "could not record a webhook delivery");
        }
        self.metrics.record_webhook(ok);
        let disable = if gone {
            Some("the endpoint answered 410 Gone".to_owned())
        } else {
            match self.db.record_webhook_outcome(w.id, ok, at).await {
                Ok(Some(since)) if at - since >= DISABLE_AFTER.as_millis() as i64 => Some(format!(
                    "every delivery failed since {}",
                    super::format_rfc3339(since)
                )),
                Ok(_) => None,
                Err(e) => {
                    tracing::warn!(webhook = w.id, error = %e, "could not record a webhook's outcome");
                    None
                }
            }
        };
        if let Some(reason) = disable {
            if let Err(e) = self
                .db
                .set_webhook_enabled(w.id, false, Some(&reason))
                .await
            {
                tracing::warn!(webhook = w.id, error = %e, "could not disable a webhook");
                return;
            }
            tracing::warn!(webhook = w.id, url = %w.url, %reason, "webhook disabled");
            self.audit(
                Some(w.account_id),
                "berth",
                "webhook.disable",
                None,
                Some(format!("{} {}: {reason}", w.id, w.url)),
            )
            .await;
        }
    }

    /// One POST of a message, signed for this attempt's time.
    async fn send(&self, d: &WebhookDelivery, w: &Webhook, at: i64) -> Sent {
        let Ok(url) = parse_webhook_url(&w.url) else {
            return Sent::Failed("the webhook's URL is not valid".into());
        };
        if let Err(e) = self.refuse_private_literal(&url) {
            return Sent::Failed(e.to_string());
        }
        let timestamp = at.div_euclid(1000);
        let mut signature = sign(&w.secret, &d.message_id, timestamp, &d.payload);
        if let (Some(previous), Some(until)) = (&w.previous_secret, w.previous_until)
            && until > at
        {
            signature.push(' ');
            signature.push_str(&sign(previous, &d.message_id, timestamp, &d.payload));
        }
        let sent = self
            .webhooks
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", &d.message_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(d.payload.clone())
            .send()
            .await;
        match sent {
            Ok(mut r) => {
                let status = r.status().as_u16();
                let mut kept = Vec::new();
                while kept.len() < RESPONSE_KEPT {
                    match r.chunk().await {
                        Ok(Some(c)) => kept.extend_from_slice(&c),
                        _ => break,
                    }
                }
                kept.truncate(RESPONSE_KEPT);
                Sent::Answered(status, String::from_utf8_lossy(&kept).into_owned())
            }
            Err(e) => Sent::Failed(describe(&e)),
        }
    }

    /// A URL naming a private address literally is refused before anything is sent
    /// (names are checked by the resolver, on the addresses connected to).
    fn refuse_private_literal(&self, url: &url::Url) -> Result<()> {
        let ip = match url.host() {
            Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
            Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
            _ => return Ok(()),
        };
        if !self.webhooks.allow_private && is_private(ip) {
            return Err(Error::Invalid(Invalid::Request(format!(
                "{ip} is a private or loopback address, which webhooks may not reach unless Berth runs with --webhook-allow-private"
            ))));
        }
        Ok(())
    }

    /// The webhook, if the caller administers its account (and it is the account
    /// named), and the caller's name.
    async fn administered_webhook(
        &self,
        caller: &Caller,
        hook: Hook<'_>,
    ) -> Result<(Webhook, String)> {
        let w = self
            .db
            .webhook(hook.id)
            .await?
            .ok_or(Error::NotFound(Thing::Webhook))?;
        let account = self
            .db
            .account_by_id(w.account_id)
            .await?
            .ok_or(Error::NotFound(Thing::Webhook))?;
        if hook
            .account
            .is_some_and(|named| named.as_str() != account.name)
        {
            return Err(Error::NotFound(Thing::Webhook));
        }
        let name =
            AccountName::parse(&account.name).map_err(|_| Error::NotFound(Thing::Webhook))?;
        match self.administered(caller, &name).await {
            Ok((_, actor)) => Ok((w, actor)),
            // Someone who may not administer the account learns nothing of its hooks.
            Err(Error::Forbidden) => Err(Error::NotFound(Thing::Webhook)),
            Err(e) => Err(e),
        }
    }
}

/// A webhook by id, and the account it must belong to when the caller named one (the
/// portal's addresses do; the operator's commands name only the id).
#[derive(Debug, Clone, Copy)]
pub struct Hook<'a> {
    pub id: i64,
    pub account: Option<&'a AccountName>,
}

/// How an attempt ended: an answer (status, first bytes) or no answer (why).
enum Sent {
    Answered(u16, String),
    Failed(String),
}

/// A transport error in words, with its causes.
fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return format!("no answer within {} s", DELIVERY_TIMEOUT.as_secs());
    }
    let mut out = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_follow_the_standard_webhooks_example() {
        // The specification's own example: secret, id, timestamp, body and signature.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            sign(secret, id, 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn secrets_are_32_random_bytes() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        let key = B64.decode(a.strip_prefix("whsec_").unwrap()).unwrap();
        assert_eq!(key.len(), 32);
    }

    #[test]
    fn private_addresses_are_recognised() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_private(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "172.32.0.1"] {
            assert!(!is_private(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn retries_last_more_than_a_day() {
        let total: Duration = RETRY_DELAYS.iter().sum();
        assert!(total > Duration::from_secs(24 * 3600), "{total:?}");
        assert!(RETRY_DELAYS[0] <= Duration::from_secs(5));
        assert!(RETRY_DELAYS[1] <= Duration::from_secs(30));
    }

    #[test]
    fn webhook_urls_are_http_with_a_host_and_no_credentials() {
        assert!(parse_webhook_url("https://hooks.example.com/berth").is_ok());
        for bad in ["ftp://x/", "https://user:pw@x/", "not a url", "mailto:a@b"] {
            assert!(parse_webhook_url(bad).is_err(), "{bad}");
        }
    }
}

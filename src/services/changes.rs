//! Changes to repositories, announced to whoever watches (the portal's open pages).
//! Every recorded push or deletion in a repository is announced; nothing here is
//! durable, a watcher that falls behind simply reloads.
//!
//! On PostgreSQL the changes of every process on the database are heard: each
//! announcement is also sent with `NOTIFY`, and what the other processes send is
//! relayed to this one's watchers ([`Services::relay_changes`]), so a push on one
//! replica reaches a page open on another. SQLite keeps to the process.

use super::Services;
use std::sync::{Arc, OnceLock};
use tokio::sync::{broadcast, mpsc};

/// The database channel changes go through between processes.
const CHANNEL: &str = "berth_changes";

/// A repository of an account changed (a push, a tag or manifest deletion, or the
/// repository's deletion).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Change {
    pub account_id: i64,
    pub repository: String,
    /// The audit action that recorded it, e.g. `manifest.push`.
    pub action: String,
}

/// A change as sent to the other processes: with the process it came from, which
/// ignores its own.
#[derive(serde::Serialize, serde::Deserialize)]
struct Sent {
    origin: String,
    #[serde(flatten)]
    change: Change,
}

/// The channel changes go through.
#[derive(Clone)]
pub struct Changes {
    local: broadcast::Sender<Change>,
    /// Where announcements go to be sent to the other processes, once relaying runs.
    outbox: Arc<OnceLock<mpsc::UnboundedSender<Change>>>,
    /// This process, as the other processes know it.
    origin: Arc<str>,
}

impl Default for Changes {
    fn default() -> Self {
        Self {
            // Watchers read quickly; a lagging one is told so and refreshes once.
            local: broadcast::channel(256).0,
            outbox: Arc::default(),
            origin: uuid::Uuid::new_v4().to_string().into(),
        }
    }
}

impl Changes {
    /// Announces a change; nobody watching is fine.
    pub fn announce(&self, change: Change) {
        if let Some(outbox) = self.outbox.get() {
            let _ = outbox.send(change.clone());
        }
        let _ = self.local.send(change);
    }

    /// Every change from now on.
    pub fn watch(&self) -> broadcast::Receiver<Change> {
        self.local.subscribe()
    }
}

impl Services {
    /// On PostgreSQL: sends this process's changes to the others and relays theirs
    /// to its watchers, listening again whenever listening fails. Returns at once on
    /// SQLite.
    pub async fn relay_changes(&self) {
        if !self.db.can_notify() {
            return;
        }
        let (tx, mut rx) = mpsc::unbounded_channel();
        if self.changes.outbox.set(tx).is_err() {
            return;
        }
        let sender = {
            let (db, origin) = (self.db.clone(), self.changes.origin.clone());
            tokio::spawn(async move {
                while let Some(change) = rx.recv().await {
                    let sent = Sent {
                        origin: origin.to_string(),
                        change,
                    };
                    let payload = serde_json::to_string(&sent).expect("plain data");
                    if let Err(e) = db.notify(CHANNEL, &payload).await {
                        tracing::warn!(error = %e, "could not tell other processes of a change");
                    }
                }
            })
        };
        loop {
            match self.db.listen(CHANNEL).await {
                Ok(Some(mut listener)) => {
                    while let Some(payload) = listener.next().await {
                        self.relay(&payload);
                    }
                }
                Ok(None) => break,
                Err(e) => tracing::warn!(error = %e, "cannot hear other processes' changes"),
            }
            // Pages that missed something meanwhile refresh on their next change.
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
        sender.abort();
    }

    /// Hands a change another process sent to this one's watchers.
    fn relay(&self, payload: &str) {
        match serde_json::from_str::<Sent>(payload) {
            Ok(sent) if *sent.origin != *self.changes.origin => {
                let _ = self.changes.local.send(sent.change);
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "a change from another process is unreadable"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sent_change_reads_back_with_its_origin() {
        let change = Change {
            account_id: 7,
            repository: "acme/app".into(),
            action: "manifest.push".into(),
        };
        let sent = Sent {
            origin: "p1".into(),
            change: change.clone(),
        };
        let text = serde_json::to_string(&sent).unwrap();
        let back: Sent = serde_json::from_str(&text).unwrap();
        assert_eq!((back.origin.as_str(), back.change), ("p1", change));
    }
}

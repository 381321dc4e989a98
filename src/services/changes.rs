//! Changes to repositories, announced to whoever watches (the portal's open pages).
//! Every recorded push or deletion in a repository is announced; nothing here is
//! durable, a watcher that falls behind simply reloads.

use tokio::sync::broadcast;

/// A repository of an account changed (a push, a tag or manifest deletion, or the
/// repository's deletion).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub account_id: i64,
    pub repository: String,
    /// The audit action that recorded it, e.g. `manifest.push`.
    pub action: String,
}

/// The channel changes go through.
#[derive(Clone)]
pub struct Changes(broadcast::Sender<Change>);

impl Default for Changes {
    fn default() -> Self {
        // Watchers read quickly; a lagging one is told so and refreshes once.
        Self(broadcast::channel(256).0)
    }
}

impl Changes {
    /// Announces a change; nobody watching is fine.
    pub fn announce(&self, change: Change) {
        let _ = self.0.send(change);
    }

    /// Every change from now on.
    pub fn watch(&self) -> broadcast::Receiver<Change> {
        self.0.subscribe()
    }
}

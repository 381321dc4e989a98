//! Webhooks and their outbox. A message is written in the transaction that records
//! its event (`enqueue_in`), claimed by one process at a time with a lease on its row,
//! and kept with its last attempt's outcome after delivery.

use super::entity::{webhook_deliveries, webhooks};
use super::{Db, DbResult};
use crate::domain::{EventKind, EventSet, RepositoryGlob, TagPattern};
use sea_orm::sea_query::{Condition, Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
    Set, TransactionTrait,
};

/// A webhook as stored.
pub type Webhook = webhooks::Model;
/// One message to one webhook, with its last attempt.
pub type WebhookDelivery = webhook_deliveries::Model;

/// A delivery's states.
pub const PENDING: &str = "pending";
pub const DELIVERED: &str = "delivered";
pub const FAILED: &str = "failed";

/// Something that happened, as the outbox needs it: who may hear it (the account,
/// the kind, the repository's name within the account and the tag, for the globs) and
/// the message every hearing webhook is sent.
#[derive(Debug, Clone)]
pub struct Event {
    pub account_id: i64,
    pub kind: EventKind,
    pub repository: Option<String>,
    pub tag: Option<String>,
    /// `evt_…`: the message's `webhook-id`, the same on every attempt.
    pub id: String,
    /// The JSON body.
    pub payload: String,
}

/// A webhook about to be created.
pub struct NewWebhook<'a> {
    pub account_id: i64,
    pub url: &'a str,
    pub events: &'a EventSet,
    pub repository: Option<&'a RepositoryGlob>,
    pub tag: Option<&'a TagPattern>,
    pub secret: &'a str,
    pub created_by: &'a str,
    pub now: i64,
}

/// How one attempt ended.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub at: i64,
    pub status: Option<i32>,
    pub latency_ms: i64,
    pub response: String,
    /// When to try again; `None`: the delivery is over (`state` says how).
    pub retry_at: Option<i64>,
    pub state: &'static str,
}

/// Whether a webhook hears an event: its kind, and the globs (an event without a
/// repository or tag passes that glob).
pub fn hears(w: &Webhook, e: &Event) -> bool {
    let kinds = EventSet::parse(&w.events).unwrap_or_default();
    let glob_ok = |glob: &Option<String>, value: &Option<String>, repo: bool| match (glob, value) {
        (Some(g), Some(v)) if repo => RepositoryGlob::parse(g).is_ok_and(|g| g.matches(v)),
        (Some(g), Some(v)) => TagPattern::parse(g).is_ok_and(|g| g.matches(v)),
        _ => true,
    };
    w.enabled
        && w.account_id == e.account_id
        && kinds.contains(e.kind)
        && glob_ok(&w.repository_glob, &e.repository, true)
        && glob_ok(&w.tag_glob, &e.tag, false)
}

/// Writes the messages of `events` for every webhook that hears them, inside the
/// caller's transaction: the event and its messages commit together or not at all.
pub(super) async fn enqueue_in<C: ConnectionTrait>(
    c: &C,
    events: &[Event],
    now: i64,
) -> DbResult<u64> {
    if events.is_empty() {
        return Ok(0);
    }
    let mut accounts: Vec<i64> = events.iter().map(|e| e.account_id).collect();
    accounts.sort_unstable();
    accounts.dedup();
    let hooks = webhooks::Entity::find()
        .filter(webhooks::Column::AccountId.is_in(accounts))
        .filter(webhooks::Column::Enabled.eq(true))
        .all(c)
        .await?;
    let rows: Vec<_> = events
        .iter()
        .flat_map(|e| hooks.iter().filter(|w| hears(w, e)).map(move |w| (w, e)))
        .map(|(w, e)| webhook_deliveries::ActiveModel {
            webhook_id: Set(w.id),
            message_id: Set(e.id.clone()),
            event: Set(e.kind.as_str().to_owned()),
            payload: Set(e.payload.clone()),
            created_at: Set(now),
            state: Set(PENDING.to_owned()),
            attempts: Set(0),
            next_attempt_at: Set(now),
            ..Default::default()
        })
        .collect();
    let n = rows.len() as u64;
    if n > 0 {
        webhook_deliveries::Entity::insert_many(rows)
            .exec_without_returning(c)
            .await?;
    }
    Ok(n)
}

impl Db {
    pub async fn create_webhook(&self, w: NewWebhook<'_>) -> DbResult<i64> {
        let row = webhooks::Entity::insert(webhooks::ActiveModel {
            account_id: Set(w.account_id),
            url: Set(w.url.to_owned()),
            events: Set(w.events.to_string()),
            repository_glob: Set(w.repository.map(|g| g.to_string())),
            tag_glob: Set(w.tag.map(|g| g.to_string())),
            secret: Set(w.secret.to_owned()),
            enabled: Set(true),
            created_by: Set(w.created_by.to_owned()),
            created_at: Set(w.now),
            ..Default::default()
        })
        .exec(&self.conn)
        .await?;
        Ok(row.last_insert_id)
    }

    pub async fn webhook(&self, id: i64) -> DbResult<Option<Webhook>> {
        Ok(webhooks::Entity::find_by_id(id).one(&self.conn).await?)
    }

    /// An account's webhooks, oldest first.
    pub async fn webhooks(&self, account_id: i64) -> DbResult<Vec<Webhook>> {
        Ok(webhooks::Entity::find()
            .filter(webhooks::Column::AccountId.eq(account_id))
            .order_by_asc(webhooks::Column::Id)
            .all(&self.read)
            .await?)
    }

    /// Deletes a webhook with its messages; false when it was not there.
    pub async fn delete_webhook(&self, id: i64) -> DbResult<bool> {
        let txn = self.conn.begin().await?;
        webhook_deliveries::Entity::delete_many()
            .filter(webhook_deliveries::Column::WebhookId.eq(id))
            .exec(&txn)
            .await?;
        let gone = webhooks::Entity::delete_by_id(id).exec(&txn).await?;
        txn.commit().await?;
        Ok(gone.rows_affected > 0)
    }

    /// Replaces the secret; the one it had keeps signing until `previous_until`.
    pub async fn rotate_webhook_secret(
        &self,
        id: i64,
        secret: &str,
        previous_until: i64,
    ) -> DbResult<bool> {
        let res = webhooks::Entity::update_many()
            .col_expr(
                webhooks::Column::PreviousSecret,
                Expr::col(webhooks::Column::Secret),
            )
            .col_expr(webhooks::Column::PreviousUntil, Expr::value(previous_until))
            .col_expr(webhooks::Column::Secret, Expr::value(secret))
            .filter(webhooks::Column::Id.eq(id))
            .exec(&self.conn)
            .await?;
        Ok(res.rows_affected > 0)
    }

    /// Turns a webhook off (with the reason in words) or on again; a re-enabled one
    /// starts with a clean record.
    pub async fn set_webhook_enabled(
        &self,
        id: i64,
        enabled: bool,
        reason: Option<&str>,
    ) -> DbResult<bool> {
        let res = webhooks::Entity::update_many()
            .col_expr(webhooks::Column::Enabled, Expr::value(enabled))
            .col_expr(
                webhooks::Column::DisabledReason,
                Expr::value(reason.map(str::to_owned)),
            )
            .col_expr(webhooks::Column::FailingSince, Expr::value(None::<i64>))
            .filter(webhooks::Column::Id.eq(id))
            .exec(&self.conn)
            .await?;
        Ok(res.rows_affected > 0)
    }

    /// Records that a delivery to the webhook failed (keeping the first failure's
    /// time) or succeeded (clearing it); returns since when it has been failing.
    pub async fn record_webhook_outcome(
        &self,
        id: i64,
        ok: bool,
        now: i64,
    ) -> DbResult<Option<i64>> {
        let mut q = webhooks::Entity::update_many().filter(webhooks::Column::Id.eq(id));
        if ok {
            q = q.col_expr(webhooks::Column::FailingSince, Expr::value(None::<i64>));
        } else {
            q = q
                .col_expr(webhooks::Column::FailingSince, Expr::value(now))
                .filter(webhooks::Column::FailingSince.is_null());
        }
        q.exec(&self.conn).await?;
        Ok(self.webhook(id).await?.and_then(|w| w.failing_since))
    }

    /// Writes messages in a transaction of their own (events recorded by no other
    /// write: a refused push, a retention run's summary, a test message).
    pub async fn enqueue_events(&self, events: &[Event], now: i64) -> DbResult<u64> {
        let txn = self.conn.begin().await?;
        let n = enqueue_in(&txn, events, now).await?;
        txn.commit().await?;
        Ok(n)
    }

    /// The accounts (id, name) with an enabled webhook hearing `kind`.
    pub async fn accounts_hearing(&self, kind: EventKind) -> DbResult<Vec<(i64, String)>> {
        use super::entity::accounts;
        let mut ids: Vec<i64> = webhooks::Entity::find()
            .filter(webhooks::Column::Enabled.eq(true))
            .all(&self.read)
            .await?
            .into_iter()
            .filter(|w| EventSet::parse(&w.events).is_ok_and(|s| s.contains(kind)))
            .map(|w| w.account_id)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        Ok(accounts::Entity::find()
            .select_only()
            .columns([accounts::Column::Id, accounts::Column::Name])
            .filter(accounts::Column::Id.is_in(ids))
            .into_tuple()
            .all(&self.read)
            .await?)
    }

    /// A message to one webhook only (a test the portal sends).
    pub async fn enqueue_test(
        &self,
        webhook_id: i64,
        id: &str,
        payload: &str,
        now: i64,
    ) -> DbResult<()> {
        webhook_deliveries::Entity::insert(webhook_deliveries::ActiveModel {
            webhook_id: Set(webhook_id),
            message_id: Set(id.to_owned()),
            event: Set("ping".to_owned()),
            payload: Set(payload.to_owned()),
            created_at: Set(now),
            state: Set(PENDING.to_owned()),
            attempts: Set(0),
            next_attempt_at: Set(now),
            ..Default::default()
        })
        .exec_without_returning(&self.conn)
        .await?;
        Ok(())
    }

    /// Claims up to `limit` due messages for `holder` until `until`, each with a
    /// compare-and-set on its lease, so that of several processes exactly one sends a
    /// message at a time; a holder that died loses its claims when they lapse.
    pub async fn claim_deliveries(
        &self,
        holder: &str,
        now: i64,
        until: i64,
        limit: u64,
    ) -> DbResult<Vec<(WebhookDelivery, Webhook)>> {
        let free = || {
            Condition::any()
                .add(webhook_deliveries::Column::ClaimedUntil.is_null())
                .add(webhook_deliveries::Column::ClaimedUntil.lt(now))
        };
        let due: Vec<i64> = webhook_deliveries::Entity::find()
            .select_only()
            .column(webhook_deliveries::Column::Id)
            .filter(webhook_deliveries::Column::State.eq(PENDING))
            .filter(webhook_deliveries::Column::NextAttemptAt.lte(now))
            .filter(free())
            // A disabled webhook's messages wait: turned on again, it gets them.
            .filter(
                webhook_deliveries::Column::WebhookId.in_subquery(
                    webhooks::Entity::find()
                        .select_only()
                        .column(webhooks::Column::Id)
                        .filter(webhooks::Column::Enabled.eq(true))
                        .into_query(),
                ),
            )
            .order_by_asc(webhook_deliveries::Column::NextAttemptAt)
            .limit(limit)
            .into_tuple()
            .all(&self.conn)
            .await?;
        let mut claimed = Vec::new();
        for id in due {
            let res = webhook_deliveries::Entity::update_many()
                .col_expr(webhook_deliveries::Column::ClaimedBy, Expr::value(holder))
                .col_expr(webhook_deliveries::Column::ClaimedUntil, Expr::value(until))
                .filter(webhook_deliveries::Column::Id.eq(id))
                .filter(webhook_deliveries::Column::State.eq(PENDING))
                .filter(free())
                .exec(&self.conn)
                .await?;
            if res.rows_affected == 1
                && let Some(d) = webhook_deliveries::Entity::find_by_id(id)
                    .one(&self.conn)
                    .await?
                && let Some(w) = self.webhook(d.webhook_id).await?
            {
                claimed.push((d, w));
            }
        }
        Ok(claimed)
    }

    /// Records an attempt of a message this holder claimed, and releases it.
    pub async fn finish_delivery(&self, id: i64, holder: &str, a: &Attempt) -> DbResult<bool> {
        let res = webhook_deliveries::Entity::update_many()
            .col_expr(
                webhook_deliveries::Column::Attempts,
                Expr::col(webhook_deliveries::Column::Attempts).add(1),
            )
            .col_expr(webhook_deliveries::Column::LastAttemptAt, Expr::value(a.at))
            .col_expr(
                webhook_deliveries::Column::LastStatus,
                Expr::value(a.status),
            )
            .col_expr(
                webhook_deliveries::Column::LastLatencyMs,
                Expr::value(a.latency_ms),
            )
            .col_expr(
                webhook_deliveries::Column::LastResponse,
                Expr::value(a.response.clone()),
            )
            .col_expr(
                webhook_deliveries::Column::NextAttemptAt,
                Expr::value(a.retry_at.unwrap_or(a.at)),
            )
            .col_expr(webhook_deliveries::Column::State, Expr::value(a.state))
            .col_expr(
                webhook_deliveries::Column::ClaimedBy,
                Expr::value(None::<String>),
            )
            .col_expr(
                webhook_deliveries::Column::ClaimedUntil,
                Expr::value(None::<i64>),
            )
            .filter(webhook_deliveries::Column::Id.eq(id))
            .filter(webhook_deliveries::Column::ClaimedBy.eq(holder))
            .exec(&self.conn)
            .await?;
        Ok(res.rows_affected == 1)
    }

    /// A webhook's latest messages, newest first.
    pub async fn webhook_deliveries(
        &self,
        webhook_id: i64,
        limit: u64,
    ) -> DbResult<Vec<WebhookDelivery>> {
        Ok(webhook_deliveries::Entity::find()
            .filter(webhook_deliveries::Column::WebhookId.eq(webhook_id))
            .order_by_desc(webhook_deliveries::Column::Id)
            .limit(limit)
            .all(&self.read)
            .await?)
    }

    pub async fn webhook_delivery(&self, id: i64) -> DbResult<Option<WebhookDelivery>> {
        Ok(webhook_deliveries::Entity::find_by_id(id)
            .one(&self.conn)
            .await?)
    }

    /// Sends a message again, as soon as a deliverer is free, with the same id.
    pub async fn redeliver(&self, id: i64, now: i64) -> DbResult<bool> {
        let res = webhook_deliveries::Entity::update_many()
            .col_expr(webhook_deliveries::Column::State, Expr::value(PENDING))
            .col_expr(webhook_deliveries::Column::NextAttemptAt, Expr::value(now))
            .filter(webhook_deliveries::Column::Id.eq(id))
            .filter(webhook_deliveries::Column::State.ne(PENDING))
            .exec(&self.conn)
            .await?;
        Ok(res.rows_affected > 0)
    }
}

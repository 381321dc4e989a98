//! Account usage, kept current: `account_blobs` counts how many of an account's
//! repositories link each blob, and `accounts.size_bytes` holds the bytes of those
//! distinct blobs. Every change to `repository_blobs` goes through `links_added` or
//! `links_removing`, in the same transaction, so usage is never recomputed on a read.
//! Both take the account's row first (see `lock_account`).

use super::entity::{account_blobs, accounts, repositories};
use super::{Db, DbResult};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Statement, Value};

/// Where an account's recorded usage differs from what its links say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageDrift {
    pub account: String,
    pub stored: i64,
    pub actual: i64,
}

/// The account a repository belongs to.
pub(super) async fn account_of<C: ConnectionTrait>(c: &C, repository_id: i64) -> DbResult<i64> {
    Ok(repositories::Entity::find_by_id(repository_id)
        .one(c)
        .await?
        .map(|r| r.account_id)
        .ok_or(sea_orm::DbErr::RecordNotFound("repository".into()))?)
}

/// Counts links of `repository_id` just inserted (all of them, or only `digest`'s) into
/// its account's usage; returns the account and the bytes its usage grew by (blobs
/// no other repository of the account linked yet).
pub(super) async fn links_added<C: ConnectionTrait>(
    c: &C,
    repository_id: i64,
    digest: Option<&str>,
) -> DbResult<(i64, i64)> {
    let account_id = account_of(c, repository_id).await?;
    lock_account(c, account_id).await?;
    let (only, values) = links_of(repository_id, digest);
    // New rows start at zero links, which tells them apart below.
    execute(
        c,
        &format!(
            "INSERT INTO account_blobs (account_id, digest, links) \
             SELECT ?, rb.digest, 0 FROM repository_blobs rb WHERE rb.repository_id = ?{only} \
             ON CONFLICT (account_id, digest) DO NOTHING"
        ),
        [Value::from(account_id)].into_iter().chain(values.clone()),
    )
    .await?;
    let added = new_bytes(c, account_id, "ab.links = 0").await?;
    if added != 0 {
        add_size(c, account_id, added).await?;
    }
    execute(
        c,
        &format!(
            "UPDATE account_blobs SET links = links + 1 WHERE account_id = ? AND digest IN \
             (SELECT rb.digest FROM repository_blobs rb WHERE rb.repository_id = ?{only})"
        ),
        [Value::from(account_id)].into_iter().chain(values),
    )
    .await?;
    Ok((account_id, added))
}

/// Takes links of `repository_id` about to be deleted (all of them, or only
/// `digest`'s) out of its account's usage. Call it before the links go: it reads them.
pub(super) async fn links_removing<C: ConnectionTrait>(
    c: &C,
    repository_id: i64,
    digest: Option<&str>,
) -> DbResult<()> {
    let account_id = account_of(c, repository_id).await?;
    lock_account(c, account_id).await?;
    let (only, values) = links_of(repository_id, digest);
    execute(
        c,
        &format!(
            "UPDATE account_blobs SET links = links - 1 WHERE account_id = ? AND digest IN \
             (SELECT rb.digest FROM repository_blobs rb WHERE rb.repository_id = ?{only})"
        ),
        [Value::from(account_id)].into_iter().chain(values),
    )
    .await?;
    let freed = new_bytes(c, account_id, "ab.links <= 0").await?;
    if freed != 0 {
        add_size(c, account_id, -freed).await?;
    }
    account_blobs::Entity::delete_many()
        .filter(account_blobs::Column::AccountId.eq(account_id))
        .filter(account_blobs::Column::Links.lte(0))
        .exec(c)
        .await?;
    Ok(())
}

impl Db {
    /// Accounts whose recorded usage or link counts differ from their repositories'
    /// links.
    pub async fn usage_drift(&self) -> DbResult<Vec<UsageDrift>> {
        use super::entity::blobs;
        use sea_orm::{FromQueryResult, QuerySelect};
        use std::collections::HashMap;
        #[derive(FromQueryResult)]
        struct Count {
            account_id: i64,
            digest: String,
            links: i64,
        }
        let backend = self.read.get_database_backend();
        let expected = Count::find_by_statement(Statement::from_string(backend, EXPECTED))
            .all(&self.read)
            .await?;
        let recorded: HashMap<(i64, String), i64> = account_blobs::Entity::find()
            .all(&self.read)
            .await?
            .into_iter()
            .map(|r| ((r.account_id, r.digest), r.links))
            .collect();
        let sizes: HashMap<String, i64> = blobs::Entity::find()
            .select_only()
            .column(blobs::Column::Digest)
            .column(blobs::Column::Size)
            .into_tuple()
            .all(&self.read)
            .await?
            .into_iter()
            .collect();
        let mut actual: HashMap<i64, i64> = HashMap::new();
        let mut wrong: HashMap<i64, bool> = HashMap::new();
        for e in &expected {
            *actual.entry(e.account_id).or_default() += sizes.get(&e.digest).copied().unwrap_or(0);
            if recorded.get(&(e.account_id, e.digest.clone())) != Some(&e.links) {
                wrong.insert(e.account_id, true);
            }
        }
        let expected: std::collections::HashSet<(i64, &str)> = expected
            .iter()
            .map(|e| (e.account_id, e.digest.as_str()))
            .collect();
        for (account_id, digest) in recorded.keys() {
            if !expected.contains(&(*account_id, digest.as_str())) {
                wrong.insert(*account_id, true);
            }
        }
        Ok(accounts::Entity::find()
            .all(&self.read)
            .await?
            .into_iter()
            .filter_map(|a| {
                let real = actual.get(&a.id).copied().unwrap_or(0);
                (a.size_bytes != real || wrong.contains_key(&a.id)).then_some(UsageDrift {
                    account: a.name,
                    stored: a.size_bytes,
                    actual: real,
                })
            })
            .collect())
    }

    /// Recounts an account's usage from its repositories' links, in one transaction.
    pub async fn recount_usage(&self, account: &str) -> DbResult<()> {
        use sea_orm::TransactionTrait;
        let txn = self.conn.begin().await?;
        let Some(a) = accounts::Entity::find()
            .filter(accounts::Column::Name.eq(account))
            .one(&txn)
            .await?
        else {
            return Ok(());
        };
        lock_account(&txn, a.id).await?;
        account_blobs::Entity::delete_many()
            .filter(account_blobs::Column::AccountId.eq(a.id))
            .exec(&txn)
            .await?;
        execute(
            &txn,
            &format!("INSERT INTO account_blobs (account_id, digest, links) SELECT e.account_id, e.digest, e.links FROM ({EXPECTED}) e WHERE e.account_id = ?"),
            [Value::from(a.id)],
        )
        .await?;
        let total = new_bytes(&txn, a.id, "1 = 1").await?;
        accounts::Entity::update_many()
            .col_expr(accounts::Column::SizeBytes, Expr::value(total))
            .filter(accounts::Column::Id.eq(a.id))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(())
    }
}

/// What `account_blobs` should hold, from the links themselves.
const EXPECTED: &str = "SELECT r.account_id AS account_id, rb.digest AS digest, \
     COUNT(*) AS links FROM repository_blobs rb JOIN repositories r ON r.id = rb.repository_id \
     GROUP BY r.account_id, rb.digest";

/// The extra condition and values that pick a repository's links, or one of them.
fn links_of(repository_id: i64, digest: Option<&str>) -> (&'static str, Vec<Value>) {
    match digest {
        Some(d) => (
            " AND rb.digest = ?",
            vec![Value::from(repository_id), Value::from(d.to_owned())],
        ),
        None => ("", vec![Value::from(repository_id)]),
    }
}

/// Bytes of an account's `account_blobs` rows that match `which`.
async fn new_bytes<C: ConnectionTrait>(c: &C, account_id: i64, which: &str) -> DbResult<i64> {
    let row = query_one(
        c,
        &format!(
            "SELECT CAST(COALESCE(SUM(b.size), 0) AS BIGINT) AS bytes FROM account_blobs ab \
             JOIN blobs b ON b.digest = ab.digest WHERE ab.account_id = ? AND {which}"
        ),
        [Value::from(account_id)],
    )
    .await?;
    Ok(match row {
        Some(r) => r.try_get("", "bytes")?,
        None => 0,
    })
}

/// Takes the account's row lock (a no-op write). Every change to an account's usage
/// takes it before touching `account_blobs`, so on PostgreSQL they run one after
/// another per account: a push counting a blob cannot interleave with a removal that
/// frees it, and the lock order is always repository, account, then its blob counts.
pub(super) async fn lock_account<C: ConnectionTrait>(c: &C, account_id: i64) -> DbResult<()> {
    add_size(c, account_id, 0).await
}

async fn add_size<C: ConnectionTrait>(c: &C, account_id: i64, bytes: i64) -> DbResult<()> {
    accounts::Entity::update_many()
        .col_expr(
            accounts::Column::SizeBytes,
            Expr::col(accounts::Column::SizeBytes).add(bytes),
        )
        .filter(accounts::Column::Id.eq(account_id))
        .exec(c)
        .await?;
    Ok(())
}

async fn execute<C: ConnectionTrait>(
    c: &C,
    sql: &str,
    values: impl IntoIterator<Item = Value>,
) -> DbResult<u64> {
    let backend = c.get_database_backend();
    Ok(c.execute_raw(Statement::from_sql_and_values(
        backend,
        super::placeholders(backend, sql),
        values,
    ))
    .await?
    .rows_affected())
}

async fn query_one<C: ConnectionTrait>(
    c: &C,
    sql: &str,
    values: impl IntoIterator<Item = Value>,
) -> DbResult<Option<sea_orm::QueryResult>> {
    let backend = c.get_database_backend();
    Ok(c.query_one_raw(Statement::from_sql_and_values(
        backend,
        super::placeholders(backend, sql),
        values,
    ))
    .await?)
}

//! Failed password attempts, shared by every process on the database (see
//! `services::limiter`): each failure adds one to its key's count in a single
//! statement, so failures on several replicas at once are all counted.

use super::entity::login_failures;
use super::{Db, DbResult};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};

impl Db {
    /// The failures counted against `key` and when the last one was, if any.
    pub async fn login_failures(&self, key: &str) -> DbResult<Option<(u32, i64)>> {
        Ok(login_failures::Entity::find_by_id(key.to_owned())
            .one(&self.conn)
            .await?
            .map(|f| (u32::try_from(f.failures).unwrap_or(0), f.last_at)))
    }

    /// Counts one more failure against `key` at `now`; a count whose last failure is
    /// older than `forget_before` starts afresh.
    pub async fn count_login_failure(
        &self,
        key: &str,
        now: i64,
        forget_before: i64,
    ) -> DbResult<()> {
        let failures = Expr::col((login_failures::Entity, login_failures::Column::Failures));
        let last_at = Expr::col((login_failures::Entity, login_failures::Column::LastAt));
        login_failures::Entity::insert(login_failures::ActiveModel {
            key: Set(key.to_owned()),
            failures: Set(1),
            last_at: Set(now),
        })
        .on_conflict(
            OnConflict::column(login_failures::Column::Key)
                .value(
                    login_failures::Column::Failures,
                    Expr::case(last_at.clone().lt(forget_before), 1).finally(failures.add(1)),
                )
                .value(login_failures::Column::LastAt, Expr::value(now))
                .to_owned(),
        )
        .exec_without_returning(&self.conn)
        .await?;
        Ok(())
    }

    /// Forgets the failures counted against `key` (the right password came).
    pub async fn forget_login_failures(&self, key: &str) -> DbResult<()> {
        login_failures::Entity::delete_many()
            .filter(login_failures::Column::Key.eq(key))
            .exec(&self.conn)
            .await?;
        Ok(())
    }

    /// Removes counts whose last failure is older than `before`.
    pub async fn forget_stale_login_failures(&self, before: i64) -> DbResult<u64> {
        Ok(login_failures::Entity::delete_many()
            .filter(login_failures::Column::LastAt.lt(before))
            .exec(&self.conn)
            .await?
            .rows_affected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn failures_add_up_and_a_stale_count_starts_afresh() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&format!("sqlite://{}", dir.path().join("t.db").display()))
            .await
            .unwrap();
        assert_eq!(db.login_failures("k").await.unwrap(), None);
        for at in [10, 20, 30] {
            db.count_login_failure("k", at, 0).await.unwrap();
        }
        assert_eq!(db.login_failures("k").await.unwrap(), Some((3, 30)));
        // The last failure is older than the forgetting line: this one is the first.
        db.count_login_failure("k", 5_000, 1_000).await.unwrap();
        assert_eq!(db.login_failures("k").await.unwrap(), Some((1, 5_000)));
        db.count_login_failure("other", 5_000, 0).await.unwrap();
        db.forget_login_failures("k").await.unwrap();
        assert_eq!(db.login_failures("k").await.unwrap(), None);
        assert_eq!(db.forget_stale_login_failures(6_000).await.unwrap(), 1);
        assert_eq!(db.login_failures("other").await.unwrap(), None);
    }
}

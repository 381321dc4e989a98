//! Leases on site-wide background work (garbage collection, say): whichever process
//! holds one runs the work, the others skip it until the lease ends or runs out (its
//! holder died).

use super::entity::site_leases;
use super::{Db, DbResult};
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};

impl Db {
    /// Takes the lease `name` for `holder` until `until`, unless another holder's is
    /// still good at `now`; true when it is `holder`'s.
    pub async fn take_site_lease(
        &self,
        name: &str,
        holder: &str,
        now: i64,
        until: i64,
    ) -> DbResult<bool> {
        let inserted = site_leases::Entity::insert(site_leases::ActiveModel {
            name: Set(name.to_owned()),
            holder: Set(holder.to_owned()),
            until: Set(until),
        })
        .on_conflict_do_nothing()
        .exec_without_returning(&self.conn)
        .await?;
        if matches!(inserted, sea_orm::TryInsertResult::Inserted(n) if n > 0) {
            return Ok(true);
        }
        let res = site_leases::Entity::update_many()
            .col_expr(site_leases::Column::Holder, Expr::value(holder))
            .col_expr(site_leases::Column::Until, Expr::value(until))
            .filter(site_leases::Column::Name.eq(name))
            .filter(
                Condition::any()
                    .add(site_leases::Column::Holder.eq(holder))
                    .add(site_leases::Column::Until.lt(now)),
            )
            .exec(&self.conn)
            .await?;
        Ok(res.rows_affected > 0)
    }

    /// Ends `holder`'s lease `name`, if it still holds it.
    pub async fn release_site_lease(&self, name: &str, holder: &str) -> DbResult<()> {
        site_leases::Entity::update_many()
            .col_expr(site_leases::Column::Until, Expr::value(0i64))
            .filter(site_leases::Column::Name.eq(name))
            .filter(site_leases::Column::Holder.eq(holder))
            .exec(&self.conn)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_holder_at_a_time_until_it_ends_or_runs_out() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&format!("sqlite://{}", dir.path().join("t.db").display()))
            .await
            .unwrap();
        assert!(db.take_site_lease("gc", "a", 0, 100).await.unwrap());
        assert!(!db.take_site_lease("gc", "b", 50, 150).await.unwrap());
        // Its holder may take it again; another work's lease is apart.
        assert!(db.take_site_lease("gc", "a", 60, 160).await.unwrap());
        assert!(db.take_site_lease("other", "b", 60, 160).await.unwrap());
        // Run out ...
        assert!(db.take_site_lease("gc", "b", 161, 300).await.unwrap());
        // ... or ended.
        db.release_site_lease("gc", "a").await.unwrap();
        assert!(!db.take_site_lease("gc", "a", 200, 300).await.unwrap());
        db.release_site_lease("gc", "b").await.unwrap();
        assert!(db.take_site_lease("gc", "a", 200, 300).await.unwrap());
    }
}

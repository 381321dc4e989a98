//! Site-wide secrets. Whichever process asks first stores its candidate; every other
//! process, at once or later, reads that one back.

use super::entity::site_secrets;
use super::{Db, DbResult};
use sea_orm::{DbErr, EntityTrait, Set};

impl Db {
    /// The secret called `name`, stored as `candidate` if there is none yet.
    pub async fn site_secret_or_insert(
        &self,
        name: &str,
        candidate: &str,
        now: i64,
    ) -> DbResult<String> {
        site_secrets::Entity::insert(site_secrets::ActiveModel {
            name: Set(name.to_owned()),
            value: Set(candidate.to_owned()),
            created_at: Set(now),
        })
        .on_conflict_do_nothing()
        .exec_without_returning(&self.conn)
        .await?;
        // Nothing deletes a secret, so the row is there now.
        let row = site_secrets::Entity::find_by_id(name.to_owned())
            .one(&self.conn)
            .await?
            .ok_or_else(|| DbErr::RecordNotFound(format!("site secret {name}")))?;
        Ok(row.value)
    }
}

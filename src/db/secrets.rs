//! Site-wide secrets. Whichever process asks first stores its candidate; every other
//! process, at once or later, reads that one back.

use super::entity::site_secrets;
use super::{Db, DbResult};
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, Set};

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

    /// Removes the secret called `name` if it is `value`; whether it did. Of several
    /// processes taking the same secret at once, exactly one gets `true`.
    pub async fn take_site_secret(&self, name: &str, value: &str) -> DbResult<bool> {
        let res = site_secrets::Entity::delete_many()
            .filter(site_secrets::Column::Name.eq(name))
            .filter(site_secrets::Column::Value.eq(value))
            .exec(&self.conn)
            .await?;
        Ok(res.rows_affected == 1)
    }
}

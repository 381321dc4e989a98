//! Portal sessions and who is signed in.

use super::{Result, Services, now_ms};
use crate::domain::Role;

/// A signed-in person as the portal shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalUser {
    pub id: i64,
    pub username: String,
    pub site_admin: bool,
    /// Accounts and the role held in each, by name.
    pub accounts: Vec<(String, Role)>,
}

impl Services {
    pub async fn session_data(&self, id: &str) -> Result<Option<String>> {
        Ok(self.db.session_data(id, now_ms()).await?)
    }

    /// Stores a session's record; `user_id` is who is signed in on it, if anyone.
    pub async fn save_session(
        &self,
        id: &str,
        data: &str,
        expires_at_ms: i64,
        user_id: Option<i64>,
    ) -> Result<()> {
        // Expired sessions go now and then, on the way.
        if rand::random::<u8>() == 0 {
            self.db.delete_expired_sessions(now_ms()).await?;
        }
        Ok(self
            .db
            .save_session(id, data, expires_at_ms, user_id)
            .await?)
    }

    /// Stores a new session; false when its id is taken.
    pub async fn create_session(
        &self,
        id: &str,
        data: &str,
        expires_at_ms: i64,
        user_id: Option<i64>,
    ) -> Result<bool> {
        Ok(self
            .db
            .create_session(id, data, expires_at_ms, user_id)
            .await?)
    }

    /// Whether a session still exists (it ends on sign-out, expiry or a password
    /// change).
    pub async fn session_is_current(&self, id: &str) -> Result<bool> {
        Ok(self.db.session_exists(id, now_ms()).await?)
    }

    pub async fn delete_session(&self, id: &str) -> Result<()> {
        Ok(self.db.delete_session(id).await?)
    }

    /// The names of the site admins who may sign in, for someone who has no account
    /// yet and asks who can give one.
    pub async fn site_admin_names(&self) -> Result<Vec<String>> {
        Ok(self.db.site_admin_names().await?)
    }

    /// The user with their accounts, or `None` when they no longer exist.
    pub async fn portal_user(&self, user_id: i64) -> Result<Option<PortalUser>> {
        let Some(user) = self.db.user_by_id(user_id).await? else {
            return Ok(None);
        };
        let mut accounts: Vec<(String, Role)> = self
            .db
            .memberships_of(user_id)
            .await?
            .into_iter()
            .filter_map(|(m, a)| Role::parse(&m.role).ok().map(|r| (a.name, r)))
            .collect();
        accounts.sort();
        Ok(Some(PortalUser {
            id: user.id,
            username: user.username,
            site_admin: user.site_admin,
            accounts,
        }))
    }
}

//! Recording who did what. A failure to record is logged but never fails the action
//! that already happened.

use super::{Services, now_ms};
use crate::db::NewAuditEvent;

impl Services {
    pub async fn audit(
        &self,
        account_id: Option<i64>,
        actor: &str,
        action: &str,
        repository: Option<&str>,
        detail: Option<String>,
    ) {
        let r = self
            .db
            .record_audit(NewAuditEvent {
                account_id,
                actor,
                action,
                repository,
                detail,
                created_at: now_ms(),
            })
            .await;
        if let Err(e) = r {
            tracing::error!(error = %e, action, "could not record audit event");
        }
    }
}

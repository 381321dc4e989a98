//! SeaORM entities, one module per table. Times are Unix milliseconds.

macro_rules! no_relations {
    () => {
        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}
        impl ActiveModelBehavior for ActiveModel {}
    };
}

pub mod accounts {
    use sea_orm::entity::prelude::*;
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "accounts")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        #[sea_orm(unique)]
        pub name: String,
        pub created_at: i64,
        /// Most bytes the account may store; `None` for no limit.
        pub quota_bytes: Option<i64>,
        /// Bytes of the distinct blobs the account's repositories link, kept current
        /// with every link added or removed.
        pub size_bytes: i64,
        /// Whether new repositories start public.
        pub public_by_default: bool,
    }
    no_relations!();
}

pub mod account_blobs {
    use sea_orm::entity::prelude::*;
    /// A blob some repository of the account links, with how many of them do.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "account_blobs")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub account_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub digest: String,
        pub links: i64,
    }
    no_relations!();
}

pub mod immutable_tags {
    use sea_orm::entity::prelude::*;
    /// A rule: tags of the account matching `pattern` (in `repository`, named within the
    /// account, or in all when it is empty) may be neither re-pointed nor deleted.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "immutable_tags")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub account_id: i64,
        pub repository: String,
        pub pattern: String,
        pub created_at: i64,
    }
    no_relations!();
}

pub mod retention_policies {
    use sea_orm::entity::prelude::*;
    /// An account's retention policy (`repository` empty), or one repository's (its
    /// name within the account), which then replaces the account's for it.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "retention_policies")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub account_id: i64,
        pub repository: String,
        pub keep_last: Option<i32>,
        /// Seconds.
        pub keep_within: Option<i64>,
        pub tag_pattern: Option<String>,
        pub exclude_pattern: Option<String>,
        /// Seconds.
        pub untagged_older_than: Option<i64>,
        pub updated_by: String,
        pub updated_at: i64,
    }
    no_relations!();
}

pub mod webhooks {
    use sea_orm::entity::prelude::*;
    /// An account's endpoint: the events (comma-separated) and the repository and tag
    /// globs it hears, and the secret(s) that sign what it is sent.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "webhooks")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub account_id: i64,
        pub url: String,
        pub events: String,
        pub repository_glob: Option<String>,
        pub tag_glob: Option<String>,
        pub secret: String,
        pub previous_secret: Option<String>,
        pub previous_until: Option<i64>,
        pub enabled: bool,
        pub disabled_reason: Option<String>,
        pub failing_since: Option<i64>,
        pub created_by: String,
        pub created_at: i64,
    }
    no_relations!();
}

pub mod webhook_deliveries {
    use sea_orm::entity::prelude::*;
    /// One message of the outbox, to one webhook.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "webhook_deliveries")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub webhook_id: i64,
        pub message_id: String,
        pub event: String,
        #[sea_orm(column_type = "Text")]
        pub payload: String,
        pub created_at: i64,
        pub state: String,
        pub attempts: i32,
        pub next_attempt_at: i64,
        pub claimed_by: Option<String>,
        pub claimed_until: Option<i64>,
        pub last_attempt_at: Option<i64>,
        pub last_status: Option<i32>,
        pub last_latency_ms: Option<i64>,
        #[sea_orm(column_type = "Text", nullable)]
        pub last_response: Option<String>,
    }
    no_relations!();
}

pub mod users {
    use sea_orm::entity::prelude::*;
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "users")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        #[sea_orm(unique)]
        pub username: String,
        pub password_hash: String,
        pub site_admin: bool,
        pub created_at: i64,
        /// When the user was disabled; `None` while they may sign in.
        pub disabled_at: Option<i64>,
        /// The OpenID Provider that vouches for a single sign-on user, and its
        /// subject; `None` for users with a password of ours.
        pub oidc_issuer: Option<String>,
        pub oidc_subject: Option<String>,
    }
    no_relations!();
}

pub mod memberships {
    use sea_orm::entity::prelude::*;
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "memberships")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub account_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub user_id: i64,
        pub role: String,
        pub created_at: i64,
        /// The single sign-on group this role came from; `None` when given by hand.
        pub sso_group: Option<String>,
        /// When sign-in last synced it from the group.
        pub synced_at: Option<i64>,
    }
    no_relations!();
}

pub mod group_mappings {
    use sea_orm::entity::prelude::*;
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "group_mappings")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub account_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub group_name: String,
        pub role: String,
        pub created_at: i64,
    }
    no_relations!();
}

pub mod credentials {
    use sea_orm::entity::prelude::*;
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "credentials")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub kind: String,
        pub account_id: Option<i64>,
        pub user_id: Option<i64>,
        pub name: String,
        #[sea_orm(unique)]
        pub secret_hash: String,
        pub access: String,
        pub created_at: i64,
        pub expires_at: Option<i64>,
        pub last_used_at: Option<i64>,
        pub revoked_at: Option<i64>,
    }
    no_relations!();
}

pub mod repositories {
    use sea_orm::entity::prelude::*;
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "repositories")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub account_id: i64,
        #[sea_orm(unique)]
        pub name: String,
        pub created_at: i64,
        pub pushed_at: i64,
        /// Bytes of the distinct blobs this repository may read.
        pub size_bytes: i64,
        /// Pullable by anyone, without credentials.
        pub public: bool,
    }
    no_relations!();
}

pub mod blobs {
    use sea_orm::entity::prelude::*;
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "blobs")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub digest: String,
        pub size: i64,
        pub created_at: i64,
        /// The object holding the bytes, relative to the store, when they are not at
        /// the digest's usual place (see `storage::StoredBlob`).
        pub object_key: Option<String>,
    }
    no_relations!();
}

pub mod repository_blobs {
    use sea_orm::entity::prelude::*;
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "repository_blobs")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub repository_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub digest: String,
        pub created_at: i64,
    }
    no_relations!();
}

pub mod manifests {
    use sea_orm::entity::prelude::*;
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "manifests")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub repository_id: i64,
        pub digest: String,
        pub media_type: String,
        pub artifact_type: Option<String>,
        pub subject: Option<String>,
        pub size: i64,
        pub content: Vec<u8>,
        pub created_at: i64,
        /// When it was last pulled; written in batches, so up to a few seconds late.
        pub pulled_at: Option<i64>,
    }
    no_relations!();
}

pub mod manifest_references {
    use sea_orm::entity::prelude::*;
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "manifest_references")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub manifest_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub digest: String,
        pub kind: String,
    }
    no_relations!();
}

pub mod tags {
    use sea_orm::entity::prelude::*;
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "tags")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub repository_id: i64,
        pub name: String,
        pub manifest_id: i64,
        pub updated_at: i64,
    }
    no_relations!();
}

pub mod uploads {
    use sea_orm::entity::prelude::*;
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "uploads")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub repository_id: i64,
        pub created_at: i64,
        /// Bytes received so far: the upload's length.
        pub received: i64,
        /// The running hash over those bytes, serialised (`Hasher::to_state`).
        pub hash_state: Option<Vec<u8>>,
        /// When a request last wrote it (ms), for expiry.
        pub updated_at: i64,
        /// The request writing it now, and until when that claim holds (ms).
        pub lease_holder: Option<String>,
        pub lease_until: i64,
        /// What the blob store keeps about the upload between requests (its
        /// multipart upload, say); opaque here.
        pub store_state: Option<String>,
    }
    no_relations!();
}

pub mod audit_events {
    use sea_orm::entity::prelude::*;
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_events")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub account_id: Option<i64>,
        pub actor: String,
        pub action: String,
        pub repository: Option<String>,
        pub detail: Option<String>,
        pub created_at: i64,
        /// Where the request came from (after trusted proxies); `None` for the CLI.
        pub client: Option<String>,
    }
    no_relations!();
}

pub mod sessions {
    use sea_orm::entity::prelude::*;
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "sessions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub data: String,
        pub expires_at: i64,
        /// The signed-in user, so that a password change can end their sessions.
        pub user_id: Option<i64>,
    }
    no_relations!();
}

pub mod refresh_grants {
    use sea_orm::entity::prelude::*;
    /// What a refresh token from a password login stays valid by: it lives while the
    /// row does (a password change deletes the user's rows) and is used at least
    /// every `REFRESH_IDLE_LIFETIME`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "refresh_grants")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub user_id: i64,
        pub created_at: i64,
        pub last_used_at: i64,
    }
    no_relations!();
}

pub mod login_failures {
    use sea_orm::entity::prelude::*;
    /// Recent failed password attempts against one throttling key.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "login_failures")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub key: String,
        pub failures: i32,
        /// When the last one happened (ms).
        pub last_at: i64,
    }
    no_relations!();
}

pub mod site_leases {
    use sea_orm::entity::prelude::*;
    /// Who runs a piece of site-wide background work, and until when (ms).
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "site_leases")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub name: String,
        pub holder: String,
        pub until: i64,
    }
    no_relations!();
}

pub mod site_secrets {
    use sea_orm::entity::prelude::*;
    /// A secret the whole site shares (the token signing key), as hex.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "site_secrets")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub name: String,
        pub value: String,
        pub created_at: i64,
    }
    no_relations!();
}

pub mod trash {
    use sea_orm::entity::prelude::*;
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "trash")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub account_id: i64,
        /// "tag" or "repository".
        pub kind: String,
        pub repository: String,
        pub tag: Option<String>,
        pub deleted_by: String,
        pub deleted_at: i64,
        pub expires_at: i64,
        pub bytes: i64,
        /// What restoring puts back, as JSON (see `db::trash::Snapshot`).
        #[sea_orm(column_type = "Text")]
        pub snapshot: String,
    }
    no_relations!();
}

pub mod trash_blobs {
    use sea_orm::entity::prelude::*;
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "trash_blobs")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub trash_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub digest: String,
    }
    no_relations!();
}

pub mod trash_manifests {
    use sea_orm::entity::prelude::*;
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "trash_manifests")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub trash_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub repository_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub digest: String,
    }
    no_relations!();
}

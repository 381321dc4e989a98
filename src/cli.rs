//! The command line: `serve` and the admin commands. Admin commands print one line
//! for people, or one JSON object with `--json`; bad input exits with code 2.

use crate::config::{DataArgs, ServeArgs};
use crate::domain::{
    AccountName, EventSet, NodeName, RepositoryGlob, RepositoryName, RetentionPolicy, Role,
    TagPattern, TokenAccess, Username, Visibility,
};
use crate::services::access::Caller;
use crate::services::webhooks::Hook;
use crate::services::{Error, Services, format_rfc3339};
use clap::{Parser, Subcommand};
use serde_json::json;
use std::io::Read;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "berth",
    version = concat!(env!("CARGO_PKG_VERSION"), " (", env!("BERTH_COMMIT"), ")"),
    about = "Private container registry with a customer portal"
)]
pub struct Cli {
    #[command(flatten)]
    pub data: DataArgs,
    /// Print one JSON object instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

// `serve`'s settings are large beside the admin commands'; the command is parsed once,
// so its size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the registry and the portal.
    Serve(ServeArgs),
    /// Manage accounts (tenants).
    #[command(subcommand)]
    Account(AccountCommand),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage personal access tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage nodes (machine credentials that pull an account's repositories).
    #[command(subcommand)]
    Node(NodeCommand),
    /// Manage repositories.
    #[command(subcommand)]
    Repo(RepoCommand),
    /// Manage immutable tags: tags matching a rule can be neither overwritten nor
    /// deleted.
    #[command(subcommand)]
    Immutability(ImmutabilityCommand),
    /// Manage retention policies: which tags of an account's repositories are kept,
    /// and when untagged images go; what a run removes goes to the trash.
    #[command(subcommand)]
    Retention(RetentionCommand),
    /// Manage webhooks: an account's endpoints hear its pushes, deletions, pulls,
    /// refused pushes and retention runs, signed as Standard Webhooks says.
    #[command(subcommand)]
    Webhook(WebhookCommand),
    /// Check the database against the store; exits 1 when something is wrong (with
    /// `--repair`: when something could not be repaired).
    Fsck {
        /// Fix what can be fixed without lost bytes: orphan files, stale uploads,
        /// sizes.
        #[arg(long)]
        repair: bool,
        /// Upload sessions older than this count as abandoned.
        #[arg(long, default_value = "24h", value_parser = crate::config::parse_period)]
        upload_expiry: Duration,
    },
    /// Copy the data folder (SQLite and blobs) into a new folder while the server runs;
    /// exits 1 with a one-line reason when it cannot.
    Backup {
        /// The folder to write; it must not exist or be empty.
        #[arg(long)]
        to: std::path::PathBuf,
    },
    /// Put a backup into the (empty) data folder; refused while a server uses it.
    Restore {
        /// A folder written by `berth backup`.
        #[arg(long)]
        from: std::path::PathBuf,
    },
    /// Collect garbage now, beside a running server or not: unreferenced manifests,
    /// blobs, abandoned uploads and expired trash.
    Gc {
        /// Only count what would be freed.
        #[arg(long)]
        dry_run: bool,
        /// Blobs and manifests younger than this are kept.
        #[arg(long, default_value = "1h", value_parser = crate::config::parse_period)]
        grace: Duration,
        /// Upload sessions older than this are removed.
        #[arg(long, default_value = "24h", value_parser = crate::config::parse_period)]
        upload_expiry: Duration,
    },
}

#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Create an account; its namespace is its name.
    Create { name: String },
    /// Limit the storage an account may use (e.g. 50GiB), or `none`.
    SetQuota { name: String, size: String },
    /// Every account with its repositories, members, storage used and quota.
    List,
    /// Whether the account's new repositories start public or private.
    SetDefaultVisibility { name: String, visibility: String },
    /// Give the members of a single sign-on group a role in the account (read, write
    /// or admin), synced at each of their sign-ins; the highest of several wins.
    MapGroup {
        account: String,
        group: String,
        role: String,
    },
    /// Stop a group giving a role; its members lose it at their next sign-in.
    UnmapGroup { account: String, group: String },
    /// The groups an account maps to roles.
    Groups { account: String },
}

#[derive(Debug, Subcommand)]
pub enum ImmutabilityCommand {
    /// Make an account's tags matching PATTERN (a glob such as `v*`) immutable, in one
    /// repository (its name within the account) or, without it, in all.
    Add {
        account: String,
        pattern: String,
        #[arg(long)]
        repository: Option<String>,
    },
    /// Remove a rule (site admins only, in the portal).
    Remove {
        account: String,
        pattern: String,
        #[arg(long)]
        repository: Option<String>,
    },
    /// An account's rules.
    List { account: String },
}

#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Create a webhook; prints its id and its secret (shown this once).
    Create {
        #[arg(long)]
        account: String,
        #[arg(long)]
        url: String,
        /// Comma-separated: push, delete, pull, quota, retention.
        #[arg(long, default_value = "push,delete")]
        events: String,
        /// Only repositories whose name within the account matches this glob.
        #[arg(long)]
        repository: Option<String>,
        /// Only tags matching this glob.
        #[arg(long)]
        tag: Option<String>,
    },
    /// An account's webhooks.
    List {
        #[arg(long)]
        account: String,
    },
    /// Delete a webhook and its delivery log.
    Delete { id: i64 },
    /// Turn a webhook on again (after a 410 or days of failures); what waited is sent.
    Enable { id: i64 },
    /// Turn a webhook off: its messages wait until it is turned on.
    Disable { id: i64 },
    /// Print a new secret; for 24 hours the old one signs beside it.
    RotateSecret { id: i64 },
    /// A webhook's latest deliveries, newest first.
    Deliveries {
        id: i64,
        #[arg(long, default_value_t = 20)]
        limit: u64,
    },
}

#[derive(Debug, Subcommand)]
pub enum RetentionCommand {
    /// Set the policy of an account, or of one repository of it (its name within the
    /// account), replacing the one it had. A tag is kept when any keep rule keeps it.
    Set {
        account: String,
        #[arg(long)]
        repository: Option<String>,
        /// Keep the N most recently pushed tags.
        #[arg(long)]
        keep_last: Option<String>,
        /// Keep tags pushed or pulled within this period (30d; a bare number is days).
        #[arg(long)]
        keep_days: Option<String>,
        /// Apply only to tags matching this glob.
        #[arg(long)]
        tag: Option<String>,
        /// Never apply to tags matching this glob.
        #[arg(long)]
        exclude: Option<String>,
        /// Remove untagged images older than this period (7d).
        #[arg(long)]
        untagged_older_than: Option<String>,
    },
    /// Remove a policy.
    Unset {
        account: String,
        #[arg(long)]
        repository: Option<String>,
    },
    /// Apply the policies now, of one account or of every account; prints what went to
    /// the trash.
    Run {
        #[arg(long)]
        account: Option<String>,
        /// Only count what would go.
        #[arg(long)]
        dry_run: bool,
        /// How long what goes stays restorable: the server's `--trash-retention`.
        #[arg(long, env = "BERTH_TRASH_RETENTION", default_value = "7d", value_parser = crate::config::parse_period)]
        trash_retention: Duration,
    },
    /// An account's policies.
    List { account: String },
}

#[derive(Debug, Subcommand)]
pub enum RepoCommand {
    /// Make a repository (NAMESPACE/NAME) public, pullable by anyone without
    /// credentials, or private again.
    SetVisibility { name: String, visibility: String },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is read from standard input.
    Create {
        username: String,
        /// The account the user belongs to.
        #[arg(long)]
        account: Option<String>,
        /// The user's role in the account: read, write or admin.
        #[arg(long, default_value = "write")]
        role: String,
        /// Make the user a site admin (all accounts).
        #[arg(long)]
        site_admin: bool,
    },
    /// Reset a user's password (read from standard input); every portal session of
    /// theirs and every `docker login` made with the old password ends.
    SetPassword { username: String },
    /// Stop a user everywhere at once: sign-in, portal sessions, docker logins and
    /// tokens are refused until `enable`.
    Disable { username: String },
    /// Let a disabled user in again; their tokens and docker logins work as before.
    Enable { username: String },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a personal access token; the secret is printed once.
    Create {
        #[arg(long)]
        user: String,
        #[arg(long, default_value = "cli")]
        name: String,
        /// pull, push or delete.
        #[arg(long, default_value = "push")]
        access: String,
        /// Lifetime such as 30d, 12h or 90m; without it the token does not expire.
        #[arg(long)]
        expires_in: Option<String>,
    },
    /// Revoke a token or node credential by id.
    Revoke { id: i64 },
}

#[derive(Debug, Subcommand)]
pub enum NodeCommand {
    /// Create a node of an account; it logs in as `ACCOUNT+NAME`.
    Create {
        name: String,
        #[arg(long)]
        account: String,
    },
}

/// An admin command's failure: a message for the user and the exit code.
pub struct Failure {
    pub message: String,
    pub code: i32,
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        let code = if matches!(e, Error::Internal(_)) {
            1
        } else {
            2
        };
        if let Error::Internal(cause) = &e {
            return Failure {
                message: format!("internal error: {cause:#}"),
                code,
            };
        }
        Failure {
            message: e.to_string(),
            code,
        }
    }
}

impl From<crate::domain::ParseError> for Failure {
    fn from(e: crate::domain::ParseError) -> Self {
        Failure {
            message: e.0,
            code: 2,
        }
    }
}

fn invalid(msg: impl Into<String>) -> Failure {
    Failure {
        message: msg.into(),
        code: 2,
    }
}

/// Parses lifetimes like `30d`, `12h`, `90m`, `45s`, `2w`.
pub fn parse_lifetime(s: &str) -> Result<Duration, Failure> {
    match crate::config::parse_period(s).map_err(invalid)? {
        d if d.is_zero() => Err(invalid("a lifetime must be positive")),
        d => Ok(d),
    }
}

fn read_password() -> Result<String, Failure> {
    let mut s = String::new();
    std::io::stdin().read_to_string(&mut s).map_err(|e| {
        invalid(format!(
            "could not read the password from standard input: {e}"
        ))
    })?;
    let password = s.trim_end_matches(['\n', '\r']).to_owned();
    if password.is_empty() {
        return Err(invalid("give the password on standard input"));
    }
    Ok(password)
}

/// `berth restore`, which runs before any data folder is opened.
pub async fn run_restore(
    data: &DataArgs,
    from: &std::path::Path,
    json_mode: bool,
) -> Result<(), Failure> {
    let copied = crate::backup::restore(data, from)
        .await
        .map_err(|message| Failure { message, code: 1 })?;
    emit(
        json_mode,
        json!({"from": from.display().to_string(), "data_dir": data.data_dir.display().to_string(),
               "blobs": copied.blobs, "bytes": copied.bytes}),
        format!(
            "restored {} into {}: the database and {} ({} bytes)",
            from.display(),
            data.data_dir.display(),
            app::model::count(copied.blobs, "blob"),
            copied.bytes
        ),
    );
    Ok(())
}

/// Prints the outcome: the JSON object, or the text line.
fn emit(json_mode: bool, value: serde_json::Value, text: String) {
    if json_mode {
        println!("{value}");
    } else {
        println!("{text}");
    }
}

/// Runs an admin command against the services.
pub async fn run_admin(
    services: &Services,
    command: Command,
    json_mode: bool,
) -> Result<(), Failure> {
    let operator = &Caller::Operator;
    match command {
        Command::Serve(_) | Command::Restore { .. } => {
            unreachable!("serve and restore are handled by main")
        }
        Command::Backup { to } => {
            let copied = crate::backup::backup(services, &to)
                .await
                .map_err(|message| Failure { message, code: 1 })?;
            emit(
                json_mode,
                json!({"to": to.display().to_string(), "blobs": copied.blobs, "bytes": copied.bytes}),
                format!(
                    "backed up to {}: the database and {} ({} bytes)",
                    to.display(),
                    app::model::count(copied.blobs, "blob"),
                    copied.bytes
                ),
            );
        }
        Command::Fsck {
            repair,
            upload_expiry,
        } => {
            let mut services = services.clone();
            services.lifecycle.upload_expiry = upload_expiry;
            let r = services.fsck(repair).await?;
            let clean = r.clean();
            let mut text = Vec::new();
            for p in &r.problems {
                text.push(format!("problem: {p}"));
            }
            for p in &r.repaired {
                text.push(format!("repaired: {p}"));
            }
            for p in &r.unrepairable {
                text.push(format!("cannot repair: {p}"));
            }
            text.push(format!(
                "checked {} blobs ({} bytes): {}",
                r.blobs_checked,
                r.bytes_checked,
                if r.problems.is_empty() {
                    "all consistent".to_owned()
                } else if clean {
                    format!("{} problems, all repaired", r.problems.len())
                } else {
                    format!("{} problems", r.problems.len())
                }
            ));
            emit(
                json_mode,
                serde_json::to_value(&r).unwrap_or_default(),
                text.join("\n"),
            );
            if !clean {
                return Err(Failure {
                    message: "the data is not consistent".into(),
                    code: 1,
                });
            }
        }
        Command::Gc {
            dry_run,
            grace,
            upload_expiry,
        } => {
            let mut services = services.clone();
            services.lifecycle.grace = grace;
            services.lifecycle.upload_expiry = upload_expiry;
            let r = services.collect_garbage(operator, dry_run).await?;
            emit(
                json_mode,
                serde_json::to_value(&r).unwrap_or_default(),
                r.to_string(),
            );
        }
        Command::Account(AccountCommand::Create { name }) => {
            let name = AccountName::parse(&name)?;
            let a = services.create_account(operator, &name).await?;
            emit(
                json_mode,
                json!({"id": a.id, "name": a.name, "namespace": a.name, "created_at": format_rfc3339(a.created_at)}),
                format!("created account {} (id {})", a.name, a.id),
            );
        }
        Command::Account(AccountCommand::List) => {
            let accounts = services.accounts_overview(operator).await?;
            let rows: Vec<serde_json::Value> = accounts
                .iter()
                .map(|a| {
                    json!({
                        "name": a.account.name,
                        "repositories": a.repositories,
                        "members": a.members,
                        "used_bytes": a.storage,
                        "quota_bytes": a.account.quota_bytes,
                    })
                })
                .collect();
            let text = accounts
                .iter()
                .map(|a| {
                    format!(
                        "{}\t{}\t{}\t{} bytes used{}",
                        a.account.name,
                        app::model::count(a.repositories, "repository"),
                        app::model::count(a.members, "member"),
                        a.storage,
                        a.account
                            .quota_bytes
                            .map(|q| format!(" of {q}"))
                            .unwrap_or_default()
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            emit(json_mode, serde_json::Value::Array(rows), text);
        }
        Command::Account(AccountCommand::MapGroup {
            account,
            group,
            role,
        }) => {
            let account = AccountName::parse(&account)?;
            let role = Role::parse(&role)?;
            services.map_group(operator, &account, &group, role).await?;
            emit(
                json_mode,
                json!({"account": account.as_str(), "group": group, "role": role.as_str()}),
                format!("members of {group} are {} in {account}", role.as_str()),
            );
        }
        Command::Account(AccountCommand::UnmapGroup { account, group }) => {
            let account = AccountName::parse(&account)?;
            services.unmap_group(operator, &account, &group).await?;
            emit(
                json_mode,
                json!({"account": account.as_str(), "group": group, "unmapped": true}),
                format!("{group} gives no role in {account} any more"),
            );
        }
        Command::Account(AccountCommand::Groups { account }) => {
            let account = AccountName::parse(&account)?;
            let mappings = services.group_mappings(operator, &account).await?;
            let rows: Vec<serde_json::Value> = mappings
                .iter()
                .map(|m| {
                    json!({
                        "group": m.group_name,
                        "role": m.role,
                        "created_at": format_rfc3339(m.created_at),
                    })
                })
                .collect();
            let text = mappings
                .iter()
                .map(|m| format!("{}\t{}", m.group_name, m.role))
                .collect::<Vec<_>>()
                .join("\n");
            emit(json_mode, serde_json::Value::Array(rows), text);
        }
        Command::Account(AccountCommand::SetQuota { name, size }) => {
            let name = AccountName::parse(&name)?;
            let size = crate::config::parse_size(&size).map_err(invalid)?;
            services.set_quota(operator, &name, size).await?;
            emit(
                json_mode,
                json!({"name": name.as_str(), "quota_bytes": size}),
                match size {
                    Some(q) => format!("account {name} may store {q} bytes"),
                    None => format!("account {name} has no quota"),
                },
            );
        }
        Command::Account(AccountCommand::SetDefaultVisibility { name, visibility }) => {
            let name = AccountName::parse(&name)?;
            let visibility = Visibility::parse(&visibility)?;
            services
                .set_default_visibility(operator, &name, visibility)
                .await?;
            emit(
                json_mode,
                json!({"name": name.as_str(), "default_visibility": visibility.as_str()}),
                format!("new repositories of {name} are {}", visibility.as_str()),
            );
        }
        Command::Repo(RepoCommand::SetVisibility { name, visibility }) => {
            let name = RepositoryName::parse(&name)?;
            let visibility = Visibility::parse(&visibility)?;
            services
                .set_repository_visibility(operator, &name, visibility)
                .await?;
            emit(
                json_mode,
                json!({"name": name.as_str(), "visibility": visibility.as_str()}),
                format!("{name} is {}", visibility.as_str()),
            );
        }
        Command::Immutability(ImmutabilityCommand::Add {
            account,
            pattern,
            repository,
        }) => {
            let account = AccountName::parse(&account)?;
            let pattern = TagPattern::parse(&pattern)?;
            services
                .add_immutability(operator, &account, &pattern, repository.as_deref())
                .await?;
            emit(
                json_mode,
                json!({"account": account.as_str(), "pattern": pattern.as_str(), "repository": repository}),
                format!(
                    "tags of {account} matching {pattern} are immutable{}",
                    repository
                        .as_deref()
                        .map(|r| format!(" in {r}"))
                        .unwrap_or_default()
                ),
            );
        }
        Command::Immutability(ImmutabilityCommand::Remove {
            account,
            pattern,
            repository,
        }) => {
            let account = AccountName::parse(&account)?;
            let pattern = TagPattern::parse(&pattern)?;
            services
                .remove_immutability(operator, &account, &pattern, repository.as_deref())
                .await?;
            emit(
                json_mode,
                json!({"account": account.as_str(), "pattern": pattern.as_str(), "repository": repository, "removed": true}),
                format!("removed the rule {pattern} of {account}"),
            );
        }
        Command::Immutability(ImmutabilityCommand::List { account }) => {
            let account = AccountName::parse(&account)?;
            let rules = services.immutability_rules(operator, &account).await?;
            let rows: Vec<serde_json::Value> = rules
                .iter()
                .map(|r| {
                    json!({
                        "pattern": r.pattern,
                        "repository": (!r.repository.is_empty()).then_some(r.repository.as_str()),
                        "created_at": format_rfc3339(r.created_at),
                    })
                })
                .collect();
            let text = rules
                .iter()
                .map(|r| {
                    format!(
                        "{}\t{}",
                        r.pattern,
                        if r.repository.is_empty() {
                            "every repository"
                        } else {
                            r.repository.as_str()
                        }
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            emit(json_mode, serde_json::Value::Array(rows), text);
        }
        Command::Retention(RetentionCommand::Set {
            account,
            repository,
            keep_last,
            keep_days,
            tag,
            exclude,
            untagged_older_than,
        }) => {
            let account = AccountName::parse(&account)?;
            let policy = RetentionPolicy::from_fields(
                keep_last.as_deref(),
                keep_days.as_deref(),
                tag.as_deref(),
                exclude.as_deref(),
                untagged_older_than.as_deref(),
            )?;
            services
                .set_retention(operator, &account, repository.as_deref(), &policy)
                .await?;
            emit(
                json_mode,
                retention_json(repository.as_deref(), &policy),
                format!(
                    "{} of {account}: {}",
                    repository.as_deref().unwrap_or("every repository"),
                    policy.describe()
                ),
            );
        }
        Command::Retention(RetentionCommand::Unset {
            account,
            repository,
        }) => {
            let account = AccountName::parse(&account)?;
            services
                .unset_retention(operator, &account, repository.as_deref())
                .await?;
            emit(
                json_mode,
                json!({"account": account.as_str(), "repository": repository, "removed": true}),
                format!(
                    "removed the retention policy of {}",
                    repository.as_deref().unwrap_or(account.as_str())
                ),
            );
        }
        Command::Webhook(WebhookCommand::Create {
            account,
            url,
            events,
            repository,
            tag,
        }) => {
            let account = AccountName::parse(&account)?;
            let events = EventSet::parse(&events)?;
            let repository = repository
                .as_deref()
                .map(RepositoryGlob::parse)
                .transpose()?;
            let tag = tag.as_deref().map(TagPattern::parse).transpose()?;
            let (id, secret) = services
                .create_webhook(
                    operator,
                    &account,
                    &url,
                    &events,
                    repository.as_ref(),
                    tag.as_ref(),
                )
                .await?;
            emit(
                json_mode,
                json!({"id": id, "secret": secret}),
                format!("webhook {id} created; its secret (shown this once): {secret}"),
            );
        }
        Command::Webhook(WebhookCommand::List { account }) => {
            let account = AccountName::parse(&account)?;
            let hooks = services.webhooks(operator, &account).await?;
            let rows: Vec<serde_json::Value> = hooks
                .iter()
                .map(|w| {
                    json!({
                        "id": w.id,
                        "url": w.url,
                        "events": w.events.split(',').collect::<Vec<_>>(),
                        "repository": w.repository_glob,
                        "tag": w.tag_glob,
                        "enabled": w.enabled,
                        "disabled_reason": w.disabled_reason,
                    })
                })
                .collect();
            let text = hooks
                .iter()
                .map(|w| {
                    format!(
                        "{}\t{}\t{}\t{}",
                        w.id,
                        w.url,
                        w.events,
                        if w.enabled {
                            "enabled".to_owned()
                        } else {
                            format!(
                                "disabled: {}",
                                w.disabled_reason.as_deref().unwrap_or("by an admin")
                            )
                        }
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            emit(json_mode, serde_json::Value::Array(rows), text);
        }
        Command::Webhook(WebhookCommand::Delete { id }) => {
            services
                .delete_webhook(operator, Hook { id, account: None })
                .await?;
            emit(
                json_mode,
                json!({"id": id, "deleted": true}),
                format!("deleted webhook {id}"),
            );
        }
        Command::Webhook(
            toggle @ (WebhookCommand::Enable { id } | WebhookCommand::Disable { id }),
        ) => {
            let enabled = matches!(toggle, WebhookCommand::Enable { .. });
            services
                .set_webhook_enabled(operator, Hook { id, account: None }, enabled)
                .await?;
            emit(
                json_mode,
                json!({"id": id, "enabled": enabled}),
                format!("webhook {id} {}", if enabled { "on" } else { "off" }),
            );
        }
        Command::Webhook(WebhookCommand::RotateSecret { id }) => {
            let secret = services
                .rotate_webhook_secret(operator, Hook { id, account: None })
                .await?;
            emit(
                json_mode,
                json!({"id": id, "secret": secret}),
                format!(
                    "webhook {id}'s new secret (shown this once; the old one also signs for 24 hours): {secret}"
                ),
            );
        }
        Command::Webhook(WebhookCommand::Deliveries { id, limit }) => {
            let (_, deliveries) = services
                .webhook_deliveries(operator, Hook { id, account: None }, limit)
                .await?;
            let rows: Vec<serde_json::Value> = deliveries
                .iter()
                .map(|d| {
                    json!({
                        "id": d.id,
                        "message_id": d.message_id,
                        "event": d.event,
                        "state": d.state,
                        "attempts": d.attempts,
                        "status": d.last_status,
                        "latency_ms": d.last_latency_ms,
                        "response": d.last_response,
                        "created_at": format_rfc3339(d.created_at),
                    })
                })
                .collect();
            let text = deliveries
                .iter()
                .map(|d| {
                    format!(
                        "{}\t{}\t{}\t{} attempt(s)\t{}",
                        d.id,
                        d.event,
                        d.state,
                        d.attempts,
                        d.last_status.map_or_else(
                            || d.last_response.clone().unwrap_or_default(),
                            |s| s.to_string()
                        )
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            emit(json_mode, serde_json::Value::Array(rows), text);
        }
        Command::Retention(RetentionCommand::Run {
            account,
            dry_run,
            trash_retention,
        }) => {
            let account = account.as_deref().map(AccountName::parse).transpose()?;
            let mut services = services.clone();
            services.lifecycle.trash_retention = trash_retention;
            let report = services
                .run_retention(operator, account.as_ref(), dry_run)
                .await?;
            emit(
                json_mode,
                json!({"tags": report.tags, "manifests": report.manifests, "bytes": report.bytes}),
                format!(
                    "{} {}, {} ({}) to the trash",
                    if dry_run { "would move" } else { "moved" },
                    app::model::count(report.tags, "tag"),
                    app::model::count(report.manifests, "untagged image"),
                    app::model::count(report.bytes, "byte")
                ),
            );
        }
        Command::Retention(RetentionCommand::List { account }) => {
            let account = AccountName::parse(&account)?;
            let policies = services.retention_policies(operator, &account).await?;
            let rows: Vec<serde_json::Value> = policies
                .iter()
                .map(|p| {
                    let mut row = retention_json(p.repository.as_deref(), &p.policy);
                    row["updated_by"] = json!(p.updated_by);
                    row["updated_at"] = json!(format_rfc3339(p.updated_at));
                    row
                })
                .collect();
            let text = policies
                .iter()
                .map(|p| {
                    format!(
                        "{}\t{}",
                        p.repository.as_deref().unwrap_or("every repository"),
                        p.policy.describe()
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            emit(json_mode, serde_json::Value::Array(rows), text);
        }
        Command::User(UserCommand::Create {
            username,
            account,
            role,
            site_admin,
        }) => {
            let username = Username::parse(&username)?;
            let role = Role::parse(&role)?;
            let account = account.as_deref().map(AccountName::parse).transpose()?;
            if account.is_none() && !site_admin {
                return Err(invalid("give --account NAME, or --site-admin"));
            }
            let password = read_password()?;
            let u = services
                .create_user(
                    operator,
                    &username,
                    &password,
                    account.as_ref().map(|a| (a, role)),
                    site_admin,
                )
                .await?;
            emit(
                json_mode,
                json!({"id": u.id, "username": u.username, "account": account.as_ref().map(|a| a.to_string()),
                       "role": account.as_ref().map(|_| role.as_str()), "site_admin": u.site_admin}),
                format!("created user {} (id {})", u.username, u.id),
            );
        }
        Command::User(UserCommand::SetPassword { username }) => {
            let username = Username::parse(&username)?;
            let password = read_password()?;
            services
                .reset_password(operator, &username, &password)
                .await?;
            emit(
                json_mode,
                json!({"username": username.as_str(), "password_changed": true}),
                format!("set the password of {username}; their sessions and docker logins ended"),
            );
        }
        Command::User(which @ (UserCommand::Disable { .. } | UserCommand::Enable { .. })) => {
            let (username, disabled) = match which {
                UserCommand::Disable { username } => (username, true),
                UserCommand::Enable { username } => (username, false),
                _ => unreachable!("matched above"),
            };
            let username = Username::parse(&username)?;
            services
                .set_user_disabled(operator, &username, disabled)
                .await?;
            emit(
                json_mode,
                json!({"username": username.as_str(), "disabled": disabled}),
                format!(
                    "{username} is {}",
                    if disabled { "disabled" } else { "enabled" }
                ),
            );
        }
        Command::Token(TokenCommand::Create {
            user,
            name,
            access,
            expires_in,
        }) => {
            let access = TokenAccess::parse(&access)?;
            let lifetime = expires_in.as_deref().map(parse_lifetime).transpose()?;
            let t = services
                .create_token(operator, &Username::parse(&user)?, &name, access, lifetime)
                .await?;
            emit(
                json_mode,
                json!({"id": t.credential.id, "username": user, "name": t.credential.name, "access": access.as_str(),
                       "secret": t.secret, "expires_at": t.credential.expires_at.map(format_rfc3339)}),
                format!(
                    "token {} for {user}: {}\n(the secret is shown once; store it now)",
                    t.credential.id, t.secret
                ),
            );
        }
        Command::Token(TokenCommand::Revoke { id }) => {
            let c = services.revoke_credential(operator, id).await?;
            emit(
                json_mode,
                json!({"id": c.id, "revoked": true}),
                format!("revoked credential {}", c.id),
            );
        }
        Command::Node(NodeCommand::Create { name, account }) => {
            let node = NodeName::parse(&name)?;
            let account = AccountName::parse(&account)?;
            let n = services.create_node(operator, &node, &account).await?;
            let username = format!("{account}+{node}");
            emit(
                json_mode,
                json!({"id": n.credential.id, "name": node.as_str(), "account": account.as_str(),
                       "username": username, "secret": n.secret}),
                format!(
                    "node {username} (id {}): {}\n(the secret is shown once; store it now)",
                    n.credential.id, n.secret
                ),
            );
        }
    }
    Ok(())
}

/// A policy as `--json` prints it, with the flags' names.
fn retention_json(repository: Option<&str>, p: &RetentionPolicy) -> serde_json::Value {
    use crate::domain::retention::format_period;
    json!({
        "repository": repository,
        "keep_last": p.keep_last,
        "keep_days": p.keep_within.map(format_period),
        "tag": p.tag.as_ref().map(|t| t.as_str()),
        "exclude": p.exclude.as_ref().map(|t| t.as_str()),
        "untagged_older_than": p.untagged_older_than.map(format_period),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes() {
        assert_eq!(
            parse_lifetime("30d").ok(),
            Some(Duration::from_secs(30 * 86_400))
        );
        assert_eq!(parse_lifetime("90m").ok(), Some(Duration::from_secs(5400)));
        assert!(parse_lifetime("0d").is_err());
        assert!(parse_lifetime("d").is_err());
        assert!(parse_lifetime("5y").is_err());
        assert!(parse_lifetime("99999999999999999w").is_err());
    }
}

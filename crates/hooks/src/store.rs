//! Where intents live (the seed kept them in MongoDB): SQLite, a file under the data dir, by
//! default; PostgreSQL when `DATABASE_URL` is a `postgres://` URL. Through `sqlx`, with the
//! migrations in `migrations/{sqlite,postgres}` applied on open. The SQL is the same on both (`$n`
//! placeholders, `ON CONFLICT`); only the migrations differ.

use std::path::Path;
use std::str::FromStr;

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use sqlx::Row;

use crate::intent::{DigRef, HookIntent, HookType, WorkflowIntent};
use crate::workers::WorkerIntent;

/// A store failure a caller acts on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// An intent of that name already exists in the DIG.
    #[error("workflow hook intent already exists")]
    Conflict,
    /// No intent of that name in the DIG.
    #[error("workflow hook not found")]
    NotFound,
    /// `DATABASE_URL` names a database this build does not speak.
    #[error("unsupported database URL {0:?}: use sqlite://… or postgres://…")]
    UnsupportedUrl(String),
    /// A stored intent no longer parses.
    #[error("stored intent {name} is unreadable")]
    Corrupt {
        /// The intent.
        name: String,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// The database failed.
    #[error("database error")]
    Database(#[from] sqlx::Error),
    /// A migration failed.
    #[error("migrating the database")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// The state a lifecycle action left a DIG in.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DigState {
    /// `Instantiated`, `Updated` or `Terminated`.
    pub state: String,
    /// The app context of the last action.
    pub app_context_id: String,
}

/// The intent store.
#[derive(Debug, Clone)]
pub enum Store {
    /// A SQLite file.
    Sqlite(SqlitePool),
    /// A PostgreSQL database.
    Postgres(PgPool),
}

/// Runs the same query builder on whichever pool the store has.
macro_rules! on_pool {
    ($store:expr, |$pool:ident| $body:expr) => {
        match $store {
            Store::Sqlite($pool) => $body,
            Store::Postgres($pool) => $body,
        }
    };
}

/// The SQLite file under a data dir.
pub fn default_sqlite_path(data_dir: &Path) -> std::path::PathBuf {
    data_dir.join("hooks.db")
}

impl Store {
    /// Opens `database_url` when given (`postgres://…` or `sqlite://…`), else the SQLite file under
    /// `data_dir`; applies the migrations.
    pub async fn open(database_url: Option<&str>, data_dir: &Path) -> Result<Self, StoreError> {
        let store = match database_url {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Store::Postgres(PgPoolOptions::new().max_connections(8).connect(url).await?)
            }
            Some(url) if url.starts_with("sqlite:") => {
                let options = SqliteConnectOptions::from_str(url)?.create_if_missing(true);
                Store::Sqlite(SqlitePoolOptions::new().max_connections(4).connect_with(options).await?)
            }
            Some(url) => return Err(StoreError::UnsupportedUrl(url.to_owned())),
            None => {
                let options = SqliteConnectOptions::new()
                    .filename(default_sqlite_path(data_dir))
                    .create_if_missing(true)
                    .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                    .busy_timeout(std::time::Duration::from_secs(5));
                // Switching a new file to WAL takes an exclusive lock that SQLite does not wait for
                // (SQLITE_BUSY at once, whatever the busy timeout): processes opening the same new
                // file together (a worker and the CLI) try again shortly.
                let mut attempt = 1;
                let pool = loop {
                    match SqlitePoolOptions::new().max_connections(4).connect_with(options.clone()).await {
                        Err(err) if attempt < 10 && is_busy(&err) => {
                            attempt += 1;
                            tokio::time::sleep(std::time::Duration::from_millis(50 * attempt)).await;
                        }
                        other => break other?,
                    }
                };
                Store::Sqlite(pool)
            }
        };
        match &store {
            Store::Sqlite(pool) => {
                // SQLite's migrator takes no lock: processes opening a new file together (a worker
                // and the CLI) race to apply a migration, and the loser sees its table exist. The
                // winner committed table and record together, so a second look finds it applied.
                let mut attempt = 1;
                loop {
                    match sqlx::migrate!("./migrations/sqlite").run(pool).await {
                        Err(
                            sqlx::migrate::MigrateError::Execute(_) | sqlx::migrate::MigrateError::ExecuteMigration(..),
                        ) if attempt < 5 => {
                            attempt += 1;
                            tokio::time::sleep(std::time::Duration::from_millis(100 * attempt)).await;
                        }
                        other => break other?,
                    }
                }
            }
            // PostgreSQL's migrator holds an advisory lock.
            Store::Postgres(pool) => sqlx::migrate!("./migrations/postgres").run(pool).await?,
        }
        Ok(store)
    }

    /// `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// Adds `intent` to `dig`; [`StoreError::Conflict`] when the name is taken.
    pub async fn create_intent(&self, dig: &DigRef, intent: &HookIntent) -> Result<(), StoreError> {
        let body = serde_json::to_string(intent).unwrap_or_default();
        let sql =
            "INSERT INTO hook_intents (project, composite_app, composite_app_version, dig, name, hook_type, body) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7)";
        let result = on_pool!(self, |pool| sqlx::query(sql)
            .bind(&dig.project)
            .bind(&dig.composite_app)
            .bind(&dig.composite_app_version)
            .bind(&dig.deployment_intent_group)
            .bind(intent.name())
            .bind(intent.spec.hook_type.as_str())
            .bind(&body)
            .execute(pool)
            .await
            .map(|_| ()));
        match result {
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(StoreError::Conflict),
            other => Ok(other?),
        }
    }

    /// Creates or overwrites `intent` (the seed's PUT); an overwrite keeps its place in the order.
    pub async fn put_intent(&self, dig: &DigRef, intent: &HookIntent) -> Result<(), StoreError> {
        let body = serde_json::to_string(intent).unwrap_or_default();
        let sql = "UPDATE hook_intents SET hook_type = $6, body = $7 WHERE project = $1 AND composite_app = $2 \
                   AND composite_app_version = $3 AND dig = $4 AND name = $5";
        for _ in 0..2 {
            let updated = on_pool!(self, |pool| sqlx::query(sql)
                .bind(&dig.project)
                .bind(&dig.composite_app)
                .bind(&dig.composite_app_version)
                .bind(&dig.deployment_intent_group)
                .bind(intent.name())
                .bind(intent.spec.hook_type.as_str())
                .bind(&body)
                .execute(pool)
                .await?
                .rows_affected());
            if updated > 0 {
                return Ok(());
            }
            match self.create_intent(dig, intent).await {
                // Created by someone else in between: overwrite it.
                Err(StoreError::Conflict) => continue,
                other => return other,
            }
        }
        Err(StoreError::Conflict)
    }

    /// The intent named `name`.
    pub async fn get_intent(&self, dig: &DigRef, name: &str) -> Result<HookIntent, StoreError> {
        let sql = "SELECT name, body FROM hook_intents WHERE project = $1 AND composite_app = $2 \
                   AND composite_app_version = $3 AND dig = $4 AND name = $5";
        let row: Option<(String, String)> = on_pool!(self, |pool| sqlx::query(sql)
            .bind(&dig.project)
            .bind(&dig.composite_app)
            .bind(&dig.composite_app_version)
            .bind(&dig.deployment_intent_group)
            .bind(name)
            .fetch_optional(pool)
            .await?
            .map(|r| (r.get(0), r.get(1))));
        let (name, body) = row.ok_or(StoreError::NotFound)?;
        decode(name, &body)
    }

    /// Every intent of `dig` (of `hook_type` when given), in creation order.
    pub async fn list_intents(&self, dig: &DigRef, hook_type: Option<HookType>) -> Result<Vec<HookIntent>, StoreError> {
        let sql = "SELECT name, body FROM hook_intents WHERE project = $1 AND composite_app = $2 \
                   AND composite_app_version = $3 AND dig = $4 AND ($5 = '' OR hook_type = $5) ORDER BY id";
        let rows: Vec<(String, String)> = on_pool!(self, |pool| sqlx::query(sql)
            .bind(&dig.project)
            .bind(&dig.composite_app)
            .bind(&dig.composite_app_version)
            .bind(&dig.deployment_intent_group)
            .bind(hook_type.map(HookType::as_str).unwrap_or(""))
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect());
        rows.into_iter().map(|(name, body)| decode(name, &body)).collect()
    }

    /// Every intent of every DIG (for the `emco_tac_intent` gauge), in creation order.
    pub async fn all_intents(&self) -> Result<Vec<(DigRef, HookIntent)>, StoreError> {
        let sql = "SELECT project, composite_app, composite_app_version, dig, name, body FROM hook_intents ORDER BY id";
        let rows: Vec<(DigRef, String, String)> = on_pool!(self, |pool| sqlx::query(sql)
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|r| {
                let dig = DigRef {
                    project: r.get(0),
                    composite_app: r.get(1),
                    composite_app_version: r.get(2),
                    deployment_intent_group: r.get(3),
                };
                (dig, r.get(4), r.get(5))
            })
            .collect());
        rows.into_iter().map(|(dig, name, body)| Ok((dig, decode(name, &body)?))).collect()
    }

    /// Deletes the intent named `name`; [`StoreError::NotFound`] when there is none.
    pub async fn delete_intent(&self, dig: &DigRef, name: &str) -> Result<(), StoreError> {
        let sql = "DELETE FROM hook_intents WHERE project = $1 AND composite_app = $2 \
                   AND composite_app_version = $3 AND dig = $4 AND name = $5";
        let deleted = on_pool!(self, |pool| sqlx::query(sql)
            .bind(&dig.project)
            .bind(&dig.composite_app)
            .bind(&dig.composite_app_version)
            .bind(&dig.deployment_intent_group)
            .bind(name)
            .execute(pool)
            .await?
            .rows_affected());
        if deleted == 0 {
            return Err(StoreError::NotFound);
        }
        // Its worker intents go with it.
        let sql = "DELETE FROM worker_intents WHERE project = $1 AND composite_app = $2 \
                   AND composite_app_version = $3 AND dig = $4 AND tac_intent = $5";
        on_pool!(self, |pool| sqlx::query(sql)
            .bind(&dig.project)
            .bind(&dig.composite_app)
            .bind(&dig.composite_app_version)
            .bind(&dig.deployment_intent_group)
            .bind(name)
            .execute(pool)
            .await
            .map(|_| ())?);
        Ok(())
    }

    /// Adds worker intent `worker` to hook intent `tac_intent` (which must exist);
    /// [`StoreError::Conflict`] when the name is taken.
    pub async fn create_worker(&self, dig: &DigRef, tac_intent: &str, worker: &WorkerIntent) -> Result<(), StoreError> {
        self.get_intent(dig, tac_intent).await?;
        let body = serde_json::to_string(worker).unwrap_or_default();
        let sql =
            "INSERT INTO worker_intents (project, composite_app, composite_app_version, dig, tac_intent, name, body) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7)";
        let result = on_pool!(self, |pool| sqlx::query(sql)
            .bind(&dig.project)
            .bind(&dig.composite_app)
            .bind(&dig.composite_app_version)
            .bind(&dig.deployment_intent_group)
            .bind(tac_intent)
            .bind(worker.name())
            .bind(&body)
            .execute(pool)
            .await
            .map(|_| ()));
        match result {
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(StoreError::Conflict),
            other => Ok(other?),
        }
    }

    /// Creates or overwrites worker intent `worker` of `tac_intent`.
    pub async fn put_worker(&self, dig: &DigRef, tac_intent: &str, worker: &WorkerIntent) -> Result<(), StoreError> {
        match self.delete_worker(dig, tac_intent, &worker.metadata.name).await {
            Ok(()) | Err(StoreError::NotFound) => {}
            Err(e) => return Err(e),
        }
        self.create_worker(dig, tac_intent, worker).await
    }

    /// The worker intents of `tac_intent`, in creation order.
    pub async fn list_workers(&self, dig: &DigRef, tac_intent: &str) -> Result<Vec<WorkerIntent>, StoreError> {
        let sql = "SELECT name, body FROM worker_intents WHERE project = $1 AND composite_app = $2 \
                   AND composite_app_version = $3 AND dig = $4 AND tac_intent = $5 ORDER BY id";
        let rows: Vec<(String, String)> = on_pool!(self, |pool| sqlx::query(sql)
            .bind(&dig.project)
            .bind(&dig.composite_app)
            .bind(&dig.composite_app_version)
            .bind(&dig.deployment_intent_group)
            .bind(tac_intent)
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect());
        rows.into_iter()
            .map(|(name, body)| serde_json::from_str(&body).map_err(|source| StoreError::Corrupt { name, source }))
            .collect()
    }

    /// The worker intent `name` of `tac_intent`.
    pub async fn get_worker(&self, dig: &DigRef, tac_intent: &str, name: &str) -> Result<WorkerIntent, StoreError> {
        self.list_workers(dig, tac_intent)
            .await?
            .into_iter()
            .find(|w| w.metadata.name == name)
            .ok_or(StoreError::NotFound)
    }

    /// Deletes worker intent `name` of `tac_intent`; [`StoreError::NotFound`] when there is none.
    pub async fn delete_worker(&self, dig: &DigRef, tac_intent: &str, name: &str) -> Result<(), StoreError> {
        let sql = "DELETE FROM worker_intents WHERE project = $1 AND composite_app = $2 \
                   AND composite_app_version = $3 AND dig = $4 AND tac_intent = $5 AND name = $6";
        let deleted = on_pool!(self, |pool| sqlx::query(sql)
            .bind(&dig.project)
            .bind(&dig.composite_app)
            .bind(&dig.composite_app_version)
            .bind(&dig.deployment_intent_group)
            .bind(tac_intent)
            .bind(name)
            .execute(pool)
            .await?
            .rows_affected());
        if deleted == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Adds workflow intent `intent` to `dig`; [`StoreError::Conflict`] when the name is taken.
    pub async fn create_workflow_intent(&self, dig: &DigRef, intent: &WorkflowIntent) -> Result<(), StoreError> {
        let body = serde_json::to_string(intent).unwrap_or_default();
        let sql = "INSERT INTO workflow_intents (project, composite_app, composite_app_version, dig, name, body) \
                   VALUES ($1, $2, $3, $4, $5, $6)";
        let result = on_pool!(self, |pool| sqlx::query(sql)
            .bind(&dig.project)
            .bind(&dig.composite_app)
            .bind(&dig.composite_app_version)
            .bind(&dig.deployment_intent_group)
            .bind(intent.name())
            .bind(&body)
            .execute(pool)
            .await
            .map(|_| ()));
        match result {
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(StoreError::Conflict),
            other => Ok(other?),
        }
    }

    /// The workflow intents of `dig`, in creation order.
    pub async fn list_workflow_intents(&self, dig: &DigRef) -> Result<Vec<WorkflowIntent>, StoreError> {
        let sql = "SELECT name, body FROM workflow_intents WHERE project = $1 AND composite_app = $2 \
                   AND composite_app_version = $3 AND dig = $4 ORDER BY id";
        let rows: Vec<(String, String)> = on_pool!(self, |pool| sqlx::query(sql)
            .bind(&dig.project)
            .bind(&dig.composite_app)
            .bind(&dig.composite_app_version)
            .bind(&dig.deployment_intent_group)
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect());
        rows.into_iter()
            .map(|(name, body)| serde_json::from_str(&body).map_err(|source| StoreError::Corrupt { name, source }))
            .collect()
    }

    /// The workflow intent `name` of `dig`.
    pub async fn get_workflow_intent(&self, dig: &DigRef, name: &str) -> Result<WorkflowIntent, StoreError> {
        self.list_workflow_intents(dig).await?.into_iter().find(|w| w.name() == name).ok_or(StoreError::NotFound)
    }

    /// Deletes workflow intent `name`; [`StoreError::NotFound`] when there is none.
    pub async fn delete_workflow_intent(&self, dig: &DigRef, name: &str) -> Result<(), StoreError> {
        let sql = "DELETE FROM workflow_intents WHERE project = $1 AND composite_app = $2 \
                   AND composite_app_version = $3 AND dig = $4 AND name = $5";
        let deleted = on_pool!(self, |pool| sqlx::query(sql)
            .bind(&dig.project)
            .bind(&dig.composite_app)
            .bind(&dig.composite_app_version)
            .bind(&dig.deployment_intent_group)
            .bind(name)
            .execute(pool)
            .await?
            .rows_affected());
        if deleted == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Records the state a lifecycle action left `dig` in (idempotent).
    pub async fn set_dig_state(&self, dig: &DigRef, state: &DigState) -> Result<(), StoreError> {
        let sql = "INSERT INTO dig_states (project, composite_app, composite_app_version, dig, state, app_context_id) \
                   VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (project, composite_app, composite_app_version, dig) \
                   DO UPDATE SET state = excluded.state, app_context_id = excluded.app_context_id";
        on_pool!(self, |pool| sqlx::query(sql)
            .bind(&dig.project)
            .bind(&dig.composite_app)
            .bind(&dig.composite_app_version)
            .bind(&dig.deployment_intent_group)
            .bind(&state.state)
            .bind(&state.app_context_id)
            .execute(pool)
            .await
            .map(|_| ())?);
        Ok(())
    }

    /// The state the last lifecycle action left `dig` in, if any.
    pub async fn dig_state(&self, dig: &DigRef) -> Result<Option<DigState>, StoreError> {
        let sql = "SELECT state, app_context_id FROM dig_states WHERE project = $1 AND composite_app = $2 \
                   AND composite_app_version = $3 AND dig = $4";
        Ok(on_pool!(self, |pool| sqlx::query(sql)
            .bind(&dig.project)
            .bind(&dig.composite_app)
            .bind(&dig.composite_app_version)
            .bind(&dig.deployment_intent_group)
            .fetch_optional(pool)
            .await?
            .map(|r| DigState { state: r.get(0), app_context_id: r.get(1) })))
    }
}

fn decode(name: String, body: &str) -> Result<HookIntent, StoreError> {
    serde_json::from_str(body).map_err(|source| StoreError::Corrupt { name, source })
}

/// Whether `err` is SQLite's "database is locked" / "busy" (codes 5 and 6, extended codes included).
fn is_busy(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Database(db) => {
            db.code().and_then(|code| code.parse::<i32>().ok()).is_some_and(|code| matches!(code & 0xff, 5 | 6))
        }
        _ => false,
    }
}

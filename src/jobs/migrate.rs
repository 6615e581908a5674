//! Schema migrations compiled into the binary: what `sqlx::migrate!` would embed, without the
//! proc-macro crates (which would build a second SQLite, and a PostgreSQL client, for the host).
//! Each store lists its files (`migrations/sqlite/`, `migrations/postgres/`) and runs them with
//! sqlx's [`Migrator`](sqlx::migrate::Migrator) when it connects; applied versions are recorded
//! in `_sqlx_migrations` with their checksums, so running them again is a no-op.

use std::borrow::Cow;

use futures::future::BoxFuture;
use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType};

/// A list of `(version, description, sql)` migrations built into the binary.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Embedded(pub(crate) &'static [(i64, &'static str, &'static str)]);

impl MigrationSource<'static> for Embedded {
    fn resolve(self) -> BoxFuture<'static, Result<Vec<Migration>, BoxDynError>> {
        Box::pin(async move {
            Ok(self
                .0
                .iter()
                .map(|&(version, description, sql)| {
                    Migration::new(
                        version,
                        Cow::Borrowed(description),
                        MigrationType::Simple,
                        Cow::Borrowed(sql),
                        false,
                    )
                })
                .collect())
        })
    }
}

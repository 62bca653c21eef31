//! `seed-legacy`: a legacy `voice_agent` schema (`assets/legacy/voice_agent.sql`) filled with
//! generated data at the sizes of schema-mapping-guide.md, times the scale, with the dirt an
//! import must handle planted on purpose (`legacy.sql` lists it). Set-based SQL, one
//! transaction; the same rows on every run.

use sqlx::PgPool;

use crate::db::DbError;
use crate::db::legacy::TABLES;

/// The legacy schema's tables, as the guide describes them.
pub const LEGACY_SCHEMA_SQL: &str = include_str!("../../assets/legacy/voice_agent.sql");
const GENERATE_SQL: &str = include_str!("legacy.sql");

/// Rows per table at scale 1, in the order of `db::legacy::TABLES`.
pub const SCALE_ONE: [i64; 8] = [39, 30, 5, 23, 63, 4, 742, 16];

/// Creates `schema` and fills it at `scale` (1 = the guide's sizes). Returns the rows per table
/// (in the order of `db::legacy::TABLES`). Refuses a schema that exists.
pub async fn seed_legacy(pool: &PgPool, schema: &str, scale: u32) -> Result<Vec<i64>, DbError> {
    crate::db::legacy::check_schema_name(schema).map_err(DbError::Refused)?;
    if scale == 0 {
        return Err(DbError::Refused(
            "the scale is a whole number from 1".into(),
        ));
    }
    let mut tx = crate::db::begin(pool).await?;
    let exists: bool =
        crate::db::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)")
            .bind(schema)
            .fetch_one(&mut *tx)
            .await?;
    if exists {
        return Err(DbError::Refused(format!(
            "the database already has a schema {schema}: seed-legacy fills a new one (drop it, or \
             name another with --schema)"
        )));
    }
    // The name is checked above (letters, digits, _) and the scale is a number.
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "SET LOCAL statement_timeout = 0; CREATE SCHEMA \"{schema}\"; \
         SET LOCAL search_path = \"{schema}\";"
    )))
    .execute(&mut *tx)
    .await?;
    sqlx::raw_sql(LEGACY_SCHEMA_SQL).execute(&mut *tx).await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(
        GENERATE_SQL.replace(":scale", &scale.to_string()),
    ))
    .execute(&mut *tx)
    .await?;
    let mut counts = Vec::new();
    for t in TABLES {
        let n: i64 = crate::db::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT count(*) FROM \"{schema}\".\"{}\"",
            t.name
        )))
        .fetch_one(&mut *tx)
        .await?;
        counts.push(n);
    }
    tx.commit().await?;
    Ok(counts)
}

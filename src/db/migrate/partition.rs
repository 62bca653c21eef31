//! `switchboard migrate --partition-audit monthly`: `audit_logs` as a table partitioned by range
//! on `created_at`, one partition a month (`audit_logs_pYYYY_MM`, UTC months) and a default
//! partition for anything outside them, as platforms do past a hundred million rows.
//!
//! On a plain `audit_logs` it converts, in one transaction under an ACCESS EXCLUSIVE lock: the
//! table is renamed, a partitioned one made LIKE it (defaults, NOT NULLs, checks), a partition made
//! for every month its rows span and [`MONTHS_AHEAD`] more, the rows copied, the old table dropped;
//! then its primary key (now `(id, created_at)`: a partitioned table's keys hold its partition
//! key), foreign keys, indexes, triggers (the append-only ones: row triggers reach every
//! partition, TRUNCATE is refused on each partition too), grants and owner are made again as they
//! were. On a table already partitioned by range on `created_at` (by this command or by the
//! platform, pg_partman's included) it only adds the months ahead that are missing; rows that
//! landed in the default partition for such a month move into it. Run it monthly (cron) or let
//! pg_partman make partitions: the default partition takes whatever comes meanwhile.

use chrono::{Datelike, NaiveDate, Utc};
use sqlx::PgPool;

use super::super::DbError;
use super::super::connect::quote_ident;

/// How many months past the current one get a partition of their own.
pub const MONTHS_AHEAD: u32 = 3;

/// What the command did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Partitioned {
    /// The table was plain and is now partitioned.
    pub converted: bool,
    /// Rows copied into the partitioned table (a conversion).
    pub rows_moved: i64,
    /// Partitions made by this run.
    pub added: Vec<String>,
    /// Rows moved out of the default partition into a new month's.
    pub from_default: i64,
    /// Partitions now, the default included.
    pub partitions: i64,
}

/// The partition of the month starting `month` (UTC).
pub fn partition_name(month: NaiveDate) -> String {
    format!("audit_logs_p{:04}_{:02}", month.year(), month.month())
}

fn next_month(month: NaiveDate) -> NaiveDate {
    month
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(month)
}

fn first_of_month(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

/// The bound of a partition: midnight UTC on `day`, as a literal PostgreSQL takes.
fn bound(day: NaiveDate) -> String {
    format!("'{} 00:00:00+00'", day.format("%Y-%m-%d"))
}

type Tx = sqlx::Transaction<'static, sqlx::Postgres>;

async fn exec(tx: &mut Tx, sql: String) -> Result<(), DbError> {
    // Identifiers quoted, bounds made from dates here: no input reaches this text.
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Makes `audit_logs` partitioned by month (or adds the months ahead), in one transaction.
pub async fn partition_audit_monthly(pool: &PgPool) -> Result<Partitioned, DbError> {
    let done = partition_in_transaction(pool).await.map_err(|e| match e {
        DbError::Sqlx(sqlx::Error::Database(d)) if d.code().as_deref() == Some("55P03") => {
            DbError::Refused(
                "audit_logs is busy: its lock was not granted within 10 s (a long export, \
                 verify or transaction holds it); nothing was changed, try again when it is \
                 quieter"
                    .into(),
            )
        }
        other => other,
    })?;
    // A partitioned table's own row estimate comes only from ANALYZE (autovacuum analyzes the
    // partitions, never the parent); the start-up overview reads it.
    crate::db::query("ANALYZE public.audit_logs")
        .execute(pool)
        .await?;
    Ok(done)
}

async fn partition_in_transaction(pool: &PgPool) -> Result<Partitioned, DbError> {
    let mut tx = pool.begin().await?;
    exec(&mut tx, "SET LOCAL lock_timeout = '10s'".into()).await?;
    let (kind, key): (String, Option<String>) = crate::db::query_as(
        "SELECT c.relkind::text, \
                CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END \
         FROM pg_class c WHERE c.oid = 'public.audit_logs'::regclass",
    )
    .fetch_one(&mut *tx)
    .await?;
    let mut done = Partitioned::default();
    let today = Utc::now().date_naive();
    let from = match (kind.as_str(), key.as_deref()) {
        ("r", _) => {
            let first = convert(&mut tx, &mut done).await?;
            first.unwrap_or(today).min(today)
        }
        ("p", Some(k)) if k.eq_ignore_ascii_case("RANGE (created_at)") => today,
        ("p", k) => {
            return Err(DbError::Refused(format!(
                "audit_logs is partitioned by {}, not by range on created_at: Switchboard works \
                 on it as it is and leaves its partitions to whoever made them",
                k.unwrap_or("something else")
            )));
        }
        (other, _) => {
            return Err(DbError::Refused(format!(
                "audit_logs is not a table (relkind {other}); nothing was changed"
            )));
        }
    };
    let mut month = first_of_month(from);
    let last = first_of_month(today)
        .checked_add_months(chrono::Months::new(MONTHS_AHEAD))
        .unwrap_or(today);
    while month <= last {
        add_month(&mut tx, month, &mut done).await?;
        month = next_month(month);
    }
    if done.converted {
        done.added.push("audit_logs_default".into());
        restore(&mut tx).await?;
    }
    done.partitions = crate::db::query_scalar(
        "SELECT count(*) FROM pg_inherits WHERE inhparent = 'public.audit_logs'::regclass",
    )
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(done)
}

/// What a conversion makes again on the new table, read from the old one before it goes.
const KEPT: &str = "CREATE TEMP TABLE switchboard_partition_kept ON COMMIT DROP AS \
    SELECT 1 AS ord, format('ALTER TABLE public.audit_logs ADD CONSTRAINT %I %s', conname, \
                            pg_get_constraintdef(oid)) AS sql \
      FROM pg_constraint WHERE conrelid = 'public.audit_logs'::regclass AND contype = 'f' \
    UNION ALL \
    SELECT 2, pg_get_indexdef(indexrelid) FROM pg_index \
      WHERE indrelid = 'public.audit_logs'::regclass AND NOT indisunique \
    UNION ALL \
    SELECT 3, pg_get_triggerdef(oid) FROM pg_trigger \
      WHERE tgrelid = 'public.audit_logs'::regclass AND NOT tgisinternal \
    UNION ALL \
    SELECT 4, format('GRANT %s ON public.audit_logs TO %s%s', a.privilege_type, \
                     CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END, \
                     CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END) \
      FROM pg_class c, aclexplode(c.relacl) a \
      WHERE c.oid = 'public.audit_logs'::regclass AND a.grantee <> c.relowner \
    UNION ALL \
    SELECT 4, format('GRANT %s (%I) ON public.audit_logs TO %s%s', a.privilege_type, t.attname, \
                     CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END, \
                     CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END) \
      FROM pg_attribute t, aclexplode(t.attacl) a \
      WHERE t.attrelid = 'public.audit_logs'::regclass AND t.attnum > 0 AND NOT t.attisdropped \
    UNION ALL \
    SELECT 5, format('ALTER TABLE public.audit_logs OWNER TO %I', pg_get_userbyid(c.relowner)) \
      FROM pg_class c WHERE c.oid = 'public.audit_logs'::regclass \
        AND c.relowner <> (SELECT oid FROM pg_roles WHERE rolname = current_user)";

/// What a conversion cannot carry over, said before anything is copied: each is a reason to
/// refuse.
const BLOCKERS: &str = "SELECT 'a unique index besides the primary key (' || c.relname || \
           '), which a partitioned table cannot keep without created_at' \
      FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
      WHERE i.indrelid = 'public.audit_logs'::regclass AND i.indisunique AND NOT i.indisprimary \
    UNION ALL \
    SELECT DISTINCT 'a view that reads it (' || v.oid::regclass::text || ')' \
      FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid JOIN pg_class v ON v.oid = r.ev_class \
      WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = 'public.audit_logs'::regclass \
        AND v.oid <> 'public.audit_logs'::regclass \
    UNION ALL \
    SELECT 'a foreign key that points at it (' || conname || ' on ' || conrelid::regclass::text || ')' \
      FROM pg_constraint WHERE confrelid = 'public.audit_logs'::regclass AND contype = 'f' \
    UNION ALL \
    SELECT 'row-level security on it (its policies would not follow)' \
      FROM pg_class WHERE oid = 'public.audit_logs'::regclass AND relrowsecurity \
    UNION ALL \
    SELECT 'storage options on it (' || array_to_string(reloptions, ', ') || ')' \
      FROM pg_class WHERE oid = 'public.audit_logs'::regclass AND reloptions IS NOT NULL";

/// Renames the plain table, makes the partitioned one, copies the rows (partitions for their
/// months first) and drops the old one. Returns the first month with rows.
async fn convert(tx: &mut Tx, done: &mut Partitioned) -> Result<Option<NaiveDate>, DbError> {
    exec(
        tx,
        "LOCK TABLE public.audit_logs IN ACCESS EXCLUSIVE MODE".into(),
    )
    .await?;
    let blockers: Vec<String> = crate::db::query_scalar(BLOCKERS)
        .fetch_all(&mut **tx)
        .await?;
    if !blockers.is_empty() {
        return Err(DbError::Refused(format!(
            "audit_logs cannot be partitioned by this command as it is: it has {}; nothing was \
             changed",
            blockers.join("; ")
        )));
    }
    exec(tx, KEPT.into()).await?;
    let first: Option<NaiveDate> = crate::db::query_scalar(
        "SELECT (min(created_at) AT TIME ZONE 'UTC')::date FROM public.audit_logs",
    )
    .fetch_one(&mut **tx)
    .await?;
    exec(
        tx,
        "ALTER TABLE public.audit_logs RENAME TO audit_logs_unpartitioned; \
         CREATE TABLE public.audit_logs (LIKE public.audit_logs_unpartitioned \
             INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMMENTS) \
             PARTITION BY RANGE (created_at)"
            .into(),
    )
    .await?;
    done.converted = true;
    // The months the rows span get their partitions before the copy.
    if let Some(first) = first {
        let today = Utc::now().date_naive();
        let mut month = first_of_month(first);
        while month <= first_of_month(today) {
            add_month(tx, month, done).await?;
            month = next_month(month);
        }
    }
    // Rows past the current month (a clock ahead) go to the default partition, and from there
    // into the months ahead as they are made.
    exec(
        tx,
        "CREATE TABLE public.audit_logs_default PARTITION OF public.audit_logs DEFAULT".into(),
    )
    .await?;
    done.rows_moved = crate::db::query(
        "INSERT INTO public.audit_logs SELECT * FROM public.audit_logs_unpartitioned",
    )
    .execute(&mut **tx)
    .await?
    .rows_affected() as i64;
    exec(tx, "DROP TABLE public.audit_logs_unpartitioned".into()).await?;
    Ok(first)
}

/// Makes the partition of `month` unless there is one; rows for it in the default partition
/// move into it.
async fn add_month(tx: &mut Tx, month: NaiveDate, done: &mut Partitioned) -> Result<(), DbError> {
    let name = partition_name(month);
    let exists: bool = crate::db::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_class WHERE relname = $1 \
                        AND relnamespace = 'public'::regnamespace)",
    )
    .bind(&name)
    .fetch_one(&mut **tx)
    .await?;
    if exists {
        return Ok(());
    }
    let (from, to) = (bound(month), bound(next_month(month)));
    let q = quote_ident(&name);
    // Rows of that month in the default partition: moved into the new one, then it is attached
    // (attaching checks that the default keeps none of its range).
    let default = crate::db::query_scalar::<Option<String>>(
        "SELECT max(c.relname::text) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
         WHERE i.inhparent = 'public.audit_logs'::regclass \
           AND pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT'",
    )
    .fetch_one(&mut **tx)
    .await?;
    let stranded: i64 =
        match &default {
            Some(d) => crate::db::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT count(*) FROM public.{} WHERE created_at >= {from} AND created_at < {to}",
                quote_ident(d)
            )))
            .fetch_one(&mut **tx)
            .await?,
            None => 0,
        };
    // A partition made by another scheme (pg_partman's names) may cover the month already: then
    // the statement fails on the overlap, and the month is left to it.
    exec(tx, "SAVEPOINT switchboard_partition".into()).await?;
    let made = if stranded > 0 {
        let d = quote_ident(default.as_deref().unwrap_or_default());
        // By name: a default partition attached by someone else may order its columns otherwise.
        let columns: String = crate::db::query_scalar(
            "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute \
             WHERE attrelid = 'public.audit_logs'::regclass AND attnum > 0 AND NOT attisdropped",
        )
        .fetch_one(&mut **tx)
        .await?;
        exec(
            tx,
            format!(
                "CREATE TABLE public.{q} (LIKE public.audit_logs INCLUDING DEFAULTS \
                     INCLUDING CONSTRAINTS INCLUDING STORAGE); \
                 INSERT INTO public.{q} ({columns}) SELECT {columns} FROM public.{d} \
                     WHERE created_at >= {from} AND created_at < {to}; \
                 SELECT set_config('switchboard.archiving', 'on', true); \
                 DELETE FROM public.{d} WHERE created_at >= {from} AND created_at < {to}; \
                 SELECT set_config('switchboard.archiving', 'off', true); \
                 ALTER TABLE public.audit_logs ATTACH PARTITION public.{q} \
                     FOR VALUES FROM ({from}) TO ({to})"
            ),
        )
        .await
    } else {
        exec(
            tx,
            format!(
                "CREATE TABLE public.{q} PARTITION OF public.audit_logs \
                 FOR VALUES FROM ({from}) TO ({to})"
            ),
        )
        .await
    };
    match made {
        Ok(()) => {
            exec(tx, "RELEASE SAVEPOINT switchboard_partition".into()).await?;
            done.from_default += stranded;
            if !done.converted {
                no_truncate(tx, &name).await?;
                same_owner(tx, &name).await?;
            }
            done.added.push(name);
            Ok(())
        }
        Err(DbError::Sqlx(sqlx::Error::Database(d))) if d.code().as_deref() == Some("42P17") => {
            exec(tx, "ROLLBACK TO SAVEPOINT switchboard_partition".into()).await?;
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// The TRUNCATE refusal on one partition (a TRUNCATE names a partition past its parent's
/// statement triggers). Where the append-only function is missing, nothing to do.
async fn no_truncate(tx: &mut Tx, partition: &str) -> Result<(), DbError> {
    let has_guard: bool = crate::db::query_scalar(
        "SELECT to_regproc('switchboard.audit_logs_append_only') IS NOT NULL",
    )
    .fetch_one(&mut **tx)
    .await?;
    if has_guard {
        exec(
            tx,
            format!(
                "CREATE TRIGGER switchboard_no_truncate BEFORE TRUNCATE ON public.{} \
                 FOR EACH STATEMENT EXECUTE FUNCTION switchboard.audit_logs_append_only()",
                quote_ident(partition)
            ),
        )
        .await?;
    }
    Ok(())
}

/// After a conversion: the key, then what the old table had (foreign keys, indexes, triggers,
/// grants, owner), in that order, and the TRUNCATE refusal on each partition.
async fn restore(tx: &mut Tx) -> Result<(), DbError> {
    exec(
        tx,
        "ALTER TABLE public.audit_logs ADD CONSTRAINT audit_logs_pkey PRIMARY KEY (id, created_at)"
            .into(),
    )
    .await?;
    let kept: Vec<String> =
        crate::db::query_scalar("SELECT sql FROM switchboard_partition_kept ORDER BY ord")
            .fetch_all(&mut **tx)
            .await?;
    for sql in kept {
        exec(tx, sql).await?;
    }
    let partitions: Vec<String> = crate::db::query_scalar(
        "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
         WHERE i.inhparent = 'public.audit_logs'::regclass",
    )
    .fetch_all(&mut **tx)
    .await?;
    for p in &partitions {
        no_truncate(tx, p).await?;
        same_owner(tx, p).await?;
    }
    Ok(())
}

/// Gives a partition the table's owner (an archive, run as the owner, detaches and drops
/// partitions; one owned by whoever ran this from cron would be deleted row by row instead).
async fn same_owner(tx: &mut Tx, partition: &str) -> Result<(), DbError> {
    let owner: Option<String> = crate::db::query_scalar(
        "SELECT pg_get_userbyid(par.relowner) FROM pg_class par, pg_class c \
         WHERE par.oid = 'public.audit_logs'::regclass \
           AND c.relname = $1 AND c.relnamespace = 'public'::regnamespace \
           AND c.relowner <> par.relowner",
    )
    .bind(partition)
    .fetch_optional(&mut **tx)
    .await?;
    if let Some(owner) = owner {
        exec(
            tx,
            format!(
                "ALTER TABLE public.{} OWNER TO {}",
                quote_ident(partition),
                quote_ident(&owner)
            ),
        )
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_are_named_and_bounded_by_utc_month() {
        let m = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        assert_eq!(partition_name(m), "audit_logs_p2026_12");
        assert_eq!(next_month(m), NaiveDate::from_ymd_opt(2027, 1, 1).unwrap());
        assert_eq!(bound(next_month(m)), "'2027-01-01 00:00:00+00'");
        assert_eq!(
            first_of_month(NaiveDate::from_ymd_opt(2026, 2, 28).unwrap()),
            NaiveDate::from_ymd_opt(2026, 2, 1).unwrap()
        );
    }
}

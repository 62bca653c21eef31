//! The audit trail you can prove, on real PostgreSQL: `audit_logs` refuses UPDATE, DELETE and
//! TRUNCATE; every row the console writes is linked in the hash chain; `verify` finds and names
//! each kind of tampering (done here as an attacker with superuser rights would, with triggers
//! off); concurrent writers leave one unbroken chain.

#[macro_use]
mod common;

use chrono::Utc;
use common::TestDb;
use common::actions::{fixture, session};
use switchboard::actions::{Request, apply};
use switchboard::db::chain;
use switchboard::db::verify::{CheckpointHead, ProblemKind, Report, verify};
use uuid::Uuid;

async fn walk(db: &TestDb, checkpoint: Option<&CheckpointHead>) -> Report {
    verify(&db.pool, checkpoint, &mut |_| {}).await.unwrap()
}

fn kinds(r: &Report) -> Vec<(ProblemKind, Option<Uuid>)> {
    r.problems.iter().map(|p| (p.kind, p.audit_id)).collect()
}

/// Runs `sql` as an attacker who can switch triggers off (superuser), in one transaction.
async fn tamper(db: &TestDb, sql: &[&str]) {
    let mut tx = db.pool.begin().await.unwrap();
    switchboard::db::query("SET LOCAL session_replication_role = replica")
        .execute(&mut *tx)
        .await
        .unwrap();
    for s in sql {
        switchboard::db::query(sqlx::AssertSqlSafe(s.to_string()))
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
}

/// Five top-ups by the fixture's admin: five rows, five links. Returns their ids, oldest first.
async fn five_top_ups(db: &TestDb, f: &common::actions::Fixture) -> Vec<Uuid> {
    let s = session(&f.admin);
    let mut ids = Vec::new();
    for i in 0..5 {
        let out = apply(
            &db.pool,
            &s,
            &Request::AdjustCredits {
                user: f.customer,
                delta: 10 + i,
                reason: format!("top-up {i}"),
                key: Uuid::new_v4(),
            },
        )
        .await
        .unwrap();
        ids.push(out.audit_id.unwrap());
    }
    ids
}

#[tokio::test]
async fn update_delete_and_truncate_of_the_audit_log_are_refused_even_to_its_owner() {
    let db = TestDb::migrated().await;
    let ids = five_top_ups(&db, &fixture(&db.pool).await).await;
    for sql in [
        "UPDATE audit_logs SET action = 'x'",
        "DELETE FROM audit_logs",
        "TRUNCATE audit_logs CASCADE",
        "UPDATE switchboard.audit_chain SET seq = seq + 100",
        "DELETE FROM switchboard.audit_chain",
    ] {
        let e = sql!(
            &db.pool,
            switchboard::db::query(sqlx::AssertSqlSafe(sql)),
            execute
        )
        .unwrap_err();
        assert!(e.to_string().contains("append-only"), "{sql}: {e}");
    }
    let rows: i64 = sql!(
        &db.pool,
        switchboard::db::query_scalar("SELECT count(*) FROM audit_logs WHERE id = ANY($1)")
            .bind(&ids),
        fetch_one
    )
    .unwrap();
    assert_eq!(rows, 5);
    let r = walk(&db, None).await;
    assert!(r.ok(), "{r:#?}");
}

#[tokio::test]
async fn each_kind_of_tampering_is_found_and_named() {
    let db = TestDb::migrated().await;
    let ids = five_top_ups(&db, &fixture(&db.pool).await).await;
    let clean = walk(&db, None).await;
    assert!(clean.ok(), "{clean:#?}");
    // Fixture sign-ins are not chained (the fixture inserts users directly): 5 links.
    assert_eq!(clean.links, 5);

    // An edited value.
    tamper(
        &db,
        &[&format!(
            "UPDATE audit_logs SET new_values = jsonb_set(new_values, '{{credits}}', '999999') \
             WHERE id = '{}'",
            ids[1]
        )],
    )
    .await;
    let r = walk(&db, None).await;
    assert_eq!(kinds(&r), [(ProblemKind::Edited, Some(ids[1]))], "{r:#?}");

    // Two rows' times swapped: both moved, and said so.
    tamper(
        &db,
        &[&format!(
            "UPDATE audit_logs a SET created_at = b.created_at FROM audit_logs b \
             WHERE (a.id, b.id) IN (('{0}', '{1}'), ('{1}', '{0}'))",
            ids[2], ids[3]
        )],
    )
    .await;
    let r = walk(&db, None).await;
    assert_eq!(
        kinds(&r),
        [
            (ProblemKind::Edited, Some(ids[1])),
            (ProblemKind::Reordered, Some(ids[2])),
            (ProblemKind::Reordered, Some(ids[3])),
        ],
        "{r:#?}"
    );
    assert!(r.problems[1].detail.contains("moved in time"), "{r:#?}");

    // A deleted row (its link stays).
    tamper(
        &db,
        &[&format!("DELETE FROM audit_logs WHERE id = '{}'", ids[0])],
    )
    .await;
    let r = walk(&db, None).await;
    assert!(
        kinds(&r).contains(&(ProblemKind::Deleted, Some(ids[0]))),
        "{r:#?}"
    );

    // A forged row: says the console wrote it, has no link.
    let forged = Uuid::new_v4();
    tamper(
        &db,
        &[&format!(
            "INSERT INTO audit_logs (id, action, resource_type, new_values, user_agent) VALUES \
             ('{forged}', 'credits.top_up', 'user', '{{\"credits\": 1000000}}', \
              'switchboard/0.1.0 (mallory@bastion)')"
        )],
    )
    .await;
    // A row the platform wrote (not the console's): outside the chain, no problem.
    sql!(
        &db.pool,
        switchboard::db::query(
            "INSERT INTO audit_logs (action, resource_type, user_agent) \
         VALUES ('user.sign_in', 'user', 'Mozilla/5.0')",
        ),
        execute
    )
    .unwrap();
    let r = walk(&db, None).await;
    assert!(
        kinds(&r).contains(&(ProblemKind::Forged, Some(forged))),
        "{r:#?}"
    );
    assert_eq!(r.outside_by_action.get("user.sign_in"), Some(&1), "{r:#?}");
    assert_eq!(r.counts.values().sum::<u64>(), 5, "{r:#?}");
}

#[tokio::test]
async fn a_cut_tail_shows_only_against_a_checkpoint() {
    let db = TestDb::migrated().await;
    let ids = five_top_ups(&db, &fixture(&db.pool).await).await;
    let head = {
        let mut conn = switchboard::db::pinned(&db.pool).await.unwrap();
        chain::head(&mut conn).await.unwrap()
    };
    let checkpoint = CheckpointHead {
        seq: head.seq,
        hash: head.hash,
        at: Utc::now(),
    };
    let r = walk(&db, Some(&checkpoint)).await;
    assert!(r.ok(), "{r:#?}");
    assert!(r.checkpoint.as_deref().unwrap().contains("holds the head"));
    // The newest two entries and their links cut off.
    tamper(
        &db,
        &[
            &format!(
                "DELETE FROM audit_logs WHERE id IN ('{}', '{}')",
                ids[3], ids[4]
            ),
            "DELETE FROM switchboard.audit_chain WHERE seq > 3",
        ],
    )
    .await;
    // Without a checkpoint the shorter chain verifies: nothing says what came after it.
    let r = walk(&db, None).await;
    assert!(r.ok(), "{r:#?}");
    assert_eq!(r.head_seq, 3);
    // The checkpoint proves the cut.
    let r = walk(&db, Some(&checkpoint)).await;
    assert_eq!(kinds(&r), [(ProblemKind::Checkpoint, None)], "{r:#?}");
    assert!(r.problems[0].detail.contains("cut off"), "{r:#?}");
    // Links rewritten to hide an edit: the checkpoint's link no longer matches.
    let db = TestDb::migrated().await;
    let ids = five_top_ups(&db, &fixture(&db.pool).await).await;
    let mut conn = switchboard::db::pinned(&db.pool).await.unwrap();
    let head = chain::head(&mut conn).await.unwrap();
    drop(conn);
    tamper(
        &db,
        &[
            &format!(
                "UPDATE audit_logs SET new_values = '{{\"credits\": 1}}' WHERE id = '{}'",
                ids[4]
            ),
            // The attacker recomputes nothing: the link's hash is simply replaced.
            "UPDATE switchboard.audit_chain SET hash = sha256(hash) WHERE seq = 5",
        ],
    )
    .await;
    let cp = CheckpointHead {
        seq: head.seq,
        hash: head.hash,
        at: Utc::now(),
    };
    let r = walk(&db, Some(&cp)).await;
    let found: Vec<ProblemKind> = r.problems.iter().map(|p| p.kind).collect();
    assert!(found.contains(&ProblemKind::Checkpoint), "{r:#?}");
    assert!(found.contains(&ProblemKind::Edited), "{r:#?}");
}

#[tokio::test]
async fn eight_writers_of_250_top_ups_each_leave_one_unbroken_chain() {
    let db = TestDb::migrated().await;
    let f = fixture(&db.pool).await;
    common::actions::concurrent_top_ups(&db.pool, &f.admin, f.customer, 8, 250, 1).await;
    let r = walk(&db, None).await;
    assert!(r.ok(), "{r:#?}");
    assert_eq!(r.links, 2000);
    assert_eq!(r.head_seq, 2000);
}

/// Links are made as the transaction commits (migration 0009): none before COMMIT, one per row
/// in the order they were written, none for a row written under a savepoint rolled back, no
/// pending row left; and the chain so made verifies.
#[tokio::test]
async fn links_are_made_at_commit_in_order_and_only_for_rows_that_stay() {
    use switchboard::actions::audit::{AuditEntry, record};
    let db = TestDb::migrated().await;
    let f = fixture(&db.pool).await;
    let ctx = session(&f.admin).ctx;
    let entry = |action| AuditEntry {
        actor: Some(f.admin.id),
        action,
        resource_type: "user",
        resource_id: Some(f.customer),
        old: None,
        new: Some(serde_json::json!({ "note": action })),
    };
    let before: i64 = sql!(
        &db.pool,
        switchboard::db::query_scalar("SELECT count(*) FROM switchboard.audit_chain"),
        fetch_one
    )
    .unwrap();

    let mut tx = switchboard::db::begin(&db.pool).await.unwrap();
    let first = record(&mut tx, &ctx, entry("test.first")).await.unwrap();
    switchboard::db::query("SAVEPOINT s")
        .execute(&mut *tx)
        .await
        .unwrap();
    let dropped = record(&mut tx, &ctx, entry("test.dropped")).await.unwrap();
    switchboard::db::query("ROLLBACK TO SAVEPOINT s")
        .execute(&mut *tx)
        .await
        .unwrap();
    let second = record(&mut tx, &ctx, entry("test.second")).await.unwrap();
    let inside: i64 = switchboard::db::query_scalar(
        "SELECT count(*) FROM switchboard.audit_chain WHERE audit_id IN ($1, $2)",
    )
    .bind(first)
    .bind(second)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    assert_eq!(inside, 0, "no link before COMMIT");
    tx.commit().await.unwrap();

    let made: Vec<(i64, Uuid, Vec<u8>, Vec<u8>)> = sql!(
        &db.pool,
        switchboard::db::query_as(
            "SELECT seq, audit_id, prev_hash, hash FROM switchboard.audit_chain \
             WHERE seq > $1 ORDER BY seq",
        )
        .bind(before),
        fetch_all
    )
    .unwrap();
    assert_eq!(made.len(), 2, "{made:?}");
    assert_eq!((made[0].1, made[1].1), (first, second));
    assert_eq!(made[1].0, made[0].0 + 1);
    assert_eq!(made[1].2, made[0].3, "the second link follows the first");
    assert!(made.iter().all(|m| m.1 != dropped));
    let pending: i64 = sql!(
        &db.pool,
        switchboard::db::query_scalar("SELECT count(*) FROM switchboard.audit_chain_pending"),
        fetch_one
    )
    .unwrap();
    assert_eq!(pending, 0);
    let r = walk(&db, None).await;
    assert!(r.ok(), "{r:#?}");
}

/// Deleting a user empties `user_id` of their rows (the platform's key): let through, and the
/// rows still verify with the actor their link keeps.
#[tokio::test]
async fn a_deleted_actor_leaves_rows_that_still_verify() {
    let db = TestDb::migrated().await;
    let f = fixture(&db.pool).await;
    let leaving = common::actions::insert_user(
        &db.pool,
        "leaving-admin@example.test",
        switchboard::actions::Role::Admin,
        true,
        f.tenant,
    )
    .await;
    let out = apply(
        &db.pool,
        &session(&leaving),
        &Request::AdjustCredits {
            user: f.customer,
            delta: 1,
            reason: "before leaving".into(),
            key: Uuid::new_v4(),
        },
    )
    .await
    .unwrap();
    // The idempotency key's row points at the audit row, not at the user.
    sql!(
        &db.pool,
        switchboard::db::query("DELETE FROM users WHERE id = $1").bind(leaving.id),
        execute
    )
    .unwrap();
    let actor: Option<Uuid> = sql!(
        &db.pool,
        switchboard::db::query_scalar("SELECT user_id FROM audit_logs WHERE id = $1")
            .bind(out.audit_id.unwrap()),
        fetch_one
    )
    .unwrap();
    assert_eq!(actor, None);
    let r = walk(&db, None).await;
    assert!(r.ok(), "{r:#?}");
    assert_eq!(r.actor_deleted, 1);
    // But no one else may empty it, of a user who still exists.
    let other = apply(
        &db.pool,
        &session(&f.admin),
        &Request::AdjustCredits {
            user: f.customer,
            delta: 1,
            reason: "staying".into(),
            key: Uuid::new_v4(),
        },
    )
    .await
    .unwrap();
    let e = sql!(
        &db.pool,
        switchboard::db::query("UPDATE audit_logs SET user_id = NULL WHERE id = $1")
            .bind(other.audit_id.unwrap()),
        execute
    )
    .unwrap_err();
    assert!(e.to_string().contains("append-only"), "{e}");
}

/// The backstop records a change made outside the console once, with who made it; the console's
/// own change is not recorded twice; a role listed in `backstop_ignore_roles` is left out.
#[tokio::test]
async fn the_backstop_records_changes_made_outside_the_console_once() {
    let db = TestDb::migrated().await;
    let f = fixture(&db.pool).await;
    switchboard::db::migrate::install_backstop(&db.pool)
        .await
        .unwrap();
    // Twice is the same as once.
    switchboard::db::migrate::install_backstop(&db.pool)
        .await
        .unwrap();
    let backstop_rows = |action: &'static str| {
        let pool = db.pool.clone();
        async move {
            sql!(
                &pool,
                switchboard::db::query_as::<(
                    Option<serde_json::Value>,
                    Option<serde_json::Value>,
                    Option<String>,
                )>(
                    "SELECT old_values, new_values, user_agent FROM audit_logs WHERE action = $1 \
                     ORDER BY created_at, id",
                )
                .bind(action),
                fetch_all
            )
            .unwrap()
        }
    };
    // psql: one UPDATE of a user's role (and a column nobody watches).
    // (In a transaction of its own, SET LOCAL: as psql's one statement would be, also through
    // a transaction pooler.)
    let mut tx = switchboard::db::begin(&db.pool).await.unwrap();
    switchboard::db::query("SET LOCAL application_name = 'psql'")
        .execute(&mut *tx)
        .await
        .unwrap();
    switchboard::db::query("UPDATE users SET role = 'admin', name = 'Renamed' WHERE id = $1")
        .bind(f.customer)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let rows = backstop_rows("db.users.update").await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].0, Some(serde_json::json!({"role": "user"})));
    assert_eq!(rows[0].1, Some(serde_json::json!({"role": "admin"})));
    assert_eq!(
        rows[0].2.as_deref(),
        Some("database: role postgres, application psql")
    );
    // The console's change: its own audit row, no backstop row.
    let out = apply(
        &db.pool,
        &session(&f.super_admin),
        &Request::SetRole {
            user: f.customer,
            from: switchboard::actions::Role::Admin,
            to: switchboard::actions::Role::User,
        },
    )
    .await
    .unwrap();
    assert!(out.audit_id.is_some());
    assert_eq!(backstop_rows("db.users.update").await.len(), 1);
    // The billing role deducting credits for calls is left out once listed.
    let billing = format!("sb_billing_{}", Uuid::new_v4().simple());
    for sql in [
        format!("CREATE ROLE {billing} LOGIN"),
        format!("GRANT SELECT, UPDATE ON users TO {billing}"),
        format!(
            "UPDATE switchboard.settings SET value = '[\"{billing}\"]' \
             WHERE key = 'backstop_ignore_roles'"
        ),
    ] {
        sql!(
            &db.pool,
            switchboard::db::query(sqlx::AssertSqlSafe(sql)),
            execute
        )
        .unwrap();
    }
    // The platform's billing service, logged in as its own role: no rights on the audit log or
    // the console's schema, and its UPDATE goes through.
    // Straight to the server (a pooler in front of the tests knows only the tests' role).
    let mut as_billing = common::server()
        .admin
        .clone()
        .database(&db.name)
        .username(&billing);
    as_billing = as_billing.application_name("billing");
    let billing_deducts = |amount: i32| {
        let (options, user) = (as_billing.clone(), f.customer);
        async move {
            let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect_with(&options)
                .await
                .unwrap();
            switchboard::db::query("UPDATE users SET credits = credits - $1 WHERE id = $2")
                .bind(amount)
                .bind(user)
                .execute(&mut conn)
                .await
                .unwrap();
            <sqlx::PgConnection as sqlx::Connection>::close(conn)
                .await
                .unwrap();
        }
    };
    billing_deducts(7).await;
    assert_eq!(backstop_rows("db.users.update").await.len(), 1);
    // The backstop's rows are outside the chain, not problems.
    let r = walk(&db, None).await;
    assert!(r.ok(), "{r:#?}");
    assert_eq!(r.outside_by_action.get("db.users.update"), Some(&1));
    // Unlisted, the same role's change is recorded, with its name.
    sql!(
        &db.pool,
        switchboard::db::query(
            "UPDATE switchboard.settings SET value = '[]' WHERE key = 'backstop_ignore_roles'"
        ),
        execute
    )
    .unwrap();
    billing_deducts(1).await;
    let rows = backstop_rows("db.users.update").await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(
        rows[1].2.as_deref(),
        Some(format!("database: role {billing}, application billing").as_str())
    );
    for sql in [
        format!("DROP OWNED BY {billing}"),
        format!("DROP ROLE {billing}"),
    ] {
        sql!(
            &db.pool,
            switchboard::db::query(sqlx::AssertSqlSafe(sql)),
            execute
        )
        .unwrap();
    }
}

/// An archive round trip: the old entries go to a file that verifies on its own and is on record;
/// the log that remains (and the chain going on from the cut) verifies; a changed file does not.
#[tokio::test]
async fn an_archive_round_trip_verifies() {
    use switchboard::db::archive::{recorded, verify_file};
    let db = TestDb::migrated().await;
    let f = fixture(&db.pool).await;
    let old = five_top_ups(&db, &f).await;
    // The five entries (and one of the platform's) happened long ago.
    tamper(
        &db,
        &[
            "UPDATE audit_logs SET created_at = created_at - interval '400 days'",
            "UPDATE switchboard.audit_chain SET row_time = row_time - interval '400 days'",
        ],
    )
    .await;
    // The rewrite above is itself tampering: relink the rows as they are now, as a fresh chain.
    tamper(&db, &["DELETE FROM switchboard.audit_chain"]).await;
    {
        let mut tx = db.pool.begin().await.unwrap();
        chain::link_existing(&mut tx, chain::Existing::ConsoleRows, &mut |_| {})
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    sql!(
        &db.pool,
        switchboard::db::query(
            "INSERT INTO audit_logs (action, resource_type, user_agent, created_at) \
         VALUES ('user.sign_in', 'user', 'Mozilla/5.0', now() - interval '300 days')",
        ),
        execute
    )
    .unwrap();
    let recent = five_top_ups(&db, &f).await;
    assert!(walk(&db, None).await.ok());

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("audit-2025.jsonl");
    let before = Utc::now() - chrono::Duration::days(100);
    let done =
        switchboard::actions::archive::archive(&db.pool, &session(&f.super_admin), before, &file)
            .await
            .unwrap();
    assert_eq!((done.chained, done.outside), (5, 1));
    assert_eq!((done.start_seq, done.through_seq), (0, 5));
    assert!(!dir.path().join("audit-2025.jsonl.partial").exists());
    // Gone from the log, the recent ones still there.
    let left: Vec<Uuid> = sql!(
        &db.pool,
        switchboard::db::query_scalar("SELECT id FROM audit_logs WHERE id = ANY($1)")
            .bind(old.iter().chain(&recent).copied().collect::<Vec<_>>()),
        fetch_all
    )
    .unwrap();
    assert_eq!(left.len(), 5);
    assert!(recent.iter().all(|id| left.contains(id)));
    // The log verifies from the cut; the archive's own audit row is chained after it.
    let r = walk(&db, None).await;
    assert!(r.ok(), "{r:#?}");
    assert_eq!(r.start_seq, 5);
    assert_eq!(r.links, 6, "five recent top-ups and the archive's own row");
    let action: String = sql!(
        &db.pool,
        switchboard::db::query_scalar(
            "SELECT a.action FROM switchboard.audit_chain c JOIN audit_logs a ON a.id = c.audit_id \
         ORDER BY c.seq DESC LIMIT 1",
        ),
        fetch_one
    )
    .unwrap();
    assert_eq!(action, "audit.archive");
    // The file verifies on its own and is the one on record.
    let check = verify_file(&file).unwrap();
    assert_eq!(check.through_seq, 5);
    assert!(recorded(&db.pool, &check).await.unwrap().is_some());
    // A changed file does not verify.
    let text = std::fs::read_to_string(&file).unwrap();
    let changed = dir.path().join("changed.jsonl");
    std::fs::write(&changed, text.replacen("top-up 2", "top-up 9", 1)).unwrap();
    let e = verify_file(&changed).unwrap_err();
    assert!(e.to_string().contains("does not verify"), "{e}");
    // A second archive of the same range has nothing chained to take; an existing file is
    // refused.
    let e =
        switchboard::actions::archive::archive(&db.pool, &session(&f.super_admin), before, &file)
            .await
            .unwrap_err();
    assert!(e.to_string().contains("exists"), "{e}");
    // Not an admin's to do.
    let e = switchboard::actions::archive::archive(
        &db.pool,
        &session(&f.admin),
        before,
        &dir.path().join("x.jsonl"),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(e, switchboard::actions::ActionError::Forbidden(_)),
        "{e}"
    );
}

/// Where LISTEN is not kept (a transaction pooler), the console polls: a new entry is seen within
/// one period.
#[tokio::test]
async fn polling_sees_a_new_entry_within_a_period() {
    let db = TestDb::migrated().await;
    let f = fixture(&db.pool).await;
    five_top_ups(&db, &f).await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let pool = db.pool.clone();
    tokio::spawn(async move {
        switchboard::console::live::poll(&pool, &mut |()| tx.send(()).is_ok()).await;
    });
    // Nothing new yet: no word.
    assert!(
        tokio::time::timeout(std::time::Duration::from_millis(2500), rx.recv())
            .await
            .is_err()
    );
    five_top_ups(&db, &f).await;
    let heard = tokio::time::timeout(
        switchboard::console::live::POLL_EVERY + std::time::Duration::from_secs(2),
        rx.recv(),
    )
    .await;
    assert!(matches!(heard, Ok(Some(()))), "{heard:?}");
}

//! `seed-bench` at a small scale: the counts, the shape (skew, bursts), consistent keys, every
//! index rebuilt, and the refusal of a database that has users.

mod common;

use common::TestDb;
use switchboard::seed::bench::{BenchSize, seed_bench};

async fn indexes(db: &TestDb) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT indexdef FROM pg_indexes WHERE schemaname IN ('public', 'switchboard') \
         ORDER BY schemaname, indexname",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap()
}

async fn count(db: &TestDb, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&db.pool).await.unwrap()
}

#[tokio::test]
async fn a_small_scale_loads_in_seconds_with_the_shape_of_the_full_one() {
    let db = TestDb::migrated().await;
    let before = indexes(&db).await;
    let mut steps = Vec::new();
    let mut progress =
        |what: &str, done: i64, total: i64| steps.push((what.to_string(), done, total));
    let s = seed_bench(&db.pool, 0.01, &mut progress).await.unwrap();
    let want = BenchSize::at(0.01);
    assert_eq!(s.size, want);
    assert_eq!(
        (want.users, want.calls, want.audit_logs),
        (10_000, 50_000, 100_000)
    );
    assert!(s.database_bytes > 0);
    // Progress only goes forward and ends at the total.
    assert!(steps.windows(2).all(|w| w[0].1 <= w[1].1), "{steps:?}");
    assert_eq!(steps.last().unwrap().1, want.total_rows());

    assert_eq!(
        count(&db, "SELECT count(*) FROM tenants").await,
        want.tenants + 1
    );
    assert_eq!(count(&db, "SELECT count(*) FROM users").await, want.users);
    assert_eq!(count(&db, "SELECT count(*) FROM agents").await, want.agents);
    assert_eq!(
        count(&db, "SELECT count(*) FROM phone_numbers").await,
        want.phone_numbers
    );
    assert_eq!(count(&db, "SELECT count(*) FROM calls").await, want.calls);
    assert_eq!(
        count(&db, "SELECT count(*) FROM audit_logs").await,
        want.audit_logs
    );
    // The load skipped the key triggers, so check the keys it would have.
    let orphans = count(
        &db,
        "SELECT (SELECT count(*) FROM calls c WHERE NOT EXISTS \
                   (SELECT 1 FROM agents a WHERE a.id = c.agent_id AND a.user_id = c.user_id)) \
              + (SELECT count(*) FROM audit_logs a WHERE a.user_id IS NOT NULL AND NOT EXISTS \
                   (SELECT 1 FROM users u WHERE u.id = a.user_id)) \
              + (SELECT count(*) FROM users u WHERE NOT EXISTS \
                   (SELECT 1 FROM tenants t WHERE t.id = u.tenant_id)) \
              + (SELECT count(*) FROM phone_numbers p WHERE p.assigned_to_user_id IS NOT NULL \
                   AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = p.assigned_to_user_id))",
    )
    .await;
    assert_eq!(orphans, 0);
    // A few very large tenants: the largest holds far more than its even share.
    let largest = count(
        &db,
        "SELECT max(n) FROM (SELECT count(*) n FROM users GROUP BY tenant_id) t",
    )
    .await;
    assert!(largest > 20 * want.users / want.tenants, "{largest}");
    // Bursts: the busiest hour holds many times an average hour's entries.
    let busiest = count(
        &db,
        "SELECT max(n) FROM (SELECT count(*) n FROM audit_logs \
         GROUP BY date_trunc('hour', created_at)) t",
    )
    .await;
    assert!(busiest > 100, "{busiest}");
    // The admins can sign in and act.
    let admins = count(
        &db,
        "SELECT count(*) FROM users WHERE role IN ('admin', 'super_admin') \
         AND password_hash LIKE '$argon2id$%' AND is_active",
    )
    .await;
    assert_eq!(admins, 11);
    assert_eq!(indexes(&db).await, before, "every index is back");
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM pg_constraint \
             WHERE conrelid = 'switchboard.audit_chain'::regclass AND contype IN ('p', 'u')"
        )
        .await,
        2,
        "the chain's keys are back"
    );
    assert_eq!(
        count(&db, "SELECT count(*) FROM switchboard.audit_chain").await,
        want.audit_logs,
        "every entry linked"
    );
    // Written oldest first, as a platform appends: the table's order is the log's, as the
    // planner sees it (a row may take a little room left on an earlier page, as on a real log).
    let correlation: f32 = sqlx::query_scalar(
        "SELECT correlation FROM pg_stats \
         WHERE schemaname = 'public' AND tablename = 'audit_logs' AND attname = 'created_at'",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert!(correlation > 0.99, "{correlation}");

    let e = seed_bench(&db.pool, 0.01, &mut |_, _, _| {})
        .await
        .unwrap_err();
    assert!(e.to_string().contains("nothing was written"), "{e}");
    assert!(seed_bench(&db.pool, 0.0, &mut |_, _, _| {}).await.is_err());
}

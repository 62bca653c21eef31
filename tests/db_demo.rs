//! The demo data set in a real database, and `migrate` against an empty one.

mod common;

use chrono::Utc;
use common::TestDb;
use switchboard::db::{self, DbError};
use switchboard::seed::demo;

#[tokio::test]
async fn seed_demo_fills_an_empty_database_with_the_guide_proportions() {
    let db = TestDb::migrated().await;
    let summary = demo::seed_demo(&db.pool, Utc::now()).await.unwrap();
    let counts: (i64, i64, i64, i64, i64, i64, i64, i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM tenants), (SELECT count(*) FROM users), \
                (SELECT count(*) FROM agents), (SELECT count(*) FROM phone_numbers), \
                (SELECT count(*) FROM calls), (SELECT count(*) FROM contacts), \
                (SELECT count(*) FROM transcripts), (SELECT count(*) FROM lead_analytics), \
                (SELECT count(*) FROM user_sessions), (SELECT count(*) FROM audit_logs)",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(
        (counts.0, counts.1, counts.2, counts.3, counts.4, counts.5),
        (7, 39, 23, 5, 742, 63)
    );
    assert!(counts.6 > 400 && counts.6 == counts.7, "{counts:?}");
    assert!(counts.8 >= 20);
    assert!((200..=600).contains(&counts.9), "{counts:?}");
    assert_eq!(summary.audit_logs as i64, counts.9);

    // Calls span the last 90 days; audit entries spread over weeks.
    let (oldest_call_days, audit_weeks): (f64, f64) = sqlx::query_as(
        "SELECT (SELECT extract(epoch FROM now() - min(created_at)) / 86400 FROM calls)::float8, \
                (SELECT extract(epoch FROM max(created_at) - min(created_at)) / 604800 FROM audit_logs)::float8",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert!(
        (60.0..90.0).contains(&oldest_call_days),
        "{oldest_call_days}"
    );
    assert!(audit_weeks > 4.0, "{audit_weeks}");

    // Phone numbers: some assigned, some free, one retired.
    let (assigned, free, inactive): (i64, i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE assigned_to_user_id IS NOT NULL), \
                count(*) FILTER (WHERE assigned_to_user_id IS NULL), \
                count(*) FILTER (WHERE NOT is_active) FROM phone_numbers",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!((assigned, free, inactive), (3, 2, 1));

    // The analytics tables were aggregated from the calls.
    let (agent_calls, user_calls): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT sum(total_calls) FROM agent_analytics)::int8, \
                (SELECT sum(total_calls) FROM user_analytics)::int8",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!((agent_calls, user_calls), (742, 742));
}

#[tokio::test]
async fn demo_admins_sign_in_with_the_demo_password() {
    use argon2::password_hash::PasswordVerifier;
    let db = TestDb::migrated().await;
    demo::seed_demo(&db.pool, Utc::now()).await.unwrap();
    for (email, role) in [
        (demo::DEMO_SUPER_ADMIN, "super_admin"),
        (demo::DEMO_SUPPORT_ADMIN, "admin"),
    ] {
        let (got_role, hash, active): (String, String, bool) =
            sqlx::query_as("SELECT role, password_hash, is_active FROM users WHERE email = $1")
                .bind(email)
                .fetch_one(&db.pool)
                .await
                .unwrap();
        assert_eq!(got_role, role);
        assert!(active);
        assert!(hash.starts_with("$argon2id$"));
        argon2::Argon2::default()
            .verify_password(demo::DEMO_PASSWORD.as_bytes(), hash.as_str())
            .expect("the demo password verifies");
        assert!(
            argon2::Argon2::default()
                .verify_password(b"wrong-password", hash.as_str())
                .is_err()
        );
    }
}

#[tokio::test]
async fn seed_demo_refuses_a_database_with_users_and_writes_nothing() {
    let db = TestDb::migrated().await;
    sqlx::query("INSERT INTO users (email, name) VALUES ('real@customer.example', 'Real')")
        .execute(&db.pool)
        .await
        .unwrap();
    let err = demo::seed_demo(&db.pool, Utc::now()).await.unwrap_err();
    match err {
        DbError::Refused(why) => assert!(why.contains("already has 1 users"), "{why}"),
        other => panic!("expected a refusal, got {other}"),
    }
    let (users, tenants, calls): (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM tenants), (SELECT count(*) FROM calls)",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!((users, tenants, calls), (1, 1, 0));
}

#[tokio::test]
async fn seeding_twice_is_refused_the_second_time() {
    let db = TestDb::migrated().await;
    demo::seed_demo(&db.pool, Utc::now()).await.unwrap();
    assert!(matches!(
        demo::seed_demo(&db.pool, Utc::now()).await,
        Err(DbError::Refused(_))
    ));
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(users, 39);
}

#[tokio::test]
async fn migrate_applies_everything_once_and_then_nothing() {
    let db = TestDb::empty().await;
    let pending = db::pending_migrations(&db.pool).await.unwrap();
    assert_eq!(pending.len(), db::migrate::MIGRATIONS.len());
    let applied = db::migrate(&db.pool).await.unwrap();
    assert_eq!(
        applied.iter().map(|m| m.version).collect::<Vec<_>>(),
        pending
            .iter()
            .map(|m| i64::from(m.version))
            .collect::<Vec<_>>()
    );
    assert!(applied.iter().all(|m| m.how == db::migrate::How::Applied));
    assert_eq!(applied[0].version, 1);
    assert_eq!(applied[0].description, "platform schema");
    assert!(db::migrate(&db.pool).await.unwrap().is_empty());
    assert!(db::pending_migrations(&db.pool).await.unwrap().is_empty());
}

/// Two migrate runs at once take turns: one applies the migrations and reports them, the other
/// finds nothing left and reports nothing. (Both are made to start together: a third session
/// holds the migrate lock until both wait on it.)
#[tokio::test]
async fn concurrent_migrate_runs_each_report_only_what_they_applied() {
    let db = TestDb::empty().await;
    let mut holder = db.pool.acquire().await.unwrap();
    sqlx::query("SELECT pg_advisory_lock(hashtext('switchboard.migrate'))")
        .execute(&mut *holder)
        .await
        .unwrap();
    let run = || {
        let options = db.options.clone();
        tokio::spawn(async move {
            let pool = sqlx::postgres::PgPoolOptions::new()
                .connect_with(options)
                .await
                .unwrap();
            let applied = db::migrate(&pool).await.unwrap().len();
            pool.close().await;
            applied
        })
    };
    let (a, b) = (run(), run());
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    sqlx::query("SELECT pg_advisory_unlock(hashtext('switchboard.migrate'))")
        .execute(&mut *holder)
        .await
        .unwrap();
    let mut got = [a.await.unwrap(), b.await.unwrap()];
    got.sort();
    assert_eq!(got, [0, db::migrate::MIGRATIONS.len()]);
}

/// Database errors read as the server's message: no driver prefix and no "at line N" (a line
/// of the server's C source, which misleads anyone looking for it in their SQL).
#[tokio::test]
async fn database_errors_say_the_servers_message_without_driver_noise() {
    let db = TestDb::empty().await;
    let e = DbError::from(
        sqlx::query("SELECT 1/0")
            .execute(&db.pool)
            .await
            .unwrap_err(),
    );
    assert_eq!(e.to_string(), "division by zero");
    assert_eq!(e.brief(), "division by zero");
    sqlx::query("CREATE TABLE tenants (x int)")
        .execute(&db.pool)
        .await
        .unwrap();
    let e = db::migrate(&db.pool).await.unwrap_err().to_string();
    assert!(e.contains(r#"relation "tenants" already exists"#), "{e}");
    assert!(!e.contains("at line"), "{e}");
}

/// The demo data adds up: each customer's top-ups chain (every old balance is the one the
/// top-up before left) and end at the balance the customer has; nobody acts before signing up
/// or after being deactivated, and every inactive user's deactivation is on record.
#[tokio::test]
async fn the_demo_data_adds_up() {
    let db = TestDb::migrated().await;
    demo::seed_demo(&db.pool, Utc::now()).await.unwrap();
    let count = |sql: &'static str| {
        let pool = db.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    assert!(count("SELECT count(*) FROM audit_logs WHERE action = 'credits.top_up'").await >= 20);
    // Each invariant as the rows that break it: none may.
    let invariants: [(&str, &'static str); 14] = [
        (
            "an agent was updated before it was created",
            "SELECT count(*) FROM audit_logs u JOIN agents a ON a.id = u.resource_id \
             WHERE u.action = 'agent.update' AND u.created_at <= a.created_at",
        ),
        (
            "an agent's update does not start from the value the one before left",
            "SELECT count(*) FROM (SELECT old_values->'bolna_llm_config'->'temperature' AS old, \
                    lag(new_values->'bolna_llm_config'->'temperature') OVER w AS before \
                 FROM audit_logs WHERE action = 'agent.update' \
                 WINDOW w AS (PARTITION BY resource_id ORDER BY created_at, id)) t \
             WHERE before IS NOT NULL AND before <> old",
        ),
        (
            "an agent's temperature is not the one its last update set",
            "SELECT count(*) FROM agents a CROSS JOIN LATERAL ( \
                 SELECT new_values->'bolna_llm_config'->'temperature' AS last FROM audit_logs u \
                 WHERE u.action = 'agent.update' AND u.resource_id = a.id \
                 ORDER BY u.created_at DESC, u.id DESC LIMIT 1) l \
             WHERE l.last <> a.bolna_llm_config->'temperature'",
        ),
        (
            "a user's updated_at is not their last change on record",
            "SELECT count(*) FROM users u WHERE u.updated_at <> greatest(u.created_at, ( \
                 SELECT max(e.created_at) FROM audit_logs e WHERE e.resource_type = 'user' \
                   AND e.resource_id = u.id AND e.action <> 'user.sign_in'))",
        ),
        (
            "a top-up starts from another balance than the last left",
            "SELECT count(*) FROM (SELECT (old_values->>'credits')::bigint AS old, \
                lag((new_values->>'credits')::bigint) OVER w AS before \
             FROM audit_logs WHERE action = 'credits.top_up' \
             WINDOW w AS (PARTITION BY resource_id ORDER BY created_at, id)) t \
         WHERE before IS NOT NULL AND before <> old",
        ),
        (
            "a chain of top-ups ends at another balance",
            "SELECT count(*) FROM users u CROSS JOIN LATERAL ( \
             SELECT (new_values->>'credits')::bigint AS last FROM audit_logs a \
             WHERE a.action = 'credits.top_up' AND a.resource_id = u.id \
             ORDER BY a.created_at DESC, a.id DESC LIMIT 1) l \
         WHERE l.last <> u.credits",
        ),
        (
            "a deactivated user acted afterwards",
            "SELECT count(*) FROM audit_logs a JOIN audit_logs d \
             ON d.action = 'user.deactivate' AND d.resource_id = a.user_id \
         WHERE a.created_at >= d.created_at",
        ),
        (
            "a user acted before signing up",
            "SELECT count(*) FROM audit_logs a JOIN users u ON u.id = a.user_id \
         WHERE a.action <> 'user.sign_up' AND a.created_at < u.created_at",
        ),
        (
            "an inactive user's deactivation is not on record",
            "SELECT count(*) FROM users u WHERE NOT u.is_active AND NOT EXISTS ( \
             SELECT 1 FROM audit_logs d WHERE d.action = 'user.deactivate' AND d.resource_id = u.id)",
        ),
        (
            "an inactive agent's deactivation is not on record",
            "SELECT count(*) FROM agents a WHERE NOT a.is_active AND NOT EXISTS ( \
             SELECT 1 FROM audit_logs d WHERE d.action = 'agent.deactivate' AND d.resource_id = a.id)",
        ),
        (
            "a deactivated agent changed or took calls afterwards",
            "SELECT (SELECT count(*) FROM audit_logs a JOIN audit_logs d \
                   ON d.action = 'agent.deactivate' AND d.resource_id = a.resource_id \
                 WHERE a.action = 'agent.update' AND a.created_at >= d.created_at) \
              + (SELECT count(*) FROM calls c JOIN audit_logs d \
                   ON d.action = 'agent.deactivate' AND d.resource_id = c.agent_id \
                 WHERE c.created_at >= d.created_at)",
        ),
        (
            "an agent's updated_at is not its last change on record",
            "SELECT count(*) FROM agents a WHERE a.updated_at <> ( \
             SELECT max(e.created_at) FROM audit_logs e \
             WHERE e.resource_type = 'agent' AND e.resource_id = a.id)",
        ),
        (
            "a session without its sign-in on record",
            "SELECT count(*) FROM user_sessions s WHERE NOT EXISTS ( \
             SELECT 1 FROM audit_logs a WHERE a.action = 'user.sign_in' \
               AND a.user_id = s.user_id AND a.created_at = s.created_at)",
        ),
        (
            "a session begun after its user's deactivation",
            "SELECT count(*) FROM user_sessions s JOIN audit_logs d \
             ON d.action = 'user.deactivate' AND d.resource_id = s.user_id \
         WHERE s.created_at >= d.created_at",
        ),
    ];
    for (what, sql) in invariants {
        assert_eq!(count(sql).await, 0, "{what}");
    }
    assert!(count("SELECT count(*) FROM agents WHERE NOT is_active").await > 0);
}

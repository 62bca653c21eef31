//! Signing in and admin accounts on real PostgreSQL: argon2 and bcrypt, every attempt on record,
//! the pause after repeated failures, bootstrapping the first super_admin, and the least
//! privileges a role needs for every action.

mod common;

use common::TestDb;
use common::actions::*;
use serde_json::{Value, json};
use switchboard::actions::admins;
use switchboard::actions::sign_in::{self, Credentials};
use switchboard::actions::{ActionError, Applied, Request, Role, apply};
use switchboard::password::Secret;
use uuid::Uuid;

#[tokio::test]
async fn sign_in_accepts_argon2_and_bcrypt_and_records_every_attempt() {
    let db = TestDb::migrated().await;
    let p = &db.pool;
    let f = fixture(p).await;
    let bcrypt_hash = bcrypt::hash(PASSWORD, 4)
        .unwrap()
        .replacen("$2b$", "$2y$", 1);
    sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
        .bind(f.admin.id)
        .bind(&bcrypt_hash)
        .execute(p)
        .await
        .unwrap();
    let pw = Secret::new(PASSWORD);
    let a = sign_in::sign_in(
        p,
        "super@x.test",
        &Credentials::Password(Secret::clone(&pw)),
        &ctx(),
        false,
    )
    .await
    .unwrap();
    assert_eq!((a.id, a.role), (f.super_admin.id, Role::SuperAdmin));
    let a = sign_in::sign_in(
        p,
        " admin@x.test ",
        &Credentials::Password(Secret::clone(&pw)),
        &ctx(),
        false,
    )
    .await
    .unwrap();
    assert_eq!(a.role, Role::Admin);

    let wrong = Secret::new("not the password");
    for (email, password) in [
        ("super@x.test", &wrong),
        ("nobody@x.test", &pw),
        ("gone@x.test", &pw),
        ("plain@x.test", &pw),
    ] {
        let e = sign_in::sign_in(
            p,
            email,
            &Credentials::Password(Secret::clone(password)),
            &ctx(),
            false,
        )
        .await
        .unwrap_err();
        assert_eq!(e.to_string(), sign_in::SIGN_IN_REFUSED, "{email}");
    }
    let rows: Vec<(Option<Uuid>, String, Value)> = sqlx::query_as(
        "SELECT user_id, action, new_values FROM audit_logs ORDER BY created_at, action",
    )
    .fetch_all(p)
    .await
    .unwrap();
    let summary: Vec<(bool, &str, &str)> = rows
        .iter()
        .map(|(u, a, v)| (u.is_some(), a.as_str(), v["reason"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(
        summary,
        [
            (true, "admin.sign_in", ""),
            (true, "admin.sign_in", ""),
            (false, "admin.sign_in_failed", "wrong_password"),
            (false, "admin.sign_in_failed", "unknown_account"),
            (false, "admin.sign_in_failed", "inactive"),
            (false, "admin.sign_in_failed", "not_admin"),
        ]
    );
    for (_, _, v) in &rows {
        assert!(
            !v.to_string().contains(PASSWORD) && !v.to_string().contains("$2"),
            "{v}"
        );
    }
    // A read-only session's sign-in is on record too (its one kind of write, in a transaction
    // of its own).
    let before = audit_count(p).await;
    sign_in::sign_in(
        p,
        "super@x.test",
        &Credentials::Password(Secret::clone(&pw)),
        &ctx(),
        true,
    )
    .await
    .unwrap();
    assert_eq!(audit_count(p).await, before + 1);
}

#[tokio::test]
async fn bootstrapping_admins_is_open_until_a_super_admin_exists() {
    let db = TestDb::migrated().await;
    let p = &db.pool;
    let pw = Secret::new("first super admin pw");
    let e = admins::create_admin(
        p,
        None,
        &ctx(),
        "root@x.test",
        "Root",
        Role::SuperAdmin,
        &Secret::new("short"),
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("at least 12"), "{e}");
    let id = admins::create_admin(
        p,
        None,
        &ctx(),
        "root@x.test",
        "Root",
        Role::SuperAdmin,
        &pw,
    )
    .await
    .unwrap();
    let (actor, action, new): (Option<Uuid>, String, Value) =
        sqlx::query_as("SELECT user_id, action, new_values FROM audit_logs WHERE resource_id = $1")
            .bind(id)
            .fetch_one(p)
            .await
            .unwrap();
    assert_eq!((actor, action.as_str()), (None, "admin.create"));
    assert_eq!(
        new,
        json!({"email": "root@x.test", "name": "Root", "role": "super_admin", "password_set": true})
    );

    // Now a super_admin exists: anonymous bootstrap is refused, the super_admin may.
    let e = admins::create_admin(p, None, &ctx(), "b@x.test", "B", Role::Admin, &pw)
        .await
        .unwrap_err();
    assert!(matches!(e, ActionError::Forbidden(_)), "{e}");
    let e = admins::set_password(p, None, &ctx(), "root@x.test", &pw)
        .await
        .unwrap_err();
    assert!(matches!(e, ActionError::Forbidden(_)), "{e}");
    let root = sign_in::sign_in(
        p,
        "root@x.test",
        &Credentials::Password(Secret::clone(&pw)),
        &ctx(),
        false,
    )
    .await
    .unwrap();
    let b = admins::create_admin(p, Some(&root), &ctx(), "b@x.test", "B", Role::Admin, &pw)
        .await
        .unwrap();
    let e = admins::create_admin(p, Some(&root), &ctx(), "b@x.test", "B", Role::Admin, &pw)
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "a user with the email b@x.test already exists"
    );
    let new_pw = Secret::new("a brand new password");
    admins::set_password(p, Some(&root), &ctx(), "b@x.test", &new_pw)
        .await
        .unwrap();
    let (actor, old, new): (Option<Uuid>, Value, Value) = sqlx::query_as(
        "SELECT user_id, old_values, new_values FROM audit_logs WHERE action = 'admin.set_password'",
    )
    .fetch_one(p)
    .await
    .unwrap();
    assert_eq!(
        (actor, old, new),
        (
            Some(root.id),
            json!({"password_set": true}),
            json!({"password_set": true})
        )
    );
    let signed = sign_in::sign_in(
        p,
        "b@x.test",
        &Credentials::Password(Secret::clone(&new_pw)),
        &ctx(),
        false,
    )
    .await
    .unwrap();
    assert_eq!(signed.id, b);
    // An admin (not super) may not bootstrap others.
    let e = admins::create_admin(p, Some(&signed), &ctx(), "c@x.test", "C", Role::Admin, &pw)
        .await
        .unwrap_err();
    assert!(matches!(e, ActionError::Forbidden(_)), "{e}");
}

/// After five failed sign-ins within 15 minutes an email's sign-in pauses: even the right
/// password is refused (recorded as such), until a super_admin lifts it (audited); an admin
/// cannot lift it.
#[tokio::test]
async fn repeated_failures_pause_sign_in_until_a_super_admin_lifts_it() {
    let db = TestDb::migrated().await;
    let p = &db.pool;
    let f = fixture(p).await;
    let right = Credentials::Password(Secret::new(PASSWORD));
    let wrong = Credentials::Password(Secret::new("not the password"));
    let email = "admin@x.test";
    // Failures from a read-only session count as well: they are on record the same way.
    for _ in 0..sign_in::MAX_FAILURES {
        let e = sign_in::sign_in(p, email, &wrong, &ctx(), true)
            .await
            .unwrap_err();
        assert!(matches!(e, sign_in::SignInError::Refused), "{e}");
    }
    let e = sign_in::sign_in(p, email, &right, &ctx(), false)
        .await
        .unwrap_err();
    assert_eq!(e.to_string(), sign_in::SIGN_IN_REFUSED, "the same words");
    let reason: String = sqlx::query_scalar(
        "SELECT new_values->>'reason' FROM audit_logs WHERE action = 'admin.sign_in_failed' \
         ORDER BY created_at DESC LIMIT 1",
    )
    .fetch_one(p)
    .await
    .unwrap();
    assert_eq!(reason, "paused_after_failures");
    // An unknown email pauses the same way: a pause says nothing about whether it exists.
    for _ in 0..=sign_in::MAX_FAILURES {
        sign_in::sign_in(p, "nobody@x.test", &wrong, &ctx(), false)
            .await
            .unwrap_err();
    }
    let last: String = sqlx::query_scalar(
        "SELECT new_values->>'reason' FROM audit_logs WHERE action = 'admin.sign_in_failed' \
         AND new_values->>'email' = 'nobody@x.test' ORDER BY created_at DESC LIMIT 1",
    )
    .fetch_one(p)
    .await
    .unwrap();
    assert_eq!(last, "paused_after_failures");
    // Attempts while paused do not extend it: it rests on the failures that made it.
    let counted: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_logs WHERE action = 'admin.sign_in_failed' \
         AND new_values->>'email' = 'nobody@x.test' AND new_values->>'reason' <> 'paused_after_failures'",
    )
    .fetch_one(p)
    .await
    .unwrap();
    assert_eq!(counted, sign_in::MAX_FAILURES);
    // Typing the admin's email differently (spaces) does not dodge the pause: it is the
    // account's.
    let e = sign_in::sign_in(p, "  admin@x.test ", &right, &ctx(), false)
        .await
        .unwrap_err();
    assert_eq!(e.to_string(), sign_in::SIGN_IN_REFUSED);

    // An admin may not lift it; the refusal is on record.
    let e = admins::unlock(p, &f.admin, &ctx(), email)
        .await
        .unwrap_err();
    assert!(matches!(e, ActionError::Forbidden(_)), "{e}");
    let refused: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_logs WHERE action = 'admin.refused' \
         AND new_values->>'action' = 'admin.unlock'",
    )
    .fetch_one(p)
    .await
    .unwrap();
    assert_eq!(refused, 1);
    assert!(
        admins::unlock(p, &f.super_admin, &ctx(), email)
            .await
            .unwrap(),
        "it was paused"
    );
    let actor = sign_in::sign_in(p, email, &right, &ctx(), false)
        .await
        .unwrap();
    assert_eq!(actor.id, f.admin.id);
}

/// Every action, sign-in, refusal and export works as a role holding exactly what `switchboard
/// grants` prints, and nothing more; `check` finds that role ready for everything. Without one of
/// those grants, the failure says which privilege is missing.
#[tokio::test]
async fn every_action_works_as_a_role_holding_exactly_the_printed_grants() {
    let db = TestDb::migrated().await;
    let f = fixture(&db.pool).await;
    let granted = GrantedRole::new(&db, false).await;
    let (p, role, run) = (&granted.pool, &granted.role, |sql| granted.run(sql));

    let report = switchboard::db::check::check(p, None, false).await.unwrap();
    assert_eq!(report.worst(), "ready", "{report:#?}");
    // And no more: not a column an action does not write, never the audit log's rows.
    for sql in [
        "UPDATE users SET name = 'x'",
        "UPDATE audit_logs SET action = 'x'",
        "DELETE FROM audit_logs",
        "TRUNCATE audit_logs",
        "DELETE FROM tenants",
    ] {
        let e = sqlx::query(sql).execute(p).await.unwrap_err();
        let code = e.as_database_error().and_then(|d| d.code()).unwrap();
        assert_eq!(code, "42501", "{sql}: {e}");
    }

    let s = session(&f.super_admin);
    let mut requests = all_requests(&f);
    requests.push(Request::SetCreditCap {
        from: 10_000,
        to: 5_000,
    });
    for req in requests {
        let out = apply(p, &s, &req)
            .await
            .unwrap_or_else(|e| panic!("{req:?}: {e}"));
        assert_eq!(out.status, Applied::Done, "{req:?}");
    }
    let unassign = Request::UnassignNumber {
        number: f.number,
        from: f.plain_user.id,
    };
    apply(p, &s, &unassign).await.unwrap();
    // A refusal (an admin may not create tenants) is recorded as this role too.
    let refused = apply(p, &session(&f.admin), &all_requests(&f)[7]).await;
    assert!(
        matches!(refused, Err(ActionError::Forbidden(_))),
        "{refused:?}"
    );
    let right = Credentials::Password(Secret::new(PASSWORD));
    sign_in::sign_in(p, "super@x.test", &right, &ctx(), false)
        .await
        .unwrap();
    let wrong = Credentials::Password(Secret::new("nope nope nope"));
    sign_in::sign_in(p, "super@x.test", &wrong, &ctx(), false)
        .await
        .unwrap_err();
    admins::set_password(
        p,
        Some(&f.super_admin),
        &ctx(),
        "admin@x.test",
        &Secret::new(PASSWORD),
    )
    .await
    .unwrap();
    admins::create_admin(
        p,
        Some(&f.super_admin),
        &ctx(),
        "new.admin@x.test",
        "New Admin",
        Role::Admin,
        &Secret::new(PASSWORD),
    )
    .await
    .unwrap();
    admins::unlock(p, &f.super_admin, &ctx(), "admin@x.test")
        .await
        .unwrap();
    export_all_as_csv(p, &s).await;

    // One grant fewer: the failure names the privilege, and nothing is written.
    run(format!("REVOKE UPDATE (credits) ON users FROM {role}")).await;
    let e = apply(
        p,
        &s,
        &Request::AdjustCredits {
            user: f.customer,
            delta: 1,
            reason: "no grant".into(),
            key: Uuid::new_v4(),
        },
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("lacks a privilege"), "{e}");
    assert!(e.to_string().contains("users"), "{e}");
    let report = switchboard::db::check::check(p, None, false).await.unwrap();
    assert_eq!(report.worst(), "unavailable");

    granted.drop_role().await;
}

/// A role holding exactly what `switchboard grants --read-only-role` prints signs in (and its
/// failures are recorded), exports the audit log (recorded), and changes nothing; `check` for a
/// read-only session finds it ready, the changes not used. Without `read_only`, the same role
/// is unavailable for every change, each saying which privilege it lacks.
#[tokio::test]
async fn a_read_only_role_with_the_printed_grants_reads_exports_and_is_checked_ready() {
    use switchboard::db::check::{self, Readiness};
    let db = TestDb::migrated().await;
    fixture(&db.pool).await;
    let granted = GrantedRole::new(&db, true).await;
    let p = &granted.pool;

    let report = check::check(p, None, true).await.unwrap();
    assert_eq!(report.worst(), "ready", "{report:#?}");
    for line in &report.actions {
        let used = check::READING_ACTIONS.contains(&line.name.as_str());
        assert_eq!(matches!(line.readiness, Readiness::Ready), used, "{line:?}");
        assert_eq!(
            matches!(line.readiness, Readiness::NotUsed(_)),
            !used,
            "{line:?}"
        );
    }
    let as_writer = check::check(p, None, false).await.unwrap();
    assert_eq!(as_writer.worst(), "unavailable");
    let credits = as_writer
        .actions
        .iter()
        .find(|l| l.name == "credits")
        .unwrap();
    assert!(
        format!("{credits:?}").contains("no UPDATE on users.credits"),
        "{credits:?}"
    );

    let wrong = Credentials::Password(Secret::new("nope nope nope"));
    sign_in::sign_in(p, "super@x.test", &wrong, &ctx(), true)
        .await
        .unwrap_err();
    let right = Credentials::Password(Secret::new(PASSWORD));
    let actor = sign_in::sign_in(p, "super@x.test", &right, &ctx(), true)
        .await
        .unwrap();
    let mut s = session(&actor);
    s.read_only = true;
    let out = export_all_as_csv(p, &s).await;
    assert!(!out.is_empty());
    let recorded: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM audit_logs WHERE user_agent = $1 ORDER BY created_at, action",
    )
    .bind(ctx().user_agent)
    .fetch_all(&db.pool)
    .await
    .unwrap();
    for action in [
        "admin.sign_in_failed",
        "admin.sign_in",
        "audit.export",
        "audit.export_end",
    ] {
        assert!(
            recorded.iter().any(|a| a == action),
            "{action} not in {recorded:?}"
        );
    }
    // And it writes nothing else.
    for sql in [
        "UPDATE users SET credits = 0",
        "UPDATE audit_logs SET action = 'x'",
        "DELETE FROM audit_logs",
        "INSERT INTO tenants (name) VALUES ('x')",
    ] {
        let e = sqlx::query(sql).execute(p).await.unwrap_err();
        let code = e.as_database_error().and_then(|d| d.code()).unwrap();
        assert_eq!(code, "42501", "{sql}: {e}");
    }

    granted.drop_role().await;
}

/// A role holding exactly what `switchboard grants` prints (`read_only`: the read-only set),
/// with a pool connecting as it.
struct GrantedRole {
    owner: sqlx::PgPool,
    role: String,
    pool: sqlx::PgPool,
}

impl GrantedRole {
    async fn new(db: &TestDb, read_only: bool) -> GrantedRole {
        let role = format!("sbt_role_{}", Uuid::new_v4().simple());
        let granted = GrantedRole {
            owner: db.pool.clone(),
            pool: sqlx::PgPool::connect_lazy_with(db.options.clone().username(&role)),
            role,
        };
        granted
            .run(format!("CREATE ROLE {} LOGIN", granted.role))
            .await;
        for statement in switchboard::db::grants::statements(&granted.role, read_only) {
            granted.run(statement).await;
        }
        granted
    }

    /// Runs `sql` as the tables' owner.
    async fn run(&self, sql: String) {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&self.owner)
            .await
            .unwrap();
    }

    async fn drop_role(self) {
        self.pool.close().await;
        self.run(format!("DROP OWNED BY {}", self.role)).await;
        self.run(format!("DROP ROLE {}", self.role)).await;
    }
}

/// The whole audit log exported as CSV by `session`, recorded as any export is.
async fn export_all_as_csv(
    pool: &sqlx::PgPool,
    session: &switchboard::actions::Session,
) -> Vec<u8> {
    use switchboard::actions::export::{Destination, ExportRequest, export};
    let mut out = Vec::new();
    let request = ExportRequest {
        filter: switchboard::db::lists::Filter::default(),
        filter_text: String::new(),
        format: switchboard::db::export::Format::Csv,
    };
    export(
        pool,
        pool,
        session,
        &request,
        Destination::Stream(&mut out),
        &mut |_| {},
    )
    .await
    .unwrap();
    out
}

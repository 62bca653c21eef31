//! The action layer on real PostgreSQL: every change with its one audit row, atomicity,
//! permissions, concurrency, idempotency and optimistic concurrency.

mod common;

use std::sync::Arc;

use common::TestDb;
use serde_json::{Value, json};
use sqlx::PgPool;
use switchboard::actions::admins;
use switchboard::actions::sign_in::{self, Credentials};
use switchboard::actions::{
    ActionError, Actor, Applied, AuditContext, Request, Role, Session, apply,
};
use switchboard::password::{self, Secret};
use uuid::Uuid;

const PASSWORD: &str = "a long enough password";

/// A small platform: one tenant, the four kinds of actor, two customers, an agent, two numbers
/// and two sessions.
struct Fixture {
    tenant: Uuid,
    other_tenant: Uuid,
    super_admin: Actor,
    admin: Actor,
    inactive_admin: Actor,
    plain_user: Actor,
    customer: Uuid,
    inactive_customer: Uuid,
    agent: Uuid,
    number: Uuid,
    /// An inactive row for the same number as `number`.
    number_twin: Uuid,
}

async fn insert_user(pool: &PgPool, email: &str, role: Role, active: bool, tenant: Uuid) -> Actor {
    let hash = password::hash_password(PASSWORD).unwrap();
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO users (email, name, role, is_active, password_hash, tenant_id, credits) \
         VALUES ($1, $2, $3, $4, $5, $6, 100) RETURNING id",
    )
    .bind(email)
    .bind(format!("Name of {email}"))
    .bind(role.as_str())
    .bind(active)
    .bind(hash)
    .bind(tenant)
    .fetch_one(pool)
    .await
    .unwrap();
    Actor {
        id,
        email: email.into(),
        name: format!("Name of {email}"),
        role,
    }
}

async fn fixture(pool: &PgPool) -> Fixture {
    let tenant: Uuid =
        sqlx::query_scalar("INSERT INTO tenants (name, plan) VALUES ('Acme', 'pro') RETURNING id")
            .fetch_one(pool)
            .await
            .unwrap();
    let other_tenant: Uuid = sqlx::query_scalar(
        "INSERT INTO tenants (name, plan) VALUES ('Globex', 'starter') RETURNING id",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    let system = switchboard::db::SYSTEM_TENANT;
    let super_admin = insert_user(pool, "super@x.test", Role::SuperAdmin, true, system).await;
    let admin = insert_user(pool, "admin@x.test", Role::Admin, true, system).await;
    let inactive_admin = insert_user(pool, "gone@x.test", Role::Admin, false, system).await;
    let plain_user = insert_user(pool, "plain@x.test", Role::User, true, tenant).await;
    let customer = insert_user(pool, "customer@acme.test", Role::User, true, tenant)
        .await
        .id;
    let inactive_customer = insert_user(pool, "closed@acme.test", Role::User, false, tenant)
        .await
        .id;
    let agent: Uuid = sqlx::query_scalar(
        "INSERT INTO agents (user_id, bolna_agent_id, name, description) \
         VALUES ($1, 'bolna-1', 'Front desk', 'Answers calls') RETURNING id",
    )
    .bind(customer)
    .fetch_one(pool)
    .await
    .unwrap();
    let number: Uuid = sqlx::query_scalar(
        "INSERT INTO phone_numbers (name, phone_number, bolna_phone_number_id, created_by_admin_id) \
         VALUES ('Main line', '+14155550100', 'pn-1', $1) RETURNING id",
    )
    .bind(super_admin.id)
    .fetch_one(pool)
    .await
    .unwrap();
    let number_twin: Uuid = sqlx::query_scalar(
        "INSERT INTO phone_numbers (name, phone_number, bolna_phone_number_id, created_by_admin_id, is_active) \
         VALUES ('Old main line', '+14155550100', 'pn-0', $1, false) RETURNING id",
    )
    .bind(super_admin.id)
    .fetch_one(pool)
    .await
    .unwrap();
    for (token, expires) in [
        ("tok-a", "1 day"),
        ("tok-b", "2 days"),
        ("tok-old", "-1 day"),
    ] {
        sqlx::query(
            "INSERT INTO user_sessions (user_id, session_token, expires_at) \
             VALUES ($1, $2, now() + $3::interval)",
        )
        .bind(customer)
        .bind(token)
        .bind(expires)
        .execute(pool)
        .await
        .unwrap();
    }
    Fixture {
        tenant,
        other_tenant,
        super_admin,
        admin,
        inactive_admin,
        plain_user,
        customer,
        inactive_customer,
        agent,
        number,
        number_twin,
    }
}

fn ctx() -> AuditContext {
    AuditContext {
        ip: Some("203.0.113.7".parse().unwrap()),
        user_agent: "switchboard/test (tester@host)".into(),
    }
}

fn session(actor: &Actor) -> Session {
    Session {
        actor: actor.clone(),
        ctx: ctx(),
        read_only: false,
    }
}

#[derive(Debug, PartialEq, sqlx::FromRow)]
struct AuditRow {
    user_id: Option<Uuid>,
    action: String,
    resource_type: String,
    resource_id: Option<Uuid>,
    old_values: Option<Value>,
    new_values: Option<Value>,
    ip_address: Option<String>,
    user_agent: Option<String>,
}

async fn audit_count(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM audit_logs")
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn audit_row(pool: &PgPool, id: Uuid) -> AuditRow {
    sqlx::query_as(
        "SELECT user_id, action, resource_type, resource_id, old_values, new_values, \
                host(ip_address) AS ip_address, user_agent FROM audit_logs WHERE id = $1",
    )
    .bind(id)
    .fetch_one(pool)
    .await
    .unwrap()
}

/// Applies `req` and checks it wrote exactly one audit row, saying exactly `old` → `new`.
async fn applies(
    pool: &PgPool,
    by: &Actor,
    req: Request,
    old: Option<Value>,
    new: Value,
) -> switchboard::actions::Outcome {
    let before = audit_count(pool).await;
    let out = apply(pool, &session(by), &req)
        .await
        .unwrap_or_else(|e| panic!("{req:?}: {e}"));
    assert_eq!(out.status, Applied::Done, "{req:?}");
    assert_eq!(audit_count(pool).await, before + 1, "{req:?}");
    let row = audit_row(pool, out.audit_id.unwrap()).await;
    let (resource_type, resource_id) = req.resource();
    assert_eq!(
        row,
        AuditRow {
            user_id: Some(by.id),
            action: req.audit_action().into(),
            resource_type: resource_type.into(),
            resource_id: resource_id.or(out.resource_id),
            old_values: old,
            new_values: Some(new),
            ip_address: Some("203.0.113.7".into()),
            user_agent: Some("switchboard/test (tester@host)".into()),
        },
        "{req:?}"
    );
    out
}

async fn scalar<T>(pool: &PgPool, sql: &'static str, id: Uuid) -> T
where
    T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send + Unpin,
{
    sqlx::query_scalar(sql)
        .bind(id)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn every_action_changes_its_row_and_writes_exactly_its_audit_row() {
    let db = TestDb::migrated().await;
    let p = &db.pool;
    let f = fixture(p).await;
    let sa = &f.super_admin;
    let c = f.customer;

    applies(
        p,
        &f.admin,
        Request::AdjustCredits {
            user: c,
            delta: 500,
            reason: " refund #123 ".into(),
            key: Uuid::new_v4(),
        },
        Some(json!({"credits": 100})),
        json!({"credits": 600, "reason": "refund #123"}),
    )
    .await;
    applies(
        p,
        &f.admin,
        Request::AdjustCredits {
            user: c,
            delta: -50,
            reason: "chargeback".into(),
            key: Uuid::new_v4(),
        },
        Some(json!({"credits": 600})),
        json!({"credits": 550, "reason": "chargeback"}),
    )
    .await;
    assert_eq!(
        scalar::<i32>(p, "SELECT credits FROM users WHERE id = $1", c).await,
        550
    );

    applies(
        p,
        &f.admin,
        Request::SetUserActive {
            user: c,
            active: false,
        },
        Some(json!({"is_active": true})),
        json!({"is_active": false}),
    )
    .await;
    applies(
        p,
        &f.admin,
        Request::SetUserActive {
            user: c,
            active: true,
        },
        Some(json!({"is_active": false})),
        json!({"is_active": true}),
    )
    .await;

    let mut live: Vec<Uuid> = sqlx::query_scalar(
        "SELECT id FROM user_sessions WHERE user_id = $1 AND expires_at > now()",
    )
    .bind(c)
    .fetch_all(p)
    .await
    .unwrap();
    live.sort();
    applies(
        p,
        &f.admin,
        Request::RevokeSessions { user: c },
        Some(json!({"active_sessions": 2, "session_ids": live})),
        json!({"active_sessions": 0}),
    )
    .await;
    assert_eq!(
        scalar::<i64>(
            p,
            "SELECT count(*) FROM user_sessions WHERE user_id = $1 AND expires_at > now()",
            c
        )
        .await,
        0
    );

    applies(
        p,
        &f.admin,
        Request::MarkEmailVerified { user: c },
        Some(json!({"email_verified": false})),
        json!({"email_verified": true}),
    )
    .await;
    applies(
        p,
        sa,
        Request::SetRole {
            user: c,
            from: Role::User,
            to: Role::Admin,
        },
        Some(json!({"role": "user"})),
        json!({"role": "admin"}),
    )
    .await;
    applies(
        p,
        sa,
        Request::MoveUser {
            user: c,
            from: f.tenant,
            to: "Globex".into(),
        },
        Some(json!({"tenant_id": f.tenant})),
        json!({"tenant_id": f.other_tenant}),
    )
    .await;
    assert_eq!(
        scalar::<Uuid>(p, "SELECT tenant_id FROM users WHERE id = $1", c).await,
        f.other_tenant
    );

    let created = applies(
        p,
        sa,
        Request::CreateTenant {
            name: "Initech".into(),
            plan: "free".into(),
        },
        None,
        json!({"name": "Initech", "plan": "free", "is_active": true}),
    )
    .await;
    let t = created.resource_id.unwrap();
    assert_eq!(
        scalar::<String>(p, "SELECT name FROM tenants WHERE id = $1", t).await,
        "Initech"
    );
    applies(
        p,
        sa,
        Request::RenameTenant {
            tenant: t,
            from: "Initech".into(),
            to: "Initech Ltd".into(),
        },
        Some(json!({"name": "Initech"})),
        json!({"name": "Initech Ltd"}),
    )
    .await;
    applies(
        p,
        sa,
        Request::SetPlan {
            tenant: t,
            from: "free".into(),
            to: "enterprise".into(),
        },
        Some(json!({"plan": "free"})),
        json!({"plan": "enterprise"}),
    )
    .await;
    applies(
        p,
        sa,
        Request::SetTenantActive {
            tenant: t,
            active: false,
        },
        Some(json!({"is_active": true})),
        json!({"is_active": false}),
    )
    .await;
    applies(
        p,
        sa,
        Request::SetTenantActive {
            tenant: t,
            active: true,
        },
        Some(json!({"is_active": false})),
        json!({"is_active": true}),
    )
    .await;

    let a = f.agent;
    applies(
        p,
        &f.admin,
        Request::RenameAgent {
            agent: a,
            from: "Front desk".into(),
            to: "Reception".into(),
        },
        Some(json!({"name": "Front desk"})),
        json!({"name": "Reception"}),
    )
    .await;
    applies(
        p,
        &f.admin,
        Request::SetAgentDescription {
            agent: a,
            from: Some("Answers calls".into()),
            to: Some("".into()),
        },
        Some(json!({"description": "Answers calls"})),
        json!({"description": null}),
    )
    .await;
    applies(
        p,
        &f.admin,
        Request::SetAgentActive {
            agent: a,
            active: false,
        },
        Some(json!({"is_active": true})),
        json!({"is_active": false}),
    )
    .await;
    assert!(!scalar::<bool>(p, "SELECT is_active FROM agents WHERE id = $1", a).await);

    let added = applies(p, sa, Request::AddNumber { number: "+1 415 555 0199".into(), name: "Sales".into(), bolna_id: "pn-9".into() },
        None, json!({"phone_number": "+14155550199", "name": "Sales", "bolna_phone_number_id": "pn-9", "is_active": true})).await;
    let n = added.resource_id.unwrap();
    assert_eq!(
        scalar::<Uuid>(
            p,
            "SELECT created_by_admin_id FROM phone_numbers WHERE id = $1",
            n
        )
        .await,
        sa.id
    );
    applies(
        p,
        sa,
        Request::AssignNumber {
            number: n,
            from: None,
            to: "plain@x.test".into(),
        },
        Some(json!({"assigned_to_user_id": null})),
        json!({"assigned_to_user_id": f.plain_user.id}),
    )
    .await;
    applies(
        p,
        sa,
        Request::AssignNumber {
            number: n,
            from: Some(f.plain_user.id),
            to: c.to_string(),
        },
        Some(json!({"assigned_to_user_id": f.plain_user.id})),
        json!({"assigned_to_user_id": c}),
    )
    .await;
    applies(
        p,
        sa,
        Request::UnassignNumber { number: n, from: c },
        Some(json!({"assigned_to_user_id": c})),
        json!({"assigned_to_user_id": null}),
    )
    .await;
    applies(
        p,
        sa,
        Request::SetNumberActive {
            number: n,
            active: false,
        },
        Some(json!({"is_active": true})),
        json!({"is_active": false}),
    )
    .await;
    applies(
        p,
        sa,
        Request::SetNumberActive {
            number: n,
            active: true,
        },
        Some(json!({"is_active": false})),
        json!({"is_active": true}),
    )
    .await;

    // Nothing in any audit row is a hash or a token.
    let all: Vec<String> = sqlx::query_scalar(
        "SELECT coalesce(old_values::text, '') || coalesce(new_values::text, '') FROM audit_logs",
    )
    .fetch_all(p)
    .await
    .unwrap();
    for text in all {
        assert!(
            !text.contains("$argon2") && !text.contains("tok-"),
            "{text}"
        );
    }
}

#[tokio::test]
async fn a_change_that_changes_nothing_writes_nothing() {
    let db = TestDb::migrated().await;
    let p = &db.pool;
    let f = fixture(p).await;
    let before = audit_count(p).await;
    let s = session(&f.super_admin);
    for req in [
        Request::SetUserActive {
            user: f.customer,
            active: true,
        },
        Request::RenameAgent {
            agent: f.agent,
            from: "Front desk".into(),
            to: " Front desk ".into(),
        },
        Request::SetPlan {
            tenant: f.tenant,
            from: "pro".into(),
            to: "pro".into(),
        },
        Request::RevokeSessions {
            user: f.plain_user.id,
        },
    ] {
        let out = apply(p, &s, &req).await.unwrap();
        assert_eq!(out.status, Applied::Unchanged, "{req:?}");
        assert_eq!(out.audit_id, None);
    }
    assert_eq!(audit_count(p).await, before);
}

#[tokio::test]
async fn a_failed_audit_insert_leaves_the_row_unchanged_and_a_failed_change_leaves_no_audit_row() {
    let db = TestDb::migrated().await;
    let p = &db.pool;
    let f = fixture(p).await;
    sqlx::raw_sql(
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS \
           $$ BEGIN RAISE EXCEPTION 'audit refused by test'; END $$; \
         CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_logs FOR EACH ROW EXECUTE FUNCTION refuse();",
    )
    .execute(p)
    .await
    .unwrap();
    let s = session(&f.super_admin);
    let requests = [
        Request::AdjustCredits {
            user: f.customer,
            delta: 10,
            reason: "x".into(),
            key: Uuid::new_v4(),
        },
        Request::RenameAgent {
            agent: f.agent,
            from: "Front desk".into(),
            to: "Other".into(),
        },
        Request::AssignNumber {
            number: f.number,
            from: None,
            to: "customer@acme.test".into(),
        },
        Request::CreateTenant {
            name: "Never".into(),
            plan: "pro".into(),
        },
    ];
    for req in &requests {
        let e = apply(p, &s, req).await.unwrap_err();
        assert!(matches!(e, ActionError::Db(_)), "{e}");
    }
    assert_eq!(
        scalar::<i32>(p, "SELECT credits FROM users WHERE id = $1", f.customer).await,
        100
    );
    assert_eq!(
        scalar::<String>(p, "SELECT name FROM agents WHERE id = $1", f.agent).await,
        "Front desk"
    );
    assert_eq!(
        scalar::<Option<Uuid>>(
            p,
            "SELECT assigned_to_user_id FROM phone_numbers WHERE id = $1",
            f.number
        )
        .await,
        None
    );
    let tenants: i64 = sqlx::query_scalar("SELECT count(*) FROM tenants WHERE name = 'Never'")
        .fetch_one(p)
        .await
        .unwrap();
    assert_eq!(tenants, 0);
    let keys: i64 = sqlx::query_scalar("SELECT count(*) FROM admin_idempotency_keys")
        .fetch_one(p)
        .await
        .unwrap();
    assert_eq!(keys, 0, "the idempotency key rolled back with the change");

    // The other way round: the change fails, so no audit row.
    sqlx::query("DROP TRIGGER refuse_audit ON audit_logs")
        .execute(p)
        .await
        .unwrap();
    sqlx::raw_sql(
        "CREATE TRIGGER refuse_agent BEFORE UPDATE ON agents FOR EACH ROW EXECUTE FUNCTION refuse();",
    )
    .execute(p)
    .await
    .unwrap();
    let before = audit_count(p).await;
    let e = apply(p, &s, &requests[1]).await.unwrap_err();
    assert!(matches!(e, ActionError::Db(_)), "{e}");
    assert_eq!(audit_count(p).await, before);
}

/// Every action for the fixture, as each actor would ask for it.
fn all_requests(f: &Fixture) -> Vec<Request> {
    vec![
        Request::AdjustCredits {
            user: f.customer,
            delta: 100,
            reason: "top".into(),
            key: Uuid::new_v4(),
        },
        Request::AdjustCredits {
            user: f.customer,
            delta: -10,
            reason: "deduct".into(),
            key: Uuid::new_v4(),
        },
        Request::SetUserActive {
            user: f.customer,
            active: false,
        },
        Request::RevokeSessions { user: f.customer },
        Request::MarkEmailVerified { user: f.customer },
        Request::SetRole {
            user: f.customer,
            from: Role::User,
            to: Role::Admin,
        },
        Request::MoveUser {
            user: f.inactive_customer,
            from: f.tenant,
            to: f.other_tenant.to_string(),
        },
        Request::CreateTenant {
            name: "New".into(),
            plan: "pro".into(),
        },
        Request::RenameTenant {
            tenant: f.tenant,
            from: "Acme".into(),
            to: "Acme Inc".into(),
        },
        Request::SetPlan {
            tenant: f.other_tenant,
            from: "starter".into(),
            to: "pro".into(),
        },
        Request::SetTenantActive {
            tenant: f.other_tenant,
            active: false,
        },
        Request::RenameAgent {
            agent: f.agent,
            from: "Front desk".into(),
            to: "Desk".into(),
        },
        Request::SetAgentDescription {
            agent: f.agent,
            from: Some("Answers calls".into()),
            to: Some("New".into()),
        },
        Request::SetAgentActive {
            agent: f.agent,
            active: false,
        },
        Request::AddNumber {
            number: "+442071838750".into(),
            name: "London".into(),
            bolna_id: "pn-uk".into(),
        },
        Request::AssignNumber {
            number: f.number,
            from: None,
            to: "plain@x.test".into(),
        },
        Request::SetNumberActive {
            number: f.number,
            active: false,
        },
    ]
}

#[tokio::test]
async fn permissions_every_action_for_every_kind_of_actor() {
    for who in ["super_admin", "admin", "inactive admin", "plain user"] {
        let db = TestDb::migrated().await;
        let p = &db.pool;
        let f = fixture(p).await;
        let actor = match who {
            "super_admin" => &f.super_admin,
            "admin" => &f.admin,
            "inactive admin" => &f.inactive_admin,
            _ => &f.plain_user,
        };
        for req in all_requests(&f) {
            let allowed = match who {
                "super_admin" => true,
                "admin" => req.min_role() == Role::Admin,
                _ => false,
            };
            let before = audit_count(p).await;
            let result = apply(p, &session(actor), &req).await;
            match (allowed, &result) {
                (true, Ok(out)) => assert_eq!(out.status, Applied::Done, "{who} {req:?}"),
                (false, Err(ActionError::Forbidden(_))) => {
                    // The refusal is on record, and nothing else is.
                    let row: (Option<Uuid>, String, Value) = sqlx::query_as(
                        "SELECT user_id, action, new_values FROM audit_logs ORDER BY created_at DESC LIMIT 1",
                    )
                    .fetch_one(p)
                    .await
                    .unwrap();
                    assert_eq!(audit_count(p).await, before + 1);
                    assert_eq!((row.0, row.1.as_str()), (Some(actor.id), "admin.refused"));
                    assert_eq!(row.2["action"], req.audit_action());
                }
                _ => panic!("{who} {req:?}: allowed {allowed}, got {result:?}"),
            }
        }
    }
    // A plain user's unchanged rows prove refusals wrote nothing.
    let db = TestDb::migrated().await;
    let f = fixture(&db.pool).await;
    for req in all_requests(&f) {
        let _ = apply(&db.pool, &session(&f.plain_user), &req).await;
    }
    assert_eq!(
        scalar::<i32>(
            &db.pool,
            "SELECT credits FROM users WHERE id = $1",
            f.customer
        )
        .await,
        100
    );
    assert_eq!(
        scalar::<String>(&db.pool, "SELECT name FROM tenants WHERE id = $1", f.tenant).await,
        "Acme"
    );
}

#[tokio::test]
async fn rules_the_database_cannot_express_are_enforced() {
    let db = TestDb::migrated().await;
    let p = &db.pool;
    let f = fixture(p).await;
    let sa = session(&f.super_admin);
    let ad = session(&f.admin);
    let refused = |r: Result<switchboard::actions::Outcome, ActionError>| match r {
        Err(ActionError::Forbidden(why)) => why,
        other => panic!("expected a refusal, got {other:?}"),
    };

    // The last active super_admin stays.
    let why = refused(
        apply(
            p,
            &sa,
            &Request::SetRole {
                user: f.super_admin.id,
                from: Role::SuperAdmin,
                to: Role::Admin,
            },
        )
        .await,
    );
    assert!(why.contains("your own role"), "{why}");
    let why = refused(
        apply(
            p,
            &sa,
            &Request::SetUserActive {
                user: f.super_admin.id,
                active: false,
            },
        )
        .await,
    );
    assert!(why.contains("your own account"), "{why}");
    let second = insert_user(
        p,
        "second@x.test",
        Role::SuperAdmin,
        true,
        switchboard::db::SYSTEM_TENANT,
    )
    .await;
    let s2 = session(&second);
    apply(
        p,
        &s2,
        &Request::SetRole {
            user: f.super_admin.id,
            from: Role::SuperAdmin,
            to: Role::Admin,
        },
    )
    .await
    .unwrap();
    // The demoted super_admin lost the right at once, whatever its session says.
    let why = refused(
        apply(
            p,
            &sa,
            &Request::SetRole {
                user: second.id,
                from: Role::SuperAdmin,
                to: Role::User,
            },
        )
        .await,
    );
    assert!(why.contains("needs super_admin"), "{why}");
    let third = insert_user(
        p,
        "third@x.test",
        Role::Admin,
        true,
        switchboard::db::SYSTEM_TENANT,
    )
    .await;
    apply(
        p,
        &s2,
        &Request::SetRole {
            user: third.id,
            from: Role::Admin,
            to: Role::SuperAdmin,
        },
    )
    .await
    .unwrap();
    let s3 = session(&Actor {
        role: Role::SuperAdmin,
        ..third.clone()
    });
    apply(
        p,
        &s3,
        &Request::SetUserActive {
            user: second.id,
            active: false,
        },
    )
    .await
    .unwrap();
    let why = refused(
        apply(
            p,
            &s2,
            &Request::SetUserActive {
                user: third.id,
                active: false,
            },
        )
        .await,
    );
    assert!(why.contains("no longer an active account"), "{why}");

    // Admins manage customers, not other admins.
    let why = refused(
        apply(
            p,
            &ad,
            &Request::SetUserActive {
                user: third.id,
                active: false,
            },
        )
        .await,
    );
    assert!(why.contains("super_admin"), "{why}");

    // Numbers go to active users only.
    let s3 = session(&Actor {
        role: Role::SuperAdmin,
        ..third
    });
    let e = apply(
        p,
        &s3,
        &Request::AssignNumber {
            number: f.number,
            from: None,
            to: "closed@acme.test".into(),
        },
    )
    .await
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("numbers are assigned only to active users"),
        "{e}"
    );
    let e = apply(
        p,
        &s3,
        &Request::AssignNumber {
            number: f.number,
            from: None,
            to: "nobody@x.test".into(),
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(e, ActionError::NotFound(_)), "{e}");

    // A number is active in one row only: a clear message, not a raw SQL error.
    let e = apply(
        p,
        &s3,
        &Request::SetNumberActive {
            number: f.number_twin,
            active: true,
        },
    )
    .await
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "+14155550100 is already active in another phone number row; deactivate that one first"
    );
    let e = apply(
        p,
        &s3,
        &Request::AddNumber {
            number: "+14155550100".into(),
            name: "Dup".into(),
            bolna_id: "pn-x".into(),
        },
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("already active"), "{e}");
    let e = apply(
        p,
        &s3,
        &Request::AddNumber {
            number: "+14155550111".into(),
            name: "Dup".into(),
            bolna_id: "pn-1".into(),
        },
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("pn-1 is already used"), "{e}");

    // Never the system tenant.
    let why = refused(
        apply(
            p,
            &s3,
            &Request::SetTenantActive {
                tenant: switchboard::db::SYSTEM_TENANT,
                active: false,
            },
        )
        .await,
    );
    assert!(why.contains("system tenant"), "{why}");

    // Deductions stop at zero and show the balance; admins have a cap.
    let e = apply(
        p,
        &ad,
        &Request::AdjustCredits {
            user: f.customer,
            delta: -101,
            reason: "x".into(),
            key: Uuid::new_v4(),
        },
    )
    .await
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "not enough credits: the balance is 100, the deduction 101"
    );
    let why = refused(
        apply(
            p,
            &ad,
            &Request::AdjustCredits {
                user: f.customer,
                delta: 10_001,
                reason: "x".into(),
                key: Uuid::new_v4(),
            },
        )
        .await,
    );
    assert!(why.contains("at most 10000"), "{why}");
    // The cap is the database's, set by a super_admin only, and audited.
    let why = refused(
        apply(
            p,
            &ad,
            &Request::SetCreditCap {
                from: 10_000,
                to: 1_000_000,
            },
        )
        .await,
    );
    assert!(why.contains("needs super_admin"), "{why}");
    let out = apply(
        p,
        &s3,
        &Request::SetCreditCap {
            from: 10_000,
            to: 50,
        },
    )
    .await
    .unwrap();
    assert_eq!(out.old, Some(json!({"admin_credit_cap": 10_000})));
    assert_eq!(out.new, Some(json!({"admin_credit_cap": 50})));
    let e = apply(
        p,
        &s3,
        &Request::SetCreditCap {
            from: 10_000,
            to: 70,
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(e, ActionError::Conflict { .. }), "{e}");
    let why = refused(
        apply(
            p,
            &ad,
            &Request::AdjustCredits {
                user: f.customer,
                delta: 51,
                reason: "x".into(),
                key: Uuid::new_v4(),
            },
        )
        .await,
    );
    assert!(why.contains("at most 50"), "{why}");

    // Nobody changes their own credits; admins do not change an admin's.
    let why = refused(
        apply(
            p,
            &s3,
            &Request::AdjustCredits {
                user: s3.actor.id,
                delta: 5,
                reason: "x".into(),
                key: Uuid::new_v4(),
            },
        )
        .await,
    );
    assert!(why.contains("your own credits"), "{why}");
    let why = refused(
        apply(
            p,
            &ad,
            &Request::AdjustCredits {
                user: s3.actor.id,
                delta: 5,
                reason: "x".into(),
                key: Uuid::new_v4(),
            },
        )
        .await,
    );
    assert!(why.contains("super_admin"), "{why}");
    apply(
        p,
        &s3,
        &Request::AdjustCredits {
            user: f.customer,
            delta: 50_000,
            reason: "enterprise".into(),
            key: Uuid::new_v4(),
        },
    )
    .await
    .unwrap();

    // Bad input is refused before any SQL, with words.
    for (req, text) in [
        (
            Request::AdjustCredits {
                user: f.customer,
                delta: 0,
                reason: "x".into(),
                key: Uuid::new_v4(),
            },
            "whole number",
        ),
        (
            Request::AdjustCredits {
                user: f.customer,
                delta: 5,
                reason: "  ".into(),
                key: Uuid::new_v4(),
            },
            "reason is empty",
        ),
        (
            Request::AddNumber {
                number: "555-0100".into(),
                name: "x".into(),
                bolna_id: "y".into(),
            },
            "E.164",
        ),
        (
            Request::CreateTenant {
                name: "x".into(),
                plan: "system".into(),
            },
            "unknown plan",
        ),
    ] {
        let e = apply(p, &s3, &req).await.unwrap_err();
        assert!(e.to_string().contains(text), "{e}");
    }
}

#[tokio::test]
async fn read_only_sessions_refuse_every_action_before_any_sql() {
    let db = TestDb::migrated().await;
    let f = fixture(&db.pool).await;
    let before = audit_count(&db.pool).await;
    let s = Session {
        read_only: true,
        ..session(&f.super_admin)
    };
    for req in all_requests(&f) {
        assert!(matches!(
            apply(&db.pool, &s, &req).await,
            Err(ActionError::ReadOnly)
        ));
    }
    assert_eq!(audit_count(&db.pool).await, before);
}

#[tokio::test]
async fn concurrent_top_ups_and_deductions_lose_nothing() {
    let db = TestDb::migrated().await;
    let f = fixture(&db.pool).await;
    let pool = db.pool.clone();
    let s = Arc::new(session(&f.admin));
    let before = audit_count(&pool).await;
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (pool, s, user) = (pool.clone(), s.clone(), f.customer);
            tokio::spawn(async move {
                for _ in 0..250 {
                    let req = Request::AdjustCredits {
                        user,
                        delta: 3,
                        reason: "load".into(),
                        key: Uuid::new_v4(),
                    };
                    apply(&pool, &s, &req).await.unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(
        scalar::<i32>(&pool, "SELECT credits FROM users WHERE id = $1", f.customer).await,
        100 + 2000 * 3
    );
    assert_eq!(audit_count(&pool).await, before + 2000);

    // 20 deductions of 10 from 100: exactly 10 succeed.
    sqlx::query("UPDATE users SET credits = 100 WHERE id = $1")
        .bind(f.plain_user.id)
        .execute(&pool)
        .await
        .unwrap();
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (pool, s, user) = (pool.clone(), s.clone(), f.plain_user.id);
            tokio::spawn(async move {
                let req = Request::AdjustCredits {
                    user,
                    delta: -10,
                    reason: "race".into(),
                    key: Uuid::new_v4(),
                };
                apply(&pool, &s, &req).await
            })
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(ActionError::Insufficient {
                balance: 0,
                amount: 10,
            }) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(ok, 10);
    assert_eq!(
        scalar::<i32>(
            &pool,
            "SELECT credits FROM users WHERE id = $1",
            f.plain_user.id
        )
        .await,
        0
    );
    let deducts: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_logs WHERE action = 'credits.deduct'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(deducts, 10);
}

#[tokio::test]
async fn the_same_idempotency_key_applies_once_even_when_sent_at_once() {
    let db = TestDb::migrated().await;
    let f = fixture(&db.pool).await;
    let s = session(&f.admin);
    let req = Request::AdjustCredits {
        user: f.customer,
        delta: 40,
        reason: "once".into(),
        key: Uuid::new_v4(),
    };
    let first = apply(&db.pool, &s, &req).await.unwrap();
    assert_eq!(first.status, Applied::Done);
    let again = apply(&db.pool, &s, &req).await.unwrap();
    assert_eq!(again.status, Applied::AlreadyApplied);
    assert_eq!(again.audit_id, None);
    // The same key for another change is a mistake, said as such, and writes nothing.
    let Request::AdjustCredits { key, .. } = req else {
        unreachable!()
    };
    let other = Request::AdjustCredits {
        user: f.plain_user.id,
        delta: 40,
        reason: "once".into(),
        key,
    };
    let e = apply(&db.pool, &s, &other).await.unwrap_err();
    assert!(e.to_string().contains("was used for another change"), "{e}");

    let req = Request::AdjustCredits {
        user: f.customer,
        delta: 7,
        reason: "race".into(),
        key: Uuid::new_v4(),
    };
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let (pool, s, req) = (db.pool.clone(), s.clone(), req.clone());
            tokio::spawn(async move { apply(&pool, &s, &req).await.unwrap().status })
        })
        .collect();
    let mut done = 0;
    for t in tasks {
        if t.await.unwrap() == Applied::Done {
            done += 1;
        }
    }
    assert_eq!(done, 1);
    assert_eq!(
        scalar::<i32>(
            &db.pool,
            "SELECT credits FROM users WHERE id = $1",
            f.customer
        )
        .await,
        147
    );
    let rows: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_logs WHERE action = 'credits.top_up'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(rows, 2);
    let linked: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM admin_idempotency_keys WHERE audit_log_id IS NOT NULL",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(linked, 2);
}

#[tokio::test]
async fn an_edit_of_a_row_that_changed_meanwhile_writes_nothing_and_says_what_it_holds() {
    let db = TestDb::migrated().await;
    let f = fixture(&db.pool).await;
    let s = session(&f.super_admin);
    // Someone else renamed the agent after the admin opened the form.
    sqlx::query("UPDATE agents SET name = 'Concierge' WHERE id = $1")
        .bind(f.agent)
        .execute(&db.pool)
        .await
        .unwrap();
    let before = audit_count(&db.pool).await;
    let e = apply(
        &db.pool,
        &s,
        &Request::RenameAgent {
            agent: f.agent,
            from: "Front desk".into(),
            to: "Desk".into(),
        },
    )
    .await
    .unwrap_err();
    match &e {
        ActionError::Conflict { current, .. } => assert_eq!(current, &json!({"name": "Concierge"})),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        e.to_string(),
        r#"the agent changed since you opened it (now {"name":"Concierge"}); nothing was written"#
    );
    assert_eq!(audit_count(&db.pool).await, before);
    assert_eq!(
        scalar::<String>(&db.pool, "SELECT name FROM agents WHERE id = $1", f.agent).await,
        "Concierge"
    );
    // Retrying with what it holds now applies.
    apply(
        &db.pool,
        &s,
        &Request::RenameAgent {
            agent: f.agent,
            from: "Concierge".into(),
            to: "Desk".into(),
        },
    )
    .await
    .unwrap();
    // The number is unassigned already: unassigning it changes nothing.
    let out = apply(
        &db.pool,
        &s,
        &Request::UnassignNumber {
            number: f.number,
            from: f.customer,
        },
    )
    .await
    .unwrap();
    assert_eq!(out.status, Applied::Unchanged);
    // It went to someone else meanwhile: a conflict.
    sqlx::query("UPDATE phone_numbers SET assigned_to_user_id = $2 WHERE id = $1")
        .bind(f.number)
        .bind(f.plain_user.id)
        .execute(&db.pool)
        .await
        .unwrap();
    let e = apply(
        &db.pool,
        &s,
        &Request::UnassignNumber {
            number: f.number,
            from: f.customer,
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(e, ActionError::Conflict { .. }), "{e}");
}

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
    // A read-only session signs in without writing.
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
    assert_eq!(audit_count(p).await, before);
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

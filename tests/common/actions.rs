//! What the action-layer tests share: a small platform with every kind of actor, sessions, and
//! readers of the audit log.

use serde_json::Value;
use sqlx::PgPool;
use switchboard::actions::{Actor, Applied, AuditContext, Request, Role, Session, apply};
use switchboard::password;
use uuid::Uuid;

pub const PASSWORD: &str = "a long enough password";

/// A small platform: one tenant, the four kinds of actor, two customers, an agent, two numbers
/// and two sessions.
pub struct Fixture {
    pub tenant: Uuid,
    pub other_tenant: Uuid,
    pub super_admin: Actor,
    pub admin: Actor,
    pub inactive_admin: Actor,
    pub plain_user: Actor,
    pub customer: Uuid,
    pub inactive_customer: Uuid,
    pub agent: Uuid,
    pub number: Uuid,
    /// An inactive row for the same number as `number`.
    pub number_twin: Uuid,
}

pub async fn insert_user(
    pool: &PgPool,
    email: &str,
    role: Role,
    active: bool,
    tenant: Uuid,
) -> Actor {
    let hash = password::hash_password(PASSWORD).unwrap();
    let id: Uuid =
        sql!(pool, switchboard::db::query_scalar(
        "INSERT INTO users (email, name, role, is_active, password_hash, tenant_id, credits) \
         VALUES ($1, $2, $3, $4, $5, $6, 100) RETURNING id",
    )
    .bind(email)
    .bind(format!("Name of {email}"))
    .bind(role.as_str())
    .bind(active)
    .bind(hash)
    .bind(tenant)
    , fetch_one)
        .unwrap();
    Actor {
        id,
        email: email.into(),
        name: format!("Name of {email}"),
        role,
    }
}

pub async fn fixture(pool: &PgPool) -> Fixture {
    let tenant: Uuid = sql!(
        pool,
        switchboard::db::query_scalar(
            "INSERT INTO tenants (name, plan) VALUES ('Acme', 'pro') RETURNING id"
        ),
        fetch_one
    )
    .unwrap();
    let other_tenant: Uuid = sql!(
        pool,
        switchboard::db::query_scalar(
            "INSERT INTO tenants (name, plan) VALUES ('Globex', 'starter') RETURNING id",
        ),
        fetch_one
    )
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
    let agent: Uuid = sql!(
        pool,
        switchboard::db::query_scalar(
            "INSERT INTO agents (user_id, bolna_agent_id, name, description) \
         VALUES ($1, 'bolna-1', 'Front desk', 'Answers calls') RETURNING id",
        )
        .bind(customer),
        fetch_one
    )
    .unwrap();
    let number: Uuid = sql!(pool, switchboard::db::query_scalar(
        "INSERT INTO phone_numbers (name, phone_number, bolna_phone_number_id, created_by_admin_id) \
         VALUES ('Main line', '+14155550100', 'pn-1', $1) RETURNING id",
    )
    .bind(super_admin.id)
    , fetch_one)
    .unwrap();
    let number_twin: Uuid = sql!(pool, switchboard::db::query_scalar(
        "INSERT INTO phone_numbers (name, phone_number, bolna_phone_number_id, created_by_admin_id, is_active) \
         VALUES ('Old main line', '+14155550100', 'pn-0', $1, false) RETURNING id",
    )
    .bind(super_admin.id)
    , fetch_one)
    .unwrap();
    for (token, expires) in [
        ("tok-a", "1 day"),
        ("tok-b", "2 days"),
        ("tok-old", "-1 day"),
    ] {
        sql!(
            pool,
            switchboard::db::query(
                "INSERT INTO user_sessions (user_id, session_token, expires_at) \
             VALUES ($1, $2, now() + $3::interval)",
            )
            .bind(customer)
            .bind(token)
            .bind(expires),
            execute
        )
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

pub fn ctx() -> AuditContext {
    AuditContext {
        ip: Some("203.0.113.7".parse().unwrap()),
        user_agent: "switchboard/test (tester@host)".into(),
    }
}

pub fn session(actor: &Actor) -> Session {
    Session {
        actor: actor.clone(),
        ctx: ctx(),
        read_only: false,
    }
}

#[derive(Debug, PartialEq, sqlx::FromRow)]
pub struct AuditRow {
    pub user_id: Option<Uuid>,
    pub action: String,
    pub resource_type: String,
    pub resource_id: Option<Uuid>,
    pub old_values: Option<Value>,
    pub new_values: Option<Value>,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
}

pub async fn audit_count(pool: &PgPool) -> i64 {
    sql!(
        pool,
        switchboard::db::query_scalar("SELECT count(*) FROM audit_logs"),
        fetch_one
    )
    .unwrap()
}

pub async fn audit_row(pool: &PgPool, id: Uuid) -> AuditRow {
    sql!(
        pool,
        switchboard::db::query_as(
            "SELECT user_id, action, resource_type, resource_id, old_values, new_values, \
                host(ip_address) AS ip_address, user_agent FROM audit_logs WHERE id = $1",
        )
        .bind(id),
        fetch_one
    )
    .unwrap()
}

/// Applies `req` and checks it wrote exactly one audit row, saying exactly `old` → `new`.
pub async fn applies(
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

pub async fn scalar<T>(pool: &PgPool, sql: &'static str, id: Uuid) -> T
where
    T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send + Unpin,
{
    sql!(pool, switchboard::db::query_scalar(sql).bind(id), fetch_one).unwrap()
}

/// One request of every kind that the fixture's super_admin may make, in an order that applies.
pub fn all_requests(f: &Fixture) -> Vec<Request> {
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

/// `writers` tasks, each applying `each` top-ups of `delta` to `user` as `by`, all at once.
pub async fn concurrent_top_ups(
    pool: &PgPool,
    by: &Actor,
    user: Uuid,
    writers: usize,
    each: usize,
    delta: i64,
) {
    let s = std::sync::Arc::new(session(by));
    let tasks: Vec<_> = (0..writers)
        .map(|_| {
            let (pool, s) = (pool.clone(), s.clone());
            tokio::spawn(async move {
                for _ in 0..each {
                    let req = Request::AdjustCredits {
                        user,
                        delta,
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
}

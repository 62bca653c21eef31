//! The action layer on real PostgreSQL: every change with its one audit row, changes that change
//! nothing, atomicity, concurrency, idempotency and optimistic concurrency.

#[macro_use]
mod common;

use std::sync::Arc;

use common::TestDb;
use common::actions::*;
use serde_json::json;
use switchboard::actions::{ActionError, Applied, Request, Role, apply};
use uuid::Uuid;

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

    let mut live: Vec<Uuid> = sql!(
        p,
        switchboard::db::query_scalar(
            "SELECT id FROM user_sessions WHERE user_id = $1 AND expires_at > now()",
        )
        .bind(c),
        fetch_all
    )
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
    let all: Vec<String> = sql!(p, switchboard::db::query_scalar(
        "SELECT coalesce(old_values::text, '') || coalesce(new_values::text, '') FROM audit_logs",
    )
    , fetch_all)
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
    let tenants: i64 = sql!(
        p,
        switchboard::db::query_scalar("SELECT count(*) FROM tenants WHERE name = 'Never'"),
        fetch_one
    )
    .unwrap();
    assert_eq!(tenants, 0);
    let keys: i64 = sql!(
        p,
        switchboard::db::query_scalar("SELECT count(*) FROM switchboard.idempotency_keys"),
        fetch_one
    )
    .unwrap();
    assert_eq!(keys, 0, "the idempotency key rolled back with the change");

    // The other way round: the change fails, so no audit row.
    sql!(
        p,
        switchboard::db::query("DROP TRIGGER refuse_audit ON audit_logs"),
        execute
    )
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
#[tokio::test]
async fn concurrent_top_ups_and_deductions_lose_nothing() {
    let db = TestDb::migrated().await;
    let f = fixture(&db.pool).await;
    let pool = db.pool.clone();
    let s = Arc::new(session(&f.admin));
    let before = audit_count(&pool).await;
    concurrent_top_ups(&pool, &f.admin, f.customer, 8, 250, 3).await;
    assert_eq!(
        scalar::<i32>(&pool, "SELECT credits FROM users WHERE id = $1", f.customer).await,
        100 + 2000 * 3
    );
    assert_eq!(audit_count(&pool).await, before + 2000);

    // 20 deductions of 10 from 100: exactly 10 succeed.
    sql!(
        &pool,
        switchboard::db::query("UPDATE users SET credits = 100 WHERE id = $1")
            .bind(f.plain_user.id),
        execute
    )
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
    let deducts: i64 = sql!(
        &pool,
        switchboard::db::query_scalar(
            "SELECT count(*) FROM audit_logs WHERE action = 'credits.deduct'"
        ),
        fetch_one
    )
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
    // So is the same key for the same user with another amount, another reason, or the other
    // direction: the whole change is compared, and nothing is written.
    for (delta, reason) in [(400, "once"), (40, "twice"), (-40, "once")] {
        let changed = Request::AdjustCredits {
            user: f.customer,
            delta,
            reason: reason.into(),
            key,
        };
        let e = apply(&db.pool, &s, &changed).await.unwrap_err();
        assert!(
            e.to_string().contains("was used for another change"),
            "{delta} {reason}: {e}"
        );
    }

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
    let rows: i64 = sql!(
        &db.pool,
        switchboard::db::query_scalar(
            "SELECT count(*) FROM audit_logs WHERE action = 'credits.top_up'"
        ),
        fetch_one
    )
    .unwrap();
    assert_eq!(rows, 2);
    let linked: i64 = sql!(
        &db.pool,
        switchboard::db::query_scalar(
            "SELECT count(*) FROM switchboard.idempotency_keys WHERE audit_log_id IS NOT NULL",
        ),
        fetch_one
    )
    .unwrap();
    assert_eq!(linked, 2);
}

#[tokio::test]
async fn an_edit_of_a_row_that_changed_meanwhile_writes_nothing_and_says_what_it_holds() {
    let db = TestDb::migrated().await;
    let f = fixture(&db.pool).await;
    let s = session(&f.super_admin);
    // Someone else renamed the agent after the admin opened the form.
    sql!(
        &db.pool,
        switchboard::db::query("UPDATE agents SET name = 'Concierge' WHERE id = $1").bind(f.agent),
        execute
    )
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
    // Only the refusal is on record, not the change.
    assert_eq!(audit_count(&db.pool).await, before + 1);
    let refused: i64 = sql!(
        &db.pool,
        switchboard::db::query_scalar(
            "SELECT count(*) FROM audit_logs WHERE action = 'admin.refused' \
             AND new_values->>'action' = 'agent.rename'"
        ),
        fetch_one
    )
    .unwrap();
    assert_eq!(refused, 1);
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
    sql!(
        &db.pool,
        switchboard::db::query("UPDATE phone_numbers SET assigned_to_user_id = $2 WHERE id = $1")
            .bind(f.number)
            .bind(f.plain_user.id),
        execute
    )
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

/// `check` says what `apply` would refuse, on the database, and writes nothing: not the change,
/// not its audit row, not its idempotency key; a permission refusal is recorded as `apply`
/// records it.
#[tokio::test]
async fn check_refuses_what_apply_would_and_writes_nothing() {
    let db = TestDb::migrated().await;
    let p = &db.pool;
    let f = fixture(p).await;
    let c = f.customer;
    let deduct = |delta: i64| Request::AdjustCredits {
        user: c,
        delta,
        reason: "chargeback".into(),
        key: Uuid::new_v4(),
    };
    let before = audit_count(p).await;
    let keys = "SELECT count(*) FROM switchboard.idempotency_keys WHERE resource_id = $1";

    let e = switchboard::actions::check(p, &session(&f.admin), &deduct(-1000))
        .await
        .unwrap_err();
    assert!(
        matches!(e, ActionError::Insufficient { balance: 100, .. }),
        "{e}"
    );
    // A refusal by the rules: on record.
    assert_eq!(audit_count(p).await, before + 1);
    // Over the admins' cap: refused, and the refusal is on record.
    let e = switchboard::actions::check(p, &session(&f.admin), &deduct(20_000))
        .await
        .unwrap_err();
    assert!(matches!(e, ActionError::Forbidden(_)), "{e}");
    assert_eq!(audit_count(p).await, before + 2);
    // A change that would apply: Ok, and still nothing written.
    switchboard::actions::check(p, &session(&f.admin), &deduct(-40))
        .await
        .unwrap();
    assert_eq!(audit_count(p).await, before + 2);
    assert_eq!(
        scalar::<i32>(p, "SELECT credits FROM users WHERE id = $1", c).await,
        100
    );
    assert_eq!(scalar::<i64>(p, keys, c).await, 0);
}

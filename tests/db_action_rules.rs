//! The action layer's rules on real PostgreSQL: permissions for every action and every kind of
//! actor, the rules the database cannot express, read-only sessions, sign-in and bootstrap.

#[macro_use]
mod common;

use common::TestDb;
use common::actions::*;
use serde_json::{Value, json};
use switchboard::actions::{ActionError, Actor, Applied, Request, Role, Session, apply};
use uuid::Uuid;

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
                    let row: (Option<Uuid>, String, Value) = sql!(p, switchboard::db::query_as(
                        "SELECT user_id, action, new_values FROM audit_logs ORDER BY created_at DESC LIMIT 1",
                    )
                    , fetch_one)
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
    let e = apply(p, &ad, &credits(f.customer, -101)).await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "not enough credits: the balance is 100, the deduction 101"
    );
    // A refusal by the rules like the others: on record.
    let recorded: i64 = sql!(
        p,
        switchboard::db::query_scalar(
            "SELECT count(*) FROM audit_logs WHERE action = 'admin.refused' \
             AND new_values->>'action' = 'credits.deduct' \
             AND new_values->>'reason' = 'not enough credits: the balance is 100, the deduction 101'"
        ),
        fetch_one
    )
    .unwrap();
    assert_eq!(recorded, 1);
    let why = refused(apply(p, &ad, &credits(f.customer, 10_001)).await);
    assert!(why.contains("at most 10,000"), "{why}");
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
    let why = refused(apply(p, &ad, &credits(f.customer, 51)).await);
    assert!(why.contains("at most 50"), "{why}");

    // Nobody changes their own credits; admins do not change an admin's.
    let why = refused(apply(p, &s3, &credits(s3.actor.id, 5)).await);
    assert!(why.contains("your own credits"), "{why}");
    let why = refused(apply(p, &ad, &credits(s3.actor.id, 5)).await);
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
        (credits(f.customer, 0), "whole number"),
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
            "the system tenant's alone",
        ),
    ] {
        let e = apply(p, &s3, &req).await.unwrap_err();
        assert!(e.to_string().contains(text), "{e}");
    }
}

/// A read-only session changes nothing, and each change it was asked for is on record as a
/// refusal (`admin.refused`, why: read-only) and as nothing else.
#[tokio::test]
async fn read_only_sessions_refuse_every_action_and_the_refusals_are_recorded() {
    let db = TestDb::migrated().await;
    let f = fixture(&db.pool).await;
    let before = audit_count(&db.pool).await;
    let s = Session {
        read_only: true,
        ..session(&f.super_admin)
    };
    let requests = all_requests(&f);
    for req in &requests {
        assert!(matches!(
            apply(&db.pool, &s, req).await,
            Err(ActionError::ReadOnly)
        ));
    }
    assert_eq!(audit_count(&db.pool).await, before + requests.len() as i64);
    let refused: i64 = sql!(
        &db.pool,
        switchboard::db::query_scalar(
            "SELECT count(*) FROM audit_logs WHERE action = 'admin.refused' \
             AND new_values->>'reason' LIKE 'read-only session%'"
        ),
        fetch_one
    )
    .unwrap();
    assert_eq!(refused, requests.len() as i64);
}

/// A plan the platform added to its CHECK constraint can be given; one the constraint does not
/// list is refused before anything is written, with the database's plans named, and the refusal
/// is on record.
#[tokio::test]
async fn the_plans_are_the_databases_own() {
    let db = TestDb::migrated().await;
    let p = &db.pool;
    let f = fixture(p).await;
    sql!(
        p,
        switchboard::db::query(
            "ALTER TABLE tenants DROP CONSTRAINT tenants_plan_check, ADD CONSTRAINT \
             tenants_plan_check CHECK (plan IN ('system', 'free', 'starter', 'pro', 'business'))"
        ),
        execute
    )
    .unwrap();
    let s = session(&f.super_admin);
    let out = apply(
        p,
        &s,
        &Request::CreateTenant {
            name: "Globex Holdings".into(),
            plan: "business".into(),
        },
    )
    .await
    .unwrap();
    let tenant = out.resource_id.unwrap();
    let tenants = || async {
        sql!(
            p,
            switchboard::db::query_scalar::<i64>("SELECT count(*) FROM tenants"),
            fetch_one
        )
        .unwrap()
    };
    let (before, audit) = (tenants().await, audit_count(p).await);
    for req in [
        Request::CreateTenant {
            name: "Initech".into(),
            plan: "enterprise".into(),
        },
        Request::SetPlan {
            tenant,
            from: "business".into(),
            to: "enterprise".into(),
        },
    ] {
        let e = apply(p, &s, &req).await.unwrap_err();
        assert!(
            e.to_string().contains(
                "unknown plan \"enterprise\"; this database's plans are free, starter, pro, business"
            ),
            "{e}"
        );
    }
    assert_eq!(tenants().await, before);
    assert_eq!(audit_count(p).await, audit + 2, "both refusals on record");
    apply(
        p,
        &s,
        &Request::SetPlan {
            tenant,
            from: "business".into(),
            to: "free".into(),
        },
    )
    .await
    .unwrap();
}

/// A tenant's name is another tenant's in no case: creating or renaming to one is refused,
/// naming the tenant that has it, and recorded; a tenant may change the case of its own name.
#[tokio::test]
async fn a_tenant_name_another_tenant_has_is_refused() {
    let db = TestDb::migrated().await;
    let p = &db.pool;
    let f = fixture(p).await;
    let s = session(&f.super_admin);
    let create = |name: &str| Request::CreateTenant {
        name: name.into(),
        plan: "pro".into(),
    };
    let vandelay = apply(p, &s, &create("Vandelay Industries")).await.unwrap();
    let vandelay = vandelay.resource_id.unwrap();
    let kramerica = apply(p, &s, &create("Kramerica")).await.unwrap();
    let kramerica = kramerica.resource_id.unwrap();
    let audit = audit_count(p).await;
    let e = apply(p, &s, &create("  vandelay industries "))
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "a tenant named \"vandelay industries\" exists already ({vandelay}); choose another name"
        )
    );
    let e = apply(
        p,
        &s,
        &Request::RenameTenant {
            tenant: kramerica,
            from: "Kramerica".into(),
            to: "VANDELAY INDUSTRIES".into(),
        },
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains(&vandelay.to_string()), "{e}");
    assert_eq!(audit_count(p).await, audit + 2, "both refusals on record");
    apply(
        p,
        &s,
        &Request::RenameTenant {
            tenant: vandelay,
            from: "Vandelay Industries".into(),
            to: "VANDELAY INDUSTRIES".into(),
        },
    )
    .await
    .unwrap();
}

/// A credit change with a throwaway reason and a fresh key.
fn credits(user: Uuid, delta: i64) -> Request {
    Request::AdjustCredits {
        user,
        delta,
        reason: "x".into(),
        key: Uuid::new_v4(),
    }
}

/// What the target as read when the form opens already refuses is refused then, recorded like
/// any refusal, before anything is typed: one's own credits or role, another admin's credits
/// without super_admin, an inactive number to assign. A customer's form opens.
#[tokio::test]
async fn a_form_that_cannot_succeed_is_refused_before_it_opens() {
    use switchboard::actions::targets::Target;
    use switchboard::actions::{Verb, prepare};
    use switchboard::db::lists::ListKind;
    let db = TestDb::migrated().await;
    let p = &db.pool;
    let f = fixture(p).await;
    let refusals = async || -> i64 {
        sql!(
            p,
            switchboard::db::query_scalar(
                "SELECT count(*) FROM audit_logs WHERE action = 'admin.refused'"
            ),
            fetch_one
        )
        .unwrap()
    };
    let before = refusals().await;
    let (admin, sup) = (session(&f.admin), session(&f.super_admin));
    let forbidden = |r: Result<Option<Target>, ActionError>| match r {
        Err(ActionError::Forbidden(why)) => why,
        other => panic!("{other:?}"),
    };
    for verb in [Verb::TopUp, Verb::Deduct] {
        let why = forbidden(prepare(p, &admin, verb, ListKind::Credits, Some(f.admin.id)).await);
        assert_eq!(why, "you cannot change your own credits");
    }
    let why = forbidden(
        prepare(
            p,
            &admin,
            Verb::TopUp,
            ListKind::Users,
            Some(f.super_admin.id),
        )
        .await,
    );
    assert_eq!(
        why,
        "changing the credits of a super_admin account needs super_admin"
    );
    let why = forbidden(
        prepare(
            p,
            &sup,
            Verb::SetRole,
            ListKind::Users,
            Some(f.super_admin.id),
        )
        .await,
    );
    assert_eq!(why, "you cannot change your own role");
    // The system tenant is nobody's to rename, replan or deactivate: said on open.
    for verb in [Verb::RenameTenant, Verb::SetPlan, Verb::SetTenantActive] {
        let why = forbidden(
            prepare(
                p,
                &sup,
                verb,
                ListKind::Tenants,
                Some(switchboard::db::SYSTEM_TENANT),
            )
            .await,
        );
        assert_eq!(why, "the system tenant cannot be changed", "{verb:?}");
    }
    assert_eq!(refusals().await, before + 7, "each refusal is on record");
    match prepare(
        p,
        &sup,
        Verb::AssignNumber,
        ListKind::PhoneNumbers,
        Some(f.number_twin),
    )
    .await
    {
        Err(ActionError::Invalid(why)) => {
            assert_eq!(
                why,
                "the number is inactive; reactivate it before assigning it"
            )
        }
        other => panic!("{other:?}"),
    }
    // What may succeed opens, with the target read now.
    let Ok(Some(Target::User(u))) =
        prepare(p, &admin, Verb::TopUp, ListKind::Credits, Some(f.customer)).await
    else {
        panic!("a customer's top-up form opens")
    };
    assert_eq!(u.id, f.customer);
    // An admin's form knows the admins' cap (as set now); a super_admin has none.
    assert_eq!(
        u.credit_cap,
        Some(switchboard::actions::DEFAULT_ADMIN_CREDIT_CAP)
    );
    // In a transaction: behind a transaction pooler a statement's two round trips may
    // otherwise reach two server connections.
    sql!(
        p,
        switchboard::db::query(
            "INSERT INTO switchboard.settings (key, value) VALUES ('admin_credit_cap', '2500') \
             ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
        ),
        execute
    )
    .unwrap();
    let Ok(Some(Target::User(u))) =
        prepare(p, &admin, Verb::Deduct, ListKind::Credits, Some(f.customer)).await
    else {
        panic!("a customer's deduction form opens")
    };
    assert_eq!(u.credit_cap, Some(2500));
    let Ok(Some(Target::User(u))) =
        prepare(p, &sup, Verb::TopUp, ListKind::Credits, Some(f.customer)).await
    else {
        panic!("a super_admin's top-up form opens")
    };
    assert_eq!(u.credit_cap, None);
    assert!(matches!(
        prepare(
            p,
            &sup,
            Verb::AssignNumber,
            ListKind::PhoneNumbers,
            Some(f.number)
        )
        .await,
        Ok(Some(Target::Number(_)))
    ));
}

//! The legacy voice_agent import on real PostgreSQL: the generated legacy data (seed-legacy,
//! scale 1, dirt planted) imports to the guide's counts less the dirt, each dirty row reported
//! with its reason; a second run changes nothing; a change in the source updates that row
//! alone; a failure in the middle leaves the target as it was; a legacy schema missing a table
//! or column is refused naming it; a dry run writes nothing; the imported rows show in the
//! console's panes.

#[macro_use]
mod common;

use std::collections::BTreeMap;

use common::TestDb;
use common::actions::{Fixture, fixture, session};
use switchboard::actions::ActionError;
use switchboard::actions::import::{Imported, import_legacy};
use switchboard::db::details::load_detail;
use switchboard::db::legacy::{self, ImportError, Report, Source};
use switchboard::db::lists::{Filter, ListKind, Page, fetch_page};
use switchboard::seed::legacy::{SCALE_ONE, seed_legacy};
use uuid::Uuid;

/// A migrated database with the fixture's admins and the legacy schema at scale 1 in it (the
/// source is the same database, as an operator on one server would have it).
async fn legacy_db() -> (TestDb, Fixture, Source) {
    let db = TestDb::migrated().await;
    let f = fixture(&db.pool).await;
    let counts = seed_legacy(&db.pool, "voice_agent", 1).await.unwrap();
    assert_eq!(counts, SCALE_ONE);
    let source = legacy::inspect(&db.pool, "voice_agent").await.unwrap();
    (db, f, source)
}

/// An import into `target` as the fixture's super_admin, reading the source through `db`.
async fn attempt(
    target: &sqlx::PgPool,
    db: &TestDb,
    f: &Fixture,
    source: &Source,
    dry_run: bool,
) -> Result<Imported, ActionError> {
    import_legacy(
        target,
        &session(&f.super_admin),
        &db.pool,
        source,
        dry_run,
        &mut |_| {},
    )
    .await
}

/// Runs `setup` on the database, then an import that must fail: returns its error, having
/// checked that the target is as it was before the attempt.
async fn refused_after(
    db: &TestDb,
    f: &Fixture,
    source: &Source,
    setup: &'static str,
) -> ActionError {
    sqlx::raw_sql(setup).execute(&db.pool).await.unwrap();
    let before = digest(db).await;
    let err = attempt(&db.pool, db, f, source, false).await.unwrap_err();
    assert_eq!(digest(db).await, before, "a failed import left rows behind");
    err
}

async fn run(db: &TestDb, f: &Fixture, source: &Source, dry_run: bool) -> Imported {
    attempt(&db.pool, db, f, source, dry_run).await.unwrap()
}

/// Outcome counts per legacy table.
fn outcomes(r: &Report) -> BTreeMap<&str, BTreeMap<String, i64>> {
    r.tables
        .iter()
        .map(|t| (t.legacy_table, t.outcomes.clone()))
        .collect()
}

fn counts(pairs: &[(&str, i64)]) -> BTreeMap<String, i64> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

/// The reasons given for one legacy row.
fn notes<'a>(r: &'a Report, table: &str, id: &str) -> Vec<(&'a str, &'a str)> {
    r.rows
        .iter()
        .filter(|n| n.legacy_table == table && n.legacy_id == id)
        .map(|n| (n.outcome.as_str(), n.reason.as_str()))
        .collect()
}

/// A digest of everything the import writes (the audit log aside): equal digests, nothing
/// written.
async fn digest(db: &TestDb) -> BTreeMap<&'static str, String> {
    let mut out = BTreeMap::new();
    // Every table the import writes, as `grants --import` lists them.
    for table in switchboard::db::grants::IMPORT_WRITES.iter().copied() {
        let sql = format!(
            "SELECT count(*)::text || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') \
             FROM {table} t"
        );
        let d: String = sql!(
            &db.pool,
            switchboard::db::query_scalar(sqlx::AssertSqlSafe(sql)),
            fetch_one
        )
        .unwrap();
        out.insert(table, d);
    }
    out
}

async fn scalar(db: &TestDb, sql: &'static str) -> i64 {
    sql!(&db.pool, switchboard::db::query_scalar(sql), fetch_one).unwrap()
}

#[tokio::test]
async fn the_generated_legacy_data_imports_to_the_guides_counts_less_the_planted_dirt() {
    let (db, f, source) = legacy_db().await;
    let done = run(&db, &f, &source, false).await;
    let r = &done.report;
    assert!(done.committed);
    assert!(r.passed(), "{:#?}", r.checks);
    let got = outcomes(r);
    let want: BTreeMap<&str, BTreeMap<String, i64>> = [
        ("organizations", counts(&[("new", 6)])),
        (
            "users_voiceagent",
            counts(&[("new", 37), ("merged", 1), ("skipped", 1)]),
        ),
        (
            "voices_voiceagent",
            counts(&[("folded", 20), ("skipped", 10)]),
        ),
        ("numbers_voiceagent", counts(&[("new", 4), ("skipped", 1)])),
        ("agents_voiceagent", counts(&[("new", 21), ("skipped", 2)])),
        (
            "leads_voiceagent",
            counts(&[("new", 59), ("merged", 1), ("skipped", 3)]),
        ),
        (
            "batch_logs_voiceagent",
            counts(&[("folded", 3), ("skipped", 1)]),
        ),
        (
            "call_logs_voiceagent",
            counts(&[("new", 739), ("skipped", 3)]),
        ),
        (
            "org_permissions_voiceagent",
            counts(&[("implied", 10), ("not represented", 6)]),
        ),
        ("transcriptions", counts(&[("new", 123)])),
    ]
    .into_iter()
    .collect();
    assert_eq!(got, want);

    // Each planted dirty row, with the right reason.
    let expect = |table: &str, id: &str, outcome: &str, words: &str| {
        let n = notes(r, table, id);
        assert!(
            n.iter()
                .any(|(o, why)| *o == outcome && why.contains(words)),
            "{table} {id}: want {outcome} '{words}', got {n:?}"
        );
    };
    expect("users_voiceagent", "14", "skipped", "no email");
    expect(
        "users_voiceagent",
        "13",
        "merged",
        "same email as legacy user 2",
    );
    expect("users_voiceagent", "19", "changed", "no name");
    for id in ["36", "37", "38", "39"] {
        expect(
            "users_voiceagent",
            id,
            "changed",
            "no organization: placed in the system tenant",
        );
    }
    expect(
        "agents_voiceagent",
        "23",
        "skipped",
        "created_by 2000000023 is not a legacy user",
    );
    expect(
        "agents_voiceagent",
        "22",
        "skipped",
        "its creator, legacy user 14, was skipped",
    );
    expect(
        "agents_voiceagent",
        "21",
        "changed",
        "does not exist: no voice in its config",
    );
    expect("agents_voiceagent", "20", "changed", "no name");
    expect("agents_voiceagent", "17", "changed", "no language: en");
    expect(
        "agents_voiceagent",
        "4",
        "changed",
        "default number 4 was not imported",
    );
    expect(
        "numbers_voiceagent",
        "4",
        "skipped",
        "not in E.164 and cannot be made so",
    );
    expect(
        "numbers_voiceagent",
        "2",
        "changed",
        "written as +14150000002",
    );
    expect(
        "numbers_voiceagent",
        "3",
        "changed",
        "written as +442070000003",
    );
    expect(
        "numbers_voiceagent",
        "5",
        "changed",
        "unknown status 'porting': imported inactive",
    );
    expect(
        "numbers_voiceagent",
        "1",
        "implied",
        "left unassigned (shared, system tenant)",
    );
    expect(
        "numbers_voiceagent",
        "2",
        "implied",
        "assigned to the creator of legacy agent(s) 2",
    );
    expect("leads_voiceagent", "63", "skipped", "is not a legacy user");
    expect("leads_voiceagent", "62", "skipped", "no phone number");
    expect(
        "leads_voiceagent",
        "61",
        "merged",
        "same number as legacy lead 1",
    );
    expect("leads_voiceagent", "60", "changed", "no name");
    expect("leads_voiceagent", "59", "flagged", "not in E.164");
    expect(
        "leads_voiceagent",
        "58",
        "changed",
        "written as +12120000058",
    );
    expect(
        "leads_voiceagent",
        "57",
        "skipped",
        "its user, legacy user 14, was skipped",
    );
    expect(
        "org_permissions_voiceagent",
        "6",
        "not represented",
        "another tenant",
    );
    expect(
        "org_permissions_voiceagent",
        "9",
        "not represented",
        "does not exist",
    );
    expect(
        "org_permissions_voiceagent",
        "14",
        "not represented",
        "expired",
    );
    expect(
        "org_permissions_voiceagent",
        "15",
        "not represented",
        "inactive",
    );
    expect(
        "org_permissions_voiceagent",
        "16",
        "not represented",
        "was not imported",
    );
    expect(
        "org_permissions_voiceagent",
        "11",
        "not represented",
        "another tenant",
    );
    expect(
        "org_permissions_voiceagent",
        "12",
        "implied",
        "shared number",
    );
    let call_reasons: Vec<&str> = r
        .rows
        .iter()
        .filter(|n| n.legacy_table == "call_logs_voiceagent")
        .map(|n| n.reason.as_str())
        .collect();
    for words in [
        "agent 2000000742 is not a legacy agent",
        "no agent",
        "its agent, legacy agent 23, was skipped",
        "unknown status 'voicemail': imported as failed",
        "no start time: dated by its end",
        "negative duration -5 s: imported as 0",
        "lead 2000000736 does not exist: no contact",
        "lead 62 was skipped: no contact",
    ] {
        assert!(
            call_reasons.iter().any(|r| r.contains(words)),
            "no call note '{words}': {call_reasons:?}"
        );
    }
    // Nothing changed silently: 1 + 1 + 1 + 4 (users) + 6 (agents) + 4 + 4 (numbers) + 7
    // (leads) + 8 (calls) + 1 (batch) + 10 (voices) + 16 (permissions).
    assert_eq!(r.rows.len(), 63, "{:#?}", r.rows);

    // In the platform's tables.
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*) FROM users WHERE email LIKE '%@legacy.example'"
        )
        .await,
        37
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*) FROM users WHERE email LIKE '%@legacy.example' \
             AND tenant_id = '00000000-0000-0000-0000-000000000000'"
        )
        .await,
        4
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*) FROM tenants WHERE metadata->>'source' = 'voice_agent import'"
        )
        .await,
        6
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*) FROM calls WHERE bolna_execution_id LIKE 'legacy:%'"
        )
        .await,
        739
    );
    assert_eq!(scalar(&db, "SELECT count(*) FROM transcripts").await, 123);
    // The merged user's agent belongs to the user it was merged into.
    let owner: String = sql!(
        &db.pool,
        switchboard::db::query_scalar(
            "SELECT u.email::text FROM agents a JOIN users u ON u.id = a.user_id \
         WHERE a.bolna_agent_id LIKE 'legacy:%:agent:19'",
        ),
        fetch_one
    )
    .unwrap();
    assert_eq!(owner, "user2@legacy.example");
    // The voice is folded into the agent; the number is in E.164 and assigned as implied.
    let voice: String = sql!(
        &db.pool,
        switchboard::db::query_scalar(
            "SELECT bolna_voice_config->'voice'->>'provider_voice_id' FROM agents \
         WHERE bolna_agent_id LIKE 'legacy:%:agent:1'",
        ),
        fetch_one
    )
    .unwrap();
    assert_eq!(voice, "pv-8");
    let (number, assigned): (String, Option<String>) = sql!(&db.pool, switchboard::db::query_as(
        "SELECT p.phone_number::text, u.email::text FROM phone_numbers p \
         LEFT JOIN users u ON u.id = p.assigned_to_user_id WHERE p.bolna_phone_number_id LIKE 'legacy:%:number:2'",
    ), fetch_one)
    .unwrap();
    assert_eq!(
        (number.as_str(), assigned.as_deref()),
        ("+14150000002", Some("user2@legacy.example"))
    );

    // One audit row, with the counts and the report's checksum.
    let (new,): (serde_json::Value,) = sql!(
        &db.pool,
        switchboard::db::query_as(
            "SELECT new_values FROM audit_logs WHERE action = 'import.legacy' AND user_id = $1",
        )
        .bind(f.super_admin.id),
        fetch_one
    )
    .unwrap();
    assert_eq!(new["report_sha256"], done.sha256);
    assert_eq!(done.json["sha256"], done.sha256);
    assert_eq!(new["counts"]["call_logs_voiceagent"]["new"], 739);
    assert_eq!(new["dry_run"], false);
}

#[tokio::test]
async fn a_second_run_changes_nothing_and_a_changed_source_row_is_updated_alone() {
    let (db, f, source) = legacy_db().await;
    run(&db, &f, &source, false).await;
    let before = digest(&db).await;
    let again = run(&db, &f, &source, false).await;
    assert!(again.committed);
    assert_eq!(digest(&db).await, before, "a second run wrote something");
    for t in &again.report.tables {
        assert_eq!(t.count("new"), 0, "{}: {:?}", t.legacy_table, t.outcomes);
        assert_eq!(
            t.count("updated"),
            0,
            "{}: {:?}",
            t.legacy_table,
            t.outcomes
        );
    }
    let calls = again
        .report
        .tables
        .iter()
        .find(|t| t.legacy_table == "call_logs_voiceagent")
        .unwrap();
    assert_eq!(calls.count("same"), 739);

    // An id map written by an earlier version, whose calls' and transcripts' hashes were the
    // MD5 of the mapped row's text: the same rows are unchanged (nothing written but the map's
    // hashes, now of the binary form).
    for earlier in [
        "UPDATE switchboard.legacy_ids m SET source_hash = md5(row(c.agent_id, c.user_id, \
             c.contact_id, c.phone_number, c.status, c.duration_seconds, c.lead_type, \
             c.created_at, c.completed_at, c.recording_url, c.metadata, c.bolna_metadata, \
             c.bolna_conversation_id)::text) \
         FROM calls c WHERE m.kind = 'call' AND m.new_id = c.id",
        "UPDATE switchboard.legacy_ids m SET source_hash = md5(row(t.call_id, t.user_id, \
             t.content, t.speaker_segments)::text) \
         FROM transcripts t WHERE m.kind = 'transcript' AND m.new_id = t.id",
    ] {
        sql!(&db.pool, switchboard::db::query(earlier), execute).unwrap();
    }
    let upgraded = run(&db, &f, &source, false).await;
    let platform = |mut d: BTreeMap<&'static str, String>| {
        d.remove("switchboard.legacy_ids");
        d
    };
    assert_eq!(
        platform(digest(&db).await),
        platform(before.clone()),
        "a run after the hash's change wrote a platform row"
    );
    for t in &upgraded.report.tables {
        assert_eq!(
            t.count("updated"),
            0,
            "{}: {:?}",
            t.legacy_table,
            t.outcomes
        );
    }
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*) FROM switchboard.legacy_ids \
             WHERE kind IN ('call', 'transcript') AND source_hash NOT LIKE 'b:%'"
        )
        .await,
        0
    );

    // One agent renamed in the source: that agent is updated, nothing else.
    sql!(
        &db.pool,
        switchboard::db::query(
            "UPDATE voice_agent.agents_voiceagent SET name = 'Renamed agent' WHERE id = 1"
        ),
        execute
    )
    .unwrap();
    let third = run(&db, &f, &source, false).await;
    let updated: Vec<(&str, i64)> = third
        .report
        .tables
        .iter()
        .map(|t| (t.legacy_table, t.count("updated") + t.count("new")))
        .filter(|(_, n)| *n > 0)
        .collect();
    assert_eq!(updated, [("agents_voiceagent", 1)]);
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*) FROM agents WHERE name = 'Renamed agent' AND bolna_agent_id LIKE 'legacy:%:agent:1'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn a_failure_in_the_middle_leaves_the_target_as_it_was() {
    let (db, f, source) = legacy_db().await;
    // A call insert fails (as a constraint the import did not foresee would): the tenants,
    // users, numbers, agents and contacts before it are already written in the transaction.
    let err = refused_after(
        &db,
        &f,
        &source,
        "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN RAISE EXCEPTION 'injected failure on call %', NEW.bolna_execution_id; END $$; \
         CREATE TRIGGER boom BEFORE INSERT ON calls FOR EACH ROW \
         WHEN (NEW.duration_seconds = 57) EXECUTE FUNCTION boom();",
    )
    .await;
    assert!(
        matches!(&err, ActionError::Db(m) if m.contains("injected failure on call")),
        "{err:?}"
    );
    // The attempt is on record.
    let (new,): (serde_json::Value,) = sql!(
        &db.pool,
        switchboard::db::query_as(
            "SELECT new_values FROM audit_logs WHERE action = 'import.legacy'"
        ),
        fetch_one
    )
    .unwrap();
    assert_eq!(new["written"], false);
    assert!(new["error"].as_str().unwrap().contains("injected failure"));
}

/// The calls' checks, made in one pass over the calls, each find what breaks them: a call not
/// written (a trigger of the platform's dropped it), a call whose contact does not exist and
/// one whose contact is another tenant's (the keys that would refuse them are gone).
#[tokio::test]
async fn the_calls_checks_find_a_missing_an_orphaned_and_a_cross_tenant_call() {
    let (db, f, source) = legacy_db().await;
    sqlx::raw_sql(
        "ALTER TABLE calls DROP CONSTRAINT calls_contact_id_fkey; \
         ALTER TABLE transcripts DROP CONSTRAINT transcripts_call_id_fkey, \
             DROP CONSTRAINT transcripts_call_id_user_id_fkey; \
         CREATE SEQUENCE sbt_n; \
         CREATE FUNCTION sbt_bend() RETURNS trigger LANGUAGE plpgsql AS $$ \
         DECLARE n bigint := nextval('sbt_n'); \
         BEGIN \
             IF n = 1 THEN RETURN NULL; END IF; \
             IF n = 2 THEN NEW.contact_id := gen_random_uuid(); END IF; \
             IF n = 3 THEN \
                 NEW.contact_id := (SELECT c.id FROM contacts c JOIN users u ON u.id = c.user_id \
                                    WHERE u.tenant_id <> (SELECT tenant_id FROM users \
                                                          WHERE id = NEW.user_id) \
                                    ORDER BY c.id LIMIT 1); \
             END IF; \
             RETURN NEW; \
         END $$; \
         CREATE TRIGGER sbt_bend BEFORE INSERT ON calls FOR EACH ROW EXECUTE FUNCTION sbt_bend();",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let done = run(&db, &f, &source, true).await;
    let failed: BTreeMap<&str, &str> = done
        .report
        .checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| (c.name.as_str(), c.detail.as_str()))
        .collect();
    assert_eq!(
        failed,
        BTreeMap::from([
            (
                "every imported row is in its platform table (old vs new counts)",
                "1 rows"
            ),
            ("no orphaned call (agent, user and contact exist)", "1 rows"),
            (
                "a call's agent and contact are in the call's tenant (tenant isolation)",
                "1 rows"
            ),
        ]),
        "{:#?}",
        done.report.checks
    );
    assert!(!done.committed);
}

#[tokio::test]
async fn a_legacy_schema_missing_a_table_or_a_column_is_refused_naming_them() {
    let (db, _f, _source) = legacy_db().await;
    sqlx::raw_sql(
        "ALTER TABLE voice_agent.leads_voiceagent DROP COLUMN lead_number; \
         DROP TABLE voice_agent.batch_logs_voiceagent;",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let before = digest(&db).await;
    let err = legacy::inspect(&db.pool, "voice_agent").await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, ImportError::Schema(_)), "{err:?}");
    assert!(
        text.contains("table voice_agent.batch_logs_voiceagent"),
        "{text}"
    );
    assert!(
        text.contains("column voice_agent.leads_voiceagent.lead_number"),
        "{text}"
    );
    let none = legacy::inspect(&db.pool, "voice_agent_old")
        .await
        .unwrap_err();
    assert!(
        none.to_string().contains("has no schema voice_agent_old"),
        "{none}"
    );
    let bad = legacy::inspect(&db.pool, "x; DROP TABLE users")
        .await
        .unwrap_err();
    assert!(bad.to_string().contains("lower-case letters"), "{bad}");
    assert_eq!(digest(&db).await, before);
}

#[tokio::test]
async fn a_legacy_table_holding_an_id_twice_is_refused_naming_it() {
    let (db, f, source) = legacy_db().await;
    // A legacy table without its key, one lead copied under the same id.
    let err = refused_after(
        &db,
        &f,
        &source,
        "ALTER TABLE voice_agent.leads_voiceagent DROP CONSTRAINT leads_voiceagent_pkey; \
         INSERT INTO voice_agent.leads_voiceagent SELECT * FROM voice_agent.leads_voiceagent \
         WHERE id = 7;",
    )
    .await;
    let ActionError::Invalid(text) = &err else {
        panic!("{err:?}");
    };
    assert!(text.contains("leads_voiceagent"), "{text}");
    assert!(text.contains("ids are not unique"), "{text}");
    assert!(text.contains("(id)=(7)"), "{text}");
}

#[tokio::test]
async fn a_dry_run_writes_nothing_and_reports_what_the_import_would_do() {
    let (db, f, source) = legacy_db().await;
    let before = digest(&db).await;
    let dry = run(&db, &f, &source, true).await;
    assert!(!dry.committed);
    assert!(dry.report.dry_run);
    assert_eq!(digest(&db).await, before, "a dry run wrote something");
    let real = run(&db, &f, &source, false).await;
    assert_eq!(outcomes(&dry.report), outcomes(&real.report));
    assert_eq!(dry.report.rows.len(), real.report.rows.len());
    let dry_runs = scalar(
        &db,
        "SELECT count(*) FROM audit_logs WHERE action = 'import.legacy' \
         AND new_values->>'dry_run' = 'true' AND new_values->>'written' = 'false'",
    )
    .await;
    assert_eq!(dry_runs, 1);
}

#[tokio::test]
async fn only_a_super_admin_imports_and_a_refusal_is_recorded() {
    let (db, f, source) = legacy_db().await;
    let before = digest(&db).await;
    let err = import_legacy(
        &db.pool,
        &session(&f.admin),
        &db.pool,
        &source,
        false,
        &mut |_| {},
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ActionError::Forbidden(_)), "{err:?}");
    assert_eq!(digest(&db).await, before);
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*) FROM audit_logs WHERE action = 'admin.refused' \
             AND new_values->>'action' = 'import.legacy'"
        )
        .await,
        1
    );
}

/// Every row of a pane.
async fn pane_ids(db: &TestDb, kind: ListKind) -> Vec<Uuid> {
    let filter = Filter::parse(kind, "").unwrap();
    let mut ids = Vec::new();
    let mut page = Page::First;
    loop {
        let rows = fetch_page(&db.pool, kind, &filter, &page, 200)
            .await
            .unwrap();
        ids.extend(rows.iter().map(|r| r.id));
        match rows.last() {
            Some(last) if rows.len() == 200 => page = Page::After(last.key.clone()),
            _ => return ids,
        }
    }
}

#[tokio::test]
async fn the_imported_rows_show_in_the_consoles_panes() {
    let (db, f, source) = legacy_db().await;
    run(&db, &f, &source, false).await;
    for (kind, map_kind) in [
        (ListKind::Tenants, "organization"),
        (ListKind::Users, "user"),
        (ListKind::Agents, "agent"),
        (ListKind::PhoneNumbers, "number"),
    ] {
        let shown = pane_ids(&db, kind).await;
        let imported: Vec<Uuid> = sql!(
            &db.pool,
            switchboard::db::query_scalar(
                "SELECT DISTINCT new_id FROM switchboard.legacy_ids WHERE kind = $1",
            )
            .bind(map_kind),
            fetch_all
        )
        .unwrap();
        assert!(!imported.is_empty());
        let missing: Vec<&Uuid> = imported.iter().filter(|id| !shown.contains(id)).collect();
        assert!(missing.is_empty(), "{kind:?}: not in the pane: {missing:?}");
    }
    // The calls: an imported agent's detail counts them and names its tenant.
    let agent: Uuid = sql!(
        &db.pool,
        switchboard::db::query_scalar(
            "SELECT id FROM agents WHERE bolna_agent_id LIKE 'legacy:%:agent:1'"
        ),
        fetch_one
    )
    .unwrap();
    let calls = scalar(
        &db,
        "SELECT count(*) FROM calls c JOIN agents a ON a.id = c.agent_id \
         WHERE a.bolna_agent_id LIKE 'legacy:%:agent:1'",
    )
    .await;
    assert!(calls > 30, "{calls}");
    let detail = load_detail(&db.pool, ListKind::Agents, agent)
        .await
        .unwrap();
    let field = |name: &str| {
        detail
            .fields
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, c)| format!("{c:?}"))
            .unwrap_or_default()
    };
    assert!(
        field("calls").contains(&calls.to_string()),
        "{}",
        field("calls")
    );
    assert!(
        field("tenant").contains("Organization "),
        "{}",
        field("tenant")
    );
}

/// A role that does not own the tables, holding exactly what `switchboard grants --import`
/// prints (and SELECT on the legacy schema), runs the import; without the import's grants it is
/// refused by PostgreSQL and nothing is written.
#[tokio::test]
async fn a_role_with_the_printed_import_grants_imports_and_one_without_them_cannot() {
    let (db, f, source) = legacy_db().await;
    let role = format!("sbt_import_{}", Uuid::new_v4().simple());
    let run_sql = |sql: String| {
        let pool = db.pool.clone();
        async move {
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(&pool)
                .await
                .unwrap();
        }
    };
    run_sql(format!(
        "CREATE ROLE {role} LOGIN; GRANT USAGE ON SCHEMA voice_agent TO {role}; \
         GRANT SELECT ON ALL TABLES IN SCHEMA voice_agent TO {role}"
    ))
    .await;
    for statement in switchboard::db::grants::statements(&role, false) {
        run_sql(statement).await;
    }
    // Straight to the server as that role (a pooler in front of the tests knows only theirs).
    let as_role = sqlx::PgPool::connect_lazy_with(
        common::server()
            .admin
            .clone()
            .database(&db.name)
            .username(&role),
    );
    let import_as_role = || {
        let (pool, s) = (as_role.clone(), session(&f.super_admin));
        let source = source.clone();
        async move { import_legacy(&pool, &s, &pool, &source, false, &mut |_| {}).await }
    };
    let before = digest(&db).await;
    let err = import_as_role().await.unwrap_err();
    assert!(
        matches!(&err, ActionError::Db(m) if m.contains("lacks a privilege")),
        "{err:?}"
    );
    assert_eq!(digest(&db).await, before);
    for statement in switchboard::db::grants::import_statements(&role) {
        run_sql(statement).await;
    }
    let done = import_as_role().await.unwrap();
    assert!(
        done.committed && done.report.passed(),
        "{:#?}",
        done.report.checks
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*) FROM calls WHERE bolna_execution_id LIKE 'legacy:%'"
        )
        .await,
        739
    );
    as_role.close().await;
    run_sql(format!("DROP OWNED BY {role}; DROP ROLE {role}")).await;
}

/// Where the role may set the key triggers aside for a bulk insert (a superuser, as the tests
/// connect), the rows written are checked key by key afterwards: a row that refers to nothing
/// fails (a single key, a composite one, a row only in a table inheriting from the referenced
/// one), the triggers are on again after the check, and a referenced row that other
/// transactions see is locked against their DELETE until the import ends.
#[tokio::test]
async fn keys_set_aside_for_a_bulk_insert_are_checked_once_after_it() {
    use switchboard::db::legacy::keys;
    let (db, f, source) = legacy_db().await;
    run(&db, &f, &source, false).await;
    let (call, user, other_user): (Uuid, Uuid, Uuid) = sql!(
        &db.pool,
        switchboard::db::query_as(
            "SELECT c.id, c.user_id, (SELECT u.id FROM users u WHERE u.id <> c.user_id LIMIT 1) \
             FROM calls c ORDER BY c.id LIMIT 1",
        ),
        fetch_one
    )
    .unwrap();
    sqlx::raw_sql(
        "CREATE TABLE sbt_child () INHERITS (calls); \
         INSERT INTO sbt_child SELECT * FROM calls ORDER BY id LIMIT 1; \
         UPDATE sbt_child SET id = '00000000-0000-4000-8000-00000000c41d'; \
         CREATE TABLE sbt_ref (id uuid PRIMARY KEY, call_id uuid REFERENCES calls (id), \
             user_id uuid, FOREIGN KEY (call_id, user_id) REFERENCES calls (id, user_id))",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    // (table, call, user, the key that must fail). A row the composite key checks (its columns
    // all set) is checked by it alone; one with a NULL user by the single key.
    let child = Uuid::parse_str("00000000-0000-4000-8000-00000000c41d").unwrap();
    let cases = [
        (
            "transcripts",
            Uuid::new_v4(),
            Some(user),
            Some("transcripts_call_id_user_id_fkey"),
        ),
        (
            "transcripts",
            call,
            Some(other_user),
            Some("transcripts_call_id_user_id_fkey"),
        ),
        (
            "transcripts",
            child,
            Some(user),
            Some("transcripts_call_id_user_id_fkey"),
        ),
        ("transcripts", call, Some(user), None),
        (
            "sbt_ref",
            Uuid::new_v4(),
            None,
            Some("sbt_ref_call_id_fkey"),
        ),
        (
            "sbt_ref",
            Uuid::new_v4(),
            Some(user),
            Some("sbt_ref_call_id_user_id_fkey"),
        ),
        ("sbt_ref", child, None, Some("sbt_ref_call_id_fkey")),
        ("sbt_ref", call, None, None),
    ];
    for (table, call_id, user_id, fails) in cases {
        let qualified = format!("public.{table}");
        let mut tx = db.pool.begin().await.unwrap();
        let before = keys::set_aside(&mut tx, &qualified)
            .await
            .unwrap()
            .expect("a superuser may set the triggers aside");
        let id = Uuid::new_v4();
        switchboard::db::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO {table} (id, call_id, user_id) VALUES ($1, $2, $3)"
        )))
        .bind(id)
        .bind(call_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await
        .unwrap();
        let new_ids = format!("SELECT '{id}'::uuid");
        let checked = keys::check_and_restore(&mut tx, &qualified, &new_ids, &before).await;
        match fails {
            Some(key) => {
                let err = checked.unwrap_err().to_string();
                assert!(err.contains(&format!("(key {key})")), "{table}: {err}");
                // The triggers are back: the same row is refused at once.
                let again = switchboard::db::query(sqlx::AssertSqlSafe(format!(
                    "INSERT INTO {table} (id, call_id, user_id) VALUES (gen_random_uuid(), $1, $2)"
                )))
                .bind(call_id)
                .bind(user_id)
                .execute(&mut *tx)
                .await
                .unwrap_err();
                assert_eq!(
                    again.as_database_error().and_then(|e| e.code()).as_deref(),
                    Some("23503")
                );
            }
            None => {
                checked.unwrap();
                // The call, which other transactions see, is held against their DELETE.
                let mut other = db.pool.begin().await.unwrap();
                switchboard::db::query("SET LOCAL lock_timeout = '200ms'")
                    .execute(&mut *other)
                    .await
                    .unwrap();
                let blocked = switchboard::db::query("DELETE FROM calls WHERE id = $1")
                    .bind(call_id)
                    .execute(&mut *other)
                    .await
                    .unwrap_err();
                assert_eq!(
                    blocked
                        .as_database_error()
                        .and_then(|e| e.code())
                        .as_deref(),
                    Some("55P03"),
                    "{blocked}"
                );
                other.rollback().await.unwrap();
            }
        }
        tx.rollback().await.unwrap();
    }

    // Where the triggers stay: an INSERT trigger of the table's own, a deferrable unique key
    // (its recheck is a trigger too), an INSERT rule (replica mode would skip each), a
    // partitioned table (its partitions may have triggers and keys of their own), a role that
    // may not set session_replication_role, a session where it is already off (each case is
    // rolled back; roles are transactional).
    let role = format!("sbt_keys_{}", Uuid::new_v4().simple());
    for (setup, table) in [
        (
            "CREATE FUNCTION pg_temp.noop() RETURNS trigger LANGUAGE plpgsql \
                 AS 'BEGIN RETURN NEW; END'; \
             CREATE TRIGGER sbt_own AFTER INSERT ON transcripts FOR EACH ROW \
                 EXECUTE FUNCTION pg_temp.noop()"
                .to_string(),
            "public.transcripts",
        ),
        (
            "ALTER TABLE transcripts ADD CONSTRAINT sbt_u UNIQUE (id, content) DEFERRABLE"
                .to_string(),
            "public.transcripts",
        ),
        (
            "CREATE RULE sbt_r AS ON INSERT TO transcripts DO ALSO NOTIFY sbt_r".to_string(),
            "public.transcripts",
        ),
        (
            "CREATE TABLE sbt_parted (id uuid PRIMARY KEY, call_id uuid REFERENCES calls (id)) \
             PARTITION BY HASH (id)"
                .to_string(),
            "public.sbt_parted",
        ),
        (
            format!("CREATE ROLE {role} NOLOGIN; SET LOCAL ROLE {role}"),
            "public.calls",
        ),
        (
            "SET LOCAL session_replication_role = replica".to_string(),
            "public.calls",
        ),
    ] {
        let mut tx = db.pool.begin().await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(setup))
            .execute(&mut *tx)
            .await
            .unwrap();
        let setting = keys::replication_role(&mut tx).await.unwrap();
        assert_eq!(
            keys::set_aside(&mut tx, table).await.unwrap(),
            None,
            "{table}"
        );
        let after = keys::replication_role(&mut tx).await.unwrap();
        assert_eq!(
            after, setting,
            "{table}: the transaction is usable and as it was"
        );
        tx.rollback().await.unwrap();
    }
}

/// A session whose triggers are already off (a role's default `session_replication_role`) is
/// refused before anything is written, unless the role may set it back.
#[tokio::test]
async fn an_import_in_a_session_without_triggers_is_refused_or_set_right() {
    use switchboard::db::legacy::keys;
    let db = TestDb::migrated().await;
    let mut tx = db.pool.begin().await.unwrap();
    switchboard::db::query("SET LOCAL session_replication_role = replica")
        .execute(&mut *tx)
        .await
        .unwrap();
    keys::require_origin(&mut tx).await.unwrap();
    let now = keys::replication_role(&mut tx).await.unwrap();
    assert_eq!(now, "origin", "a superuser's session is set back");
    tx.rollback().await.unwrap();

    // A role that may not set it back: refused, the transaction still usable.
    let role = format!("sbt_origin_{}", Uuid::new_v4().simple());
    let mut tx = db.pool.begin().await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "CREATE ROLE {role} NOLOGIN; SET LOCAL session_replication_role = replica; \
         SET LOCAL ROLE {role}"
    )))
    .execute(&mut *tx)
    .await
    .unwrap();
    let err = keys::require_origin(&mut tx).await.unwrap_err();
    assert!(
        err.to_string()
            .starts_with("this session's session_replication_role is replica"),
        "{err}"
    );
    switchboard::db::query("SELECT 1")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.rollback().await.unwrap();
}

//! Streaming audit export on real PostgreSQL: the rows the filter selects, oldest first, CSV that
//! a spreadsheet cannot run, JSON lines, and no half files.

mod common;

use chrono::Utc;
use common::TestDb;
use serde_json::Value;
use switchboard::db::export::{COLUMNS, ExportError, Format, export_audit, export_to_file};
use switchboard::db::lists::{Filter, ListKind};
use switchboard::seed::demo;

async fn export(db: &TestDb, filter: &str, format: Format) -> (u64, Vec<u8>) {
    let filter = Filter::parse(ListKind::AuditLog, filter).unwrap();
    let mut out = Vec::new();
    let mut seen = Vec::new();
    let rows = export_audit(&db.pool, &filter, format, &mut out, &mut |n| seen.push(n))
        .await
        .unwrap();
    assert_eq!(
        seen.last(),
        Some(&rows),
        "the last progress call says the total"
    );
    (rows, out)
}

async fn seeded() -> TestDb {
    let db = TestDb::migrated().await;
    demo::seed_demo(&db.pool, Utc::now()).await.unwrap();
    // A hostile entry: cells a spreadsheet would run.
    sqlx::query(
        "INSERT INTO audit_logs (action, resource_type, user_agent, new_values) \
         VALUES ('=cmd|'' /C calc''!A0', 'user', '+SUM(1,2)', '{\"note\": \"@evil\"}')",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    db
}

#[tokio::test]
async fn csv_has_every_selected_row_oldest_first_with_formulas_defused() {
    let db = seeded().await;
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_logs")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    let (rows, bytes) = export(&db, "", Format::Csv).await;
    assert_eq!(rows as i64, total);
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        COLUMNS
    );
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(records.len() as i64, total);
    let times: Vec<&str> = records.iter().map(|r| &r[0]).collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted, "oldest first");
    let hostile = records
        .iter()
        .find(|r| r[3].contains("cmd|"))
        .expect("the hostile row");
    assert_eq!(&hostile[3], "'=cmd|' /C calc'!A0");
    assert_eq!(&hostile[9], "'+SUM(1,2)");
    // JSON cells start with { and stay as they are.
    assert_eq!(&hostile[7], r#"{"note":"@evil"}"#);
    // No cell of any row starts with a formula character.
    for r in &records {
        for cell in r.iter() {
            assert!(!cell.starts_with(['=', '+', '-', '@']), "{cell} in {r:?}");
        }
    }
}

#[tokio::test]
async fn filters_are_the_panes_and_jsonl_parses_line_by_line() {
    let db = seeded().await;
    let want: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_logs a JOIN users u ON u.id = a.user_id \
         WHERE u.email = 'support@demo.test' AND a.action LIKE 'credits.%'",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert!(want > 0);
    let (rows, bytes) = export(
        &db,
        "actor:support@demo.test action:credits.",
        Format::Jsonl,
    )
    .await;
    assert_eq!(rows as i64, want);
    let text = String::from_utf8(bytes).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len() as i64, want);
    for l in &lines {
        assert_eq!(l["actor_email"], "support@demo.test");
        assert!(l["action"].as_str().unwrap().starts_with("credits."));
        assert!(l["new_values"]["reason"].is_string(), "{l}");
    }
    // A range with nothing in it: the header only.
    let (rows, bytes) = export(&db, "since:2001-01-01 until:2001-01-02", Format::Csv).await;
    assert_eq!(rows, 0);
    assert_eq!(String::from_utf8(bytes).unwrap().lines().count(), 1);
}

#[tokio::test]
async fn a_file_appears_whole_or_not_at_all() {
    let db = seeded().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.csv");
    let filter = Filter::default();
    let rows = export_to_file(&db.pool, &filter, Format::Csv, &path, false, &mut |_| {})
        .await
        .unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        csv::Reader::from_reader(text.as_bytes()).records().count() as u64,
        rows
    );
    // It exists now: refused unless replacing.
    let e = export_to_file(&db.pool, &filter, Format::Csv, &path, false, &mut |_| {})
        .await
        .unwrap_err();
    assert!(e.to_string().contains("exists"), "{e}");
    export_to_file(&db.pool, &filter, Format::Csv, &path, true, &mut |_| {})
        .await
        .unwrap();
    // A database failure midway leaves neither the file nor a partial one.
    let gone = dir.path().join("never.csv");
    sqlx::query("ALTER TABLE audit_logs RENAME TO audit_logs_moved")
        .execute(&db.pool)
        .await
        .unwrap();
    let e = export_to_file(&db.pool, &filter, Format::Csv, &gone, false, &mut |_| {})
        .await
        .unwrap_err();
    assert!(matches!(e, ExportError::Db(_)), "{e}");
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["audit.csv".to_string()]);
}

/// `--force` replaces a regular file only: a FIFO, a symbolic link (and what it points to) and
/// a directory stay as they are.
#[tokio::test]
async fn replacing_never_touches_what_is_not_a_regular_file() {
    let db = seeded().await;
    let dir = tempfile::tempdir().unwrap();
    let all = Filter::default();
    let fifo = dir.path().join("fifo.csv");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
    let precious = dir.path().join("precious.txt");
    std::fs::write(&precious, "keep me").unwrap();
    let link = dir.path().join("link.csv");
    std::os::unix::fs::symlink(&precious, &link).unwrap();
    let sub = dir.path().join("sub.csv");
    std::fs::create_dir(&sub).unwrap();
    for target in [&fifo, &link, &sub] {
        let e = export_to_file(&db.pool, &all, Format::Csv, target, true, &mut |_| {})
            .await
            .unwrap_err();
        assert!(
            e.to_string().contains("not a regular file"),
            "{}: {e}",
            target.display()
        );
    }
    let kinds = |p: &std::path::Path| std::fs::symlink_metadata(p).unwrap().file_type();
    assert!(std::os::unix::fs::FileTypeExt::is_fifo(&kinds(&fifo)));
    assert!(kinds(&link).is_symlink());
    assert!(kinds(&sub).is_dir());
    assert_eq!(std::fs::read_to_string(&precious).unwrap(), "keep me");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// A `.partial` left by an export that died is taken over; one that another export is writing
/// (it holds the lock) is named, and left alone.
#[tokio::test]
async fn a_stale_partial_is_taken_over_and_a_live_one_is_named() {
    let db = seeded().await;
    let dir = tempfile::tempdir().unwrap();
    let all = Filter::default();
    let path = dir.path().join("audit.csv");
    let partial = dir.path().join("audit.csv.partial");
    std::fs::write(&partial, "half an export from a process that was killed").unwrap();
    let rows = export_to_file(&db.pool, &all, Format::Csv, &path, false, &mut |_| {})
        .await
        .unwrap();
    assert!(rows > 0);
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .starts_with("created_at,")
    );
    assert!(!partial.exists());

    let other = dir.path().join("other.csv");
    let other_partial = dir.path().join("other.csv.partial");
    let held = std::fs::File::create(&other_partial).unwrap();
    let held = nix::fcntl::Flock::lock(held, nix::fcntl::FlockArg::LockExclusiveNonblock)
        .map_err(|(_, e)| e)
        .unwrap();
    let e = export_to_file(&db.pool, &all, Format::Csv, &other, false, &mut |_| {})
        .await
        .unwrap_err();
    assert!(e.to_string().contains("another export is writing"), "{e}");
    assert!(e.to_string().contains("other.csv.partial"), "{e}");
    assert!(other_partial.exists(), "the live partial is left alone");
    assert!(!other.exists());
    drop(held);
}

/// The `change` column says each entry as a sentence, ids by name; the stored columns before it
/// are unchanged (still ids).
#[tokio::test]
async fn the_change_column_names_what_the_ids_stand_for() {
    let db = seeded().await;
    let (number, email): (String, String) = sqlx::query_as(
        "SELECT p.phone_number, u.email FROM audit_logs a \
         JOIN phone_numbers p ON p.id = a.resource_id \
         JOIN users u ON u.id = (a.new_values->>'assigned_to_user_id')::uuid \
         WHERE a.action = 'phone_number.assign' ORDER BY a.created_at, a.id LIMIT 1",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    let (_, bytes) = export(&db, "action:phone_number.assign", Format::Csv).await;
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    let change = COLUMNS.iter().position(|c| *c == "change").unwrap();
    let new = COLUMNS.iter().position(|c| *c == "new_values").unwrap();
    let first = reader.records().next().unwrap().unwrap();
    assert_eq!(
        &first[change],
        format!("'{number}: assigned to none → {email}")
    );
    assert!(first[new].contains("assigned_to_user_id"), "{first:?}");
    let (_, bytes) = export(&db, "action:phone_number.assign", Format::Jsonl).await;
    let line: Value = serde_json::from_slice(bytes.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert_eq!(
        line["change"],
        format!("{number}: assigned to none → {email}")
    );
}

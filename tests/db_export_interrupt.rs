//! An export stopped by the process ending (a signal, the console quitting) still records where
//! it stopped. A test binary of its own: the stop request is process-wide.

mod common;

use common::TestDb;
use common::actions::{ctx, fixture, session};
use switchboard::actions::export::{Destination, ExportFailure, ExportRequest, export};
use switchboard::db::export::{ExportError, Format, running_exports, stop_exports};
use switchboard::db::lists::Filter;

/// A writer that asks exports to stop once it has taken `after` lines: a signal arriving while
/// the rows flow.
struct StopsAfter {
    after: usize,
    lines: usize,
    out: Vec<u8>,
}

impl std::io::Write for StopsAfter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.lines += buf.iter().filter(|b| **b == b'\n').count();
        if self.lines >= self.after {
            stop_exports();
        }
        self.out.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn an_interrupted_export_records_where_it_stopped() {
    let db = TestDb::migrated().await;
    let f = fixture(&db.pool).await;
    sqlx::query(
        "INSERT INTO audit_logs (action, resource_type, new_values) \
         SELECT 'bulk.row', 'test', jsonb_build_object('n', n) FROM generate_series(1, 5000) n",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let mut out = StopsAfter {
        after: 10,
        lines: 0,
        out: Vec::new(),
    };
    let request = ExportRequest {
        filter: Filter::default(),
        filter_text: String::new(),
        format: Format::Jsonl,
    };
    let mut s = session(&f.admin);
    s.ctx = ctx();
    let result = export(
        &db.pool,
        &db.pool,
        &s,
        &request,
        Destination::Stream(&mut out),
        &mut |_| {},
    )
    .await;
    assert!(
        matches!(result, Err(ExportFailure::Export(ExportError::Interrupted))),
        "{result:?}"
    );
    assert_eq!(running_exports(), 0, "done, end recorded");
    let (completed, stopped_by, read): (bool, String, i64) = sqlx::query_as(
        "SELECT (new_values->>'completed')::bool, new_values->>'stopped_by', \
                (new_values->>'rows_read')::bigint \
         FROM audit_logs WHERE action = 'audit.export_end'",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert!(!completed);
    assert!(stopped_by.contains("interrupted"), "{stopped_by}");
    assert!(read < 5000, "{read}");
}

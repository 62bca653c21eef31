//! The console without a database: state transitions (paging window, stale answers, debounced
//! filters) and TestBackend snapshots of every pane in every state at 80×24 and 160×48.

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde_json::json;
use switchboard::actions::sign_in::{Credentials, SignInError};
use switchboard::actions::targets::{AgentState, Target, TenantState, UserState};
use switchboard::actions::{ActionError, Actor, Request, Role};
use switchboard::console::app::{App, Status};
use switchboard::console::forms::Dialog;
use switchboard::console::messages::{Job, Msg, ReadJob, SignInStart, WriteJob};
use switchboard::console::pane::{PAGE_ROWS, WINDOW_ROWS};
use switchboard::db::details::{Detail, Section};
use switchboard::db::lists::{Cell, KeyValue, ListKind, ListRow, RowCount, RowFigures};
use switchboard::ui::{self, Fmt, columns};
use uuid::Uuid;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap()
}

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn app(width: u16, height: u16) -> App {
    let mut app = App::new(
        Status {
            database: "switchboard on socket /home/ops/.local/share/switchboard/pg/run as postgres"
                .into(),
            signed_in_as: None,
            read_only: false,
            error: None,
            info: None,
        },
        width,
        height,
        now(),
    );
    app.color = false;
    app
}

/// Row `i` of a pane, with cells of the right types. Row 2 carries hostile text.
fn row(kind: ListKind, i: usize) -> ListRow {
    let id = Uuid::from_u128(0x1000 + i as u128);
    let cells = columns(kind)
        .iter()
        .enumerate()
        .map(|(c, col)| match col.fmt {
            Fmt::Text if c == 0 && i == 2 => Cell::Text(
                "evil\x1b[2J\u{202e}name 漢字漢字 with a very long tail that never ends".into(),
            ),
            Fmt::Text => Cell::Text(format!("{} {i}", col.title.to_lowercase())),
            Fmt::Number => Cell::Int((i as i64 * 1237) % 100_000),
            Fmt::YesNo => Cell::Bool(!i.is_multiple_of(3)),
            Fmt::Minute | Fmt::Second => {
                Cell::Time(now() - chrono::Duration::minutes(i as i64 * 97))
            }
            Fmt::Percent => Cell::Float(100.0 * (i % 7) as f64 / 7.0),
            Fmt::Days => {
                if i.is_multiple_of(4) {
                    Cell::Null
                } else {
                    Cell::Float(i as f64 * 1.5)
                }
            }
            Fmt::ShortId => Cell::Id(id),
        })
        .collect();
    ListRow {
        id,
        key: vec![KeyValue::Int(i as i64), KeyValue::Id(id)],
        cells,
    }
}

fn rows(kind: ListKind, range: std::ops::Range<usize>) -> Vec<ListRow> {
    range.map(|i| row(kind, i)).collect()
}

/// Finds the request id of the outstanding page fetch in `cmds`.
fn page_req(cmds: &[Job]) -> u64 {
    cmds.iter()
        .find_map(|c| match c {
            Job::Read(ReadJob::Page { req, .. }) => Some(*req),
            _ => None,
        })
        .expect("a page fetch")
}

fn count_req(cmds: &[Job]) -> Option<u64> {
    cmds.iter().find_map(|c| match c {
        Job::Read(ReadJob::Count { req, .. }) => Some(*req),
        _ => None,
    })
}

/// An app showing pane `tab`, loaded with `n` rows.
fn loaded(tab: usize, n: usize, width: u16, height: u16) -> App {
    let mut app = app(width, height);
    let mut cmds = app.start();
    if tab != 0 {
        cmds = app.update(key(KeyCode::Char(char::from(b'1' + tab as u8))));
    }
    let kind = ListKind::ALL[tab];
    app.update(Msg::Page {
        req: page_req(&cmds),
        result: Ok(rows(kind, 0..n)),
    });
    if let Some(req) = count_req(&cmds) {
        app.update(Msg::Count {
            req,
            result: Ok(RowCount::Exact(n as i64)),
        });
    }
    app
}

fn detail_of(kind: ListKind) -> Detail {
    let id = Uuid::from_u128(0x1000);
    let mut sections = vec![Section::Table {
        title: "Audit history (newest 20; h for all)".into(),
        header: vec!["time", "actor", "action"],
        rows: vec![vec![
            Cell::Time(now()),
            Cell::Text("support@demo.test".into()),
            Cell::Text("credits.top_up".into()),
        ]],
    }];
    let mut jump = None;
    match kind {
        ListKind::Agents => sections.insert(
            0,
            Section::Json {
                title: "LLM config".into(),
                value: json!({"provider": "openai", "model": "gpt-4o-mini", "temperature": 0.3,
                          "system_prompt": "Be brief.\u{1b}[31m"}),
            },
        ),
        ListKind::Tenants | ListKind::Credits => sections.insert(
            0,
            Section::Series {
                title: "Per day, last 30 days".into(),
                first_day: now().date_naive() - chrono::Duration::days(29),
                values: (0..30).map(|d| (d * 7 % 11) as u64).collect(),
            },
        ),
        ListKind::AuditLog => {
            sections = vec![Section::Diff {
                old: Some(json!({"credits": 40, "note": "same"})),
                new: Some(json!({"credits": 540, "note": "same", "reason": "refund #123"})),
            }];
            jump = Some((ListKind::Users, id));
        }
        _ => {}
    }
    Detail {
        kind,
        id,
        title: format!("{} record", kind.title()),
        fields: vec![
            ("id", Cell::Id(id)),
            ("name", Cell::Text("Acme Realty Group".into())),
            ("active", Cell::Bool(true)),
            ("created", Cell::Time(now())),
            ("credits", Cell::Int(12_500)),
        ],
        sections,
        jump,
    }
}

fn draw(app: &App) -> TestBackend {
    let mut terminal = Terminal::new(TestBackend::new(app.width, app.height)).unwrap();
    terminal.draw(|f| ui::render(app, f)).unwrap();
    terminal.backend().clone()
}

/// The drawn screen's rows as text.
fn screen_rows(backend: &TestBackend) -> Vec<String> {
    let width = usize::from(backend.buffer().area.width);
    backend
        .buffer()
        .content()
        .chunks(width)
        .map(|r| r.iter().map(|c| c.symbol()).collect::<String>())
        .collect()
}

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];

fn snapshot_each(state: &str, make: impl Fn(usize, u16, u16) -> App) {
    for (tab, kind) in ListKind::ALL.iter().enumerate() {
        for (w, h) in SIZES {
            let app = make(tab, w, h);
            let name = format!(
                "{state}_{}_{w}x{h}",
                kind.title().to_lowercase().replace(' ', "_")
            );
            insta::assert_snapshot!(name, draw(&app));
        }
    }
}

#[test]
fn snapshots_loaded() {
    snapshot_each("loaded", |tab, w, h| loaded(tab, 60, w, h));
}

#[test]
fn snapshots_empty() {
    snapshot_each("empty", |tab, w, h| loaded(tab, 0, w, h));
}

#[test]
fn snapshots_loading() {
    snapshot_each("loading", |tab, w, h| {
        let mut app = app(w, h);
        app.start();
        if tab != 0 {
            app.update(key(KeyCode::Char(char::from(b'1' + tab as u8))));
        }
        app
    });
}

#[test]
fn snapshots_error() {
    snapshot_each("error", |tab, w, h| {
        let mut app = app(w, h);
        let mut cmds = app.start();
        if tab != 0 {
            cmds = app.update(key(KeyCode::Char(char::from(b'1' + tab as u8))));
        }
        app.update(Msg::Page {
            req: page_req(&cmds),
            result: Err("database connection lost: Connection refused (os error 111)".into()),
        });
        if let Some(req) = count_req(&cmds) {
            app.update(Msg::Count {
                req,
                result: Err("database connection lost".into()),
            });
        }
        app
    });
}

#[test]
fn snapshots_help() {
    snapshot_each("help", |tab, w, h| {
        let mut app = loaded(tab, 30, w, h);
        app.update(key(KeyCode::Char('?')));
        app
    });
}

#[test]
fn snapshots_detail() {
    snapshot_each("detail", |tab, w, h| {
        let mut app = loaded(tab, 30, w, h);
        let cmds = app.update(key(KeyCode::Enter));
        let req = cmds
            .iter()
            .find_map(|c| match c {
                Job::Read(ReadJob::Detail { req, .. }) => Some(*req),
                _ => None,
            })
            .unwrap();
        app.update(Msg::Detail {
            req,
            result: Ok(detail_of(ListKind::ALL[tab])),
        });
        app
    });
}

#[test]
fn snapshot_filter_typing_and_read_only() {
    let mut app = loaded(1, 10, 80, 24);
    app.status.read_only = true;
    app.update(key(KeyCode::Char('/')));
    for c in "role:admin acme".chars() {
        app.update(key(KeyCode::Char(c)));
    }
    insta::assert_snapshot!("filter_typing_users_80x24", draw(&app));
}

#[test]
fn hostile_text_never_reaches_the_terminal_raw() {
    let app = loaded(1, 10, 80, 24);
    let backend = draw(&app);
    let screen: String = backend
        .buffer()
        .content()
        .iter()
        .map(|c| c.symbol())
        .collect();
    assert!(!screen.contains('\x1b'));
    assert!(!screen.contains('\u{202e}'));
    assert!(screen.contains("\\x1b"));
}

#[test]
fn paging_down_forever_holds_a_bounded_window() {
    let mut app = loaded(5, PAGE_ROWS as usize, 80, 24);
    let mut next = PAGE_ROWS as usize;
    for _ in 0..50 {
        let cmds = app.update(key(KeyCode::PageDown));
        if let Some(Job::Read(ReadJob::Page { req, page, .. })) = cmds
            .iter()
            .find(|c| matches!(c, Job::Read(ReadJob::Page { .. })))
        {
            assert!(
                matches!(page, switchboard::db::lists::Page::After(_)),
                "{page:?}"
            );
            let batch = rows(ListKind::AuditLog, next..next + PAGE_ROWS as usize);
            next += PAGE_ROWS as usize;
            app.update(Msg::Page {
                req: *req,
                result: Ok(batch),
            });
        }
        assert!(
            app.pane().rows.len() <= WINDOW_ROWS,
            "{}",
            app.pane().rows.len()
        );
    }
    // The selection moved through far more rows than the window holds.
    let position = app.pane().position().unwrap();
    assert!(position > 900, "{position}");
    assert_eq!(
        app.pane().selected_row().unwrap().id,
        row(ListKind::AuditLog, position - 1).id
    );
}

#[test]
fn stale_answers_are_dropped() {
    let mut app = app(80, 24);
    let first = app.start();
    // The user filters before the first page arrives: the first answer is stale.
    app.update(key(KeyCode::Char('/')));
    app.update(key(KeyCode::Char('x')));
    let second = app.update(key(KeyCode::Enter));
    app.update(Msg::Page {
        req: page_req(&first),
        result: Ok(rows(ListKind::Tenants, 0..5)),
    });
    assert!(app.pane().rows.is_empty(), "a stale answer was applied");
    app.update(Msg::Page {
        req: page_req(&second),
        result: Ok(rows(ListKind::Tenants, 0..2)),
    });
    assert_eq!(app.pane().rows.len(), 2);
}

#[test]
fn filtering_waits_for_a_pause_in_typing() {
    let mut app = loaded(1, 10, 80, 24);
    app.update(key(KeyCode::Char('/')));
    assert!(app.update(key(KeyCode::Char('a'))).is_empty());
    let soon = app.update(Msg::Tick {
        now: Instant::now(),
        wall: now(),
    });
    assert!(soon.is_empty(), "fetched before the debounce");
    let later = app.update(Msg::Tick {
        now: Instant::now() + Duration::from_millis(400),
        wall: now(),
    });
    assert!(
        matches!(later.first(), Some(Job::Read(ReadJob::Page { .. }))),
        "{later:?}"
    );
    // A malformed filter says why and fetches nothing.
    app.update(key(KeyCode::Char(' ')));
    for c in "is:purple".chars() {
        app.update(key(KeyCode::Char(c)));
    }
    let cmds = app.update(key(KeyCode::Enter));
    assert!(cmds.is_empty());
    assert!(
        app.pane()
            .filter_error
            .as_deref()
            .unwrap_or("")
            .contains("is:purple")
    );
}

/// An invalid filter empties the list: no row or count of the previous filter passes for an
/// answer, answers still on their way are dropped, and fixing the filter loads it again.
#[test]
fn an_invalid_filter_shows_no_stale_rows() {
    let mut app = loaded(5, 30, 80, 24);
    app.update(key(KeyCode::Char('/')));
    typed(&mut app, "since:2026-11-01");
    let cmds = app.update(key(KeyCode::Enter));
    let req = page_req(&cmds);
    app.update(key(KeyCode::Char('/')));
    for _ in 0.."11-01".len() {
        app.update(key(KeyCode::Backspace));
    }
    typed(&mut app, "13-01");
    assert_eq!(app.pane().filter_input.value(), "since:2026-13-01");
    // The typed day is no date: nothing is fetched, the list empties.
    assert!(app.update(key(KeyCode::Enter)).is_empty());
    assert!(app.pane().rows.is_empty() && app.pane().count.is_none());
    // The answer to the previous filter, arriving late, is dropped.
    app.update(Msg::Page {
        req,
        result: Ok(rows(ListKind::AuditLog, 0..30)),
    });
    assert!(app.pane().rows.is_empty());
    insta::assert_snapshot!("invalid_filter_80x24", draw(&app));
    // Fixed, it loads again.
    app.update(key(KeyCode::Char('/')));
    for _ in 0.."13-01".len() {
        app.update(key(KeyCode::Backspace));
    }
    let cmds = typed_then_enter(&mut app, "12-01");
    assert!(
        matches!(cmds.first(), Some(Job::Read(ReadJob::Page { .. }))),
        "{cmds:?}"
    );
}

fn typed_then_enter(app: &mut App, text: &str) -> Vec<Job> {
    typed(app, text);
    app.update(key(KeyCode::Enter))
}

/// `G` on a long audit log, then `r`: the screen is full of rows from the end both times, never
/// one row at the top of a screen of blanks; a shrinking result and a resize fill it too.
#[test]
fn the_end_of_the_list_fills_the_screen_after_g_r_and_a_resize() {
    let mut app = loaded(5, PAGE_ROWS as usize, 80, 24);
    let visible = app.list_rows();
    let full = |app: &App| {
        let p = app.pane();
        assert_eq!(
            p.offset + visible,
            p.rows.len(),
            "offset {} of {} rows",
            p.offset,
            p.rows.len()
        );
        assert_eq!(p.selected, p.rows.len() - 1);
    };
    let last_page = |app: &mut App, cmds: &[Job]| {
        assert!(
            cmds.iter().any(|c| matches!(
                c,
                Job::Read(ReadJob::Page {
                    page: switchboard::db::lists::Page::Last,
                    ..
                })
            )),
            "{cmds:?}"
        );
        app.update(Msg::Page {
            req: page_req(cmds),
            result: Ok(rows(ListKind::AuditLog, 294..394)),
        });
    };
    let cmds = app.update(key(KeyCode::Char('G')));
    last_page(&mut app, &cmds);
    full(&app);
    let screen = draw(&app);
    insta::assert_snapshot!("audit_log_after_g_80x24", screen);
    let cmds = app.update(key(KeyCode::Char('r')));
    last_page(&mut app, &cmds);
    full(&app);
    // The reload at the end counts again; the count, coming after the page, places its rows.
    let count = count_req(&cmds).expect("r at the end counts the rows again");
    app.update(Msg::Count {
        req: count,
        result: Ok(RowCount::Exact(394)),
    });
    assert_eq!(app.pane().position(), Some(394));
    app.update(Msg::Resize(80, 40));
    let p = app.pane();
    assert_eq!(p.offset + app.list_rows(), p.rows.len());
}

#[test]
fn esc_cancels_a_slow_query_and_keys_keep_working() {
    let mut app = app(80, 24);
    app.start();
    assert!(app.is_loading());
    let cmds = app.update(key(KeyCode::Esc));
    assert_eq!(
        cmds,
        [Job::Cancel {
            pane: ListKind::Tenants
        }]
    );
    // Switching panes still works while nothing is loaded.
    let cmds = app.update(key(KeyCode::Char('6')));
    assert!(matches!(
        cmds.first(),
        Some(Job::Read(ReadJob::Page { .. }))
    ));
    assert_eq!(app.tab, 5);
}

#[test]
fn h_opens_the_audit_history_of_a_record() {
    let mut app = loaded(3, 10, 80, 24);
    let cmds = app.update(key(KeyCode::Char('h')));
    assert_eq!(app.tab, 5);
    let expected = row(ListKind::Agents, 0).id;
    match cmds.first() {
        Some(Job::Read(ReadJob::Page { filter, .. })) => {
            assert_eq!(filter.words, [("id".to_string(), expected.to_string())]);
        }
        other => panic!("{other:?}"),
    }
}

fn detail_answer(app: &mut App, cmds: &[Job], kind: ListKind) {
    let req = cmds
        .iter()
        .find_map(|c| match c {
            Job::Read(ReadJob::Detail { req, .. }) => Some(*req),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no Detail in {cmds:?}"));
    app.update(Msg::Detail {
        req,
        result: Ok(detail_of(kind)),
    });
}

/// Esc goes back along jumps: `h` on a user, then Esc, is the Users pane with the same row
/// selected; Enter on an audit entry goes to its record, and Esc comes back to the entry. The
/// audit pane gets its own filter back. Switching panes by hand forgets the way back, and the
/// footer offers Esc only where it does something.
#[test]
fn esc_returns_along_h_and_along_a_jump_from_an_audit_entry() {
    let mut app = loaded(1, 30, 80, 24);
    let footer = |app: &App| {
        let text: String = draw(app)
            .buffer()
            .content()
            .iter()
            .rev()
            .take(80)
            .map(|c| c.symbol().to_string())
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        text
    };
    assert!(!footer(&app).contains("Esc"), "{}", footer(&app));
    app.update(key(KeyCode::Char('j')));
    app.update(key(KeyCode::Char('j')));
    let user = app.pane().selected_row().unwrap().id;
    let cmds = app.update(key(KeyCode::Char('h')));
    assert_eq!(app.tab, 5);
    app.update(Msg::Page {
        req: page_req(&cmds),
        result: Ok(rows(ListKind::AuditLog, 0..3)),
    });
    assert!(footer(&app).contains("Esc back"), "{}", footer(&app));
    // An entry opened in the history closes first: Esc goes back one step at a time.
    let cmds = app.update(key(KeyCode::Enter));
    detail_answer(&mut app, &cmds, ListKind::AuditLog);
    app.update(key(KeyCode::Esc));
    assert_eq!(app.tab, 5, "Esc from the entry skipped the history");
    assert!(app.pane().detail.is_none(), "the entry is still open");
    assert_eq!(app.pane().filter_input.value(), format!("id:{user}"));
    let cmds = app.update(key(KeyCode::Esc));
    assert_eq!(app.tab, 1, "Esc did not go back to Users");
    assert_eq!(app.pane().selected_row().unwrap().id, user);
    // The audit pane's filter is its own again (empty), reloaded.
    assert_eq!(app.panes[5].filter_input.value(), "");
    assert!(
        cmds.iter().any(|c| matches!(
            c,
            Job::Read(ReadJob::Page {
                kind: ListKind::AuditLog,
                ..
            })
        )),
        "{cmds:?}"
    );

    // From an audit entry to its record, and back to the entry.
    app.update(key(KeyCode::Char('6')));
    let cmds = app.update(key(KeyCode::Enter));
    detail_answer(&mut app, &cmds, ListKind::AuditLog);
    let cmds = app.update(key(KeyCode::Enter));
    assert_eq!(app.tab, 1, "Enter did not go to the record");
    detail_answer(&mut app, &cmds, ListKind::Users);
    let cmds = app.update(key(KeyCode::Esc));
    assert_eq!(app.tab, 5, "Esc did not come back to the audit log");
    assert!(app.pane().detail.is_some(), "the entry is not open again");
    detail_answer(&mut app, &cmds, ListKind::AuditLog);
    // Nothing more to go back to: Esc closes the entry as in any pane.
    app.update(key(KeyCode::Esc));
    assert_eq!(app.tab, 5);
    assert!(app.pane().detail.is_none());

    // A hand-made pane switch forgets the way back.
    app.update(key(KeyCode::Char('2')));
    app.update(key(KeyCode::Char('h')));
    app.update(key(KeyCode::Char('3')));
    app.update(key(KeyCode::Char('6')));
    app.update(key(KeyCode::Esc));
    assert_eq!(app.tab, 5);
}

/// A refusal longer than the screen is wide: the status line shows what fits, and `M` shows the
/// session's messages whole, wrapped, newest first.
#[test]
fn a_long_refusal_can_be_read_in_full_with_m() {
    let long = format!(
        "refused: {} (this sentence is long on purpose, to be read whole at the end)",
        (1..=30)
            .map(|i| format!("reason{i}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    assert!(long.len() > 250);
    let mut app = loaded(2, 30, 80, 24);
    app.signed_in(actor(Role::Admin), false);
    let req = top_up_applying(&mut app, "50", "goodwill");
    app.update(Msg::Applied {
        req,
        result: Err(ActionError::Forbidden(long.clone())),
    });
    app.update(key(KeyCode::Char('M')));
    let screen = draw(&app);
    insta::assert_snapshot!("messages_80x24", screen);
    let text: String = screen
        .buffer()
        .content()
        .iter()
        .map(|c| c.symbol())
        .collect();
    for word in long.split(' ') {
        assert!(text.contains(word), "`{word}` is not in the messages");
    }
    app.update(key(KeyCode::Esc));
    assert!(!app.log_open);
}

/// Keys typed while a form is still opening (its target being read) go into the form when it
/// opens, not to the list under it; a `y` typed before a confirm dialog was seen applies
/// nothing; Esc gives the opening up.
#[test]
fn keys_typed_while_a_form_opens_go_into_the_form_and_never_to_the_list() {
    let mut app = loaded(3, 10, 80, 24);
    app.signed_in(actor(Role::SuperAdmin), false);
    let cmds = app.update(key(KeyCode::Char('D')));
    for c in "jjjq new words".chars() {
        assert!(app.update(key(KeyCode::Char(c))).is_empty());
    }
    assert_eq!(
        app.pane().selected,
        0,
        "the list moved under the opening form"
    );
    assert!(!app.quit, "q typed ahead quit the console");
    prepared(
        &mut app,
        &cmds,
        Some(Target::Agent(AgentState {
            id: Uuid::from_u128(9),
            name: "After-hours Line".into(),
            description: Some("Takes messages.".into()),
            is_active: true,
        })),
    );
    let Some(Dialog::Form(f)) = &app.dialog else {
        panic!("no form: {:?}", app.dialog)
    };
    assert_eq!(f.fields[0].input.value(), "jjjq new words");

    // A toggle goes straight to its confirm dialog: what was typed ahead is dropped.
    app.update(key(KeyCode::Esc));
    let mut app = loaded(0, 10, 80, 24);
    app.signed_in(actor(Role::SuperAdmin), false);
    let cmds = app.update(key(KeyCode::Char('a')));
    app.update(key(KeyCode::Char('y')));
    let jobs = prepared(
        &mut app,
        &cmds,
        Some(Target::Tenant(TenantState {
            id: Uuid::from_u128(7),
            name: "Acme Realty Group".into(),
            plan: "pro".into(),
            is_active: true,
        })),
    );
    let Some(Dialog::Confirm(c)) = &app.dialog else {
        panic!("no confirm dialog: {:?}", app.dialog)
    };
    assert!(
        !c.confirmed,
        "the y typed ahead was taken by the confirm dialog"
    );
    // The check lets it: still nothing is applied until a y comes now.
    let after = checked(&mut app, &jobs, Ok(()));
    assert!(
        !after
            .iter()
            .any(|j| matches!(j, Job::Write(WriteJob::Apply { .. }))),
        "{after:?}"
    );
    assert!(matches!(app.dialog, Some(Dialog::Confirm(_))));

    // Esc while it opens: given up, and its answer is dropped.
    let mut app = loaded(3, 10, 80, 24);
    app.signed_in(actor(Role::SuperAdmin), false);
    let cmds = app.update(key(KeyCode::Char('D')));
    app.update(key(KeyCode::Esc));
    prepared(&mut app, &cmds, None);
    assert!(app.dialog.is_none());
}

/// The newest message replaces an older one on the status line: a cancel after a refusal is not
/// shown beside the stale refusal (both stay in `M`).
#[test]
fn a_new_outcome_replaces_a_stale_refusal_on_the_status_line() {
    let mut app = loaded(2, 30, 80, 24);
    app.signed_in(actor(Role::Admin), false);
    let req = top_up_applying(&mut app, "50", "goodwill");
    app.update(Msg::Applied {
        req,
        result: Err(ActionError::Forbidden("not today".into())),
    });
    assert_eq!(app.status.error.as_deref(), Some("refused: not today"));
    let cmds = app.update(key(KeyCode::Char('+')));
    prepared(&mut app, &cmds, Some(user_target()));
    app.update(key(KeyCode::Esc));
    assert_eq!(
        app.status.error, None,
        "the refusal stayed beside the cancel"
    );
    assert!(
        app.status.info.as_deref().unwrap().starts_with("cancelled"),
        "{:?}",
        app.status.info
    );
    let kept: Vec<&str> = app.log.iter().map(|n| n.text.as_str()).collect();
    assert!(kept.contains(&"refused: not today"), "{kept:?}");
    // A message the status line cuts: the footer offers M first, to read it whole.
    let rows = screen_rows(&draw(&app));
    let footer = rows.last().unwrap();
    assert!(rows[rows.len() - 2].contains('…'), "{rows:?}");
    assert!(footer.contains("M whole message"), "{footer}");
}

/// The help scrolls (the list underneath stays put), wraps at 80 columns, and reaches the keys
/// of forms (Ctrl-U) and confirm dialogs.
#[test]
fn the_help_scrolls_to_every_key_and_leaves_the_list_alone() {
    let mut app = loaded(1, 30, 80, 24);
    app.update(key(KeyCode::Char('?')));
    let selected = app.pane().selected;
    let help_rows = |app: &App| -> Vec<String> {
        screen_rows(&draw(app))
            .into_iter()
            .filter(|r| r.starts_with('│'))
            .collect()
    };
    let mut seen = help_rows(&app);
    for _ in 0..3 {
        app.update(key(KeyCode::PageDown));
        seen.extend(help_rows(&app));
    }
    app.update(key(KeyCode::Char('j')));
    assert_eq!(
        app.pane().selected,
        selected,
        "the list moved under the help"
    );
    assert!(seen.iter().any(|r| r.contains("Ctrl-U")), "{seen:#?}");
    assert!(seen.iter().any(|r| r.contains("n/Esc/Enter")), "{seen:#?}");
    assert!(
        seen.iter().all(|r| !r.contains('…')),
        "a help line was cut: {seen:#?}"
    );
    insta::assert_snapshot!("help_scrolled_80x24", draw(&app));
    // Scrolling stops at the end: many keys past it, one `k` moves the view at once (the
    // front end tells the state where the end is after drawing).
    app.scroll_limits = ui::scroll_limits(&app);
    for _ in 0..50 {
        app.update(key(KeyCode::Char('j')));
    }
    let at_end = app.help_scroll;
    assert!(at_end > 0);
    app.update(key(KeyCode::Char('k')));
    assert_eq!(app.help_scroll, at_end - 1);
    let last_rows = help_rows(&app);
    app.update(key(KeyCode::Char('j')));
    app.update(key(KeyCode::Char('j')));
    assert_ne!(help_rows(&app), last_rows, "the last line comes into view");
    app.update(key(KeyCode::Esc));
    assert!(!app.help);
}

/// A read-only session's footer offers no action (each would be refused), and the help says why.
#[test]
fn a_read_only_session_offers_no_actions() {
    let mut app = loaded(2, 30, 80, 24);
    app.status.read_only = true;
    app.signed_in(actor(Role::SuperAdmin), false);
    let rows = |app: &App| -> Vec<String> { screen_rows(&draw(app)) };
    let footer = rows(&app).last().cloned().unwrap();
    assert!(!footer.contains("top up"), "{footer}");
    app.update(key(KeyCode::Char('?')));
    for _ in 0..3 {
        app.update(key(KeyCode::PageDown));
    }
    let help = rows(&app).join("\n");
    assert!(help.contains("(not in a read-only session)"), "{help}");
}

#[test]
fn quit_keys() {
    let mut app = app(80, 24);
    app.update(key(KeyCode::Char('q')));
    assert!(app.quit);
    let mut app = loaded(0, 3, 80, 24);
    app.update(key(KeyCode::Char('/')));
    app.update(Msg::Key(KeyEvent::new(
        KeyCode::Char('c'),
        KeyModifiers::CONTROL,
    )));
    assert!(app.quit, "Ctrl-C quits even while typing a filter");
}

#[test]
fn a_failed_fetch_is_retried_until_the_database_is_back() {
    let mut app = app(80, 24);
    let cmds = app.start();
    app.update(Msg::Page {
        req: page_req(&cmds),
        result: Err("database connection lost: refused".into()),
    });
    assert!(
        app.status
            .error
            .as_deref()
            .unwrap()
            .contains("connection lost")
    );
    let soon = app.update(Msg::Tick {
        now: Instant::now(),
        wall: now(),
    });
    assert!(soon.is_empty(), "retried at once: {soon:?}");
    let later = app.update(Msg::Tick {
        now: Instant::now() + Duration::from_secs(4),
        wall: now(),
    });
    let req = page_req(&later);
    app.update(Msg::Page {
        req,
        result: Ok(rows(ListKind::Tenants, 0..3)),
    });
    assert_eq!(app.pane().rows.len(), 3);
    assert_eq!(
        app.status.error, None,
        "the error clears once the database answers"
    );
}

fn actor(role: Role) -> Actor {
    Actor {
        id: Uuid::from_u128(0xad),
        email: match role {
            Role::SuperAdmin => "super@demo.test".into(),
            _ => "support@demo.test".into(),
        },
        name: "Admin".into(),
        role,
    }
}

fn user_target() -> Target {
    Target::User(UserState {
        id: Uuid::from_u128(0x1000),
        email: "kenji.fernandes@acmerealty.example".into(),
        name: "Kenji Fernandes".into(),
        role: Role::User,
        is_active: true,
        email_verified: false,
        credits: 125,
        tenant_id: Uuid::from_u128(7),
        tenant_name: "Acme Realty Group".into(),
        active_sessions: 2,
        credit_cap: None,
    })
}

/// Answers the `Prepare` among `cmds` with `target`; returns the jobs the form's opening sends.
fn prepared(app: &mut App, cmds: &[Job], target: Option<Target>) -> Vec<Job> {
    let req = cmds
        .iter()
        .find_map(|c| match c {
            Job::Write(WriteJob::Prepare { prep, .. }) => Some(prep.req),
            _ => None,
        })
        .expect("a Prepare command");
    app.update(Msg::Prepared {
        req,
        result: Ok(target),
    })
}

/// Answers the check a submitted form sent (the database's word on whether `y` would be refused).
fn checked(app: &mut App, cmds: &[Job], result: Result<(), ActionError>) -> Vec<Job> {
    let req = cmds
        .iter()
        .find_map(|c| match c {
            Job::Write(WriteJob::Check { req, .. }) => Some(*req),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no Check in {cmds:?}"));
    app.update(Msg::Checked { req, result })
}

/// `+` on the selected row, `amount` and `reason` typed, checked and `y`: the apply's request.
fn top_up_applying(app: &mut App, amount: &str, reason: &str) -> u64 {
    let cmds = app.update(key(KeyCode::Char('+')));
    prepared(app, &cmds, Some(user_target()));
    typed(app, amount);
    app.update(key(KeyCode::Tab));
    typed(app, reason);
    let cmds = app.update(key(KeyCode::Enter));
    checked(app, &cmds, Ok(()));
    let cmds = app.update(key(KeyCode::Char('y')));
    let Some(Job::Write(WriteJob::Apply { req, .. })) = cmds.first() else {
        panic!("{cmds:?}")
    };
    *req
}

fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        app.update(key(KeyCode::Char(c)));
    }
}

#[test]
fn snapshots_sign_in() {
    for (w, h) in SIZES {
        let mut app = app(w, h);
        app.begin_sign_in(SignInStart::Prompt(Some("support@demo.test".into())));
        typed(&mut app, "secret");
        insta::assert_snapshot!(format!("sign_in_{w}x{h}"), draw(&app));
        let cmds = app.update(key(KeyCode::Enter));
        let Some(Job::Write(WriteJob::SignIn {
            req,
            credentials: Credentials::Password(password),
            ..
        })) = cmds.first()
        else {
            panic!("{cmds:?}")
        };
        assert_eq!(password.expose(), "secret");
        assert!(
            !format!("{cmds:?}").contains("secret"),
            "no password in Debug"
        );
        app.update(Msg::SignedIn {
            req: *req,
            demo: false,
            result: Err(SignInError::Refused),
        });
        insta::assert_snapshot!(format!("sign_in_refused_{w}x{h}"), draw(&app));
    }
}

#[test]
fn sign_in_gives_up_after_three_refusals_and_loads_the_panes_on_success() {
    let mut app = app(80, 24);
    app.begin_sign_in(SignInStart::Prompt(None));
    // Enter with no email asks for it.
    assert!(app.update(key(KeyCode::Enter)).is_empty());
    typed(&mut app, "support@demo.test");
    app.update(key(KeyCode::Enter));
    for i in 1..=3 {
        typed(&mut app, "wrong");
        let cmds = app.update(key(KeyCode::Enter));
        let Some(Job::Write(WriteJob::SignIn { req, .. })) = cmds.first() else {
            panic!("{cmds:?}")
        };
        app.update(Msg::SignedIn {
            req: *req,
            demo: false,
            result: Err(SignInError::Refused),
        });
        assert_eq!(app.quit, i == 3);
    }
    assert!(app.sign_in_failed);

    let mut demo_app = self::app(80, 24);
    let cmds = demo_app.begin_sign_in(SignInStart::Demo("super@demo.test".into()));
    let Some(Job::Write(WriteJob::SignIn {
        req,
        credentials: Credentials::Demo,
        ..
    })) = cmds.first()
    else {
        panic!("{cmds:?}")
    };
    let app = &mut demo_app;
    let cmds = app.update(Msg::SignedIn {
        req: *req,
        demo: true,
        result: Ok(actor(Role::SuperAdmin)),
    });
    assert!(matches!(
        cmds.first(),
        Some(Job::Read(ReadJob::Page { .. }))
    ));
    assert_eq!(
        app.status.signed_in_as.as_deref(),
        Some("super@demo.test (super_admin, demo sign-in)")
    );
    assert!(app.sign_in.is_none());
}

#[test]
fn snapshots_top_up_form_and_confirm() {
    for (w, h) in SIZES {
        let mut app = loaded(2, 30, w, h);
        app.signed_in(actor(Role::Admin), false);
        insta::assert_snapshot!(format!("credits_signed_in_admin_{w}x{h}"), draw(&app));
        let cmds = app.update(key(KeyCode::Char('+')));
        prepared(&mut app, &cmds, Some(user_target()));
        typed(&mut app, "2x");
        app.update(key(KeyCode::Enter));
        app.update(key(KeyCode::Enter));
        insta::assert_snapshot!(format!("top_up_form_invalid_{w}x{h}"), draw(&app));
        app.update(key(KeyCode::Backspace));
        typed(&mut app, "50");
        app.update(key(KeyCode::Tab));
        typed(&mut app, "refund for dropped calls");
        let cmds = app.update(key(KeyCode::Enter));
        if (w, h) == (80, 24) {
            insta::assert_snapshot!("top_up_checking_80x24", draw(&app));
        }
        checked(&mut app, &cmds, Ok(()));
        insta::assert_snapshot!(format!("top_up_confirm_{w}x{h}"), draw(&app));
    }
}

/// A super_admin at 80×24 on pane `tab`, `key` pressed on `target`, `text` typed into the form
/// (replacing what it opened with) and Enter: the confirm dialog, checked.
fn confirming(tab: usize, key_char: char, target: Target, text: &str) -> App {
    let mut app = loaded(tab, 10, 80, 24);
    app.signed_in(actor(Role::SuperAdmin), false);
    let cmds = app.update(key(KeyCode::Char(key_char)));
    prepared(&mut app, &cmds, Some(target));
    typed(&mut app, text);
    let cmds = app.update(key(KeyCode::Enter));
    checked(&mut app, &cmds, Ok(()));
    app
}

/// A long rename: the first character typed replaces the name the form opened with, and the
/// confirm dialog shows the old and the new name in full, wrapped, not cut.
#[test]
fn a_long_rename_is_confirmed_in_full() {
    const OLD: &str =
        "Quantum Telecommunication Infrastructure & Voice Automation Holdings International";
    const NEW: &str = "Quantum Telecommunication Infrastructure & Voice Automation Holdings Intl (Europe, Middle East & Africa)";
    let app = confirming(
        0,
        'e',
        Target::Tenant(TenantState {
            id: Uuid::from_u128(7),
            name: OLD.into(),
            plan: "pro".into(),
            is_active: true,
        }),
        NEW,
    );
    let Some(Dialog::Confirm(c)) = &app.dialog else {
        panic!("no confirm dialog")
    };
    assert_eq!(c.lines[0].new, NEW, "typing appended to the old name");
    let screen = draw(&app);
    insta::assert_snapshot!("long_rename_confirm_80x24", screen);
    let text = screen_rows(&screen).join("\n");
    let words = |s: &str| s.split(' ').map(str::to_string).collect::<Vec<_>>();
    for w in words(NEW).iter().chain(words(OLD).iter()) {
        assert!(text.contains(w.as_str()), "{w} not on screen:\n{text}");
    }
    // The new value's lines are whole: no cut inside the dialog below its title.
    for line in text.lines().filter(|l| l.contains('│')) {
        assert!(!line.contains('…'), "cut: {line}");
    }
}

/// A change longer than the screen holds: the confirm dialog shows a window of its rows with
/// where it is, j/k and PgDn scroll to the last word of the new value (and stop there), and the
/// buttons stay on screen throughout.
#[test]
fn a_change_longer_than_the_screen_scrolls_in_its_confirm_dialog() {
    let new: String = format!(
        "Takes messages outside office hours. {}THE-END",
        (0..200).map(|i| format!("more{i:03} ")).collect::<String>()
    );
    let mut app = confirming(
        3,
        'D',
        Target::Agent(AgentState {
            id: Uuid::from_u128(9),
            name: "After-hours Line".into(),
            description: Some("Takes messages outside office hours.".into()),
            is_active: true,
        }),
        &new,
    );
    let screen = |app: &mut App| {
        let backend = draw(app);
        app.scroll_limits = ui::scroll_limits(app);
        let text = screen_rows(&backend).join("\n");
        (backend, text)
    };
    let (backend, text) = screen(&mut app);
    insta::assert_snapshot!("long_change_confirm_80x24", backend);
    assert!(text.contains("lines 1-14 of 31: ↓ more below"), "{text}");
    assert!(text.contains("[ Cancel ]"), "{text}");
    assert!(
        text.contains("j/k scroll"),
        "the footer offers the scroll:\n{text}"
    );
    assert!(!text.contains("THE-END"), "{text}");
    // Every word of the new value is shown on the way down, the last one at the end.
    let mut seen = text.clone();
    app.update(key(KeyCode::PageDown));
    for _ in 0..40 {
        let (_, text) = screen(&mut app);
        seen.push_str(&text);
        app.update(key(KeyCode::Char('j')));
    }
    let (_, text) = screen(&mut app);
    assert!(text.contains("THE-END"), "{text}");
    assert!(text.contains("lines 18-31 of 31: the end"), "{text}");
    assert!(text.contains("[ Cancel ]"), "{text}");
    for i in 0..200 {
        assert!(
            seen.contains(&format!("more{i:03}")),
            "more{i:03} never shown"
        );
    }
    // Scrolled past the end, one k moves up at once.
    app.update(key(KeyCode::Char('k')));
    let (_, text) = screen(&mut app);
    assert!(text.contains("lines 17-30 of 31"), "{text}");
}

/// A prefilled field is edited, not replaced, when the first key is an arrow or Backspace, and
/// Ctrl-U empties it.
#[test]
fn a_prefilled_field_is_replaced_by_typing_edited_after_a_move_and_cleared_by_ctrl_u() {
    let mut app = loaded(0, 10, 80, 24);
    app.signed_in(actor(Role::SuperAdmin), false);
    let tenant = || {
        Some(Target::Tenant(TenantState {
            id: Uuid::from_u128(7),
            name: "Acme".into(),
            plan: "pro".into(),
            is_active: true,
        }))
    };
    let value = |app: &App| match &app.dialog {
        Some(Dialog::Form(f)) => f.fields[0].input.value().to_string(),
        _ => panic!("no form"),
    };
    let cmds = app.update(key(KeyCode::Char('e')));
    prepared(&mut app, &cmds, tenant());
    app.update(key(KeyCode::Backspace));
    typed(&mut app, "e Inc");
    assert_eq!(value(&app), "Acme Inc");
    app.update(Msg::Key(KeyEvent::new(
        KeyCode::Char('u'),
        KeyModifiers::CONTROL,
    )));
    assert_eq!(value(&app), "");
    app.update(key(KeyCode::Esc));
    let cmds = app.update(key(KeyCode::Char('e')));
    prepared(&mut app, &cmds, tenant());
    typed(&mut app, "Globex");
    assert_eq!(value(&app), "Globex");
}

/// An admin's top-up says the admins' cap under the amount, as read when the form opened.
#[test]
fn an_admins_top_up_shows_the_cap_under_the_amount() {
    let mut app = loaded(2, 30, 80, 24);
    app.signed_in(actor(Role::Admin), false);
    let cmds = app.update(key(KeyCode::Char('+')));
    let Target::User(mut u) = user_target() else {
        unreachable!()
    };
    u.credit_cap = Some(10_000);
    prepared(&mut app, &cmds, Some(Target::User(u)));
    let Some(Dialog::Form(f)) = &app.dialog else {
        panic!("no form: {:?}", app.dialog)
    };
    assert_eq!(
        f.fields[0].hint,
        "a whole number of credits, at most 10,000 (admins' cap)"
    );
    insta::assert_snapshot!("top_up_with_cap_80x24", draw(&app));
}

/// What the database would refuse is said when the form is submitted, before the confirm dialog
/// asks: deducting more than the balance brings the form back with the reason, the cursor on the
/// amount; `y` does nothing while the check is out.
#[test]
fn a_deduction_over_the_balance_is_refused_at_submit_not_after_y() {
    let mut app = loaded(2, 30, 80, 24);
    app.signed_in(actor(Role::Admin), false);
    let cmds = app.update(key(KeyCode::Char('-')));
    prepared(&mut app, &cmds, Some(user_target()));
    typed(&mut app, "1000");
    app.update(key(KeyCode::Tab));
    typed(&mut app, "chargeback");
    let cmds = app.update(key(KeyCode::Enter));
    assert!(
        app.update(key(KeyCode::Char('y'))).is_empty(),
        "y applied before the check answered"
    );
    checked(
        &mut app,
        &cmds,
        Err(ActionError::Insufficient {
            balance: 125,
            amount: 1000,
        }),
    );
    let Some(Dialog::Form(f)) = &app.dialog else {
        panic!("the form did not come back: {:?}", app.dialog)
    };
    assert_eq!(f.focus, 0);
    // Beside the amount, the field it turns on.
    assert_eq!(
        f.field_errors,
        [(
            0,
            "not enough credits: the balance is 125, the deduction 1,000".to_string()
        )]
    );
    assert_eq!(f.error, None);
    assert_eq!(f.fields[0].input.value(), "1000");
    insta::assert_snapshot!("deduct_refused_at_submit_80x24", draw(&app));
    // A long refusal wraps in the form, whole.
    let cmds = app.update(key(KeyCode::Enter));
    let cmds = if cmds.is_empty() {
        app.update(key(KeyCode::Enter))
    } else {
        cmds
    };
    let long = "changing the credits of a super_admin account needs super_admin, and this \
                sentence goes on well past the width of the form so that it must wrap";
    checked(&mut app, &cmds, Err(ActionError::Forbidden(long.into())));
    let rows: Vec<String> = screen_rows(&draw(&app));
    let shown = rows.join(" ");
    for word in long.split(' ') {
        assert!(
            shown.contains(word),
            "`{word}` missing:\n{}",
            rows.join("\n")
        );
    }
}

#[test]
fn the_confirm_dialog_defaults_to_cancel_and_y_applies_once() {
    let mut app = loaded(2, 30, 80, 24);
    app.signed_in(actor(Role::Admin), false);
    let cmds = app.update(key(KeyCode::Char('-')));
    prepared(&mut app, &cmds, Some(user_target()));
    typed(&mut app, "25");
    app.update(key(KeyCode::Enter));
    typed(&mut app, "chargeback");
    app.update(key(KeyCode::Enter));
    // Enter on the dialog is Cancel: nothing is sent.
    assert!(app.update(key(KeyCode::Enter)).is_empty());
    assert!(app.dialog.is_none());
    assert_eq!(
        app.status.info.as_deref(),
        Some("cancelled credits.deduct kenji.fernandes@acmerealty.example: nothing was written")
    );

    let cmds = app.update(key(KeyCode::Char('-')));
    prepared(&mut app, &cmds, Some(user_target()));
    typed(&mut app, "25");
    app.update(key(KeyCode::Tab));
    typed(&mut app, "chargeback");
    let cmds = app.update(key(KeyCode::Enter));
    checked(&mut app, &cmds, Ok(()));
    let cmds = app.update(key(KeyCode::Char('y')));
    let Some(Job::Write(WriteJob::Apply { req, request, .. })) = cmds.first() else {
        panic!("{cmds:?}")
    };
    let Request::AdjustCredits {
        delta, key: idem, ..
    } = request
    else {
        panic!("{request:?}")
    };
    assert_eq!(*delta, -25);
    assert_ne!(*idem, Uuid::nil());
    // A second y while it applies sends nothing more.
    assert!(app.update(key(KeyCode::Char('y'))).is_empty());
    let refresh = app.update(Msg::Applied {
        req: *req,
        result: Err(ActionError::Insufficient {
            balance: 10,
            amount: 25,
        }),
    });
    assert!(refresh.is_empty());
    // Back in the form, with the reason in words.
    let Some(Dialog::Form(f)) = &app.dialog else {
        panic!("{:?}", app.dialog)
    };
    assert_eq!(
        f.field_errors,
        [(
            0,
            "not enough credits: the balance is 10, the deduction 25".to_string()
        )]
    );
}

/// A top-up re-sorts the Credits pane: the selection stays on the changed row, on the screen
/// line where the admin saw it, and the position is counted again from the top.
#[test]
fn the_changed_row_stays_selected_wherever_the_change_moved_it() {
    use switchboard::actions::{Applied, Outcome};
    use switchboard::db::lists::Page;
    let kind = ListKind::Credits;
    let mut app = loaded(2, 60, 80, 24);
    app.signed_in(actor(Role::Admin), false);
    for _ in 0..3 {
        app.update(key(KeyCode::Char('j')));
    }
    let changed = row(kind, 3);
    assert_eq!(app.pane().selected_row().map(|r| r.id), Some(changed.id));
    let req = top_up_applying(&mut app, "500", "refund");
    let jobs = app.update(Msg::Applied {
        req,
        result: Ok(Outcome {
            action: "credits.top_up",
            resource_type: "user",
            resource_id: Some(changed.id),
            old: Some(json!({"credits": 2})),
            new: Some(json!({"credits": 502})),
            audit_id: Some(Uuid::from_u128(0xa0d1)),
            status: Applied::Done,
            labels: Default::default(),
        }),
    });
    // The pane reads the list from the changed row on: it moved between rows 30 and 31.
    let at = jobs
        .iter()
        .find_map(|c| match c {
            Job::Read(ReadJob::Page { req, page, .. }) => Some((*req, page.clone())),
            _ => None,
        })
        .expect("a page fetch");
    assert_eq!(at.1, Page::At(changed.id));
    let mut moved = changed.clone();
    moved.key = vec![KeyValue::Int(30), KeyValue::Id(changed.id)];
    let mut from_it = vec![moved.clone()];
    from_it.extend(rows(kind, 31..60));
    let jobs = app.update(Msg::Page {
        req: at.0,
        result: Ok(from_it),
    });
    assert_eq!(app.pane().selected_row().map(|r| r.id), Some(changed.id));
    // Then the rows before it.
    let before = jobs
        .iter()
        .find_map(|c| match c {
            Job::Read(ReadJob::Page { req, page, .. }) => Some((*req, page.clone())),
            _ => None,
        })
        .expect("the rows before it are asked for");
    assert_eq!(before.1, Page::Before(moved.key.clone()));
    let mut others = rows(kind, 0..31);
    others.remove(3);
    app.update(Msg::Page {
        req: before.0,
        result: Ok(others),
    });
    let pane = app.pane();
    assert_eq!(pane.selected_row().map(|r| r.id), Some(changed.id));
    assert_eq!(pane.position(), Some(31), "counted from the top again");
    assert_eq!(pane.selected - pane.offset, 3, "on the same screen line");
}

/// A verb with nothing to do on its row (unassigning a number no one has) says so as an answer,
/// not as an error of the console.
#[test]
fn nothing_to_do_on_a_row_is_an_answer_not_an_error() {
    use switchboard::actions::targets::NumberState;
    let mut app = loaded(4, 30, 80, 24);
    app.signed_in(actor(Role::SuperAdmin), false);
    let cmds = app.update(key(KeyCode::Char('u')));
    prepared(
        &mut app,
        &cmds,
        Some(Target::Number(NumberState {
            id: Uuid::from_u128(0x1000),
            phone_number: "+13035550119".into(),
            name: "Spare West Coast".into(),
            assigned_to: None,
            assigned_email: None,
            is_active: true,
        })),
    );
    assert!(app.dialog.is_none());
    assert_eq!(app.status.error, None);
    assert_eq!(
        app.status.info.as_deref(),
        Some("✗ +13035550119 is not assigned to anyone")
    );
}

/// `y` pressed while the database is still asked whether the change would be refused is kept:
/// the change applies as soon as the check lets it (a quick typist's `y` was dropped before);
/// a refusal brings the form back instead and nothing is sent.
#[test]
fn y_during_the_check_applies_once_the_check_lets_it() {
    for refused in [false, true] {
        let mut app = loaded(2, 30, 80, 24);
        app.signed_in(actor(Role::Admin), false);
        let cmds = app.update(key(KeyCode::Char('+')));
        prepared(&mut app, &cmds, Some(user_target()));
        typed(&mut app, "500");
        app.update(key(KeyCode::Tab));
        typed(&mut app, "refund");
        let check = app.update(key(KeyCode::Enter));
        assert!(
            app.update(key(KeyCode::Char('y'))).is_empty(),
            "nothing sent while checked"
        );
        let result = if refused {
            Err(ActionError::Forbidden("over the cap".into()))
        } else {
            Ok(())
        };
        let jobs = checked(&mut app, &check, result);
        let applied = jobs
            .iter()
            .any(|j| matches!(j, Job::Write(WriteJob::Apply { .. })));
        assert_eq!(applied, !refused, "refused: {refused}: {jobs:?}");
        if refused {
            assert!(
                matches!(app.dialog, Some(Dialog::Form(_))),
                "{:?}",
                app.dialog
            );
        }
    }
}

#[test]
fn read_only_and_signed_out_consoles_refuse_actions_without_a_query() {
    let mut app = loaded(1, 30, 80, 24);
    assert!(app.update(key(KeyCode::Char('a'))).is_empty());
    assert!(
        app.status
            .error
            .as_deref()
            .unwrap()
            .contains("not signed in")
    );
    app.status.read_only = true;
    app.signed_in(actor(Role::SuperAdmin), false);
    assert!(app.update(key(KeyCode::Char('a'))).is_empty());
    assert!(app.status.error.as_deref().unwrap().contains("read-only"));
}

/// `R` on the user, the role typed as `admin` over `user`, Enter: the jobs of the submit.
fn role_admin_submitted(app: &mut App) -> Vec<Job> {
    let cmds = app.update(key(KeyCode::Char('R')));
    prepared(app, &cmds, Some(user_target()));
    for _ in 0..4 {
        app.update(key(KeyCode::Backspace));
    }
    typed(app, "admin");
    app.update(key(KeyCode::Enter))
}

/// The user as read again after someone else made them a super_admin.
fn made_super_admin() -> Target {
    let mut changed = user_target();
    if let Target::User(u) = &mut changed {
        u.role = Role::SuperAdmin;
    }
    changed
}

#[test]
fn a_conflict_reads_the_row_again_and_reopens_the_form_with_what_was_typed() {
    let mut app = loaded(1, 30, 80, 24);
    app.signed_in(actor(Role::SuperAdmin), false);
    let cmds = role_admin_submitted(&mut app);
    checked(&mut app, &cmds, Ok(()));
    let cmds = app.update(key(KeyCode::Char('y')));
    let Some(Job::Write(WriteJob::Apply { req, .. })) = cmds.first() else {
        panic!("{cmds:?}")
    };
    let cmds = app.update(Msg::Applied {
        req: *req,
        result: Err(ActionError::Conflict {
            what: "user".into(),
            current: json!({"role": "super_admin"}),
        }),
    });
    assert!(
        app.status
            .error
            .as_deref()
            .unwrap()
            .contains("changed since you opened it")
    );
    prepared(&mut app, &cmds, Some(made_super_admin()));
    let Some(Dialog::Form(f)) = &app.dialog else {
        panic!("{:?}", app.dialog)
    };
    assert_eq!(f.fields[0].input.value(), "admin");
    assert!(f.error.as_deref().unwrap().contains("super_admin"));
    insta::assert_snapshot!("role_form_after_conflict_80x24", draw(&app));

    // Found by the check at submit: the same, the row read again (a form left with the old
    // values would conflict, and be recorded as refused, at every submit).
    app.update(key(KeyCode::Esc));
    let cmds = role_admin_submitted(&mut app);
    let cmds = checked(
        &mut app,
        &cmds,
        Err(ActionError::Conflict {
            what: "user".into(),
            current: json!({"role": "super_admin"}),
        }),
    );
    assert!(
        cmds.iter()
            .any(|j| matches!(j, Job::Write(WriteJob::Prepare { .. }))),
        "the row is not read again: {cmds:?}"
    );
    prepared(&mut app, &cmds, Some(made_super_admin()));
    let Some(Dialog::Form(f)) = &app.dialog else {
        panic!("{:?}", app.dialog)
    };
    assert_eq!(f.fields[0].input.value(), "admin");
}

#[test]
fn x_in_the_audit_log_exports_what_the_filter_selects() {
    let mut app = loaded(5, 30, 80, 24);
    // Not in other panes, and not signed out.
    assert!(app.update(key(KeyCode::Char('x'))).is_empty());
    assert!(app.dialog.is_none());
    app.signed_in(actor(Role::Admin), false);
    app.update(key(KeyCode::Char('/')));
    typed(&mut app, "action:credits.");
    app.update(key(KeyCode::Enter));
    app.update(key(KeyCode::Char('x')));
    let Some(Dialog::Export(e)) = &mut app.dialog else {
        panic!("{:?}", app.dialog)
    };
    // The console's directory, where a relative name goes (said in the dialog).
    e.dir = "/home/ops".into();
    insta::assert_snapshot!("export_dialog_80x24", draw(&app));
    // The name offered is replaced by the first character typed, not added to.
    typed(&mut app, "credits.jsonl");
    let Some(Dialog::Export(e)) = &mut app.dialog else {
        panic!("{:?}", app.dialog)
    };
    assert_eq!(e.path.input.value(), "credits.jsonl");
    assert!(
        draw(&app)
            .buffer()
            .content()
            .iter()
            .map(|c| c.symbol())
            .collect::<String>()
            .contains("→ /home/ops/credits.jsonl")
    );
    // A directory that is not there is refused in the dialog, the name kept, nothing started.
    let cmds = app.update(key(KeyCode::Enter));
    assert!(cmds.is_empty(), "{cmds:?}");
    let Some(Dialog::Export(e)) = &mut app.dialog else {
        panic!("{:?}", app.dialog)
    };
    assert_eq!(
        e.error.as_deref(),
        Some("/home/ops is not a directory that exists; choose another place")
    );
    assert_eq!(e.path.input.value(), "credits.jsonl");
    assert!(app.exporting.is_none());
    // Said whole in the dialog, wrapped rather than cut, at any width.
    for (w, h) in [(80, 24), (40, 15)] {
        app.update(Msg::Resize(w, h));
        let screen: String = draw(&app)
            .buffer()
            .content()
            .iter()
            .map(|c| c.symbol())
            .collect();
        let words: String = screen.split(['│', ' ']).collect();
        assert!(
            words.contains("/home/opsisnotadirectorythatexists;chooseanotherplace"),
            "{w}x{h}: {screen}"
        );
    }
    app.update(Msg::Resize(80, 24));
    let Some(Dialog::Export(e)) = &mut app.dialog else {
        panic!("{:?}", app.dialog)
    };
    // A directory of this test's own, at a path that does not change (the snapshot shows it).
    let ops = std::path::Path::new("/tmp/switchboard-ui-export-test");
    std::fs::create_dir_all(ops).unwrap();
    std::fs::remove_file(ops.join("credits.jsonl")).ok();
    e.dir = ops.to_path_buf();
    let cmds = app.update(key(KeyCode::Enter));
    let Some(Job::Write(WriteJob::Export {
        req, request, path, ..
    })) = cmds.first()
    else {
        panic!("{cmds:?}")
    };
    let (filter, filter_text) = (&request.filter, &request.filter_text);
    assert_eq!(filter_text, "action:credits.");
    assert_eq!(
        filter.words,
        vec![("action".to_string(), "credits.".to_string())]
    );
    assert_eq!(path, &ops.join("credits.jsonl"));
    app.update(Msg::ExportProgress {
        req: *req,
        rows: 20_000,
    });
    insta::assert_snapshot!("exporting_80x24", draw(&app));
    app.update(Msg::Exported {
        req: *req,
        result: Ok(25_000),
    });
    assert!(app.exporting.is_none());
    assert!(
        app.status
            .info
            .as_deref()
            .unwrap()
            .starts_with("exported 25,000 entries")
    );
}

#[test]
fn tenant_figures_are_asked_for_after_the_rows_and_filled_in_when_they_come() {
    let mut app = app(80, 24);
    let cmds = app.start();
    let mut rows: Vec<ListRow> = (0..30).map(|i| row(ListKind::Tenants, i)).collect();
    for r in &mut rows {
        for c in &mut r.cells[3..8] {
            *c = Cell::Pending;
        }
    }
    let cmds = app.update(Msg::Page {
        req: page_req(&cmds),
        result: Ok(rows),
    });
    let asked: Vec<(u64, &Vec<Uuid>)> = cmds
        .iter()
        .filter_map(|c| match c {
            Job::Read(ReadJob::Stats {
                generation, ids, ..
            }) => Some((*generation, ids)),
            _ => None,
        })
        .collect();
    assert_eq!(asked.len(), 2, "30 rows, 20 a query");
    assert_eq!(
        asked[0].1[0],
        Uuid::from_u128(0x1000),
        "the first rows first"
    );
    let generation = asked[0].0;
    insta::assert_snapshot!("tenants_figures_pending_80x24", draw(&app));
    // An answer for rows since replaced (an older load) is dropped.
    app.update(Msg::Stats {
        kind: ListKind::Tenants,
        generation: generation - 1,
        result: Ok(vec![RowFigures {
            id: Uuid::from_u128(0x1000),
            cells: vec![Cell::Int(1); 5],
        }]),
    });
    assert_eq!(app.panes[0].rows[0].cells[3], Cell::Pending);
    app.update(Msg::Stats {
        kind: ListKind::Tenants,
        generation,
        result: Ok(vec![RowFigures {
            id: Uuid::from_u128(0x1000),
            cells: vec![
                Cell::Int(14),
                Cell::Int(8),
                Cell::Int(2),
                Cell::Int(22_306),
                Cell::Int(97),
            ],
        }]),
    });
    assert_eq!(app.panes[0].rows[0].cells[3], Cell::Int(14));
    assert_eq!(app.panes[0].rows[1].cells[3], Cell::Pending);
}

/// The search a job list holds for a picker.
fn lookup_of(cmds: &[Job]) -> (u64, switchboard::console::forms::Search) {
    cmds.iter()
        .find_map(|c| match c {
            Job::Read(ReadJob::Lookup { req, search }) => Some((*req, search.clone())),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no Lookup in {cmds:?}"))
}

#[test]
fn moving_a_user_picks_the_tenant_from_a_search_that_narrows_as_the_admin_types() {
    use switchboard::db::lookup::{Found, FoundPage, Lookup};
    let mut app = loaded(1, 30, 80, 24);
    app.signed_in(actor(Role::SuperAdmin), false);
    let cmds = app.update(key(KeyCode::Char('m')));
    // The form opens on the user's tenant and asks for the first page of tenants at once.
    let opened = prepared(&mut app, &cmds, Some(user_target()));
    let (_, first) = lookup_of(&opened);
    assert_eq!(first.lookup, Lookup::ActiveTenants);
    assert_eq!(first.text, "");
    // Typing replaces the prefilled name and searches what is typed (one search per change;
    // the answer to an earlier one is dropped).
    let cmds = app.update(key(KeyCode::Char('b')));
    let (req_b, search) = lookup_of(&cmds);
    assert_eq!(search.text, "b");
    let cmds = app.update(key(KeyCode::Char('r')));
    let (req_br, search) = lookup_of(&cmds);
    assert_eq!(search.text, "br");
    let tenant = |n: u128, name: &str, plan: &str| Found {
        id: Uuid::from_u128(n),
        value: name.to_string(),
        detail: plan.to_string(),
    };
    app.update(Msg::Found {
        req: req_b,
        result: Ok(FoundPage {
            rows: vec![tenant(9, "Bayview Property Management", "pro")],
            next: None,
        }),
    });
    let answer = FoundPage {
        rows: vec![
            tenant(20, "Brightline Insurance", "pro"),
            tenant(21, "Brightline Insurance (EU)", "enterprise"),
            tenant(22, "Brightwater Dental", "starter"),
            tenant(23, "Brookside Pediatrics", "free"),
            tenant(24, "Brown & Ortiz LLP", "starter"),
        ],
        next: Some(vec![
            KeyValue::Text("Brown & Ortiz LLP".into()),
            KeyValue::Id(Uuid::from_u128(24)),
        ]),
    };
    app.update(Msg::Found {
        req: req_br,
        result: Ok(answer),
    });
    app.update(key(KeyCode::Down));
    insta::assert_snapshot!("move_user_picker_80x24", draw(&app));
    // Down past the last loaded asks for the next page from where this one ended.
    for _ in 0..3 {
        assert!(
            app.update(key(KeyCode::Down))
                .iter()
                .all(|c| !matches!(c, Job::Read(_)))
        );
    }
    let cmds = app.update(key(KeyCode::Down));
    let (_, more) = lookup_of(&cmds);
    assert_eq!(more.text, "br");
    assert!(more.after.is_some());
    // Enter takes the selected one (the second: two tenants share a prefix) and confirms it by
    // name with its id, the change sent by id.
    app.update(key(KeyCode::Up));
    app.update(key(KeyCode::Up));
    app.update(key(KeyCode::Up));
    let cmds = app.update(key(KeyCode::Enter));
    let Some(Dialog::Confirm(c)) = &app.dialog else {
        panic!("{:?}", app.dialog)
    };
    let Request::MoveUser { to, .. } = &c.request else {
        panic!("{:?}", c.request)
    };
    assert_eq!(*to, Uuid::from_u128(21).to_string());
    checked(&mut app, &cmds, Ok(()));
    let screen = draw(&app).to_string();
    assert!(screen.contains("Brightline Insurance (EU)"), "{screen}");
}

/// New audit entries: at the top the first page is read again at once; scrolled down the
/// selection stays and the status line counts them; `g` reads them.
#[test]
fn the_audit_log_follows_new_entries() {
    let mut app = loaded(5, 30, 80, 24);
    let jobs = app.update(Msg::AuditNew);
    assert!(
        matches!(
            jobs.first(),
            Some(Job::Read(ReadJob::Page {
                kind: ListKind::AuditLog,
                ..
            }))
        ),
        "{jobs:?}"
    );
    // A second entry while that page loads is not lost: read again once it is in.
    assert!(app.update(Msg::AuditNew).is_empty());
    let req = page_req(&jobs);
    let jobs = app.update(Msg::Page {
        req,
        result: Ok(rows(ListKind::AuditLog, 0..30)),
    });
    assert!(
        jobs.iter()
            .any(|j| matches!(j, Job::Read(ReadJob::Page { .. }))),
        "{jobs:?}"
    );
    let req = page_req(&jobs);
    app.update(Msg::Page {
        req,
        result: Ok(rows(ListKind::AuditLog, 0..30)),
    });
    // Scrolled down: no query, the selection stays, a count.
    app.update(key(KeyCode::Char('j')));
    app.update(key(KeyCode::Char('j')));
    for _ in 0..3 {
        assert!(app.update(Msg::AuditNew).is_empty());
    }
    assert_eq!(app.pane().selected, 2);
    app.live = switchboard::console::live::Live::Polling;
    insta::assert_snapshot!("audit_log_new_entries_80x24", draw(&app));
    let jobs = app.update(key(KeyCode::Char('g')));
    assert!(
        matches!(jobs.first(), Some(Job::Read(ReadJob::Page { .. }))),
        "g reads the new entries: {jobs:?}"
    );
    assert_eq!(app.pane().fresh, 0);
}

/// The standby in the status line at 80×24: a following one's lag late and dim, a lost one (or a
/// read sent to the primary) early, where a narrow screen keeps it.
#[test]
fn snapshots_of_the_standby_in_the_status_line() {
    use switchboard::db::replica::{Health, View};
    let mut app = loaded(0, 10, 80, 24);
    app.status.signed_in_as = Some("super@demo.test (super_admin)".into());
    app.standby = Some(View {
        health: Health::Following { lag_s: 0 },
        fell_back: false,
    });
    insta::assert_snapshot!("standby_following_80x24", draw(&app));
    app.standby = Some(View {
        health: Health::Unreachable("connection refused".into()),
        fell_back: false,
    });
    insta::assert_snapshot!("standby_down_80x24", draw(&app));
    app.standby = Some(View {
        health: Health::Following { lag_s: 0 },
        fell_back: true,
    });
    let screen = format!("{}", draw(&app));
    let status = screen.lines().nth(22).unwrap_or_default().to_string();
    assert!(
        status.starts_with("\"read on primary: standby lagging | super@demo.test"),
        "{status}"
    );
}

/// A letter that means nothing in the pane says so (and where to look), instead of nothing
/// happening; a key that does something clears it.
#[test]
fn a_key_that_does_nothing_here_says_so() {
    let mut app = loaded(0, 30, 80, 24);
    assert!(app.update(key(KeyCode::Char('z'))).is_empty());
    assert_eq!(
        app.status.info.as_deref(),
        Some("`z` does nothing here; ? lists the keys")
    );
    app.update(key(KeyCode::Char('j')));
    assert_eq!(app.status.info, None);
    // A digit past the last pane too.
    app.update(key(KeyCode::Char('9')));
    assert_eq!(
        app.status.info.as_deref(),
        Some("`9` does nothing here; ? lists the keys")
    );
}

//! The pickers' searches: the rows a form field may name (an active user, an active tenant),
//! found by the same query, filter and keyset paging as their pane, so a picker stays as fast
//! as the Users pane on a million users.

use sqlx::PgPool;
use uuid::Uuid;

use super::DbError;
use super::lists::{Cell, Filter, KeyValue, ListKind, ListRow, Page, fetch_page};

/// What a picker looks up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// Active users (a number is assigned to one).
    ActiveUsers,
    /// Active tenants (a user is moved into one).
    ActiveTenants,
}

impl Lookup {
    /// The pane whose search it is.
    pub fn pane(self) -> ListKind {
        match self {
            Lookup::ActiveUsers => ListKind::Users,
            Lookup::ActiveTenants => ListKind::Tenants,
        }
    }
}

/// One row a picker offers: what goes into the field, what helps tell it apart, its id.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub id: Uuid,
    /// The field's text once chosen (an email, a tenant's name).
    pub value: String,
    /// Shown beside it (a user's name and tenant, a tenant's plan).
    pub detail: String,
}

/// A page of a picker's search, and where the next one starts (none at the end).
#[derive(Debug, Clone, PartialEq)]
pub struct FoundPage {
    pub rows: Vec<Found>,
    pub next: Option<Vec<KeyValue>>,
}

/// Up to `limit` rows of `lookup` whose pane's free-text search matches `text`, after `after`.
pub async fn search(
    pool: &PgPool,
    lookup: Lookup,
    text: &str,
    after: Option<Vec<KeyValue>>,
    limit: i64,
) -> Result<FoundPage, DbError> {
    // The text is free text only: a `key:` word typed into a picker is searched for as is.
    let filter = Filter {
        text: text.trim().to_string(),
        words: vec![("is".into(), "active".into())],
    };
    let page = match after {
        Some(key) => Page::After(key),
        None => Page::First,
    };
    let rows = fetch_page(pool, lookup.pane(), &filter, &page, limit).await?;
    let next = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|r| r.key.clone()))
        .flatten();
    Ok(FoundPage {
        rows: rows.iter().map(|r| found(lookup, r)).collect(),
        next,
    })
}

fn text(cell: Option<&Cell>) -> String {
    match cell {
        Some(Cell::Text(s)) => s.clone(),
        _ => String::new(),
    }
}

/// A pane row as a picker shows it (the cells are the pane's columns, see `lists::spec`).
fn found(lookup: Lookup, row: &ListRow) -> Found {
    let c = |i: usize| text(row.cells.get(i));
    let (value, detail) = match lookup {
        // email, name, tenant, role, …
        Lookup::ActiveUsers => (c(0), format!("{} · {} · {}", c(1), c(2), c(3))),
        // name, plan, …
        Lookup::ActiveTenants => (c(0), c(1)),
    };
    Found {
        id: row.id,
        value,
        detail,
    }
}

//! The platform's schema as `schema-analysis.md` describes it, parsed for the schema tests.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// The seed as the project received it: `../shared/seeds/` beside the checkout when present (the
/// source of truth), else the copy in tests/fixtures.
pub fn seed_text() -> String {
    let shared =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/seeds/schema-analysis.md");
    let vendored =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/schema-analysis.md");
    std::fs::read_to_string(&shared)
        .or_else(|_| std::fs::read_to_string(&vendored))
        .expect("schema-analysis.md not found")
}

#[derive(Debug, Clone)]
pub struct SeedColumn {
    pub name: String,
    pub ty: String,
    pub nullable: bool,
    pub default: Option<String>,
    pub constraints: String,
}

#[derive(Debug, Default)]
pub struct SeedTable {
    pub columns: Vec<SeedColumn>,
    /// `- \`name\` ON cols [WHERE ...]`
    pub indexes: Vec<(String, Vec<String>, Option<String>)>,
    /// Column sets that must be unique (named or not).
    pub unique_sets: Vec<(Option<String>, Vec<String>, Option<String>)>,
    /// Column sets that must be a foreign key.
    pub fk_sets: Vec<Vec<String>>,
}

pub fn parse_cols(s: &str) -> Vec<String> {
    s.trim()
        .trim_start_matches('(')
        .trim_end_matches(')')
        .split(',')
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .collect()
}

pub fn parse_seed(text: &str) -> BTreeMap<String, SeedTable> {
    let mut tables: BTreeMap<String, SeedTable> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("### ") {
            // "### 3. `calls` - Call Records" starts a table; any other heading ends one.
            current = rest
                .split('`')
                .nth(1)
                .filter(|_| rest.chars().next().is_some_and(|c| c.is_ascii_digit()))
                .map(str::to_string);
            if let Some(t) = &current {
                tables.entry(t.clone()).or_default();
            }
            continue;
        }
        let Some(table) = current.as_ref().and_then(|t| tables.get_mut(t)) else {
            continue;
        };
        if line.starts_with("| `") {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let default = cells[4];
            table.columns.push(SeedColumn {
                name: cells[1].trim_matches('`').to_string(),
                ty: cells[2].to_string(),
                nullable: cells[3] == "YES",
                default: (default != "-").then(|| default.to_string()),
                constraints: cells[5].to_string(),
            });
        } else if let Some(rest) = line.strip_prefix("- `") {
            let (name, tail) = rest.split_once('`').unwrap();
            let tail = tail.trim();
            if let Some(on) = tail.strip_prefix("ON ") {
                let (cols, predicate) = match on.split_once(" WHERE ") {
                    Some((c, p)) => (c, Some(p.to_string())),
                    None => (on, None),
                };
                table
                    .indexes
                    .push((name.to_string(), parse_cols(cols), predicate));
            } else if let Some(spec) = tail.strip_prefix(": UNIQUE") {
                let (cols, predicate) = match spec.split_once(" WHERE ") {
                    Some((c, p)) => (c, Some(p.to_string())),
                    None => (spec, None),
                };
                let cols = if cols.trim().is_empty() {
                    vec![name.to_string()] // "- `column`: UNIQUE"
                } else {
                    parse_cols(cols)
                };
                table
                    .unique_sets
                    .push((Some(name.to_string()), cols, predicate));
            } else if name.starts_with('(') && tail.starts_with(": FK") {
                table.fk_sets.push(parse_cols(name));
            } else if name.starts_with('(') {
                // "Composite key ..." and "Prevents duplicate ..." are uniqueness.
                table.unique_sets.push((None, parse_cols(name), None));
            }
        } else if let Some(rest) = line.strip_prefix("**Unique Constraint**: `") {
            let cols = rest.trim_end_matches('`');
            table.unique_sets.push((None, parse_cols(cols), None));
        } else if line.starts_with("- FK constraint on `") {
            let cols = line.split('`').nth(1).unwrap();
            table.fk_sets.push(parse_cols(cols));
        }
    }
    tables
}

/// The seed's type as `information_schema` spells it, with length or precision.
pub fn expected_type(seed: &str) -> String {
    let seed = seed.trim();
    let (base, args) = match seed.split_once('(') {
        Some((b, a)) => (b, Some(a.trim_end_matches(')').replace(' ', ""))),
        None => (seed, None),
    };
    let base = match base {
        "UUID" => "uuid",
        "VARCHAR" => "character varying",
        "INTEGER" => "integer",
        "BOOLEAN" => "boolean",
        "TIMESTAMPTZ" => "timestamp with time zone",
        "TEXT" => "text",
        "JSONB" => "jsonb",
        "DECIMAL" => "numeric",
        "INET" => "inet",
        "DATE" => "date",
        other => panic!("seed type {other} not known to the test"),
    };
    match args {
        Some(a) => format!("{base}({a})"),
        None => base.to_string(),
    }
}

/// `'email'::character varying` → `'email'`, so that defaults compare as the seed writes them.
pub fn normalise_default(d: &str) -> String {
    let d = d.trim();
    match d.find("::") {
        Some(i) if d.starts_with('\'') => d[..i].to_string(),
        _ => d.to_string(),
    }
}

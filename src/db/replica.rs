//! Reads from a hot standby, writes to the primary (`--replica-url`).
//!
//! [`Reads`] is where every read of the console and of the reading commands goes: pane pages,
//! counts, details, searches, exports, `audit verify`. With no standby it is the primary. With
//! one, a read goes to the standby when
//!
//! - it is following: reachable, still in recovery, and no more than [`MAX_LAG`] behind (a
//!   probe every [`PROBE_EVERY`] measures it), and
//! - it has replayed what this process must see: the primary's WAL position after this
//!   process's last write, or after an audit entry it heard of ([`Reads::caught_up_to_primary`]).
//!   A read waits up to [`CATCH_UP_WAIT`] for that, then goes to the primary and says so.
//!
//! A read that fails on the standby because the connection did (the server stopped, a recovery
//! conflict cancelled it) is run again on the primary at once, and the standby is marked
//! unreachable until a probe finds it back. Writes never go here: sign-in, actions, the audit
//! chain and settings use the primary's pool.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::PgPool;

use super::DbError;
use super::connect::{self, PoolSettings};

/// How far behind the primary a standby may be and still serve reads.
pub const MAX_LAG: Duration = Duration::from_secs(30);
/// How long a read waits for the standby to replay this process's last write before it goes to
/// the primary instead.
pub const CATCH_UP_WAIT: Duration = Duration::from_secs(1);
/// How often the console measures the standby's lag.
pub const PROBE_EVERY: Duration = Duration::from_secs(1);
/// How long a probe may take before the standby counts as unreachable.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);
/// How long a read waits for a connection to the standby (a stopped standby must not hold a
/// pane for the pool's usual ten seconds).
const STANDBY_ACQUIRE: Duration = Duration::from_secs(3);
/// How long "a read went to the primary" stays in what [`Reads::view`] says.
const FELL_BACK_SHOWN: Duration = Duration::from_secs(5);

/// The standby as last measured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    /// Not measured yet: reads try it.
    Unknown,
    /// Reachable, in recovery, `lag_s` whole seconds behind the primary (0: under a second).
    Following { lag_s: u64 },
    /// More than [`MAX_LAG`] behind: reads go to the primary.
    Behind { lag_s: u64 },
    /// Not reachable (the reason in a line): reads go to the primary.
    Unreachable(String),
    /// Reachable, but no longer in recovery (promoted?): reads go to the primary, which may no
    /// longer be the one writes go to.
    NotStandby,
}

impl Health {
    pub fn serves_reads(&self) -> bool {
        matches!(self, Health::Unknown | Health::Following { .. })
    }

    /// In words, for the status line and the commands' notes.
    pub fn describe(&self) -> String {
        match self {
            Health::Unknown => "standby not measured yet".to_string(),
            Health::Following { lag_s: 0 } => "standby under 1 s behind".to_string(),
            Health::Following { lag_s } => format!("standby {lag_s} s behind"),
            Health::Behind { lag_s } => format!("standby {lag_s} s behind: reads on primary"),
            Health::Unreachable(_) => "standby down: reads on primary".to_string(),
            Health::NotStandby => "replica no longer a standby: reads on primary".to_string(),
        }
    }
}

/// What the console shows of the standby.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    pub health: Health,
    /// A read went to the primary in the last few seconds because the standby had not replayed
    /// this console's last change in time.
    pub fell_back: bool,
}

impl View {
    /// Whether it needs the reader's attention (reads are not where they were asked to go).
    pub fn is_warning(&self) -> bool {
        self.fell_back || !self.health.serves_reads()
    }

    pub fn describe(&self) -> String {
        if self.fell_back && self.health.serves_reads() {
            "read on primary: standby lagging".to_string()
        } else {
            self.health.describe()
        }
    }
}

struct Standby {
    pool: PgPool,
    description: String,
    /// The primary's WAL position (bytes from 0/0) that reads must see.
    wanted: AtomicU64,
    /// The newest position the standby was seen to have replayed.
    replayed: AtomicU64,
    health: Mutex<Health>,
    /// The primary's positions as probed, newest last: the lag is the age of the newest one
    /// the standby has replayed.
    history: Mutex<VecDeque<(Instant, u64)>>,
    fell_back: Mutex<Option<Instant>>,
}

/// Where reads go. Cheap to clone.
#[derive(Clone)]
pub struct Reads {
    primary: PgPool,
    standby: Option<Arc<Standby>>,
}

/// What `check` says about the standby.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StandbyReport {
    pub description: String,
    pub reachable: bool,
    /// `pg_is_in_recovery()` there.
    pub in_recovery: bool,
    /// Whether it is a copy of the primary (the same `system_identifier`); None: not asked.
    pub same_system: Option<bool>,
    pub lag_s: Option<u64>,
    pub state: String,
    pub error: Option<String>,
}

impl StandbyReport {
    /// Whether reads can go there.
    pub fn usable(&self) -> bool {
        self.reachable && self.in_recovery && self.same_system != Some(false)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Which WAL position of a server.
#[derive(Clone, Copy)]
enum Position {
    /// A standby's replay position.
    Replayed,
    /// The primary's insert position: past every commit this process has seen return (also
    /// with `synchronous_commit = off`, where the write position may lag a returned commit).
    Written,
    /// The primary's flush position: what a standby can have received.
    Flushed,
}

/// A WAL position of a server, in bytes from 0/0.
async fn position(pool: &PgPool, which: Position) -> Result<Option<i64>, DbError> {
    let sql = match which {
        Position::Replayed => "SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0')::bigint",
        Position::Written => "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::bigint",
        Position::Flushed => "SELECT pg_wal_lsn_diff(pg_current_wal_flush_lsn(), '0/0')::bigint",
    };
    Ok(super::query_scalar(sql)
        .fetch_one(&mut *super::pinned(pool).await?)
        .await?)
}

async fn system_identifier(pool: &PgPool) -> Result<i64, DbError> {
    Ok(
        super::query_scalar("SELECT system_identifier FROM pg_control_system()")
            .fetch_one(&mut *super::pinned(pool).await?)
            .await?,
    )
}

/// Whether a failed read says the standby's connection failed (so the primary should answer),
/// rather than the query itself.
fn standby_failed(e: &DbError) -> bool {
    match e {
        DbError::Sqlx(sqlx::Error::Database(d)) => {
            let code = d.code().unwrap_or_default();
            // Connection exceptions, operator intervention (shutdown, cannot connect now), and
            // a hot standby's recovery conflict (serialization_failure there).
            code.starts_with("08") || code.starts_with("57P") || code == "40001"
        }
        DbError::Sqlx(
            sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Protocol(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed,
        ) => true,
        _ => false,
    }
}

impl Reads {
    /// Everything on the primary.
    pub fn primary_only(primary: PgPool) -> Reads {
        Reads {
            primary,
            standby: None,
        }
    }

    /// Reads on the standby at `url` where they can be. The URL must parse; the server need not
    /// be up (reads go to the primary until it is). A server that answers but is not a standby
    /// of `primary` is refused.
    pub async fn with_standby(
        primary: PgPool,
        url: &str,
        settings: PoolSettings,
    ) -> Result<Reads, DbError> {
        let reads = Reads::with_standby_unchecked(primary, url, settings).await?;
        let report = reads.standby_report().await;
        if let Some(r) = &report
            && r.reachable
            && !r.usable()
        {
            let why = if !r.in_recovery {
                "is not a hot standby (pg_is_in_recovery() is false there)"
            } else {
                "is a standby of another server (its system_identifier differs from the primary's)"
            };
            return Err(DbError::Refused(format!(
                "the replica {} {why}: its reads would not follow the primary; give a streaming \
                 standby of the primary, or leave --replica-url out",
                r.description
            )));
        }
        Ok(reads)
    }

    /// [`Reads::with_standby`] without the refusal (for `check`, which reports what it finds):
    /// a server that is not a standby of the primary never serves reads.
    pub async fn with_standby_unchecked(
        primary: PgPool,
        url: &str,
        settings: PoolSettings,
    ) -> Result<Reads, DbError> {
        let options = connect::options_from_url(url)?;
        let description = connect::describe(&options);
        let settings = PoolSettings {
            read_only: true,
            ..settings
        };
        let pool = connect::lazy_pool(options, settings, STANDBY_ACQUIRE);
        let reads = Reads {
            primary,
            standby: Some(Arc::new(Standby {
                pool,
                description,
                wanted: AtomicU64::new(0),
                replayed: AtomicU64::new(0),
                health: Mutex::new(Health::Unknown),
                history: Mutex::new(VecDeque::new()),
                fell_back: Mutex::new(None),
            })),
        };
        Ok(reads)
    }

    /// The primary's pool (writes, and reads that must be current).
    pub fn primary(&self) -> &PgPool {
        &self.primary
    }

    /// Every server reads may be on: the primary, and the standby if there is one.
    pub fn pools(&self) -> Vec<PgPool> {
        std::iter::once(self.primary.clone())
            .chain(self.standby.iter().map(|s| s.pool.clone()))
            .collect()
    }

    /// The standby's description, when there is one.
    pub fn standby_description(&self) -> Option<&str> {
        self.standby.as_deref().map(|s| s.description.as_str())
    }

    /// Runs `read` on the standby when it can serve it, else on the primary; a read the
    /// standby's connection failed is run again on the primary.
    pub async fn read<T, F, Fut>(&self, read: F) -> Result<T, DbError>
    where
        F: Fn(PgPool) -> Fut,
        Fut: Future<Output = Result<T, DbError>>,
    {
        if let Some(s) = &self.standby
            && ready(s).await
        {
            match read(s.pool.clone()).await {
                Err(e) if standby_failed(&e) => {
                    tracing::warn!("a read on the standby failed, read from the primary: {e}");
                    *lock(&s.health) = Health::Unreachable(e.brief());
                }
                done => return done,
            }
        }
        read(self.primary.clone()).await
    }

    /// The pool a long read (an export, a verify) should use, chosen once.
    pub async fn pool(&self) -> PgPool {
        match &self.standby {
            Some(s) if ready(s).await => s.pool.clone(),
            _ => self.primary.clone(),
        }
    }

    /// Makes later reads see everything the primary has committed so far: this process's own
    /// write, or an entry it heard of. Nothing to do without a standby.
    pub async fn caught_up_to_primary(&self) {
        let Some(s) = &self.standby else { return };
        match position(&self.primary, Position::Written).await {
            Ok(Some(p)) => {
                s.wanted.fetch_max(p.max(0) as u64, Ordering::SeqCst);
            }
            Ok(None) => {}
            Err(e) => tracing::warn!("reading the primary's WAL position: {e}"),
        }
    }

    /// Measures the standby (in recovery? how far behind?) and keeps the answer for the reads
    /// that follow. None without a standby.
    pub async fn probe(&self) -> Option<View> {
        let s = self.standby.as_ref()?;
        let health = match tokio::time::timeout(PROBE_TIMEOUT, measure(&self.primary, s)).await {
            Ok(Ok(h)) => h,
            Ok(Err(e)) => Health::Unreachable(e.brief()),
            Err(_) => {
                Health::Unreachable(format!("no answer within {} s", PROBE_TIMEOUT.as_secs()))
            }
        };
        *lock(&s.health) = health;
        Some(self.view_of(s))
    }

    /// What the console shows, as of the last probe and reads. None without a standby.
    pub fn view(&self) -> Option<View> {
        self.standby.as_ref().map(|s| self.view_of(s))
    }

    fn view_of(&self, s: &Standby) -> View {
        let fell_back = lock(&s.fell_back).is_some_and(|t| t.elapsed() < FELL_BACK_SHOWN);
        View {
            health: lock(&s.health).clone(),
            fell_back,
        }
    }

    /// `check`'s view of the standby: reachable, in recovery, a copy of the primary, its lag.
    pub async fn standby_report(&self) -> Option<StandbyReport> {
        let s = self.standby.as_ref()?;
        let mut report = StandbyReport {
            description: s.description.clone(),
            reachable: false,
            in_recovery: false,
            same_system: None,
            lag_s: None,
            state: String::new(),
            error: None,
        };
        let asked = async {
            let in_recovery: bool = super::query_scalar("SELECT pg_is_in_recovery()")
                .fetch_one(&mut *super::pinned(&s.pool).await?)
                .await?;
            Ok::<bool, DbError>(in_recovery)
        };
        match tokio::time::timeout(PROBE_TIMEOUT, asked).await {
            Ok(Ok(in_recovery)) => {
                report.reachable = true;
                report.in_recovery = in_recovery;
            }
            Ok(Err(e)) => report.error = Some(e.brief()),
            Err(_) => {
                report.error = Some(format!("no answer within {} s", PROBE_TIMEOUT.as_secs()))
            }
        }
        if report.reachable {
            report.same_system = match (
                system_identifier(&self.primary).await,
                system_identifier(&s.pool).await,
            ) {
                (Ok(a), Ok(b)) => Some(a == b),
                _ => None,
            };
        }
        // Unreachable: said once (probing again would wait as long again); not a standby of
        // this primary: never read from.
        let view = if !report.reachable {
            *lock(&s.health) = Health::Unreachable(report.error.clone().unwrap_or_default());
            self.view_of(s)
        } else if !report.usable() {
            *lock(&s.health) = Health::NotStandby;
            self.view_of(s)
        } else {
            self.probe().await.unwrap_or(View {
                health: Health::Unknown,
                fell_back: false,
            })
        };
        if let Health::Following { lag_s } | Health::Behind { lag_s } = view.health {
            report.lag_s = Some(lag_s);
        }
        report.state = view.health.describe();
        Some(report)
    }
}

/// Whether reads may go to the standby now: it is following, and it has replayed what this
/// process must see (waiting up to [`CATCH_UP_WAIT`] for that).
async fn ready(s: &Standby) -> bool {
    if !lock(&s.health).serves_reads() {
        return false;
    }
    let wanted = s.wanted.load(Ordering::SeqCst);
    if s.replayed.load(Ordering::SeqCst) >= wanted {
        return true;
    }
    // Once it has been too slow, it is asked once, not waited for again, until it catches up.
    let lagging = lock(&s.fell_back).is_some_and(|t| t.elapsed() < FELL_BACK_SHOWN);
    let deadline = Instant::now()
        + if lagging {
            Duration::ZERO
        } else {
            CATCH_UP_WAIT
        };
    loop {
        match position(&s.pool, Position::Replayed).await {
            Ok(Some(p)) => {
                let p = p.max(0) as u64;
                s.replayed.fetch_max(p, Ordering::SeqCst);
                if p >= wanted {
                    return true;
                }
            }
            Ok(None) => {
                *lock(&s.health) = Health::NotStandby;
                return false;
            }
            Err(e) => {
                *lock(&s.health) = Health::Unreachable(e.brief());
                return false;
            }
        }
        if Instant::now() >= deadline {
            *lock(&s.fell_back) = Some(Instant::now());
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// One probe: the primary's position now, the standby's replay position, and from the history
/// of the primary's positions how long ago the primary was where the standby is.
async fn measure(primary: &PgPool, s: &Standby) -> Result<Health, DbError> {
    let now = Instant::now();
    let primary_at = position(primary, Position::Flushed)
        .await?
        .unwrap_or(0)
        .max(0) as u64;
    let (in_recovery, replay): (bool, Option<i64>) = super::query_as(
        "SELECT pg_is_in_recovery(), \
                pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0')::bigint",
    )
    .fetch_one(&mut *super::pinned(&s.pool).await?)
    .await?;
    if !in_recovery {
        return Ok(Health::NotStandby);
    }
    let replayed = replay.unwrap_or(0).max(0) as u64;
    s.replayed.fetch_max(replayed, Ordering::SeqCst);
    let mut history = lock(&s.history);
    history.push_back((now, primary_at));
    // Enough history to measure lags past MAX_LAG at one probe a second.
    while history.len() > 120 {
        history.pop_front();
    }
    let lag = lag_of(&history, replayed, now);
    Ok(if lag > MAX_LAG {
        // Rounded up: 30.4 s is over the limit of 30 s, and says so ("31 s behind").
        Health::Behind {
            lag_s: lag.as_secs() + u64::from(lag.subsec_nanos() > 0),
        }
    } else {
        Health::Following {
            lag_s: lag.as_secs(),
        }
    })
}

/// How long ago the primary was at a position the standby has replayed: zero when it has
/// replayed the newest; the age of the oldest known position when it has not even that.
fn lag_of(history: &VecDeque<(Instant, u64)>, replayed: u64, now: Instant) -> Duration {
    let Some(&(_, newest)) = history.back() else {
        return Duration::ZERO;
    };
    if replayed >= newest {
        return Duration::ZERO;
    }
    // The oldest position the standby has not replayed: the primary moved past `replayed` no
    // later than then.
    let oldest_unreplayed = history
        .iter()
        .find(|(_, p)| *p > replayed)
        .map(|(t, _)| *t)
        .unwrap_or(now);
    now.saturating_duration_since(oldest_unreplayed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lag_is_the_age_of_the_oldest_position_not_replayed() {
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        let history: VecDeque<(Instant, u64)> =
            [(at(0), 100), (at(1), 100), (at(2), 250), (at(3), 400)].into();
        assert_eq!(lag_of(&history, 400, at(3)), Duration::ZERO);
        assert_eq!(lag_of(&history, 500, at(3)), Duration::ZERO);
        // It has replayed 100 but not 250, which the primary had passed 1 s before `now`'s
        // probe at 3 s: 1 s behind.
        assert_eq!(lag_of(&history, 100, at(3)), Duration::from_secs(1));
        assert_eq!(lag_of(&history, 50, at(3)), Duration::from_secs(3));
        assert_eq!(lag_of(&VecDeque::new(), 0, at(3)), Duration::ZERO);
    }

    #[test]
    fn only_a_following_standby_serves_reads_and_the_rest_says_why() {
        assert!(Health::Following { lag_s: 2 }.serves_reads());
        assert!(Health::Unknown.serves_reads());
        for h in [
            Health::Behind { lag_s: 90 },
            Health::Unreachable("gone".into()),
            Health::NotStandby,
        ] {
            assert!(!h.serves_reads());
            assert!(h.describe().contains("reads on primary"), "{h:?}");
        }
        let fell = View {
            health: Health::Following { lag_s: 0 },
            fell_back: true,
        };
        assert!(fell.is_warning() && fell.describe().contains("primary"));
    }
}

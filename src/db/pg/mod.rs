//! The embedded private PostgreSQL cluster: find the server binaries, create the cluster on first
//! use, start it on a Unix socket only, share it between Switchboard processes and stop it when the
//! last one leaves.
//!
//! Everything here is synchronous (it runs `initdb` and `pg_ctl` and waits on file locks); async
//! callers run it with `tokio::task::spawn_blocking`.
//!
//! Sharing: every process that uses the cluster holds a shared `flock` on `users.lock` for as long
//! as it runs; starting and stopping happen under an exclusive `flock` on `start.lock`. A process
//! leaving takes `start.lock`, drops its shared lock and tries an exclusive one: if it gets it, no
//! one else is using the server and it stops it. The kernel drops the locks of a crashed process,
//! so a crash never leaves the server pinned; the next process reuses or restarts it.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgSslMode};

mod binaries;

pub use binaries::{PgBinaries, parse_major_version};

/// The port number names the socket file (`.s.PGSQL.5432`); no TCP port is opened.
const SOCKET_PORT: u16 = 5432;
/// The bootstrap superuser `initdb` creates.
pub const SUPERUSER: &str = "postgres";
/// Longest Unix socket path the platforms we run on accept (macOS: 104 bytes with the NUL).
const MAX_SOCKET_PATH: usize = 103;
/// Environment variable naming the one directory to take the server binaries from.
pub const BINDIR_ENV: &str = "SWITCHBOARD_PG_BINDIR";
/// Where a root user's clusters go when the postgres system user cannot reach root's data dir.
const ROOT_FALLBACK_DIR: &str = "/var/lib/switchboard/clusters";

#[derive(Debug, thiserror::Error)]
pub enum PgError {
    #[error(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found.\n\
         Switchboard runs its own private PostgreSQL database unless you point it at a server. Either:\n  \
         - install PostgreSQL (Debian/Ubuntu: `apt-get install postgresql`; macOS: `brew install postgresql@17`), or\n  \
         - connect to an existing server: `switchboard --database-url postgres://USER@HOST/DB` (or set DATABASE_URL).\n\
         Looked in: {searched}"
    )]
    BinariesNotFound { searched: String },
    #[error(
        "the private cluster at {data} was created by PostgreSQL {cluster_major}, but only PostgreSQL {found} \
         binaries were found; install PostgreSQL {cluster_major} or set {BINDIR_ENV} to its bin directory"
    )]
    VersionMismatch {
        data: PathBuf,
        cluster_major: String,
        found: String,
    },
    #[error(
        "Switchboard runs as root, and PostgreSQL refuses to run as root; it needs the `postgres` system \
         user to run the private server, and there is none. Create it, run as an ordinary user, or pass --database-url"
    )]
    NoPostgresUser,
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: io::Error,
    },
    #[error("{program} failed ({status}):\n{output}")]
    Command {
        program: String,
        status: String,
        output: String,
    },
    #[error("the private server did not become ready within {0:?}; see {1}")]
    NotReady(Duration, PathBuf),
    #[error("unsafe path for the private cluster (it contains a quote, comma or newline): {0}")]
    UnsafePath(PathBuf),
    /// A directory of the private cluster exists but is not ours alone (someone else made it,
    /// or it is a link, or others may enter it): a socket there could be someone else's.
    #[error(
        "refusing {path}: {why}. Another user may have made it to take over the private server's \
         socket; remove it, or set XDG_RUNTIME_DIR to a private directory of yours, and start again"
    )]
    NotPrivate { path: PathBuf, why: String },
}

fn io_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> PgError {
    let what = what.into();
    move |source| PgError::Io { what, source }
}

/// Which OS user runs the server processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunAs {
    CurrentUser,
    /// Switchboard runs as root: the server runs as the `postgres` system user.
    System {
        uid: u32,
        gid: u32,
    },
}

impl RunAs {
    pub fn detect() -> Result<Self, PgError> {
        if !nix::unistd::geteuid().is_root() {
            return Ok(RunAs::CurrentUser);
        }
        match nix::unistd::User::from_name(SUPERUSER) {
            Ok(Some(user)) => Ok(RunAs::System {
                uid: user.uid.as_raw(),
                gid: user.gid.as_raw(),
            }),
            _ => Err(PgError::NoPostgresUser),
        }
    }

    fn command(self, program: PathBuf, cwd: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(cwd);
        // The server must outlive a Ctrl-C aimed at this terminal's foreground process group:
        // stopping it is our job, once no other Switchboard process still uses it.
        cmd.process_group(0);
        if let RunAs::System { uid, gid } = self {
            cmd.uid(uid).gid(gid);
            cmd.env_remove("HOME");
        }
        cmd
    }

    /// The uid that owns the server's files.
    fn uid(self) -> u32 {
        match self {
            RunAs::CurrentUser => nix::unistd::geteuid().as_raw(),
            RunAs::System { uid, .. } => uid,
        }
    }

    fn chown(self, path: &Path) -> Result<(), PgError> {
        if let RunAs::System { uid, gid } = self {
            std::os::unix::fs::chown(path, Some(uid), Some(gid)).map_err(io_err(format!(
                "giving {} to the postgres user",
                path.display()
            )))?;
        }
        Ok(())
    }

    /// Whether this user may enter `dir` and each directory above it.
    fn can_reach(self, dir: &Path) -> bool {
        let RunAs::System { uid, gid } = self else {
            return true;
        };
        dir.ancestors().all(|d| match fs::metadata(d) {
            Err(_) => true, // not created yet: we create it with the right owner
            Ok(m) => {
                let mode = m.mode();
                if m.uid() == uid {
                    mode & 0o100 != 0
                } else if m.gid() == gid {
                    mode & 0o010 != 0
                } else {
                    mode & 0o001 != 0
                }
            }
        })
    }
}

/// Where one private cluster lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterPaths {
    /// Holds everything below; owned by the server's user.
    pub base: PathBuf,
    pub data: PathBuf,
    pub socket_dir: PathBuf,
    pub server_log: PathBuf,
}

impl ClusterPaths {
    /// The layout below `base`. The socket goes to `base/run` unless that path is too long for a
    /// Unix socket, in which case a short directory under the system temp dir is used.
    pub fn new(base: impl Into<PathBuf>) -> Self {
        let base: PathBuf = base.into();
        let mut socket_dir = base.join("run");
        let socket_file_len = format!("/.s.PGSQL.{SOCKET_PORT}").len();
        if socket_dir.as_os_str().len() + socket_file_len > MAX_SOCKET_PATH {
            // The user's runtime directory (private, per user) when there is one, else the
            // system temp dir; either way the directory is created private or checked to be.
            // (Not as root: the server then runs as postgres, which cannot enter root's.)
            let short_base = std::env::var_os("XDG_RUNTIME_DIR")
                .filter(|_| !nix::unistd::geteuid().is_root())
                .map(PathBuf::from)
                .filter(|d| d.is_absolute() && d.is_dir())
                .filter(|d| d.as_os_str().len() + 40 + socket_file_len <= MAX_SOCKET_PATH)
                .unwrap_or_else(std::env::temp_dir);
            socket_dir = short_base.join(format!(
                "switchboard-{}-{:016x}",
                nix::unistd::geteuid().as_raw(),
                fnv1a(base.as_os_str().as_encoded_bytes())
            ));
        }
        ClusterPaths {
            data: base.join("data"),
            server_log: base.join("server.log"),
            socket_dir,
            base,
        }
    }

    /// The cluster for the user's data directory: `<data_dir>/pg`. When Switchboard runs as root
    /// and the postgres system user cannot reach that directory (root's home is private), the
    /// cluster lives under `/var/lib/switchboard/clusters/` and `<data_dir>/pg` is a symlink to it.
    pub fn for_data_dir(data_dir: &Path, run_as: RunAs) -> Result<Self, PgError> {
        Self::for_data_dir_in(data_dir, run_as, Path::new(ROOT_FALLBACK_DIR))
    }

    /// [`ClusterPaths::for_data_dir`] with the directory that holds root's clusters named.
    fn for_data_dir_in(data_dir: &Path, run_as: RunAs, fallback: &Path) -> Result<Self, PgError> {
        let link = data_dir.join("pg");
        let linked = fs::read_link(&link).ok();
        if linked.is_none() && (link.exists() || run_as.can_reach(&link)) {
            return Ok(Self::new(link));
        }
        let target = linked.clone().unwrap_or_else(|| {
            fallback.join(format!(
                "{:016x}",
                fnv1a(link.as_os_str().as_encoded_bytes())
            ))
        });
        // An earlier build made it here as root's, and then refused it as not the server
        // user's: an empty one of root's (only root can write the holder) is given to the
        // server's user and closed, as it would have been made. (Given, not removed: another
        // first start may be making it right now.)
        let inside = target.starts_with(fallback)
            && !target
                .components()
                .any(|c| matches!(c, std::path::Component::ParentDir));
        if inside && let Ok(meta) = fs::symlink_metadata(&target) {
            use std::os::unix::fs::MetadataExt;
            let ours = meta.is_dir() && meta.uid() == nix::unistd::geteuid().as_raw();
            let empty = fs::read_dir(&target).is_ok_and(|mut d| d.next().is_none());
            if ours && empty && meta.uid() != run_as.uid() {
                run_as.chown(&target)?;
                fs::set_permissions(&target, fs::Permissions::from_mode(0o700))
                    .map_err(io_err(format!("closing {}", target.display())))?;
            }
        }
        if linked.is_some() {
            return Ok(Self::new(target));
        }
        // Only the holder is made here, open for the server's user to pass through; the
        // cluster's own directory is made private, and owned by that user, when it starts.
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o755)
            .create(fallback)
            .map_err(io_err(format!("creating {}", fallback.display())))?;
        // 0755 whatever root's umask: the server's user must pass through.
        fs::set_permissions(fallback, fs::Permissions::from_mode(0o755))
            .map_err(io_err(format!("opening {}", fallback.display())))?;
        fs::create_dir_all(data_dir).map_err(io_err(format!("creating {}", data_dir.display())))?;
        std::os::unix::fs::symlink(&target, &link)
            .map_err(io_err(format!("linking {}", link.display())))?;
        Ok(Self::new(target))
    }

    fn pid_file(&self) -> PathBuf {
        self.data.join("postmaster.pid")
    }
    fn start_lock(&self) -> PathBuf {
        self.base.join("start.lock")
    }
    fn users_lock(&self) -> PathBuf {
        self.base.join("users.lock")
    }
    /// Present from `initdb` until the demo data has been loaded into the new cluster.
    fn demo_marker(&self) -> PathBuf {
        self.base.join("demo-data-pending")
    }

    pub fn is_initialised(&self) -> bool {
        self.data.join("PG_VERSION").is_file()
    }

    /// The major version that created the cluster, if it exists.
    pub fn cluster_major(&self) -> Option<String> {
        fs::read_to_string(self.data.join("PG_VERSION"))
            .ok()
            .map(|s| s.trim().to_string())
    }
}

/// 64-bit FNV-1a: a stable short name for a path (not for security).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Options for starting a cluster.
#[derive(Debug, Clone, Copy, Default)]
pub struct StartOptions {
    /// Skip `initdb`'s final fsync (tests: faster, and the cluster is disposable).
    pub no_sync: bool,
}

/// A running private cluster this process is registered with. Dropping it unregisters, and stops
/// the server when no other process uses it.
#[derive(Debug)]
pub struct Cluster {
    paths: ClusterPaths,
    bins: PgBinaries,
    run_as: RunAs,
    users_lock: Option<File>,
    created: bool,
}

impl Cluster {
    /// Creates the cluster if it does not exist, starts the server unless another Switchboard
    /// process already runs it, and registers this process as one of its users.
    pub fn start(
        paths: ClusterPaths,
        bins: PgBinaries,
        run_as: RunAs,
        options: StartOptions,
    ) -> Result<Cluster, PgError> {
        for p in [&paths.data, &paths.socket_dir] {
            let s = p.to_string_lossy();
            if s.contains(['\'', ',', '\n', '\\']) {
                return Err(PgError::UnsafePath(p.clone()));
            }
        }
        if let Some(major) = paths.cluster_major()
            && major != bins.major
        {
            return Err(PgError::VersionMismatch {
                data: paths.data.clone(),
                cluster_major: major,
                found: bins.major.clone(),
            });
        }
        make_private_dir(&paths.base, run_as)?;
        let start_lock = open_lock(&paths.start_lock())?;
        start_lock
            .lock()
            .map_err(io_err("locking the private cluster"))?;
        let users_lock = open_lock(&paths.users_lock())?;
        users_lock
            .lock_shared()
            .map_err(io_err("registering with the private cluster"))?;
        let mut cluster = Cluster {
            paths,
            bins,
            run_as,
            users_lock: Some(users_lock),
            created: false,
        };
        let result = (|| {
            cluster.created = cluster.init_if_missing(options)?;
            cluster.ensure_running()
        })();
        // Release the start lock before `cluster` can drop: on failure its drop unregisters, and
        // that takes the start lock again.
        drop(start_lock);
        result?;
        Ok(cluster)
    }

    pub fn paths(&self) -> &ClusterPaths {
        &self.paths
    }

    /// Whether this process ran `initdb` for the cluster.
    pub fn was_created(&self) -> bool {
        self.created
    }

    /// Whether the cluster was created but has not had its demo data loaded yet.
    pub fn demo_data_pending(&self) -> bool {
        self.paths.demo_marker().exists()
    }

    /// Records that the demo data is in (or must not be loaded).
    pub fn clear_demo_data_pending(&self) -> Result<(), PgError> {
        match fs::remove_file(self.paths.demo_marker()) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                Err(io_err("clearing the demo-data marker")(e))
            }
            _ => Ok(()),
        }
    }

    /// Connection options for `database` on the private socket.
    pub fn connect_options(&self, database: &str) -> PgConnectOptions {
        PgConnectOptions::new_without_pgpass()
            .socket(&self.paths.socket_dir)
            .port(SOCKET_PORT)
            .username(SUPERUSER)
            .database(database)
            .ssl_mode(PgSslMode::Disable)
    }

    fn init_if_missing(&self, options: StartOptions) -> Result<bool, PgError> {
        if self.paths.is_initialised() {
            return Ok(false);
        }
        // initdb into a scratch directory and rename it into place, so that an interrupted
        // initdb never leaves a half-made cluster where the next start would find it.
        let scratch = self.paths.base.join("data.initdb");
        if scratch.exists() {
            fs::remove_dir_all(&scratch).map_err(io_err(format!(
                "removing an interrupted initdb at {}",
                scratch.display()
            )))?;
        }
        let mut cmd = self
            .run_as
            .command(self.bins.program("initdb"), &self.paths.base);
        cmd.arg("-D").arg(&scratch).args([
            "-U",
            SUPERUSER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
        ]);
        if options.no_sync {
            cmd.arg("--no-sync");
        }
        run(cmd, "initdb")?;
        let conf = format!(
            "\n# Switchboard's private cluster: a Unix socket only this user can open, no TCP port.\n\
             listen_addresses = ''\n\
             port = {SOCKET_PORT}\n\
             unix_socket_directories = '{}'\n\
             unix_socket_permissions = 0700\n",
            self.paths.socket_dir.display()
        );
        OpenOptions::new()
            .append(true)
            .open(scratch.join("postgresql.conf"))
            .and_then(|mut f| f.write_all(conf.as_bytes()))
            .map_err(io_err("configuring the private cluster"))?;
        File::create(self.paths.demo_marker()).map_err(io_err("marking the new cluster"))?;
        fs::rename(&scratch, &self.paths.data)
            .map_err(io_err("moving the new cluster into place"))?;
        tracing::info!(data = %self.paths.data.display(), "created private cluster");
        Ok(true)
    }

    fn ensure_running(&self) -> Result<(), PgError> {
        match self.server_state() {
            ServerState::Ready => {
                tracing::info!("reusing the running private server");
                return Ok(());
            }
            ServerState::Busy => {
                // Starting up or shutting down (another process stopping it): wait it out.
                self.wait_for(|s| s != ServerState::Busy, Duration::from_secs(60))?;
                if self.server_state() == ServerState::Ready {
                    return Ok(());
                }
            }
            ServerState::Stale(pid) => {
                tracing::warn!(
                    pid,
                    "removing a stale postmaster.pid left by a crashed server"
                );
                self.remove_stale_lock_files();
            }
            ServerState::Stopped => {}
        }
        make_private_dir(&self.paths.socket_dir, self.run_as)?;
        let mut cmd = self
            .run_as
            .command(self.bins.program("pg_ctl"), &self.paths.base);
        cmd.arg("-D")
            .arg(&self.paths.data)
            .arg("-l")
            .arg(&self.paths.server_log)
            .args(["-w", "-t", "60", "-s", "start"]);
        if let Err(e) = run(cmd, "pg_ctl start") {
            // The server's own log says why; surface its tail.
            let tail = log_tail(&self.paths.server_log, 8);
            return Err(match e {
                PgError::Command {
                    program,
                    status,
                    output,
                } => PgError::Command {
                    program,
                    status,
                    output: format!(
                        "{output}\nlast lines of {}:\n{tail}",
                        self.paths.server_log.display()
                    ),
                },
                other => other,
            });
        }
        self.wait_for(|s| s == ServerState::Ready, Duration::from_secs(60))?;
        tracing::info!("started private server");
        Ok(())
    }

    fn wait_for(
        &self,
        done: impl Fn(ServerState) -> bool,
        timeout: Duration,
    ) -> Result<(), PgError> {
        let deadline = Instant::now() + timeout;
        while !done(self.server_state()) {
            if Instant::now() > deadline {
                return Err(PgError::NotReady(timeout, self.paths.server_log.clone()));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }

    fn server_state(&self) -> ServerState {
        let Ok(text) = fs::read_to_string(self.paths.pid_file()) else {
            return ServerState::Stopped;
        };
        server_state_from_pid_file(&text)
    }

    fn remove_stale_lock_files(&self) {
        let socket_lock = self
            .paths
            .socket_dir
            .join(format!(".s.PGSQL.{SOCKET_PORT}.lock"));
        let socket = self
            .paths
            .socket_dir
            .join(format!(".s.PGSQL.{SOCKET_PORT}"));
        for f in [self.paths.pid_file(), socket_lock, socket] {
            let _ = fs::remove_file(f);
        }
    }

    /// Unregisters this process; stops the server if no other process uses it. Idempotent.
    pub fn stop(&mut self) -> Result<(), PgError> {
        let Some(users_lock) = self.users_lock.take() else {
            return Ok(());
        };
        let start_lock = open_lock(&self.paths.start_lock())?;
        start_lock
            .lock()
            .map_err(io_err("locking the private cluster"))?;
        users_lock
            .unlock()
            .map_err(io_err("unregistering from the private cluster"))?;
        if users_lock.try_lock().is_err() {
            tracing::info!("leaving the private server running for another Switchboard process");
            return Ok(());
        }
        stop_server(&self.paths, &self.bins, self.run_as)
    }
}

/// Stops the server of `paths` if it runs. The caller holds the start lock.
fn stop_server(paths: &ClusterPaths, bins: &PgBinaries, run_as: RunAs) -> Result<(), PgError> {
    if fs::read_to_string(paths.pid_file())
        .map(|text| matches!(server_state_from_pid_file(&text), ServerState::Stale(_)))
        .unwrap_or(true)
    {
        return Ok(());
    }
    let mut cmd = run_as.command(bins.program("pg_ctl"), &paths.base);
    cmd.arg("-D")
        .arg(&paths.data)
        .args(["-m", "fast", "-w", "-t", "60", "-s", "stop"]);
    run(cmd, "pg_ctl stop")?;
    tracing::info!("stopped private server");
    Ok(())
}

/// Waits until no process is registered with the cluster, then stops its server.
///
/// For users of the cluster that cannot unregister themselves: test binaries never run the
/// destructors of their statics, so the test harness leaves a detached reaper behind. Only one
/// reaper per cluster runs; others return at once.
pub fn reap_when_unused(paths: &ClusterPaths, poll: Duration) -> Result<(), PgError> {
    let reaper = open_lock(&paths.base.join("reaper.lock"))?;
    if reaper.try_lock().is_err() {
        return Ok(());
    }
    let run_as = RunAs::detect()?;
    let bins = PgBinaries::locate(paths.cluster_major().as_deref())?;
    loop {
        std::thread::sleep(poll);
        let start_lock = open_lock(&paths.start_lock())?;
        start_lock
            .lock()
            .map_err(io_err("locking the private cluster"))?;
        let users = open_lock(&paths.users_lock())?;
        if users.try_lock().is_ok() {
            return stop_server(paths, &bins, run_as);
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Err(e) = self.stop() {
            tracing::error!("stopping the private server: {e}");
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ServerState {
    Stopped,
    /// A server for this data directory is up and accepting connections.
    Ready,
    /// Starting or shutting down.
    Busy,
    /// `postmaster.pid` names a process that is gone, or is not a PostgreSQL server.
    Stale(i32),
}

/// Reads `postmaster.pid`: line 1 is the PID, the last line the server's status (PostgreSQL ≥ 10).
fn server_state_from_pid_file(text: &str) -> ServerState {
    let mut lines = text.lines();
    let Some(pid) = lines.next().and_then(|l| l.trim().parse::<i32>().ok()) else {
        // Being written right now.
        return ServerState::Busy;
    };
    if !process_is_postgres(pid) {
        return ServerState::Stale(pid);
    }
    let status = text.lines().last().unwrap_or("").trim();
    match status {
        "ready" => ServerState::Ready,
        _ => ServerState::Busy,
    }
}

fn process_is_postgres(pid: i32) -> bool {
    use nix::errno::Errno;
    use nix::sys::signal::kill;
    if pid <= 0 {
        return false;
    }
    match kill(nix::unistd::Pid::from_raw(pid), None) {
        Ok(()) | Err(Errno::EPERM) => {}
        Err(_) => return false,
    }
    // After a reboot the PID may belong to some other program. Linux tells us which.
    match fs::read_to_string(format!("/proc/{pid}/comm")) {
        Ok(comm) => comm.trim().starts_with("postgres") || comm.trim().starts_with("postmaster"),
        Err(_) => !Path::new("/proc/self").exists(),
    }
}

/// Creates `dir` private (0700, owned by the server's user), or checks that an existing one is:
/// a directory, not a link, owned by that user, closed to everyone else. Never takes over a
/// directory someone else made.
fn make_private_dir(dir: &Path, run_as: RunAs) -> Result<(), PgError> {
    use std::os::unix::fs::MetadataExt;
    let created = match fs::symlink_metadata(dir) {
        Ok(_) => false,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            // Parents get the usual permissions (the postgres user may need to pass through
            // them); only the directory itself is private.
            if let Some(parent) = dir.parent() {
                fs::create_dir_all(parent)
                    .map_err(io_err(format!("creating {}", parent.display())))?;
            }
            match fs::DirBuilder::new().mode(0o700).create(dir) {
                Ok(()) => true,
                // Made meanwhile, by another process: checked below like any existing one.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => false,
                Err(e) => return Err(io_err(format!("creating {}", dir.display()))(e)),
            }
        }
        Err(e) => return Err(io_err(format!("inspecting {}", dir.display()))(e)),
    };
    if created {
        run_as.chown(dir)?;
    }
    let meta =
        fs::symlink_metadata(dir).map_err(io_err(format!("inspecting {}", dir.display())))?;
    let not_private = |why: String| PgError::NotPrivate {
        path: dir.to_path_buf(),
        why,
    };
    if !meta.file_type().is_dir() {
        return Err(not_private(
            "it is not a directory (a link, or a file)".into(),
        ));
    }
    if meta.uid() != run_as.uid() {
        return Err(not_private(format!(
            "it belongs to uid {}, not to uid {} that runs the server",
            meta.uid(),
            run_as.uid()
        )));
    }
    if meta.mode() & 0o077 != 0 {
        return Err(not_private(format!(
            "its mode is {:o}: others may enter it",
            meta.mode() & 0o777
        )));
    }
    Ok(())
}

fn open_lock(path: &Path) -> Result<File, PgError> {
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(io_err(format!("opening {}", path.display())))
}

fn run(mut cmd: Command, program: &str) -> Result<Output, PgError> {
    tracing::debug!(?cmd, "running");
    let out = cmd.output().map_err(io_err(format!("running {program}")))?;
    if out.status.success() {
        return Ok(out);
    }
    let mut output = String::from_utf8_lossy(&out.stderr).into_owned();
    output.push_str(&String::from_utf8_lossy(&out.stdout));
    Err(PgError::Command {
        program: program.to_string(),
        status: out.status.to_string(),
        output: output.trim().to_string(),
    })
}

fn log_tail(path: &Path, lines: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
mod tests;

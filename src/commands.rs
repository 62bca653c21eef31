//! The admin actions as subcommands, for support macros and scripts: the same action layer as
//! the console's forms, signed in the same way.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use uuid::Uuid;

use switchboard::actions::auth::{self, Secret, SignInMethod};
use switchboard::actions::{
    self, ActionError, Actor, AuditContext, MAX_CREDIT_CHANGE, Outcome, Request, Role, Session,
    targets,
};
use switchboard::db::connect::{Connection, Target};

/// How an action command signs in and reports.
#[derive(Debug, Args)]
pub struct ActionOptions {
    /// Read the admin's password from the first line of FILE instead of asking on the terminal.
    #[arg(long, global = true, value_name = "FILE")]
    pub password_file: Option<PathBuf>,

    /// `admin create` / `set-password` signed in as a super_admin: read that admin's password
    /// from FILE (--password-file is the new password there).
    #[arg(long, global = true, value_name = "FILE")]
    pub admin_password_file: Option<PathBuf>,

    /// Print the result (or the refusal) as one JSON object on stdout.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum AdminCmd {
    /// Create an admin account (the first super_admin needs no sign-in; after that, a super_admin).
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = ["admin", "super_admin"])]
        role: String,
    },
    /// Set an admin account's password (same rule as create).
    SetPassword {
        /// The admin account's email.
        email: String,
    },
}

#[derive(Debug, Args)]
pub struct CreditArgs {
    /// The user's email or id.
    #[arg(long)]
    user: String,
    /// A positive whole number of credits.
    #[arg(long, value_parser = clap::value_parser!(i64).range(1..=MAX_CREDIT_CHANGE))]
    amount: i64,
    /// Why (kept in the audit log).
    #[arg(long)]
    reason: String,
    /// Applies the change once however often the command is run with the same key (a new key
    /// by default).
    #[arg(long, value_name = "UUID")]
    idempotency_key: Option<Uuid>,
}

#[derive(Debug, Subcommand)]
pub enum CreditsCmd {
    /// Add credits to a user's balance.
    TopUp(CreditArgs),
    /// Take credits from a user's balance (never below zero).
    Deduct(CreditArgs),
}

#[derive(Debug, Args)]
pub struct UserArg {
    /// The user's email or id.
    #[arg(long)]
    user: String,
}

#[derive(Debug, Subcommand)]
pub enum UsersCmd {
    Activate(UserArg),
    Deactivate(UserArg),
    /// End every unexpired session of the user.
    RevokeSessions(UserArg),
    /// Mark the user's email address verified.
    VerifyEmail(UserArg),
    /// Change a user's role (super_admin).
    SetRole {
        #[command(flatten)]
        user: UserArg,
        #[arg(long, value_parser = ["user", "admin", "super_admin"])]
        role: String,
    },
    /// Move a user to another tenant (super_admin).
    Move {
        #[command(flatten)]
        user: UserArg,
        /// The tenant's exact name or id.
        #[arg(long)]
        tenant: String,
    },
}

#[derive(Debug, Args)]
pub struct TenantArg {
    /// The tenant's exact name or id.
    #[arg(long)]
    tenant: String,
}

#[derive(Debug, Subcommand)]
pub enum TenantsCmd {
    Create {
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "pro", value_parser = actions::PLANS)]
        plan: String,
    },
    Rename {
        #[command(flatten)]
        tenant: TenantArg,
        #[arg(long)]
        name: String,
    },
    SetPlan {
        #[command(flatten)]
        tenant: TenantArg,
        #[arg(long, value_parser = actions::PLANS)]
        plan: String,
    },
    Activate(TenantArg),
    Deactivate(TenantArg),
}

#[derive(Debug, Args)]
pub struct AgentArg {
    /// The agent's id or Bolna agent id.
    #[arg(long)]
    agent: String,
}

#[derive(Debug, Subcommand)]
pub enum AgentsCmd {
    Rename {
        #[command(flatten)]
        agent: AgentArg,
        #[arg(long)]
        name: String,
    },
    /// Set the description ("" clears it).
    Describe {
        #[command(flatten)]
        agent: AgentArg,
        #[arg(long)]
        description: String,
    },
    Activate(AgentArg),
    Deactivate(AgentArg),
}

#[derive(Debug, Args)]
pub struct NumberArg {
    /// The number in E.164 (its active row, else its only row) or the row's id.
    #[arg(long)]
    number: String,
}

#[derive(Debug, Subcommand)]
pub enum NumbersCmd {
    /// Add a phone number (super_admin).
    Add {
        #[arg(long)]
        number: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        bolna_id: String,
    },
    /// Assign a number to an active user, or reassign it.
    Assign {
        #[command(flatten)]
        number: NumberArg,
        /// The user's email or id.
        #[arg(long)]
        user: String,
    },
    Unassign(NumberArg),
    Activate(NumberArg),
    Deactivate(NumberArg),
}

#[derive(Debug, Subcommand)]
pub enum SettingsCmd {
    /// Set the most an admin (not a super_admin) may add or take in one credit change
    /// (super_admin; audited as settings.admin_credit_cap).
    SetCreditCap {
        #[arg(value_parser = clap::value_parser!(i64).range(1..=MAX_CREDIT_CHANGE))]
        cap: i64,
    },
}

/// An action subcommand.
#[derive(Debug)]
pub enum ActionCmd {
    Settings(SettingsCmd),
    Credits(CreditsCmd),
    Users(UsersCmd),
    Tenants(TenantsCmd),
    Agents(AgentsCmd),
    Numbers(NumbersCmd),
}

/// Why an action command stopped.
#[derive(Debug, thiserror::Error)]
pub enum CmdError {
    #[error(transparent)]
    Action(#[from] ActionError),
    #[error("{0}")]
    Usage(String),
    /// The reader of standard output went away: stop quietly.
    #[error("stopped: the output was closed")]
    Stopped,
}

/// Reads the password from `--password-file`, the demo data, or the terminal (never echoed).
fn password_for(email: &str, file: Option<&Path>, prompt_twice: bool) -> Result<Secret, CmdError> {
    if let Some(file) = file {
        let text = std::fs::read_to_string(file)
            .map_err(|e| CmdError::Usage(format!("cannot read {}: {e}", file.display())))?;
        let line = text.lines().next().unwrap_or_default();
        return Ok(Secret::new(line));
    }
    let ask = |prompt: &str| {
        rpassword::prompt_password(prompt).map_err(|e| {
            CmdError::Usage(format!(
                "cannot ask for the password ({e}); use --password-file FILE"
            ))
        })
    };
    let first = ask(&format!("Password for {email}: "))?;
    if prompt_twice && ask("Repeat the password: ")? != first {
        return Err(CmdError::Usage(
            "the two passwords differ; nothing was changed".into(),
        ));
    }
    Ok(Secret::new(first))
}

/// Signs the command in as `admin`, with the password from `password_file` or the terminal; on
/// the embedded default a demo account needs no password.
pub async fn sign_in(
    conn: &Connection,
    target: &Target,
    admin: Option<&str>,
    password_file: Option<&Path>,
    read_only: bool,
) -> Result<Actor, CmdError> {
    use switchboard::db::demo::DEMO_SUPER_ADMIN;
    let embedded = matches!(target, Target::Embedded);
    let email = match admin {
        Some(a) => a.trim().to_string(),
        None if embedded => DEMO_SUPER_ADMIN.to_string(),
        None => {
            return Err(CmdError::Usage(
                "name the admin to act as with --admin EMAIL (or SWITCHBOARD_ADMIN, or admin = \
                 in the config file)"
                    .into(),
            ));
        }
    };
    let ctx = AuditContext::from_env();
    if embedded
        && password_file.is_none()
        && auth::is_demo_account(&conn.pool, &email)
            .await
            .map_err(ActionError::from)?
    {
        let password = Secret::new(switchboard::db::demo::DEMO_PASSWORD);
        return Ok(auth::sign_in(
            &conn.pool,
            &email,
            &password,
            SignInMethod::Demo,
            &ctx,
            read_only,
        )
        .await?);
    }
    let password = password_for(&email, password_file, false)?;
    Ok(auth::sign_in(
        &conn.pool,
        &email,
        &password,
        SignInMethod::Password,
        &ctx,
        read_only,
    )
    .await?)
}

/// `admin create` and `admin set-password`.
pub async fn run_admin(
    conn: &Connection,
    target: &Target,
    admin: Option<&str>,
    options: &ActionOptions,
    cmd: AdminCmd,
) -> Result<String, CmdError> {
    // Sign in only when an admin is named: the very first super_admin has nobody to sign in as.
    let by = match admin {
        Some(a) => Some(
            sign_in(
                conn,
                target,
                Some(a),
                options.admin_password_file.as_deref(),
                false,
            )
            .await?,
        ),
        None => None,
    };
    let ctx = AuditContext::from_env();
    match cmd {
        AdminCmd::Create { email, name, role } => {
            let role = Role::parse(&role).unwrap_or(Role::Admin);
            // The new account's password: the file, or asked twice.
            let password = password_for(&email, options.password_file.as_deref(), true)?;
            let id = auth::create_admin(
                &conn.pool,
                by.as_ref(),
                &ctx,
                &email,
                &name,
                role,
                &password,
            )
            .await?;
            Ok(format!("Created {} {email} ({id}).", role.as_str()))
        }
        AdminCmd::SetPassword { email } => {
            let password = password_for(&email, options.password_file.as_deref(), true)?;
            auth::set_password(&conn.pool, by.as_ref(), &ctx, &email, &password).await?;
            Ok(format!("Set the password of {email}."))
        }
    }
}

/// Turns an action subcommand into a request, reading what its target holds now.
async fn request(conn: &Connection, cmd: ActionCmd) -> Result<Request, ActionError> {
    let pool = &conn.pool;
    Ok(match cmd {
        ActionCmd::Settings(SettingsCmd::SetCreditCap { cap }) => Request::SetCreditCap {
            from: actions::credit_cap(pool).await?,
            to: cap,
        },
        ActionCmd::Credits(c) => {
            let (args, sign) = match c {
                CreditsCmd::TopUp(a) => (a, 1),
                CreditsCmd::Deduct(a) => (a, -1),
            };
            let user = targets::user(pool, &args.user).await?;
            Request::AdjustCredits {
                user: user.id,
                delta: sign * args.amount,
                reason: args.reason,
                key: args.idempotency_key.unwrap_or_else(Uuid::new_v4),
            }
        }
        ActionCmd::Users(c) => match c {
            UsersCmd::Activate(u) => Request::SetUserActive {
                user: targets::user(pool, &u.user).await?.id,
                active: true,
            },
            UsersCmd::Deactivate(u) => Request::SetUserActive {
                user: targets::user(pool, &u.user).await?.id,
                active: false,
            },
            UsersCmd::RevokeSessions(u) => Request::RevokeSessions {
                user: targets::user(pool, &u.user).await?.id,
            },
            UsersCmd::VerifyEmail(u) => Request::MarkEmailVerified {
                user: targets::user(pool, &u.user).await?.id,
            },
            UsersCmd::SetRole { user, role } => {
                let u = targets::user(pool, &user.user).await?;
                Request::SetRole {
                    user: u.id,
                    from: u.role,
                    to: Role::parse(&role).unwrap_or(Role::User),
                }
            }
            UsersCmd::Move { user, tenant } => {
                let u = targets::user(pool, &user.user).await?;
                Request::MoveUser {
                    user: u.id,
                    from: u.tenant_id,
                    to: tenant,
                }
            }
        },
        ActionCmd::Tenants(c) => match c {
            TenantsCmd::Create { name, plan } => Request::CreateTenant { name, plan },
            TenantsCmd::Rename { tenant, name } => {
                let t = targets::tenant(pool, &tenant.tenant).await?;
                Request::RenameTenant {
                    tenant: t.id,
                    from: t.name,
                    to: name,
                }
            }
            TenantsCmd::SetPlan { tenant, plan } => {
                let t = targets::tenant(pool, &tenant.tenant).await?;
                Request::SetPlan {
                    tenant: t.id,
                    from: t.plan,
                    to: plan,
                }
            }
            TenantsCmd::Activate(t) => Request::SetTenantActive {
                tenant: targets::tenant(pool, &t.tenant).await?.id,
                active: true,
            },
            TenantsCmd::Deactivate(t) => Request::SetTenantActive {
                tenant: targets::tenant(pool, &t.tenant).await?.id,
                active: false,
            },
        },
        ActionCmd::Agents(c) => match c {
            AgentsCmd::Rename { agent, name } => {
                let a = targets::agent(pool, &agent.agent).await?;
                Request::RenameAgent {
                    agent: a.id,
                    from: a.name,
                    to: name,
                }
            }
            AgentsCmd::Describe { agent, description } => {
                let a = targets::agent(pool, &agent.agent).await?;
                Request::SetAgentDescription {
                    agent: a.id,
                    from: a.description,
                    to: Some(description),
                }
            }
            AgentsCmd::Activate(a) => Request::SetAgentActive {
                agent: targets::agent(pool, &a.agent).await?.id,
                active: true,
            },
            AgentsCmd::Deactivate(a) => Request::SetAgentActive {
                agent: targets::agent(pool, &a.agent).await?.id,
                active: false,
            },
        },
        ActionCmd::Numbers(c) => match c {
            NumbersCmd::Add {
                number,
                name,
                bolna_id,
            } => Request::AddNumber {
                number,
                name,
                bolna_id,
            },
            NumbersCmd::Assign { number, user } => {
                let n = targets::number(pool, &number.number).await?;
                Request::AssignNumber {
                    number: n.id,
                    from: n.assigned_to,
                    to: user,
                }
            }
            NumbersCmd::Unassign(number) => {
                let n = targets::number(pool, &number.number).await?;
                match n.assigned_to {
                    Some(from) => Request::UnassignNumber { number: n.id, from },
                    None => {
                        return Err(ActionError::Invalid(format!(
                            "{} is not assigned to anyone",
                            n.phone_number
                        )));
                    }
                }
            }
            NumbersCmd::Activate(number) => Request::SetNumberActive {
                number: targets::number(pool, &number.number).await?.id,
                active: true,
            },
            NumbersCmd::Deactivate(number) => Request::SetNumberActive {
                number: targets::number(pool, &number.number).await?.id,
                active: false,
            },
        },
    })
}

/// Signs in, applies the action, and returns what to print.
pub async fn run_action(
    conn: &Connection,
    target: &Target,
    admin: Option<&str>,
    options: &ActionOptions,
    read_only: bool,
    cmd: ActionCmd,
) -> Result<Outcome, CmdError> {
    if read_only {
        return Err(ActionError::ReadOnly.into());
    }
    let actor = sign_in(
        conn,
        target,
        admin,
        options.password_file.as_deref(),
        read_only,
    )
    .await?;
    let session = Session {
        actor,
        ctx: AuditContext::from_env(),
        read_only,
    };
    let req = request(conn, cmd).await?;
    Ok(actions::apply(&conn.pool, &session, &req).await?)
}

#[derive(Debug, Subcommand)]
pub enum AuditCmd {
    /// Stream audit entries, oldest first, as CSV or JSON lines, in constant memory. The
    /// filters are the Audit log pane's.
    Export(ExportArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    Csv,
    Jsonl,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// csv (cells a spreadsheet would run as formulas get a leading ') or jsonl [default: from
    /// the --output file name, else csv]
    #[arg(long, value_enum)]
    format: Option<FormatArg>,
    /// Write to FILE (with a progress bar) instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Replace FILE if it exists.
    #[arg(long)]
    force: bool,
    /// The pane's filter, e.g. "actor:ops@example.com action:credits. since:2026-01-01".
    #[arg(long, value_name = "FILTER")]
    filter: Option<String>,
    /// Entries by this actor (email, id, or "system").
    #[arg(long)]
    actor: Option<String>,
    /// This action, or every action under a prefix ending in "." (e.g. credits.).
    #[arg(long)]
    action: Option<String>,
    /// This resource type (user, tenant, agent, phone_number, ...).
    #[arg(long = "type", value_name = "TYPE")]
    resource_type: Option<String>,
    /// This resource id.
    #[arg(long, value_name = "UUID")]
    id: Option<Uuid>,
    /// From this day (YYYY-MM-DD, UTC).
    #[arg(long, value_name = "DAY")]
    since: Option<String>,
    /// To this day, inclusive (YYYY-MM-DD, UTC).
    #[arg(long, value_name = "DAY")]
    until: Option<String>,
}

impl ExportArgs {
    /// The pane's filter text these options make.
    fn filter_text(&self) -> String {
        let mut words: Vec<String> = self.filter.iter().cloned().collect();
        let mut word = |key: &str, v: &Option<String>| {
            if let Some(v) = v {
                words.push(format!("{key}:{v}"));
            }
        };
        word("actor", &self.actor);
        word("action", &self.action);
        word("type", &self.resource_type);
        word("id", &self.id.map(|u| u.to_string()));
        word("since", &self.since);
        word("until", &self.until);
        words.join(" ")
    }
}

/// What an export did.
pub struct Exported {
    pub rows: u64,
    pub seconds: f64,
    pub output: String,
}

/// `audit export`: signs in, streams the rows, and records the export in the audit log.
pub async fn run_export(
    conn: &Connection,
    target: &Target,
    admin: Option<&str>,
    options: &ActionOptions,
    read_only: bool,
    args: ExportArgs,
) -> Result<Exported, CmdError> {
    use std::io::Write as _;
    use switchboard::db::export::{self, Format};
    use switchboard::db::lists::{Filter, ListKind};
    let text = args.filter_text();
    let filter = Filter::parse(ListKind::AuditLog, &text)
        .map_err(|e| CmdError::Usage(format!("filter: {e}")))?;
    let format = match (args.format, &args.output) {
        (Some(FormatArg::Csv), _) => Format::Csv,
        (Some(FormatArg::Jsonl), _) => Format::Jsonl,
        (None, Some(path)) => Format::for_path(path),
        (None, None) => Format::Csv,
    };
    if let Some(path) = &args.output
        && path.exists()
        && !args.force
    {
        // Checked before signing in, so that nothing is asked for in vain.
        return Err(CmdError::Usage(format!(
            "{} exists; pass --force to replace it",
            path.display()
        )));
    }
    let actor = sign_in(
        conn,
        target,
        admin,
        options.password_file.as_deref(),
        read_only,
    )
    .await?;
    let started = std::time::Instant::now();
    let (rows, output) = match &args.output {
        None => {
            let mut out = std::io::BufWriter::with_capacity(256 * 1024, std::io::stdout());
            let rows = export::export_audit(&conn.pool, &filter, format, &mut out, &mut |_| {})
                .await
                .map_err(export_error)?;
            match out.flush() {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                    return Err(CmdError::Stopped);
                }
                other => other.map_err(|e| CmdError::Usage(format!("writing: {e}")))?,
            }
            (rows, "standard output".to_string())
        }
        Some(path) => {
            let estimate = export::estimate_rows(&conn.pool, &filter).await;
            let bar = match estimate {
                Some(n) => indicatif::ProgressBar::new(n),
                None => indicatif::ProgressBar::new_spinner(),
            };
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {bar:30} {pos}/~{len} rows ({per_sec})",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let mut progress = |rows: u64| bar.set_position(rows);
            let result = export::export_to_file(
                &conn.pool,
                &filter,
                format,
                path,
                args.force,
                &mut progress,
            )
            .await;
            bar.finish_and_clear();
            (result.map_err(export_error)?, path.display().to_string())
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    if !read_only {
        let session = Session {
            actor,
            ctx: AuditContext::from_env(),
            read_only,
        };
        actions::record_export(&conn.pool, &session, &text, format, rows, &output).await?;
    }
    Ok(Exported {
        rows,
        seconds,
        output,
    })
}

fn export_error(e: switchboard::db::export::ExportError) -> CmdError {
    use switchboard::db::export::ExportError;
    match e {
        ExportError::Db(e) => CmdError::Action(ActionError::from(e)),
        // The reader stopped early (`| head`): not an error.
        ExportError::Write(e) if e.kind() == std::io::ErrorKind::BrokenPipe => CmdError::Stopped,
        e @ ExportError::Write(_) => CmdError::Usage(e.to_string()),
    }
}

/// `bench`: every figure in one run, printed as one table.
pub async fn run_bench(
    conn: &Connection,
    target: &Target,
    quick: bool,
    only: &[u8],
) -> Result<(), CmdError> {
    use switchboard::benchmark::{self as b, Effort, Figure};
    let effort = if quick { Effort::QUICK } else { Effort::FULL };
    let pool = &conn.pool;
    let db = |e: switchboard::db::DbError| CmdError::Action(ActionError::from(e));
    eprintln!("bench: {}", b::describe(pool).await.map_err(db)?);
    let mut figures: Vec<Figure> = Vec::new();
    let steps: [(&str, u8); 8] = [
        ("audit pages", 1),
        ("filtered audit pages", 2),
        ("user search", 3),
        ("start-up", 4),
        ("render", 5),
        ("memory", 6),
        ("bytes", 7),
        ("credits", 8),
    ];
    for (name, n) in steps {
        if !only.is_empty() && !only.contains(&n) {
            continue;
        }
        eprintln!("bench: {name}…");
        let mut got = match n {
            1 => b::audit_pages(pool, effort).await.map_err(db)?,
            2 => b::filtered_pages(pool, effort).await.map_err(db)?,
            3 => b::user_search(pool, effort).await.map_err(db)?,
            4 => first_frames(target, effort)?,
            5 => b::render(pool, effort).await.map_err(db)?,
            6 => memory(target, effort)?,
            7 => b::bytes_on_the_wire(pool).await.map_err(db)?,
            _ => b::credits(pool, effort).await.map_err(db)?,
        };
        figures.append(&mut got);
    }
    let mut out = std::io::stdout();
    b::print_table(&figures, &mut out).map_err(|e| CmdError::Usage(e.to_string()))?;
    Ok(())
}

/// Runs this binary's hidden helper `args` against the same database; returns its stdout.
fn helper(target: &Target, args: &[&str]) -> Result<(String, std::time::Duration), CmdError> {
    let exe = std::env::current_exe().map_err(|e| CmdError::Usage(e.to_string()))?;
    let mut cmd = std::process::Command::new(exe);
    cmd.args(args);
    match target {
        Target::Url(url) => cmd.env("DATABASE_URL", url),
        Target::Embedded => cmd.env_remove("DATABASE_URL"),
    };
    let started = std::time::Instant::now();
    let out = cmd
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| CmdError::Usage(format!("running the bench helper: {e}")))?;
    let wall = started.elapsed();
    if !out.status.success() {
        return Err(CmdError::Usage(format!("the bench helper {args:?} failed")));
    }
    Ok((String::from_utf8_lossy(&out.stdout).into_owned(), wall))
}

/// `key=value` from a helper's output, as a non-negative number.
fn field(text: &str, key: &str) -> Result<f64, CmdError> {
    text.split_whitespace()
        .find_map(|w| w.strip_prefix(&format!("{key}=")))
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|v| v.is_finite() && *v >= 0.0)
        .ok_or_else(|| CmdError::Usage(format!("the bench helper did not report {key}: {text}")))
}

fn first_frames(
    target: &Target,
    effort: switchboard::benchmark::Effort,
) -> Result<Vec<switchboard::benchmark::Figure>, CmdError> {
    use std::time::Duration;
    use switchboard::benchmark::figure;
    let (mut from_start, mut from_connect, mut wall) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..effort.runs.min(20) {
        let (text, w) = helper(target, &["__first-frame"])?;
        let (frame, connected) = (field(&text, "frame_ms")?, field(&text, "connected_ms")?);
        from_start.push(Duration::from_secs_f64(frame / 1000.0));
        from_connect.push(Duration::from_secs_f64(
            (frame - connected).max(0.0) / 1000.0,
        ));
        wall.push(w);
    }
    let s = "4. start-up";
    Ok(vec![
        figure(
            s,
            "connection accepted → first frame with rows",
            &from_connect,
            "Tenants pane, 80×24",
        ),
        figure(
            s,
            "main() → first frame with rows",
            &from_start,
            "includes connecting",
        ),
        figure(
            s,
            "whole process (exec → exit)",
            &wall,
            "measured by the parent",
        ),
    ])
}

fn memory(
    target: &Target,
    effort: switchboard::benchmark::Effort,
) -> Result<Vec<switchboard::benchmark::Figure>, CmdError> {
    let mut out = Vec::new();
    for rows in effort.memory_rows {
        // A fresh process each time, three times (peak RSS varies a little with allocation).
        let (mut peaks, mut starts, mut paged) = (Vec::new(), Vec::new(), 0.0);
        for _ in 0..effort.memory_runs {
            let (text, _) = helper(target, &["__page-memory", "--rows", &rows.to_string()])?;
            starts.push(field(&text, "before_kib")?);
            peaks.push(field(&text, "after_kib")?);
            paged = field(&text, "paged")?;
        }
        let rank = |v: &mut Vec<f64>, p: f64| {
            v.sort_by(f64::total_cmp);
            v[((p * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1]
        };
        out.push(switchboard::benchmark::Figure {
            section: "6. memory",
            what: format!("peak RSS after paging {paged:.0} audit rows"),
            median: format!("{:.1} MiB", rank(&mut peaks, 0.5) / 1024.0),
            p99: format!("{:.1} MiB", rank(&mut peaks, 0.99) / 1024.0),
            runs: peaks.len(),
            note: format!(
                "{:.1} MiB with the first page loaded (median)",
                rank(&mut starts, 0.5) / 1024.0
            ),
        });
    }
    Ok(out)
}

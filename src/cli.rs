//! The `kontor` command line: serve (default), migrate, seed, token,
//! billing, audit.

use clap::{Parser, Subcommand};

use crate::{client, config::Settings, db, db::Db, startup::Application, telemetry};

#[derive(Parser)]
#[command(
    name = "kontor",
    version,
    about = "Selbstbedienungsportal für Cloud-Ressourcen"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Start the portal (default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Fill the database with data.
    Seed {
        #[command(subcommand)]
        what: SeedCommand,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        what: TokenCommand,
    },
    /// Billing: close months, export statements.
    Billing {
        #[command(subcommand)]
        what: BillingCommand,
    },
    /// The Revision (audit log): verify its hash chain, export it, apply
    /// the retention period.
    Audit {
        #[command(subcommand)]
        what: AuditCommand,
    },
    #[command(flatten)]
    Api(ApiCommand),
}

/// The commands that talk to a Kontor's REST API (`KONTOR_URL`,
/// `KONTOR_TOKEN`) and have exit codes of their own (`docs/cli.md`).
#[derive(Subcommand)]
enum ApiCommand {
    /// Releases through the REST API (`KONTOR_URL`, `KONTOR_TOKEN`).
    Release {
        #[command(subcommand)]
        what: ReleaseCommand,
    },
    /// Kontingent change requests through the REST API (`KONTOR_URL`,
    /// `KONTOR_TOKEN`).
    Kontingent {
        #[command(subcommand)]
        what: KontingentCommand,
    },
    /// Customers (Kunden) through the REST API (`KONTOR_URL`, `KONTOR_TOKEN`).
    Customer {
        #[command(subcommand)]
        what: client::customers::Command,
        #[command(flatten)]
        json: client::Json,
    },
    /// Contracts and their Kontingent through the REST API.
    Contract {
        #[command(subcommand)]
        what: client::contracts::Command,
        #[command(flatten)]
        json: client::Json,
    },
    /// Applications (IT-Fachverfahren) through the REST API.
    Application {
        #[command(subcommand)]
        what: client::applications::Command,
        #[command(flatten)]
        json: client::Json,
    },
    /// The catalogue's prices through the REST API.
    Price {
        #[command(subcommand)]
        what: client::prices::Command,
        #[command(flatten)]
        json: client::Json,
    },
    /// Request promoting what runs in the stage before `--to` into it
    /// (through the REST API, `KONTOR_URL`, `KONTOR_TOKEN`).
    Promote {
        /// The application: its slug or id.
        #[arg(long)]
        app: String,
        /// `abnahme`, `schulung` or `produktion`.
        #[arg(long)]
        to: String,
    },
}

#[derive(Subcommand)]
enum KontingentCommand {
    /// Ask the Betreiber for new ceilings of a contract (absolute values;
    /// a ceiling left out stays as it is).
    Request {
        /// The contract's number, e.g. DLV-2026-0042.
        #[arg(long)]
        contract: String,
        #[command(flatten)]
        ceilings: client::Ceilings,
        /// Why (required).
        #[arg(long)]
        reason: String,
    },
}

#[derive(Subcommand)]
enum ReleaseCommand {
    /// Deliver a release; it passes the Checkup and goes into Vorprüfung.
    Push {
        /// The application: its slug or id.
        #[arg(long)]
        app: String,
        #[arg(long)]
        version: String,
        /// OCI image pinned by digest: registry/path@sha256:<64 hex>.
        #[arg(long)]
        image: String,
        /// A checksum `name=sha256:<64 hex>`; repeatable.
        #[arg(long = "checksum")]
        checksums: Vec<String>,
    },
}

#[derive(Subcommand)]
enum BillingCommand {
    /// Make the statements of a finished month final. Running it again
    /// changes nothing.
    Close {
        /// The month, `YYYY-MM`.
        #[arg(long)]
        month: String,
    },
    /// Write the statements of a month as CSV.
    Export {
        /// The month, `YYYY-MM`.
        #[arg(long)]
        month: String,
        /// Only this contract (its number, e.g. DLV-2026-0042).
        #[arg(long)]
        contract: Option<String>,
        /// `rfc4180` for `,` and a decimal point; default German
        /// spreadsheet format.
        #[arg(long)]
        format: Option<String>,
        /// Output file; default standard output.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walk the hash chain from the retention checkpoint to its head. Exit
    /// code 0 when it is intact; 1 naming the first entry altered, deleted
    /// or inserted behind Kontor's back. The outcome is stored and shown
    /// on the Betreiber's Revision page.
    Verify {
        /// A position and hash of the chain noted earlier, outside the
        /// database (`POSITION:HASH`, as this command prints the head);
        /// fails when the entry there no longer carries it. Repeatable.
        #[arg(long, value_name = "POSITION:HASH")]
        expect: Vec<String>,
    },
    /// Write the Revision (every entry, oldest first) as CSV or JSON Lines.
    Export {
        /// `csv` (German spreadsheet format), `rfc4180` or `jsonl`.
        #[arg(long, default_value = "csv")]
        format: String,
        /// From this day (JJJJ-MM-TT) or instant (RFC 3339).
        #[arg(long)]
        from: Option<String>,
        /// To this day (included) or before this instant.
        #[arg(long)]
        to: Option<String>,
        /// Only this customer's entries (its id).
        #[arg(long)]
        customer: Option<String>,
        /// Output file; default standard output.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// Delete entries older than the retention period, behind a checkpoint
    /// that keeps the chain verifiable.
    Prune {
        /// Days to keep; default KONTOR_AUDIT_RETENTION_DAYS.
        #[arg(long)]
        days: Option<u32>,
    },
}

#[derive(Subcommand)]
enum SeedCommand {
    /// Demo customers, contracts, bookings and one demo user per role.
    Demo,
    /// A large generated dataset for benchmarks (built with the
    /// `bench-seed` feature).
    #[cfg(feature = "bench-seed")]
    Bench {
        #[arg(long, default_value_t = 200)]
        customers: usize,
        #[arg(long, default_value_t = 2000)]
        applications: usize,
        #[arg(long, default_value_t = 20000)]
        bookings: usize,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API token for a user and print it once.
    Create {
        /// Login of the user the token acts for.
        #[arg(long)]
        user: String,
        /// Days until the token expires (default: never).
        #[arg(long)]
        expires: Option<u32>,
        /// A name to recognise the token by.
        #[arg(long, default_value = "CLI")]
        name: String,
    },
}

/// The commands that talk to the REST API (release push, promote,
/// kontingent request, customer, contract, application, price) and have
/// their own exit codes; `None` for every other command.
pub async fn run_client() -> Option<std::process::ExitCode> {
    let cli = Cli::try_parse().ok()?;
    let Some(Command::Api(command)) = cli.command else {
        return None;
    };
    let result = match client::Client::from_env() {
        Ok(c) => match command {
            ApiCommand::Release {
                what:
                    ReleaseCommand::Push {
                        app,
                        version,
                        image,
                        checksums,
                    },
            } => c.push(&app, &version, &image, &checksums).await,
            ApiCommand::Promote { app, to } => c.promote(&app, &to).await,
            ApiCommand::Kontingent {
                what:
                    KontingentCommand::Request {
                        contract,
                        ceilings,
                        reason,
                    },
            } => c.request_kontingent(&contract, &ceilings, &reason).await,
            ApiCommand::Customer { what, json } => c.customers(what, json).await,
            ApiCommand::Contract { what, json } => c.contracts(what, json).await,
            ApiCommand::Application { what, json } => c.applications(what, json).await,
            ApiCommand::Price { what, json } => c.prices(what, json).await,
        },
        Err(e) => Err(e),
    };
    Some(client::exit(result))
}

pub async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = Settings::load()?;
    telemetry::init(&settings.log, settings.log_json);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let app = Application::build(settings).await?;
            app.run_until_stopped().await
        }
        Command::Migrate => {
            connect(&settings).await?;
            println!(
                "Migrationen angewendet ({}).",
                db::redact(&settings.database_url())
            );
            Ok(())
        }
        Command::Seed {
            what: SeedCommand::Demo,
        } => {
            let db = connect(&settings).await?;
            if crate::seed::demo(&db).await? {
                println!("Demo-Daten angelegt.");
            } else {
                println!("Die Datenbank enthält bereits Daten; nichts geändert.");
            }
            Ok(())
        }
        #[cfg(feature = "bench-seed")]
        Command::Seed {
            what:
                SeedCommand::Bench {
                    customers,
                    applications,
                    bookings,
                },
        } => {
            let db = connect(&settings).await?;
            let summary =
                crate::seed::bench::generate(&db, customers, applications, bookings).await?;
            println!("{summary}");
            Ok(())
        }
        Command::Billing { what } => billing(&settings, what).await,
        Command::Audit { what } => audit(&settings, what).await,
        // main() hands these to run_client before it gets here.
        Command::Api(_) => {
            anyhow::bail!("this command talks to the REST API: set KONTOR_URL and KONTOR_TOKEN")
        }
        Command::Token {
            what:
                TokenCommand::Create {
                    user,
                    expires,
                    name,
                },
        } => {
            let db = connect(&settings).await?;
            let secret = create_token(&db, &user, expires, &name).await?;
            println!("{secret}");
            eprintln!(
                "Das Token wird nur dieses eine Mal angezeigt; gespeichert ist nur sein Hash."
            );
            Ok(())
        }
    }
}

async fn billing(settings: &Settings, what: BillingCommand) -> anyhow::Result<()> {
    use crate::{
        billing::{close, csv as export, statements},
        domain::billing::Month,
    };
    let db = connect(settings).await?;
    let now = db::now();
    let parse = |m: &str| {
        Month::parse(m).ok_or_else(|| anyhow::anyhow!("{m:?} is not a month in the form YYYY-MM"))
    };
    match what {
        BillingCommand::Close { month } => {
            let month = parse(&month)?;
            let report = close::close_month(&db, month, now)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "{}: {} Abrechnung(en) abgeschlossen ({} Positionen), {} waren bereits endgültig.",
                month.label(),
                report.closed,
                report.lines,
                report.already
            );
            Ok(())
        }
        BillingCommand::Export {
            month,
            contract,
            format,
            out,
        } => {
            use std::io::Write as _;
            let month = parse(&month)?;
            let format = export::Format::parse(format.as_deref())
                .ok_or_else(|| anyhow::anyhow!("unknown format; use rfc4180 or leave it out"))?;
            let mut contracts: Vec<_> =
                db::contracts::list(&db.pool, crate::domain::actor::Scope::All)
                    .await?
                    .into_iter()
                    .filter(|k| statements::covers(k, month))
                    .collect();
            if let Some(number) = &contract {
                contracts.retain(|k| &k.number == number);
                anyhow::ensure!(
                    !contracts.is_empty(),
                    "no contract {number:?} valid in {month}"
                );
            }
            let mut sink: Box<dyn std::io::Write> = match &out {
                Some(path) => Box::new(std::io::BufWriter::new(
                    std::fs::File::create(path)
                        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?,
                )),
                // Not locked for the whole export: the export task may log
                // meanwhile, and a held lock would wait on it forever.
                None => Box::new(std::io::BufWriter::new(std::io::stdout())),
            };
            let mut rx = export::spawn(db.clone(), contracts, month, format, now);
            while let Some(chunk) = rx.recv().await {
                sink.write_all(&chunk?)?;
            }
            sink.flush()?;
            Ok(())
        }
    }
}

async fn audit(settings: &Settings, what: AuditCommand) -> anyhow::Result<()> {
    use crate::app::{
        export::Format,
        revision::{self, ExportKind, RawFilter, chain},
    };
    let db = connect(settings).await?;
    let now = db::now();
    let fail = |e: crate::app::Error| anyhow::anyhow!("{e}");
    match what {
        AuditCommand::Verify { expect } => {
            let noted = expect
                .iter()
                .map(|raw| parse_noted(raw))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let v = chain::verify(&db, "kontor audit verify", now)
                .await
                .map_err(fail)?;
            if let Some(p) = v.problem {
                anyhow::bail!("Revision: Kette beschädigt. {}.", p.message());
            }
            println!(
                "Revision: Kette unversehrt – {} Einträge geprüft, Kopf Position {}, Hash {}.",
                v.entries, v.head_seq, v.head_hash
            );
            println!("Zum Notieren: --expect {}:{}", v.head_seq, v.head_hash);
            let mut broken = Vec::new();
            for (seq, hash) in noted {
                match chain::check_noted(&db, seq, &hash).await.map_err(fail)? {
                    chain::Noted::Holds => println!("Position {seq}: Hash wie notiert."),
                    chain::Noted::Pruned => println!(
                        "Position {seq}: von der Aufbewahrungsfrist gelöscht, nicht mehr prüfbar."
                    ),
                    chain::Noted::Broken(why) => broken.push(why),
                }
            }
            if !broken.is_empty() {
                anyhow::bail!(
                    "Revision: Kette weicht vom notierten Stand ab. {}.",
                    broken.join(". ")
                );
            }
            Ok(())
        }
        AuditCommand::Export {
            format,
            from,
            to,
            customer,
            out,
        } => {
            use std::io::Write as _;
            let kind = match format.as_str() {
                "csv" => ExportKind::Csv(Format::German),
                "rfc4180" => ExportKind::Csv(Format::Rfc4180),
                "jsonl" => ExportKind::JsonLines,
                other => anyhow::bail!("unknown format {other:?}; use csv, rfc4180 or jsonl"),
            };
            let filter = revision::parse_filter(&RawFilter {
                from: from.as_deref(),
                to: to.as_deref(),
                customer_id: customer.as_deref(),
                ..RawFilter::default()
            })
            .map_err(fail)?;
            let names = db::audit::names(&db.pool, crate::domain::actor::Scope::All).await?;
            let mut sink: Box<dyn std::io::Write> = match &out {
                Some(path) => Box::new(std::io::BufWriter::new(
                    std::fs::File::create(path)
                        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?,
                )),
                None => Box::new(std::io::BufWriter::new(std::io::stdout())),
            };
            let mut rx = revision::spawn_export(
                db.clone(),
                crate::domain::actor::Scope::All,
                filter,
                names,
                kind,
            );
            while let Some(chunk) = rx.recv().await {
                sink.write_all(&chunk?)?;
            }
            sink.flush()?;
            Ok(())
        }
        AuditCommand::Prune { days } => {
            let Some(days) = days.or(settings.audit_retention_days) else {
                anyhow::bail!(
                    "no retention period: set KONTOR_AUDIT_RETENTION_DAYS or pass --days"
                );
            };
            anyhow::ensure!(days > 0, "--days must be at least 1");
            let report = chain::prune(&db, days, now).await.map_err(fail)?;
            println!(
                "Revision: {} Einträge gelöscht (älter als {days} Tage); Prüfpunkt Position {}.",
                report.deleted, report.checkpoint_seq
            );
            Ok(())
        }
    }
}

/// `POSITION:HASH` of `kontor audit verify --expect`.
fn parse_noted(raw: &str) -> anyhow::Result<(i64, String)> {
    let bad = || anyhow::anyhow!("--expect {raw:?}: expected POSITION:HASH (64 hex digits)");
    let (seq, hash) = raw.trim().split_once(':').ok_or_else(bad)?;
    let seq: i64 = seq.parse().map_err(|_| bad())?;
    let hash = hash.to_ascii_lowercase();
    if seq < 0 || !crate::domain::audit::chain::is_hash(&hash) {
        return Err(bad());
    }
    Ok((seq, hash))
}

/// Connects, applies missing migrations, and chains audit entries written
/// before the hash chain existed (once, the first time after the upgrade:
/// `kontor migrate` does it before any new replica serves).
async fn connect(settings: &Settings) -> anyhow::Result<Db> {
    let db = Db::connect(&settings.database_url(), 4).await?;
    db.migrate().await?;
    crate::app::revision::chain::seal_backlog(&db)
        .await
        .map_err(|e| anyhow::anyhow!("chaining the older audit entries: {e}"))?;
    Ok(db)
}

pub async fn create_token(
    db: &Db,
    login: &str,
    expires_days: Option<u32>,
    name: &str,
) -> anyhow::Result<String> {
    let user = db::users::by_login(&db.pool, login)
        .await?
        .ok_or_else(|| anyhow::anyhow!("there is no user with login {login:?}"))?;
    let now = db::now();
    let expires_at = expires_days.map(|d| now + i64::from(d) * 86_400);
    let token = crate::auth::tokens::generate();
    let mut tx = db.begin_write().await?;
    db::api_tokens::insert(&mut tx, user.id, name, &token.hash, now, expires_at).await?;
    tx.commit().await?;
    Ok(token.secret)
}

//! `portico`: the one binary (O1). `serve` runs the service, `migrate` brings the database up to
//! date, `demo` seeds a demo org and prints working links. Configuration: see `config`.

// Reason: a binary has no public API; `pub` marks what its modules share.
#![allow(unreachable_pub)]

mod config;
mod demo;
mod dispatcher;
mod operations;
mod passwords;
mod system;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use portico_core::ports::{Mailer, WebhookSender};
use portico_core::token::{KeyId, TokenKeys};
use portico_core::{Portico, Ports};
use portico_mail::{EmlFolder, SmtpMailer, TemplateComposer};
use portico_store::{FolderBlobs, ObjectBlobs, SeaOrmStore};

use crate::config::{LogFormat, Settings, redact_url};
use crate::system::{OsRandomness, SystemClock};

/// mimalloc rather than the system allocator: a page allocates many small strings and frees
/// them on another thread, which glibc's allocator pays for in locks and consolidation (a
/// third of the uncached page rate).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Portico: share jobs, quotes and invoices with clients, privately.
#[derive(Debug, Parser)]
#[command(name = "portico", version)]
struct Cli {
    /// A TOML configuration file; the environment overrides it.
    #[arg(long, env = "PORTICO_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs the HTTP service (migrating the database first).
    Serve,
    /// Brings the database schema up to date and exits.
    Migrate,
    /// Delivers the outbox until stopped, without serving HTTP (several may run at once).
    Dispatch,
    /// Seeds a demo org and prints its API base, an API key and three share links.
    Demo {
        /// Print one JSON object instead of lines.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let settings = config::load(cli.config.as_deref(), &|name| std::env::var(name).ok())?;
    init_logging(settings.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        match cli.command {
            Command::Serve => serve(&settings).await,
            Command::Migrate => migrate(&settings).await,
            Command::Dispatch => dispatch(&settings).await,
            Command::Demo { json } => demo(&settings, json).await,
        }
    })
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

async fn connect(settings: &Settings) -> Result<SeaOrmStore> {
    if settings.database_url.starts_with("sqlite:") {
        std::fs::create_dir_all(&settings.data_dir).with_context(|| {
            format!(
                "cannot create the data folder {}",
                settings.data_dir.display()
            )
        })?;
    }
    let store = match settings.database_connections {
        Some(n) => SeaOrmStore::connect_with_pool(&settings.database_url, n).await,
        None => SeaOrmStore::connect(&settings.database_url).await,
    };
    store.with_context(|| {
        format!(
            "cannot open the database {}",
            redact_url(&settings.database_url)
        )
    })
}

/// The service over its adapters; also its token secret and its webhook sender (which the
/// webhook dispatcher posts through).
async fn service(
    settings: &Settings,
    store: &SeaOrmStore,
) -> Result<(Portico, Vec<u8>, Arc<dyn WebhookSender>)> {
    let secret = system::token_secret(
        settings
            .secret
            .as_ref()
            .map(secrecy::ExposeSecret::expose_secret),
        &settings.data_dir,
    )?;
    let keys = TokenKeys::new(KeyId(1), &secret).context("PORTICO_SECRET")?;
    let blobs: Arc<dyn portico_core::ports::Blobs> = if let Some(s3) = &settings.s3 {
        Arc::new(
            ObjectBlobs::open(s3)
                .map_err(|e| anyhow::anyhow!("PORTICO_S3_*: cannot set up the bucket: {e}"))?,
        )
    } else {
        let files = settings.data_dir.join("files");
        Arc::new(
            FolderBlobs::open(&files)
                .await
                .with_context(|| format!("cannot open the file folder {}", files.display()))?,
        )
    };
    let ports = Ports {
        store: Arc::new(store.clone()),
        clock: Arc::new(SystemClock),
        random: Arc::new(OsRandomness),
        blobs,
        links: Arc::new(portico_http::PageLinks::new(settings.public_url.clone())),
    };
    let mut portico = Portico::new(ports, keys, settings.service_config())
        .with_composer(Arc::new(TemplateComposer))
        .with_outbox(Arc::new(store.clone()))
        .with_passwords(Arc::new(
            passwords::Argon2Passwords::owasp()
                .map_err(|e| anyhow::anyhow!("cannot set up password hashing: {e}"))?,
        ));
    if let Some(stripe) = &settings.stripe {
        let payments = portico_stripe::StripePayments::new(portico_stripe::StripeConfig {
            api_base: stripe.api_base.clone(),
            secret_key: stripe.secret_key.clone(),
            timeout: std::time::Duration::from_secs(20),
        })
        .context("STRIPE_SECRET_KEY")?;
        portico = portico.with_payments(Arc::new(payments));
    }
    let webhooks = webhook_sender(settings)?;
    portico = portico.with_webhooks(webhooks.clone());
    Ok((portico, secret, webhooks))
}

async fn serve(settings: &Settings) -> Result<()> {
    let store = connect(settings).await?;
    let (portico, _, webhooks) = service(settings, &store).await?;
    let metrics = metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .context("cannot install the metrics recorder")?;
    let mut config = settings.http_config();
    config.limits = within_open_file_limit(config.limits);
    config.payments = settings
        .stripe
        .as_ref()
        .map(|stripe| portico_http::PaymentsConfig {
            script_url: stripe.js_url.clone(),
            publishable_key: stripe.publishable_key.clone(),
            webhooks: Arc::new(portico_stripe::StripeWebhooks::new(
                stripe.webhook_secret.clone(),
            )),
        });
    let (mailer, mail) = mailer(settings).await?;
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let (portico, feed) = hear_other_servers(portico, &store, &stopping);
    let dispatch = spawn_dispatchers(
        portico.clone(),
        &store,
        (mailer, webhooks),
        settings,
        &stopping,
    );
    let ops = Arc::new(operations::Ops { store, metrics });
    let operator = match settings.metrics_bind {
        Some(bind) => {
            let listener = tokio::net::TcpListener::bind(bind)
                .await
                .with_context(|| format!("cannot serve metrics on {bind}"))?;
            tracing::info!(%bind, "metrics, health and readiness on the operator's address");
            Some(tokio::spawn(portico_http::serve_with_limits(
                listener,
                portico_http::operations_service(ops.clone()),
                portico_http::ConnectionLimits::default(),
                std::future::pending(),
            )))
        }
        None => None,
    };
    tracing::info!(
        bind = %settings.bind,
        public_url = %settings.public_url,
        database = %redact_url(&settings.database_url),
        admin_routes = settings.admin_token.is_some(),
        %mail,
        "portico is listening"
    );
    let signalled = async move {
        shutdown_signal().await;
        // The dispatcher finishes its round while the server finishes its requests.
        let _ = stop.send(true);
    };
    let served = portico_http::serve(portico, &config, ops, settings.bind, signalled)
        .await
        .with_context(|| format!("cannot serve on {}", settings.bind));
    drain_dispatcher(dispatch).await;
    if let Some(feed) = feed {
        feed.abort();
    }
    if let Some(operator) = operator {
        operator.abort();
    }
    served?;
    tracing::info!("portico stopped");
    Ok(())
}

/// On PostgreSQL, where other servers may share the database, the service hears their changes
/// through the store's feed (page caches and live pages follow them), until `stopping`.
fn hear_other_servers(
    portico: Portico,
    store: &SeaOrmStore,
    stopping: &tokio::sync::watch::Receiver<bool>,
) -> (Portico, Option<tokio::task::JoinHandle<()>>) {
    let Some(feed) = store.change_feed() else {
        return (portico, None);
    };
    let relay = Arc::new(portico_core::service::ChangeRelay::new());
    let catch_up = feed.catch_up();
    let mut stopping = stopping.clone();
    let running = tokio::spawn(feed.run(relay.clone(), async move {
        let _ = stopping.wait_for(|stop| *stop).await;
    }));
    (
        portico.with_feed(relay).with_catch_up(catch_up),
        Some(running),
    )
}

/// Waits for the dispatcher to settle its round, up to [`dispatcher::DRAIN_GRACE`]; past it the
/// round is cut (its claims come back after their lease, with the same Message-IDs).
async fn drain_dispatcher(dispatch: tokio::task::JoinHandle<()>) {
    let abort = dispatch.abort_handle();
    if tokio::time::timeout(dispatcher::DRAIN_GRACE, dispatch)
        .await
        .is_err()
    {
        abort.abort();
        tracing::warn!(
            "the dispatcher's round did not finish in time; its emails go again after their lease"
        );
    }
}

/// Descriptors kept free of connections: the database pool, mail, files, logs.
const RESERVED_DESCRIPTORS: u64 = 128;

/// Raises the soft open-file limit to the hard one and keeps the connection cap under it, so
/// a flood of sockets meets the cap, never the limit (where accepting, and so every client,
/// would stall). Logs what it did.
fn within_open_file_limit(
    mut limits: portico_http::ConnectionLimits,
) -> portico_http::ConnectionLimits {
    let open_files = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => limit,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read or raise the open-file limit");
            return limits;
        }
    };
    let room =
        usize::try_from(open_files.saturating_sub(RESERVED_DESCRIPTORS)).unwrap_or(usize::MAX);
    if limits.max_connections > room {
        tracing::warn!(
            configured = limits.max_connections,
            capped = room,
            "the connection cap is above what the open-file limit allows; lowered"
        );
        limits.max_connections = room.max(1);
    }
    tracing::info!(
        open_files,
        max_connections = limits.max_connections,
        max_connections_per_address = limits.max_connections_per_address,
        header_timeout_seconds = limits.header_read_timeout.as_secs(),
        body_timeout_seconds = limits.body_read_timeout.as_secs(),
        "connection limits"
    );
    limits
}

/// The mail port: SMTP when `SMTP_URL` is set, else `.eml` files under the data folder; and a
/// description of it for the log (no password).
async fn mailer(settings: &Settings) -> Result<(Arc<dyn Mailer>, String)> {
    if let Some(smtp) = &settings.smtp {
        let described = format!("smtp://{}:{}", smtp.host, smtp.port);
        let mailer = SmtpMailer::new(smtp.clone(), settings.mail_from.clone());
        return Ok((Arc::new(mailer), described));
    }
    let dir = settings.data_dir.join("mail");
    let folder = EmlFolder::open(&dir, settings.mail_from.clone())
        .await
        .with_context(|| format!("cannot open the mail folder {}", dir.display()))?;
    Ok((Arc::new(folder), dir.display().to_string()))
}

/// The webhook sender (I4), with the address checks the settings ask for.
fn webhook_sender(settings: &Settings) -> Result<Arc<dyn WebhookSender>> {
    let hooks = settings.webhooks;
    if hooks.allow_private || hooks.allow_http {
        tracing::warn!(
            allow_private = hooks.allow_private,
            allow_http = hooks.allow_http,
            "webhooks may reach private addresses or plain http: for local development only"
        );
    }
    let sender = portico_webhooks::HttpWebhookSender::new(portico_webhooks::SenderConfig {
        allow_private: hooks.allow_private,
        allow_http: hooks.allow_http,
        timeout: hooks.timeout,
    })?;
    Ok(Arc::new(sender))
}

/// Starts both dispatchers (mail and webhooks) until `stopping` turns true; one handle that
/// ends when both have.
fn spawn_dispatchers(
    portico: Portico,
    store: &SeaOrmStore,
    (mailer, webhooks): (Arc<dyn Mailer>, Arc<dyn WebhookSender>),
    settings: &Settings,
    stopping: &tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    let mail = tokio::spawn(dispatcher::run(
        portico.clone(),
        Arc::new(store.clone()),
        mailer,
        settings.dispatch_config(),
        stopping.clone(),
    ));
    let hooks = tokio::spawn(dispatcher::run_webhooks(
        portico,
        Arc::new(store.clone()),
        webhooks,
        settings.webhook_config(),
        stopping.clone(),
    ));
    tokio::spawn(async move {
        let _ = tokio::join!(mail, hooks);
    })
}

/// `portico dispatch`: the dispatcher alone, until Ctrl-C or SIGTERM.
async fn dispatch(settings: &Settings) -> Result<()> {
    let store = connect(settings).await?;
    let (portico, _, webhooks) = service(settings, &store).await?;
    let (mailer, mail) = mailer(settings).await?;
    tracing::info!(%mail, "portico is dispatching");
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let dispatch = spawn_dispatchers(portico, &store, (mailer, webhooks), settings, &stopping);
    shutdown_signal().await;
    let _ = stop.send(true);
    drain_dispatcher(dispatch).await;
    tracing::info!("portico stopped dispatching");
    Ok(())
}

/// Ctrl-C or SIGTERM: stop accepting, let in-flight requests finish.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

async fn migrate(settings: &Settings) -> Result<()> {
    connect(settings).await?;
    println!(
        "database {} is up to date",
        redact_url(&settings.database_url)
    );
    Ok(())
}

async fn demo(settings: &Settings, json: bool) -> Result<()> {
    let store = connect(settings).await?;
    let (portico, secret, _) = service(settings, &store).await?;
    let links = demo::seed(&portico, &secret, &settings.public_url).await?;
    if json {
        println!("{}", serde_json::to_string(&links)?);
    } else {
        println!("API base:            {}", links.api_base);
        println!("API key (org demo):  {}", links.api_key);
        println!("Work order link:     {}", links.work_order_share_url);
        println!("Quote link:          {}", links.quote_share_url);
        println!("Invoice link:        {}", links.invoice_share_url);
        println!("Client portal:       {}", links.portal_url);
        println!(
            "Portal sign-in as:   {} (mail lands in the mail folder)",
            links.portal_email
        );
        println!("Acting staff header: X-Portico-Staff: demo-owner");
    }
    Ok(())
}

//! `tousu serve`: the HTTP API until SIGTERM or Ctrl-C.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use tousu::events::EventHub;
use tousu::http::{AppState, KeyRing};
use tousu::service::Kept;

use super::open::{ServiceArgs, init_logs, open};

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on. Without API keys, only a loopback address is used.
    #[arg(long, env = "TOUSU_BIND")]
    bind: Option<SocketAddr>,
    #[command(flatten)]
    service: ServiceArgs,
}

pub fn run(a: ServeArgs) -> anyhow::Result<()> {
    init_logs();
    let mut config = a.service.config()?;
    if let Some(b) = a.bind {
        config.bind = b;
    }
    if !config.needs_sign_in() && !config.bind.ip().is_loopback() {
        tracing::warn!(
            requested = %config.bind,
            "no API keys or users configured: binding to 127.0.0.1 only (set TOUSU_API_KEYS, or api_keys or users in the config, to serve other hosts)"
        );
        config.bind.set_ip([127, 0, 0, 1].into());
    }
    let purge = super::allocator::set_purge_delay(config.memory.allocator_purge_delay_ms);
    let huge_pages =
        super::allocator::set_transparent_huge_pages(config.memory.transparent_huge_pages);
    tracing::info!(purge_delay_ms = purge, huge_pages, "allocator");
    let service = open(&config, true, Kept::All)?;
    // Case events follow the store beside the service; stopped before it, below.
    let events = EventHub::open(service.store_handle(), config.events.clone())
        .context("starting the case events")?;
    let state = AppState::with_web(
        Arc::clone(&service),
        KeyRing::with_users(&config.api_keys, &config.users),
        config.limits.clone(),
        &config.web,
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(config.bind)
            .await
            .with_context(|| format!("cannot listen on {}", config.bind))?;
        let auth = if config.needs_sign_in() {
            "API keys or sign-in required"
        } else {
            "no API keys or users: open to local callers only"
        };
        tracing::info!(
            addr = %listener.local_addr()?,
            profile = %config.profile,
            data_dir = %config.data_dir.display(),
            cases = service.store().count()?,
            "{auth}; serving"
        );
        tousu::http::serve(listener, state).await?;
        anyhow::Ok(())
    })?;
    // Blocking work still running (an admin re-index, say) is not waited for past the grace
    // period: the store has everything acknowledged, and the index is derived.
    runtime.shutdown_timeout(std::time::Duration::from_secs(
        config.limits.shutdown_grace_secs,
    ));
    // The dispatcher finishes its pass and the worker its request in flight, so the cursor
    // and the outcomes are recorded; then the last index commit happens as the service is
    // dropped (if nothing else holds it).
    drop(events);
    drop(service);
    tracing::info!("stopped");
    Ok(())
}

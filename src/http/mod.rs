//! The HTTP API (axum): `/v1` routes, auth, limits, metrics, the OpenAPI document and its docs
//! page. The only module that knows about HTTP; it drives the
//! [`Service`](crate::service::Service).

mod audit;
mod auth;
mod case_links;
mod cases;
mod error;
mod export;
mod filters;
mod gate;
mod handling;
mod json;
mod metrics;
mod ops;
mod search;
mod session;
mod signin;
mod trends;
mod web;
mod work;

use std::future::IntoFuture;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use utoipa_swagger_ui::{Config, SwaggerUi};

pub use self::auth::{Caller, KeyRing, Permission};
pub use self::error::ApiError;
use self::gate::InferenceGate;
use self::metrics::Metrics;
use self::session::SessionBook;
use crate::config::{Limits, WebSettings};
use crate::service::Service;

/// Largest batch body, whatever `max_batch` says.
const MAX_BATCH_BODY: usize = 64 * 1024 * 1024;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// The shared parts.
pub struct Inner {
    service: Arc<Service>,
    keys: KeyRing,
    limits: Limits,
    gate: InferenceGate,
    metrics: Metrics,
    /// The workbench's signed-in browsers.
    sessions: SessionBook,
    /// Turns true when the server starts shutting down (long-lived streams end).
    stopping: tokio::sync::watch::Sender<bool>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// State over `service` with these keys and limits (sessions as by default).
    pub fn new(service: Arc<Service>, keys: KeyRing, limits: Limits) -> Self {
        Self::with_web(service, keys, limits, &WebSettings::default())
    }

    /// State over `service` with these keys, limits and session settings.
    pub fn with_web(
        service: Arc<Service>,
        keys: KeyRing,
        limits: Limits,
        web: &WebSettings,
    ) -> Self {
        AppState(Arc::new(Inner {
            service,
            sessions: SessionBook::new(web),
            keys,
            gate: InferenceGate::new(limits.inference_concurrency, limits.inference_queue),
            limits,
            metrics: Metrics::default(),
            stopping: tokio::sync::watch::Sender::new(false),
        }))
    }

    /// Tells every long-lived stream to end: the server is shutting down.
    pub fn stop(&self) {
        self.stopping.send_replace(true);
    }

    /// Watches for the shutdown.
    fn stopping(&self) -> tokio::sync::watch::Receiver<bool> {
        self.stopping.subscribe()
    }
}

/// The API's routes.
pub fn router(state: AppState) -> Router {
    let batch_body = state
        .limits
        .body_bytes
        .saturating_mul(state.limits.max_batch)
        .min(MAX_BATCH_BODY);
    let v1 = Router::new()
        .route("/triage", post(cases::triage))
        .route("/cases", post(cases::create))
        .route(
            "/cases/batch",
            post(cases::create_batch).layer(DefaultBodyLimit::max(batch_body)),
        )
        .route("/cases/{id}", get(cases::get).patch(cases::patch))
        .route("/cases/{id}/similar", get(cases::similar))
        .route("/cases/{id}/links", get(case_links::links))
        .route("/cases/{id}/suggestions", get(case_links::suggestions))
        .route("/cases/{id}/explanation", get(case_links::explanation))
        .route("/cases/{id}/audit", get(cases::audit))
        .route("/cases/{id}/actions", post(handling::act))
        .route("/cases/{id}/notes", post(handling::note))
        .route("/cases/{id}/contacts", post(handling::contact))
        .route("/cases/{id}/contact", post(handling::reveal))
        .route("/audit", get(audit::search))
        .route("/directory", get(handling::directory))
        .route("/queues/{queue}", get(work::queue))
        .route("/kpis", get(work::kpis))
        .route("/reports/daily", get(work::daily))
        .route("/search", get(search::search))
        .route("/export", get(export::export))
        .route("/trends", get(trends::table))
        .route("/trends/rising", get(trends::rising))
        .route("/topics", get(trends::topics))
        .route("/alerts", get(trends::history))
        .route("/alerts/stream", get(trends::stream))
        .route("/admin/reindex", post(ops::reindex))
        .route("/admin/keys", get(ops::keys))
        .route(
            "/session",
            post(signin::sign_in)
                .get(signin::current)
                .delete(signin::sign_out),
        );
    Router::new()
        .nest("/v1", v1)
        .merge(docs())
        .merge(web::routes())
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .fallback(|| async { ApiError::no_route() })
        .layer(DefaultBodyLimit::max(state.limits.body_bytes))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

/// The hand-maintained OpenAPI document (`src/http/openapi.json`, kept in step with the routes
/// above), served byte for byte at `GET /v1/openapi.json`, and Swagger UI over it at
/// `GET /v1/docs`, both without a key. Swagger UI's files are compiled in and its online
/// validator is off: the page loads nothing from elsewhere.
fn docs() -> Router<AppState> {
    let ui: Router<AppState> = SwaggerUi::new("/v1/docs")
        .config(Config::new(["/v1/openapi.json"]).validator_url("none"))
        .into();
    ui.route("/v1/openapi.json", get(openapi))
}

/// The OpenAPI document.
const OPENAPI: &str = include_str!("openapi.json");

/// `GET /v1/openapi.json`: the document as written (not re-serialised through a model that
/// could drop or reorder what it does not know).
async fn openapi() -> Response {
    axum::response::IntoResponse::into_response((
        [(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/json"),
        )],
        OPENAPI,
    ))
}

/// Times out slow requests with a JSON 503 and records latency by route.
async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let method = req.method().to_string();
    let started = Instant::now();
    let secs = state.limits.request_timeout_secs;
    let response = match tokio::time::timeout(Duration::from_secs(secs), next.run(req)).await {
        Ok(r) => r,
        Err(_) => {
            let creates = method == "POST" && route.starts_with("/v1/cases");
            axum::response::IntoResponse::into_response(ApiError::timeout(secs, creates))
        }
    };
    state.metrics.observe(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// Runs blocking service work (model, store, index) off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        tracing::error!(error = %e, "a blocking task failed");
        ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; the operator's log has the details",
        )
    })?
}

/// Serves the API on `listener` until SIGTERM or Ctrl-C, then stops accepting connections,
/// ends the alert streams and lets in-flight requests finish, for at most the configured
/// grace period.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    serve_until(listener, state, shutdown_signal()).await
}

/// [`serve`] until `signal` completes (tests send their own).
pub async fn serve_until(
    listener: tokio::net::TcpListener,
    state: AppState,
    signal: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let grace = Duration::from_secs(state.limits.shutdown_grace_secs);
    let mut stopping = state.stopping();
    let on_signal = state.clone();
    let server = axum::serve(listener, router(state)).with_graceful_shutdown(async move {
        signal.await;
        on_signal.stop();
    });
    let server = server.into_future();
    tokio::pin!(server);
    tokio::select! {
        r = &mut server => return r,
        _ = stopping.wait_for(|s| *s) => {}
    }
    match tokio::time::timeout(grace, server).await {
        Ok(r) => r,
        Err(_) => {
            tracing::warn!(
                grace_secs = grace.as_secs(),
                "requests still running at the end of the grace period; stopping anyway"
            );
            Ok(())
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

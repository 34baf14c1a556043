//! The workbench's pages and assets (`src/web/`), served from the binary: static HTML, CSS
//! and ES modules that call the `/v1` API with the session cookie. Nothing is loaded from
//! elsewhere (the Content-Security-Policy says so to the browser), so it works with no network.
//!
//! In debug builds rust-embed reads `src/web/` from disk, so a page edited is served at the
//! next reload; release builds carry the files.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rust_embed::RustEmbed;

use super::AppState;

/// The files under `src/web/`.
#[derive(RustEmbed)]
#[folder = "src/web/"]
struct Web;

/// Only this server's own files, no inline script or style, no framing.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// The pages, by path.
const PAGES: [(&str, &str); 2] = [("/", "pages/home.html"), ("/signin", "pages/signin.html")];

/// The routes of the pages, the assets and the favicon.
pub fn routes() -> Router<AppState> {
    let mut r = Router::new().route("/assets/{*path}", get(asset)).route(
        "/favicon.ico",
        get(|headers: HeaderMap| async move { file("img/favicon.svg", &headers, false) }),
    );
    for (path, page) in PAGES {
        r = r.route(
            path,
            get(move |headers: HeaderMap| async move { file(page, &headers, true) }),
        );
    }
    r
}

/// `GET /assets/{path}`: a file under `src/web/` (pages are served by their routes only).
async fn asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    if path.starts_with("pages/") {
        return not_found();
    }
    file(&path, &headers, false)
}

/// The file at `path` with its type, validator and security headers; 304 when the browser
/// has it already.
fn file(path: &str, headers: &HeaderMap, page: bool) -> Response {
    let Some(f) = Web::get(path) else {
        return not_found();
    };
    let etag = format!("\"{}\"", hex(&f.metadata.sha256_hash()[..12]));
    let mut h = HeaderMap::new();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(path)),
    );
    h.insert(
        header::CACHE_CONTROL,
        // Revalidated on every load: the ETag makes it cheap, and a new build is seen at once.
        HeaderValue::from_static("no-cache"),
    );
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if page {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    if fresh {
        return (StatusCode::NOT_MODIFIED, h).into_response();
    }
    (h, f.data.into_owned()).into_response()
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "未找到 (not found)",
    )
        .into_response()
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

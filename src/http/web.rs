//! The workbench's pages and assets (`src/web/`), served from the binary: static HTML, CSS
//! and ES modules that call the `/v1` API with the session cookie. Nothing is loaded from
//! elsewhere (the Content-Security-Policy says so to the browser), so it works with no network.
//!
//! In debug builds rust-embed reads `src/web/` from disk, so a page edited is served at the
//! next reload; release builds carry the files.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{LazyLock, Mutex};

use axum::Router;
use axum::body::Bytes;
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

/// The pages, by path. Each page is a static shell; its module reads the path and the query.
const PAGES: [(&str, &str); 9] = [
    ("/", "pages/home.html"),
    ("/signin", "pages/signin.html"),
    ("/search", "pages/search.html"),
    ("/cases/{id}", "pages/case.html"),
    ("/queues", "pages/queues.html"),
    ("/queues/{queue}", "pages/queues.html"),
    ("/trends", "pages/trends.html"),
    ("/kpis", "pages/kpis.html"),
    ("/intake", "pages/intake.html"),
];

/// Text assets are sent gzipped to browsers that take it; each version is compressed once.
static GZIPPED: LazyLock<Mutex<HashMap<String, Bytes>>> = LazyLock::new(Default::default);

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
    // The answer differs by Accept-Encoding, so caches must keep both.
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if fresh {
        return (StatusCode::NOT_MODIFIED, h).into_response();
    }
    if compressible(path) && accepts_gzip(headers) {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        return (h, gzipped(&etag, &f.data)).into_response();
    }
    (h, f.data.into_owned()).into_response()
}

fn compressible(path: &str) -> bool {
    matches!(
        path.rsplit('.').next(),
        Some("html" | "css" | "js" | "svg" | "json")
    )
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or("").trim();
            // "gzip;q=0" means "not gzip".
            let refused = parts.any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

/// The file's bytes gzipped, from the cache when this version was asked for before.
fn gzipped(etag: &str, data: &[u8]) -> Bytes {
    let mut cache = GZIPPED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(b) = cache.get(etag) {
        return b.clone();
    }
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    // Writing to a Vec cannot fail.
    let _ = enc.write_all(data);
    let b = Bytes::from(enc.finish().unwrap_or_default());
    cache.insert(etag.to_owned(), b.clone());
    b
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

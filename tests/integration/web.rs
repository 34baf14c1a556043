//! The workbench's pages and assets: served without a key, under a strict Content-Security-
//! Policy, every file a page names is there with its type, revalidation answers 304, nothing
//! outside `src/web/` is reachable, and a page with everything it loads stays in its budget.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};

use crate::api::{Resp, TestApp, app};

const PAGES: [&str; 2] = ["/", "/signin"];

/// The first load's budget (bytes, uncompressed: compressed is smaller), ECharts apart.
const FIRST_LOAD_BUDGET: usize = 400 * 1024;

async fn get(t: &TestApp, uri: &str, etag: Option<&str>) -> Resp {
    let mut b = Request::builder().uri(uri);
    if let Some(e) = etag {
        b = b.header(header::IF_NONE_MATCH, e);
    }
    t.send(b.body(Body::empty()).unwrap()).await
}

/// The `/assets/…` paths a page's `src` and `href` attributes name.
fn assets_of(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["src=\"", "href=\""] {
        for part in html.split(attr).skip(1) {
            let path = part.split('"').next().unwrap_or_default();
            if path.starts_with("/assets/") || path == "/favicon.ico" {
                out.push(path.to_string());
            }
        }
    }
    out
}

/// The modules an ES module imports (`from './x.js'`), as paths under `/assets/js/`.
fn imports_of(js: &str) -> Vec<String> {
    js.split("from '")
        .skip(1)
        .filter_map(|p| p.split('\'').next())
        .filter_map(|p| p.strip_prefix("./"))
        .map(|p| format!("/assets/js/{p}"))
        .collect()
}

#[tokio::test]
async fn pages_are_served_without_a_key_under_a_strict_policy() {
    let t = app();
    for page in PAGES {
        let r = get(&t, page, None).await;
        assert_eq!(r.status, StatusCode::OK, "{page}");
        assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
        let csp = r.header("content-security-policy").expect("a policy");
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe"),
            "{csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
        assert!(r.text().contains("lang=\"zh-CN\""), "{page}");
    }
}

#[tokio::test]
async fn every_file_a_page_loads_is_there_and_the_load_stays_in_budget() {
    let t = app();
    for page in PAGES {
        let html = get(&t, page, None).await;
        let mut total = html.body.len();
        let mut queue = assets_of(&html.text());
        assert!(!queue.is_empty(), "{page} loads nothing?");
        let mut seen = std::collections::BTreeSet::new();
        while let Some(path) = queue.pop() {
            if !seen.insert(path.clone()) {
                continue;
            }
            let r = get(&t, &path, None).await;
            assert_eq!(r.status, StatusCode::OK, "{page} names {path}");
            let ty = r.header("content-type").unwrap_or_default().to_string();
            let want = match path.rsplit('.').next() {
                Some("js") => "text/javascript",
                Some("css") => "text/css",
                _ => "image/svg+xml",
            };
            assert!(ty.starts_with(want), "{path}: {ty}");
            if path.ends_with(".js") {
                queue.extend(imports_of(&r.text()));
            }
            total += r.body.len();
        }
        assert!(
            total <= FIRST_LOAD_BUDGET,
            "{page} loads {total} bytes, over {FIRST_LOAD_BUDGET}"
        );
    }
}

#[tokio::test]
async fn a_file_the_browser_has_is_not_sent_again() {
    let t = app();
    let r = get(&t, "/assets/css/app.css", None).await;
    let etag = r.header("etag").expect("an ETag").to_string();
    let again = get(&t, "/assets/css/app.css", Some(&etag)).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());
    let other = get(&t, "/assets/css/app.css", Some("\"something-else\"")).await;
    assert_eq!(other.status, StatusCode::OK);
}

#[tokio::test]
async fn nothing_outside_the_web_folder_is_served() {
    let t = app();
    for uri in [
        "/assets/pages/home.html",
        "/assets/../Cargo.toml",
        "/assets/%2e%2e/Cargo.toml",
        "/assets/js/none.js",
        "/assets/",
    ] {
        let r = get(&t, uri, None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{uri}: {}", r.text());
    }
}

//! The workbench's pages and assets: served without a key, under a strict Content-Security-
//! Policy, every file a page names is there with its type, revalidation answers 304, text is
//! sent gzipped to browsers that take it, nothing outside `src/web/` is reachable, and a page
//! with everything it loads stays in its budget (ECharts, loaded only by chart pages, apart).

use axum::body::Body;
use axum::http::{Request, StatusCode, header};

use crate::api::{Resp, TestApp, app};

const PAGES: [&str; 10] = [
    "/",
    "/signin",
    "/search",
    "/cases/TS20260101-000001",
    "/queues",
    "/queues/overdue",
    "/trends",
    "/kpis",
    "/intake",
    "/search?q=x",
];

/// The pages with charts: the only ones that load ECharts.
const CHART_PAGES: [&str; 2] = ["/trends", "/kpis"];

/// The first load's budget, in bytes as sent (gzipped), ECharts apart.
const FIRST_LOAD_BUDGET: usize = 400 * 1024;

async fn get(t: &TestApp, uri: &str, etag: Option<&str>) -> Resp {
    let mut b = Request::builder().uri(uri);
    if let Some(e) = etag {
        b = b.header(header::IF_NONE_MATCH, e);
    }
    t.send(b.body(Body::empty()).unwrap()).await
}

/// `uri` as a browser asks for it: gzip accepted.
async fn get_gzip(t: &TestApp, uri: &str) -> Resp {
    let req = Request::builder()
        .uri(uri)
        .header(header::ACCEPT_ENCODING, "gzip, deflate, br")
        .body(Body::empty())
        .unwrap();
    t.send(req).await
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("gzip");
    out
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

/// The modules the ES module at `path` imports (`from './x.js'`, `from '../x.js'`), as paths.
fn imports_of(path: &str, js: &str) -> Vec<String> {
    let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
    js.split("from '")
        .skip(1)
        .filter_map(|p| p.split('\'').next())
        .map(|p| {
            if let Some(rest) = p.strip_prefix("../") {
                let up = dir.rsplit_once('/').map_or("", |(d, _)| d);
                format!("{up}/{rest}")
            } else {
                format!("{dir}/{}", p.trim_start_matches("./"))
            }
        })
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
        let html = get_gzip(&t, page).await;
        assert_eq!(html.status, StatusCode::OK, "{page}");
        let mut sent = html.body.len();
        let mut queue = assets_of(&String::from_utf8(gunzip(&html.body)).unwrap());
        assert!(!queue.is_empty(), "{page} loads nothing?");
        let mut seen = std::collections::BTreeSet::new();
        let mut charts = false;
        while let Some(path) = queue.pop() {
            if !seen.insert(path.clone()) {
                continue;
            }
            let r = get_gzip(&t, &path).await;
            assert_eq!(r.status, StatusCode::OK, "{page} names {path}");
            let ty = r.header("content-type").unwrap_or_default().to_string();
            let want = match path.rsplit('.').next() {
                Some("js") => "text/javascript",
                Some("css") => "text/css",
                _ => "image/svg+xml",
            };
            assert!(ty.starts_with(want), "{path}: {ty}");
            assert_eq!(r.header("content-encoding"), Some("gzip"), "{path}");
            if path.ends_with(".js") {
                let js = String::from_utf8(gunzip(&r.body)).unwrap();
                queue.extend(imports_of(&path, &js));
            }
            if path.starts_with("/assets/vendor/echarts") {
                charts = true;
            } else {
                sent += r.body.len();
            }
        }
        // The figures docs/workbench.md quotes: `cargo test --test integration web:: -- --nocapture`.
        println!(
            "{page}: {} files, {sent} bytes gzipped, ECharts apart",
            seen.len() + 1
        );
        let path = page.split('?').next().unwrap_or(page);
        assert_eq!(
            charts,
            CHART_PAGES.contains(&path),
            "{page}: ECharts is loaded by the chart pages only"
        );
        assert!(
            sent <= FIRST_LOAD_BUDGET,
            "{page} sends {sent} bytes, over {FIRST_LOAD_BUDGET}"
        );
    }
}

#[tokio::test]
async fn text_is_gzipped_for_browsers_that_take_it_and_plain_for_others() {
    let t = app();
    let plain = get(&t, "/assets/js/pages/search.js", None).await;
    assert_eq!(plain.status, StatusCode::OK);
    assert_eq!(plain.header("content-encoding"), None);
    let zipped = get_gzip(&t, "/assets/js/pages/search.js").await;
    assert_eq!(zipped.header("content-encoding"), Some("gzip"));
    assert_eq!(zipped.header("vary"), Some("accept-encoding"));
    assert_eq!(gunzip(&zipped.body), plain.body.to_vec());
    assert!(zipped.body.len() < plain.body.len());
    // "gzip;q=0" refuses it.
    let req = Request::builder()
        .uri("/assets/js/pages/search.js")
        .header(header::ACCEPT_ENCODING, "gzip;q=0, identity")
        .body(Body::empty())
        .unwrap();
    assert_eq!(t.send(req).await.header("content-encoding"), None);
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

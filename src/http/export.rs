//! `GET /v1/export`: the cases a search's filters select, as a CSV download written as it is
//! read, or as an xlsx workbook built first.

use std::io::Write;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tokio::sync::mpsc;

use super::auth::{Caller, Permission};
use super::error::ApiError;
use super::filters::{Filtered, RouteParams, invalid};
use super::{AppState, blocking};
use crate::domain::beijing;
use crate::error::cut;
use crate::service::tools::{self, ExportFormat};

/// Bytes of CSV sent at a time.
const CHUNK_BYTES: usize = 64 * 1024;
/// Chunks written ahead of a slow client: the export waits (holding a blocking thread, not
/// memory) when it is this far ahead.
const CHUNKS_AHEAD: usize = 4;
/// The media type of an xlsx workbook.
pub(super) const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The export's own parameters, beside the case filters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportParams {
    /// `csv` (default) or `xlsx`.
    #[serde(default)]
    format: Option<String>,
}

impl RouteParams for ExportParams {
    const NAMES: &'static [&'static str] = &["format"];
}

impl ExportParams {
    fn format(&self) -> Result<ExportFormat, ApiError> {
        match self.format.as_deref() {
            None | Some("csv") => Ok(ExportFormat::Csv),
            Some("xlsx") => Ok(ExportFormat::Xlsx),
            Some(other) => Err(invalid(format!("format={:?}: use csv or xlsx", cut(other)))),
        }
    }
}

/// `GET /v1/export`.
pub async fn export(
    State(state): State<AppState>,
    caller: Caller,
    Filtered(filters, params): Filtered<ExportParams>,
) -> Result<Response, ApiError> {
    caller.require(Permission::Analyse)?;
    let format = params.format()?;
    let req = filters.request()?;
    let limits = state.limits.export();
    let s = state.clone();
    let selection = blocking(move || {
        Ok(s.service
            .views()
            .select_as(&req, &caller.actor(), format, limits)?)
    })
    .await?;
    let stamp = jiff::Timestamp::now()
        .to_zoned(beijing())
        .strftime("%Y%m%d-%H%M%S");
    if format == ExportFormat::Xlsx {
        let (bytes, _) =
            blocking(move || Ok(tools::cases_workbook(&selection, limits.xlsx_rows)?)).await?;
        return Ok(download(
            XLSX,
            &format!("tousu-cases-{stamp}.xlsx"),
            bytes.into(),
        ));
    }
    let (tx, rx) = mpsc::channel(CHUNKS_AHEAD);
    tokio::task::spawn_blocking(move || {
        let out = ChunkWriter {
            tx: tx.clone(),
            buf: Vec::with_capacity(CHUNK_BYTES),
        };
        if let Err(e) = tools::write_cases_csv(&selection, out) {
            if tx.is_closed() {
                tracing::debug!("an export's client went away");
            } else {
                // The status is sent: the download is cut short, which the client sees.
                tracing::error!(error = %e, "an export failed while it was written");
                let _ = tx.blocking_send(Err(std::io::Error::other("the export failed")));
            }
        }
    });
    let chunks = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    Ok(download(
        "text/csv; charset=utf-8",
        &format!("tousu-cases-{stamp}.csv"),
        Body::from_stream(chunks),
    ))
}

/// A download of `body` as `file`.
pub(super) fn download(content_type: &'static str, file: &str, body: Body) -> Response {
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{file}\""))
        .expect("a file name of ASCII letters, digits and dashes");
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CONTENT_DISPOSITION, disposition),
            // Case data: not for shared caches.
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response()
}

/// Sends what the export writes to the response, a chunk at a time; fails once the client has
/// gone, which ends the export.
struct ChunkWriter {
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
    buf: Vec<u8>,
}

impl ChunkWriter {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK_BYTES));
        self.tx
            .blocking_send(Ok(chunk.into()))
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::BrokenPipe))
    }
}

impl Write for ChunkWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK_BYTES {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

//! A plain HTTP/1.1 client for the tests that run `tousu serve` as a child process: one
//! connection per request, written and read by hand, so that the server is never judged with
//! its own HTTP stack. And the percent-encoding of query values, which the in-process tests
//! use too.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::Value;

/// How long a request waits for its whole answer.
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// A whole answer.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    /// The header block as received: the status line, then the headers (no final blank line).
    pub head: String,
    /// The body, de-chunked when it came chunked.
    pub body: String,
}

impl Reply {
    /// The value of header `name` (in any case), trimmed; the first if it is repeated.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then_some(v.trim())
        })
    }

    /// The body as JSON; panics, showing it, if it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("a {} answer is not JSON ({e}): {}", self.status, self.body))
    }

    /// The body as JSON, or `Null` if it is not JSON: for polling, where such an answer is one
    /// more reason to wait.
    pub fn json_or_null(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// Sends one request to 127.0.0.1:`port` on a connection of its own (`Connection: close`) and
/// reads the whole answer. `headers` are added as given; `body`, when there is one, goes as
/// `application/json`. `Err` says why there is no whole answer: nothing listens, the
/// connection was cut, or the answer is malformed, not UTF-8, or shorter than it says.
pub fn send(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Result<Reply, String> {
    let (reply, bytes) = send_binary(port, method, path, headers, body)?;
    let body =
        String::from_utf8(bytes).map_err(|e| format!("{method} {path}: a body not UTF-8: {e}"))?;
    Ok(Reply { body, ..reply })
}

/// [`send`] for an answer whose body need not be text (a workbook): the reply with an empty
/// `body`, and the body's bytes.
pub fn send_binary(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Result<(Reply, Vec<u8>), String> {
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    for (name, value) in headers {
        req.push_str(&format!("{name}: {value}\r\n"));
    }
    if body.is_some() {
        req.push_str("Content-Type: application/json\r\n");
    }
    let body = body.unwrap_or_default();
    req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));

    let io = |what: &str, e: std::io::Error| format!("{method} {path}: {what}: {e}");
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| io("connect", e))?;
    s.set_read_timeout(Some(READ_TIMEOUT))
        .map_err(|e| io("set a read timeout", e))?;
    s.write_all(req.as_bytes()).map_err(|e| io("write", e))?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).map_err(|e| io("read", e))?;

    let bad = |what: String| format!("{method} {path}: {what}");
    let split = find(&raw, b"\r\n\r\n")
        .ok_or_else(|| bad(format!("no header block in {} bytes", raw.len())))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let rest = &raw[split + 4..];
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad(format!("no status in {head:?}")))?;
    let reply = Reply {
        status,
        head,
        body: String::new(),
    };
    let chunked = reply.header("transfer-encoding").is_some_and(|codings| {
        codings
            .rsplit(',')
            .next()
            .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"))
    });
    let body = if chunked {
        dechunk(rest).map_err(bad)?
    } else if let Some(length) = reply.header("content-length") {
        let length: usize = length
            .parse()
            .map_err(|_| bad(format!("Content-Length {length:?}")))?;
        if rest.len() != length {
            return Err(bad(format!(
                "a body of {} bytes, Content-Length {length}",
                rest.len()
            )));
        }
        rest.to_vec()
    } else {
        rest.to_vec()
    };
    Ok((reply, body))
}

/// The payload of a chunked body (RFC 9112 §7.1): chunk extensions are ignored and trailer
/// fields skipped. `Err` if it is malformed or ends before its last chunk and the blank line
/// after it.
pub fn dechunk(mut rest: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let line = find(rest, b"\r\n").ok_or("the body ends within a chunk's size line")?;
        let size_line = String::from_utf8_lossy(&rest[..line]);
        let size_field = size_line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_field, 16)
            .map_err(|_| format!("a chunk size line {size_line:?}"))?;
        rest = &rest[line + 2..];
        if size == 0 {
            // The trailer section: fields, if any, then a blank line.
            return if rest.starts_with(b"\r\n") || find(rest, b"\r\n\r\n").is_some() {
                Ok(out)
            } else {
                Err("the body ends within its trailer section".into())
            };
        }
        let chunk = rest
            .get(..size)
            .ok_or_else(|| format!("the body ends within a chunk of {size} bytes"))?;
        out.extend_from_slice(chunk);
        if rest.get(size..size + 2) != Some(b"\r\n".as_slice()) {
            return Err(format!("a chunk of {size} bytes not followed by CRLF"));
        }
        rest = &rest[size + 2..];
    }
}

/// Where `needle` first stands in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Percent-encodes a query value (every byte but ASCII letters, digits and `-_.~`).
pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[test]
fn dechunk_reads_extensions_and_trailers_and_refuses_a_cut_body() {
    let whole = b"4;name=value\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n";
    assert_eq!(dechunk(whole).unwrap(), b"Wikipedia");
    let trailers = b"3\r\nabc\r\n0\r\nExpires: never\r\n\r\n";
    assert_eq!(dechunk(trailers).unwrap(), b"abc");
    for cut in [
        &b"4\r\nWiki\r\n"[..],
        b"4\r\nWi",
        b"4\r\nWikiX\r\n0\r\n\r\n",
        b"4\r\nWiki\r\n0\r\n",
        b"zz\r\n",
    ] {
        assert!(dechunk(cut).is_err(), "{:?}", String::from_utf8_lossy(cut));
    }
}

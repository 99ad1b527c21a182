//! File and image uploads: `POST /applications/{app}/assets/{file|image}/upload`, multipart
//! with the part named `files`, through the app's governor and quota like every call.
//!
//! The body is made afresh for each attempt (`Upload::make_body`): a path is reopened and
//! streamed from disk in 64 KiB chunks (memory stays flat whatever the size), bytes are
//! shared, a stream from JS is read from a bounded channel. Uploads are POSTs, so `classify`
//! retries one only when Knack certainly did not take it (a 429, a connection that failed
//! before sending); a stream from JS that has started to flow cannot be sent twice, and its
//! upload fails then instead.

use crate::bounds::Bound;
use crate::error::{Error, ErrorCode, Result};
use crate::outcome::Outcome;
use crate::session::{CallOptions, Session};
use crate::transport::{Call, Progress};
use bytes::Bytes;
use futures_util::StreamExt;
use reqwest::Method;
use serde::Deserialize;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;

/// Chunk size of a file read from disk.
const CHUNK: usize = 64 * 1024;
/// The per-attempt timeout of an upload unless the call gives one (a large file takes time).
pub const UPLOAD_TIMEOUT: Duration = Duration::from_secs(600);

/// Where an upload's bytes come from.
pub enum UploadSource {
    /// A file on disk, streamed (reopened for each attempt).
    Path(PathBuf),
    /// Bytes in memory (a Buffer).
    Bytes(Bytes),
    /// Chunks pushed from JS (a Node Readable, a web ReadableStream, a Blob), with the total
    /// length when known.
    Stream {
        chunks: mpsc::Receiver<std::result::Result<Bytes, String>>,
        length: Option<u64>,
    },
}

/// Which asset route: Knack keeps files and images apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssetKind {
    File,
    Image,
}

impl AssetKind {
    pub fn parse(s: &str) -> Result<AssetKind> {
        match s {
            "file" => Ok(AssetKind::File),
            "image" => Ok(AssetKind::Image),
            _ => Err(Error::invalid("kind must be \"file\" or \"image\"")),
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            AssetKind::File => "file",
            AssetKind::Image => "image",
        }
    }
}

/// What to upload, checked.
#[derive(Debug, Clone)]
pub struct UploadMeta {
    pub filename: String,
    pub content_type: String,
    pub kind: AssetKind,
    /// Refuse sources larger than this, before any request.
    pub max_bytes: u64,
    /// The per-attempt timeout (default `UPLOAD_TIMEOUT`).
    pub timeout: Option<Duration>,
}

impl UploadMeta {
    /// Knack's plans cap a file's size; this is ours unless `maxBytes` says otherwise.
    pub const DEFAULT_MAX_BYTES: u64 = 512 * 1024 * 1024;
    pub const MAX_BYTES: Bound = Bound::new("maxBytes", 1, 16 * 1024 * 1024 * 1024);
}

/// The last path component of `name` (either separator), without control characters.
pub fn clean_filename(name: &str) -> Result<String> {
    let last = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = last.chars().filter(|c| !c.is_control()).collect();
    let cleaned = cleaned.trim().to_owned();
    if cleaned.is_empty() || cleaned == "." || cleaned == ".." {
        return Err(Error::invalid(format!(
            "filename {name:?} has no file name after its last / or \\"
        )));
    }
    if cleaned.len() > 1024 {
        return Err(Error::invalid("filename is longer than 1024 bytes"));
    }
    Ok(cleaned)
}

/// `Content-Disposition` of the `files` part: an ASCII `filename` (quotes and non-ASCII
/// replaced) for old parsers, and the exact name as RFC 5987 `filename*` (UTF-8, percent-
/// encoded), which multipart parsers (busboy, multer, Rails, Go) prefer.
pub fn content_disposition(filename: &str) -> String {
    let ascii: String = filename
        .chars()
        .map(|c| match c {
            '"' | '\\' => '_',
            c if c.is_ascii() && !c.is_ascii_control() => c,
            _ => '_',
        })
        .collect();
    const ATTR: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'!')
        .remove(b'#')
        .remove(b'$')
        .remove(b'&')
        .remove(b'+')
        .remove(b'-')
        .remove(b'.')
        .remove(b'^')
        .remove(b'_')
        .remove(b'`')
        .remove(b'|')
        .remove(b'~');
    let exact = percent_encoding::utf8_percent_encode(filename, ATTR);
    format!("form-data; name=\"files\"; filename=\"{ascii}\"; filename*=UTF-8''{exact}")
}

/// A content type for a header: printable ASCII without CR/LF, else the default.
fn header_safe(ct: &str) -> &str {
    if !ct.is_empty() && ct.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        ct
    } else {
        "application/octet-stream"
    }
}

/// An upload in flight: its multipart framing, its source, and how much has been sent.
pub struct Upload {
    boundary: String,
    head: Bytes,
    tail: Bytes,
    source: Mutex<Source>,
    /// Bytes of the source handed to the connection in the current attempt.
    pub sent: Arc<AtomicU64>,
    /// The source's length, when known.
    pub total: Option<u64>,
}

impl std::fmt::Debug for Upload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upload")
            .field("total", &self.total)
            .field("sent", &self.sent.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

enum Source {
    Path(PathBuf),
    Bytes(Bytes),
    /// Shared with the attempt's body, so an attempt that never read it leaves it usable.
    Stream(Arc<tokio::sync::Mutex<StreamState>>),
}

struct StreamState {
    chunks: mpsc::Receiver<std::result::Result<Bytes, String>>,
    started: Arc<AtomicBool>,
}

impl Upload {
    /// Check the source against `meta` (a regular, non-empty file no larger than the cap)
    /// before any request.
    pub async fn prepare(source: UploadSource, meta: &UploadMeta) -> Result<Upload> {
        let (source, total) = match source {
            UploadSource::Path(p) => {
                let md = tokio::fs::metadata(&p).await.map_err(|e| {
                    Error::invalid(format!("file {}: {}", p.display(), io_reason(&e)))
                })?;
                if !md.is_file() {
                    return Err(Error::invalid(format!(
                        "file {} is not a regular file",
                        p.display()
                    )));
                }
                (Source::Path(p), Some(md.len()))
            }
            UploadSource::Bytes(b) => {
                let n = b.len() as u64;
                (Source::Bytes(b), Some(n))
            }
            UploadSource::Stream { chunks, length } => (
                Source::Stream(Arc::new(tokio::sync::Mutex::new(StreamState {
                    chunks,
                    started: Arc::new(AtomicBool::new(false)),
                }))),
                length,
            ),
        };
        match total {
            Some(0) => return Err(Error::invalid("the file is empty (0 bytes)")),
            Some(n) if n > meta.max_bytes => {
                return Err(Error::invalid(format!(
                    "the file is {n} bytes, over the upload limit of {} bytes (maxBytes)",
                    meta.max_bytes
                )))
            }
            _ => {}
        }
        let mut boundary_bytes = [0u8; 16];
        getrandom::fill(&mut boundary_bytes)
            .map_err(|e| Error::new(ErrorCode::Network, format!("no randomness: {e}")))?;
        let boundary: String = boundary_bytes.iter().map(|b| format!("{b:02x}")).collect();
        let boundary = format!("knack-session-{boundary}");
        let head = format!(
            "--{boundary}\r\nContent-Disposition: {}\r\nContent-Type: {}\r\n\r\n",
            content_disposition(&meta.filename),
            header_safe(&meta.content_type),
        );
        let tail = format!("\r\n--{boundary}--\r\n");
        Ok(Upload {
            boundary,
            head: Bytes::from(head),
            tail: Bytes::from(tail),
            source: Mutex::new(source),
            sent: Arc::new(AtomicU64::new(0)),
            total,
        })
    }

    pub fn content_type(&self) -> String {
        format!("multipart/form-data; boundary={}", self.boundary)
    }

    /// The whole body's length, when the source's is known.
    pub fn content_length(&self) -> Option<u64> {
        self.total
            .map(|n| n + self.head.len() as u64 + self.tail.len() as u64)
    }

    /// A body for one attempt, or an error when the source cannot be sent again (a stream
    /// from JS that an earlier attempt started to read).
    pub fn make_body(&self) -> Result<reqwest::Body> {
        self.sent.store(0, Ordering::Relaxed);
        let sent = self.sent.clone();
        let head = futures_util::stream::once(std::future::ready(Ok::<Bytes, std::io::Error>(
            self.head.clone(),
        )));
        let tail = futures_util::stream::once(std::future::ready(Ok::<Bytes, std::io::Error>(
            self.tail.clone(),
        )));
        let count = move |r: std::io::Result<Bytes>| {
            if let Ok(b) = &r {
                sent.fetch_add(b.len() as u64, Ordering::Relaxed);
            }
            r
        };
        let source = self.source.lock().unwrap_or_else(|p| p.into_inner());
        let middle: futures_util::stream::BoxStream<'static, std::io::Result<Bytes>> =
            match &*source {
                Source::Bytes(b) => {
                    let b = b.clone();
                    futures_util::stream::once(std::future::ready(Ok(b))).boxed()
                }
                Source::Path(p) => file_stream(p.clone()).boxed(),
                Source::Stream(state) => {
                    let state = state.clone();
                    if let Ok(s) = state.try_lock() {
                        if s.started.load(Ordering::Relaxed) {
                            return Err(Error::new(
                            ErrorCode::Network,
                            "the upload's stream was already sent once and cannot be sent again",
                        ));
                        }
                    }
                    channel_stream(state).boxed()
                }
            };
        let body = head.chain(middle.map(count)).chain(tail);
        Ok(reqwest::Body::wrap_stream(body))
    }
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_owned(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ => e.to_string(),
    }
}

/// A file's bytes, read in `CHUNK`s as the connection takes them.
fn file_stream(path: PathBuf) -> impl futures_util::Stream<Item = std::io::Result<Bytes>> {
    futures_util::stream::unfold(
        (None::<tokio::fs::File>, path, false),
        |(file, path, done)| async move {
            if done {
                return None;
            }
            let mut file = match file {
                Some(f) => f,
                None => match tokio::fs::File::open(&path).await {
                    Ok(f) => f,
                    Err(e) => return Some((Err(e), (None, path, true))),
                },
            };
            let mut buf = vec![0u8; CHUNK];
            match file.read(&mut buf).await {
                Ok(0) => None,
                Ok(n) => {
                    buf.truncate(n);
                    Some((Ok(Bytes::from(buf)), (Some(file), path, false)))
                }
                Err(e) => Some((Err(e), (None, path, true))),
            }
        },
    )
}

/// Chunks from JS; marks the source started on the first chunk it takes.
fn channel_stream(
    state: Arc<tokio::sync::Mutex<StreamState>>,
) -> impl futures_util::Stream<Item = std::io::Result<Bytes>> {
    futures_util::stream::unfold(Some(state), |state| async move {
        let state = state?;
        let next = {
            let mut s = state.lock().await;
            s.started.store(true, Ordering::Relaxed);
            s.chunks.recv().await
        };
        match next {
            Some(Ok(b)) => Some((Ok(b), Some(state))),
            Some(Err(m)) => Some((Err(std::io::Error::other(m)), None)),
            None => None,
        }
    })
}

/// Knack's answer to an upload.
#[derive(Debug, Deserialize)]
struct AssetAnswer {
    id: String,
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    filename: Option<String>,
    #[serde(default)]
    public_url: Option<String>,
    #[serde(default)]
    thumb_url: Option<String>,
    #[serde(default)]
    size: Option<serde_json::Number>,
}

/// `{id, type, filename, publicUrl, thumbUrl, size}` for JS, from Knack's answer.
fn asset_json(body: &[u8]) -> Result<String> {
    let a: AssetAnswer = serde_json::from_str(crate::response::utf8(body)?).map_err(|e| {
        Error::bad_response(format!(
            "Knack's upload answer is not {{id, type, filename, public_url, ...}}: {e}"
        ))
    })?;
    if !crate::validate::is_record_id(&a.id) {
        return Err(Error::bad_response(
            "Knack's upload answer has no asset id (24 hexadecimal characters)",
        ));
    }
    Ok(serde_json::json!({
        "id": a.id,
        "type": a.kind,
        "filename": a.filename,
        "publicUrl": a.public_url,
        "thumbUrl": a.thumb_url.filter(|t| !t.is_empty()),
        "size": a.size,
    })
    .to_string())
}

/// What an upload that failed after sending may have left at Knack.
const ORPHAN: &str = "Knack may have stored the file as an asset that nothing uses (harmless; \
                      upload again to attach it)";

impl Session {
    /// Upload a file or image; resolves Knack's answer as `{id, type, filename, publicUrl,
    /// thumbUrl, size}` JSON. `upload` comes from `Upload::prepare` (checked before any
    /// request), so the caller can read its progress while it runs.
    pub async fn upload_file(
        &self,
        upload: &Upload,
        meta: &UploadMeta,
        opts: &CallOptions,
    ) -> Result<String> {
        let path = format!(
            "/applications/{}/assets/{}/upload",
            self.app().app_id,
            meta.kind.as_str()
        );
        let mut policy = self.policy().clone();
        policy.timeout = meta.timeout.unwrap_or(UPLOAD_TIMEOUT.max(policy.timeout));
        self.run(opts, |progress: Arc<Progress>| async move {
            let mut call = Call::new(Method::POST, path);
            call.upload = Some(upload);
            let reply = self.send_with(call, &policy, &progress).await?;
            asset_json(&reply.body).map_err(|e| reply.unusable(e))
        })
        .await
        .map_err(|e| {
            if e.outcome() == Outcome::Unknown && !e.message.contains(ORPHAN) {
                let mut e = e;
                e.message = format!("{}; {ORPHAN}", e.message);
                e
            } else {
                e
            }
        })
    }
}

impl Session {
    /// Which asset route a file or image field takes, from the app's cached metadata:
    /// `image` fields take images, `file` fields files; anything else is refused.
    pub async fn asset_kind_of(&self, field: &str, opts: &CallOptions) -> Result<AssetKind> {
        crate::validate::field_key("files", field)?;
        self.run(opts, |progress| async move {
            let t = crate::metadata::field_type(self.app(), field, self.policy(), &progress).await?;
            match t.as_deref() {
                Some("image") => Ok(AssetKind::Image),
                Some("file") => Ok(AssetKind::File),
                Some(other) => Err(Error::invalid(format!(
                    "files.{field} is not a file or image field (its type is {other})"
                ))),
                None => Err(Error::invalid(format!(
                    "files.{field} is not a field of this application (its metadata does not list it)"
                ))),
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filenames_keep_their_last_component_and_are_encoded_both_ways() {
        assert_eq!(clean_filename("a/b/c.txt").unwrap(), "c.txt");
        assert_eq!(clean_filename("C:\\x\\y z.pdf").unwrap(), "y z.pdf");
        assert_eq!(clean_filename("ré\"sumé\".pdf").unwrap(), "ré\"sumé\".pdf");
        for bad in ["", "dir/", "..", "a/.."] {
            assert_eq!(
                clean_filename(bad).unwrap_err().code(),
                "KNACK_INVALID_ARGUMENT",
                "{bad:?}"
            );
        }
        assert_eq!(
            content_disposition("ré\"sumé\".pdf"),
            "form-data; name=\"files\"; filename=\"r__sum__.pdf\"; filename*=UTF-8''r%C3%A9%22sum%C3%A9%22.pdf"
        );
        assert_eq!(
            content_disposition("plain-name_1.txt"),
            "form-data; name=\"files\"; filename=\"plain-name_1.txt\"; filename*=UTF-8''plain-name_1.txt"
        );
    }

    #[test]
    fn upload_answers_become_camel_case_and_need_an_asset_id() {
        let a = asset_json(br#"{"id":"595384046fa0b656cec2e5d3","type":"file","filename":"t.pdf","public_url":"https://x/t.pdf","thumb_url":"","size":8200}"#).unwrap();
        assert_eq!(
            a,
            r#"{"filename":"t.pdf","id":"595384046fa0b656cec2e5d3","publicUrl":"https://x/t.pdf","size":8200,"thumbUrl":null,"type":"file"}"#
        );
        assert!(asset_json(br#"{"id":"x"}"#).is_err());
        assert!(asset_json(b"<html>").is_err());
    }
}

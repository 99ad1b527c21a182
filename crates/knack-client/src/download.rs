//! Downloading a record's file or image: streamed to a path (a temporary file in the same
//! directory, renamed when complete) or handed out chunk by chunk (a JS Writable).
//!
//! Credentials go only where they belong: the token (and the app id header) are sent to the
//! configured Knack API origin and nowhere else. A redirect is followed by hand (at most
//! `MAX_REDIRECTS`): to the API origin with the token, to any other origin (S3, a CDN)
//! without it, and only over https (http only between loopback hosts, for tests). Requests
//! to the API origin go through the app's governor and quota like every call.

use crate::error::{Error, ErrorCode, Result};
use crate::session::{CallOptions, Session};
use crate::transport::Progress;
use bytes::Bytes;
use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_DISPOSITION, CONTENT_TYPE, LOCATION};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;
use url::Url;

pub const MAX_REDIRECTS: usize = 5;

/// What to download.
#[derive(Debug, Clone)]
pub enum AssetRef {
    /// An asset's URL (a file field's raw `url`, an upload's `publicUrl`).
    Url(String),
    /// An asset id and its file name (the download route of the app's API).
    Asset { id: String, filename: String },
}

/// What a finished download was.
#[derive(Debug, Clone, PartialEq)]
pub struct Downloaded {
    pub bytes: u64,
    pub content_type: Option<String>,
    pub filename: Option<String>,
}

/// Where the bytes go.
pub enum Sink {
    /// A file, written whole or not at all.
    Path(PathBuf),
    /// Chunks for JS (a bounded channel: the download waits while JS is behind).
    Chunks(mpsc::Sender<Bytes>),
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// Only https, except between loopback hosts (local tests).
fn allowed(url: &Url, from: &Url) -> Result<()> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if crate::validate::is_loopback(url) && crate::validate::is_loopback(from) => Ok(()),
        _ => Err(Error::new(
            ErrorCode::BadResponse,
            format!(
                "the download was redirected to a {} URL, which is refused (https only)",
                url.scheme()
            ),
        )),
    }
}

/// `filename*=UTF-8''...` (else `filename="..."`) of a Content-Disposition header.
fn disposition_filename(v: &str) -> Option<String> {
    let mut plain = None;
    for part in v.split(';').map(str::trim) {
        let Some((k, val)) = part.split_once('=') else {
            continue;
        };
        let k = k.trim().to_ascii_lowercase();
        let val = val.trim();
        if k == "filename*" {
            let encoded = val.split_once("''").map(|(_, e)| e).unwrap_or(val);
            if let Ok(s) = percent_encoding::percent_decode_str(encoded).decode_utf8() {
                return Some(s.into_owned());
            }
        } else if k == "filename" {
            plain = Some(val.trim_matches('"').to_owned());
        }
    }
    plain
}

fn last_segment(url: &Url) -> Option<String> {
    let seg = url.path_segments()?.next_back()?;
    let s = percent_encoding::percent_decode_str(seg)
        .decode_utf8()
        .ok()?;
    (!s.is_empty()).then(|| s.into_owned())
}

/// A temporary file beside `target`, removed unless `keep` is called.
struct TempFile {
    path: PathBuf,
    kept: bool,
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.kept {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

fn temp_beside(target: &Path) -> Result<TempFile> {
    let dir = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = target
        .file_name()
        .ok_or_else(|| Error::invalid(format!("to: {} names no file", target.display())))?;
    let mut r = [0u8; 6];
    getrandom::fill(&mut r).map_err(|e| Error::invalid(format!("no randomness: {e}")))?;
    let suffix: String = r.iter().map(|b| format!("{b:02x}")).collect();
    Ok(TempFile {
        path: dir.join(format!(".{}.{suffix}.part", name.to_string_lossy())),
        kept: false,
    })
}

impl Session {
    /// The URL of an asset: its own, or the app's download route for `{id, filename}`.
    fn asset_url(&self, asset: &AssetRef) -> Result<Url> {
        match asset {
            AssetRef::Url(u) => Url::parse(u.trim())
                .map_err(|e| Error::invalid(format!("the asset's URL is not a URL ({e})"))),
            AssetRef::Asset { id, filename } => {
                crate::validate::record_id("id", id)?;
                let name = crate::upload::clean_filename(filename)?;
                let seg = percent_encoding::utf8_percent_encode(
                    &name,
                    percent_encoding::NON_ALPHANUMERIC,
                );
                crate::transport::request_url(
                    &self.app().base_url,
                    &format!(
                        "/applications/{}/download/asset/{id}/{seg}",
                        self.app().app_id
                    ),
                    "",
                )
            }
        }
    }

    /// Download an asset into `sink`.
    pub async fn download(
        &self,
        asset: &AssetRef,
        sink: Sink,
        opts: &CallOptions,
    ) -> Result<Downloaded> {
        let url = self.asset_url(asset)?;
        let api = self.app().base_url.clone();
        allowed(&url, &api).map_err(|_| {
            Error::invalid("the asset's URL must be https (http only for loopback hosts)")
        })?;
        self.run(opts, |progress: Arc<Progress>| async move {
            let mut url = url;
            let mut hops = 0;
            let resp = loop {
                let to_api = same_origin(&url, &api);
                if to_api {
                    self.app().quota.check()?;
                    self.app().governor.acquire().await;
                }
                progress
                    .attempts
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let mut rb = self.app().http.get(url.clone());
                if to_api {
                    let mut v = HeaderValue::from_str(self.token().expose())
                        .map_err(|_| Error::invalid("the token is not a valid header value"))?;
                    v.set_sensitive(true);
                    rb = rb
                        .header(AUTHORIZATION, v)
                        .header("X-Knack-Application-Id", &self.app().app_id);
                }
                let resp = tokio::time::timeout(self.policy().timeout, rb.send())
                    .await
                    .map_err(|_| {
                        Error::new(ErrorCode::Timeout, "download: no answer within timeoutMs")
                    })?
                    .map_err(|e| {
                        Error::new(
                            ErrorCode::Network,
                            format!("download: {}", crate::transport::describe(&e)),
                        )
                    })?;
                let status = resp.status().as_u16();
                if (300..400).contains(&status) {
                    hops += 1;
                    if hops > MAX_REDIRECTS {
                        return Err(Error::bad_response("download: more than 5 redirects"));
                    }
                    let loc = resp
                        .headers()
                        .get(LOCATION)
                        .and_then(|v| v.to_str().ok())
                        .ok_or_else(|| {
                            Error::bad_response(format!("download: a {status} without Location"))
                        })?;
                    let next = url.join(loc).map_err(|_| {
                        Error::bad_response("download: the redirect's Location is not a URL")
                    })?;
                    allowed(&next, &url)?;
                    url = next;
                    continue;
                }
                if !(200..300).contains(&status) {
                    let body = resp.bytes().await.unwrap_or_default();
                    let errors = crate::response::knack_errors(&body);
                    let said = crate::response::summary(&errors)
                        .map(|m| format!(" ({m})"))
                        .unwrap_or_default();
                    let code = match status {
                        404 | 410 | 400 => ErrorCode::NotFound,
                        401 => ErrorCode::Unauthorized,
                        403 => ErrorCode::Forbidden,
                        429 => ErrorCode::RateLimited,
                        500..=599 => ErrorCode::ServerError,
                        _ => ErrorCode::BadResponse,
                    };
                    return Err(Error::new(
                        code,
                        format!(
                            "download: {} answered {status}{said}",
                            url.host_str().unwrap_or("the server")
                        ),
                    )
                    .with_status(status)
                    .with_errors(errors));
                }
                break resp;
            };
            let content_type = resp
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let filename = resp
                .headers()
                .get(CONTENT_DISPOSITION)
                .and_then(|v| v.to_str().ok())
                .and_then(disposition_filename)
                .or_else(|| last_segment(&url));
            let bytes = write_body(resp, sink).await?;
            Ok(Downloaded {
                bytes,
                content_type,
                filename,
            })
        })
        .await
    }
}

/// Stream the answer into the sink; a file is renamed into place only when complete.
async fn write_body(mut resp: reqwest::Response, sink: Sink) -> Result<u64> {
    let broke = |e: reqwest::Error| {
        Error::new(
            ErrorCode::Network,
            format!(
                "download: the connection broke while reading ({})",
                crate::transport::describe(&e)
            ),
        )
    };
    let mut n = 0u64;
    match sink {
        Sink::Path(target) => {
            let mut tmp = temp_beside(&target)?;
            let mut file = tokio::fs::File::create(&tmp.path).await.map_err(|e| {
                Error::invalid(format!("to: cannot write beside {}: {e}", target.display()))
            })?;
            let io = |e: std::io::Error| Error::invalid(format!("to: {}: {e}", target.display()));
            while let Some(chunk) = resp.chunk().await.map_err(broke)? {
                n += chunk.len() as u64;
                file.write_all(&chunk).await.map_err(io)?;
            }
            file.flush().await.map_err(io)?;
            file.sync_all().await.map_err(io)?;
            drop(file);
            tokio::fs::rename(&tmp.path, &target).await.map_err(io)?;
            tmp.kept = true;
        }
        Sink::Chunks(tx) => {
            while let Some(chunk) = resp.chunk().await.map_err(broke)? {
                n += chunk.len() as u64;
                if tx.send(chunk).await.is_err() {
                    return Err(Error::aborted());
                }
            }
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filenames_come_from_content_disposition_or_the_url() {
        assert_eq!(
            disposition_filename(
                "attachment; filename=\"a.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf"
            )
            .as_deref(),
            Some("résumé.pdf")
        );
        assert_eq!(
            disposition_filename("attachment; filename=\"a b.pdf\"").as_deref(),
            Some("a b.pdf")
        );
        let u = Url::parse("https://x.example/dl/asset/1/na%C3%AFve%20file.txt").unwrap();
        assert_eq!(last_segment(&u).as_deref(), Some("naïve file.txt"));
    }

    #[test]
    fn redirects_stay_on_https_except_between_loopback_hosts() {
        let api = Url::parse("https://api.knack.com/v1").unwrap();
        assert!(allowed(&Url::parse("https://s3.amazonaws.com/x").unwrap(), &api).is_ok());
        assert!(allowed(&Url::parse("http://s3.amazonaws.com/x").unwrap(), &api).is_err());
        let local = Url::parse("http://127.0.0.1:9/v1").unwrap();
        assert!(allowed(&Url::parse("http://127.0.0.1:10/cdn").unwrap(), &local).is_ok());
        assert!(allowed(&Url::parse("http://example.com/cdn").unwrap(), &local).is_err());
        assert!(allowed(&Url::parse("file:///etc/passwd").unwrap(), &api).is_err());
        assert!(same_origin(
            &api,
            &Url::parse("https://api.knack.com:443/v1/x").unwrap()
        ));
        assert!(!same_origin(
            &api,
            &Url::parse("https://api.knack.com.evil.example/v1").unwrap()
        ));
    }
}

//! File and image uploads (`multipart/form-data`, field `files`), streamed to a spool file
//! while they arrive, and downloads (from the API host, or by a redirect to the asset host).

use std::sync::Arc;

use http::HeaderMap;
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::config::Switches;
use crate::format::url_path_escape;
use crate::ids::Id;
use crate::multipart::{Event, Parser};
use crate::reader::{BodyReader, ReadError};
use crate::request::{Output, Resp, TEXT};
use crate::spool::SpoolFile;
use crate::state::FakeState;
use crate::store::Asset;

/// Write buffer of a spool file.
const SPOOL_BUF: usize = 1 << 20;

/// `boundary` parameter of a multipart content type.
pub fn boundary(content_type: &str) -> Option<String> {
    let (mime, params) = crate::multipart::parse_params(content_type);
    if !mime.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params
        .into_iter()
        .find(|(k, _)| k == "boundary")
        .map(|(_, v)| v)
        .filter(|b| !b.is_empty() && b.len() <= 200)
}

/// The 413 of an upload over `max_upload_bytes` (text/html, like the errors real Knack
/// answers in HTML; `error_bodies: "json"` gives the errors envelope).
pub fn too_large(sw: &Switches) -> Resp {
    Resp::recorded(413, "Payload Too Large", sw.error_bodies)
}

/// The checks of `POST /v1/applications/{app}/assets/{kind}/upload` made before reading
/// the body; gives the multipart boundary.
pub fn precheck(
    st: &FakeState,
    headers: &HeaderMap,
    sw: &Switches,
    app: &str,
    kind: &str,
) -> Result<String, Resp> {
    if !app.eq_ignore_ascii_case(st.app_id()) {
        return Err(Resp::error(404, "Application not found"));
    }
    if kind != "file" && kind != "image" {
        return Err(Resp::error(404, "Not found"));
    }
    let ct = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let Some(b) = ct.and_then(boundary) else {
        return Err(Resp::error(400, "Expected a multipart/form-data body"));
    };
    let declared = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > sw.max_upload_bytes) {
        return Err(too_large(sw));
    }
    Ok(b)
}

/// The `files` part being received.
struct Spooling {
    spool: SpoolFile,
    out: tokio::io::BufWriter<tokio::fs::File>,
    hash: Sha256,
    size: u64,
    head: crate::multipart::PartHead,
}

/// A received `files` part.
struct Received {
    spool: SpoolFile,
    sha256: String,
    size: u64,
    head: crate::multipart::PartHead,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn io_error() -> Output {
    Resp::error(500, "Could not store the upload").into()
}

/// Reads the multipart body, spooling the first `files` part to disk, and stores the asset.
/// A parse error answers 400 at once (the rest unread). Read errors are the caller's:
/// `TooLarge` -> 413, `Cut`/`Broken` -> the connection is dropped. Nothing is stored unless
/// the whole body was read and valid.
pub async fn receive(
    st: &FakeState,
    reader: &mut BodyReader,
    boundary: &str,
    kind: &str,
) -> Result<Output, ReadError> {
    let mut parser = Parser::new(boundary);
    let mut events = Vec::new();
    // The `files` part being written (other parts' data is dropped), then the received one.
    let mut current: Option<Spooling> = None;
    let mut done: Option<Received> = None;
    while let Some(chunk) = reader.next().await? {
        if let Err(e) = parser.feed(&chunk, &mut events) {
            return Ok(Resp::error(400, &e.to_string()).into());
        }
        for ev in events.drain(..) {
            match ev {
                Event::Part(head) => {
                    if head.name == "files" && done.is_none() && current.is_none() {
                        let spool = st.spool.new_file();
                        let file = match tokio::fs::File::create(spool.path()).await {
                            Ok(f) => f,
                            Err(_) => return Ok(io_error()),
                        };
                        current = Some(Spooling {
                            spool,
                            out: tokio::io::BufWriter::with_capacity(SPOOL_BUF, file),
                            hash: Sha256::new(),
                            size: 0,
                            head,
                        });
                    }
                }
                Event::Data(d) => {
                    if let Some(c) = current.as_mut() {
                        c.hash.update(&d);
                        c.size += d.len() as u64;
                        if c.out.write_all(&d).await.is_err() {
                            return Ok(io_error());
                        }
                    }
                }
                Event::PartEnd => {
                    if let Some(mut c) = current.take() {
                        if c.out.flush().await.is_err() {
                            return Ok(io_error());
                        }
                        drop(c.out);
                        done = Some(Received {
                            spool: c.spool,
                            sha256: hex(&c.hash.finalize()),
                            size: c.size,
                            head: c.head,
                        });
                    }
                }
            }
        }
    }
    if let Err(e) = parser.finish() {
        return Ok(Resp::error(400, &e.to_string()).into());
    }
    let Some(rec) = done else {
        return Ok(Resp::error(400, "Missing form field `files`").into());
    };
    if rec.size == 0 {
        return Ok(Resp::error(400, "The uploaded file is empty").into());
    }
    Ok(store(st, kind, rec))
}

fn store(st: &FakeState, kind: &str, rec: Received) -> Output {
    let filename = rec
        .head
        .filename
        .clone()
        .filter(|f| !f.is_empty())
        .unwrap_or_else(|| "upload.bin".to_string());
    let id = st.ids.next();
    let url = format!(
        "{}/v1/applications/{}/download/asset/{}/{}",
        st.base_url,
        st.app_id(),
        id,
        url_path_escape(&filename)
    );
    let asset = Asset {
        seq: st.next_asset_seq(),
        kind: kind.to_string(),
        filename: filename.clone(),
        content_type: rec
            .head
            .content_type
            .clone()
            .unwrap_or_else(|| "application/octet-stream".into()),
        size: rec.size,
        sha256: rec.sha256,
        part_headers: rec.head.headers,
        file: Arc::new(rec.spool),
        used_by: None,
    };
    st.write().assets.insert(id, asset);
    let body = json!({
        "id": id.hex(),
        "type": kind,
        "filename": filename,
        "public_url": url,
        "thumb_url": if kind == "image" { url.clone() } else { String::new() },
        "size": rec.size,
    });
    Output {
        resp: Resp::value(200, &body),
        user_id: None,
        applied: true,
    }
}

/// A download the server streams from a spool file.
pub struct FileServe {
    pub file: Arc<SpoolFile>,
    pub size: u64,
    pub content_type: String,
    pub filename: String,
}

/// What `GET /v1/applications/{app}/download/asset/{id}/{name}` answers.
pub enum Download {
    Resp(Resp),
    File(FileServe),
}

/// The asset to download, or a 302 to the asset host (switch `asset_host`).
pub fn download(st: &FakeState, sw: &Switches, app: &str, id: &str, name: &str) -> Download {
    if !app.eq_ignore_ascii_case(st.app_id()) {
        return Download::Resp(Resp::error(404, "Application not found"));
    }
    let data = st.read();
    let Some((id, asset)) = Id::parse(id).and_then(|id| data.assets.get(&id).map(|a| (id, a)))
    else {
        return Download::Resp(Resp::error(sw.not_found_status, "Asset not found"));
    };
    if sw.asset_host {
        drop(data);
        let sig = st.issue_sig(id);
        let location = format!("{}/assets/{}/{}?sig={sig}", st.asset_host_url, id, name);
        return Download::Resp(Resp {
            status: 302,
            content_type: TEXT.into(),
            headers: vec![(http::header::LOCATION.as_str().to_string(), location)],
            body: bytes::Bytes::new(),
        });
    }
    Download::File(FileServe {
        file: asset.file.clone(),
        size: asset.size,
        content_type: asset.content_type.clone(),
        filename: asset.filename.clone(),
    })
}

/// The asset a signed asset-host URL opens.
pub fn signed(st: &FakeState, id: &str, sig: Option<&str>) -> Result<FileServe, Resp> {
    let Some(asset_id) = Id::parse(id) else {
        return Err(Resp::text(404, "Not Found"));
    };
    if !sig.is_some_and(|s| st.check_sig(s, asset_id)) {
        return Err(Resp::text(403, "Forbidden: missing or bad signature"));
    }
    let data = st.read();
    let Some(asset) = data.assets.get(&asset_id) else {
        return Err(Resp::text(404, "Not Found"));
    };
    Ok(FileServe {
        file: asset.file.clone(),
        size: asset.size,
        content_type: asset.content_type.clone(),
        filename: asset.filename.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries() {
        assert_eq!(
            boundary("multipart/form-data; boundary=\"XyZ\"").as_deref(),
            Some("XyZ")
        );
        assert_eq!(
            boundary("Multipart/Form-Data;boundary=----abc").as_deref(),
            Some("----abc")
        );
        assert_eq!(boundary("multipart/form-data"), None);
        assert_eq!(boundary("text/plain; boundary=x"), None);
        assert_eq!(boundary("multipart/form-data; boundary="), None);
    }
}

//! File and image uploads (`multipart/form-data`, field `files`) and downloads.

use bytes::Bytes;
use serde_json::json;

use crate::format::url_path_escape;
use crate::ids::Id;
use crate::request::{Output, RequestCtx, Resp};
use crate::state::FakeState;
use crate::store::Asset;

/// One part of a multipart body.
#[derive(Debug)]
pub struct Part {
    pub name: String,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub data: Bytes,
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    (from..=hay.len() - needle.len()).find(|&i| &hay[i..i + needle.len()] == needle)
}

/// `boundary` parameter of a multipart content type.
pub fn boundary(content_type: &str) -> Option<String> {
    let (mime, params) = content_type.split_once(';')?;
    if !mime.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.split(';').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_string())
            .filter(|b| !b.is_empty())
    })
}

fn header_param(value: &str, name: &str) -> Option<String> {
    value.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().trim_matches('"').to_string())
    })
}

/// Splits a multipart body into parts.
pub fn parse_multipart(body: &Bytes, boundary: &str) -> Result<Vec<Part>, &'static str> {
    let delim = format!("--{boundary}");
    let delim = delim.as_bytes();
    let mut pos = find(body, delim, 0).ok_or("multipart boundary not found")? + delim.len();
    let mut parts = Vec::new();
    loop {
        if body.get(pos..pos + 2) == Some(b"--") {
            break; // closing delimiter
        }
        // Skip the line break after the delimiter.
        if body.get(pos..pos + 2) == Some(b"\r\n") {
            pos += 2;
        } else if body.get(pos..pos + 1) == Some(b"\n") {
            pos += 1;
        }
        let head_end = find(body, b"\r\n\r\n", pos).ok_or("malformed multipart part")?;
        let head = std::str::from_utf8(&body[pos..head_end]).map_err(|_| "bad part headers")?;
        let data_start = head_end + 4;
        let mut next_delim = Vec::with_capacity(delim.len() + 2);
        next_delim.extend_from_slice(b"\r\n");
        next_delim.extend_from_slice(delim);
        let data_end = find(body, &next_delim, data_start).ok_or("unterminated multipart part")?;
        let mut name = String::new();
        let mut filename = None;
        let mut content_type = None;
        for line in head.split("\r\n") {
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            if k.trim().eq_ignore_ascii_case("content-disposition") {
                name = header_param(v, "name").unwrap_or_default();
                filename = header_param(v, "filename");
            } else if k.trim().eq_ignore_ascii_case("content-type") {
                content_type = Some(v.trim().to_string());
            }
        }
        parts.push(Part {
            name,
            filename,
            content_type,
            data: body.slice(data_start..data_end),
        });
        pos = data_end + next_delim.len();
    }
    Ok(parts)
}

/// `POST /v1/applications/{app}/assets/{file|image}/upload`
pub fn upload(st: &FakeState, ctx: &RequestCtx, app: &str, kind: &str) -> Output {
    if !app.eq_ignore_ascii_case(st.app_id()) {
        return Resp::error(404, "Application not found").into();
    }
    if kind != "file" && kind != "image" {
        return Resp::error(404, "Not found").into();
    }
    let Some(b) = ctx.header("content-type").and_then(boundary) else {
        return Resp::error(400, "Expected a multipart/form-data body").into();
    };
    let parts = match parse_multipart(&ctx.body, &b) {
        Ok(p) => p,
        Err(msg) => return Resp::error(400, msg).into(),
    };
    let Some(part) = parts.into_iter().find(|p| p.name == "files") else {
        return Resp::error(400, "Missing form field `files`").into();
    };
    let filename = part
        .filename
        .filter(|f| !f.is_empty())
        .unwrap_or_else(|| "upload.bin".to_string());
    let id = st.ids.next();
    let size = part.data.len();
    let url = format!(
        "{}/v1/applications/{}/download/asset/{}/{}",
        st.base_url,
        st.app_id(),
        id,
        url_path_escape(&filename)
    );
    st.write().assets.insert(
        id,
        Asset {
            kind: kind.to_string(),
            filename: filename.clone(),
            content_type: part
                .content_type
                .unwrap_or_else(|| "application/octet-stream".into()),
            bytes: part.data,
            used_by: None,
        },
    );
    let body = json!({
        "id": id.hex(),
        "type": kind,
        "filename": filename,
        "public_url": url,
        "thumb_url": if kind == "image" { url.clone() } else { String::new() },
        "size": size,
    });
    Output {
        resp: Resp::value(200, &body),
        user_id: None,
        applied: true,
    }
}

/// `GET /v1/applications/{app}/download/asset/{id}/{name}`
pub fn download(st: &FakeState, sw_not_found: u16, app: &str, id: &str) -> Output {
    if !app.eq_ignore_ascii_case(st.app_id()) {
        return Resp::error(404, "Application not found").into();
    }
    let data = st.read();
    let Some(asset) = Id::parse(id).and_then(|id| data.assets.get(&id)) else {
        return Resp::error(sw_not_found, "Asset not found").into();
    };
    Resp {
        status: 200,
        content_type: asset.content_type.clone(),
        headers: Vec::new(),
        body: asset.bytes.clone(),
    }
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_multipart() {
        let body = Bytes::from_static(
            b"--XyZ\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nv\r\n--XyZ\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a b.txt\"\r\nContent-Type: text/plain\r\n\r\nhello\r\nworld\r\n--XyZ--\r\n",
        );
        assert_eq!(
            boundary("multipart/form-data; boundary=\"XyZ\"").as_deref(),
            Some("XyZ")
        );
        let parts = parse_multipart(&body, "XyZ").expect("parts");
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[1].name, "files");
        assert_eq!(parts[1].filename.as_deref(), Some("a b.txt"));
        assert_eq!(&parts[1].data[..], b"hello\r\nworld");
        assert!(parse_multipart(&Bytes::from_static(b"junk"), "XyZ").is_err());
    }
}

//! The asset host: a second loopback port standing in for S3 / Knack's CDN. With the
//! `asset_host` switch on, API-host downloads answer 302 to
//! `<asset host>/assets/{id}/{name}?sig=<random>`; the asset host serves the bytes, refuses
//! any request carrying credentials (400 `credentials not accepted`: a client must not send
//! the Knack token or keys to another host) and answers 403 to a missing or unknown `sig`.
//! Every request lands in its own log (`GET /_fake/asset-log`).

use std::collections::BTreeMap;
use std::sync::Arc;

use http::{Method, Request, Response};
use hyper::body::Incoming;

use crate::body::Body;
use crate::format::url_path_escape;
use crate::request::{parse_query, Resp};
use crate::server::{finish, open, ConnReset};
use crate::state::{AssetLogEntry, FakeState};

/// Headers that carry credentials of the Knack API (or a browser session).
const CREDENTIALS: [&str; 4] = [
    "authorization",
    "x-knack-rest-api-key",
    "x-knack-application-id",
    "cookie",
];

fn all_headers(h: &http::HeaderMap) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in h {
        let v = String::from_utf8_lossy(v.as_bytes()).into_owned();
        out.entry(k.as_str().to_string())
            .and_modify(|prev| {
                prev.push_str(", ");
                prev.push_str(&v);
            })
            .or_insert(v);
    }
    out
}

pub(crate) async fn handle(
    st: Arc<FakeState>,
    req: Request<Incoming>,
) -> Result<Response<Body>, ConnReset> {
    let (parts, _body) = req.into_parts();
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().unwrap_or("").to_string();
    let headers = all_headers(&parts.headers);
    let (resp, body) = answer(&st, &parts.method, &path, &query, &parts.headers).await;
    st.append_asset_log(AssetLogEntry {
        method: parts.method.as_str().to_string(),
        path,
        query,
        headers,
        status: resp.status,
    });
    Ok(finish(resp, body, None))
}

fn whole(r: Resp) -> (Resp, Body) {
    let b = r.body.clone();
    (r, Body::full(b))
}

async fn answer(
    st: &FakeState,
    method: &Method,
    path: &str,
    query: &str,
    headers: &http::HeaderMap,
) -> (Resp, Body) {
    if CREDENTIALS.iter().any(|h| headers.contains_key(*h)) {
        return whole(Resp::text(400, "credentials not accepted"));
    }
    if method != Method::GET && method != Method::HEAD {
        return whole(Resp::text(405, "Method Not Allowed"));
    }
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let ["assets", id, _name] = segs.as_slice() else {
        return whole(Resp::text(404, "Not Found"));
    };
    let q = parse_query(query);
    let sig = q
        .iter()
        .rev()
        .find(|(k, _)| k == "sig")
        .map(|(_, v)| v.as_str());
    let f = match crate::assets::signed(st, id, sig) {
        Ok(f) => f,
        Err(r) => return whole(r),
    };
    let file = match open(&f).await {
        Ok(h) => h,
        Err(r) => return whole(r),
    };
    let resp = Resp {
        status: 200,
        content_type: f.content_type.clone(),
        headers: vec![(
            "content-disposition".to_string(),
            format!(
                "attachment; filename*=UTF-8''{}",
                url_path_escape(&f.filename)
            ),
        )],
        body: bytes::Bytes::new(),
    };
    (resp, Body::file(file, f.file.clone(), f.size))
}

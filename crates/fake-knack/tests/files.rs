//! Uploads (streamed, spooled, size limit), the upload faults, `/_fake/assets`, downloads
//! from the API host and through the asset host.

mod common;

use std::time::{Duration, Instant};

use common::*;
use fake_knack::FakeConfig;
use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const BOUNDARY: &str = "----fakeknack0123";

fn upload_path(kind: &str) -> String {
    format!("/v1/applications/{APP_ID}/assets/{kind}/upload")
}

/// A multipart body with one `files` part.
fn multipart(disposition: &str, content_type: Option<&str>, data: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(data.len() + 300);
    body.extend_from_slice(
        format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nignored\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(
        format!("--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n").as_bytes(),
    );
    if let Some(ct) = content_type {
        body.extend_from_slice(format!("Content-Type: {ct}\r\n").as_bytes());
    }
    body.extend_from_slice(b"\r\n");
    body.extend_from_slice(data);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

fn named(filename: &str) -> String {
    format!("form-data; name=\"files\"; filename=\"{filename}\"")
}

async fn upload(fx: &Fx, kind: &str, body: Vec<u8>) -> Reply {
    let r = fx
        .http
        .post(fx.url(&upload_path(kind)))
        .header("X-Knack-REST-API-Key", "knack")
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(body)
        .send()
        .await
        .expect("send");
    read(r).await
}

async fn assets(fx: &Fx) -> Vec<Value> {
    let r = fx.control(Method::GET, "/_fake/assets", None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()["assets"].as_array().expect("assets").clone()
}

async fn asset_log(fx: &Fx) -> Vec<Value> {
    let r = fx.control(Method::GET, "/_fake/asset-log", None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()["entries"].as_array().expect("entries").clone()
}

fn sha_hex(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The log entries of upload requests.
async fn upload_log(fx: &Fx) -> Vec<Value> {
    fx.log()
        .await
        .into_iter()
        .filter(|e| e["path"].as_str().is_some_and(|p| p.ends_with("/upload")))
        .collect()
}

/// Waits until the fake logged `n` upload requests (a dropped connection is logged after
/// the client already saw the error).
async fn wait_uploads(fx: &Fx, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let log = upload_log(fx).await;
        if log.len() >= n || Instant::now() > deadline {
            return log;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn spool_files(fx: &Fx) -> usize {
    std::fs::read_dir(fx.server.spool_dir())
        .map(|d| d.count())
        .unwrap_or(0)
}

#[tokio::test]
async fn uploads_are_spooled_and_listed() {
    let fx = Fx::new().await;
    let data = b"%PDF-1.4 hello\r\n--not a boundary\r\n".repeat(100);
    let disposition = "form-data; name=\"files\"; filename=\"r_sum_ _final_.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22.pdf";
    let r = upload(
        &fx,
        "file",
        multipart(disposition, Some("application/pdf"), &data),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let a = r.json();
    // filename* wins over filename.
    assert_eq!(a["filename"], "résumé \"final\".pdf");
    assert_eq!(a["size"], data.len());
    assert_eq!(a["type"], "file");
    assert_eq!(a["thumb_url"], "");
    let keys: Vec<&str> = a
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 6, "{keys:?}");
    for h in ["x-ratelimit-limit", "x-planlimit-limit"] {
        assert_eq!(r.header(h), None, "{h}");
    }
    let id = a["id"].as_str().expect("id").to_string();

    // A quoted filename with backslash escapes, and an image.
    let r = upload(
        &fx,
        "image",
        multipart(
            &named(r#"a \"quoted\" \\ name.png"#),
            Some("image/png"),
            b"\x89PNG",
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["filename"], r#"a "quoted" \ name.png"#);
    assert_eq!(r.json()["thumb_url"], r.json()["public_url"]);
    let img = r.json()["id"].as_str().expect("id").to_string();

    let list = assets(&fx).await;
    assert_eq!(list.len(), 2);
    assert_eq!(
        list[0],
        json!({
            "id": id, "kind": "file", "filename": "résumé \"final\".pdf",
            "content_type": "application/pdf", "size": data.len(), "sha256": sha_hex(&data),
            "used_by": null,
            "part_headers": {"content-disposition": disposition, "content-type": "application/pdf"},
        })
    );
    assert_eq!(list[1]["id"], img.as_str());
    assert_eq!(list[1]["kind"], "image");
    assert_eq!(list[1]["sha256"], sha_hex(b"\x89PNG"));
    assert_eq!(spool_files(&fx), 2);

    // Download from the API host (no asset host): the bytes, streamed from the spool file.
    let url = a["public_url"].as_str().expect("url").to_string();
    let got = fx.http.get(&url).send().await.expect("download");
    assert_eq!(got.status(), 200);
    assert_eq!(
        got.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/pdf")
    );
    assert_eq!(got.content_length(), Some(data.len() as u64));
    assert_eq!(&got.bytes().await.expect("bytes")[..], &data[..]);

    // Attaching marks it used.
    let alice = fx.alice().await;
    let r = fx
        .send_json(
            Method::POST,
            &view_path("scene_1", "view_2"),
            Some(&alice),
            &json!({"field_10": "With a file", "field_17": id}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let rec = r.json()["record"]["id"].as_str().expect("id").to_string();
    assert_eq!(r.json()["record"]["field_17_raw"]["size"], data.len());
    assert_eq!(assets(&fx).await[0]["used_by"], rec.as_str());
    let meta = fx.get(&format!("/v1/applications/{APP_ID}"), None).await;
    assert_eq!(
        meta.json()["application"]["counts"]["asset_size"],
        data.len() + 4
    );

    // Reset: no assets, no spool files.
    fx.control(Method::POST, "/_fake/reset", None).await;
    assert!(assets(&fx).await.is_empty());
    assert_eq!(spool_files(&fx), 0);
    let gone = fx.http.get(&url).send().await.expect("download");
    assert_eq!(gone.status(), 404);

    // The spool directory goes with the server.
    let dir = fx.server.spool_dir().to_path_buf();
    assert!(dir.is_dir());
    fx.server.shutdown().await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while dir.exists() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!dir.exists(), "{dir:?} left behind");
}

#[tokio::test]
async fn bad_uploads_are_refused_and_store_nothing() {
    let fx = Fx::new().await;
    // An empty file part.
    let r = upload(&fx, "file", multipart(&named("empty.txt"), None, b"")).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(first_error(&r.json()), "The uploaded file is empty");
    // No `files` part.
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nv\r\n--{BOUNDARY}--\r\n"
    )
    .into_bytes();
    let r = upload(&fx, "file", body.clone()).await;
    assert_eq!(r.status, 400);
    assert_eq!(first_error(&r.json()), "Missing form field `files`");
    // Unterminated.
    body.truncate(body.len() - 6);
    let r = upload(&fx, "file", body).await;
    assert_eq!(r.status, 400);
    assert_eq!(first_error(&r.json()), "unterminated multipart body");
    // Not multipart, unknown kind, another app.
    let r = read(
        fx.http
            .post(fx.url(&upload_path("file")))
            .body("plain")
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(r.status, 400);
    let r = upload(&fx, "video", multipart(&named("a"), None, b"x")).await;
    assert_eq!(r.status, 404);
    let r = read(
        fx.http
            .post(fx.url("/v1/applications/ffffffffffffffffffffffff/assets/file/upload"))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(multipart(&named("a"), None, b"x"))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(r.status, 404);
    // Without a filename: upload.bin, application/octet-stream.
    let r = upload(
        &fx,
        "file",
        multipart("form-data; name=\"files\"", None, b"x"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["filename"], "upload.bin");
    let list = assets(&fx).await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["content_type"], "application/octet-stream");
    assert_eq!(spool_files(&fx), 1);
}

/// Sends a request head and then `body` (chunked or with the given Content-Length) on a
/// fresh connection, ignoring write errors once the server stops reading; returns what the
/// server answered (read until it closes the connection, at most 10 s).
async fn raw_upload(fx: &Fx, content_length: Option<u64>, body: &[u8], piece: usize) -> String {
    let mut s = tokio::net::TcpStream::connect(fx.server.addr())
        .await
        .expect("connect");
    let framing = match content_length {
        Some(n) => format!("Content-Length: {n}"),
        None => "Transfer-Encoding: chunked".to_string(),
    };
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\n{framing}\r\n\r\n",
        upload_path("file")
    );
    s.write_all(head.as_bytes()).await.expect("head");
    let (mut rd, mut wr) = s.into_split();
    let reader = tokio::spawn(async move {
        let mut buf = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(10), rd.read_to_end(&mut buf)).await;
        String::from_utf8_lossy(&buf).into_owned()
    });
    for chunk in body.chunks(piece.max(1)) {
        let res = match content_length {
            Some(_) => wr.write_all(chunk).await,
            None => {
                let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
                framed.extend_from_slice(chunk);
                framed.extend_from_slice(b"\r\n");
                wr.write_all(&framed).await
            }
        };
        if res.is_err() {
            break;
        }
    }
    if content_length.is_none() {
        let _ = wr.write_all(b"0\r\n\r\n").await;
    }
    reader.await.expect("reader")
}

#[tokio::test]
async fn upload_size_limit() {
    let fx = Fx::with(
        FakeConfig::helpdesk()
            .rate_limit(None)
            .max_upload_bytes(10_000),
    )
    .await;
    assert_eq!(fx.server.state().switches().max_upload_bytes, 10_000);
    let exact_data = vec![b'a'; 10_000 - multipart(&named("x.bin"), None, b"").len()];
    let exact = multipart(&named("x.bin"), None, &exact_data);
    assert_eq!(exact.len(), 10_000);
    // A body of exactly the limit is accepted.
    let r = upload(&fx, "file", exact.clone()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["size"], exact_data.len());
    // One byte more: 413 before reading (Content-Length says so), connection closed.
    let mut over = exact_data.clone();
    over.push(b'a');
    let r = upload(&fx, "file", multipart(&named("x.bin"), None, &over)).await;
    assert_eq!(r.status, 413, "{}", r.text);
    assert_eq!(r.text, "Payload Too Large");
    assert!(r
        .header("content-type")
        .is_some_and(|c| c.starts_with("text/html")));
    assert_eq!(r.header("connection"), Some("close"));
    assert_eq!(r.header("x-ratelimit-limit"), None);
    let log = upload_log(&fx).await;
    assert_eq!(log[1]["status"], 413);
    assert_eq!(log[1]["body_bytes"], 0);
    assert_eq!(log[1]["applied"], false);

    // A chunked body is cut off as soon as it crosses the limit.
    let big = multipart(&named("big.bin"), None, &vec![b'b'; 1 << 20]);
    let answer = raw_upload(&fx, None, &big, 4096).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("Payload Too Large"), "{answer}");
    let log = wait_uploads(&fx, 3).await;
    let read_bytes = log[2]["body_bytes"].as_u64().expect("bytes");
    assert!(read_bytes > 10_000 && read_bytes < 200_000, "{read_bytes}");
    // A declared Content-Length over the limit: 413 with nothing read.
    let answer = raw_upload(&fx, Some(big.len() as u64), &big[..1000], 1000).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert_eq!(assets(&fx).await.len(), 1);
    assert_eq!(spool_files(&fx), 1);

    // The switch, at run time.
    let r = fx.config(json!({"max_upload_bytes": 20_000})).await;
    assert_eq!(r.json()["max_upload_bytes"], 20_000);
    let r = upload(&fx, "file", multipart(&named("x.bin"), None, &over)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = fx.config(json!({"max_upload_bytes": -1})).await;
    assert_eq!(r.status, 400);
    // Default: 2 GiB.
    assert_eq!(
        fake_knack::Switches::default().max_upload_bytes,
        2 * 1024 * 1024 * 1024
    );
}

#[tokio::test]
async fn a_large_upload_streams_through() {
    let fx = Fx::new().await;
    // 32 MiB in a debug build (sha256 unoptimised); the parser and spool are the same for 1 GiB.
    let mut data = vec![0u8; 32 << 20];
    let mut x: u32 = 12345;
    for b in data.iter_mut() {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        *b = (x >> 24) as u8;
    }
    let want = sha_hex(&data);
    let body = multipart(&named("big.bin"), Some("application/octet-stream"), &data);
    let r = upload(&fx, "file", body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let list = assets(&fx).await;
    assert_eq!(list[0]["sha256"], want.as_str());
    assert_eq!(list[0]["size"], data.len());
    let url = r.json()["public_url"].as_str().expect("url").to_string();
    let got = fx.http.get(&url).send().await.expect("download");
    let back = got.bytes().await.expect("bytes");
    assert_eq!(back.len(), data.len());
    assert_eq!(sha_hex(&back), want);
}

#[tokio::test]
async fn upload_faults() {
    let fx = Fx::new().await;
    let data = vec![7u8; 300_000];
    let body = || multipart(&named("f.bin"), None, &data);

    // status_after_body: the whole body is read, nothing stored.
    fx.faults(json!([{"kind": "status_after_body", "status": 503, "body": "<html>Service Unavailable</html>",
        "content_type": "text/html", "headers": {"retry-after": "2"}, "path_contains": "/upload"}]))
        .await;
    let r = upload(&fx, "file", body()).await;
    assert_eq!(r.status, 503);
    assert_eq!(r.text, "<html>Service Unavailable</html>");
    assert_eq!(r.header("retry-after"), Some("2"));
    let log = upload_log(&fx).await;
    assert_eq!(log[0]["fault"], "status_after_body");
    assert_eq!(log[0]["applied"], false);
    assert_eq!(log[0]["body_bytes"], body().len());
    assert!(assets(&fx).await.is_empty());

    // status_after_apply: stored (an orphan asset), then the error.
    fx.faults(json!([{"kind": "status_after_apply", "status": 502, "body": "Bad Gateway"}]))
        .await;
    let r = upload(&fx, "file", body()).await;
    assert_eq!(r.status, 502);
    let list = assets(&fx).await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["used_by"], Value::Null);
    assert_eq!(list[0]["size"], data.len());
    assert_eq!(upload_log(&fx).await[1]["applied"], true);

    // reset_mid_body: cut after 10 000 bytes, no answer, nothing stored.
    fx.faults(json!([{"kind": "reset_mid_body", "after_bytes": 10_000}]))
        .await;
    let err = fx
        .http
        .post(fx.url(&upload_path("file")))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(body())
        .send()
        .await;
    assert!(err.is_err(), "{err:?}");
    let log = wait_uploads(&fx, 3).await;
    assert_eq!(log[2]["status"], Value::Null);
    assert_eq!(log[2]["fault"], "reset_mid_body");
    let got = log[2]["body_bytes"].as_u64().expect("bytes");
    assert!(got >= 10_000, "{got}");
    assert_eq!(assets(&fx).await.len(), 1);
    assert_eq!(spool_files(&fx), 1);

    // slow_body_read: 300 kB at 200 kB/s takes over a second, then succeeds.
    fx.faults(json!([{"kind": "slow_body_read", "bytes_per_sec": 200_000}]))
        .await;
    let t0 = Instant::now();
    let r = upload(&fx, "file", body()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        t0.elapsed() >= Duration::from_millis(700),
        "{:?}",
        t0.elapsed()
    );
    assert_eq!(assets(&fx).await.len(), 2);
    // ... and a client's timeout fires while the fake is still reading.
    fx.faults(json!([{"kind": "slow_body_read", "bytes_per_sec": 1000}]))
        .await;
    let err = fx
        .http
        .post(fx.url(&upload_path("file")))
        .timeout(Duration::from_millis(300))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(body())
        .send()
        .await
        .expect_err("timeout");
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(assets(&fx).await.len(), 2);

    // Validation of the new kinds.
    for bad in [
        json!({"kind": "slow_body_read", "bytes_per_sec": 0}),
        json!({"kind": "status_after_body", "status": 99}),
        json!({"kind": "reset_mid_body"}),
    ] {
        let r = fx
            .control(
                Method::POST,
                "/_fake/faults",
                Some(json!({"faults": [bad]})),
            )
            .await;
        assert_eq!(r.status, 400, "{bad}");
    }
}

#[tokio::test]
async fn body_faults_on_other_routes() {
    let fx = Fx::new().await;
    let alice = fx.alice().await;
    let form = view_path("scene_1", "view_2");
    fx.faults(json!([{"kind": "status_after_body", "status": 503, "body": "busy", "method": "POST", "path_contains": "view_2"}]))
        .await;
    let r = fx
        .send_json(Method::POST, &form, Some(&alice), &json!({"field_10": "x"}))
        .await;
    assert_eq!(r.status, 503);
    assert_eq!(fx.records("object_3").await.len(), 5);
    fx.faults(json!([{"kind": "reset_mid_body", "after_bytes": 5, "path_contains": "view_2"}]))
        .await;
    let err = fx
        .req(Method::POST, &form, Some(&alice))
        .json(&json!({"field_10": "a long enough subject"}))
        .send()
        .await;
    assert!(err.is_err());
    assert_eq!(fx.records("object_3").await.len(), 5);
}

#[tokio::test]
async fn download_faults_stream_from_the_file() {
    let fx = Fx::new().await;
    let data = vec![b'z'; 100_000];
    let r = upload(
        &fx,
        "file",
        multipart(&named("z.txt"), Some("text/plain"), &data),
    )
    .await;
    let url = r.json()["public_url"].as_str().expect("url").to_string();
    fx.faults(json!([{"kind": "truncate", "path_contains": "/download/"}]))
        .await;
    let got = fx.http.get(&url).send().await.expect("headers");
    assert_eq!(got.content_length(), Some(100_000));
    assert!(got.bytes().await.is_err(), "truncated");
    fx.faults(json!([{"kind": "drip", "bytes_per_sec": 1_000_000, "path_contains": "/download/"}]))
        .await;
    let got = fx.http.get(&url).send().await.expect("headers");
    assert_eq!(got.bytes().await.expect("bytes").len(), 100_000);
}

#[tokio::test]
async fn asset_host_refuses_credentials_and_serves_without() {
    let fx = Fx::new().await;
    let host = fx.stats().await["asset_host_url"]
        .as_str()
        .expect("asset_host_url")
        .to_string();
    assert_eq!(host, fx.server.asset_host_url());
    assert!(host.starts_with("http://127.0.0.1:") && host != fx.server.url());
    let data = b"bytes on the CDN".to_vec();
    let name = "notes é.txt";
    let disposition =
        "form-data; name=\"files\"; filename=\"notes _.txt\"; filename*=UTF-8''notes%20%C3%A9.txt";
    let r = upload(
        &fx,
        "file",
        multipart(disposition, Some("text/plain"), &data),
    )
    .await;
    assert_eq!(r.json()["filename"], name);
    let id = r.json()["id"].as_str().expect("id").to_string();
    let url = r.json()["public_url"].as_str().expect("url").to_string();

    // Switch off: served by the API host.
    let direct = fx.http.get(&url).send().await.expect("get");
    assert_eq!(direct.status(), 200);

    let r = fx.config(json!({"asset_host": true})).await;
    assert_eq!(r.json()["asset_host"], true);
    let token = fx.alice().await;
    let redirect = read(
        fx.http
            .get(&url)
            .header("Authorization", &token)
            .send()
            .await
            .expect("get"),
    )
    .await;
    assert_eq!(redirect.status, 302);
    let location = redirect.header("location").expect("location").to_string();
    assert!(
        location.starts_with(&format!("{host}/assets/{id}/notes%20%C3%A9.txt?sig=")),
        "{location}"
    );

    // Credentials are refused, whichever they are.
    for (h, v) in [
        ("Authorization", token.as_str()),
        ("X-Knack-REST-API-Key", "knack"),
        ("X-Knack-Application-Id", APP_ID),
        ("Cookie", "connect.sid=abc"),
    ] {
        let r = read(
            fx.http
                .get(&location)
                .header(h, v)
                .send()
                .await
                .expect("get"),
        )
        .await;
        assert_eq!(r.status, 400, "{h}");
        assert_eq!(r.text, "credentials not accepted", "{h}");
    }
    // Without: the bytes, as an attachment.
    let ok = fx.http.get(&location).send().await.expect("get");
    assert_eq!(ok.status(), 200);
    let hv = |n: &str| {
        ok.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    assert_eq!(hv("content-type").as_deref(), Some("text/plain"));
    assert_eq!(hv("content-length").as_deref(), Some("16"));
    assert_eq!(
        hv("content-disposition").as_deref(),
        Some("attachment; filename*=UTF-8''notes%20%C3%A9.txt")
    );
    assert_eq!(&ok.bytes().await.expect("bytes")[..], &data[..]);
    // A bad or missing sig: 403. Another path: 404.
    let bad = location.replace("sig=", "sig=00");
    assert_eq!(fx.http.get(&bad).send().await.expect("get").status(), 403);
    let nosig = location.split('?').next().expect("path").to_string();
    assert_eq!(fx.http.get(&nosig).send().await.expect("get").status(), 403);
    let other = format!("{host}/elsewhere");
    assert_eq!(fx.http.get(&other).send().await.expect("get").status(), 404);

    // The asset host's own log: every header, auth values as sent.
    let log = asset_log(&fx).await;
    assert_eq!(log.len(), 8);
    assert_eq!(log[0]["method"], "GET");
    assert_eq!(log[0]["path"], format!("/assets/{id}/notes%20%C3%A9.txt"));
    assert!(log[0]["query"]
        .as_str()
        .is_some_and(|q| q.starts_with("sig=")));
    assert_eq!(log[0]["headers"]["authorization"], token.as_str());
    assert_eq!(log[0]["status"], 400);
    assert_eq!(log[3]["headers"]["cookie"], "connect.sid=abc");
    assert_eq!(log[4]["status"], 200);
    assert!(log[4]["headers"].get("authorization").is_none());
    assert_eq!(
        log.iter()
            .map(|e| e["status"].as_u64().unwrap_or(0))
            .collect::<Vec<_>>(),
        vec![400, 400, 400, 400, 200, 403, 403, 404]
    );
    // Asset-host requests are not /v1 requests.
    assert!(fx
        .log()
        .await
        .iter()
        .all(|e| !e["path"].as_str().unwrap_or("").starts_with("/assets/")));

    // Reset: log cleared, old signatures dead, switch back off.
    fx.control(Method::POST, "/_fake/reset", None).await;
    assert!(asset_log(&fx).await.is_empty());
    assert_eq!(
        fx.http.get(&location).send().await.expect("get").status(),
        403
    );
    assert!(!fx.server.state().switches().asset_host);
}

#[tokio::test]
async fn asset_host_from_the_start_and_over_tls() {
    let fx = Fx::with(
        FakeConfig::helpdesk()
            .rate_limit(None)
            .asset_host(true)
            .tls(true),
    )
    .await;
    let ca = fx.server.ca_pem().expect("ca").to_string();
    let host = fx.server.asset_host_url().to_string();
    assert!(host.starts_with("https://127.0.0.1:"), "{host}");
    // Upload and follow the redirect over TLS with a raw rustls client trusting the CA.
    let data = b"tls bytes".to_vec();
    let body = multipart(&named("t.txt"), Some("text/plain"), &data);
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        upload_path("file"),
        body.len()
    );
    let mut req = head.into_bytes();
    req.extend_from_slice(&body);
    let answer = tls_request(&ca, fx.server.port(), &req).await;
    let json_start = answer.find("\r\n\r\n").expect("head end") + 4;
    let v: Value = serde_json::from_str(answer[json_start..].trim()).expect("json");
    let path = v["public_url"]
        .as_str()
        .expect("url")
        .trim_start_matches(fx.server.url())
        .to_string();
    let get = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    let answer = tls_request(&ca, fx.server.port(), get.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 302"), "{answer}");
    let location = answer
        .lines()
        .find_map(|l| l.strip_prefix("location: "))
        .expect("location")
        .to_string();
    let rest = location.strip_prefix(&host).expect("on the asset host");
    let asset_port: u16 = host
        .rsplit(':')
        .next()
        .expect("port")
        .parse()
        .expect("port");
    let get = format!("GET {rest} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    let answer = tls_request(&ca, asset_port, get.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("tls bytes"), "{answer}");
}

/// One request over TLS (HTTP/1.1, trusting `ca_pem`) to 127.0.0.1:port; the whole answer.
async fn tls_request(ca_pem: &str, port: u16, request: &[u8]) -> String {
    use rustls::pki_types::{pem::PemObject, CertificateDer, ServerName};
    use std::sync::Arc;
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(ca_pem.as_bytes()).expect("pem"))
        .expect("root");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(cfg));
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let name = ServerName::try_from("127.0.0.1").expect("name");
    let mut s = connector.connect(name, tcp).await.expect("handshake");
    s.write_all(request).await.expect("write");
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut buf)).await;
    String::from_utf8_lossy(&buf).into_owned()
}

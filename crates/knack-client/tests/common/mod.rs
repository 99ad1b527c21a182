//! Helpers for the integration tests: sessions against fake-knack or against a raw TCP server
//! that answers whatever bytes a test scripts (what fake-knack cannot do: chunked answers
//! without a length, compressed bombs, absurd headers, garbage).
#![allow(dead_code, unused_imports)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use knack_client::{ListQuery, ViewRef};
use knack_client::{Session, SessionConfig};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub use fake_knack::helpdesk::{ALICE_EMAIL, ALICE_ID, ALICE_PASSWORD, APP_ID};

/// A token with Knack's claims, for sessions made without logging in (raw servers do not
/// check it).
pub fn token_for(user_id: &str) -> String {
    let iat = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!(
        "{}.{}.c2lnbmF0dXJl",
        URL_SAFE_NO_PAD.encode(r#"{"typ":"JWT","alg":"HS256"}"#),
        URL_SAFE_NO_PAD.encode(format!(
            r#"{{"user_id":"{user_id}","application_id":"{APP_ID}","iat":{iat}}}"#
        ))
    )
}

/// A config with the governor off and no retries (tests set what they need).
pub fn config(base_url: &str) -> SessionConfig {
    let mut c = SessionConfig::new(APP_ID, Some(base_url)).expect("config");
    c.app.rate_limit = Some(None);
    c.policy.retry.max_attempts = 1;
    c.policy.retry.base_delay = Duration::from_millis(10);
    c
}

pub fn session(config: &SessionConfig) -> Session {
    Session::from_token(config, &token_for(ALICE_ID), Some(false)).expect("session")
}

pub fn my_tickets() -> ListQuery {
    ListQuery {
        view: ViewRef {
            scene: "scene_1".into(),
            view: "view_1".into(),
            parent_record_id: None,
        },
        ..Default::default()
    }
}

pub fn view(scene: &str, view: &str) -> ViewRef {
    ViewRef {
        scene: scene.into(),
        view: view.into(),
        parent_record_id: None,
    }
}

/// What a raw server does once it has read a request.
#[derive(Clone)]
pub enum Script {
    /// Write these bytes, then close the connection.
    Bytes(Vec<u8>),
    /// Write this head, then keep the connection open (and silent) for a while.
    HeadThenStall(String),
    /// `200`, `Transfer-Encoding: chunked`, then chunks of `chunk` bytes of JSON-ish filler
    /// until the client goes away or `limit` bytes were sent.
    EndlessChunked { chunk: usize, limit: u64 },
}

/// A raw HTTP/1.1 server on 127.0.0.1 that runs one script for every request.
pub struct RawServer {
    pub base_url: String,
    /// Connections accepted.
    pub connections: Arc<AtomicUsize>,
    /// Body bytes written by `EndlessChunked`.
    pub sent: Arc<AtomicU64>,
    /// The head of every request received.
    pub requests: Arc<Mutex<Vec<String>>>,
}

async fn read_head(sock: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1024];
    loop {
        let n = sock.read(&mut byte).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&byte[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            // Read (and drop) a body announced by Content-Length.
            let len = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            let mut have = buf.len() - (end + 4);
            while have < len {
                let n = sock.read(&mut byte).await.ok()?;
                if n == 0 {
                    break;
                }
                have += n;
            }
            return Some(head);
        }
        if buf.len() > 1 << 20 {
            return None;
        }
    }
}

impl RawServer {
    pub async fn start(script: Script) -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let connections = Arc::new(AtomicUsize::new(0));
        let sent = Arc::new(AtomicU64::new(0));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (c, s, r) = (connections.clone(), sent.clone(), requests.clone());
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                c.fetch_add(1, Ordering::SeqCst);
                let (script, s, r) = (script.clone(), s.clone(), r.clone());
                tokio::spawn(async move {
                    let Some(head) = read_head(&mut sock).await else {
                        return;
                    };
                    r.lock().unwrap_or_else(|p| p.into_inner()).push(head);
                    match script {
                        Script::Bytes(b) => {
                            let _ = sock.write_all(&b).await;
                            let _ = sock.shutdown().await;
                        }
                        Script::HeadThenStall(head) => {
                            let _ = sock.write_all(head.as_bytes()).await;
                            tokio::time::sleep(Duration::from_secs(30)).await;
                        }
                        Script::EndlessChunked { chunk, limit } => {
                            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
                            if sock.write_all(head.as_bytes()).await.is_err() {
                                return;
                            }
                            let mut frame = format!("{chunk:x}\r\n").into_bytes();
                            frame.extend(std::iter::repeat_n(b'0', chunk));
                            frame.extend_from_slice(b"\r\n");
                            let mut total = 0u64;
                            while total < limit {
                                if sock.write_all(&frame).await.is_err() {
                                    return;
                                }
                                total += chunk as u64;
                                s.store(total, Ordering::SeqCst);
                            }
                            let _ = sock.write_all(b"0\r\n\r\n").await;
                        }
                    }
                });
            }
        });
        RawServer {
            base_url: format!("http://{addr}/v1"),
            connections,
            sent,
            requests,
        }
    }
}

/// A whole HTTP answer that closes the connection.
pub fn answer(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Script {
    let mut out = format!("HTTP/1.1 {status}\r\nConnection: close\r\n");
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    Script::Bytes(bytes)
}

/// gzip of `n` zero bytes (a decompression bomb: tiny on the wire, huge inflated).
/// A 200 JSON answer whose body is gzip-compressed `bomb`.
pub fn gzip_json_answer(bomb: &[u8]) -> Script {
    answer(
        "200 OK",
        &[
            ("Content-Type", "application/json"),
            ("Content-Encoding", "gzip"),
        ],
        bomb,
    )
}

pub fn gzip_zeros(n: usize) -> Vec<u8> {
    use flate2::write::GzEncoder;
    use std::io::Write;
    let mut enc = GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let block = vec![0u8; 1 << 20];
    let mut left = n;
    while left > 0 {
        let k = left.min(block.len());
        enc.write_all(&block[..k]).expect("gzip");
        left -= k;
    }
    enc.finish().expect("gzip")
}

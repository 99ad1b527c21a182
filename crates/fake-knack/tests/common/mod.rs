//! Shared helpers for the integration tests: a started fake plus a plain-HTTP client.
#![allow(dead_code)]

use std::time::Duration;

use fake_knack::{helpdesk, FakeConfig, FakeKnack, RunningServer};
use reqwest::{Method, RequestBuilder, Response};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub use fake_knack::helpdesk::*;
#[allow(unused_imports)]
pub use fake_knack::INVALID_TOKEN;

pub struct Fx {
    pub server: RunningServer,
    pub http: reqwest::Client,
}

/// A reply read in full.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Ids of a list reply, in order.
    pub fn ids(&self) -> Vec<String> {
        self.json()["records"]
            .as_array()
            .expect("records")
            .iter()
            .map(|r| r["id"].as_str().expect("id").to_string())
            .collect()
    }
}

pub async fn read(resp: Response) -> Reply {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.expect("body");
    Reply {
        status,
        headers,
        text,
    }
}

pub fn client() -> reqwest::Client {
    // In the workspace, reqwest is built with `rustls-no-provider` (for knack-client), so a
    // client needs a crypto provider installed even for plain http.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client")
}

impl Fx {
    /// The helpdesk fixture with the rate limit off (most tests are not about it).
    pub async fn new() -> Fx {
        Fx::with(FakeConfig::helpdesk().rate_limit(None)).await
    }

    pub async fn with(cfg: FakeConfig) -> Fx {
        let server = FakeKnack::start(cfg).await.expect("start fake");
        Fx {
            server,
            http: client(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.server.url(), path)
    }

    /// A request carrying the app id header (and the token, if any).
    pub fn req(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let mut r = self
            .http
            .request(method, self.url(path))
            .header("X-Knack-Application-Id", APP_ID);
        if let Some(t) = token {
            r = r.header("Authorization", t);
        }
        r
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        read(
            self.req(Method::GET, path, token)
                .send()
                .await
                .expect("send"),
        )
        .await
    }

    pub async fn send_json(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> Reply {
        read(
            self.req(method, path, token)
                .json(body)
                .send()
                .await
                .expect("send"),
        )
        .await
    }

    pub async fn login_reply(&self, email: &str, password: &str, remember: bool) -> Reply {
        let r = self
            .http
            .post(self.url(&format!("/v1/applications/{APP_ID}/session")))
            .json(&json!({"email": email, "password": password, "remember": remember}))
            .send()
            .await
            .expect("send");
        read(r).await
    }

    pub async fn login(&self, email: &str, password: &str) -> String {
        let r = self.login_reply(email, password, false).await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.json()["session"]["user"]["token"]
            .as_str()
            .expect("token")
            .to_string()
    }

    pub async fn alice(&self) -> String {
        self.login(ALICE_EMAIL, ALICE_PASSWORD).await
    }
    pub async fn bob(&self) -> String {
        self.login(BOB_EMAIL, BOB_PASSWORD).await
    }
    pub async fn carol(&self) -> String {
        self.login(CAROL_EMAIL, CAROL_PASSWORD).await
    }

    pub async fn control(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        let mut r = self.http.request(method, self.url(path));
        if let Some(b) = body {
            r = r.json(&b);
        }
        read(r.send().await.expect("send")).await
    }

    pub async fn config(&self, patch: Value) -> Reply {
        self.control(Method::POST, "/_fake/config", Some(patch))
            .await
    }

    pub async fn faults(&self, faults: Value) -> Reply {
        let r = self
            .control(
                Method::POST,
                "/_fake/faults",
                Some(json!({ "faults": faults })),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        r
    }

    pub async fn stats(&self) -> Value {
        self.control(Method::GET, "/_fake/stats", None).await.json()
    }

    pub async fn log(&self) -> Vec<Value> {
        self.control(Method::GET, "/_fake/log", None).await.json()["entries"]
            .as_array()
            .expect("entries")
            .clone()
    }

    pub async fn records(&self, object: &str) -> Vec<Value> {
        self.control(Method::GET, &format!("/_fake/records/{object}"), None)
            .await
            .json()["records"]
            .as_array()
            .expect("records")
            .clone()
    }

    /// Sends raw bytes on a fresh connection and reads until the server closes it (or 5 s).
    pub async fn raw(&self, request: &str) -> (Vec<u8>, bool) {
        let mut s = tokio::net::TcpStream::connect(self.server.addr())
            .await
            .expect("connect");
        s.write_all(request.as_bytes()).await.expect("write");
        let mut buf = Vec::new();
        let res = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut buf)).await;
        // `closed` is true when the server ended the connection (EOF or reset).
        let closed = res.is_ok();
        (buf, closed)
    }
}

/// `/v1/pages/{scene}/views/{view}/records`
pub fn view_path(scene: &str, view: &str) -> String {
    format!("/v1/pages/{scene}/views/{view}/records")
}

pub fn rec_path(scene: &str, view: &str, id: &str) -> String {
    format!("/v1/pages/{scene}/views/{view}/records/{id}")
}

/// Percent-encodes a query value.
pub fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The first error message of a Knack error body.
pub fn first_error(v: &Value) -> String {
    v["errors"][0]["message"].as_str().unwrap_or("").to_string()
}

pub fn helpdesk_app() -> &'static str {
    helpdesk::APP_ID
}

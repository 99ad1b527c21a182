//! The shared state of a running fake and its locking: schema, data, switches, limits,
//! faults, log, stats, clock and tokens. Rust tests reach it through
//! [`crate::RunningServer::state`]. Token rules live in `tokens`, generated records in `seed`.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::clock::Clock;
use crate::config::Switches;
use crate::error::Error;
use crate::faults::{Fault, FaultKind};
use crate::format::Render;
use crate::ids::{Id, IdGen};
use crate::limits::{LimitHeaders, Limits, Verdict};
use crate::schema::{Schema, UserSchema};
use crate::seed::{seed_object, seed_startup, SeedResult};
use crate::spool::SpoolDir;
use crate::store::Data;
use crate::tokens::{TokenError, Tokens};

/// Most log entries kept (oldest dropped first).
pub const LOG_CAP: usize = 50_000;
/// Most asset-host log entries kept.
pub const ASSET_LOG_CAP: usize = 10_000;

/// Counters reported by `GET /_fake/stats`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Counted `/v1` requests (everything but OPTIONS), including limited ones.
    pub requests: u64,
    pub rate_limited: u64,
    pub daily_limited: u64,
    pub inserts: u64,
    pub updates: u64,
    pub deletes: u64,
    /// Login attempts (successful or not).
    pub logins: u64,
    pub plan_remaining: u64,
    /// Most `/v1` requests seen within any one-second interval.
    pub max_in_any_second: u64,
    /// `http://127.0.0.1:PORT` of the asset host (listening whether or not the
    /// `asset_host` switch is on).
    pub asset_host_url: String,
}

/// One request to the asset host (`GET /_fake/asset-log`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssetLogEntry {
    pub method: String,
    pub path: String,
    /// The raw query string ("" if none).
    pub query: String,
    /// Every request header: lower-case name -> value (repeated headers joined by ", ").
    pub headers: BTreeMap<String, String>,
    pub status: u16,
}

/// One `/v1` request as seen by the fake (`GET /_fake/log`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    pub seq: u64,
    /// Server clock, unix milliseconds, at arrival.
    pub t_ms: i64,
    pub method: String,
    pub path: String,
    /// The raw query string ("" if none).
    pub query: String,
    /// `None` when the connection was dropped without an answer.
    pub status: Option<u16>,
    pub user_id: Option<String>,
    pub authorization_present: bool,
    pub api_key: Option<String>,
    pub headers: BTreeMap<String, String>,
    pub applied: bool,
    pub fault: Option<String>,
    /// `"HTTP/1.1"` or `"HTTP/2.0"` (with TLS, chosen by ALPN).
    pub http_version: String,
    /// Request body bytes the server read (an upload refused early, or cut by
    /// `reset_mid_body`, shows how far it got).
    #[serde(default)]
    pub body_bytes: u64,
}

#[derive(Debug, Default)]
struct Counters {
    requests: u64,
    rate_limited: u64,
    daily_limited: u64,
    inserts: u64,
    updates: u64,
    deletes: u64,
    logins: u64,
}

struct Control {
    switches: Arc<Switches>,
    faults: Vec<Fault>,
    log: VecDeque<LogEntry>,
    seq: u64,
    counters: Counters,
    limits: Limits,
    asset_log: VecDeque<AssetLogEntry>,
    /// Signatures of asset-host URLs handed out -> the asset they open.
    sigs: HashMap<String, Id>,
}

impl Control {
    fn new(switches: Switches) -> Control {
        Control {
            switches: Arc::new(switches),
            faults: Vec::new(),
            log: VecDeque::new(),
            seq: 0,
            counters: Counters::default(),
            limits: Limits::new(),
            asset_log: VecDeque::new(),
            sigs: HashMap::new(),
        }
    }
}

/// Result of admitting a counted `/v1` request.
pub(crate) struct Admission {
    pub verdict: Verdict,
    pub headers: LimitHeaders,
    pub switches: Arc<Switches>,
    pub fault: Option<FaultKind>,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Counter {
    Insert,
    Update,
    Delete,
    Login,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Shared state of one fake server.
pub struct FakeState {
    pub(crate) schema: Schema,
    initial: Data,
    data: RwLock<Data>,
    ctl: Mutex<Control>,
    startup: Switches,
    pub(crate) clock: Clock,
    pub(crate) ids: IdGen,
    pub(crate) tokens: Tokens,
    pub(crate) base_url: String,
    pub(crate) asset_host_url: String,
    pub(crate) verbose: bool,
    pub(crate) spool: SpoolDir,
    asset_seq: AtomicU64,
}

impl FakeState {
    pub(crate) fn new(
        schema: Schema,
        mut data: Data,
        switches: Switches,
        seed_tickets: usize,
        base_url: String,
        asset_host_url: String,
    ) -> Result<FakeState, Error> {
        let clock = Clock::default();
        let ids = IdGen::new(clock.now_secs());
        seed_startup(&schema, &ids, &clock, &mut data, seed_tickets)?;
        Ok(FakeState {
            ctl: Mutex::new(Control::new(switches.clone())),
            startup: switches,
            data: RwLock::new(data.clone()),
            initial: data,
            schema,
            clock,
            ids,
            tokens: Tokens::new(),
            base_url,
            asset_host_url,
            verbose: std::env::var("FAKE_KNACK_LOG").is_ok_and(|v| v == "1"),
            spool: SpoolDir::create()?,
            asset_seq: AtomicU64::new(1),
        })
    }

    pub(crate) fn read(&self) -> RwLockReadGuard<'_, Data> {
        self.data.read().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, Data> {
        self.data.write().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn render<'a>(&'a self, data: &'a Data) -> Render<'a> {
        Render {
            schema: &self.schema,
            data,
            base_url: &self.base_url,
        }
    }

    /// The app's id.
    pub fn app_id(&self) -> &str {
        &self.schema.app.id
    }

    /// Server clock now, unix seconds.
    pub fn now(&self) -> i64 {
        self.clock.now_secs()
    }

    /// Moves the server clock forward (or back, if negative).
    pub fn advance_clock(&self, secs: i64) {
        self.clock.advance_secs(secs);
    }

    /// Back to the startup state: fixture data (plus startup seed), no assets (their spool
    /// files are removed), no log or asset log, zero counters, no faults, startup switches,
    /// clock offset 0, empty rate windows.
    pub fn reset(&self) {
        let fresh = self.initial.clone();
        let old = std::mem::replace(&mut *self.write(), fresh);
        drop(old);
        let mut c = lock(&self.ctl);
        *c = Control::new(self.startup.clone());
        drop(c);
        self.clock.reset();
    }

    pub fn switches(&self) -> Switches {
        (*lock(&self.ctl).switches).clone()
    }

    /// Applies a partial object of switches (like `POST /_fake/config`).
    pub fn configure(&self, patch: &Value) -> Result<Switches, Error> {
        let Value::Object(m) = patch else {
            return Err(Error::Invalid("config must be a JSON object".into()));
        };
        let mut c = lock(&self.ctl);
        let next = c.switches.apply_patch(m).map_err(Error::Invalid)?;
        c.switches = Arc::new(next.clone());
        Ok(next)
    }

    pub fn add_faults(&self, faults: Vec<Fault>) -> Result<(), Error> {
        for f in &faults {
            f.validate().map_err(Error::Invalid)?;
        }
        lock(&self.ctl).faults.extend(faults);
        Ok(())
    }

    pub fn clear_faults(&self) {
        lock(&self.ctl).faults.clear();
    }

    /// Faults still queued.
    pub fn faults(&self) -> Vec<Fault> {
        lock(&self.ctl).faults.clone()
    }

    pub fn stats(&self) -> Stats {
        let now = self.clock.now_ms();
        let mut c = lock(&self.ctl);
        let daily = c.switches.daily_limit;
        let plan_remaining = c.limits.plan_remaining(now, daily);
        let k = &c.counters;
        Stats {
            requests: k.requests,
            rate_limited: k.rate_limited,
            daily_limited: k.daily_limited,
            inserts: k.inserts,
            updates: k.updates,
            deletes: k.deletes,
            logins: k.logins,
            plan_remaining,
            max_in_any_second: c.limits.max_in_any_second,
            asset_host_url: self.asset_host_url.clone(),
        }
    }

    /// `http://127.0.0.1:PORT` (or `https://`) of the asset host.
    pub fn asset_host_url(&self) -> &str {
        &self.asset_host_url
    }

    /// Requests the asset host saw since the last reset.
    pub fn asset_log(&self) -> Vec<AssetLogEntry> {
        lock(&self.ctl).asset_log.iter().cloned().collect()
    }

    pub(crate) fn append_asset_log(&self, entry: AssetLogEntry) {
        let mut c = lock(&self.ctl);
        if c.asset_log.len() >= ASSET_LOG_CAP {
            c.asset_log.pop_front();
        }
        c.asset_log.push_back(entry);
    }

    /// A fresh random signature that opens `asset` on the asset host.
    pub(crate) fn issue_sig(&self, asset: Id) -> String {
        let mut b = [0u8; 16];
        crate::jwt::random_bytes(&mut b);
        let sig: String = b.iter().map(|x| format!("{x:02x}")).collect();
        lock(&self.ctl).sigs.insert(sig.clone(), asset);
        sig
    }

    /// Whether `sig` was handed out for `asset` (since the last reset).
    pub(crate) fn check_sig(&self, sig: &str, asset: Id) -> bool {
        lock(&self.ctl).sigs.get(sig) == Some(&asset)
    }

    pub(crate) fn next_asset_seq(&self) -> u64 {
        self.asset_seq.fetch_add(1, Ordering::Relaxed)
    }

    /// Every stored asset in upload order (`GET /_fake/assets`).
    pub fn assets(&self) -> Vec<Value> {
        let data = self.read();
        let mut list: Vec<_> = data.assets.iter().collect();
        list.sort_by_key(|(_, a)| a.seq);
        list.into_iter()
            .map(|(id, a)| {
                let mut headers = serde_json::Map::new();
                for (k, v) in &a.part_headers {
                    let joined = match headers.get(k).and_then(Value::as_str) {
                        Some(prev) => format!("{prev}, {v}"),
                        None => v.clone(),
                    };
                    headers.insert(k.clone(), Value::String(joined));
                }
                serde_json::json!({
                    "id": id.hex(),
                    "kind": a.kind,
                    "filename": a.filename,
                    "content_type": a.content_type,
                    "size": a.size,
                    "sha256": a.sha256,
                    "used_by": a.used_by.map(|(_, rec, _)| rec.hex()),
                    "part_headers": headers,
                })
            })
            .collect()
    }

    pub fn log(&self) -> Vec<LogEntry> {
        lock(&self.ctl).log.iter().cloned().collect()
    }

    /// Every record of an object as stored: `{"id", "field_N": raw value, ...}`.
    pub fn records(&self, object: &str) -> Result<Vec<Value>, Error> {
        let oi = self
            .schema
            .object(object)
            .ok_or_else(|| Error::UnknownObject(object.to_string()))?;
        let bytes = self.records_json(oi);
        // Recorded values may be beyond serde_json (lone surrogates): say so, not "fixture".
        let v: Value = serde_json::from_slice(&bytes).map_err(|e| {
            Error::Invalid(format!(
                "records of {object} do not fit serde_json values ({e}); read GET /_fake/records/{object}"
            ))
        })?;
        Ok(match v {
            Value::Array(a) => a,
            _ => Vec::new(),
        })
    }

    /// JSON array of every record of an object as stored (a recorded object's records as
    /// the fixture gives them).
    pub(crate) fn records_json(&self, oi: usize) -> Vec<u8> {
        if let Some(table) = &self.schema.objects[oi].recorded {
            let mut out = vec![b'['];
            for (i, rec) in table.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                rec.write_all(&mut out);
            }
            out.push(b']');
            return out;
        }
        let data = self.read();
        let render = self.render(&data);
        let mut out = Vec::with_capacity(64 + data.tables[oi].len() * 200);
        out.push(b'[');
        for (i, rec) in data.tables[oi].iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            render.stored(&mut out, oi, rec);
        }
        out.push(b']');
        out
    }

    /// Appends `count` generated records to `object`. `connect` maps connection field keys
    /// to a record id every generated record connects to.
    pub fn seed(
        &self,
        object: &str,
        count: usize,
        connect: &[(&str, &str)],
    ) -> Result<SeedResult, Error> {
        let oi = self
            .schema
            .object(object)
            .ok_or_else(|| Error::UnknownObject(object.to_string()))?;
        let mut data = self.write();
        seed_object(
            &self.schema,
            &self.ids,
            &self.clock,
            &mut data,
            oi,
            count,
            connect,
        )
    }

    /// A token for a fixture user, as a login at the current server time would give.
    /// Panics if no user has that email (a test helper; see [`FakeState::try_issue_token`]).
    pub fn issue_token(&self, email: &str, remember: bool) -> String {
        match self.try_issue_token(email, remember, None) {
            Ok(t) => t,
            Err(e) => panic!("issue_token: {e}"),
        }
    }

    /// A token for a fixture user with an optional explicit `iat` (unix seconds).
    pub fn try_issue_token(
        &self,
        email: &str,
        remember: bool,
        iat: Option<i64>,
    ) -> Result<String, Error> {
        let user = self
            .schema
            .user_by_email(email)
            .ok_or_else(|| Error::UnknownUser(email.to_string()))?;
        Ok(self.mint(user, remember, iat.unwrap_or_else(|| self.clock.now_secs())))
    }

    /// A token for `user` issued at `iat` (unix seconds).
    pub(crate) fn mint(&self, user: &UserSchema, remember: bool, iat: i64) -> String {
        self.tokens.mint(&self.schema.app.id, user, remember, iat)
    }

    /// The user of a valid token.
    pub(crate) fn validate_token(&self, token: &str) -> Result<&UserSchema, TokenError> {
        self.tokens.validate(&self.schema, &self.clock, token)
    }

    pub(crate) fn count(&self, what: Counter) {
        let mut c = lock(&self.ctl);
        let k = &mut c.counters;
        match what {
            Counter::Insert => k.inserts += 1,
            Counter::Update => k.updates += 1,
            Counter::Delete => k.deletes += 1,
            Counter::Login => k.logins += 1,
        }
    }

    /// Counts a `/v1` request against the limits and picks a fault for it.
    pub(crate) fn admit(&self, method: &str, path: &str) -> Admission {
        let now = self.clock.now_ms();
        let mut c = lock(&self.ctl);
        c.limits.note_arrival(Instant::now());
        c.counters.requests += 1;
        let switches = c.switches.clone();
        let (verdict, headers) = c
            .limits
            .admit(now, switches.rate_limit, switches.daily_limit);
        match verdict {
            Verdict::RateLimited => c.counters.rate_limited += 1,
            Verdict::DailyLimited => c.counters.daily_limited += 1,
            Verdict::Ok => {}
        }
        let mut fault = None;
        if verdict == Verdict::Ok {
            if let Some(i) = c.faults.iter().position(|f| f.matches(method, path)) {
                let f = &mut c.faults[i];
                fault = Some(f.kind.clone());
                f.times -= 1;
                if f.times == 0 {
                    c.faults.remove(i);
                }
            }
        }
        Admission {
            verdict,
            headers,
            switches,
            fault,
        }
    }

    /// Limit headers for a request that is not counted (OPTIONS).
    pub(crate) fn peek_headers(&self) -> LimitHeaders {
        let now = self.clock.now_ms();
        let mut c = lock(&self.ctl);
        let sw = c.switches.clone();
        let plan_limit = sw.daily_limit.unwrap_or(crate::limits::UNLIMITED_PLAN);
        let plan_remaining = c.limits.plan_remaining(now, sw.daily_limit);
        LimitHeaders {
            plan_limit,
            plan_remaining,
            plan_reset_ms: (now.div_euclid(crate::clock::MS_PER_DAY) + 1)
                * crate::clock::MS_PER_DAY
                - now,
            rate: sw
                .rate_limit
                .map(|r| (r.per_second, r.per_second, now.div_euclid(1000) + 1)),
        }
    }

    pub(crate) fn append_log(&self, mut entry: LogEntry) {
        let mut c = lock(&self.ctl);
        c.seq += 1;
        entry.seq = c.seq;
        if c.log.len() >= LOG_CAP {
            c.log.pop_front();
        }
        c.log.push_back(entry);
    }
}

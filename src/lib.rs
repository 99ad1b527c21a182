//! The napi binding of knack-session: classes, option parsing and error mapping only.
//! No HTTP or Knack logic lives here (see `crates/knack-client`).
//!
//! Every async method is a sync method that returns a promise (`Env::spawn_future`), so it
//! can take a `CancelHandle` (fed by the JS `AbortSignal`) on the JS thread. Errors cross
//! as `Error { message: <JSON payload> }`; the JS facade turns them into `KnackError`.

#![deny(clippy::all)]

mod options;
mod stores;
mod upload;

use knack_client::Pager;
use knack_client::{CallOptions, Session, SessionConfig};
use knack_client::{CancellationToken, Secret};
use knack_client::{ListQuery, ShapeSpec, ViewRef};
use napi::bindgen_prelude::*;
use napi_derive::napi;
pub use options::{NativeOptions, NativeQuery};
use std::sync::Arc;

/// Turn a core error into the JS-side error (the facade reads the JSON message).
pub(crate) fn to_napi(e: knack_client::Error) -> napi::Error {
    napi::Error::new(Status::GenericFailure, e.to_json())
}

pub(crate) fn invalid(msg: impl Into<String>) -> napi::Error {
    to_napi(knack_client::Error::invalid(msg))
}

/// Record JSON for JS: ASCII text (the usual case) is handed over as Latin-1, which V8 copies
/// without UTF-8 decoding.
pub struct JsonText(pub String);

impl ToNapiValue for JsonText {
    unsafe fn to_napi_value(env: napi::sys::napi_env, val: Self) -> Result<napi::sys::napi_value> {
        let s = val.0;
        if !s.is_ascii() {
            return String::to_napi_value(env, s);
        }
        let mut out = std::ptr::null_mut();
        let status = napi::sys::napi_create_string_latin1(
            env,
            s.as_ptr().cast(),
            s.len() as isize,
            &mut out,
        );
        if status != napi::sys::Status::napi_ok {
            return Err(napi::Error::new(
                Status::GenericFailure,
                "could not create the JSON string",
            ));
        }
        Ok(out)
    }
}

/// A cancellation switch for one call, pulled by the JS `AbortSignal`.
#[napi]
pub struct CancelHandle {
    token: CancellationToken,
    /// Who observes the call (events for diagnostics_channel and the session's logger).
    observer: std::sync::atomic::AtomicU64,
    /// The session has a logger: no stderr lines for the call.
    quiet: std::sync::atomic::AtomicBool,
}

#[napi]
impl CancelHandle {
    #[napi(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        CancelHandle {
            token: CancellationToken::new(),
            observer: std::sync::atomic::AtomicU64::new(0),
            quiet: std::sync::atomic::AtomicBool::new(false),
        }
    }

    #[napi]
    pub fn cancel(&self) {
        self.token.cancel();
    }

    /// Make the call observed: its events go to the event sink with this observer id
    /// (0: unobserved, no event is built). `quiet`: its session logs it, so Rust writes no
    /// stderr lines for it.
    #[napi]
    pub fn observe(&self, observer: u32, quiet: bool) {
        self.observer
            .store(u64::from(observer), std::sync::atomic::Ordering::Relaxed);
        self.quiet
            .store(quiet, std::sync::atomic::Ordering::Relaxed);
    }

    fn observer(&self) -> u64 {
        self.observer.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// Where observed calls' events go: `callback(json)` on the JS thread, in order
/// (`{ channel, observer, message }`); `null` stops it. The callback does not keep the
/// process alive.
#[napi]
pub fn set_event_sink(
    callback: Option<
        napi::threadsafe_function::ThreadsafeFunction<String, (), String, Status, false, true>,
    >,
) {
    match callback {
        None => knack_client::set_event_sink(None),
        Some(tsfn) => {
            let tsfn = Arc::new(tsfn);
            knack_client::set_event_sink(Some(Arc::new(move |e: knack_client::Event| {
                let _ = tsfn.call(
                    e.to_json(),
                    napi::threadsafe_function::ThreadsafeFunctionCallMode::NonBlocking,
                );
            })));
        }
    }
}

fn call_options(cancel: Option<&CancelHandle>) -> CallOptions {
    CallOptions {
        cancel: cancel.map(|c| c.token.clone()),
        observe: cancel.map_or(0, CancelHandle::observer),
        quiet: cancel.is_some_and(|c| c.quiet.load(std::sync::atomic::Ordering::Relaxed)),
    }
}

/// Session facts that are safe to show (no token).
#[napi(object)]
pub struct SessionInfo {
    pub id: String,
    pub app_id: String,
    pub user_id: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub profile_keys: Vec<String>,
    /// Unix milliseconds.
    pub issued_at: f64,
    /// Unix milliseconds.
    pub expires_at: f64,
    pub remember: Option<bool>,
}

#[napi]
pub struct NativeSession {
    pub(crate) inner: Arc<Session>,
}

/// The view of a record call, and for a child page the parent record.
#[napi(object, object_to_js = false)]
pub struct NativeView {
    pub scene: String,
    pub view: String,
    pub parent_record_id: Option<String>,
    /// `'fields'` (default) or `'labels'`.
    pub shape: Option<String>,
    /// Projection of a read: field keys or labels.
    pub fields: Option<Vec<String>>,
}

impl NativeView {
    /// The view and the shape of its records.
    pub(crate) fn into_parts(self) -> (ViewRef, knack_client::Result<ShapeSpec>) {
        let spec = options::shape_spec(self.shape.as_deref(), self.fields);
        (
            ViewRef {
                scene: self.scene,
                view: self.view,
                parent_record_id: self.parent_record_id,
            },
            spec,
        )
    }

    pub(crate) fn into_ref(self) -> ViewRef {
        ViewRef {
            scene: self.scene,
            view: self.view,
            parent_record_id: self.parent_record_id,
        }
    }
}

impl NativeSession {
    /// Run a core call of this session on the runtime, with the caller's cancellation; its
    /// error becomes the JS-side error.
    fn spawn<'env, T, F, Fut>(
        &self,
        env: &'env Env,
        cancel: Option<&CancelHandle>,
        f: F,
    ) -> Result<PromiseRaw<'env, T>>
    where
        T: ToNapiValue + Send + 'static,
        F: FnOnce(Arc<Session>, CallOptions) -> Fut,
        Fut: std::future::Future<Output = knack_client::Result<T>> + Send + 'static,
    {
        let fut = f(self.inner.clone(), call_options(cancel));
        env.spawn_future(async move { fut.await.map_err(to_napi) })
    }
}

#[napi]
impl NativeSession {
    /// Adopt a Knack user token (no request).
    #[napi(factory)]
    pub fn from_token(token: String, opts: NativeOptions) -> Result<NativeSession> {
        let config = opts.to_config().map_err(to_napi)?;
        let session = Session::from_token(&config, &token, opts.remember).map_err(to_napi)?;
        Ok(NativeSession {
            inner: Arc::new(session),
        })
    }

    /// Log in with email and password.
    #[napi(ts_return_type = "Promise<NativeSession>")]
    pub fn login<'env>(
        env: &'env Env,
        opts: NativeOptions,
        email: String,
        password: String,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, NativeSession>> {
        let password = Secret::new(password);
        let remember = opts.remember.unwrap_or(false);
        let config: Result<SessionConfig> = opts.to_config().map_err(to_napi);
        let call = call_options(cancel);
        env.spawn_future(async move {
            let config = config?;
            let session = Session::login(&config, &email, &password, remember, &call)
                .await
                .map_err(to_napi)?;
            Ok(NativeSession {
                inner: Arc::new(session),
            })
        })
    }

    /// A service session (README "Background jobs"): goes on with `stored` (the session a
    /// store kept under `id`, see `Sealer.serviceId`) unless its token is about to expire,
    /// else logs in now; then logs in again by itself before the token expires and whenever
    /// Knack refuses it. `id` null: no store, a random id.
    #[napi(ts_return_type = "Promise<NativeSession>")]
    pub fn service<'env>(
        env: &'env Env,
        opts: NativeOptions,
        id: Option<String>,
        email: String,
        password: String,
        stored: Option<&NativeSession>,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, NativeSession>> {
        let password = Secret::new(password);
        let remember = opts.remember.unwrap_or(false);
        let config: Result<SessionConfig> = opts.to_config().map_err(to_napi);
        let call = call_options(cancel);
        let stored = stored.map(|n| n.inner.state());
        env.spawn_future(async move {
            let config = config?;
            let session = Session::service(&config, id, &email, password, remember, stored, &call)
                .await
                .map_err(to_napi)?;
            Ok(NativeSession {
                inner: Arc::new(session),
            })
        })
    }

    /// Logins a service session made after its first (0 for other sessions).
    #[napi]
    pub fn renewals(&self) -> f64 {
        self.inner.renewals() as f64
    }

    #[napi]
    pub fn info(&self) -> SessionInfo {
        let s = &self.inner;
        let user = s.user();
        let user = &user;
        SessionInfo {
            id: s.id().to_owned(),
            app_id: s.app_id().to_owned(),
            user_id: user.id.clone(),
            email: user.email.clone(),
            name: user.name.clone(),
            profile_keys: user.profile_keys.clone(),
            issued_at: knack_client::to_millis(s.issued_at()) as f64,
            expires_at: knack_client::to_millis(s.expires_at()) as f64,
            remember: s.remember(),
        }
    }

    /// Counters and limits of the app's shared transport.
    #[napi]
    pub fn stats(&self) -> TransportStats {
        let t = self.inner.app().stats();
        TransportStats {
            requests: t.requests as f64,
            retries: t.retries as f64,
            rate_limited: t.rate_limited as f64,
            queued: t.queued as f64,
            per_second: t.per_second.map(f64::from),
            shared: t.shared,
            plan: PlanStats {
                limit: t.plan.limit.map(|v| v as f64),
                remaining: t.plan.remaining.map(|v| v as f64),
                reset_in_ms: t.plan.reset_in.map(|d| d.as_millis() as f64),
            },
        }
    }

    /// Forget that the app's daily plan limit is spent (a plan upgraded mid-day): the next
    /// call of any session of this app goes to Knack.
    #[napi]
    pub fn reset_daily_limit(&self) {
        self.inner.app().quota.clear();
    }

    /// Throw `KNACK_DAILY_LIMIT` (outcome not-sent) when Knack said at most `reserve` calls
    /// of the day remain: bulk calls check it before each item.
    #[napi]
    pub fn check_reserve(&self, reserve: f64) -> Result<()> {
        self.inner
            .app()
            .quota
            .check_reserve(reserve)
            .map_err(to_napi)
    }

    /// Forget the session in this process: later calls fail with KNACK_UNAUTHORIZED.
    #[napi]
    pub fn logout(&self) {
        self.inner.logout();
    }

    /// The token itself: the one deliberate way to read it.
    #[napi]
    pub fn get_token(&self) -> String {
        self.inner.token().expose().to_owned()
    }

    /// The app's schema as JSON text (`KnackSchema`), from the app's cached metadata.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn schema<'env>(
        &self,
        env: &'env Env,
        refresh: bool,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, String>> {
        // Taken now, on the JS thread: refreshes asked together share one fetch however late
        // the runtime polls them.
        let refresh = refresh.then(std::time::Instant::now);
        self.spawn(env, cancel, move |s, call| async move {
            s.schema(refresh, &call).await
        })
    }

    /// The schema of an app without a session (its metadata needs no login).
    #[napi(ts_return_type = "Promise<string>")]
    pub fn app_schema<'env>(
        env: &'env Env,
        opts: NativeOptions,
        refresh: bool,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, String>> {
        let config: Result<SessionConfig> = opts.to_config().map_err(to_napi);
        let call = call_options(cancel);
        let refresh = refresh.then(std::time::Instant::now);
        env.spawn_future(async move { config?.schema(refresh, &call).await.map_err(to_napi) })
    }

    #[napi(ts_return_type = "Promise<string>")]
    pub fn validate<'env>(
        &self,
        env: &'env Env,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, String>> {
        self.spawn(env, cancel, move |s, call| async move {
            s.validate(&call).await
        })
    }

    /// One page as JSON text `{records, totalRecords, totalPages, currentPage}`.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn get_records<'env>(
        &self,
        env: &'env Env,
        query: NativeQuery,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, JsonText>> {
        let s = self.inner.clone();
        let call = call_options(cancel);
        let query: Result<ListQuery> = query.to_query();
        env.spawn_future(async move {
            s.get_records(&query?, &call)
                .await
                .map(JsonText)
                .map_err(to_napi)
        })
    }

    /// Start reading every page (page 1 first, then the rest concurrently).
    #[napi(ts_return_type = "Promise<NativePager>")]
    pub fn open_pager<'env>(
        &self,
        env: &'env Env,
        query: NativeQuery,
        opts: NativePagingOptions,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, NativePager>> {
        let s = self.inner.clone();
        let call = call_options(cancel);
        let query: Result<ListQuery> = query.to_query();
        let opts = options::paging(opts).map_err(to_napi);
        env.spawn_future(async move {
            let pager = Pager::open(s, &query?, opts?, call)
                .await
                .map_err(to_napi)?;
            Ok(NativePager {
                inner: Arc::new(pager),
            })
        })
    }

    #[napi(ts_return_type = "Promise<string>")]
    pub fn get_record<'env>(
        &self,
        env: &'env Env,
        target: NativeView,
        id: String,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, String>> {
        let (view, spec) = target.into_parts();
        self.spawn(env, cancel, move |s, call| async move {
            s.get_record_shaped(&view, &id, &spec?, &call).await
        })
    }

    /// `data` is JSON text of the field values.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn create_record<'env>(
        &self,
        env: &'env Env,
        target: NativeView,
        data: String,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, String>> {
        let (view, spec) = target.into_parts();
        self.spawn(env, cancel, move |s, call| async move {
            s.create_record_shaped(&view, &data, spec?.shape, &call)
                .await
        })
    }

    #[napi(ts_return_type = "Promise<string>")]
    pub fn update_record<'env>(
        &self,
        env: &'env Env,
        target: NativeView,
        id: String,
        data: String,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, String>> {
        let (view, spec) = target.into_parts();
        self.spawn(env, cancel, move |s, call| async move {
            s.update_record_shaped(&view, &id, &data, spec?.shape, &call)
                .await
        })
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn delete_record<'env>(
        &self,
        env: &'env Env,
        target: NativeView,
        id: String,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, ()>> {
        self.spawn(env, cancel, move |s, call| async move {
            s.delete_record(&target.into_ref(), &id, &call).await
        })
    }
}

/// The daily plan limit as Knack last reported it.
#[napi(object)]
pub struct PlanStats {
    pub limit: Option<f64>,
    pub remaining: Option<f64>,
    pub reset_in_ms: Option<f64>,
}

/// State of the shared transport of this session's app (all sessions of the app see the same).
#[napi(object)]
pub struct TransportStats {
    pub requests: f64,
    pub retries: f64,
    pub rate_limited: f64,
    pub queued: f64,
    pub per_second: Option<f64>,
    /// The rate window is shared with other processes through Redis.
    pub shared: bool,
    pub plan: PlanStats,
}

/// Options of `records()` / `getAllRecords()`.
#[napi(object, object_to_js = false)]
pub struct NativePagingOptions {
    pub max_records: Option<f64>,
    pub prefetch_pages: Option<f64>,
    pub strict: Option<bool>,
}

/// What an iteration over pages saw.
#[napi(object)]
pub struct PagingSummary {
    pub total_records: Option<f64>,
    pub total_pages: Option<f64>,
    pub pages: f64,
    pub received: f64,
    pub duplicates: f64,
    pub shortfall: f64,
    pub ended_early: bool,
    pub truncated: bool,
    pub complete: bool,
}

/// A running iteration over every page of a view.
#[napi]
pub struct NativePager {
    inner: Arc<Pager>,
}

#[napi]
impl NativePager {
    /// The next page's records as a JSON array text, or null at the end.
    #[napi(ts_return_type = "Promise<string | null>")]
    pub fn next<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, Option<JsonText>>> {
        let p = self.inner.clone();
        env.spawn_future(async move {
            match p.next().await {
                None => Ok(None),
                Some(Ok(chunk)) => Ok(Some(JsonText(chunk.json))),
                Some(Err(e)) => Err(to_napi(e)),
            }
        })
    }

    #[napi]
    pub fn summary(&self) -> PagingSummary {
        let s = self.inner.summary();
        PagingSummary {
            total_records: s.total_records.map(|v| v as f64),
            total_pages: s.total_pages.map(|v| v as f64),
            pages: s.pages as f64,
            received: s.received as f64,
            duplicates: s.duplicates as f64,
            shortfall: s.shortfall as f64,
            ended_early: s.ended_early,
            truncated: s.truncated,
            complete: s.complete,
        }
    }

    /// Stop fetching (the consumer left early).
    #[napi]
    pub fn close(&self) {
        self.inner.close();
    }
}

/// Set the log level (`error`, `warn`, `info`, `debug`, `off`); overrides `KNACK_SESSION_LOG`.
#[napi]
pub fn set_log_level(level: String) -> Result<()> {
    let l = knack_client::log_level_named(&level).ok_or_else(|| {
        invalid("setLogLevel takes \"off\", \"error\", \"warn\", \"info\" or \"debug\"")
    })?;
    knack_client::set_log_level(l);
    Ok(())
}

/// Every error code the core can give, as JS `KnackError.code` spells it (the facade adds
/// `KNACK_INTERNAL`, its own, for a binding that cannot load).
#[napi]
pub fn error_codes() -> Vec<&'static str> {
    knack_client::ErrorCode::ALL
        .iter()
        .map(|c| c.as_str())
        .collect()
}

/// The one session-id rule (16-128 letters, digits, '-' and '_'), for `restore()` and the
/// middleware's cookies.
#[napi]
pub fn is_session_id(id: String) -> bool {
    knack_client::is_session_id(&id)
}

/// The one secret-length rule (at least 32 characters), for store secrets and the
/// middleware's cookie secret.
#[napi]
pub fn is_strong_secret(secret: String) -> bool {
    knack_client::is_strong_secret(&secret)
}

/// Check session options as `login`/`fromToken` would, without making a session (for
/// `restore()`, which may find nothing to restore: bad options are refused all the same).
#[napi]
pub fn check_session_options(opts: NativeOptions) -> Result<()> {
    opts.to_config().map(drop).map_err(to_napi)
}

/// Check a list query and paging options as `openPager` would, before any request (for
/// `records()`, which opens its pager on first use).
#[napi]
pub fn check_list_args(query: NativeQuery, paging: NativePagingOptions) -> Result<()> {
    query.to_query()?.prepare().map_err(to_napi)?;
    options::paging(paging).map(drop).map_err(to_napi)
}

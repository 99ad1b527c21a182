//! A session: one Knack user's identity (token, claims, expiry) plus a handle on the shared
//! app (see `app.rs`). Logging in, adopting a token, validating it, and mapping HTTP
//! answers to errors in the light of what the session knows (e.g. its expiry).

use crate::app::{App, AppOptions};
use crate::error::{Error, ErrorCode, Result};
use crate::outcome::Outcome;
use crate::response;
use crate::secret::Secret;
use crate::service::Credentials;
use crate::token::{self, Claims};
use crate::transport::{self, guard, Call, CallPolicy, Progress, Reply};
use crate::validate;
use base64::Engine;
use bytes::Bytes;
use reqwest::Method;
use serde::Deserialize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Instant, SystemTime};
use tokio_util::sync::CancellationToken;
use url::Url;

pub const DEFAULT_BASE_URL: &str = "https://api.knack.com/v1";

/// Everything needed to talk to one Knack app.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    pub app_id: String,
    pub base_url: Url,
    pub policy: CallPolicy,
    pub app: AppOptions,
}

impl SessionConfig {
    /// The app's schema without a session (the metadata needs no login): JSON text
    /// (`KnackSchema`), from the same cache sessions of the app use. `refresh: Some(asked)`
    /// wants one fetched no earlier than `asked` (see [`crate::metadata::schema`]).
    pub async fn schema(&self, refresh: Option<Instant>, opts: &CallOptions) -> Result<String> {
        if opts.cancel.as_ref().is_some_and(|c| c.is_cancelled()) {
            return Err(Error::aborted());
        }
        let app = App::shared(&self.base_url, &self.app_id, &self.app)?;
        let progress = Arc::new(opts.progress());
        guard(
            async {
                let s = crate::metadata::schema(&app, &self.policy, &progress, refresh).await?;
                Ok(s.to_js_json())
            },
            opts.cancel.as_ref(),
            self.policy.deadline,
            &progress,
        )
        .await
    }

    /// Check the app id and base URL (`None`: `KNACK_API_URL`, else Knack's own API).
    pub fn new(app_id: &str, base_url: Option<&str>) -> Result<Self> {
        validate::app_id(app_id)?;
        let env = std::env::var("KNACK_API_URL")
            .ok()
            .filter(|s| !s.trim().is_empty());
        let base = base_url
            .map(str::to_owned)
            .or(env)
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
        Ok(SessionConfig {
            app_id: app_id.to_owned(),
            base_url: validate::base_url(&base)?,
            policy: CallPolicy::default(),
            app: AppOptions::default(),
        })
    }
}

/// What is known of the user without asking Knack again.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserInfo {
    pub id: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub profile_keys: Vec<String>,
}

/// The state of a session that can be stored and restored.
#[derive(Debug, Clone)]
pub struct SessionState {
    pub id: String,
    pub token: Secret,
    pub remember: Option<bool>,
    pub user: UserInfo,
}

/// The token a session sends, with what it says. A service session swaps it for a new one
/// when it logs in again; a call holds the one it sent.
#[derive(Debug)]
struct Login {
    token: Secret,
    claims: Claims,
    remember: Option<bool>,
}

impl Login {
    fn expires_at(&self) -> SystemTime {
        token::expires_at(self.claims.issued_at(), self.remember)
    }

    /// Past the shortest lifetime (48 h): Knack may consider it expired.
    fn maybe_expired(&self) -> bool {
        SystemTime::now() >= self.claims.issued_at() + token::SHORT_LIFETIME
    }
}

#[derive(Debug)]
pub struct Session {
    id: String,
    app_id: String,
    login: std::sync::RwLock<Arc<Login>>,
    /// Updated by `validate()`: Knack's answer is the freshest word on the user.
    user: std::sync::RwLock<UserInfo>,
    app: Arc<App>,
    policy: CallPolicy,
    logged_out: AtomicBool,
    /// A service session's credentials: it logs in again by itself (`service.rs`).
    service: Option<Credentials>,
}

/// A new opaque session id: 256 random bits, URL-safe base64 (43 characters).
pub fn new_session_id() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| {
        Error::new(
            ErrorCode::Store,
            format!("no randomness for a session id: {e}"),
        )
    })?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// Call options of one operation.
#[derive(Debug, Default, Clone)]
pub struct CallOptions {
    pub cancel: Option<CancellationToken>,
    /// Who observes the call's requests (`events`): 0 for nobody.
    pub observe: u64,
    /// The caller logs the call itself (a session's `logger`): no stderr lines for it.
    pub quiet: bool,
}

impl CallOptions {
    /// A fresh progress record of one operation, observed as these options say.
    pub(crate) fn progress(&self) -> Progress {
        let p = Progress::default();
        p.observe.store(self.observe, Ordering::Relaxed);
        p.quiet.store(self.quiet, Ordering::Relaxed);
        p
    }
}

impl Session {
    fn build(
        config: &SessionConfig,
        id: String,
        token: Secret,
        remember: Option<bool>,
        user: UserInfo,
    ) -> Result<Self> {
        validate::header_value("token", token.expose())?;
        let claims = Claims::decode(token.expose())?;
        if claims.application_id != config.app_id {
            return Err(Error::invalid(
                "the token belongs to another Knack application than appId",
            ));
        }
        let app = App::shared(&config.base_url, &config.app_id, &config.app)?;
        let mut user = user;
        if user.id.is_empty() {
            user.id = claims.user_id.clone();
        }
        Ok(Session {
            id,
            app_id: claims.application_id.clone(),
            login: std::sync::RwLock::new(Arc::new(Login {
                token,
                claims,
                remember,
            })),
            user: std::sync::RwLock::new(user),
            app,
            policy: config.policy.clone(),
            logged_out: AtomicBool::new(false),
            service: None,
        })
    }

    /// Adopt a token a Knack page sent (no request is made).
    pub fn from_token(config: &SessionConfig, token: &str, remember: Option<bool>) -> Result<Self> {
        Session::build(
            config,
            new_session_id()?,
            Secret::new(token.trim()),
            remember,
            UserInfo::default(),
        )
    }

    /// Rebuild a stored session.
    pub fn from_state(config: &SessionConfig, state: SessionState) -> Result<Self> {
        Session::build(config, state.id, state.token, state.remember, state.user)
    }

    pub fn state(&self) -> SessionState {
        let login = self.current();
        SessionState {
            id: self.id.clone(),
            token: login.token.clone(),
            remember: login.remember,
            user: self.user(),
        }
    }

    /// A service session (`service.rs`): goes on with `stored` (the session a store kept
    /// under `id` for this user, see `KeyRing::service_id`) while its token is not about to
    /// expire, else logs in now; then logs in again by itself before the token expires and
    /// whenever Knack refuses it. Without `id` (no store) the session gets a random id.
    pub async fn service(
        config: &SessionConfig,
        id: Option<String>,
        email: &str,
        password: Secret,
        remember: bool,
        stored: Option<SessionState>,
        opts: &CallOptions,
    ) -> Result<Session> {
        let creds = Credentials::new(config, email, password, remember);
        if let Some(state) = stored {
            let usable =
                id.as_deref() == Some(state.id.as_str()) && state.remember == Some(remember);
            if let Some(mut s) = usable
                .then(|| Session::from_state(config, state).ok())
                .flatten()
            {
                if !crate::service::due(s.expires_at(), SystemTime::now()) {
                    s.service = Some(creds);
                    return Ok(s);
                }
            }
        }
        let mut s = Session::login(config, email, &creds.password, remember, opts).await?;
        if let Some(id) = id {
            s.id = id;
        }
        s.service = Some(creds);
        Ok(s)
    }

    /// Is this a service session (it logs in again by itself)?
    pub fn is_service(&self) -> bool {
        self.service.is_some()
    }

    /// Logins a service session made after its first.
    pub fn renewals(&self) -> u64 {
        self.service
            .as_ref()
            .map_or(0, |c| c.renewals.load(Ordering::Relaxed))
    }

    fn current(&self) -> Arc<Login> {
        self.login.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The token to send now: a service session whose token is about to expire logs in first.
    async fn usable_login(&self, progress: &Progress) -> Result<Arc<Login>> {
        let login = self.current();
        if self.service.is_some() && crate::service::due(login.expires_at(), SystemTime::now()) {
            self.renew(&login, progress).await?;
            return Ok(self.current());
        }
        Ok(login)
    }

    /// Log a service session in again, unless another call did since `stale` was sent (one
    /// login for every call that found the token refused or due).
    async fn renew(&self, stale: &Arc<Login>, progress: &Progress) -> Result<()> {
        let Some(creds) = &self.service else {
            return Ok(());
        };
        let _turn = creds.turn.lock().await;
        if !Arc::ptr_eq(&self.current(), stale) {
            return Ok(());
        }
        let opts = CallOptions {
            cancel: None,
            observe: progress.observe.load(Ordering::Relaxed),
            quiet: progress.quiet.load(Ordering::Relaxed),
        };
        let fresh = Session::login(
            &creds.config,
            &creds.email,
            &creds.password,
            creds.remember,
            &opts,
        )
        .await
        .map_err(|e| {
            let message = format!("the service session could not log in again: {}", e.message);
            Error { message, ..e }
        })?;
        if fresh.user().id != self.user().id {
            return Err(Error::bad_response(
                "logging in again gave a token for another user",
            ));
        }
        let login = fresh.current();
        *self.login.write().unwrap_or_else(|p| p.into_inner()) = login;
        *self.user.write().unwrap_or_else(|p| p.into_inner()) = fresh.user();
        creds.renewals.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// `POST /applications/{app}/session` with email and password.
    pub async fn login(
        config: &SessionConfig,
        email: &str,
        password: &Secret,
        remember: bool,
        opts: &CallOptions,
    ) -> Result<Session> {
        let progress = opts.progress();
        let started = std::time::Instant::now();
        let r = Self::login_inner(config, email, password, remember, opts, &progress).await;
        if opts.observe != 0 {
            crate::events::emit(crate::events::Event {
                kind: crate::events::Kind::Login,
                observer: opts.observe,
                request_id: crate::events::next_request_id(),
                method: "POST".into(),
                path: format!("/applications/{}/session", config.app_id),
                attempt: progress.attempts.load(Ordering::Relaxed),
                status: r.as_ref().err().and_then(|e| e.status),
                duration_ms: Some(started.elapsed().as_secs_f64() * 1000.0),
                code: r.as_ref().err().map(|e| e.code()),
                wait_ms: None,
                reason: None,
            });
        }
        r
    }

    async fn login_inner(
        config: &SessionConfig,
        email: &str,
        password: &Secret,
        remember: bool,
        opts: &CallOptions,
        progress: &Progress,
    ) -> Result<Session> {
        let email = email.trim();
        if email.is_empty() || !email.contains('@') || email.len() > 320 {
            return Err(Error::invalid("email must be an email address"));
        }
        if password.is_empty() {
            return Err(Error::invalid("password must not be empty"));
        }
        let app = App::shared(&config.base_url, &config.app_id, &config.app)?;
        let body = login_body(email, password, remember)?;
        let mut call = Call::new(
            Method::POST,
            format!("/applications/{}/session", config.app_id),
        );
        call.body = Some(body);
        call.app_header = false;
        // Logging in changes no data: safe to repeat.
        call.idempotent = true;
        let reply = guard(
            transport::send(&app, &call, &config.policy, progress),
            opts.cancel.as_ref(),
            config.policy.deadline,
            progress,
        )
        .await?;
        if !(200..300).contains(&reply.status) {
            let errors = response::knack_errors(&reply.body);
            let (code, what) = match reply.status {
                404 => (
                    ErrorCode::NotFound,
                    match validate::base_url_hint(&config.base_url) {
                        Some(hint) => format!("the application was not found; {hint}"),
                        None => "the application was not found".to_owned(),
                    },
                ),
                _ => (
                    ErrorCode::LoginFailed,
                    response::summary(&errors)
                        .unwrap_or_else(|| "email or password incorrect".to_owned()),
                ),
            };
            return Err(Error::new(code, format!("login failed: {what}"))
                .with_status(reply.status)
                .with_errors(errors)
                .with_attempts(reply.attempts)
                .with_request(reply.request));
        }
        let parsed = LoginUser::parse(&reply.body);
        let (attempts, request) = (reply.attempts, reply.request.clone());
        let answered = |e: Error| e.after_reply(attempts, &request, Outcome::Applied);
        // The answer carries the token: wipe our copy of it now.
        crate::secret::wipe_bytes(reply.body);
        let user = parsed.map_err(answered)?;
        if let Some(status) = user.approval_status.as_deref() {
            if status != "approved" {
                return Err(Error::new(
                    ErrorCode::LoginFailed,
                    format!(
                        "login failed: the account is not approved (approval_status \"{status}\")"
                    ),
                )
                .with_attempts(attempts));
            }
        }
        let info = UserInfo {
            id: user.id.clone(),
            email: user.email.clone().or_else(|| Some(email.to_owned())),
            name: user.name.clone(),
            profile_keys: user.profile_keys.clone(),
        };
        // The token came from Knack: if it is malformed, that is Knack's answer at fault.
        let session = Session::build(config, new_session_id()?, user.token, Some(remember), info)
            .map_err(|e| match e.code {
            ErrorCode::InvalidArgument => answered(Error::bad_response(format!(
                "Knack's login answer carries an unusable token: {}",
                e.message
            ))),
            _ => answered(e),
        })?;
        if session.current().claims.user_id != user.id {
            return Err(answered(Error::bad_response(
                "the login answer's token is for another user",
            )));
        }
        Ok(session)
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn app_id(&self) -> &str {
        &self.app_id
    }

    pub fn user(&self) -> UserInfo {
        self.user.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn remember(&self) -> Option<bool> {
        self.current().remember
    }

    /// The token the session sends now (a service session's changes when it logs in again).
    pub fn token(&self) -> Secret {
        self.current().token.clone()
    }

    /// The app this session belongs to (shared by every session of it in the process).
    pub fn app(&self) -> &Arc<App> {
        &self.app
    }

    pub fn policy(&self) -> &CallPolicy {
        &self.policy
    }

    pub fn issued_at(&self) -> SystemTime {
        self.current().claims.issued_at()
    }

    pub fn expires_at(&self) -> SystemTime {
        self.current().expires_at()
    }

    /// Past the latest possible expiry: no request can succeed (a service session logs in
    /// again instead, so it never is).
    pub fn expired(&self) -> bool {
        self.service.is_none() && SystemTime::now() >= self.expires_at()
    }

    /// Forget the session: every later call fails with `KNACK_UNAUTHORIZED` without a request.
    /// (Knack has no logout endpoint; the token itself stays valid until it expires.)
    pub fn logout(&self) {
        self.logged_out.store(true, Ordering::Relaxed);
    }

    pub fn is_logged_out(&self) -> bool {
        self.logged_out.load(Ordering::Relaxed)
    }

    fn check_usable(&self) -> Result<()> {
        if self.is_logged_out() {
            return Err(Error::new(
                ErrorCode::Unauthorized,
                "the session was logged out; log in again",
            ));
        }
        if self.expired() {
            return Err(Error::new(
                ErrorCode::TokenExpired,
                "the session's token has expired; log in again",
            ));
        }
        Ok(())
    }

    /// Run a call as this user under the caller's cancel token and the deadline.
    pub async fn run<T, F>(
        &self,
        opts: &CallOptions,
        f: impl FnOnce(Arc<Progress>) -> F,
    ) -> Result<T>
    where
        F: std::future::Future<Output = Result<T>>,
    {
        if opts.cancel.as_ref().is_some_and(|c| c.is_cancelled()) {
            return Err(Error::aborted());
        }
        self.check_usable()?;
        let progress = Arc::new(opts.progress());
        guard(
            f(progress.clone()),
            opts.cancel.as_ref(),
            self.policy.deadline,
            &progress,
        )
        .await
    }

    /// Send one authenticated call and turn non-2xx answers into errors.
    pub async fn send(&self, call: Call<'_>, progress: &Progress) -> Result<Reply> {
        self.send_with(call, &self.policy, progress).await
    }

    /// `send` under another policy (an upload's longer timeout).
    pub async fn send_with(
        &self,
        mut call: Call<'_>,
        policy: &CallPolicy,
        progress: &Progress,
    ) -> Result<Reply> {
        let mut relogged = false;
        loop {
            let login = self.usable_login(progress).await?;
            call.token = Some(login.token.clone());
            let reply = transport::send(&self.app, &call, policy, progress).await?;
            if (200..300).contains(&reply.status) {
                return Ok(reply);
            }
            let e = self.refused(&reply, &login);
            if self.service.is_some()
                && !relogged
                && crate::service::replay_after_login(e.code, e.outcome())
            {
                relogged = true;
                self.renew(&login, progress).await?;
                continue;
            }
            return Err(e);
        }
    }

    /// Map a 4xx answer to an error (the decision is `refusal::refusal`).
    pub fn status_error(&self, reply: &Reply) -> Error {
        self.refused(reply, &self.current())
    }

    /// `status_error` for an answer to a request that sent `login`'s token.
    fn refused(&self, reply: &Reply, login: &Login) -> Error {
        let errors = response::knack_errors(&reply.body);
        let summary = response::summary(&errors);
        let (code, what) = crate::refusal::refusal(crate::refusal::Refused {
            status: reply.status,
            message: summary.as_deref(),
            maybe_expired: login.maybe_expired(),
        });
        let mut message = match (code, &summary) {
            (ErrorCode::BadResponse, Some(s)) => format!("{what} {} ({s})", reply.status),
            (ErrorCode::BadResponse, None) => format!("{what} {}", reply.status),
            (_, Some(s)) => format!("{what} ({s})"),
            (_, None) => what.to_owned(),
        };
        if matches!(code, ErrorCode::NotFound | ErrorCode::BadResponse) {
            if let Some(hint) = validate::base_url_hint(&self.app.base_url) {
                message = format!("{message}; {hint}");
            }
        }
        let outcome = if reply.prior_unknown {
            Outcome::Unknown
        } else {
            Outcome::Rejected
        };
        Error::new(code, format!("{}: {message}", reply.request))
            .with_status(reply.status)
            .with_errors(errors)
            .after_reply(reply.attempts, &reply.request, outcome)
    }

    /// The app's schema as JSON text (`KnackSchema`), from the app's cached metadata;
    /// `refresh: Some(asked)` wants one fetched no earlier than `asked`.
    pub async fn schema(&self, refresh: Option<Instant>, opts: &CallOptions) -> Result<String> {
        self.run(opts, |progress| async move {
            let s = crate::metadata::schema(&self.app, &self.policy, &progress, refresh).await?;
            Ok(s.to_js_json())
        })
        .await
    }

    /// `GET /session/token`: ask Knack whether the token is still good and who it is.
    /// Returns the user as JSON text (`{id, email, status, accountStatus, approvalStatus,
    /// profileKeys, values}`).
    pub async fn validate(&self, opts: &CallOptions) -> Result<String> {
        self.run(opts, |progress| async move {
            let call = Call::new(Method::GET, "/session/token");
            let reply = self.send(call, &progress).await?;
            let (json, info) =
                KnackUser::from_session_body(&reply.body).map_err(|e| reply.unusable(e))?;
            if info.id != self.current().claims.user_id {
                return Err(reply.unusable(Error::bad_response(
                    "Knack's token check names another user than the token",
                )));
            }
            *self.user.write().unwrap_or_else(|p| p.into_inner()) = info;
            Ok(json)
        })
        .await
    }
}

/// The login request body, `{"email","password","remember"?}`, in memory that is wiped when
/// the last copy of the `Bytes` (the request and its retries) is dropped.
pub(crate) fn login_body(email: &str, password: &Secret, remember: bool) -> Result<Bytes> {
    #[derive(serde::Serialize)]
    struct LoginBody<'a> {
        email: &'a str,
        password: &'a str,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        remember: bool,
    }
    let text = crate::secret::to_zeroizing_json(&LoginBody {
        email,
        password: password.expose(),
        remember,
    })
    .map_err(|e| Error::invalid(format!("login body: {e}")))?;
    Ok(crate::secret::zeroizing_bytes(text))
}

/// Parse a login answer (`{"session":{"user":{...}}}`) as `login()` does; the token is
/// dropped (wiped). For fuzzing and tests.
pub(crate) fn parse_login_answer(body: &[u8]) -> Result<UserInfo> {
    let u = LoginUser::parse(body)?;
    Ok(UserInfo {
        id: u.id,
        email: u.email,
        name: u.name,
        profile_keys: u.profile_keys,
    })
}

/// Parse a token-check answer (`GET /session/token`) as `validate()` does: the JSON handed
/// to JS and the user. For fuzzing and tests.
pub(crate) fn parse_token_answer(body: &[u8]) -> Result<(String, UserInfo)> {
    KnackUser::from_session_body(body)
}

#[derive(Debug)]
struct LoginUser {
    id: String,
    token: Secret,
    approval_status: Option<String>,
    profile_keys: Vec<String>,
    email: Option<String>,
    name: Option<String>,
}

/// Find an email and a name among a user's `values` without knowing the field keys.
fn email_and_name(
    values: &serde_json::Map<String, serde_json::Value>,
) -> (Option<String>, Option<String>) {
    let mut email = None;
    let mut name = None;
    for (k, v) in values {
        if k.ends_with("_raw") {
            if let Some(e) = v.get("email").and_then(|e| e.as_str()) {
                email.get_or_insert_with(|| e.to_owned());
            }
            if let Some(full) = v.get("full").and_then(|e| e.as_str()) {
                name.get_or_insert_with(|| full.to_owned());
            }
        }
    }
    (email, name)
}

/// The user inside Knack's `{"session": {"user": ...}}` (login and token-check answers).
fn session_user<U: serde::de::DeserializeOwned>(body: &[u8], shape: &str) -> Result<U> {
    #[derive(Deserialize)]
    struct S<U> {
        user: U,
    }
    #[derive(Deserialize)]
    struct Body<U> {
        session: S<U>,
    }
    let b: Body<U> = serde_json::from_str(response::utf8(body)?)
        .map_err(|_| Error::bad_response(format!("the {shape}")))?;
    Ok(b.session.user)
}

impl LoginUser {
    fn parse(body: &[u8]) -> Result<LoginUser> {
        #[derive(Deserialize)]
        struct User {
            id: String,
            token: crate::secret::WipedString,
            #[serde(default)]
            approval_status: Option<String>,
            #[serde(default)]
            profile_keys: Vec<String>,
            #[serde(default)]
            values: Option<serde_json::Map<String, serde_json::Value>>,
        }
        let mut u: User = session_user(
            body,
            "login answer is not {session: {user: {id, token, ...}}}",
        )?;
        let (email, name) = u.values.as_ref().map(email_and_name).unwrap_or_default();
        Ok(LoginUser {
            id: u.id,
            token: Secret::new(std::mem::take(&mut u.token.0)),
            approval_status: u.approval_status,
            profile_keys: u.profile_keys,
            email,
            name,
        })
    }
}

struct KnackUser;

impl KnackUser {
    fn from_session_body(body: &[u8]) -> Result<(String, UserInfo)> {
        #[derive(Deserialize)]
        struct User {
            id: String,
            #[serde(default)]
            email: Option<String>,
            #[serde(default)]
            status: Option<String>,
            #[serde(default)]
            account_status: Option<String>,
            #[serde(default)]
            approval_status: Option<String>,
            #[serde(default)]
            profile_keys: Vec<String>,
            #[serde(default)]
            values: Option<serde_json::Map<String, serde_json::Value>>,
        }
        let u: User = session_user(body, "token check answer is not {session: {user: {...}}}")?;
        let mut values = u.values.unwrap_or_default();
        // A token answer must not carry secrets onwards, whatever Knack puts there.
        values.retain(|k, _| !k.to_ascii_lowercase().contains("token"));
        values.remove("password");
        let (found_email, name) = email_and_name(&values);
        let email = u.email.or(found_email);
        let info = UserInfo {
            id: u.id.clone(),
            email: email.clone(),
            name: name.clone(),
            profile_keys: u.profile_keys.clone(),
        };
        let out = serde_json::json!({
            "id": u.id,
            "email": email,
            "name": name,
            "status": u.status,
            "accountStatus": u.account_status,
            "approvalStatus": u.approval_status,
            "profileKeys": u.profile_keys,
            "values": values,
        });
        Ok((out.to_string(), info))
    }
}

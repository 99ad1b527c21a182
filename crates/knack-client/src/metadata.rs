//! Application metadata (`GET /v1/applications/{app_id}`, no auth), fetched once per app and
//! cached as a parsed [`Schema`]: `schema()`, page slugs for `parentRecordId` (`?{slug}_id=`),
//! field types for uploads and labels for `shape: 'labels'` all read the one cache. Callers
//! that arrive while it is being fetched wait for that one request (single-flight).

use crate::app::App;
use crate::error::{Error, ErrorCode, Result};
use crate::outcome::Outcome;
use crate::schema::Schema;
use crate::transport::{self, Call, CallPolicy, Progress};
use reqwest::Method;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Refetch metadata for an unknown scene key or field only if the cache is older than this.
const REFRESH_AFTER: Duration = Duration::from_secs(60);
/// `schema()` and labels refetch the metadata when the cache is older than this.
pub const SCHEMA_TTL: Duration = Duration::from_secs(600);

async fn fetch_metadata(
    app: &App,
    policy: &CallPolicy,
    progress: &Progress,
) -> Result<Arc<Schema>> {
    let call = Call::new(Method::GET, format!("/applications/{}", app.app_id));
    let reply = transport::send(app, &call, policy, progress).await?;
    match reply.status {
        200..=299 => Ok(Arc::new(Schema::parse(&reply.body).map_err(|e| {
            e.after_reply(reply.attempts, &reply.request, Outcome::NotSent)
        })?)),
        s => {
            let errors = crate::response::knack_errors(&reply.body);
            let said = crate::response::summary(&errors)
                .map(|m| format!(" ({m})"))
                .unwrap_or_default();
            let hint = crate::validate::base_url_hint(&app.base_url)
                .map(|h| format!("; {h}"))
                .unwrap_or_default();
            let e = if s == 404 || s == 400 {
                Error::new(
                    ErrorCode::NotFound,
                    format!("the application was not found (metadata){said}{hint}"),
                )
            } else {
                Error::bad_response(format!(
                    "application metadata: unexpected status {s}{said}{hint}"
                ))
            };
            Err(e
                .with_status(s)
                .with_errors(errors)
                .with_attempts(reply.attempts))
        }
    }
}

/// The page slug of a scene key (`scene_3` -> `ticket`), from cached metadata. Its
/// errors come before the caller's own request: that one was not sent.
pub async fn scene_slug(
    app: &App,
    scene_key: &str,
    policy: &CallPolicy,
    progress: &Progress,
) -> Result<String> {
    lookup(app, policy, progress, |m| {
        m.slug(scene_key).map(str::to_owned)
    })
    .await?
    .ok_or_else(|| {
        Error::new(
            ErrorCode::NotFound,
            format!(
                "{scene_key} is not a scene of this application (no page slug in its metadata)"
            ),
        )
    })
    .map_err(|e| e.with_outcome(Outcome::NotSent))
}

/// The Knack type of a field (`file`, `image`, ...), from cached metadata; `None` when the
/// metadata does not know the field.
pub async fn field_type(
    app: &App,
    field_key: &str,
    policy: &CallPolicy,
    progress: &Progress,
) -> Result<Option<String>> {
    lookup(app, policy, progress, |m| {
        m.field(field_key).map(|f| f.kind.clone())
    })
    .await
    .map_err(|e| e.with_outcome(Outcome::NotSent))
}

/// The app's schema: the cached one while younger than [`SCHEMA_TTL`], else fetched again;
/// `refresh: Some(asked)` asks for one fetched no earlier than `asked` (the moment the caller
/// made its call, taken before any await, so callers that asked together share one fetch).
pub async fn schema(
    app: &App,
    policy: &CallPolicy,
    progress: &Progress,
    refresh: Option<Instant>,
) -> Result<Arc<Schema>> {
    let asked = refresh.unwrap_or_else(Instant::now);
    schema_where(app, policy, progress, asked, |m| {
        refresh.is_none() && m.fetched.elapsed() < SCHEMA_TTL
    })
    .await
}

/// The schema for a lookup of `field_keys`: the cached one, fetched again when one of the
/// keys is unknown to it and it is older than `REFRESH_AFTER` (the app may have changed).
pub async fn schema_knowing(
    app: &App,
    policy: &CallPolicy,
    progress: &Progress,
    field_keys: &[&str],
) -> Result<Arc<Schema>> {
    schema_where(app, policy, progress, Instant::now(), |m| {
        m.fetched.elapsed() < SCHEMA_TTL
            && (m.fetched.elapsed() < REFRESH_AFTER
                || field_keys.iter().all(|k| m.field(k).is_some()))
    })
    .await
}

/// The cached schema if `fresh` says it will do (or it was fetched since `asked`, while this
/// caller waited for the cache), else a new fetch. The cache's lock is held across the fetch, so callers
/// arriving meanwhile wait for it instead of sending their own.
async fn schema_where(
    app: &App,
    policy: &CallPolicy,
    progress: &Progress,
    asked: Instant,
    fresh: impl Fn(&Schema) -> bool,
) -> Result<Arc<Schema>> {
    let mut cache = app.metadata.lock().await;
    if let Some(m) = cache.as_ref() {
        if m.fetched >= asked || fresh(m) {
            return Ok(m.clone());
        }
    }
    let m = fetch_metadata(app, policy, progress).await?;
    *cache = Some(m.clone());
    Ok(m)
}

/// `pick` from the cached metadata, fetched once per app (one request for concurrent
/// callers: they wait on the cache's lock), and again for a miss when the cache is older
/// than `REFRESH_AFTER` (the app may have changed).
async fn lookup<T>(
    app: &App,
    policy: &CallPolicy,
    progress: &Progress,
    pick: impl Fn(&Schema) -> Option<T>,
) -> Result<Option<T>> {
    let mut cache = app.metadata.lock().await;
    for round in 0..2 {
        let meta = match cache.as_ref() {
            Some(m) if round == 0 || m.fetched.elapsed() < REFRESH_AFTER => m.clone(),
            _ => {
                let m = fetch_metadata(app, policy, progress).await?;
                *cache = Some(m.clone());
                m
            }
        };
        if let Some(found) = pick(&meta) {
            return Ok(Some(found));
        }
        if meta.fetched.elapsed() < REFRESH_AFTER {
            break;
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use crate::schema::Schema;

    #[test]
    fn parses_scene_slugs() {
        let m = Schema::parse(br#"{"application":{"scenes":[{"key":"scene_1","slug":"home","views":[]},{"key":"scene_2"}]}}"#).unwrap();
        assert_eq!(m.slug("scene_1"), Some("home"));
        assert_eq!(m.slug("scene_2"), None);
        assert_eq!(
            Schema::parse(b"[]").unwrap_err().code(),
            "KNACK_BAD_RESPONSE"
        );
    }
}

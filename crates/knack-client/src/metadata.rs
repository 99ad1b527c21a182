//! Application metadata (`GET /v1/applications/{app_id}`), fetched once per app and cached:
//! it maps scene keys to page slugs for `parentRecordId` (`?{slug}_id=`).

use crate::app::{App, AppMeta};
use crate::error::{Error, ErrorCode, Result};
use crate::outcome::Outcome;
use crate::transport::{self, Call, CallPolicy, Progress};
use reqwest::Method;
use std::sync::Arc;
use std::time::Duration;

/// Refetch metadata for an unknown scene key only if the cache is older than this.
const REFRESH_AFTER: Duration = Duration::from_secs(60);

async fn fetch_metadata(
    app: &App,
    policy: &CallPolicy,
    progress: &Progress,
) -> Result<Arc<AppMeta>> {
    let call = Call::new(Method::GET, format!("/applications/{}", app.app_id));
    let reply = transport::send(app, &call, policy, progress).await?;
    match reply.status {
        200..=299 => Ok(Arc::new(AppMeta::parse(&reply.body).map_err(|e| {
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
    lookup(app, policy, progress, |m| m.slugs.get(scene_key).cloned())
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
        m.field_types.get(field_key).cloned()
    })
    .await
    .map_err(|e| e.with_outcome(Outcome::NotSent))
}

/// `pick` from the cached metadata, fetched once per app (one request for concurrent
/// callers: they wait on the cache's lock), and again for a miss when the cache is older
/// than `REFRESH_AFTER` (the app may have changed).
async fn lookup<T>(
    app: &App,
    policy: &CallPolicy,
    progress: &Progress,
    pick: impl Fn(&AppMeta) -> Option<T>,
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
    use crate::app::AppMeta;

    #[test]
    fn parses_scene_slugs() {
        let m = AppMeta::parse(br#"{"application":{"scenes":[{"key":"scene_1","slug":"home","views":[]},{"key":"scene_2"}]}}"#).unwrap();
        assert_eq!(m.slugs.get("scene_1").map(String::as_str), Some("home"));
        assert_eq!(m.slugs.len(), 1);
        assert_eq!(
            AppMeta::parse(b"[]").unwrap_err().code(),
            "KNACK_BAD_RESPONSE"
        );
    }
}

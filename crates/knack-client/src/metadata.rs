//! Application metadata (`GET /v1/applications/{app_id}`), fetched once per app and cached:
//! it maps scene keys to page slugs for `parentRecordId` (`?{slug}_id=`).

use crate::error::{Error, ErrorCode, Result};
use crate::outcome::Outcome;
use crate::transport::{Call, CallPolicy, Progress, Transport};
use reqwest::Method;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Refetch metadata for an unknown scene key only if the cache is older than this.
const REFRESH_AFTER: Duration = Duration::from_secs(60);

#[derive(Debug)]
pub struct AppMeta {
    pub slugs: HashMap<String, String>,
    pub fetched: Instant,
}

impl AppMeta {
    pub fn parse(body: &[u8]) -> Result<AppMeta> {
        #[derive(Deserialize)]
        struct Scene {
            key: String,
            #[serde(default)]
            slug: Option<String>,
        }
        #[derive(Deserialize)]
        struct App {
            #[serde(default)]
            scenes: Vec<Scene>,
        }
        #[derive(Deserialize)]
        struct Body {
            application: App,
        }
        let b: Body = serde_json::from_str(crate::response::utf8(body)?).map_err(|e| {
            Error::bad_response(format!(
                "Knack's application metadata is not as expected: {e}"
            ))
        })?;
        Ok(AppMeta {
            slugs: b
                .application
                .scenes
                .into_iter()
                .filter_map(|s| s.slug.map(|slug| (s.key, slug)))
                .collect(),
            fetched: Instant::now(),
        })
    }
}

impl Transport {
    async fn fetch_metadata(
        &self,
        policy: &CallPolicy,
        progress: &Progress,
    ) -> Result<Arc<AppMeta>> {
        let call = Call::new(Method::GET, format!("/applications/{}", self.app_id));
        let reply = self.send(&call, policy, progress).await?;
        match reply.status {
            200..=299 => Ok(Arc::new(AppMeta::parse(&reply.body).map_err(|e| {
                e.after_reply(reply.attempts, &reply.request, Outcome::NotSent)
            })?)),
            404 | 400 => Err(Error::new(
                ErrorCode::NotFound,
                "the application was not found (metadata)",
            )
            .with_status(reply.status)
            .with_attempts(reply.attempts)),
            s => Err(
                Error::bad_response(format!("application metadata: unexpected status {s}"))
                    .with_status(s)
                    .with_attempts(reply.attempts),
            ),
        }
    }

    /// The page slug of a scene key (`scene_3` -> `ticket`), from cached metadata. Its
    /// errors come before the caller's own request: that one was not sent.
    pub async fn scene_slug(
        &self,
        scene_key: &str,
        policy: &CallPolicy,
        progress: &Progress,
    ) -> Result<String> {
        self.lookup_slug(scene_key, policy, progress)
            .await
            .map_err(|e| e.with_outcome(Outcome::NotSent))
    }

    async fn lookup_slug(
        &self,
        scene_key: &str,
        policy: &CallPolicy,
        progress: &Progress,
    ) -> Result<String> {
        let mut cache = self.metadata.lock().await;
        for round in 0..2 {
            let meta = match cache.as_ref() {
                Some(m) if round == 0 || m.fetched.elapsed() < REFRESH_AFTER => m.clone(),
                _ => {
                    let m = self.fetch_metadata(policy, progress).await?;
                    *cache = Some(m.clone());
                    m
                }
            };
            if let Some(slug) = meta.slugs.get(scene_key) {
                return Ok(slug.clone());
            }
            if meta.fetched.elapsed() < REFRESH_AFTER {
                break;
            }
        }
        Err(Error::new(
            ErrorCode::NotFound,
            format!(
                "{scene_key} is not a scene of this application (no page slug in its metadata)"
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

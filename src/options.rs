//! Options as they arrive from the JS facade, checked and turned into core types.

use knack_client::Error;
use knack_client::SessionConfig;
use knack_client::{ListQuery, ViewRef};
use napi_derive::napi;
use std::time::Duration;

/// Session options, flattened by the facade.
#[napi(object, object_to_js = false)]
pub struct NativeOptions {
    pub app_id: String,
    pub base_url: Option<String>,
    pub timeout_ms: Option<f64>,
    pub deadline_ms: Option<f64>,
    pub retries: Option<f64>,
    /// Requests per second; 0 turns the governor off.
    pub rate_limit: Option<f64>,
    pub proxy: Option<String>,
    pub max_body_bytes: Option<f64>,
    pub remember: Option<bool>,
    /// Share the rate limit with every process through this Redis.
    pub rate_limit_redis: Option<String>,
    pub rate_limit_redis_prefix: Option<String>,
}

fn whole(what: &str, v: f64, min: f64, max: f64) -> Result<u64, Error> {
    if !v.is_finite() || v.fract() != 0.0 || v < min || v > max {
        return Err(Error::invalid(format!(
            "{what} must be a whole number from {min} to {max}, got {v}"
        )));
    }
    Ok(v as u64)
}

const DAY_MS: f64 = 86_400_000.0;

impl NativeOptions {
    pub fn to_config(&self) -> Result<SessionConfig, Error> {
        let mut c = SessionConfig::new(&self.app_id, self.base_url.as_deref())?;
        if let Some(t) = self.timeout_ms {
            c.policy.timeout = Duration::from_millis(whole("timeoutMs", t, 1.0, DAY_MS)?);
        }
        if let Some(t) = self.deadline_ms {
            c.policy.deadline = Some(Duration::from_millis(whole("deadlineMs", t, 1.0, DAY_MS)?));
        }
        if let Some(r) = self.retries {
            c.policy.retry.max_attempts = whole("retries", r, 0.0, 20.0)? as u32 + 1;
        }
        if let Some(r) = self.rate_limit {
            let n = whole("rateLimit.perSecond", r, 0.0, 10_000.0)? as u32;
            c.app.rate_limit = Some(if n == 0 { None } else { Some(n) });
        }
        if let Some(url) = &self.rate_limit_redis {
            c.app.shared_redis = Some((url.clone(), self.rate_limit_redis_prefix.clone()));
        }
        if let Some(p) = &self.proxy {
            c.app.proxy = Some(p.clone());
        }
        if let Some(b) = self.max_body_bytes {
            c.policy.max_body_bytes = whole("maxBodyBytes", b, 1024.0, 4_294_967_296.0)? as usize;
        }
        Ok(c)
    }
}

/// A list query; `filters` is JSON text.
#[napi(object, object_to_js = false)]
pub struct NativeQuery {
    pub scene: String,
    pub view: String,
    pub page: Option<f64>,
    pub rows_per_page: Option<f64>,
    pub filters: Option<String>,
    pub sort_field: Option<String>,
    pub sort_order: Option<String>,
    pub format: Option<String>,
    pub parent_record_id: Option<String>,
}

impl NativeQuery {
    pub fn to_query(self) -> napi::Result<ListQuery> {
        let map = crate::to_napi;
        let page = self
            .page
            .map(|p| whole("page", p, 1.0, 1e9))
            .transpose()
            .map_err(map)?
            .map(|p| p as u32);
        let rows_per_page = self
            .rows_per_page
            .map(|p| whole("rowsPerPage", p, 1.0, 1000.0))
            .transpose()
            .map_err(map)?
            .map(|p| p as u32);
        Ok(ListQuery {
            view: ViewRef {
                scene: self.scene,
                view: self.view,
            },
            page,
            rows_per_page,
            filters: self.filters,
            sort_field: self.sort_field,
            sort_order: self.sort_order,
            format: self.format,
            parent_record_id: self.parent_record_id,
        })
    }
}

/// Paging options, checked.
pub fn paging(o: crate::NativePagingOptions) -> Result<knack_client::PagingOptions, Error> {
    let mut p = knack_client::PagingOptions::default();
    if let Some(m) = o.max_records {
        p.max_records = Some(whole("maxRecords", m, 0.0, 1e15)?);
    }
    if let Some(n) = o.prefetch_pages {
        p.prefetch = whole("prefetchPages", n, 1.0, 64.0)? as usize;
    }
    p.strict = o.strict.unwrap_or(false);
    Ok(p)
}

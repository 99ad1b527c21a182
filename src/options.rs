//! Options as they arrive from the JS facade, turned into core types. Every bound is the
//! core's (`CallPolicy::TIMEOUT_MS`, `ListQuery::ROWS_PER_PAGE`, ...): this file applies them.

use knack_client::{
    AppOptions, Bound, CallPolicy, Error, PagingOptions, RetryPolicy, SessionConfig,
};
use knack_client::{ListQuery, Shape, ShapeSpec, ViewRef};
use napi::bindgen_prelude::Either;
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
    /// `false`: governor off; `true` or absent: the default; an object: its settings.
    pub rate_limit: Option<Either<bool, NativeRateLimit>>,
    pub proxy: Option<String>,
    /// Extra CA certificates, PEM (the facade joins a list into one text).
    pub ca: Option<String>,
    pub max_body_bytes: Option<f64>,
    pub remember: Option<bool>,
}

/// `rateLimit: { perSecond?, redis?, prefix? }`, as JS gives it (a URL or a RedisStore already
/// turned into its target and prefix by the facade).
#[napi(object, object_to_js = false)]
pub struct NativeRateLimit {
    pub per_second: Option<f64>,
    /// Share the rate limit with every process through this Redis.
    pub redis: Option<crate::stores::NativeRedisTarget>,
    pub prefix: Option<String>,
}

impl NativeOptions {
    pub fn to_config(&self) -> Result<SessionConfig, Error> {
        let mut c = SessionConfig::new(&self.app_id, self.base_url.as_deref())?;
        if let Some(t) = self.timeout_ms {
            c.policy.timeout = Duration::from_millis(CallPolicy::TIMEOUT_MS.check(t)?);
        }
        if let Some(t) = self.deadline_ms {
            c.policy.deadline = Some(Duration::from_millis(CallPolicy::DEADLINE_MS.check(t)?));
        }
        if let Some(r) = self.retries {
            c.policy.retry.max_attempts = RetryPolicy::RETRIES.check(r)? as u32 + 1;
        }
        match &self.rate_limit {
            None | Some(Either::A(true)) => {}
            Some(Either::A(false)) => c.app.rate_limit = Some(None),
            Some(Either::B(rl)) => {
                if let Some(n) = rl.per_second {
                    c.app.rate_limit = Some(Some(AppOptions::PER_SECOND.check(n)? as u32));
                }
                if let Some(target) = &rl.redis {
                    c.app.shared_redis = Some((target.to_target()?, rl.prefix.clone()));
                }
            }
        }
        if let Some(p) = &self.proxy {
            c.app.proxy = Some(p.clone());
        }
        if let Some(ca) = &self.ca {
            c.app.ca = Some(ca.clone());
        }
        if let Some(b) = self.max_body_bytes {
            c.policy.max_body_bytes = CallPolicy::MAX_BODY_BYTES.check(b)? as usize;
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
    /// `'fields'` (default) or `'labels'`.
    pub shape: Option<String>,
    /// Projection: field keys or labels.
    pub fields: Option<Vec<String>>,
}

/// `shape` and `fields` as the core's spec.
pub fn shape_spec(shape: Option<&str>, fields: Option<Vec<String>>) -> Result<ShapeSpec, Error> {
    let spec = ShapeSpec {
        shape: Shape::parse(shape)?,
        fields,
    };
    spec.check()?;
    Ok(spec)
}

impl NativeQuery {
    pub fn to_query(self) -> napi::Result<ListQuery> {
        let small = |b: Bound, v: Option<f64>| -> napi::Result<Option<u32>> {
            v.map(|v| b.check(v).map(|n| n as u32))
                .transpose()
                .map_err(crate::to_napi)
        };
        let page = small(ListQuery::PAGE, self.page)?;
        let rows_per_page = small(ListQuery::ROWS_PER_PAGE, self.rows_per_page)?;
        Ok(ListQuery {
            view: ViewRef {
                scene: self.scene,
                view: self.view,
                parent_record_id: self.parent_record_id,
            },
            page,
            rows_per_page,
            filters: self.filters,
            sort_field: self.sort_field,
            sort_order: self.sort_order,
            format: self.format,
            shape: shape_spec(self.shape.as_deref(), self.fields).map_err(crate::to_napi)?,
        })
    }
}

/// Paging options, checked.
pub fn paging(o: crate::NativePagingOptions) -> Result<PagingOptions, Error> {
    let mut p = PagingOptions::default();
    if let Some(m) = o.max_records {
        p.max_records = Some(PagingOptions::MAX_RECORDS.check(m)?);
    }
    if let Some(n) = o.prefetch_pages {
        p.prefetch = PagingOptions::PREFETCH_PAGES.check(n)? as usize;
    }
    p.strict = o.strict.unwrap_or(false);
    Ok(p)
}

//! Report views (charts, pivot tables): `GET /pages/{scene}/views/{view}/report` answers
//! `{"reports": [...]}` (every report of the view), `.../report/{n}` answers
//! `{"report": {...}}` (one). Filters are encoded as for records; a child page's parent
//! record is sent as for records.

use crate::bounds::Bound;
use crate::error::{Error, Result};
use crate::filters;
use crate::session::{CallOptions, Session};
use crate::transport::Call;
use crate::views::ViewRef;
use reqwest::Method;
use serde::Deserialize;
use serde_json::value::RawValue;

/// Which report of a view, and how to filter it.
#[derive(Debug, Clone, Default)]
pub struct ReportQuery {
    pub view: ViewRef,
    /// `None`: every report of the view; `Some(n)`: the n-th (from 0).
    pub report: Option<u32>,
    /// JSON text, as the caller wrote it.
    pub filters: Option<String>,
}

impl ReportQuery {
    /// `report`: which report of the view, from 0.
    pub const REPORT: Bound = Bound::new("report", 0, 10_000);
}

/// The reports (array) or the report (object) of an answer, as JSON text.
fn report_json(body: &[u8], one: bool) -> Result<String> {
    #[derive(Deserialize)]
    struct Shape<'a> {
        #[serde(borrow, default)]
        reports: Option<&'a RawValue>,
        #[serde(borrow, default)]
        report: Option<&'a RawValue>,
    }
    let text = crate::response::utf8(body)?;
    crate::response::check_depth(text)?;
    let shape: Shape<'_> = serde_json::from_str(text)
        .map_err(|e| Error::bad_response(format!("Knack's report answer is not an object: {e}")))?;
    let (found, want) = if one {
        (shape.report, "{\"report\": {...}}")
    } else {
        (shape.reports, "{\"reports\": [...]}")
    };
    match found {
        Some(raw) if raw.get().starts_with(if one { '{' } else { '[' }) => Ok(raw.get().to_owned()),
        _ => Err(Error::bad_response(format!(
            "Knack's report answer is not {want}"
        ))),
    }
}

impl Session {
    /// A report view's reports (`report: None`, a JSON array) or one report (a JSON object).
    pub async fn get_report(&self, q: &ReportQuery, opts: &CallOptions) -> Result<String> {
        q.view.check()?;
        let filters = match &q.filters {
            Some(f) => Some(filters::encode_component(filters::to_json(f)?)),
            None => None,
        };
        let path = match q.report {
            Some(n) => format!("/pages/{}/views/{}/report/{n}", q.view.scene, q.view.view),
            None => format!("/pages/{}/views/{}/report", q.view.scene, q.view.view),
        };
        self.run(opts, |progress| async move {
            let mut call = Call::new(Method::GET, path);
            let mut params = Vec::new();
            let parent = q.view.record_query(self, &progress).await?;
            if !parent.is_empty() {
                params.push(parent);
            }
            if let Some(f) = filters {
                params.push(format!("filters={f}"));
            }
            call.query = params.join("&");
            let reply = self.send(call, &progress).await?;
            report_json(&reply.body, q.report.is_some()).map_err(|e| reply.unusable(e))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_report_forms_are_read_verbatim() {
        let all = br#"{"reports":[{"records":[{"group_0":"Open","calc_0":3}]}]}"#;
        assert_eq!(
            report_json(all, false).unwrap(),
            r#"[{"records":[{"group_0":"Open","calc_0":3}]}]"#
        );
        let one = br#"{"report":{"records":[{"n":9007199254740993}]}}"#;
        assert_eq!(
            report_json(one, true).unwrap(),
            r#"{"records":[{"n":9007199254740993}]}"#
        );
        assert!(report_json(all, true).is_err());
        assert!(report_json(one, false).is_err());
        assert!(report_json(b"[]", false).is_err());
    }
}

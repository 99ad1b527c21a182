//! View-based record requests: `/pages/{scene}/views/{view}/records[/{id}]`.

use crate::bounds::Bound;
use crate::error::{Error, ErrorCode, Result};
use crate::filters;
use crate::metadata;
use crate::outcome::Outcome;
use crate::response;
use crate::schema::Schema;
use crate::session::{CallOptions, Session};
use crate::shape::{Found, Shape, ShapeSpec, Shaper};
use crate::transport::{Call, Progress};
use crate::validate;
use bytes::Bytes;
use reqwest::Method;
use serde_json::value::RawValue;
use std::sync::Arc;

/// Knack's largest page.
pub const MAX_ROWS_PER_PAGE: u32 = 1000;

/// Which scene and view, and for a view on a child page the parent record it is about
/// (sent as `?{scene_slug}_id=<id>`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ViewRef {
    pub scene: String,
    pub view: String,
    pub parent_record_id: Option<String>,
}

/// Where a view's `{slug}_id` parameter comes from.
#[derive(Debug, Clone, PartialEq)]
enum ParentParam {
    None,
    /// The scene was given by its slug: the parameter is known.
    Ready(String),
    /// The scene was given by its key: its slug comes from the app's metadata.
    Lookup {
        scene: String,
        id: String,
    },
}

impl ViewRef {
    pub fn check(&self) -> Result<()> {
        validate::scene(&self.scene)?;
        validate::view(&self.view)?;
        if let Some(id) = &self.parent_record_id {
            validate::record_id("parentRecordId", id)?;
        }
        Ok(())
    }

    fn parent_param(&self) -> ParentParam {
        match &self.parent_record_id {
            None => ParentParam::None,
            Some(id) if validate::is_scene_key(&self.scene) => ParentParam::Lookup {
                scene: self.scene.clone(),
                id: id.clone(),
            },
            Some(id) => ParentParam::Ready(format!("{}_id={id}", self.scene)),
        }
    }

    /// The query string of a record call: `{slug}_id=<parent>` or nothing.
    pub(crate) async fn record_query(
        &self,
        session: &Session,
        progress: &Progress,
    ) -> Result<String> {
        Ok(resolve_parent(self.parent_param(), session, progress)
            .await?
            .unwrap_or_default())
    }

    pub fn records_path(&self) -> String {
        format!("/pages/{}/views/{}/records", self.scene, self.view)
    }

    pub fn record_path(&self, id: &str) -> String {
        format!("/pages/{}/views/{}/records/{id}", self.scene, self.view)
    }
}

/// A list request. Only what the caller set is sent; Knack's defaults apply to the rest.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListQuery {
    pub view: ViewRef,
    pub page: Option<u32>,
    pub rows_per_page: Option<u32>,
    /// JSON text, as the caller wrote it.
    pub filters: Option<String>,
    pub sort_field: Option<String>,
    pub sort_order: Option<String>,
    pub format: Option<String>,
    /// The keys and values records come back with (`shape`, `fields`).
    pub shape: ShapeSpec,
}

/// A checked list query, with the query string minus `page` (paging adds it).
#[derive(Debug, Clone)]
pub struct PreparedQuery {
    pub path: String,
    /// Encoded parameters other than `page`, each `k=v`.
    pub params: Vec<String>,
    /// The `{slug}_id` parameter still to be added (`resolve`).
    parent: ParentParam,
    view: ViewRef,
    spec: ShapeSpec,
    /// How records are reshaped (`resolve`).
    pub shaping: Shaping,
}

/// A resolved `ShapeSpec` with the schema it was resolved against.
#[derive(Debug, Clone)]
pub struct Shaping {
    shaper: Shaper,
    schema: Option<Arc<Schema>>,
}

impl Default for Shaping {
    fn default() -> Self {
        Shaping {
            shaper: Shaper::identity(),
            schema: None,
        }
    }
}

impl Shaping {
    /// Resolve `spec` for `view`: the identity needs nothing; labels and projections read
    /// the app's schema (cached; fetched again if a named field key is unknown to it).
    pub async fn resolve(
        spec: &ShapeSpec,
        view: &ViewRef,
        session: &Session,
        progress: &Progress,
    ) -> Result<Shaping> {
        if !spec.needs_schema() {
            return Ok(Shaping::default());
        }
        let keys: Vec<&str> = spec
            .fields
            .iter()
            .flatten()
            .map(String::as_str)
            .filter(|k| validate::is_field_key_str(k))
            .collect();
        let schema =
            metadata::schema_knowing(session.app(), session.policy(), progress, &keys).await?;
        let shaper = Shaper::resolve(spec, &schema, &view.scene, &view.view)
            .map_err(|e| e.with_outcome(Outcome::NotSent))?;
        Ok(Shaping {
            shaper,
            schema: Some(schema),
        })
    }

    pub fn is_labels(&self) -> bool {
        self.shaper.shape() == Shape::Labels
    }

    pub fn shaper(&self) -> &Shaper {
        &self.shaper
    }

    pub fn schema(&self) -> Option<&Schema> {
        self.schema.as_deref()
    }

    /// A page for JS: `{"records":[...],"totalRecords",...}` (+ `"dates"`, `"ranges"` for labels).
    pub fn page_json(&self, page: &response::ListPage<'_>) -> Result<String> {
        if self.shaper.is_identity() {
            return Ok(page.to_js_json());
        }
        let mut out = String::with_capacity(page.records.len() * 256 + 128);
        out.push_str("{\"records\":");
        let mut found = Found::default();
        self.shaper.push_records(
            page.records.iter().map(|r| r.json),
            self.schema(),
            &mut out,
            &mut found,
        )?;
        out.push_str(&format!(
            ",\"totalRecords\":{},\"totalPages\":{},\"currentPage\":{}",
            page.total_records, page.total_pages, page.current_page
        ));
        if self.is_labels() {
            found.push_json(&mut out);
        }
        out.push('}');
        Ok(out)
    }

    /// Records of a pager's chunk: `[...]`, or for labels `{"records":[...],"dates",...}`.
    pub fn chunk_json<'a>(
        &self,
        records: impl IntoIterator<Item = &'a RawValue>,
        size_hint: usize,
    ) -> Result<String> {
        let mut out = String::with_capacity(size_hint + 64);
        let mut found = Found::default();
        if self.is_labels() {
            out.push_str("{\"records\":");
        }
        self.shaper
            .push_records(records, self.schema(), &mut out, &mut found)?;
        if self.is_labels() {
            found.push_json(&mut out);
            out.push('}');
        }
        Ok(out)
    }

    /// One record: as given, projected, or for labels `{"record":{...},"dates",...}`.
    pub fn record_json(&self, record: &str) -> Result<String> {
        if self.shaper.is_identity() {
            return Ok(record.to_owned());
        }
        let raw: &RawValue = serde_json::from_str(record)
            .map_err(|_| Error::bad_response("Knack's answer is not a record object"))?;
        let mut out = String::with_capacity(record.len() + 64);
        let mut found = Found::default();
        if self.is_labels() {
            out.push_str("{\"record\":");
        }
        self.shaper
            .push_record(raw, self.schema(), &mut out, &mut found)?;
        if self.is_labels() {
            found.push_json(&mut out);
            out.push('}');
        }
        Ok(out)
    }
}

impl ListQuery {
    pub const PAGE: Bound = Bound::new("page", 1, 1_000_000_000);
    pub const ROWS_PER_PAGE: Bound = Bound::new("rowsPerPage", 1, MAX_ROWS_PER_PAGE as u64);

    pub fn prepare(&self) -> Result<PreparedQuery> {
        self.view.check()?;
        if let Some(p) = self.page {
            Self::PAGE.check(f64::from(p))?;
        }
        let mut params = Vec::new();
        if let Some(r) = self.rows_per_page {
            Self::ROWS_PER_PAGE.check(f64::from(r))?;
            params.push(format!("rows_per_page={r}"));
        }
        if let Some(f) = &self.filters {
            let json = filters::to_json(f)?;
            params.push(format!("filters={}", filters::encode_component(json)));
        }
        if let Some(f) = &self.sort_field {
            validate::field_key("sortField", f)?;
            params.push(format!("sort_field={f}"));
        }
        match self.sort_order.as_deref() {
            None => {}
            Some(o @ ("asc" | "desc")) => {
                if self.sort_field.is_none() {
                    return Err(Error::invalid("sortOrder needs sortField"));
                }
                params.push(format!("sort_order={o}"));
            }
            Some(_) => return Err(Error::invalid("sortOrder must be \"asc\" or \"desc\"")),
        }
        self.shape.check()?;
        if self.shape.shape == Shape::Labels {
            if self.format.is_some() {
                return Err(Error::invalid(
                    "format cannot be combined with shape: 'labels' (labels are built from raw values)",
                ));
            }
            params.push("format=raw".to_owned());
        }
        match self.format.as_deref() {
            None => {}
            Some(f @ ("raw" | "html" | "both")) => params.push(format!("format={f}")),
            Some(_) => {
                return Err(Error::invalid(
                    "format must be \"raw\", \"html\" or \"both\"",
                ))
            }
        }
        let parent = match self.view.parent_param() {
            ParentParam::Ready(p) => {
                params.push(p);
                ParentParam::None
            }
            other => other,
        };
        Ok(PreparedQuery {
            path: self.view.records_path(),
            params,
            parent,
            view: self.view.clone(),
            spec: self.shape.clone(),
            shaping: Shaping::default(),
        })
    }
}

impl PreparedQuery {
    /// Resolve the parent scene's slug (from cached metadata) into a `{slug}_id` parameter,
    /// and the records' shape against the app's schema.
    pub async fn resolve(&mut self, session: &Session, progress: &Progress) -> Result<()> {
        let parent = std::mem::replace(&mut self.parent, ParentParam::None);
        if let Some(p) = resolve_parent(parent, session, progress).await? {
            self.params.push(p);
        }
        self.shaping = Shaping::resolve(&self.spec, &self.view, session, progress).await?;
        Ok(())
    }

    pub fn query_for_page(&self, page: Option<u32>) -> String {
        let mut q = self.params.join("&");
        if let Some(p) = page {
            if !q.is_empty() {
                q.push('&');
            }
            q.push_str(&format!("page={p}"));
        }
        q
    }
}

fn push_param(query: &mut String, p: &str) {
    if !query.is_empty() {
        query.push('&');
    }
    query.push_str(p);
}

/// `{slug}_id=<id>`, looking the slug up in the app's cached metadata when needed.
async fn resolve_parent(
    parent: ParentParam,
    session: &Session,
    progress: &Progress,
) -> Result<Option<String>> {
    match parent {
        ParentParam::None => Ok(None),
        ParentParam::Ready(p) => Ok(Some(p)),
        ParentParam::Lookup { scene, id } => {
            let slug =
                crate::metadata::scene_slug(session.app(), &scene, session.policy(), progress)
                    .await?;
            validate::scene(&slug)?;
            Ok(Some(format!("{slug}_id={id}")))
        }
    }
}

/// The body of a write: the caller's JSON text, checked on borrowed data to be one object,
/// and sent as written (nothing in it, numbers above all, is re-encoded on the way).
fn data_body(data: &str) -> Result<Bytes> {
    let raw: &RawValue = serde_json::from_str(data.trim())
        .map_err(|e| Error::invalid(format!("data is not valid JSON: {e}")))?;
    if !raw.get().starts_with('{') {
        return Err(Error::invalid(
            "data must be an object of field values, e.g. {\"field_1\": \"x\"}",
        ));
    }
    Ok(Bytes::copy_from_slice(raw.get().as_bytes()))
}

impl Session {
    /// One page of records, as `{"records","totalRecords","totalPages","currentPage"}` JSON.
    pub async fn get_records(&self, query: &ListQuery, opts: &CallOptions) -> Result<String> {
        let mut prepared = query.prepare()?;
        self.run(opts, |progress| async move {
            prepared.resolve(self, &progress).await?;
            let mut call = Call::new(Method::GET, prepared.path.clone());
            call.query = prepared.query_for_page(query.page);
            let reply = self.send(call, &progress).await?;
            let page = response::list_page(&reply.body).map_err(|e| reply.unusable(e))?;
            prepared
                .shaping
                .page_json(&page)
                .map_err(|e| reply.unusable(e))
        })
        .await
    }

    /// One record by id, as JSON text.
    pub async fn get_record(&self, view: &ViewRef, id: &str, opts: &CallOptions) -> Result<String> {
        self.get_record_shaped(view, id, &ShapeSpec::default(), opts)
            .await
    }

    /// One record by id, as JSON text reshaped by `spec` (see [`Shaping::record_json`]).
    pub async fn get_record_shaped(
        &self,
        view: &ViewRef,
        id: &str,
        spec: &ShapeSpec,
        opts: &CallOptions,
    ) -> Result<String> {
        view.check()?;
        validate::record_id("id", id)?;
        spec.check()?;
        self.run(opts, |progress| async move {
            let shaping = Shaping::resolve(spec, view, self, &progress).await?;
            let mut call = Call::new(Method::GET, view.record_path(id));
            call.query = view.record_query(self, &progress).await?;
            if shaping.is_labels() {
                push_param(&mut call.query, "format=raw");
            }
            let reply = self.send(call, &progress).await?;
            let (got, json) =
                response::single_record(&reply.body).map_err(|e| reply.unusable(e))?;
            if !got.eq_ignore_ascii_case(id) {
                return Err(reply.unusable(Error::bad_response(
                    "Knack answered with another record than the one asked for",
                )));
            }
            shaping.record_json(&json).map_err(|e| reply.unusable(e))
        })
        .await
    }

    /// The body of a write in `shape`: the caller's JSON text (fields), or labels turned
    /// into field keys and Knack's inputs; with the shaping of the answer.
    async fn write_body(
        &self,
        view: &ViewRef,
        data: &str,
        shape: Shape,
        progress: &Progress,
    ) -> Result<(Bytes, Shaping)> {
        if shape == Shape::Fields {
            return Ok((data_body(data)?, Shaping::default()));
        }
        let spec = ShapeSpec {
            shape,
            fields: None,
        };
        let schema = metadata::schema(self.app(), self.policy(), progress, None).await?;
        let shaper = Shaper::resolve(&spec, &schema, &view.scene, &view.view)
            .and_then(|shaper| {
                let text = crate::input::labels_to_fields(
                    data,
                    &shaper,
                    &schema,
                    &view.scene,
                    &view.view,
                )?;
                Ok((shaper, text))
            })
            .map_err(|e| e.with_outcome(Outcome::NotSent));
        let (shaper, text) = shaper?;
        Ok((
            Bytes::from(text),
            Shaping {
                shaper,
                schema: Some(schema),
            },
        ))
    }

    /// Create a record through a form view. Never retried unless Knack certainly did not
    /// process it. Returns the record as JSON text.
    pub async fn create_record(
        &self,
        view: &ViewRef,
        data: &str,
        opts: &CallOptions,
    ) -> Result<String> {
        self.create_record_shaped(view, data, Shape::Fields, opts)
            .await
    }

    /// `create_record` with `data` and the answer in `shape`.
    pub async fn create_record_shaped(
        &self,
        view: &ViewRef,
        data: &str,
        shape: Shape,
        opts: &CallOptions,
    ) -> Result<String> {
        view.check()?;
        if shape == Shape::Fields {
            data_body(data)?;
        }
        self.run(opts, |progress| async move {
            let (body, shaping) = self.write_body(view, data, shape, &progress).await?;
            let mut call = Call::new(Method::POST, view.records_path());
            call.query = view.record_query(self, &progress).await?;
            call.body = Some(body);
            let reply = self.send(call, &progress).await?;
            let (_, json) = response::single_record(&reply.body).map_err(|e| reply.unusable(e))?;
            shaping.record_json(&json).map_err(|e| reply.unusable(e))
        })
        .await
        .map_err(Error::for_write)
    }

    /// Update a record through a form view or an inline-editing table.
    pub async fn update_record(
        &self,
        view: &ViewRef,
        id: &str,
        data: &str,
        opts: &CallOptions,
    ) -> Result<String> {
        self.update_record_shaped(view, id, data, Shape::Fields, opts)
            .await
    }

    /// `update_record` with `data` and the answer in `shape`.
    pub async fn update_record_shaped(
        &self,
        view: &ViewRef,
        id: &str,
        data: &str,
        shape: Shape,
        opts: &CallOptions,
    ) -> Result<String> {
        view.check()?;
        validate::record_id("id", id)?;
        if shape == Shape::Fields {
            data_body(data)?;
        }
        self.run(opts, |progress| async move {
            let (body, shaping) = self.write_body(view, data, shape, &progress).await?;
            let mut call = Call::new(Method::PUT, view.record_path(id));
            call.query = view.record_query(self, &progress).await?;
            call.body = Some(body);
            let reply = self.send(call, &progress).await?;
            let (got, json) =
                response::single_record(&reply.body).map_err(|e| reply.unusable(e))?;
            if !got.eq_ignore_ascii_case(id) {
                return Err(reply.unusable(Error::bad_response(
                    "Knack answered with another record than the one updated",
                )));
            }
            shaping.record_json(&json).map_err(|e| reply.unusable(e))
        })
        .await
        .map_err(Error::for_write)
    }

    /// Delete a record through a view with a delete link.
    pub async fn delete_record(&self, view: &ViewRef, id: &str, opts: &CallOptions) -> Result<()> {
        view.check()?;
        validate::record_id("id", id)?;
        self.run(opts, |progress| async move {
            let mut call = Call::new(Method::DELETE, view.record_path(id));
            call.query = view.record_query(self, &progress).await?;
            match self.send(call, &progress).await {
                Ok(reply) => response::deleted(&reply.body).map_err(|e| reply.unusable(e)),
                // A retry found the record gone after an attempt whose answer was lost: that
                // attempt deleted it.
                Err(e) if e.code == ErrorCode::NotFound && e.outcome() == Outcome::Unknown => {
                    Ok(())
                }
                Err(e) => Err(e),
            }
        })
        .await
        .map_err(Error::for_write)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn q() -> ListQuery {
        ListQuery {
            view: ViewRef {
                scene: "scene_1".into(),
                view: "view_1".into(),
                parent_record_id: None,
            },
            ..Default::default()
        }
    }

    #[test]
    fn sends_only_what_was_asked() {
        let p = q().prepare().unwrap();
        assert_eq!(p.path, "/pages/scene_1/views/view_1/records");
        assert_eq!(p.query_for_page(None), "");
        assert_eq!(p.query_for_page(Some(2)), "page=2");
    }

    #[test]
    fn write_data_is_sent_as_the_caller_wrote_it() {
        // Numbers a float parser could round, escapes, key order: all pass untouched.
        let text = r#"{"field_2":1.8446744077438206e+20,"field_1":"\u00e9 \"x\"","field_3":9007199254740993}"#;
        assert_eq!(&data_body(text).unwrap()[..], text.as_bytes());
        assert_eq!(
            &data_body(&format!(" {text}\n")).unwrap()[..],
            text.as_bytes()
        );
        for bad in ["[1]", "\"x\"", "{\"a\":", "", "{} {}"] {
            assert_eq!(
                data_body(bad).unwrap_err().code(),
                "KNACK_INVALID_ARGUMENT",
                "{bad}"
            );
        }
    }

    #[test]
    fn encodes_every_parameter() {
        let mut query = q();
        query.rows_per_page = Some(1000);
        query.sort_field = Some("field_2".into());
        query.sort_order = Some("desc".into());
        query.format = Some("raw".into());
        query.filters = Some(
            json!([{"field":"field_1","operator":"is","value":"a&b #c+d %e \"f\" é"}]).to_string(),
        );
        let p = query.prepare().unwrap();
        let s = p.query_for_page(Some(3));
        assert!(
            s.starts_with("rows_per_page=1000&filters=%5B%7B%22field%22"),
            "{s}"
        );
        assert!(
            s.contains("a%26b%20%23c%2Bd%20%25e%20%5C%22f%5C%22%20%C3%A9"),
            "{s}"
        );
        assert!(
            s.ends_with("&sort_field=field_2&sort_order=desc&format=raw&page=3"),
            "{s}"
        );
    }

    #[test]
    fn parent_record_uses_the_slug() {
        let mut query = q();
        query.view.scene = "ticket".into();
        query.view.parent_record_id = Some("000000000000000000000a11".into());
        let p = query.prepare().unwrap();
        assert_eq!(p.query_for_page(None), "ticket_id=000000000000000000000a11");
        let mut query = q();
        query.view.parent_record_id = Some("000000000000000000000a11".into());
        let p = query.prepare().unwrap();
        assert_eq!(
            p.parent,
            ParentParam::Lookup {
                scene: "scene_1".into(),
                id: "000000000000000000000a11".into()
            }
        );
    }

    #[test]
    fn bad_queries_are_refused_before_sending() {
        type Change = Box<dyn Fn(&mut ListQuery)>;
        let cases: Vec<Change> = vec![
            Box::new(|q| q.view.scene = "../admin".into()),
            Box::new(|q| q.view.view = "view_1/../../x".into()),
            Box::new(|q| q.page = Some(0)),
            Box::new(|q| q.rows_per_page = Some(1001)),
            Box::new(|q| q.sort_field = Some("name".into())),
            Box::new(|q| q.sort_order = Some("up".into())),
            Box::new(|q| q.format = Some("xml".into())),
            Box::new(|q| q.view.parent_record_id = Some("x".into())),
            Box::new(|q| q.filters = Some(json!("x").to_string())),
            Box::new(|q| q.filters = Some("[{\"field\": ".into())),
        ];
        for f in cases {
            let mut query = q();
            f(&mut query);
            assert_eq!(
                query.prepare().unwrap_err().code(),
                "KNACK_INVALID_ARGUMENT",
                "{query:?}"
            );
        }
    }
}

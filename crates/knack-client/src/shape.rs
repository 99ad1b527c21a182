//! What reads hand to JS: records as Knack wrote them, or reshaped in Rust before the text
//! reaches V8: `fields` (a projection: only `id` and the named fields) and `shape: 'labels'`
//! (`{ id, [label]: value }` with values converted from `field_N_raw`, see `Conv`). Dates
//! cross as epoch milliseconds; the keys that hold them are reported (`Found`) so that JS
//! turns exactly those into `Date`s.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::schema::{Field, Schema, View};
use crate::timezone::AppZone;

/// The keys records come back with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Shape {
    /// Knack's own keys (`field_N`, `field_N_raw`).
    #[default]
    Fields,
    /// Field labels, with converted values.
    Labels,
}

impl Shape {
    pub fn parse(s: Option<&str>) -> Result<Shape> {
        match s {
            None | Some("fields") => Ok(Shape::Fields),
            Some("labels") => Ok(Shape::Labels),
            Some(other) => Err(Error::invalid(format!(
                "shape must be 'fields' or 'labels', got {other:?}"
            ))),
        }
    }
}

/// What the caller asked for: the shape and the projection (field keys or labels).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ShapeSpec {
    pub shape: Shape,
    pub fields: Option<Vec<String>>,
}

impl ShapeSpec {
    /// At most this many entries in `fields`.
    pub const MAX_FIELDS: usize = 1000;

    pub fn check(&self) -> Result<()> {
        if let Some(f) = &self.fields {
            if f.len() > Self::MAX_FIELDS {
                return Err(Error::invalid(format!(
                    "fields has {} entries; at most {} are allowed",
                    f.len(),
                    Self::MAX_FIELDS
                )));
            }
            for (i, name) in f.iter().enumerate() {
                if name.trim().is_empty() || name.len() > 1000 {
                    return Err(Error::invalid(format!(
                        "fields[{i}] must be a field key (field_12) or a field label"
                    )));
                }
            }
        }
        Ok(())
    }

    /// Whether the records need the app's schema (labels, or a projection).
    pub fn needs_schema(&self) -> bool {
        self.shape == Shape::Labels || self.fields.is_some()
    }
}

/// How a raw value becomes a JS value in `shape: 'labels'`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conv {
    Number,
    Bool,
    Date,
    DateRange,
    Time,
    Connection,
    Email,
    Link,
    /// file / image: the asset object (or an image-from-URL string); empty is null.
    Asset,
    /// multiple choice: as given, `null` entries of an array dropped.
    Choice,
    /// user roles: as given, empty is `[]`.
    List,
    Raw,
}

impl Conv {
    /// The conversion for a field's type and format (the table in README "Records by label").
    pub fn of(f: &Field) -> Conv {
        match f.kind.as_str() {
            "number" | "currency" | "rating" | "auto_increment" | "sum" | "average" | "count" => {
                Conv::Number
            }
            "equation" if f.format_str("equation_type") != Some("date") => Conv::Number,
            "boolean" => Conv::Bool,
            "date_time" if f.format_str("date_format") == Some("Ignore Date") => Conv::Time,
            "date_time" if f.format_bool("calendar") => Conv::DateRange,
            "date_time" => Conv::Date,
            "connection" => Conv::Connection,
            "user_roles" => Conv::List,
            "email" => Conv::Email,
            "link" => Conv::Link,
            "file" | "image" => Conv::Asset,
            "multiple_choice" => Conv::Choice,
            _ => Conv::Raw,
        }
    }

    /// What an absent or empty value is.
    fn empty(self) -> &'static str {
        match self {
            Conv::Connection | Conv::List => "[]",
            _ => "null",
        }
    }
}

#[derive(Debug, Clone)]
struct Plan {
    /// The label key, as JSON text (quoted, escaped).
    key_json: String,
    label_key: String,
    conv: Conv,
}

/// The keys of one batch of records that hold dates (epoch ms) and date ranges
/// (`{from, to}` of epoch ms), for JS to revive.
#[derive(Debug, Default, Clone)]
pub struct Found {
    pub dates: BTreeSet<String>,
    pub ranges: BTreeSet<String>,
}

impl Found {
    /// `,"dates":[...],"ranges":[...]` to close an envelope with.
    pub fn push_json(&self, out: &mut String) {
        fn list(out: &mut String, name: &str, keys: &BTreeSet<String>) {
            out.push_str(",\"");
            out.push_str(name);
            out.push_str("\":[");
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_json_str(out, k);
            }
            out.push(']');
        }
        list(out, "dates", &self.dates);
        list(out, "ranges", &self.ranges);
    }
}

/// A resolved shape for the records of one view.
#[derive(Debug, Clone)]
pub struct Shaper {
    shape: Shape,
    /// Projection: the field keys to keep (`None`: all).
    keep: Option<HashSet<String>>,
    /// Labels: field key -> plan (the view's fields, then every other field of the app).
    plans: HashMap<String, Plan>,
    /// Label keys the view's own fields hold (an extra field must not take one).
    view_keys: HashSet<String>,
    /// The view's fields in view order (labels records list each, `null` when empty).
    order: Vec<String>,
    zone: AppZone,
}

pub fn push_json_str(out: &mut String, s: &str) {
    // serde_json's escaping, into `out` (a String never fails to take UTF-8).
    let quoted = serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into());
    out.push_str(&quoted);
}

impl Shaper {
    /// Records as Knack wrote them.
    pub fn identity() -> Shaper {
        Shaper {
            shape: Shape::Fields,
            keep: None,
            plans: HashMap::new(),
            view_keys: HashSet::new(),
            order: Vec::new(),
            zone: AppZone::utc(),
        }
    }

    pub fn is_identity(&self) -> bool {
        self.shape == Shape::Fields && self.keep.is_none()
    }

    pub fn shape(&self) -> Shape {
        self.shape
    }

    /// Resolve `spec` for `scene/view` against the app's schema. A `fields` entry that is
    /// neither a field key nor a label of the view (or of the app) is KNACK_INVALID_ARGUMENT.
    pub fn resolve(spec: &ShapeSpec, schema: &Schema, scene: &str, view: &str) -> Result<Shaper> {
        let v = schema.view(scene, view);
        let mut plans = HashMap::new();
        let mut view_keys = HashSet::new();
        let mut order = Vec::new();
        if let Some(v) = v {
            for (key, label) in &v.labels {
                if let Some(f) = schema.field(key) {
                    view_keys.insert(label.clone());
                    plans.insert(key.clone(), plan(f, label.clone()));
                    order.push(key.clone());
                }
            }
        }
        let keep = match &spec.fields {
            None => None,
            Some(names) => {
                let mut keep = HashSet::new();
                for name in names {
                    keep.insert(resolve_name(name, schema, v, &plans, scene, view)?);
                }
                Some(keep)
            }
        };
        Ok(Shaper {
            shape: spec.shape,
            keep,
            plans,
            view_keys,
            order,
            zone: schema.zone.clone(),
        })
    }

    /// The plan of a field the view's metadata did not list: its label, or
    /// `"<label> (field_N)"` when a field of the view or an earlier extra holds the label.
    fn extra_plan(&self, f: &Field, used: &HashSet<String>) -> Plan {
        let label =
            if f.label == "id" || self.view_keys.contains(&f.label) || used.contains(&f.label) {
                format!("{} ({})", f.label, f.key)
            } else {
                f.label.clone()
            };
        plan(f, label)
    }

    /// Append the records, reshaped, as a JSON array; `found` collects the date keys.
    pub fn push_records<'a>(
        &self,
        records: impl IntoIterator<Item = &'a RawValue>,
        schema: Option<&Schema>,
        out: &mut String,
        found: &mut Found,
    ) -> Result<()> {
        out.push('[');
        for (i, r) in records.into_iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            self.push_record(r, schema, out, found)?;
        }
        out.push(']');
        Ok(())
    }

    /// Append one record, reshaped.
    pub fn push_record(
        &self,
        record: &RawValue,
        schema: Option<&Schema>,
        out: &mut String,
        found: &mut Found,
    ) -> Result<()> {
        if self.is_identity() {
            out.push_str(record.get());
            return Ok(());
        }
        let entries = entries(record)?;
        let kept = |base: &str| self.keep.as_ref().is_none_or(|k| k.contains(base));
        out.push('{');
        // A comma before every entry but the first (no JSON value ends in '{').
        let sep = |out: &mut String| {
            if !out.ends_with('{') {
                out.push(',');
            }
        };
        if let Some((_, id)) = entries.iter().find(|(k, _)| k == "id") {
            sep(out);
            out.push_str("\"id\":");
            out.push_str(id.get());
        }
        match self.shape {
            Shape::Fields => {
                for (k, v) in &entries {
                    if k == "id" {
                        continue;
                    }
                    let base = k.strip_suffix("_raw").unwrap_or(k);
                    if kept(base) {
                        sep(out);
                        push_json_str(out, k);
                        out.push(':');
                        out.push_str(v.get());
                    }
                }
            }
            Shape::Labels => {
                let lookup: HashMap<&str, &RawValue> =
                    entries.iter().map(|(k, v)| (k.as_ref(), *v)).collect();
                // The raw value of a field; with format=raw Knack may also put raw values
                // under the plain key.
                let raw_of = |base: &str| -> Option<&RawValue> {
                    let raw_key = format!("{base}_raw");
                    lookup
                        .get(raw_key.as_str())
                        .or_else(|| lookup.get(base))
                        .copied()
                };
                let mut emit = |out: &mut String, p: &Plan, raw: Option<&RawValue>| {
                    sep(out);
                    out.push_str(&p.key_json);
                    out.push(':');
                    convert(p.conv, raw, &self.zone, out);
                    let set = match p.conv {
                        Conv::Date => &mut found.dates,
                        Conv::DateRange => &mut found.ranges,
                        _ => return,
                    };
                    if !set.contains(&p.label_key) {
                        set.insert(p.label_key.clone());
                    }
                };
                // The view's fields, in view order, each present (empty ones null).
                for key in &self.order {
                    if kept(key) {
                        emit(out, &self.plans[key], raw_of(key));
                    }
                }
                // Then what else the record holds.
                let mut done: HashSet<&str> = HashSet::new();
                let mut used: HashSet<String> = HashSet::new();
                for (k, v) in &entries {
                    if k == "id" {
                        continue;
                    }
                    let base = k.strip_suffix("_raw").unwrap_or(k);
                    if !crate::validate::is_field_key_str(base) {
                        // Not a field (Knack adds few such keys): kept as it came.
                        if self.keep.is_none() {
                            sep(out);
                            push_json_str(out, k);
                            out.push(':');
                            out.push_str(v.get());
                        }
                        continue;
                    }
                    if self.plans.contains_key(base) || !kept(base) || !done.insert(base) {
                        continue;
                    }
                    let raw = raw_of(base);
                    match schema.and_then(|s| s.field(base)) {
                        Some(f) => {
                            let p = self.extra_plan(f, &used);
                            used.insert(p.label_key.clone());
                            emit(out, &p, raw);
                        }
                        None => {
                            // Unknown to the schema: its key and raw value, unchanged.
                            sep(out);
                            push_json_str(out, base);
                            out.push(':');
                            out.push_str(raw.map_or("null", |r| r.get()));
                        }
                    }
                }
            }
        }
        out.push('}');
        Ok(())
    }

    /// The field key a labels-shape write key names: a label of the view, of another field
    /// of the view's object, or a field key; else KNACK_INVALID_ARGUMENT naming it.
    pub fn field_for_write<'s>(
        &self,
        name: &str,
        schema: &'s Schema,
        scene: &str,
        view: &str,
    ) -> Result<&'s Field> {
        let v = schema.view(scene, view);
        let key = resolve_name(name, schema, v, &self.plans, scene, view)
            .map_err(|e| Error::invalid(format!("data: {}", e.message)))?;
        schema
            .field(&key)
            .ok_or_else(|| Error::invalid(format!("data: {key} is not a field of this app")))
    }
}

fn plan(f: &Field, label_key: String) -> Plan {
    let mut key_json = String::new();
    push_json_str(&mut key_json, &label_key);
    Plan {
        key_json,
        label_key,
        conv: Conv::of(f),
    }
}

/// A `fields` entry (or a write key) -> a field key: a field key the app has, a label key of
/// the view, or a label of a field of the view's source object.
fn resolve_name(
    name: &str,
    schema: &Schema,
    v: Option<&View>,
    plans: &HashMap<String, Plan>,
    scene: &str,
    view: &str,
) -> Result<String> {
    if crate::validate::is_field_key_str(name) {
        if schema.field(name).is_some() {
            return Ok(name.to_owned());
        }
        return Err(Error::invalid(format!(
            "{name} is not a field of this application"
        )));
    }
    if let Some((k, _)) = plans.iter().find(|(_, p)| p.label_key == name) {
        return Ok(k.clone());
    }
    let object = v.and_then(|v| v.object.as_deref());
    let in_object: Vec<&Field> = schema
        .objects
        .iter()
        .filter(|o| Some(o.key.as_str()) == object)
        .flat_map(|o| o.fields.iter())
        .filter(|f| f.label == name)
        .collect();
    if in_object.len() == 1 {
        return Ok(in_object[0].key.clone());
    }
    let mut candidates: Vec<&str> = plans.values().map(|p| p.label_key.as_str()).collect();
    candidates.sort_unstable();
    let hint = closest(name, &candidates)
        .map(|c| format!(" (did you mean {c:?}?)"))
        .unwrap_or_default();
    let what = if in_object.len() > 1 {
        format!("{name:?} is the label of more than one field of {scene}/{view}; use a field key")
    } else {
        format!("{name:?} is not a field label of {scene}/{view}{hint}")
    };
    Err(Error::invalid(what))
}

/// The candidate nearest to `name` by edit distance, if it is near enough to be a typo.
pub fn closest<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let lower = name.to_lowercase();
    candidates
        .iter()
        .map(|c| (edit_distance(&lower, &c.to_lowercase()), *c))
        .filter(|(d, c)| *d <= 2.max(c.chars().count() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// A record's entries in order, borrowed.
fn entries(record: &RawValue) -> Result<Vec<(Cow<'_, str>, &RawValue)>> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Vec<(Cow<'de, str>, &'de RawValue)>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a record object")
        }
        fn visit_map<A: MapAccess<'de>>(
            self,
            mut m: A,
        ) -> std::result::Result<Self::Value, A::Error> {
            let mut out = Vec::with_capacity(m.size_hint().unwrap_or(16));
            while let Some(k) = m.next_key::<Cow<'de, str>>()? {
                let v: &'de RawValue = m.next_value()?;
                out.push((k, v));
            }
            Ok(out)
        }
    }
    let mut de = serde_json::Deserializer::from_str(record.get());
    de.deserialize_map(V)
        .map_err(|_| Error::bad_response("a record in Knack's answer is not an object"))
}

fn number_text(raw: &RawValue, out: &mut String) -> bool {
    let t = raw.get();
    match t.as_bytes().first() {
        Some(b'-' | b'0'..=b'9') => {
            out.push_str(t);
            true
        }
        Some(b'"') => {
            let Ok(s) = serde_json::from_str::<Cow<'_, str>>(t) else {
                return false;
            };
            let cleaned: String = s
                .chars()
                .filter(|c| !matches!(c, ',' | ' ' | '$'))
                .collect();
            if cleaned.is_empty() {
                out.push_str("null");
                return true;
            }
            match cleaned.parse::<f64>() {
                Ok(n) if n.is_finite() => {
                    out.push_str(
                        &serde_json::Number::from_f64(n).map_or("null".into(), |n| n.to_string()),
                    );
                    true
                }
                _ => false,
            }
        }
        _ => false,
    }
}

/// Knack's raw date object -> its wall-clock ms (local time written as UTC).
fn wall_ms(v: &Value) -> Option<i64> {
    if let Some(ts) = v.get("unix_timestamp").and_then(Value::as_f64) {
        return Some(ts as i64);
    }
    let date = v.get("date").and_then(Value::as_str)?;
    let mut parts = date.split('/');
    let (m, d, y): (i8, i8, i16) = (
        parts.next()?.trim().parse().ok()?,
        parts.next()?.trim().parse().ok()?,
        parts.next()?.trim().parse().ok()?,
    );
    let num = |k: &str| -> Option<i64> {
        match v.get(k)? {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    };
    let mut h = num("hours").unwrap_or(0);
    let mi = num("minutes").unwrap_or(0);
    if let Some(ap) = v.get("am_pm").and_then(Value::as_str) {
        h = h % 12 + if ap.eq_ignore_ascii_case("pm") { 12 } else { 0 };
    }
    let dt =
        jiff::civil::DateTime::new(y, m, d, i8::try_from(h).ok()?, i8::try_from(mi).ok()?, 0, 0)
            .ok()?;
    let ts = jiff::tz::TimeZone::UTC.to_timestamp(dt).ok()?;
    Some(ts.as_millisecond())
}

fn push_instant(v: &Value, zone: &AppZone, out: &mut String) -> bool {
    match wall_ms(v).and_then(|w| zone.to_instant(w)) {
        Some(ms) => {
            out.push_str(&ms.to_string());
            true
        }
        None => false,
    }
}

fn is_empty(raw: Option<&RawValue>) -> bool {
    match raw {
        None => true,
        Some(r) => matches!(r.get(), "null" | "\"\""),
    }
}

/// Append the JS value of `raw` under `conv` (see the table in README "Records by label").
/// A value that does not have the expected shape is passed on as Knack sent it (dates
/// excepted: an unreadable date is `null`, so that every value under a date key is a date).
fn convert(conv: Conv, raw: Option<&RawValue>, zone: &AppZone, out: &mut String) {
    if is_empty(raw) {
        out.push_str(conv.empty());
        return;
    }
    let Some(raw) = raw else {
        return;
    };
    let text = raw.get();
    let parsed = || serde_json::from_str::<Value>(text).ok();
    match conv {
        Conv::Raw | Conv::Asset | Conv::List => out.push_str(text),
        Conv::Number => {
            if !number_text(raw, out) {
                out.push_str(text);
            }
        }
        Conv::Bool => match text {
            "true" | "false" => out.push_str(text),
            "\"Yes\"" | "\"yes\"" | "\"true\"" => out.push_str("true"),
            "\"No\"" | "\"no\"" | "\"false\"" => out.push_str("false"),
            _ => out.push_str(text),
        },
        Conv::Date => match parsed() {
            Some(v) if push_instant(&v, zone, out) => {}
            _ => out.push_str("null"),
        },
        Conv::DateRange => match parsed() {
            Some(v) => {
                let mut from = String::new();
                if !push_instant(&v, zone, &mut from) {
                    out.push_str("null");
                    return;
                }
                out.push_str("{\"from\":");
                out.push_str(&from);
                out.push_str(",\"to\":");
                match v.get("to") {
                    Some(to) if push_instant(to, zone, out) => {}
                    _ => out.push_str("null"),
                }
                out.push('}');
            }
            None => out.push_str("null"),
        },
        Conv::Time => match parsed().and_then(|v| wall_ms(&v)) {
            Some(w) => {
                let mins = w.rem_euclid(86_400_000) / 60_000;
                out.push_str(&format!("\"{:02}:{:02}\"", mins / 60, mins % 60));
            }
            None => out.push_str("null"),
        },
        Conv::Connection => match parsed() {
            Some(Value::Array(items)) => {
                out.push('[');
                let mut n = 0;
                for it in items {
                    let id = it.get("id").and_then(Value::as_str).or_else(|| it.as_str());
                    let Some(id) = id else {
                        continue;
                    };
                    if n > 0 {
                        out.push(',');
                    }
                    n += 1;
                    out.push_str("{\"id\":");
                    push_json_str(out, id);
                    out.push_str(",\"identifier\":");
                    match it.get("identifier") {
                        Some(Value::String(s)) => push_json_str(out, s),
                        Some(Value::Null) | None => out.push_str("\"\""),
                        Some(other) => push_json_str(out, &other.to_string()),
                    }
                    out.push('}');
                }
                out.push(']');
            }
            _ => out.push_str("[]"),
        },
        Conv::Email | Conv::Link => {
            let key = if conv == Conv::Email { "email" } else { "url" };
            match parsed() {
                Some(Value::Object(m)) => match m.get(key) {
                    Some(Value::String(s)) if !s.is_empty() => push_json_str(out, s),
                    _ => out.push_str("null"),
                },
                Some(Value::String(_)) => out.push_str(text),
                _ => out.push_str(text),
            }
        }
        Conv::Choice => match parsed() {
            Some(Value::Array(items)) if items.iter().any(Value::is_null) => {
                let kept: Vec<Value> = items.into_iter().filter(|v| !v.is_null()).collect();
                out.push_str(&Value::Array(kept).to_string());
            }
            _ => out.push_str(text),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Schema {
        let body = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/field-types-metadata.json"
        ))
        .expect("metadata fixture");
        Schema::parse(&body).expect("schema")
    }

    fn raw(s: &str) -> Box<RawValue> {
        RawValue::from_string(s.to_owned()).unwrap()
    }

    fn conv(c: Conv, text: Option<&str>, zone: &AppZone) -> String {
        let r = text.map(raw);
        let mut out = String::new();
        convert(c, r.as_deref(), zone, &mut out);
        out
    }

    #[test]
    fn numbers_booleans_and_text_convert_from_raw() {
        let z = AppZone::utc();
        assert_eq!(conv(Conv::Number, Some("100"), &z), "100");
        assert_eq!(conv(Conv::Number, Some("\"100.43\""), &z), "100.43");
        assert_eq!(conv(Conv::Number, Some("\"1,250.5\""), &z), "1250.5");
        assert_eq!(conv(Conv::Number, Some("\"\""), &z), "null");
        assert_eq!(conv(Conv::Number, Some("\"n/a\""), &z), "\"n/a\"");
        assert_eq!(conv(Conv::Number, None, &z), "null");
        assert_eq!(
            conv(Conv::Number, Some("12345678901234567890"), &z),
            "12345678901234567890"
        );
        assert_eq!(conv(Conv::Bool, Some("true"), &z), "true");
        assert_eq!(conv(Conv::Bool, None, &z), "null");
        assert_eq!(conv(Conv::Raw, Some("\"hello\""), &z), "\"hello\"");
        assert_eq!(
            conv(Conv::Raw, Some(r#"{"first":"A"}"#), &z),
            r#"{"first":"A"}"#
        );
    }

    #[test]
    fn connections_emails_links_assets_and_choices_convert() {
        let z = AppZone::utc();
        assert_eq!(
            conv(
                Conv::Connection,
                Some(r#"[{"id":"5ea46ad2b6ce4b0015000ae8","identifier":"Johnny C"}]"#),
                &z
            ),
            r#"[{"id":"5ea46ad2b6ce4b0015000ae8","identifier":"Johnny C"}]"#
        );
        assert_eq!(
            conv(
                Conv::Connection,
                Some(r#"[{"id":"595e42bcefac9a4f1a2797b3"}]"#),
                &z
            ),
            r#"[{"id":"595e42bcefac9a4f1a2797b3","identifier":""}]"#
        );
        assert_eq!(conv(Conv::Connection, Some("[]"), &z), "[]");
        assert_eq!(conv(Conv::Connection, None, &z), "[]");
        assert_eq!(conv(Conv::List, None, &z), "[]");
        assert_eq!(
            conv(Conv::Email, Some(r#"{"email":"a@b.c","label":""}"#), &z),
            "\"a@b.c\""
        );
        assert_eq!(
            conv(Conv::Link, Some(r#"{"url":"https://x.y/"}"#), &z),
            "\"https://x.y/\""
        );
        assert_eq!(conv(Conv::Asset, Some("null"), &z), "null");
        assert_eq!(
            conv(Conv::Asset, Some("\"google.com\""), &z),
            "\"google.com\""
        );
        assert_eq!(conv(Conv::Choice, Some("[null]"), &z), "[]");
        assert_eq!(conv(Conv::Choice, Some(r#"["A","B"]"#), &z), r#"["A","B"]"#);
        assert_eq!(conv(Conv::Choice, Some("null"), &z), "null");
    }

    #[test]
    fn dates_become_real_instants_in_the_apps_timezone_across_dst() {
        let z = AppZone::new(Some("Central Time (US & Canada)"), None);
        // knackpy's record: 09/11/2019 12:00 am wall (unix_timestamp 1568160000000) is
        // 2019-09-11T05:00:00Z in Central daylight time.
        let d = r#"{"date":"09/11/2019","hours":"12","minutes":"00","am_pm":"AM","unix_timestamp":1568160000000,"iso_timestamp":"2019-09-11T00:00:00.000Z","timestamp":"09/11/2019 12:00 am","time":720}"#;
        assert_eq!(conv(Conv::Date, Some(d), &z), "1568178000000");
        // The same wall time in January (CST, -6): 06:00Z.
        let jan = r#"{"date":"01/11/2019","hours":"12","minutes":"00","am_pm":"AM"}"#;
        assert_eq!(conv(Conv::Date, Some(jan), &z), "1547186400000");
        // 2024-03-10 01:30 CST (-6) and 03:30 CDT (-5) are 07:30Z and 08:30Z.
        let before = r#"{"date":"03/10/2024","hours":1,"minutes":30,"am_pm":"AM"}"#;
        let after = r#"{"date":"03/10/2024","hours":3,"minutes":30,"am_pm":"AM"}"#;
        assert_eq!(conv(Conv::Date, Some(before), &z), "1710055800000");
        assert_eq!(conv(Conv::Date, Some(after), &z), "1710059400000");
        assert_eq!(conv(Conv::Date, Some("\"garbage\""), &z), "null");
        assert_eq!(conv(Conv::Date, None, &z), "null");
        let range = r#"{"unix_timestamp":1568218440000,"to":{"unix_timestamp":1568222040000}}"#;
        assert_eq!(
            conv(Conv::DateRange, Some(range), &z),
            r#"{"from":1568236440000,"to":1568240040000}"#
        );
        let open = r#"{"unix_timestamp":1568218440000}"#;
        assert_eq!(
            conv(Conv::DateRange, Some(open), &z),
            r#"{"from":1568236440000,"to":null}"#
        );
        let time = r#"{"date":"01/01/2012","hours":"04","minutes":"14","am_pm":"PM","unix_timestamp":1325434440000,"time":974}"#;
        assert_eq!(conv(Conv::Time, Some(time), &z), "\"16:14\"");
    }

    #[test]
    fn field_types_map_to_their_conversion() {
        let s = schema();
        let of = |k: &str| Conv::of(s.field(k).unwrap());
        assert_eq!(of("field_10"), Conv::Number);
        assert_eq!(of("field_30"), Conv::Number);
        assert_eq!(of("field_12"), Conv::Date);
        assert_eq!(of("field_14"), Conv::Time);
        assert_eq!(of("field_15"), Conv::DateRange);
        assert_eq!(of("field_128"), Conv::Connection);
        assert_eq!(of("field_17"), Conv::Asset);
        assert_eq!(of("field_7"), Conv::Raw);
        assert_eq!(of("field_129"), Conv::Number);
    }

    #[test]
    fn projection_keeps_id_and_the_named_fields_with_their_twins() {
        let s = schema();
        let scene = &s.scenes[0];
        let view = &scene.views[0];
        let spec = ShapeSpec {
            shape: Shape::Fields,
            fields: Some(vec!["field_7".into(), "Number".into()]),
        };
        let sh = Shaper::resolve(&spec, &s, &scene.key, &view.key).unwrap();
        let rec = raw(
            r#"{"id":"a1","field_7":"x","field_7_raw":"x","field_10":1,"field_10_raw":1,"field_11":2,"field_11_raw":2}"#,
        );
        let mut out = String::new();
        sh.push_record(&rec, Some(&s), &mut out, &mut Found::default())
            .unwrap();
        assert_eq!(
            out,
            r#"{"id":"a1","field_7":"x","field_7_raw":"x","field_10":1,"field_10_raw":1}"#
        );
        let bad = ShapeSpec {
            shape: Shape::Fields,
            fields: Some(vec!["Numbr".into()]),
        };
        let e = Shaper::resolve(&bad, &s, &scene.key, &view.key).unwrap_err();
        assert_eq!(e.code(), "KNACK_INVALID_ARGUMENT");
        assert!(
            e.message.contains("did you mean \"Number\""),
            "{}",
            e.message
        );
    }
}

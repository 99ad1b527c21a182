//! The app's schema, from its metadata (`GET /v1/applications/{app_id}`): objects and their
//! fields (key, label, type, format), scenes and their views (the fields each shows or
//! accepts), the timezone. One parsed `Schema` per app is cached (`metadata.rs`); it serves
//! `schema()`, page slugs for `parentRecordId`, field types for uploads, and the label key of
//! every field of a view (`labels`, the duplicate rule) for `shape: 'labels'`.

use std::collections::HashMap;
use std::time::Instant;

use serde_json::{json, Map, Value};

use crate::error::{Error, Result};
use crate::timezone::AppZone;

/// A field of an object.
#[derive(Debug, Clone)]
pub struct Field {
    pub key: String,
    pub label: String,
    /// Knack's type name (`short_text`, `date_time`, ...).
    pub kind: String,
    pub required: bool,
    pub format: Option<Map<String, Value>>,
    /// Connections: the connected object's key.
    pub relationship: Option<String>,
    /// The key of the object the field belongs to.
    pub object: String,
}

impl Field {
    /// A `format` entry as a string (`date_format`, `equation_type`, ...).
    pub fn format_str(&self, name: &str) -> Option<&str> {
        self.format.as_ref()?.get(name)?.as_str()
    }

    pub fn format_bool(&self, name: &str) -> bool {
        self.format
            .as_ref()
            .and_then(|f| f.get(name))
            .is_some_and(|v| v.as_bool() == Some(true) || v.as_str() == Some("true"))
    }
}

#[derive(Debug, Clone)]
pub struct Object {
    pub key: String,
    pub name: String,
    pub identifier: Option<String>,
    pub fields: Vec<Field>,
}

#[derive(Debug, Clone)]
pub struct View {
    pub key: String,
    pub name: Option<String>,
    pub kind: String,
    pub object: Option<String>,
    /// The field keys the view shows (a form: accepts), in view order, each once.
    pub fields: Vec<String>,
    /// Field key -> its key in `shape: 'labels'` records, for `fields` (see [`label_keys`]).
    pub labels: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct Scene {
    pub key: String,
    pub slug: Option<String>,
    pub name: Option<String>,
    pub parent: Option<String>,
    pub views: Vec<View>,
}

#[derive(Debug, Clone)]
pub struct Schema {
    pub app_id: Option<String>,
    pub name: Option<String>,
    pub slug: Option<String>,
    pub zone: AppZone,
    pub objects: Vec<Object>,
    pub scenes: Vec<Scene>,
    /// Field key -> (object index, field index).
    fields: HashMap<String, (usize, usize)>,
    pub fetched: Instant,
}

/// The label keys of a set of fields: a field's label, except that among fields sharing a
/// label only the one with the lowest field number keeps it and every other one becomes
/// `"<label> (field_N)"`; and `id` is the record's: a field labelled `id` is `"id (field_N)"`.
pub fn label_keys<'a>(fields: impl IntoIterator<Item = &'a Field>) -> Vec<(String, String)> {
    let fields: Vec<&Field> = fields.into_iter().collect();
    let mut owner: HashMap<&str, &Field> = HashMap::new();
    for f in &fields {
        owner
            .entry(f.label.as_str())
            .and_modify(|o| {
                if field_number(&f.key) < field_number(&o.key) {
                    *o = f;
                }
            })
            .or_insert(f);
    }
    let mut keys: Vec<(String, String)> = fields
        .iter()
        .map(|f| {
            let plain =
                f.label != "id" && owner.get(f.label.as_str()).map(|o| &o.key) == Some(&f.key);
            let key = if plain {
                f.label.clone()
            } else {
                format!("{} ({})", f.label, f.key)
            };
            (f.key.clone(), key)
        })
        .collect();
    // A made key may still meet a field literally labelled so ("Email (field_20)"): the
    // field with the higher number gets its key appended again, until every key is unique.
    loop {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        let mut clash = None;
        for (i, (fk, k)) in keys.iter().enumerate() {
            if let Some(&j) = seen.get(k.as_str()) {
                clash = Some(if field_number(fk) > field_number(&keys[j].0) {
                    i
                } else {
                    j
                });
                break;
            }
            seen.insert(k.as_str(), i);
        }
        match clash {
            Some(i) => {
                let (fk, k) = &keys[i];
                keys[i].1 = format!("{k} ({fk})");
            }
            None => return keys,
        }
    }
}

/// `field_12` -> 12 (for ordering; other keys sort last).
fn field_number(key: &str) -> u64 {
    key.strip_prefix("field_")
        .and_then(|n| n.parse().ok())
        .unwrap_or(u64::MAX)
}

fn is_field_key(s: &str) -> bool {
    s.strip_prefix("field_")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

fn str_of(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// The field keys a view shows or accepts, in order: a `fields`/`inputs` array of keys (the
/// test double's and older metadata's shape), else the `field.key` / `key` entries under the
/// view's `columns`, `groups`, `inputs`, `details` and `rows` (Knack's builder shape, e.g.
/// `columns: [{ field: { key: "field_55" } }]`). Sort and filter settings are not read.
fn view_fields(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |k: &str| {
        if is_field_key(k) && !out.iter().any(|o| o == k) {
            out.push(k.to_owned());
        }
    };
    for list in ["fields", "inputs"] {
        if let Some(Value::Array(a)) = v.get(list) {
            for k in a.iter().filter_map(Value::as_str) {
                push(k);
            }
        }
    }
    fn walk(v: &Value, push: &mut dyn FnMut(&str), depth: usize) {
        if depth > 32 {
            return;
        }
        match v {
            Value::Array(a) => a.iter().for_each(|x| walk(x, push, depth + 1)),
            Value::Object(m) => {
                match m.get("field") {
                    Some(Value::Object(f)) => {
                        if let Some(k) = f.get("key").and_then(Value::as_str) {
                            push(k);
                        }
                    }
                    Some(Value::String(k)) => push(k),
                    _ => {}
                }
                if let Some(k) = m.get("key").and_then(Value::as_str) {
                    push(k);
                }
                for (name, child) in m {
                    if matches!(
                        name.as_str(),
                        "field" | "connection" | "object" | "source" | "criteria" | "rules"
                    ) {
                        continue;
                    }
                    if child.is_array() || child.is_object() {
                        walk(child, push, depth + 1);
                    }
                }
            }
            _ => {}
        }
    }
    for list in ["columns", "groups", "inputs", "details", "rows"] {
        if let Some(sub) = v.get(list) {
            walk(sub, &mut push, 0);
        }
    }
    out
}

impl Schema {
    pub fn parse(body: &[u8]) -> Result<Schema> {
        let bad = |why: String| {
            Error::bad_response(format!(
                "Knack's application metadata is not as expected: {why}"
            ))
        };
        let v: Value =
            serde_json::from_str(crate::response::utf8(body)?).map_err(|e| bad(e.to_string()))?;
        let app = v
            .get("application")
            .filter(|a| a.is_object())
            .ok_or_else(|| bad("no \"application\" object".into()))?;
        let list = |name: &str| -> Result<&[Value]> {
            match app.get(name) {
                None | Some(Value::Null) => Ok(&[]),
                Some(Value::Array(a)) => Ok(a.as_slice()),
                Some(_) => Err(bad(format!("\"{name}\" is not an array"))),
            }
        };
        let mut objects = Vec::new();
        for o in list("objects")? {
            let Some(okey) = str_of(o, "key") else {
                continue;
            };
            let mut fields = Vec::new();
            if let Some(Value::Array(fs)) = o.get("fields") {
                for f in fs {
                    let Some(key) = str_of(f, "key").filter(|k| is_field_key(k)) else {
                        continue;
                    };
                    let format = match f.get("format") {
                        Some(Value::Object(m)) => Some(m.clone()),
                        _ => None,
                    };
                    let relationship = f.get("relationship").and_then(|r| str_of(r, "object"));
                    fields.push(Field {
                        label: str_of(f, "name").unwrap_or_else(|| key.clone()),
                        kind: str_of(f, "type").unwrap_or_else(|| "unknown".into()),
                        required: f.get("required").and_then(Value::as_bool) == Some(true),
                        format,
                        relationship,
                        object: okey.clone(),
                        key,
                    });
                }
            }
            objects.push(Object {
                name: str_of(o, "name").unwrap_or_else(|| okey.clone()),
                identifier: str_of(o, "identifier"),
                key: okey,
                fields,
            });
        }
        let mut index = HashMap::new();
        for (oi, o) in objects.iter().enumerate() {
            for (fi, f) in o.fields.iter().enumerate() {
                index.entry(f.key.clone()).or_insert((oi, fi));
            }
        }
        let mut scenes = Vec::new();
        for s in list("scenes")? {
            let Some(key) = str_of(s, "key") else {
                continue;
            };
            let mut views = Vec::new();
            if let Some(Value::Array(vs)) = s.get("views") {
                for v in vs {
                    let Some(vkey) = str_of(v, "key") else {
                        continue;
                    };
                    let fields = view_fields(v);
                    let known: Vec<&Field> = fields
                        .iter()
                        .filter_map(|k| index.get(k).map(|&(o, f)| &objects[o].fields[f]))
                        .collect();
                    views.push(View {
                        key: vkey,
                        name: str_of(v, "name"),
                        kind: str_of(v, "type").unwrap_or_else(|| "unknown".into()),
                        object: v.get("source").and_then(|src| str_of(src, "object")),
                        labels: label_keys(known),
                        fields,
                    });
                }
            }
            scenes.push(Scene {
                slug: str_of(s, "slug"),
                name: str_of(s, "name"),
                parent: str_of(s, "parent"),
                key,
                views,
            });
        }
        let settings = app.get("settings");
        let tz_name = settings
            .and_then(|s| s.get("timezone"))
            .and_then(Value::as_str);
        let tz_offset = settings
            .and_then(|s| s.get("timezone_offset"))
            .and_then(|o| match o {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            });
        Ok(Schema {
            app_id: str_of(app, "id"),
            name: str_of(app, "name"),
            slug: str_of(app, "slug"),
            zone: AppZone::new(tz_name, tz_offset),
            objects,
            scenes,
            fields: index,
            fetched: Instant::now(),
        })
    }

    pub fn field(&self, key: &str) -> Option<&Field> {
        self.fields
            .get(key)
            .map(|&(o, f)| &self.objects[o].fields[f])
    }

    /// A scene by key (`scene_3`) or page slug (`ticket`).
    pub fn scene(&self, key_or_slug: &str) -> Option<&Scene> {
        self.scenes
            .iter()
            .find(|s| s.key == key_or_slug)
            .or_else(|| {
                self.scenes
                    .iter()
                    .find(|s| s.slug.as_deref() == Some(key_or_slug))
            })
    }

    pub fn view(&self, scene: &str, view: &str) -> Option<&View> {
        self.scene(scene)?.views.iter().find(|v| v.key == view)
    }

    pub fn slug(&self, scene_key: &str) -> Option<&str> {
        self.scenes
            .iter()
            .find(|s| s.key == scene_key)?
            .slug
            .as_deref()
    }

    /// The schema as JSON text for JS (`KnackSchema` in index.d.ts).
    pub fn to_js_json(&self) -> String {
        let objects: Vec<Value> = self
            .objects
            .iter()
            .map(|o| {
                json!({
                    "key": o.key,
                    "name": o.name,
                    "identifier": o.identifier,
                    "fields": o.fields.iter().map(|f| json!({
                        "key": f.key,
                        "label": f.label,
                        "type": f.kind,
                        "required": f.required,
                        "format": f.format,
                        "relationship": f.relationship.as_ref().map(|o| json!({"object": o})),
                        "object": f.object,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        let scenes: Vec<Value> = self
            .scenes
            .iter()
            .map(|s| {
                json!({
                    "key": s.key,
                    "slug": s.slug,
                    "name": s.name,
                    "parent": s.parent,
                    "views": s.views.iter().map(|v| json!({
                        "key": v.key,
                        "name": v.name,
                        "type": v.kind,
                        "object": v.object,
                        "fields": v.fields,
                        "labels": v.labels.iter().map(|(k, l)| (k.clone(), Value::String(l.clone()))).collect::<Map<_, _>>(),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        json!({
            "appId": self.app_id,
            "name": self.name,
            "slug": self.slug,
            "timezone": {"knack": self.zone.knack, "iana": self.zone.iana},
            "objects": objects,
            "scenes": scenes,
        })
        .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(key: &str, label: &str) -> Field {
        Field {
            key: key.into(),
            label: label.into(),
            kind: "short_text".into(),
            required: false,
            format: None,
            relationship: None,
            object: "object_1".into(),
        }
    }

    #[test]
    fn a_shared_label_stays_with_the_lowest_field_number_and_id_is_reserved() {
        let fs = [
            field("field_20", "Email"),
            field("field_3", "Email"),
            field("field_7", "Name"),
            field("field_125", "id"),
            field("field_100", "Email (field_3)"),
            field("field_21", "Email (field_20)"),
        ];
        let keys = label_keys(fs.iter());
        assert_eq!(
            keys,
            vec![
                ("field_20".into(), "Email (field_20)".into()),
                ("field_3".into(), "Email".into()),
                ("field_7".into(), "Name".into()),
                ("field_125".into(), "id (field_125)".into()),
                ("field_100".into(), "Email (field_3)".into()),
                ("field_21".into(), "Email (field_20) (field_21)".into()),
            ]
        );
    }

    #[test]
    fn view_fields_come_from_key_lists_or_from_builder_columns() {
        let fake = json!({"fields": ["field_1", "field_2", "field_1"]});
        assert_eq!(view_fields(&fake), vec!["field_1", "field_2"]);
        let real = json!({
            "source": {"object": "object_4", "sort": [{"field": "field_9"}], "fields": ["field_4"]},
            "columns": [
                {"object": {"key": "object_4"}, "field": {"key": "field_55"}, "type": "field"},
                {"field": {"key": "field_56"}, "connection": {"key": "field_77"}}
            ],
            "groups": [{"columns": [{"inputs": [{"field": {"key": "field_57"}}]}]}],
            "details": {"columns": [{"groups": [{"columns": [[{"key": "field_58", "type": "field"}]]}]}]}
        });
        assert_eq!(
            view_fields(&real),
            vec!["field_55", "field_56", "field_57", "field_58"]
        );
    }

    #[test]
    fn parses_objects_scenes_views_and_timezone() {
        let body = br#"{"application":{"id":"app1","name":"Helpdesk","settings":{"timezone":"Central Time (US & Canada)"},
            "objects":[{"key":"object_1","name":"Tickets","identifier":"field_1","fields":[
                {"key":"field_1","name":"Subject","type":"short_text","required":true},
                {"key":"field_2","name":"Due","type":"date_time","format":{"date_format":"mm/dd/yyyy"}},
                {"key":"field_3","name":"Customer","type":"connection","relationship":{"object":"object_2"}}]}],
            "scenes":[{"key":"scene_1","slug":"home","views":[{"key":"view_1","type":"table","source":{"object":"object_1"},"fields":["field_1","field_2","field_9"]}]}]}}"#;
        let s = Schema::parse(body).unwrap();
        assert_eq!(s.zone.iana.as_deref(), Some("America/Chicago"));
        assert_eq!(
            s.field("field_2").unwrap().format_str("date_format"),
            Some("mm/dd/yyyy")
        );
        assert_eq!(
            s.field("field_3").unwrap().relationship.as_deref(),
            Some("object_2")
        );
        let v = s.view("home", "view_1").unwrap();
        assert_eq!(v.object.as_deref(), Some("object_1"));
        assert_eq!(v.fields, vec!["field_1", "field_2", "field_9"]);
        assert_eq!(v.labels.len(), 2);
        assert_eq!(s.slug("scene_1"), Some("home"));
        let js: Value = serde_json::from_str(&s.to_js_json()).unwrap();
        assert_eq!(js["timezone"]["iana"], "America/Chicago");
        assert_eq!(js["scenes"][0]["views"][0]["labels"]["field_1"], "Subject");
        assert_eq!(
            js["objects"][0]["fields"][2]["relationship"]["object"],
            "object_2"
        );
    }

    #[test]
    fn refuses_metadata_without_an_application() {
        for body in [
            &b"[]"[..],
            b"{}",
            b"{\"application\":{\"objects\":3}}",
            b"nope",
        ] {
            assert_eq!(
                Schema::parse(body).unwrap_err().code(),
                "KNACK_BAD_RESPONSE"
            );
        }
        assert!(Schema::parse(br#"{"application":{}}"#).is_ok());
    }
}

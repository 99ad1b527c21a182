//! Writes by label (`shape: 'labels'` on createRecord / updateRecord): `{ [label]: value }`
//! with JS values becomes `{ field_N: <Knack's input> }`. Dates cross from JS as
//! `{"$date": <epoch ms>}` (the facade's replacer) and are written as the app's wall clock in
//! the field's own date format. Every key and value is checked before anything is sent: an
//! unknown label or a value of the wrong type is KNACK_INVALID_ARGUMENT naming the field.

use std::borrow::Cow;

use serde_json::value::RawValue;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::schema::{Field, Schema};
use crate::shape::{push_json_str, Shaper};
use crate::timezone::AppZone;
use crate::validate;

/// Knack computes these; a write cannot set them.
const COMPUTED: &[&str] = &[
    "auto_increment",
    "equation",
    "sum",
    "count",
    "average",
    "min",
    "max",
    "concatenation",
];

/// `data` (JSON text of `{ [label or field key]: value }`) -> JSON text of `{ field_N: value }`.
pub fn labels_to_fields(
    data: &str,
    shaper: &Shaper,
    schema: &Schema,
    scene: &str,
    view: &str,
) -> Result<String> {
    let entries = object_entries(data)?;
    let mut out = String::with_capacity(data.len() + 64);
    out.push('{');
    let mut written: Vec<String> = Vec::new();
    for (i, (name, raw)) in entries.iter().enumerate() {
        let f = shaper.field_for_write(name, schema, scene, view)?;
        if written.contains(&f.key) {
            return Err(Error::invalid(format!(
                "data names {} ({}) twice",
                f.key, f.label
            )));
        }
        written.push(f.key.clone());
        if i > 0 {
            out.push(',');
        }
        push_json_str(&mut out, &f.key);
        out.push(':');
        encode(f, name, raw, &schema.zone, &mut out)?;
    }
    out.push('}');
    Ok(out)
}

fn object_entries(data: &str) -> Result<Vec<(Cow<'_, str>, &RawValue)>> {
    let raw: &RawValue = serde_json::from_str(data.trim())
        .map_err(|e| Error::invalid(format!("data is not valid JSON: {e}")))?;
    if !raw.get().starts_with('{') {
        return Err(Error::invalid(
            "data must be an object of field values, e.g. {\"Subject\": \"x\"}",
        ));
    }
    let map: Vec<(Cow<'_, str>, &RawValue)> = serde_json::from_str::<OrderedMap<'_>>(raw.get())
        .map_err(|e| Error::invalid(format!("data is not valid JSON: {e}")))?
        .0;
    Ok(map)
}

struct OrderedMap<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de> serde::Deserialize<'de> for OrderedMap<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = OrderedMap<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> std::result::Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(k) = m.next_key::<Cow<'de, str>>()? {
                    out.push((k, m.next_value::<&'de RawValue>()?));
                }
                Ok(OrderedMap(out))
            }
        }
        d.deserialize_map(V)
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(m) if m.contains_key("$date") => "a Date",
        Value::Object(_) => "an object",
    }
}

/// A `{"$date": ms}` from the facade: the instant, or an error for an invalid Date.
fn date_of(v: &Value) -> Option<std::result::Result<i64, ()>> {
    let m = v.as_object()?;
    if m.len() != 1 {
        return None;
    }
    let d = m.get("$date")?;
    Some(
        d.as_f64()
            .filter(|f| f.is_finite())
            .map(|f| f as i64)
            .ok_or(()),
    )
}

/// Append Knack's input for `f` from the caller's value.
fn encode(f: &Field, name: &str, raw: &RawValue, zone: &AppZone, out: &mut String) -> Result<()> {
    let what = if name == f.key {
        format!("data.{} ({})", f.key, f.kind)
    } else {
        format!("data[{name:?}] ({}, {})", f.key, f.kind)
    };
    if COMPUTED.contains(&f.kind.as_str()) {
        return Err(Error::invalid(format!(
            "{what} is computed by Knack and cannot be written"
        )));
    }
    let text = raw.get();
    if text == "null" {
        out.push_str("null");
        return Ok(());
    }
    let v: Value = serde_json::from_str(text)
        .map_err(|e| Error::invalid(format!("{what}: not valid JSON: {e}")))?;
    let wrong =
        |expected: &str| Error::invalid(format!("{what} must be {expected}, got {}", kind_of(&v)));
    match f.kind.as_str() {
        "number" | "currency" | "rating" => {
            if !v.is_number() {
                return Err(wrong("a number"));
            }
            out.push_str(text);
        }
        "boolean" => {
            if !v.is_boolean() {
                return Err(wrong("a boolean"));
            }
            out.push_str(text);
        }
        "date_time" => encode_date(f, &v, zone, out).map_err(&wrong)?,
        "connection" => {
            let items: Vec<&Value> = match &v {
                Value::Array(a) => a.iter().collect(),
                other => vec![other],
            };
            out.push('[');
            for (i, it) in items.iter().enumerate() {
                let id = match it {
                    Value::String(s) => Some(s.as_str()),
                    Value::Object(m) => m.get("id").and_then(Value::as_str),
                    _ => None,
                };
                let id = id.ok_or_else(|| wrong("a record id, { id }, or an array of them"))?;
                if !validate::is_record_id(id) {
                    return Err(Error::invalid(format!(
                        "{what}: {id:?} is not a record id (24 hexadecimal characters)"
                    )));
                }
                if i > 0 {
                    out.push(',');
                }
                push_json_str(out, id);
            }
            out.push(']');
        }
        "email" | "link" => {
            let s = v.as_str().ok_or_else(|| wrong("a string"))?;
            out.push_str(if f.kind == "email" {
                "{\"email\":"
            } else {
                "{\"url\":"
            });
            push_json_str(out, s);
            out.push('}');
        }
        "file" | "image" => {
            let id = match &v {
                Value::String(s) => Some(s.as_str()),
                Value::Object(m) => m.get("id").and_then(Value::as_str),
                _ => None,
            };
            let id = id.ok_or_else(|| wrong("an asset id or an uploaded asset ({ id })"))?;
            // An image field fed from a URL takes the URL itself.
            let from_url = f.kind == "image" && f.format_str("source") == Some("url");
            if from_url || validate::is_record_id(id) {
                push_json_str(out, id);
            } else {
                return Err(Error::invalid(format!(
                    "{what}: {id:?} is not an asset id (24 hexadecimal characters)"
                )));
            }
        }
        "multiple_choice" => match &v {
            Value::String(_) => out.push_str(text),
            Value::Array(a) if a.iter().all(Value::is_string) => out.push_str(text),
            _ => return Err(wrong("a string or an array of strings")),
        },
        "short_text" | "paragraph_text" | "rich_text" | "password" => {
            if !v.is_string() {
                return Err(wrong("a string"));
            }
            out.push_str(text);
        }
        "name" | "address" | "phone" | "signature" => {
            if !(v.is_object() || v.is_string()) || date_of(&v).is_some() {
                return Err(wrong("an object (or a string)"));
            }
            out.push_str(text);
        }
        _ => {
            if date_of(&v).is_some() {
                return Err(wrong("a value Knack takes for this type (not a Date)"));
            }
            out.push_str(text);
        }
    }
    Ok(())
}

/// A Date (or `{ from, to }` for a calendar field, `"HH:MM"` for a time-only field) ->
/// Knack's date input: `{"date": ..., "hours", "minutes", "am_pm"}` in the app's wall clock
/// and the field's date format. `Err` carries what was expected.
fn encode_date(
    f: &Field,
    v: &Value,
    zone: &AppZone,
    out: &mut String,
) -> std::result::Result<(), &'static str> {
    let time_only = f.format_str("date_format") == Some("Ignore Date");
    if time_only {
        let s = v.as_str().ok_or("a time \"HH:MM\"")?;
        let (h, m) = s.split_once(':').ok_or("a time \"HH:MM\"")?;
        let (h, m): (u8, u8) = (
            h.trim().parse().map_err(|_| "a time \"HH:MM\"")?,
            m.trim().parse().map_err(|_| "a time \"HH:MM\"")?,
        );
        if h > 23 || m > 59 {
            return Err("a time \"HH:MM\" (00:00 to 23:59)");
        }
        push_time(out, h, m);
        out.push('}');
        return Ok(());
    }
    let one = |v: &Value, out: &mut String, close: bool| -> std::result::Result<(), &'static str> {
        let ms = match date_of(v) {
            Some(Ok(ms)) => ms,
            Some(Err(())) => return Err("a valid Date (this one is Invalid Date)"),
            None => return Err("a Date"),
        };
        let w = zone.to_wall(ms).ok_or("a Date within Knack's range")?;
        let date = match f
            .format_str("date_format")
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("dd/mm/yyyy") => format!("{:02}/{:02}/{:04}", w.day, w.month, w.year),
            _ => format!("{:02}/{:02}/{:04}", w.month, w.day, w.year),
        };
        out.push_str("{\"date\":");
        push_json_str(out, &date);
        if f.format_str("time_format") != Some("Ignore Time") {
            out.push(',');
            push_time_fields(out, w.hour, w.minute);
        }
        if close {
            out.push('}');
        }
        Ok(())
    };
    if f.format_bool("calendar") {
        if let Some(m) = v.as_object().filter(|m| m.contains_key("from")) {
            let from = m.get("from").ok_or("{ from: Date, to?: Date }")?;
            one(from, out, false).map_err(|_| "{ from: Date, to?: Date } or a Date")?;
            match m.get("to") {
                None | Some(Value::Null) => {}
                Some(to) => {
                    out.push_str(",\"to\":");
                    one(to, out, true).map_err(|_| "{ from: Date, to?: Date } or a Date")?;
                }
            }
            out.push('}');
            return Ok(());
        }
        return one(v, out, true).map_err(|e| {
            if e.starts_with("a valid") {
                e
            } else {
                "{ from: Date, to?: Date } or a Date"
            }
        });
    }
    one(v, out, true)
}

fn push_time_fields(out: &mut String, hour: u8, minute: u8) {
    let (h12, ap) = match hour {
        0 => (12, "AM"),
        1..=11 => (hour, "AM"),
        12 => (12, "PM"),
        _ => (hour - 12, "PM"),
    };
    out.push_str(&format!(
        "\"hours\":{h12},\"minutes\":{minute},\"am_pm\":\"{ap}\""
    ));
}

fn push_time(out: &mut String, hour: u8, minute: u8) {
    out.push('{');
    push_time_fields(out, hour, minute);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shape::{ShapeSpec, Shaper};

    fn schema() -> Schema {
        let body = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/field-types-metadata.json"
        ))
        .expect("metadata fixture");
        Schema::parse(&body).expect("schema")
    }

    fn write(data: &str) -> Result<String> {
        let s = schema();
        let sh = Shaper::resolve(&ShapeSpec::default(), &s, "scene_1", "view_1")?;
        labels_to_fields(data, &sh, &s, "scene_1", "view_1")
    }

    #[test]
    fn labels_become_field_keys_and_values_become_knack_inputs() {
        let out = write(
            r#"{"Short Text":"hi","Number":12.5,"Yes/No":true,"Email":"a@b.co","Link":"https://x.y/",
                "customer":["5ea46ad2b6ce4b0015000ae8",{"id":"5ea46ad2b6ce4b0015000ae9"}],
                "File":{"id":"5d7967132be2bb0010892ce7","filename":"a.pdf"},"Image from Web":"google.com",
                "Multiple Choice":"Pepperoni","field_7":null}"#,
        );
        let e = out.unwrap_err();
        assert!(
            e.message.contains("names field_7 (Short Text) twice"),
            "{}",
            e.message
        );
        let out = write(
            r#"{"Short Text":"hi","Number":12.5,"Yes/No":true,"Email":"a@b.co","Link":"https://x.y/",
                "customer":["5ea46ad2b6ce4b0015000ae8",{"id":"5ea46ad2b6ce4b0015000ae9"}],
                "File":{"id":"5d7967132be2bb0010892ce7","filename":"a.pdf"},"Image from Web":"google.com",
                "Multiple Choice":"Pepperoni","Rich Text":null}"#,
        )
        .unwrap();
        assert_eq!(
            out,
            r#"{"field_7":"hi","field_10":12.5,"field_29":true,"field_20":{"email":"a@b.co"},"field_24":{"url":"https://x.y/"},"field_128":["5ea46ad2b6ce4b0015000ae8","5ea46ad2b6ce4b0015000ae9"],"field_17":"5d7967132be2bb0010892ce7","field_50":"google.com","field_6":"Pepperoni","field_8":null}"#
        );
    }

    #[test]
    fn the_other_writable_types_take_their_knack_shapes() {
        let out = write(
            r#"{"Currency":19.99,"Rating":2,"Name":{"first":"Ada","last":"L"},"Address USA":{"street":"1 Main","city":"Austin"},
                "Phone":"(512) 555-0100","Password":"s3cret!","Multiple Choice (multi)":["Option 1","Option 3"],
                "Paragraph Text":"a\nb","Image":{"id":"5d7966ecc8d68e0010c0834a"},"User Roles":["profile_8"]}"#,
        )
        .unwrap();
        assert_eq!(
            out,
            r#"{"field_30":19.99,"field_25":2,"field_19":{"first":"Ada","last":"L"},"field_21":{"street":"1 Main","city":"Austin"},"field_22":"(512) 555-0100","field_205":"s3cret!","field_201":["Option 1","Option 3"],"field_200":"a\nb","field_18":"5d7966ecc8d68e0010c0834a","field_206":["profile_8"]}"#
        );
        for (data, want) in [
            (
                r#"{"Name":{"$date":1}}"#,
                "must be an object (or a string), got a Date",
            ),
            (
                r#"{"Multiple Choice (multi)":[1]}"#,
                "must be a string or an array of strings",
            ),
            (r#"{"Image":"x.png"}"#, "\"x.png\" is not an asset id"),
            (r#"{"Sum":1}"#, "is computed by Knack"),
            (r#"{"Text Formula simple":"x"}"#, "is computed by Knack"),
        ] {
            let e = write(data).unwrap_err();
            assert!(e.message.contains(want), "{data}: {}", e.message);
        }
    }

    #[test]
    fn dates_are_written_as_the_apps_wall_clock_in_the_fields_format() {
        // The app is on Central time. 2019-09-11T05:00:00Z is 00:00 CDT; 2024-01-15T18:30Z
        // is 12:30 CST.
        let out = write(
            r#"{"Date/Time - w/ Time default current":{"$date":1568178000000},"PYTEST_MODIFIED_DATE":{"$date":1705343400000}}"#,
        )
        .unwrap();
        assert_eq!(
            out,
            r#"{"field_13":{"date":"09/11/2019","hours":12,"minutes":0,"am_pm":"AM"},"field_37":{"date":"01/15/2024","hours":12,"minutes":30,"am_pm":"PM"}}"#
        );
        // A date-only field takes the date alone; a time-only field "HH:MM"; a calendar
        // field a Date or { from, to }.
        let out = write(
            r#"{"Date/Time - No Time no default":{"$date":1568178000000},"Date/Time - No Date":"16:14",
                "Date/Time - Range":{"from":{"$date":1568236440000},"to":{"$date":1568240040000}}}"#,
        )
        .unwrap();
        assert_eq!(
            out,
            r#"{"field_12":{"date":"09/11/2019"},"field_14":{"hours":4,"minutes":14,"am_pm":"PM"},"field_15":{"date":"09/11/2019","hours":4,"minutes":14,"am_pm":"PM","to":{"date":"09/11/2019","hours":5,"minutes":14,"am_pm":"PM"}}}"#
        );
    }

    #[test]
    fn a_wrong_type_or_an_unknown_label_is_refused_naming_the_field() {
        let cases = [
            (r#"{"Number":"12"}"#, "data[\"Number\"] (field_10, number) must be a number, got a string"),
            (r#"{"Yes/No":1}"#, "must be a boolean, got a number"),
            (r#"{"Date/Time - Range":"2019-09-11"}"#, "must be { from: Date, to?: Date } or a Date, got a string"),
            (r#"{"PYTEST_MODIFIED_DATE":{"$date":null}}"#, "a valid Date (this one is Invalid Date)"),
            (r#"{"Date/Time - No Date":"25:00"}"#, "00:00 to 23:59"),
            (r#"{"customer":"nope"}"#, "\"nope\" is not a record id"),
            (r#"{"Auto Increment":3}"#, "is computed by Knack and cannot be written"),
            (r#"{"Short Txt":"x"}"#, "\"Short Txt\" is not a field label of scene_1/view_1 (did you mean \"Short Text\"?)"),
            (r#"{"field_999":"x"}"#, "field_999 is not a field of this application"),
            (r#"[1]"#, "data must be an object"),
        ];
        for (data, want) in cases {
            let e = write(data).unwrap_err();
            assert_eq!(e.code(), "KNACK_INVALID_ARGUMENT", "{data}");
            assert!(e.message.contains(want), "{data}: {}", e.message);
        }
    }
}

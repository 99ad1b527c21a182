//! Recorded records: the records of an object declared `"recorded": true` in the fixture,
//! kept as the fixture's JSON text. Every value is served byte for byte as written (numbers
//! beyond 2^53, lone surrogate escapes and all), in the fixture's key order; the view routes
//! only pick the keys a view and a `format` ask for.

use std::collections::HashMap;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::format::Format;
use crate::ids::Id;
use crate::json::write_key;
use crate::schema::ObjectSchema;

/// Why a recorded record of a fixture was refused.
#[derive(Debug, thiserror::Error)]
pub enum RecordedError {
    #[error("recorded record #{index} of {object} is not a JSON object: {source}")]
    NotAnObject {
        object: String,
        index: usize,
        source: serde_json::Error,
    },
    #[error("recorded record #{index} of {object} has no 24-hex string \"id\"")]
    BadId { object: String, index: usize },
    #[error(
        "recorded record #{index} of {object}: key {key} is neither id nor field_N / field_N_raw of a field of {object}"
    )]
    UnknownKey {
        object: String,
        index: usize,
        key: String,
    },
    #[error("recorded record #{index} of {object}: duplicate key {key}")]
    DuplicateKey {
        object: String,
        index: usize,
        key: String,
    },
    #[error("recorded records of {object}: duplicate id {id}")]
    DuplicateId { object: String, id: String },
}

/// What a key of a recorded record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Id,
    /// `field_N` of the field at this index.
    Formatted(usize),
    /// `field_N_raw` of the field at this index.
    Raw(usize),
}

#[derive(Debug)]
struct Entry {
    key: String,
    part: Part,
    value: Box<RawValue>,
}

/// One recorded record: its id and its keys in the fixture's order.
#[derive(Debug)]
pub struct RecordedRecord {
    pub id: Id,
    entries: Vec<Entry>,
}

impl RecordedRecord {
    /// Writes `{...}` with `id` and, of the fields in `shown`, the keys `fmt` asks for
    /// (`raw`: `field_N_raw`, `html`: `field_N`, `both`: either), values verbatim.
    pub fn write(&self, out: &mut Vec<u8>, shown: &[usize], fmt: Format) {
        self.write_if(out, |part| match part {
            Part::Id => true,
            Part::Formatted(fi) => fmt != Format::Raw && shown.contains(&fi),
            Part::Raw(fi) => fmt != Format::Html && shown.contains(&fi),
        });
    }

    /// Writes the record as the fixture gives it (every key).
    pub fn write_all(&self, out: &mut Vec<u8>) {
        self.write_if(out, |_| true);
    }

    fn write_if(&self, out: &mut Vec<u8>, keep: impl Fn(Part) -> bool) {
        out.push(b'{');
        let mut first = true;
        for e in self.entries.iter().filter(|e| keep(e.part)) {
            if !first {
                out.push(b',');
            }
            first = false;
            write_key(out, &e.key);
            out.extend_from_slice(e.value.get().as_bytes());
        }
        out.push(b'}');
    }
}

/// The recorded records of one object, in the fixture's order.
#[derive(Debug, Default)]
pub struct RecordedTable {
    records: Vec<RecordedRecord>,
    by_id: HashMap<Id, usize>,
}

impl RecordedTable {
    /// Checks and keeps the fixture's records of `obj`: each a JSON object with a 24-hex
    /// string `id` and otherwise only `field_N` / `field_N_raw` keys of `obj`'s fields.
    pub fn parse(
        obj: &ObjectSchema,
        raws: &[Box<RawValue>],
    ) -> Result<RecordedTable, RecordedError> {
        let mut table = RecordedTable::default();
        for (index, raw) in raws.iter().enumerate() {
            let rec = parse_record(obj, index, raw)?;
            if table.by_id.insert(rec.id, table.records.len()).is_some() {
                return Err(RecordedError::DuplicateId {
                    object: obj.key.clone(),
                    id: rec.id.hex(),
                });
            }
            table.records.push(rec);
        }
        Ok(table)
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn get(&self, id: &Id) -> Option<&RecordedRecord> {
        self.by_id.get(id).and_then(|&i| self.records.get(i))
    }

    /// Records in the fixture's order.
    pub fn iter(&self) -> impl Iterator<Item = &RecordedRecord> {
        self.records.iter()
    }
}

fn parse_record(
    obj: &ObjectSchema,
    index: usize,
    raw: &RawValue,
) -> Result<RecordedRecord, RecordedError> {
    let Entries(pairs) =
        serde_json::from_str(raw.get()).map_err(|source| RecordedError::NotAnObject {
            object: obj.key.clone(),
            index,
            source,
        })?;
    let mut id = None;
    let mut entries: Vec<Entry> = Vec::with_capacity(pairs.len());
    for (key, value) in pairs {
        if entries.iter().any(|e| e.key == key) {
            return Err(RecordedError::DuplicateKey {
                object: obj.key.clone(),
                index,
                key,
            });
        }
        let part = if key == "id" {
            id = serde_json::from_str::<String>(value.get())
                .ok()
                .and_then(|s| Id::parse(&s));
            Part::Id
        } else if let Some(fi) = obj.field(&key) {
            Part::Formatted(fi)
        } else if let Some(fi) = key.strip_suffix("_raw").and_then(|k| obj.field(k)) {
            Part::Raw(fi)
        } else {
            return Err(RecordedError::UnknownKey {
                object: obj.key.clone(),
                index,
                key,
            });
        };
        entries.push(Entry { key, part, value });
    }
    let id = id.ok_or_else(|| RecordedError::BadId {
        object: obj.key.clone(),
        index,
    })?;
    Ok(RecordedRecord { id, entries })
}

/// A JSON object's members in their written order, values as raw JSON text.
struct Entries(Vec<(String, Box<RawValue>)>);

impl<'de> Deserialize<'de> for Entries {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Entries, D::Error> {
        struct Members;
        impl<'de> Visitor<'de> for Members {
            type Value = Entries;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries, A::Error> {
                let mut out = Vec::new();
                while let Some(pair) = map.next_entry::<String, Box<RawValue>>()? {
                    out.push(pair);
                }
                Ok(Entries(out))
            }
        }
        d.deserialize_map(Members)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::Fixture;

    const RECORD: &str = r#"{"id": "5f1e1d7e0000000000000001", "field_2": "t\ud800",
        "field_1": 12345678901234567890123, "field_1_raw": { "a" : 1 }, "field_2_raw": "t\ud800"}"#;

    /// A fixture with one recorded object holding `record`.
    fn fixture(record: &str) -> String {
        r#"{
          "application": {"id": "5f1e1d7e5f1e1d7e5f1e1d7e", "name": "T", "slug": "t"},
          "objects": [{"key": "object_1", "name": "R", "recorded": true,
            "fields": [{"key": "field_1", "name": "A", "type": "number"},
                       {"key": "field_2", "name": "B", "type": "short_text"}]}],
          "scenes": [],
          "records": {"object_1": [RECORD]}
        }"#
        .replace("RECORD", record)
    }

    fn table() -> RecordedTable {
        let fx = Fixture::from_json_str(&fixture(RECORD)).expect("fixture");
        let (schema, _) = crate::fixture::compile(&fx).expect("compile");
        schema
            .objects
            .into_iter()
            .next()
            .and_then(|o| o.recorded)
            .expect("recorded")
    }

    #[test]
    fn values_and_key_order_are_kept_verbatim_and_formats_pick_keys() {
        let t = table();
        let rec = t.iter().next().expect("one record");
        let mut all = Vec::new();
        rec.write_all(&mut all);
        assert_eq!(
            String::from_utf8_lossy(&all),
            r#"{"id":"5f1e1d7e0000000000000001","field_2":"t\ud800","field_1":12345678901234567890123,"field_1_raw":{ "a" : 1 },"field_2_raw":"t\ud800"}"#
        );
        let mut raw = Vec::new();
        rec.write(&mut raw, &[0], Format::Raw);
        assert_eq!(
            String::from_utf8_lossy(&raw),
            r#"{"id":"5f1e1d7e0000000000000001","field_1_raw":{ "a" : 1 }}"#
        );
        let mut html = Vec::new();
        rec.write(&mut html, &[0, 1], Format::Html);
        assert_eq!(
            String::from_utf8_lossy(&html),
            r#"{"id":"5f1e1d7e0000000000000001","field_2":"t\ud800","field_1":12345678901234567890123}"#
        );
    }

    #[test]
    fn unknown_keys_duplicate_keys_and_missing_ids_are_fixture_errors() {
        for (record, needle) in [
            (
                r#"{"id": "5f1e1d7e0000000000000001", "field_9": 1}"#,
                "field_9",
            ),
            (
                r#"{"id": "5f1e1d7e0000000000000001", "field_1": 1, "field_1": 2}"#,
                "duplicate key",
            ),
            (r#"{"field_1": 1}"#, "id"),
            (r#"{"id": 7}"#, "id"),
            (r#"[1]"#, "not a JSON object"),
        ] {
            let err = Fixture::from_json_str(&fixture(record))
                .expect_err(record)
                .to_string();
            assert!(err.contains(needle), "{record}: {err}");
        }
    }
}

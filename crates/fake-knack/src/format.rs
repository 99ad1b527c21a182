//! Rendering stored values as Knack does: `field_N` (formatted text / HTML) and
//! `field_N_raw` (typed).

use crate::clock::Civil;
use crate::ids::Id;
use crate::json::{write_i64, write_key, write_num, write_str};
use crate::schema::{FieldType, Schema};
use crate::store::{Data, Record, Val};

/// `format` query parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Both,
    Raw,
    Html,
}

impl Format {
    pub fn parse(s: Option<&str>) -> Option<Format> {
        match s.map(str::trim) {
            None | Some("") | Some("both") => Some(Format::Both),
            Some("raw") => Some(Format::Raw),
            Some("html") => Some(Format::Html),
            _ => None,
        }
    }
}

pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn two(n: u32) -> String {
    format!("{n:02}")
}

/// 12-hour clock parts: (hour 1..=12, is_pm)
fn twelve(hour: u32) -> (u32, bool) {
    let h = hour % 12;
    (if h == 0 { 12 } else { h }, hour >= 12)
}

pub fn date_only(ms: i64) -> String {
    let c = Civil::from_ms(ms);
    format!("{:02}/{:02}/{:04}", c.month, c.day, c.year)
}

/// `01/15/2024 3:04pm`
pub fn date_formatted(ms: i64) -> String {
    let c = Civil::from_ms(ms);
    let (h, pm) = twelve(c.hour);
    format!(
        "{} {}:{:02}{}",
        date_only(ms),
        h,
        c.minute,
        if pm { "pm" } else { "am" }
    )
}

/// Renders records of one object.
pub struct Render<'a> {
    pub schema: &'a Schema,
    pub data: &'a Data,
    /// `http://127.0.0.1:PORT`
    pub base_url: &'a str,
}

impl Render<'_> {
    /// Writes `{"id":..., "field_N":..., "field_N_raw":...}` for `fields`.
    pub fn record(
        &self,
        out: &mut Vec<u8>,
        obj: usize,
        rec: &Record,
        fields: &[usize],
        fmt: Format,
    ) {
        out.extend_from_slice(b"{\"id\":\"");
        rec.id.write_hex(out);
        out.push(b'"');
        let o = &self.schema.objects[obj];
        for &fi in fields {
            let f = &o.fields[fi];
            if f.ftype == FieldType::Password {
                continue;
            }
            let v = &rec.vals[fi];
            if fmt != Format::Raw {
                out.push(b',');
                write_key(out, &f.key);
                write_str(out, &self.formatted(obj, fi, v));
            }
            if fmt != Format::Html {
                out.push(b',');
                write_str(out, &format!("{}_raw", f.key));
                out.push(b':');
                self.raw(out, obj, fi, v);
            }
        }
        out.push(b'}');
    }

    /// Writes every field's raw value under its plain key (the `/_fake/records` shape).
    pub fn stored(&self, out: &mut Vec<u8>, obj: usize, rec: &Record) {
        out.extend_from_slice(b"{\"id\":\"");
        rec.id.write_hex(out);
        out.push(b'"');
        let o = &self.schema.objects[obj];
        for (fi, f) in o.fields.iter().enumerate() {
            if f.ftype == FieldType::Password {
                continue;
            }
            out.push(b',');
            write_key(out, &f.key);
            self.raw(out, obj, fi, &rec.vals[fi]);
        }
        out.push(b'}');
    }

    /// The identifier of a record (its identifier field as plain text).
    pub fn identifier(&self, obj: usize, id: &Id) -> Option<String> {
        let rec = self.data.tables.get(obj)?.get(id)?;
        let o = &self.schema.objects[obj];
        Some(self.plain_depth(obj, o.identifier, &rec.vals[o.identifier], 1))
    }

    /// Plain text of a value (used for identifiers, text filters and sorting).
    pub fn plain(&self, obj: usize, fi: usize, v: &Val) -> String {
        self.plain_depth(obj, fi, v, 0)
    }

    fn plain_depth(&self, obj: usize, fi: usize, v: &Val, depth: u8) -> String {
        let f = &self.schema.objects[obj].fields[fi];
        match v {
            Val::Empty => String::new(),
            Val::Text(s) => s.to_string(),
            Val::Num(n) => {
                let mut out = Vec::new();
                write_num(&mut out, *n);
                String::from_utf8(out).unwrap_or_default()
            }
            Val::Bool(b) => if *b { "Yes" } else { "No" }.to_string(),
            Val::Email(e) => e.email.clone(),
            Val::Name(n) => n.full(),
            Val::Conn(ids) => {
                let mut parts = Vec::with_capacity(ids.len());
                for id in ids {
                    match (depth, f.target) {
                        (0, Some(t)) => {
                            if let Some(s) = self.identifier(t, id) {
                                parts.push(s);
                            }
                        }
                        _ => parts.push(id.hex()),
                    }
                }
                parts.join(", ")
            }
            Val::Date(ms) => date_formatted(*ms),
            Val::File(id) => self
                .data
                .assets
                .get(id)
                .map(|a| a.filename.clone())
                .unwrap_or_default(),
        }
    }

    pub fn asset_url(&self, id: &Id, filename: &str) -> String {
        format!(
            "{}/v1/applications/{}/download/asset/{}/{}",
            self.base_url,
            self.schema.app.id,
            id,
            url_path_escape(filename)
        )
    }

    /// The formatted (`field_N`) string.
    pub fn formatted(&self, obj: usize, fi: usize, v: &Val) -> String {
        let f = &self.schema.objects[obj].fields[fi];
        match v {
            Val::Empty => String::new(),
            Val::Text(s) => {
                let e = html_escape(s);
                if f.ftype == FieldType::ParagraphText {
                    e.replace('\n', "<br />")
                } else {
                    e
                }
            }
            Val::Num(_) | Val::Bool(_) | Val::Name(_) => html_escape(&self.plain(obj, fi, v)),
            Val::Email(e) => {
                let label = if e.label.is_empty() { &e.email } else { &e.label };
                format!(
                    "<a href=\"mailto:{}\">{}</a>",
                    html_escape(&e.email),
                    html_escape(label)
                )
            }
            Val::Conn(ids) => {
                let Some(t) = f.target else {
                    return String::new();
                };
                let mut parts = Vec::with_capacity(ids.len());
                for id in ids {
                    if let Some(ident) = self.identifier(t, id) {
                        parts.push(format!(
                            "<span class=\"{id}\" data-kn=\"connection-value\">{}</span>",
                            html_escape(&ident)
                        ));
                    }
                }
                parts.join("<br />")
            }
            Val::Date(ms) => date_formatted(*ms),
            Val::File(id) => match self.data.assets.get(id) {
                Some(a) => format!(
                    "<a class=\"kn-view-asset\" data-field-key=\"{}\" data-asset-id=\"{id}\" data-file-id=\"{id}\" href=\"{}\">{}</a>",
                    f.key,
                    html_escape(&self.asset_url(id, &a.filename)),
                    html_escape(&a.filename)
                ),
                None => String::new(),
            },
        }
    }

    /// Writes the typed (`field_N_raw`) value.
    pub fn raw(&self, out: &mut Vec<u8>, obj: usize, fi: usize, v: &Val) {
        let f = &self.schema.objects[obj].fields[fi];
        match v {
            Val::Empty => match f.ftype {
                FieldType::Connection => out.extend_from_slice(b"[]"),
                FieldType::Boolean => out.extend_from_slice(b"false"),
                _ => out.extend_from_slice(b"\"\""),
            },
            Val::Text(s) => write_str(out, s),
            Val::Num(n) => write_num(out, *n),
            Val::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Val::Email(e) => {
                out.extend_from_slice(b"{\"email\":");
                write_str(out, &e.email);
                out.extend_from_slice(b",\"label\":");
                write_str(out, &e.label);
                out.push(b'}');
            }
            Val::Name(n) => {
                out.extend_from_slice(b"{\"title\":");
                write_str(out, &n.title);
                out.extend_from_slice(b",\"first\":");
                write_str(out, &n.first);
                out.extend_from_slice(b",\"middle\":");
                write_str(out, &n.middle);
                out.extend_from_slice(b",\"last\":");
                write_str(out, &n.last);
                out.extend_from_slice(b",\"full\":");
                write_str(out, &n.full());
                out.push(b'}');
            }
            Val::Conn(ids) => {
                out.push(b'[');
                let mut first = true;
                for id in ids {
                    let Some(ident) = f.target.and_then(|t| self.identifier(t, id)) else {
                        continue;
                    };
                    if !first {
                        out.push(b',');
                    }
                    first = false;
                    out.extend_from_slice(b"{\"id\":\"");
                    id.write_hex(out);
                    out.extend_from_slice(b"\",\"identifier\":");
                    write_str(out, &ident);
                    out.push(b'}');
                }
                out.push(b']');
            }
            Val::Date(ms) => write_date_raw(out, *ms),
            Val::File(id) => match self.data.assets.get(id) {
                Some(a) => {
                    let url = self.asset_url(id, &a.filename);
                    out.extend_from_slice(b"{\"id\":\"");
                    id.write_hex(out);
                    out.extend_from_slice(b"\",\"application_id\":");
                    write_str(out, &self.schema.app.id);
                    out.extend_from_slice(b",\"s3\":false,\"type\":");
                    write_str(out, &a.kind);
                    out.extend_from_slice(b",\"filename\":");
                    write_str(out, &a.filename);
                    out.extend_from_slice(b",\"url\":");
                    write_str(out, &url);
                    out.extend_from_slice(b",\"thumb_url\":");
                    write_str(out, if a.kind == "image" { &url } else { "" });
                    out.extend_from_slice(b",\"size\":");
                    write_i64(out, i64::try_from(a.size).unwrap_or(i64::MAX));
                    out.extend_from_slice(b",\"field_key\":");
                    write_str(out, &f.key);
                    out.push(b'}');
                }
                None => out.extend_from_slice(b"\"\""),
            },
        }
    }
}

/// Knack's raw date/time object for a local wall-clock time.
pub fn write_date_raw(out: &mut Vec<u8>, ms: i64) {
    let c = Civil::from_ms(ms);
    let (h, pm) = twelve(c.hour);
    let date = date_only(ms);
    out.extend_from_slice(b"{\"date\":");
    write_str(out, &date);
    out.extend_from_slice(b",\"date_formatted\":");
    write_str(out, &date);
    out.extend_from_slice(b",\"hours\":");
    write_str(out, &two(h));
    out.extend_from_slice(b",\"minutes\":");
    write_str(out, &two(c.minute));
    out.extend_from_slice(b",\"am_pm\":");
    write_str(out, if pm { "PM" } else { "AM" });
    out.extend_from_slice(b",\"unix_timestamp\":");
    write_i64(out, ms);
    out.extend_from_slice(b",\"iso_timestamp\":");
    write_str(
        out,
        &format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            c.year, c.month, c.day, c.hour, c.minute, c.second, c.milli
        ),
    );
    out.extend_from_slice(b",\"timestamp\":");
    write_str(
        out,
        &format!(
            "{} {:02}:{:02} {}",
            date,
            h,
            c.minute,
            if pm { "pm" } else { "am" }
        ),
    );
    out.extend_from_slice(b",\"time\":");
    write_i64(out, i64::from(c.hour * 60 + c.minute));
    out.push(b'}');
}

/// Percent-encodes a file name for use as a URL path segment.
pub fn url_path_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

//! Parsing written values (form submissions and fixture records) into stored values, with
//! Knack-style validation errors.

use serde_json::Value;

use crate::clock::{parse_date, Civil, Tz};
use crate::ids::Id;
use crate::schema::{FieldSchema, FieldType};
use crate::store::{Data, EmailVal, NameVal, Val};

/// One entry of a 400 `errors` array.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    pub field: String,
    pub kind: &'static str,
    pub message: String,
}

impl FieldError {
    fn new(f: &FieldSchema, kind: &'static str, message: String) -> FieldError {
        FieldError {
            field: f.key.clone(),
            kind,
            message,
        }
    }

    pub fn required(f: &FieldSchema) -> FieldError {
        FieldError::new(f, "required", format!("{} is required.", f.name))
    }
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

pub fn parse_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_f64().map(|x| x != 0.0),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "yes" | "true" | "on" | "1" => Some(true),
            "no" | "false" | "off" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// Parses a number given as a JSON number or a numeric string.
pub fn parse_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => {
            let t = s.trim();
            if t.is_empty() {
                return None;
            }
            t.parse::<f64>().ok().filter(|x| x.is_finite())
        }
        _ => None,
    }
}

/// A date given as local ms (number), a string (see [`parse_date`]) or an object like a
/// raw date value (`unix_timestamp`, or `date` + `hours`/`minutes`/`am_pm`).
pub fn parse_date_value(v: &Value, tz: &Tz) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => parse_date(s, tz).map(|(ms, _)| ms),
        Value::Object(m) => {
            if let Some(ts) = m.get("unix_timestamp").and_then(Value::as_i64) {
                return Some(ts);
            }
            let date = m.get("date").and_then(Value::as_str)?;
            let (day_ms, _) = parse_date(date, tz)?;
            let hours = m.get("hours").and_then(parse_number).unwrap_or(0.0) as u32;
            let minutes = m.get("minutes").and_then(parse_number).unwrap_or(0.0) as u32;
            let mut hour = hours;
            if let Some(ap) = m.get("am_pm").and_then(Value::as_str) {
                if !(1..=12).contains(&hours) {
                    return None;
                }
                hour = hours % 12 + if ap.eq_ignore_ascii_case("pm") { 12 } else { 0 };
            }
            if hour > 23 || minutes > 59 {
                return None;
            }
            let c = Civil::from_ms(day_ms);
            Some(
                Civil {
                    hour,
                    minute: minutes,
                    ..c
                }
                .to_ms(),
            )
        }
        _ => None,
    }
}

fn id_of(v: &Value) -> Option<Id> {
    match v {
        Value::String(s) => Id::parse(s.trim()),
        Value::Object(m) => m.get("id").and_then(Value::as_str).and_then(Id::parse),
        _ => None,
    }
}

/// Parses the shape of a written value. References (connections, assets) are only checked
/// for form here; [`check_refs`] checks that they exist.
pub fn parse_input(f: &FieldSchema, v: &Value, tz: &Tz) -> Result<Val, FieldError> {
    if v.is_null() {
        return Ok(Val::Empty);
    }
    if let Value::String(s) = v {
        if s.trim().is_empty() {
            return Ok(Val::Empty);
        }
    }
    let invalid = || FieldError::new(f, "invalid", format!("{} has an invalid value.", f.name));
    match f.ftype {
        FieldType::ShortText | FieldType::ParagraphText | FieldType::Password => scalar_text(v)
            .map(|s| Val::Text(s.into()))
            .ok_or_else(invalid),
        FieldType::MultipleChoice => {
            let s = match v {
                Value::Array(a) if a.is_empty() => return Ok(Val::Empty),
                Value::Array(a) if a.len() == 1 => scalar_text(&a[0]),
                other => scalar_text(other),
            };
            let bad = || {
                FieldError::new(
                    f,
                    "options",
                    format!("{} must be one of: {}.", f.name, f.options.join(", ")),
                )
            };
            let s = s.ok_or_else(bad)?;
            let s = s.trim();
            f.options
                .iter()
                .find(|o| o.eq_ignore_ascii_case(s))
                .map(|o| Val::Text(o.as_str().into()))
                .ok_or_else(bad)
        }
        FieldType::Number => parse_number(v)
            .map(Val::Num)
            .ok_or_else(|| FieldError::new(f, "number", format!("{} must be a number.", f.name))),
        FieldType::Email => {
            let bad = || {
                FieldError::new(
                    f,
                    "email",
                    format!("{} must be a valid email address.", f.name),
                )
            };
            let (email, label) = match v {
                Value::String(s) => (s.trim().to_string(), String::new()),
                Value::Object(m) => (
                    m.get("email")
                        .and_then(Value::as_str)
                        .map(|s| s.trim().to_string())
                        .ok_or_else(bad)?,
                    m.get("label")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                ),
                _ => return Err(bad()),
            };
            if email.is_empty() {
                return Ok(Val::Empty);
            }
            if !is_email(&email) {
                return Err(bad());
            }
            Ok(Val::Email(Box::new(EmailVal { email, label })))
        }
        FieldType::Name => match v {
            Value::String(s) => {
                let mut words: Vec<&str> = s.split_whitespace().collect();
                let last = if words.len() > 1 {
                    words.pop().unwrap_or_default().to_string()
                } else {
                    String::new()
                };
                Ok(Val::Name(Box::new(NameVal {
                    first: words.join(" "),
                    last,
                    ..NameVal::default()
                })))
            }
            Value::Object(m) => {
                let part = |k: &str| {
                    m.get(k)
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .trim()
                        .to_string()
                };
                let n = NameVal {
                    title: part("title"),
                    first: part("first"),
                    middle: part("middle"),
                    last: part("last"),
                };
                if n.full().is_empty() {
                    Ok(Val::Empty)
                } else {
                    Ok(Val::Name(Box::new(n)))
                }
            }
            _ => Err(invalid()),
        },
        FieldType::Boolean => parse_bool(v)
            .map(Val::Bool)
            .ok_or_else(|| FieldError::new(f, "boolean", format!("{} must be yes or no.", f.name))),
        FieldType::DateTime => parse_date_value(v, tz)
            .map(Val::Date)
            .ok_or_else(|| FieldError::new(f, "date", format!("{} must be a valid date.", f.name))),
        FieldType::Connection => {
            let bad = || {
                FieldError::new(
                    f,
                    "connection",
                    format!("{}: unknown connected record.", f.name),
                )
            };
            let ids = match v {
                Value::Array(items) => items
                    .iter()
                    .map(|x| id_of(x).ok_or_else(bad))
                    .collect::<Result<Vec<_>, _>>()?,
                other => vec![id_of(other).ok_or_else(bad)?],
            };
            let mut uniq = Vec::with_capacity(ids.len());
            for id in ids {
                if !uniq.contains(&id) {
                    uniq.push(id);
                }
            }
            Ok(if uniq.is_empty() {
                Val::Empty
            } else {
                Val::Conn(uniq)
            })
        }
        FieldType::File | FieldType::Image => id_of(v).map(Val::File).ok_or_else(|| file_error(f)),
        FieldType::RichText
        | FieldType::Currency
        | FieldType::AutoIncrement
        | FieldType::Concatenation
        | FieldType::Equation
        | FieldType::Timer
        | FieldType::Address
        | FieldType::Phone
        | FieldType::Link
        | FieldType::Rating
        | FieldType::Signature
        | FieldType::Sum
        | FieldType::Count
        | FieldType::Average
        | FieldType::UserRoles => Err(FieldError::new(
            f,
            "unsupported",
            format!(
                "{}: fake-knack does not store {} values.",
                f.name,
                f.ftype.as_str()
            ),
        )),
    }
}

fn file_error(f: &FieldSchema) -> FieldError {
    FieldError::new(
        f,
        "file",
        format!("{}: unknown or already used file.", f.name),
    )
}

/// Checks that connected records and assets exist (and that an asset is not attached
/// elsewhere). `at` is (object, record, field) of the value being written.
pub fn check_refs(
    f: &FieldSchema,
    val: &Val,
    data: &Data,
    at: (usize, Option<Id>, usize),
) -> Result<(), FieldError> {
    match val {
        Val::Conn(ids) => {
            let Some(t) = f.target.and_then(|t| data.tables.get(t)) else {
                return Ok(());
            };
            if ids.iter().all(|id| t.get(id).is_some()) {
                Ok(())
            } else {
                Err(FieldError::new(
                    f,
                    "connection",
                    format!("{}: unknown connected record.", f.name),
                ))
            }
        }
        Val::File(id) => match data.assets.get(id) {
            Some(a) => match (a.used_by, at.1) {
                (None, _) => Ok(()),
                (Some((o, r, fi)), Some(rec)) if o == at.0 && r == rec && fi == at.2 => Ok(()),
                _ => Err(file_error(f)),
            },
            None => Err(file_error(f)),
        },
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(ftype: FieldType) -> FieldSchema {
        FieldSchema {
            key: "field_1".into(),
            name: "F".into(),
            ftype,
            required: false,
            options: vec!["New".into(), "Open".into()],
            default: None,
            target: None,
            format: None,
        }
    }

    #[test]
    fn parses_shapes() {
        let tz = Tz::from_name("UTC");
        let num = field(FieldType::Number);
        assert_eq!(parse_input(&num, &"4".into(), &tz), Ok(Val::Num(4.0)));
        assert_eq!(
            parse_input(&num, &"x".into(), &tz).map_err(|e| e.kind),
            Err("number")
        );
        let mc = field(FieldType::MultipleChoice);
        assert_eq!(
            parse_input(&mc, &"open".into(), &tz),
            Ok(Val::Text("Open".into()))
        );
        assert!(parse_input(&mc, &"Nope".into(), &tz).is_err());
        let em = field(FieldType::Email);
        assert!(parse_input(&em, &"not-an-email".into(), &tz).is_err());
        assert!(parse_input(&em, &"a@b.co".into(), &tz).is_ok());
        let b = field(FieldType::Boolean);
        assert_eq!(parse_input(&b, &"Yes".into(), &tz), Ok(Val::Bool(true)));
        let t = field(FieldType::ShortText);
        assert_eq!(parse_input(&t, &"  ".into(), &tz), Ok(Val::Empty));
        assert!(parse_input(&t, &serde_json::json!({"a": 1}), &tz).is_err());
        let currency = field(FieldType::Currency);
        assert_eq!(
            parse_input(&currency, &"100.43".into(), &tz).map_err(|e| e.kind),
            Err("unsupported")
        );
    }
}

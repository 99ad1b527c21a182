//! The `filters` query parameter (`{match, rules}` or a bare array of rules) and sorting.

use std::cmp::Ordering;

use serde_json::Value;

use crate::clock::{parse_date, start_of_day, MS_PER_DAY};
use crate::format::Render;
use crate::ids::Id;
use crate::schema::{FieldType, ObjectSchema};
use crate::store::{Record, Val};
use crate::values::{parse_bool, parse_number};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Is,
    IsNot,
    Contains,
    NotContains,
    StartsWith,
    EndsWith,
    IsBlank,
    IsNotBlank,
    Higher,
    Lower,
    Before,
    After,
    IsAny,
    IsToday,
    BeforeToday,
    AfterToday,
    DuringPrevious,
    DuringNext,
}

impl Op {
    fn parse(s: &str) -> Option<Op> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "is" => Op::Is,
            "is not" => Op::IsNot,
            "contains" => Op::Contains,
            "does not contain" => Op::NotContains,
            "starts with" => Op::StartsWith,
            "ends with" => Op::EndsWith,
            "is blank" => Op::IsBlank,
            "is not blank" => Op::IsNotBlank,
            "higher than" => Op::Higher,
            "lower than" => Op::Lower,
            "is before" => Op::Before,
            "is after" => Op::After,
            "is any" => Op::IsAny,
            "is today" => Op::IsToday,
            "is before today" => Op::BeforeToday,
            "is after today" => Op::AfterToday,
            "is during the previous" => Op::DuringPrevious,
            "is during the next" => Op::DuringNext,
            _ => return None,
        })
    }
}

#[derive(Debug)]
struct Rule {
    field: usize,
    op: Op,
    /// Lower-cased text form of the value.
    text: String,
    number: Option<f64>,
    /// (start, end) local ms of the value as a date: a whole day for date-only values.
    date: Option<(i64, i64)>,
    boolean: Option<bool>,
    ids: Vec<Id>,
    /// For `is any` with a list: alternatives (lower-cased).
    any_of: Vec<String>,
    /// For `is during the previous/next`: window length in ms.
    range_ms: i64,
}

/// A parsed filter set.
#[derive(Debug, Default)]
pub struct Filters {
    or: bool,
    rules: Vec<Rule>,
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => String::new(),
        Value::Array(a) => a.iter().map(value_text).collect::<Vec<_>>().join(","),
        Value::Object(m) => m
            .get("id")
            .or_else(|| m.get("date"))
            .map(value_text)
            .unwrap_or_default(),
    }
}

impl Filters {
    /// Parses the `filters` parameter; `Err` carries the message for a 400.
    pub fn parse(raw: &str, obj: &ObjectSchema, render: &Render<'_>) -> Result<Filters, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(Filters::default());
        }
        let v: Value = serde_json::from_str(raw).map_err(|e| format!("Invalid filters: {e}"))?;
        let (or, rules) = match &v {
            Value::Array(rules) => (false, rules.as_slice()),
            Value::Object(m) => {
                let or = match m.get("match").map(|x| x.as_str()) {
                    None | Some(Some("and")) => false,
                    Some(Some("or")) => true,
                    _ => return Err("Invalid filters: match must be \"and\" or \"or\"".into()),
                };
                match m.get("rules") {
                    Some(Value::Array(r)) => (or, r.as_slice()),
                    None => (or, &[][..]),
                    _ => return Err("Invalid filters: rules must be an array".into()),
                }
            }
            _ => return Err("Invalid filters: expected an object or an array of rules".into()),
        };
        let tz = render.schema.app.tz;
        let mut out = Vec::with_capacity(rules.len());
        for r in rules {
            let Value::Object(m) = r else {
                return Err("Invalid filters: each rule must be an object".into());
            };
            let fkey = m
                .get("field")
                .and_then(Value::as_str)
                .ok_or("Invalid filters: a rule needs a field")?;
            let field = obj
                .field(fkey)
                .ok_or_else(|| format!("Invalid filters: unknown field {fkey}"))?;
            let op_s = m
                .get("operator")
                .and_then(Value::as_str)
                .ok_or("Invalid filters: a rule needs an operator")?;
            let op = Op::parse(op_s)
                .ok_or_else(|| format!("Invalid filters: unknown operator \"{op_s}\""))?;
            let value = m.get("value").cloned().unwrap_or(Value::Null);
            let text = value_text(&value);
            let date = match &value {
                Value::Number(n) => n.as_i64().map(|ms| (ms, ms)),
                _ => parse_date(&text, &tz).map(|(ms, has_time)| {
                    if has_time {
                        (ms, ms)
                    } else {
                        (ms, ms.saturating_add(MS_PER_DAY - 1))
                    }
                }),
            };
            let ids = match &value {
                Value::Array(a) => a.iter().filter_map(|x| Id::parse(&value_text(x))).collect(),
                other => Id::parse(value_text(other).trim()).into_iter().collect(),
            };
            let any_of = match &value {
                Value::Array(a) => a.iter().map(|x| value_text(x).to_lowercase()).collect(),
                _ => Vec::new(),
            };
            let range = m.get("range").and_then(parse_number).unwrap_or(1.0);
            let unit = match m
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("days")
                .trim_end_matches('s')
            {
                "hour" => 3_600_000,
                "week" => 7 * MS_PER_DAY,
                "month" => 30 * MS_PER_DAY,
                "year" => 365 * MS_PER_DAY,
                _ => MS_PER_DAY,
            };
            out.push(Rule {
                field,
                op,
                number: parse_number(&value),
                boolean: parse_bool(&value),
                date,
                text: text.trim().to_lowercase(),
                ids,
                any_of,
                range_ms: (range * unit as f64) as i64,
            });
        }
        Ok(Filters { or, rules: out })
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    pub fn matches(&self, obj: usize, rec: &Record, render: &Render<'_>, now_local: i64) -> bool {
        if self.rules.is_empty() {
            return true;
        }
        let mut it = self
            .rules
            .iter()
            .map(|r| rule_matches(r, obj, rec, render, now_local));
        if self.or {
            it.any(|x| x)
        } else {
            it.all(|x| x)
        }
    }
}

fn rule_matches(r: &Rule, obj: usize, rec: &Record, render: &Render<'_>, now_local: i64) -> bool {
    let f = &render.schema.objects[obj].fields[r.field];
    let v = &rec.vals[r.field];
    let text = || render.plain(obj, r.field, v).to_lowercase();
    let today = start_of_day(now_local);
    match r.op {
        Op::IsBlank => v.is_blank(),
        Op::IsNotBlank => !v.is_blank(),
        Op::Is => is(r, f.ftype, obj, v, render),
        Op::IsNot => !is(r, f.ftype, obj, v, render),
        Op::IsAny => {
            r.any_of.is_empty()
                || r.any_of.iter().any(|alt| {
                    let t = text();
                    &t == alt || matches!(v, Val::Conn(ids) if ids.iter().any(|i| i.hex() == *alt))
                })
        }
        Op::Contains => text().contains(&r.text),
        Op::NotContains => !text().contains(&r.text),
        Op::StartsWith => text().starts_with(&r.text),
        Op::EndsWith => text().ends_with(&r.text),
        Op::Higher | Op::Lower => {
            let lhs = match v {
                Val::Num(n) => Some(*n),
                Val::Date(ms) => {
                    return match (r.date, r.op) {
                        (Some((_, end)), Op::Higher) => *ms > end,
                        (Some((start, _)), Op::Lower) => *ms < start,
                        _ => false,
                    }
                }
                Val::Empty => None,
                _ => text().trim().parse::<f64>().ok(),
            };
            match (lhs, r.number) {
                (Some(a), Some(b)) if r.op == Op::Higher => a > b,
                (Some(a), Some(b)) => a < b,
                _ => false,
            }
        }
        Op::Before | Op::After => match (v, r.date) {
            (Val::Date(ms), Some((start, end))) => {
                if r.op == Op::Before {
                    *ms < start
                } else {
                    *ms > end
                }
            }
            _ => false,
        },
        Op::IsToday => matches!(v, Val::Date(ms) if start_of_day(*ms) == today),
        Op::BeforeToday => matches!(v, Val::Date(ms) if *ms < today),
        Op::AfterToday => matches!(v, Val::Date(ms) if *ms >= today.saturating_add(MS_PER_DAY)),
        Op::DuringPrevious => {
            matches!(v, Val::Date(ms) if *ms <= now_local && *ms >= now_local.saturating_sub(r.range_ms))
        }
        Op::DuringNext => {
            matches!(v, Val::Date(ms) if *ms >= now_local && *ms <= now_local.saturating_add(r.range_ms))
        }
    }
}

fn is(r: &Rule, ftype: FieldType, obj: usize, v: &Val, render: &Render<'_>) -> bool {
    match (ftype, v) {
        (_, Val::Empty) => r.text.is_empty(),
        (FieldType::Connection, Val::Conn(ids)) => {
            if r.ids.is_empty() {
                render.plain(obj, r.field, v).to_lowercase() == r.text
            } else {
                r.ids.iter().any(|i| ids.contains(i))
            }
        }
        (_, Val::Num(n)) => r.number == Some(*n),
        (_, Val::Bool(b)) => r.boolean == Some(*b),
        (_, Val::Date(ms)) => match r.date {
            Some((start, end)) => *ms >= start && *ms <= end,
            None => false,
        },
        _ => render.plain(obj, r.field, v).to_lowercase() == r.text,
    }
}

/// A comparable sort key.
#[derive(Debug, Clone, PartialEq, PartialOrd)]
pub enum SortKey {
    Blank,
    Num(f64),
    Text(String),
}

pub fn sort_key(render: &Render<'_>, obj: usize, fi: usize, v: &Val) -> SortKey {
    match v {
        Val::Empty => SortKey::Blank,
        Val::Num(n) => SortKey::Num(*n),
        Val::Date(ms) => SortKey::Num(*ms as f64),
        Val::Bool(b) => SortKey::Num(if *b { 1.0 } else { 0.0 }),
        other => {
            let t = render.plain(obj, fi, other);
            if t.is_empty() {
                SortKey::Blank
            } else {
                SortKey::Text(t.to_lowercase())
            }
        }
    }
}

pub fn cmp_keys(a: &SortKey, b: &SortKey) -> Ordering {
    match (a, b) {
        (SortKey::Blank, SortKey::Blank) => Ordering::Equal,
        (SortKey::Blank, _) => Ordering::Less,
        (_, SortKey::Blank) => Ordering::Greater,
        (SortKey::Num(x), SortKey::Num(y)) => x.partial_cmp(y).unwrap_or(Ordering::Equal),
        (SortKey::Num(_), SortKey::Text(_)) => Ordering::Less,
        (SortKey::Text(_), SortKey::Num(_)) => Ordering::Greater,
        (SortKey::Text(x), SortKey::Text(y)) => x.cmp(y),
    }
}

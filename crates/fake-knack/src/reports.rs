//! Report views (charts and pivot tables): `GET /v1/pages/{scene}/views/{view}/report`
//! -> `{"reports":[...]}` and `.../report/{n}` -> `{"report":{...}}` (also under
//! `/v1/scenes/`). Each report groups the records the user may see through the view (the
//! same scoping as a listing: `connected_to_user`, the parent record, `filters=`) by one
//! field and computes its calculations per group, live from the stored records.
//!
//! The shape of real report answers is not recorded anywhere we know of (knack-api-helper
//! and bimsc read `reports[0].records` / `report.records` only): what is here is a guess,
//! see `docs/fake-knack.md`.

use std::cmp::Ordering;
use std::collections::HashMap;

use serde_json::{json, Map, Value};

use crate::config::Switches;
use crate::filters::{cmp_keys, sort_key, Filters, SortKey};
use crate::format::Render;
use crate::request::{Output, RequestCtx, Resp};
use crate::schema::{Calc, CalcSchema, FieldType, ReportSchema};
use crate::state::FakeState;
use crate::store::{Record, Val};
use crate::views::{open, Op, Opened};

pub fn handle(
    st: &FakeState,
    ctx: &RequestCtx,
    sw: &Switches,
    scene_ref: &str,
    view_ref: &str,
    n: Option<&str>,
) -> Output {
    let op = (ctx.method == http::Method::GET).then_some(Op::Report);
    let Opened {
        view,
        user_id,
        scope,
        ..
    } = match open(st, ctx, sw, scene_ref, view_ref, op) {
        Ok(o) => o,
        Err(out) => return out,
    };
    let with_user = |resp: Resp| Output {
        resp,
        user_id,
        applied: false,
    };
    let which = match n {
        None => None,
        Some(s) => match s.trim().parse::<usize>() {
            Ok(i) if i < view.reports.len() => Some(i),
            _ => return with_user(Resp::error(sw.not_found_status, "Report not found")),
        },
    };
    let obj_i = view.object;
    let obj = &st.schema.objects[obj_i];
    let data = st.read();
    let render = st.render(&data);
    let raw_filters = ctx.param("filters").unwrap_or("");
    let filters = match Filters::parse(raw_filters, obj, &render) {
        Ok(f) => f,
        Err(msg) => return with_user(Resp::error(400, &msg)),
    };
    let echo = echo_filters(raw_filters);
    let now_local = st.schema.app.tz.to_local(st.clock.now_ms());
    let hits: Vec<&Record> = data.tables[obj_i]
        .iter()
        .filter(|r| scope.visible(view, r))
        .filter(|r| filters.is_empty() || filters.matches(obj_i, r, &render, now_local))
        .collect();
    let one = |r: &ReportSchema| report(&render, obj_i, r, &hits, &echo);
    let body = match which {
        Some(i) => json!({ "report": one(&view.reports[i]) }),
        None => json!({ "reports": view.reports.iter().map(one).collect::<Vec<_>>() }),
    };
    with_user(Resp::value(200, &body))
}

/// The rules of the request's `filters` (a `{match, rules}` object or a bare array), `[]`
/// without.
fn echo_filters(raw: &str) -> Value {
    if raw.trim().is_empty() {
        return json!([]);
    }
    match serde_json::from_str::<Value>(raw) {
        Ok(Value::Array(a)) => Value::Array(a),
        Ok(Value::Object(o)) => o.get("rules").cloned().unwrap_or_else(|| json!([])),
        _ => json!([]),
    }
}

/// A JSON number, integral when it is one.
fn num(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        json!(x as i64)
    } else {
        json!(x)
    }
}

fn calc(c: &CalcSchema, recs: &[&Record]) -> Value {
    let Some(fi) = c.field else {
        return json!(recs.len());
    };
    let nums: Vec<f64> = recs
        .iter()
        .filter_map(|r| match &r.vals[fi] {
            Val::Num(n) => Some(*n),
            _ => None,
        })
        .collect();
    let sum: f64 = nums.iter().sum();
    match c.calc {
        Calc::Count => json!(recs.len()),
        Calc::Sum => num(sum),
        Calc::Average if nums.is_empty() => Value::Null,
        Calc::Average => num(sum / nums.len() as f64),
        Calc::Min => nums
            .iter()
            .copied()
            .reduce(f64::min)
            .map_or(Value::Null, num),
        Calc::Max => nums
            .iter()
            .copied()
            .reduce(f64::max)
            .map_or(Value::Null, num),
    }
}

struct Group<'a> {
    label: String,
    /// Position among a multiple choice field's options (`usize::MAX`: not one of them).
    option: usize,
    key: SortKey,
    recs: Vec<&'a Record>,
}

fn report(
    render: &Render<'_>,
    obj_i: usize,
    r: &ReportSchema,
    hits: &[&Record],
    filters: &Value,
) -> Value {
    let field = &render.schema.objects[obj_i].fields[r.group];
    let mut groups: Vec<Group<'_>> = Vec::new();
    let mut by_label: HashMap<String, usize> = HashMap::new();
    for rec in hits {
        let v = &rec.vals[r.group];
        let label = render.plain(obj_i, r.group, v);
        let i = *by_label.entry(label.clone()).or_insert_with(|| {
            let option = if field.ftype == FieldType::MultipleChoice {
                field
                    .options
                    .iter()
                    .position(|o| *o == label)
                    .unwrap_or(usize::MAX)
            } else {
                usize::MAX
            };
            groups.push(Group {
                label,
                option,
                key: sort_key(render, obj_i, r.group, v),
                recs: Vec::new(),
            });
            groups.len() - 1
        });
        groups[i].recs.push(rec);
    }
    groups.sort_by(|a, b| match a.option.cmp(&b.option) {
        Ordering::Equal => cmp_keys(&a.key, &b.key),
        o => o,
    });
    let records: Vec<Value> = groups
        .iter()
        .map(|g| {
            let mut row = Map::new();
            row.insert("group_0".into(), Value::String(g.label.clone()));
            for (i, c) in r.calcs.iter().enumerate() {
                row.insert(format!("calc_{i}"), calc(c, &g.recs));
            }
            Value::Object(row)
        })
        .collect();
    let mut summary = Map::new();
    summary.insert("total_records".into(), json!(hits.len()));
    for (i, c) in r.calcs.iter().enumerate() {
        summary.insert(format!("calc_{i}"), calc(c, hits));
    }
    let calculations: Vec<Value> = r
        .calcs
        .iter()
        .enumerate()
        .map(|(i, c)| {
            json!({
                "key": format!("calc_{i}"),
                "calc": c.calc.as_str(),
                "field": c.field.map(|fi| render.schema.objects[obj_i].fields[fi].key.clone()),
                "label": c.label,
            })
        })
        .collect();
    json!({
        "title": r.title,
        "type": r.chart,
        "groups": [{"key": "group_0", "field": field.key, "label": field.name}],
        "calculations": calculations,
        "records": records,
        "filters": filters,
        "summary": summary,
    })
}

//! `/v1/pages/{scene}/views/{view}/records[/{id}]`: list, get, insert, update, delete
//! through a view, with scene access rules, view source filters and form rules.

use serde_json::{json, Map, Value};

use crate::auth::{check_api_key, check_app_header, token_error, user_from_headers};
use crate::config::{Switches, WriteResponse};
use crate::filters::{cmp_keys, sort_key, Filters};
use crate::format::{Format, Render};
use crate::ids::Id;
use crate::json::write_str;
use crate::recorded::RecordedRecord;
use crate::request::{Output, RequestCtx, Resp};
use crate::schema::{Access, FormAction, RuleAction, SceneSchema, UserLink, ViewSchema, ViewType};
use crate::state::{Counter, FakeState};
use crate::store::{Data, Record, Val};
use crate::values::{check_refs, parse_input, FieldError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    List,
    One,
    Insert,
    Update,
    Delete,
    /// `GET .../report[/{n}]` of a report view.
    Report,
}

fn supports(view: &ViewSchema, op: Op) -> bool {
    let readable = matches!(
        view.vtype,
        ViewType::Table | ViewType::List | ViewType::Details | ViewType::Search
    );
    match op {
        Op::List | Op::One => readable,
        Op::Insert => view.vtype == ViewType::Form && view.action == Some(FormAction::Insert),
        Op::Update => {
            (view.vtype == ViewType::Form && view.action == Some(FormAction::Update))
                || (readable && view.inline_edit)
        }
        Op::Delete => view.delete,
        Op::Report => view.vtype == ViewType::Report,
    }
}

/// Who is asking and in which parent context: decides which records a view shows.
#[derive(Clone, Copy)]
pub(crate) struct Scope {
    user: Option<Id>,
    parent: Option<Id>,
}

impl Scope {
    pub(crate) fn visible(&self, view: &ViewSchema, rec: &Record) -> bool {
        if let Some(link) = view.connected_to_user {
            let Some(uid) = self.user else {
                return false;
            };
            let ok = match link {
                UserLink::SelfRecord => rec.id == uid,
                UserLink::Field(fi) => {
                    matches!(&rec.vals[fi], Val::Conn(ids) if ids.contains(&uid))
                }
            };
            if !ok {
                return false;
            }
        }
        if let (Some(p), Some(pid)) = (view.parent, self.parent) {
            if !matches!(&rec.vals[p.field], Val::Conn(ids) if ids.contains(&pid)) {
                return false;
            }
        }
        true
    }
}

fn errors_resp(errors: &[FieldError]) -> Resp {
    let list: Vec<Value> = errors
        .iter()
        .map(|e| json!({"field": e.field, "type": e.kind, "message": e.message}))
        .collect();
    Resp::value(400, &json!({ "errors": list }))
}

/// A view request that passed the checks every view route makes.
pub(crate) struct Opened<'a> {
    pub scene: &'a SceneSchema,
    pub view: &'a ViewSchema,
    pub op: Op,
    pub user_id: Option<Id>,
    pub scope: Scope,
}

/// The checks of every view route, in this order: `X-Knack-Application-Id`, API key,
/// scene, view, whether the view supports `op` (`None`: a method no view supports), token,
/// login/profile, parent parameter. An `Err` is the answer.
pub(crate) fn open<'a>(
    st: &'a FakeState,
    ctx: &RequestCtx,
    sw: &Switches,
    scene_ref: &str,
    view_ref: &str,
    op: Option<Op>,
) -> Result<Opened<'a>, Output> {
    check_app_header(st, ctx, sw)?;
    check_api_key(ctx, sw)?;
    let nf = sw.not_found_status;
    let Some(scene) = st.schema.scene(scene_ref) else {
        return Err(Resp::error(nf, "Page not found").into());
    };
    let Some(view) = scene.view(view_ref) else {
        return Err(Resp::error(nf, "View not found").into());
    };
    let Some(op) = op.filter(|op| supports(view, *op)) else {
        return Err(Resp::error(
            sw.unsupported_status,
            "This view does not support this action",
        )
        .into());
    };
    let user = user_from_headers(st, ctx).map_err(|e| Output::from(token_error(sw, e)))?;
    let user_id = user.map(|u| u.id);
    let with_user = |resp: Resp| Output {
        resp,
        user_id,
        applied: false,
    };
    if scene.access == Access::Login {
        let Some(u) = user else {
            return Err(with_user(Resp::error(401, "Login required")));
        };
        if !scene.profiles.is_empty() && !u.profile_keys.iter().any(|p| scene.profiles.contains(p))
        {
            return Err(with_user(Resp::error(
                403,
                "You are not authorized to access this view",
            )));
        }
    }
    // Parent record context (`?{scene_slug}_id=`).
    let parent = match view.parent {
        None => None,
        Some(p) => {
            let param = format!("{}_id", scene.slug);
            let raw = ctx.param(&param).map(str::trim).unwrap_or("");
            if raw.is_empty() {
                return Err(with_user(Resp::value(
                    400,
                    &json!({"errors": [{"message": format!("{param} is required for this view")}]}),
                )));
            }
            let found = Id::parse(raw).filter(|id| st.read().tables[p.object].get(id).is_some());
            match found {
                Some(id) => Some(id),
                None => return Err(with_user(Resp::error(nf, "Record not found"))),
            }
        }
    };
    Ok(Opened {
        scene,
        view,
        op,
        user_id,
        scope: Scope {
            user: user_id,
            parent,
        },
    })
}

pub fn handle(
    st: &FakeState,
    ctx: &RequestCtx,
    sw: &Switches,
    scene_ref: &str,
    view_ref: &str,
    rec_ref: Option<&str>,
) -> Output {
    let op = match (&ctx.method, rec_ref) {
        (&http::Method::GET, None) => Some(Op::List),
        (&http::Method::GET, Some(_)) => Some(Op::One),
        (&http::Method::POST, None) => Some(Op::Insert),
        (&http::Method::PUT, Some(_)) => Some(Op::Update),
        (&http::Method::DELETE, Some(_)) => Some(Op::Delete),
        _ => None,
    };
    let Opened {
        scene,
        view,
        op,
        user_id,
        scope,
    } = match open(st, ctx, sw, scene_ref, view_ref, op) {
        Ok(o) => o,
        Err(out) => return out,
    };
    let with_user = |resp: Resp| Output {
        resp,
        user_id,
        applied: false,
    };
    // A record id that is not 24 hex: 400 `Malformed Record Key: <id>` as text/html
    // (recorded 2017, PUT and DELETE). A well-formed unknown id: `not_found_status`.
    let rec_id = match rec_ref {
        None => None,
        Some(s) => match Id::parse(s) {
            Some(id) => Some(id),
            None => {
                return with_user(Resp::recorded(
                    400,
                    &format!("Malformed Record Key: {s}"),
                    sw.error_bodies,
                ))
            }
        },
    };
    let mut out = match (op, rec_id) {
        (Op::List, _) => list(st, ctx, sw, view, scope),
        (Op::One, Some(id)) => one(st, ctx, sw, view, scope, id),
        (Op::Insert, _) => insert(st, ctx, sw, scene, view, scope),
        (Op::Update, Some(id)) => update(st, ctx, sw, view, scope, id),
        (Op::Delete, Some(id)) => delete(st, sw, view, scope, id),
        _ => Resp::error(
            sw.unsupported_status,
            "This view does not support this action",
        )
        .into(),
    };
    out.user_id = user_id;
    out
}

fn format_param(ctx: &RequestCtx) -> Result<Format, Resp> {
    Format::parse(ctx.param("format"))
        .ok_or_else(|| Resp::error(400, "format must be raw, html or both"))
}

fn list(
    st: &FakeState,
    ctx: &RequestCtx,
    sw: &Switches,
    view: &ViewSchema,
    scope: Scope,
) -> Output {
    let page = match ctx.param("page").map(str::trim) {
        None | Some("") => 1,
        Some(p) => match p.parse::<u64>() {
            Ok(n) if n >= 1 => n,
            _ => return Resp::error(400, "page must be a positive integer").into(),
        },
    };
    let rpp = match ctx.param("rows_per_page").map(str::trim) {
        None | Some("") => 25,
        Some(r) => match r.parse::<u64>() {
            Ok(n) if (1..=1000).contains(&n) => n,
            _ => return Resp::error(400, "rows_per_page must be between 1 and 1000").into(),
        },
    };
    let fmt = match format_param(ctx) {
        Ok(f) => f,
        Err(r) => return r.into(),
    };
    let obj_i = view.object;
    let obj = &st.schema.objects[obj_i];
    if let Some(table) = &obj.recorded {
        let asked = |name: &str| ctx.param(name).is_some_and(|v| !v.trim().is_empty());
        if asked("filters") || asked("sort_field") {
            return Resp::error(400, RECORDED_QUERY).into();
        }
        let rows: Vec<&RecordedRecord> = table.iter().collect();
        let page = Page {
            number: page,
            rows_per_page: rpp,
        };
        return envelope(ctx, sw, page, &rows, |out, r| {
            r.write(out, &view.render_fields, fmt)
        })
        .into();
    }
    let sort: Vec<(usize, bool)> = match ctx.param("sort_field").map(str::trim) {
        None | Some("") => view.sort.clone(),
        Some(k) => {
            let Some(fi) = obj.field(k) else {
                return Resp::error(400, &format!("Invalid sort_field: {k}")).into();
            };
            let desc = match ctx
                .param("sort_order")
                .map(|s| s.trim().to_ascii_lowercase())
            {
                None => false,
                Some(o) if o.is_empty() || o == "asc" => false,
                Some(o) if o == "desc" => true,
                Some(_) => return Resp::error(400, "sort_order must be asc or desc").into(),
            };
            vec![(fi, desc)]
        }
    };

    let data = st.read();
    let render = st.render(&data);
    let filters = match Filters::parse(ctx.param("filters").unwrap_or(""), obj, &render) {
        Ok(f) => f,
        Err(msg) => return Resp::error(400, &msg).into(),
    };
    let now_local = st.schema.app.tz.to_local(st.clock.now_ms());
    let mut hits: Vec<&Record> = data.tables[obj_i]
        .iter()
        .filter(|r| scope.visible(view, r))
        .filter(|r| filters.is_empty() || filters.matches(obj_i, r, &render, now_local))
        .collect();
    if !sort.is_empty() {
        let mut keyed: Vec<(Vec<_>, &Record)> = hits
            .into_iter()
            .map(|r| {
                let keys = sort
                    .iter()
                    .map(|&(fi, _)| sort_key(&render, obj_i, fi, &r.vals[fi]))
                    .collect();
                (keys, r)
            })
            .collect();
        keyed.sort_by(|a, b| {
            for (i, &(_, desc)) in sort.iter().enumerate() {
                let o = cmp_keys(&a.0[i], &b.0[i]);
                let o = if desc { o.reverse() } else { o };
                if o.is_ne() {
                    return o;
                }
            }
            std::cmp::Ordering::Equal
        });
        hits = keyed.into_iter().map(|(_, r)| r).collect();
    }
    let page = Page {
        number: page,
        rows_per_page: rpp,
    };
    envelope(ctx, sw, page, &hits, |out, r| {
        render.record(out, obj_i, r, &view.render_fields, fmt)
    })
    .into()
}

/// Refusal of `filters` and `sort_field` on a view of a recorded object.
const RECORDED_QUERY: &str =
    "filters and sort_field are not supported on this view: its records are recorded (fake-knack)";

/// The `page` and `rows_per_page` of a list request.
#[derive(Clone, Copy)]
struct Page {
    number: u64,
    rows_per_page: u64,
}

/// The list answer: `{"total_pages","current_page","total_records","records":[...]}` with
/// the requested page of `hits`, each written by `write`.
fn envelope<T>(
    ctx: &RequestCtx,
    sw: &Switches,
    page: Page,
    hits: &[T],
    mut write: impl FnMut(&mut Vec<u8>, &T),
) -> Resp {
    let total = (hits.len() as u64).saturating_add(sw.overstate_total_records);
    let total_pages = total.div_ceil(page.rows_per_page);
    let start = (page.number - 1).saturating_mul(page.rows_per_page);
    let page_rows: &[T] = if start >= hits.len() as u64 {
        &[]
    } else {
        let end = (start + page.rows_per_page).min(hits.len() as u64);
        &hits[start as usize..end as usize]
    };
    let mut out = Vec::with_capacity(128 + page_rows.len() * 400);
    out.extend_from_slice(b"{\"total_pages\":");
    out.extend_from_slice(total_pages.to_string().as_bytes());
    // With `page` in the query, Knack echoes it as a string (recorded 2015: `"current_page":"2"`).
    out.extend_from_slice(b",\"current_page\":");
    let echoed = ctx.param("page").is_some_and(|p| !p.trim().is_empty());
    if echoed && sw.current_page_string {
        write_str(&mut out, &page.number.to_string());
    } else {
        out.extend_from_slice(page.number.to_string().as_bytes());
    }
    out.extend_from_slice(b",\"total_records\":");
    out.extend_from_slice(total.to_string().as_bytes());
    out.extend_from_slice(b",\"records\":[");
    for (i, r) in page_rows.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write(&mut out, r);
    }
    out.extend_from_slice(b"]}");
    Resp::json(200, out)
}

fn one(
    st: &FakeState,
    ctx: &RequestCtx,
    sw: &Switches,
    view: &ViewSchema,
    scope: Scope,
    id: Id,
) -> Output {
    let fmt = match format_param(ctx) {
        Ok(f) => f,
        Err(r) => return r.into(),
    };
    if let Some(table) = &st.schema.objects[view.object].recorded {
        let Some(rec) = table.get(&id) else {
            return Resp::error(sw.not_found_status, "Record not found").into();
        };
        let mut out = Vec::with_capacity(4096);
        rec.write(&mut out, &view.render_fields, fmt);
        return Resp::json(200, out).into();
    }
    let data = st.read();
    let Some(rec) = data.tables[view.object]
        .get(&id)
        .filter(|r| scope.visible(view, r))
    else {
        return Resp::error(sw.not_found_status, "Record not found").into();
    };
    let mut out = Vec::with_capacity(512);
    st.render(&data)
        .record(&mut out, view.object, rec, &view.render_fields, fmt);
    Resp::json(200, out).into()
}

fn body_object(ctx: &RequestCtx) -> Result<Map<String, Value>, Resp> {
    if ctx.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(&ctx.body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(Resp::error(400, "Request body must be a JSON object")),
        Err(_) => Err(Resp::error(400, "Invalid JSON body")),
    }
}

/// Parses the form inputs present in `body` into `vals`, collecting errors.
fn apply_inputs(
    st: &FakeState,
    data: &Data,
    view: &ViewSchema,
    body: &Map<String, Value>,
    vals: &mut [Val],
    rec_id: Option<Id>,
    errors: &mut Vec<FieldError>,
) -> Vec<usize> {
    let obj = &st.schema.objects[view.object];
    let mut written = Vec::new();
    let mut claimed: Vec<Id> = Vec::new();
    for &fi in &view.inputs {
        let f = &obj.fields[fi];
        let Some(v) = body.get(&f.key) else {
            continue;
        };
        let parsed = parse_input(f, v, &st.schema.app.tz)
            .and_then(|val| check_refs(f, &val, data, (view.object, rec_id, fi)).map(|_| val));
        match parsed {
            Ok(val) => {
                if let Val::File(a) = &val {
                    if claimed.contains(a) {
                        errors.push(FieldError {
                            field: f.key.clone(),
                            kind: "file",
                            message: format!("{}: unknown or already used file.", f.name),
                        });
                        continue;
                    }
                    claimed.push(*a);
                }
                vals[fi] = val;
                written.push(fi);
            }
            Err(e) => errors.push(e),
        }
    }
    written
}

fn apply_rules(st: &FakeState, view: &ViewSchema, scope: Scope, vals: &mut [Val]) {
    for rule in &view.rules {
        let v = match &rule.action {
            RuleAction::LoggedInUser => match scope.user {
                Some(u) => Val::Conn(vec![u]),
                None => continue,
            },
            RuleAction::ParentRecord => match scope.parent {
                Some(p) => Val::Conn(vec![p]),
                None => continue,
            },
            RuleAction::Now => Val::Date(st.schema.app.tz.to_local(st.clock.now_ms())),
            RuleAction::Value(v) => v.clone(),
        };
        vals[rule.field] = v;
    }
}

/// Marks the assets of file fields as used by this record.
fn claim_assets(data: &mut Data, obj: usize, rec: &Record) {
    for (fi, v) in rec.vals.iter().enumerate() {
        if let Val::File(a) = v {
            if let Some(asset) = data.assets.get_mut(a) {
                asset.used_by = Some((obj, rec.id, fi));
            }
        }
    }
}

fn write_reply(render: &Render<'_>, sw: &Switches, view: &ViewSchema, rec: &Record) -> Resp {
    let mut out = Vec::with_capacity(1024);
    if sw.write_response == WriteResponse::Wrapped {
        out.extend_from_slice(b"{\"record\":");
    }
    render.record(
        &mut out,
        view.object,
        rec,
        &view.render_fields,
        Format::Both,
    );
    if sw.write_response == WriteResponse::Wrapped {
        out.push(b'}');
    }
    Resp::json(200, out)
}

fn sort_errors(st: &FakeState, view: &ViewSchema, errors: &mut [FieldError]) {
    let obj = &st.schema.objects[view.object];
    errors.sort_by_key(|e| obj.field(&e.field).unwrap_or(usize::MAX));
}

fn insert(
    st: &FakeState,
    ctx: &RequestCtx,
    sw: &Switches,
    _scene: &SceneSchema,
    view: &ViewSchema,
    scope: Scope,
) -> Output {
    let body = match body_object(ctx) {
        Ok(b) => b,
        Err(r) => return r.into(),
    };
    let obj = &st.schema.objects[view.object];
    let mut data = st.write();
    let mut vals: Vec<Val> = obj
        .fields
        .iter()
        .map(|f| f.default.clone().unwrap_or(Val::Empty))
        .collect();
    let mut errors = Vec::new();
    apply_inputs(st, &data, view, &body, &mut vals, None, &mut errors);
    apply_rules(st, view, scope, &mut vals);
    for (fi, f) in obj.fields.iter().enumerate() {
        if f.required && vals[fi].is_blank() && !errors.iter().any(|e| e.field == f.key) {
            errors.push(FieldError::required(f));
        }
    }
    if !errors.is_empty() {
        sort_errors(st, view, &mut errors);
        return errors_resp(&errors).into();
    }
    let rec = Record {
        id: st.ids.next(),
        vals: vals.into_boxed_slice(),
    };
    claim_assets(&mut data, view.object, &rec);
    let id = rec.id;
    data.tables[view.object].insert(rec);
    let resp = match data.tables[view.object].get(&id) {
        Some(rec) => write_reply(&st.render(&data), sw, view, rec),
        None => Resp::error(500, "Record vanished"),
    };
    drop(data);
    st.count(Counter::Insert);
    Output {
        resp,
        user_id: None,
        applied: true,
    }
}

fn update(
    st: &FakeState,
    ctx: &RequestCtx,
    sw: &Switches,
    view: &ViewSchema,
    scope: Scope,
    id: Id,
) -> Output {
    let body = match body_object(ctx) {
        Ok(b) => b,
        Err(r) => return r.into(),
    };
    let obj = &st.schema.objects[view.object];
    let mut data = st.write();
    let Some(current) = data.tables[view.object]
        .get(&id)
        .filter(|r| scope.visible(view, r))
    else {
        return Resp::error(sw.not_found_status, "Record not found").into();
    };
    let mut vals = current.vals.to_vec();
    let mut errors = Vec::new();
    let written = apply_inputs(st, &data, view, &body, &mut vals, Some(id), &mut errors);
    for fi in written {
        let f = &obj.fields[fi];
        if f.required && vals[fi].is_blank() {
            errors.push(FieldError::required(f));
        }
    }
    if !errors.is_empty() {
        sort_errors(st, view, &mut errors);
        return errors_resp(&errors).into();
    }
    apply_rules(st, view, scope, &mut vals);
    let rec = Record {
        id,
        vals: vals.into_boxed_slice(),
    };
    claim_assets(&mut data, view.object, &rec);
    if let Some(slot) = data.tables[view.object].get_mut(&id) {
        *slot = rec;
    }
    let resp = match data.tables[view.object].get(&id) {
        Some(rec) => write_reply(&st.render(&data), sw, view, rec),
        None => Resp::error(500, "Record vanished"),
    };
    drop(data);
    st.count(Counter::Update);
    Output {
        resp,
        user_id: None,
        applied: true,
    }
}

fn delete(st: &FakeState, sw: &Switches, view: &ViewSchema, scope: Scope, id: Id) -> Output {
    let mut data = st.write();
    let visible = data.tables[view.object]
        .get(&id)
        .is_some_and(|r| scope.visible(view, r));
    if !visible {
        return Resp::error(sw.not_found_status, "Record not found").into();
    }
    data.tables[view.object].remove(&id);
    drop(data);
    st.count(Counter::Delete);
    Output {
        resp: Resp::json(200, &b"{\"delete\":true}"[..]),
        user_id: None,
        applied: true,
    }
}

//! The fixture file (an app's schema, users, scenes/views and seed records) as written, and
//! the compiler that checks it and turns it into a [`Schema`] and the initial [`Data`].

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::clock::Tz;
use crate::error::Error;
use crate::ids::Id;
use crate::recorded::RecordedTable;
use crate::schema::{
    Access, AppInfo, Calc, CalcSchema, FieldSchema, FieldType, FormAction, ObjectSchema,
    ParentLink, ReportSchema, Rule, RuleAction, SceneSchema, Schema, SeedSpec, UserLink,
    UserObject, UserSchema, ViewSchema, ViewType,
};
use crate::store::{Data, EmailVal, Record, Table, Val};
use crate::values::parse_input;

// ------------------------------------------------------------------------------------------
// File format
// ------------------------------------------------------------------------------------------

/// A parsed fixture file. Build one with [`Fixture::load`] or [`Fixture::from_json_str`].
#[derive(Debug, Clone)]
pub struct Fixture {
    pub(crate) file: FixtureFile,
}

impl Fixture {
    pub fn load(path: impl AsRef<Path>) -> Result<Fixture, Error> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| Error::ReadFixture {
            path: path.to_path_buf(),
            source,
        })?;
        Fixture::from_json_str(&text)
    }

    pub fn from_json_str(text: &str) -> Result<Fixture, Error> {
        let file: FixtureFile = serde_json::from_str(text)?;
        let fixture = Fixture { file };
        // Compile once to report problems early.
        compile(&fixture)?;
        Ok(fixture)
    }

    pub fn app_id(&self) -> &str {
        &self.file.application.id
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FixtureFile {
    application: AppDef,
    objects: Vec<ObjectDef>,
    #[serde(default)]
    users: Vec<UserDef>,
    scenes: Vec<SceneDef>,
    /// object key -> records: each with `id` and field values in the write format, or, for
    /// a recorded object, as Knack answers them (`field_N` and `field_N_raw`, kept verbatim).
    #[serde(default)]
    records: BTreeMap<String, Vec<Box<RawValue>>>,
    /// Where `--seed-tickets N` puts its records.
    #[serde(default)]
    seed_tickets: Option<SeedDef>,
    /// Free-form notes for humans.
    #[serde(default, rename = "_comment")]
    _comment: Option<Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct AppDef {
    id: String,
    name: String,
    slug: String,
    #[serde(default)]
    account_slug: Option<String>,
    #[serde(default = "default_tz")]
    timezone: String,
}

fn default_tz() -> String {
    "UTC".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ObjectDef {
    key: String,
    name: String,
    /// The field shown as a connection's identifier (default: the first field).
    #[serde(default)]
    identifier: Option<String>,
    #[serde(default)]
    user: Option<UserObjectDef>,
    /// Records kept as the fixture's JSON text and served verbatim (read-only views only).
    #[serde(default)]
    recorded: bool,
    fields: Vec<FieldDef>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserObjectDef {
    profile: String,
    email_field: String,
    #[serde(default)]
    password_field: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldDef {
    key: String,
    name: String,
    #[serde(rename = "type")]
    ftype: FieldType,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    options: Vec<String>,
    #[serde(default)]
    default: Option<Value>,
    /// Target object of a connection field.
    #[serde(default)]
    object: Option<String>,
    /// Knack's field `format` settings, shown as is in the metadata.
    #[serde(default)]
    format: Option<Map<String, Value>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserDef {
    object: String,
    id: String,
    email: String,
    password: String,
    #[serde(default = "approved")]
    approval_status: String,
    #[serde(default = "active")]
    account_status: String,
    #[serde(default)]
    profile_keys: Option<Vec<String>>,
    #[serde(default)]
    values: Map<String, Value>,
}

fn approved() -> String {
    "approved".into()
}
fn active() -> String {
    "active".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct SceneDef {
    key: String,
    slug: String,
    name: String,
    access: Access,
    #[serde(default)]
    profiles: Vec<String>,
    /// Parent scene slug (metadata only).
    #[serde(default)]
    parent: Option<String>,
    /// The object whose record a child scene shows (metadata only).
    #[serde(default)]
    object: Option<String>,
    views: Vec<ViewDef>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ViewDef {
    key: String,
    name: String,
    #[serde(rename = "type")]
    vtype: ViewType,
    object: String,
    #[serde(default)]
    action: Option<FormAction>,
    #[serde(default)]
    fields: Vec<String>,
    #[serde(default)]
    inputs: Vec<String>,
    #[serde(default)]
    rules: Vec<RuleDef>,
    #[serde(default)]
    inline_edit: bool,
    #[serde(default)]
    delete: bool,
    #[serde(default)]
    connected_to_user: Option<String>,
    #[serde(default)]
    parent: Option<ParentDef>,
    #[serde(default)]
    sort: Vec<SortDef>,
    /// The reports of a `report` view.
    #[serde(default)]
    reports: Vec<ReportDef>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportDef {
    title: String,
    /// pie, bar, line, area or table
    #[serde(rename = "type")]
    chart: String,
    /// The field the records are grouped by.
    group: String,
    calculations: Vec<CalcDef>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CalcDef {
    calc: Calc,
    #[serde(default)]
    field: Option<String>,
    #[serde(default)]
    label: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleDef {
    set: String,
    #[serde(default)]
    to: Option<String>,
    #[serde(default)]
    value: Option<Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ParentDef {
    object: String,
    connection_field: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct SortDef {
    field: String,
    #[serde(default)]
    order: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedDef {
    object: String,
    #[serde(default)]
    connect: BTreeMap<String, String>,
}

// ------------------------------------------------------------------------------------------
// Compiler
// ------------------------------------------------------------------------------------------

fn bad(msg: impl Into<String>) -> Error {
    Error::Fixture(msg.into())
}

/// Resolves every reference of a fixture and builds its initial data.
pub(crate) fn compile(fx: &Fixture) -> Result<(Schema, Data), Error> {
    let f = &fx.file;
    if Id::parse(&f.application.id).is_none() {
        return Err(bad("application.id must be 24 hex digits"));
    }
    let tz = Tz::from_name(&f.application.timezone);
    let app = AppInfo {
        id: f.application.id.to_lowercase(),
        name: f.application.name.clone(),
        slug: f.application.slug.clone(),
        account_slug: f
            .application
            .account_slug
            .clone()
            .unwrap_or_else(|| f.application.slug.clone()),
        timezone: f.application.timezone.clone(),
        tz,
    };

    // Objects and fields.
    let mut object_by_key = HashMap::new();
    for (i, o) in f.objects.iter().enumerate() {
        if object_by_key.insert(o.key.clone(), i).is_some() {
            return Err(bad(format!("duplicate object {}", o.key)));
        }
    }
    let mut all_fields = HashSet::new();
    let mut objects = Vec::with_capacity(f.objects.len());
    for o in &f.objects {
        let mut field_by_key = HashMap::new();
        let mut fields = Vec::with_capacity(o.fields.len());
        for (i, fd) in o.fields.iter().enumerate() {
            if !all_fields.insert(fd.key.clone()) {
                return Err(bad(format!("duplicate field {}", fd.key)));
            }
            field_by_key.insert(fd.key.clone(), i);
            let target = match (fd.ftype, &fd.object) {
                (FieldType::Connection, Some(t)) => Some(
                    *object_by_key
                        .get(t)
                        .ok_or_else(|| bad(format!("{}: unknown object {t}", fd.key)))?,
                ),
                (FieldType::Connection, None) => {
                    return Err(bad(format!("{}: connection needs `object`", fd.key)))
                }
                _ => None,
            };
            if fd.ftype == FieldType::MultipleChoice && fd.options.is_empty() {
                return Err(bad(format!("{}: multiple_choice needs options", fd.key)));
            }
            fields.push(FieldSchema {
                key: fd.key.clone(),
                name: fd.name.clone(),
                ftype: fd.ftype,
                required: fd.required,
                options: fd.options.clone(),
                default: None,
                target,
                format: fd.format.clone(),
            });
        }
        for (fs, fd) in fields.iter_mut().zip(&o.fields) {
            if let Some(d) = &fd.default {
                let v = parse_input(fs, d, &tz)
                    .map_err(|e| bad(format!("{}: bad default: {}", fd.key, e.message)))?;
                fs.default = Some(v);
            }
        }
        let identifier = match &o.identifier {
            Some(k) => *field_by_key
                .get(k)
                .ok_or_else(|| bad(format!("{}: unknown identifier {k}", o.key)))?,
            None => 0,
        };
        if fields.is_empty() {
            return Err(bad(format!("{} has no fields", o.key)));
        }
        let user = match &o.user {
            Some(u) => {
                let email_field = *field_by_key
                    .get(&u.email_field)
                    .ok_or_else(|| bad(format!("{}: unknown email_field", o.key)))?;
                let password_field = match &u.password_field {
                    Some(p) => Some(
                        *field_by_key
                            .get(p)
                            .ok_or_else(|| bad(format!("{}: unknown password_field", o.key)))?,
                    ),
                    None => None,
                };
                Some(UserObject {
                    profile: u.profile.clone(),
                    email_field,
                    password_field,
                })
            }
            None => None,
        };
        objects.push(ObjectSchema {
            key: o.key.clone(),
            name: o.name.clone(),
            identifier,
            user,
            fields,
            field_by_key,
            recorded: None,
        });
    }
    check_recorded_objects(f, &objects)?;

    let mut data = Data {
        tables: vec![Table::default(); objects.len()],
        assets: HashMap::new(),
    };

    // Users (each is also a record of its user object).
    let mut users = Vec::new();
    let mut user_by_email = HashMap::new();
    let mut user_by_id = HashMap::new();
    for u in &f.users {
        let oi = *object_by_key
            .get(&u.object)
            .ok_or_else(|| bad(format!("user {}: unknown object {}", u.email, u.object)))?;
        let obj = &objects[oi];
        let uo = obj.user.as_ref().ok_or_else(|| {
            bad(format!(
                "user {}: {} is not a user object",
                u.email, obj.key
            ))
        })?;
        let id = Id::parse(&u.id).ok_or_else(|| bad(format!("user {}: bad id", u.email)))?;
        let mut vals = record_vals(obj, &u.values, &tz, &format!("user {}", u.email))?;
        vals[uo.email_field] = Val::Email(Box::new(EmailVal {
            email: u.email.clone(),
            label: String::new(),
        }));
        if let Some(p) = uo.password_field {
            vals[p] = Val::Empty;
        }
        if !data.tables[oi].insert(Record {
            id,
            vals: vals.into_boxed_slice(),
        }) {
            return Err(bad(format!("duplicate record id {}", u.id)));
        }
        let idx = users.len();
        if user_by_email
            .insert(u.email.trim().to_lowercase(), idx)
            .is_some()
        {
            return Err(bad(format!("duplicate user email {}", u.email)));
        }
        if user_by_id.insert(id, idx).is_some() {
            return Err(bad(format!("duplicate user id {}", u.id)));
        }
        users.push(UserSchema {
            id,
            object: oi,
            email: u.email.clone(),
            password: u.password.clone(),
            approval_status: u.approval_status.clone(),
            account_status: u.account_status.clone(),
            profile_keys: u
                .profile_keys
                .clone()
                .unwrap_or_else(|| vec![uo.profile.clone()]),
        });
    }

    // Seed records.
    for (okey, recs) in &f.records {
        let oi = *object_by_key
            .get(okey)
            .ok_or_else(|| bad(format!("records: unknown object {okey}")))?;
        if f.objects[oi].recorded {
            objects[oi].recorded = Some(RecordedTable::parse(&objects[oi], recs)?);
            continue;
        }
        for raw in recs {
            let r: Map<String, Value> = serde_json::from_str(raw.get())
                .map_err(|e| bad(format!("records of {okey}: {e}")))?;
            let id = r
                .get("id")
                .and_then(Value::as_str)
                .and_then(Id::parse)
                .ok_or_else(|| bad(format!("records of {okey}: each needs a 24-hex id")))?;
            let mut values = r.clone();
            values.remove("id");
            let vals = record_vals(&objects[oi], &values, &tz, &format!("record {id}"))?;
            if !data.tables[oi].insert(Record {
                id,
                vals: vals.into_boxed_slice(),
            }) {
                return Err(bad(format!("duplicate record id {id}")));
            }
        }
    }
    for (o, od) in objects.iter_mut().zip(&f.objects) {
        if od.recorded && o.recorded.is_none() {
            o.recorded = Some(RecordedTable::default());
        }
    }
    // Every connection must point at an existing record.
    for (oi, obj) in objects.iter().enumerate() {
        for rec in data.tables[oi].iter() {
            for (fi, fs) in obj.fields.iter().enumerate() {
                if let (Val::Conn(ids), Some(t)) = (&rec.vals[fi], fs.target) {
                    for id in ids {
                        if data.tables[t].get(id).is_none() {
                            return Err(bad(format!(
                                "record {}: {} points at unknown record {id}",
                                rec.id, fs.key
                            )));
                        }
                    }
                }
            }
        }
    }

    // Scenes and views.
    let mut scenes = Vec::new();
    let mut scene_lookup = HashMap::new();
    let mut view_keys = HashSet::new();
    for (si, s) in f.scenes.iter().enumerate() {
        if scene_lookup.insert(s.key.clone(), si).is_some()
            || scene_lookup.insert(s.slug.clone(), si).is_some()
        {
            return Err(bad(format!("duplicate scene key or slug {}", s.key)));
        }
        let mut views = Vec::new();
        for v in &s.views {
            if !view_keys.insert(v.key.clone()) {
                return Err(bad(format!("duplicate view {}", v.key)));
            }
            let view = compile_view(v, &objects, &object_by_key, &tz)?;
            if f.objects[view.object].recorded {
                check_recorded_view(v)?;
            }
            views.push(view);
        }
        scenes.push(SceneSchema {
            key: s.key.clone(),
            slug: s.slug.clone(),
            name: s.name.clone(),
            access: s.access,
            profiles: s.profiles.clone(),
            parent: s.parent.clone(),
            object: s.object.clone(),
            views,
        });
    }

    let seed_tickets = match &f.seed_tickets {
        Some(sd) => {
            let oi = *object_by_key
                .get(&sd.object)
                .ok_or_else(|| bad(format!("seed_tickets: unknown object {}", sd.object)))?;
            if f.objects[oi].recorded {
                return Err(bad(format!("seed_tickets: {} is recorded", sd.object)));
            }
            let mut connect = Vec::new();
            for (fk, rid) in &sd.connect {
                let fi = objects[oi]
                    .field(fk)
                    .ok_or_else(|| bad(format!("seed_tickets: unknown field {fk}")))?;
                let id = Id::parse(rid).ok_or_else(|| bad("seed_tickets: bad record id"))?;
                connect.push((fi, id));
            }
            Some(SeedSpec {
                object: oi,
                connect,
            })
        }
        None => None,
    };

    Ok((
        Schema {
            app,
            objects,
            object_by_key,
            scenes,
            scene_lookup,
            users,
            user_by_email,
            user_by_id,
            seed_tickets,
        },
        data,
    ))
}

/// A recorded object is neither a user object nor the target of a connection (its records
/// are JSON text, not values the fake could look up).
fn check_recorded_objects(f: &FixtureFile, objects: &[ObjectSchema]) -> Result<(), Error> {
    for (od, o) in f.objects.iter().zip(objects) {
        if od.recorded && od.user.is_some() {
            return Err(bad(format!(
                "{}: a recorded object cannot be a user object",
                o.key
            )));
        }
        for fs in &o.fields {
            if let Some(t) = fs.target.filter(|&t| f.objects[t].recorded) {
                return Err(bad(format!(
                    "{}: a connection cannot point at recorded object {}",
                    fs.key, objects[t].key
                )));
            }
        }
    }
    Ok(())
}

/// Views of a recorded object only read: no forms, edits, deletes, record filters or sort.
fn check_recorded_view(v: &ViewDef) -> Result<(), Error> {
    let refused = if v.vtype == ViewType::Form {
        Some("a form")
    } else if v.inline_edit {
        Some("inline_edit")
    } else if v.delete {
        Some("delete")
    } else if v.connected_to_user.is_some() {
        Some("connected_to_user")
    } else if v.parent.is_some() {
        Some("parent")
    } else if !v.sort.is_empty() {
        Some("sort")
    } else if v.vtype == ViewType::Report {
        Some("reports")
    } else {
        None
    };
    match refused {
        Some(what) => Err(bad(format!(
            "{}: a view of recorded object {} cannot have {what}",
            v.key, v.object
        ))),
        None => Ok(()),
    }
}

fn record_vals(
    obj: &ObjectSchema,
    values: &Map<String, Value>,
    tz: &Tz,
    what: &str,
) -> Result<Vec<Val>, Error> {
    let mut vals: Vec<Val> = obj
        .fields
        .iter()
        .map(|f| f.default.clone().unwrap_or(Val::Empty))
        .collect();
    for (k, v) in values {
        let fi = obj
            .field(k)
            .ok_or_else(|| bad(format!("{what}: {} has no field {k}", obj.key)))?;
        vals[fi] = parse_input(&obj.fields[fi], v, tz)
            .map_err(|e| bad(format!("{what}: {}", e.message)))?;
    }
    Ok(vals)
}

fn compile_view(
    v: &ViewDef,
    objects: &[ObjectSchema],
    object_by_key: &HashMap<String, usize>,
    tz: &Tz,
) -> Result<ViewSchema, Error> {
    let oi = *object_by_key
        .get(&v.object)
        .ok_or_else(|| bad(format!("{}: unknown object {}", v.key, v.object)))?;
    let obj = &objects[oi];
    let resolve = |keys: &[String]| -> Result<Vec<usize>, Error> {
        keys.iter()
            .map(|k| {
                obj.field(k)
                    .ok_or_else(|| bad(format!("{}: {} has no field {k}", v.key, obj.key)))
            })
            .collect()
    };
    let fields = resolve(&v.fields)?;
    let mut inputs = resolve(&v.inputs)?;
    if v.vtype == ViewType::Form && v.action.is_none() {
        return Err(bad(format!("{}: a form needs action insert|update", v.key)));
    }
    if v.inline_edit && inputs.is_empty() {
        inputs = fields.clone();
    }
    let mut rules = Vec::new();
    for r in &v.rules {
        let fi = obj
            .field(&r.set)
            .ok_or_else(|| bad(format!("{}: rule sets unknown field {}", v.key, r.set)))?;
        let action = match (&r.to, &r.value) {
            (Some(to), None) => match to.as_str() {
                "logged_in_user" => RuleAction::LoggedInUser,
                "parent_record" => RuleAction::ParentRecord,
                "now" => RuleAction::Now,
                other => {
                    return Err(bad(format!(
                        "{}: rule `to` must be logged_in_user|parent_record|now, got {other}",
                        v.key
                    )))
                }
            },
            (None, Some(val)) => RuleAction::Value(
                parse_input(&obj.fields[fi], val, tz)
                    .map_err(|e| bad(format!("{}: rule value: {}", v.key, e.message)))?,
            ),
            _ => {
                return Err(bad(format!(
                    "{}: a rule needs exactly one of `to` and `value`",
                    v.key
                )))
            }
        };
        rules.push(Rule { field: fi, action });
    }
    let connected_to_user = match v.connected_to_user.as_deref() {
        None => None,
        Some("self") => {
            if obj.user.is_none() {
                return Err(bad(format!("{}: `self` needs a user object", v.key)));
            }
            Some(UserLink::SelfRecord)
        }
        Some(k) => {
            let fi = obj
                .field(k)
                .ok_or_else(|| bad(format!("{}: unknown field {k}", v.key)))?;
            if obj.fields[fi].ftype != FieldType::Connection {
                return Err(bad(format!("{}: {k} is not a connection", v.key)));
            }
            Some(UserLink::Field(fi))
        }
    };
    let parent = match &v.parent {
        None => None,
        Some(p) => {
            let po = *object_by_key
                .get(&p.object)
                .ok_or_else(|| bad(format!("{}: unknown parent object", v.key)))?;
            let fi = obj
                .field(&p.connection_field)
                .ok_or_else(|| bad(format!("{}: unknown connection_field", v.key)))?;
            if obj.fields[fi].target != Some(po) {
                return Err(bad(format!(
                    "{}: {} does not connect to {}",
                    v.key, p.connection_field, p.object
                )));
            }
            Some(ParentLink {
                object: po,
                field: fi,
            })
        }
    };
    let mut sort = Vec::new();
    for s in &v.sort {
        let fi = obj
            .field(&s.field)
            .ok_or_else(|| bad(format!("{}: unknown sort field", v.key)))?;
        let desc = match s.order.as_deref() {
            None | Some("asc") => false,
            Some("desc") => true,
            Some(o) => return Err(bad(format!("{}: bad sort order {o}", v.key))),
        };
        sort.push((fi, desc));
    }
    let reports = compile_reports(v, obj)?;
    let render_fields = if v.vtype == ViewType::Form {
        let mut r = inputs.clone();
        for rule in &rules {
            if !r.contains(&rule.field) {
                r.push(rule.field);
            }
        }
        r
    } else {
        fields.clone()
    };
    Ok(ViewSchema {
        key: v.key.clone(),
        name: v.name.clone(),
        vtype: v.vtype,
        action: v.action,
        object: oi,
        fields,
        inputs,
        rules,
        inline_edit: v.inline_edit,
        delete: v.delete,
        connected_to_user,
        parent,
        sort,
        render_fields,
        reports,
    })
}

fn compile_reports(v: &ViewDef, obj: &ObjectSchema) -> Result<Vec<ReportSchema>, Error> {
    match (v.vtype == ViewType::Report, v.reports.is_empty()) {
        (true, true) => return Err(bad(format!("{}: a report view needs reports", v.key))),
        (false, false) => return Err(bad(format!("{}: only a report view has reports", v.key))),
        (false, true) => return Ok(Vec::new()),
        (true, false) => {}
    }
    if v.inline_edit || v.delete || !v.inputs.is_empty() || v.action.is_some() {
        return Err(bad(format!(
            "{}: a report view cannot have inputs, action, inline_edit or delete",
            v.key
        )));
    }
    let field = |k: &str| {
        obj.field(k)
            .ok_or_else(|| bad(format!("{}: {} has no field {k}", v.key, obj.key)))
    };
    let mut out = Vec::with_capacity(v.reports.len());
    for r in &v.reports {
        if !["pie", "bar", "line", "area", "table"].contains(&r.chart.as_str()) {
            return Err(bad(format!(
                "{}: report type must be pie, bar, line, area or table, got {}",
                v.key, r.chart
            )));
        }
        let group = field(&r.group)?;
        if matches!(
            obj.fields[group].ftype,
            FieldType::Password | FieldType::File | FieldType::Image
        ) {
            return Err(bad(format!("{}: cannot group by {}", v.key, r.group)));
        }
        if r.calculations.is_empty() {
            return Err(bad(format!("{}: a report needs calculations", v.key)));
        }
        let mut calcs = Vec::with_capacity(r.calculations.len());
        for c in &r.calculations {
            let f = match (c.calc, &c.field) {
                (Calc::Count, None) => None,
                (Calc::Count, Some(_)) => {
                    return Err(bad(format!("{}: count takes no field", v.key)))
                }
                (_, None) => {
                    return Err(bad(format!(
                        "{}: {} needs a number field",
                        v.key,
                        c.calc.as_str()
                    )))
                }
                (_, Some(k)) => {
                    let fi = field(k)?;
                    if obj.fields[fi].ftype != FieldType::Number {
                        return Err(bad(format!("{}: {k} is not a number field", v.key)));
                    }
                    Some(fi)
                }
            };
            let label = c.label.clone().unwrap_or_else(|| match f {
                None => "Count".to_string(),
                Some(fi) => format!("{} of {}", c.calc.as_str(), obj.fields[fi].name),
            });
            calcs.push(CalcSchema {
                calc: c.calc,
                field: f,
                label,
            });
        }
        out.push(ReportSchema {
            title: r.title.clone(),
            chart: r.chart.clone(),
            group,
            calcs,
        });
    }
    Ok(out)
}

//! `GET /v1/applications/{app_id}`: the app's schema, as knackpy and knack-api-helper read it.

use serde_json::{json, Value};

use crate::request::{Output, Resp};
use crate::schema::{Access, FormAction, ViewType};
use crate::state::FakeState;

pub fn application(st: &FakeState, app: &str) -> Output {
    if !app.eq_ignore_ascii_case(st.app_id()) {
        return Resp::error(404, "Application not found").into();
    }
    let s = &st.schema;
    let scenes: Vec<Value> = s
        .scenes
        .iter()
        .map(|sc| {
            let views: Vec<Value> = sc
                .views
                .iter()
                .map(|v| {
                    let mut view = json!({
                        "key": v.key,
                        "name": v.name,
                        "type": v.vtype.as_str(),
                        "source": {"object": s.objects[v.object].key},
                    });
                    let fields = if v.vtype == ViewType::Form {
                        &v.inputs
                    } else {
                        &v.fields
                    };
                    let keys: Vec<&str> = fields
                        .iter()
                        .map(|&fi| s.objects[v.object].fields[fi].key.as_str())
                        .collect();
                    view[if v.vtype == ViewType::Form {
                        "inputs"
                    } else {
                        "fields"
                    }] = json!(keys);
                    if v.vtype == ViewType::Report {
                        let obj = &s.objects[v.object];
                        let reports: Vec<Value> = v
                            .reports
                            .iter()
                            .map(|r| {
                                json!({
                                    "title": r.title,
                                    "type": r.chart,
                                    "groups": [{"field": obj.fields[r.group].key}],
                                    "calculations": r.calcs.iter().map(|c| json!({
                                        "calculation": c.calc.as_str(),
                                        "field": c.field.map(|fi| obj.fields[fi].key.clone()),
                                        "label": c.label,
                                    })).collect::<Vec<_>>(),
                                })
                            })
                            .collect();
                        view["reports"] = json!(reports);
                    }
                    if let Some(a) = v.action {
                        view["action"] = json!(match a {
                            FormAction::Insert => "insert",
                            FormAction::Update => "update",
                        });
                    }
                    view
                })
                .collect();
            let mut scene = json!({
                "key": sc.key,
                "slug": sc.slug,
                "name": sc.name,
                "authenticated": sc.access == Access::Login,
                "allowed_profiles": sc.profiles,
                "views": views,
            });
            if let Some(p) = &sc.parent {
                scene["parent"] = json!(p);
            }
            if let Some(o) = &sc.object {
                scene["object"] = json!(o);
            }
            scene
        })
        .collect();
    let data = st.read();
    let recorded: usize = s
        .objects
        .iter()
        .filter_map(|o| o.recorded.as_ref())
        .map(|t| t.len())
        .sum();
    let total_entries: usize = data.tables.iter().map(|t| t.len()).sum::<usize>() + recorded;
    let asset_size: u64 = data.assets.values().map(|a| a.size).sum();
    drop(data);
    let objects: Vec<Value> = s
        .objects
        .iter()
        .map(|o| {
            let fields: Vec<Value> = o
                .fields
                .iter()
                .map(|f| {
                    let mut field = json!({
                        "key": f.key,
                        "name": f.name,
                        "type": f.ftype.as_str(),
                        "required": f.required,
                    });
                    let mut format = f.format.clone().unwrap_or_default();
                    if !f.options.is_empty() {
                        format.insert("options".into(), json!(f.options));
                    }
                    if !format.is_empty() {
                        field["format"] = Value::Object(format);
                    }
                    if let Some(t) = f.target {
                        field["relationship"] = json!({"object": s.objects[t].key});
                    }
                    field
                })
                .collect();
            let mut obj = json!({
                "key": o.key,
                "name": o.name,
                "identifier": o.fields[o.identifier].key,
                "fields": fields,
            });
            if let Some(u) = &o.user {
                obj["user"] = json!(true);
                obj["profile_key"] = json!(u.profile);
            }
            obj
        })
        .collect();
    let body = json!({"application": {
        "id": s.app.id,
        "name": s.app.name,
        "slug": s.app.slug,
        "account": {"slug": s.app.account_slug},
        "settings": {"timezone": s.app.timezone},
        "counts": {"total_entries": total_entries, "asset_size": asset_size},
        "scenes": scenes,
        "objects": objects,
    }});
    Resp::value(200, &body).into()
}

//! Report views: both answer forms, scoping like listings, filters, child pages, refusals.

mod common;

use common::*;
use reqwest::Method;
use serde_json::{json, Value};

fn report_path(scene: &str, view: &str, n: Option<&str>) -> String {
    match n {
        Some(n) => format!("/v1/pages/{scene}/views/{view}/report/{n}"),
        None => format!("/v1/pages/{scene}/views/{view}/report"),
    }
}

/// `[(group_0, calc_0)]` of a report.
fn counts(report: &Value) -> Vec<(String, Value)> {
    report["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| {
            (
                r["group_0"].as_str().expect("group_0").to_string(),
                r["calc_0"].clone(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, i64)]) -> Vec<(String, Value)> {
    list.iter()
        .map(|(g, n)| (g.to_string(), json!(n)))
        .collect()
}

#[tokio::test]
async fn both_report_forms() {
    let fx = Fx::new().await;
    let carol = fx.carol().await;
    let r = fx
        .get(&report_path("scene_2", "view_12", None), Some(&carol))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let v = r.json();
    let reports = v["reports"].as_array().expect("reports");
    assert_eq!(reports.len(), 2);
    let pie = &reports[0];
    assert_eq!(pie["title"], "Tickets by status");
    assert_eq!(pie["type"], "pie");
    // Groups in the order of the field's options.
    assert_eq!(
        counts(pie),
        pairs(&[("New", 2), ("Open", 1), ("Pending", 1), ("Closed", 1)])
    );
    assert_eq!(pie["filters"], json!([]));
    assert_eq!(pie["summary"], json!({"total_records": 5, "calc_0": 5}));
    assert_eq!(
        pie["groups"],
        json!([{"key": "group_0", "field": "field_12", "label": "Status"}])
    );
    assert_eq!(
        pie["calculations"],
        json!([{"key": "calc_0", "calc": "count", "field": null, "label": "Tickets"}])
    );
    let table = &reports[1];
    assert_eq!(table["type"], "table");
    assert_eq!(
        table["records"],
        json!([
            {"group_0": "Alice Customer", "calc_0": 3, "calc_1": 3},
            {"group_0": "Bob Customer", "calc_0": 2, "calc_1": 3},
        ])
    );
    assert_eq!(
        table["summary"],
        json!({"total_records": 5, "calc_0": 5, "calc_1": 3})
    );

    // One report, 0-based; out of range or not a number: 404.
    let one = fx
        .get(&report_path("scene_2", "view_12", Some("1")), Some(&carol))
        .await;
    assert_eq!(one.status, 200, "{}", one.text);
    assert_eq!(one.json(), json!({"report": table.clone()}));
    for n in ["2", "99", "-1", "x"] {
        let r = fx
            .get(&report_path("scene_2", "view_12", Some(n)), Some(&carol))
            .await;
        assert_eq!(r.status, 404, "{n}");
        assert_eq!(first_error(&r.json()), "Report not found");
    }
    // `/v1/scenes/...` answers the same; so does the scene slug and a trailing slash.
    let scenes = fx
        .get("/v1/scenes/scene_2/views/view_12/report/0", Some(&carol))
        .await;
    assert_eq!(scenes.json(), json!({"report": pie.clone()}));
    let slug = fx
        .get("/v1/pages/agent-desk/views/view_12/report/", Some(&carol))
        .await;
    assert_eq!(slug.json(), v);

    // Live: a new ticket counts at once.
    let alice = fx.alice().await;
    let r = fx
        .send_json(
            Method::POST,
            &view_path("scene_1", "view_2"),
            Some(&alice),
            &json!({"field_10": "One more", "field_13": 1}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = fx
        .get(&report_path("scene_2", "view_12", Some("0")), Some(&carol))
        .await;
    assert_eq!(
        counts(&r.json()["report"]),
        pairs(&[("New", 3), ("Open", 1), ("Pending", 1), ("Closed", 1)])
    );
}

#[tokio::test]
async fn report_filters() {
    let fx = Fx::new().await;
    let carol = fx.carol().await;
    let rules = json!([{"field": "field_13", "operator": "higher than", "value": 2}]);
    let path = format!(
        "{}?filters={}",
        report_path("scene_2", "view_12", None),
        enc(&rules.to_string())
    );
    let r = fx.get(&path, Some(&carol)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let v = r.json();
    assert_eq!(
        counts(&v["reports"][0]),
        pairs(&[("New", 2), ("Closed", 1)])
    );
    assert_eq!(v["reports"][0]["filters"], rules);
    assert_eq!(
        v["reports"][1]["records"],
        json!([
            {"group_0": "Alice Customer", "calc_0": 2, "calc_1": 4},
            {"group_0": "Bob Customer", "calc_0": 1, "calc_1": 4},
        ])
    );
    // The {match, rules} form; its rules are echoed.
    let or = json!({"match": "or", "rules": [
        {"field": "field_12", "operator": "is", "value": "Open"},
        {"field": "field_12", "operator": "is", "value": "Closed"}]});
    let path = format!(
        "{}?filters={}",
        report_path("scene_2", "view_12", Some("0")),
        enc(&or.to_string())
    );
    let r = fx.get(&path, Some(&carol)).await;
    assert_eq!(
        counts(&r.json()["report"]),
        pairs(&[("Open", 1), ("Closed", 1)])
    );
    assert_eq!(r.json()["report"]["filters"], or["rules"]);
    // Nothing matches: no groups, zero totals.
    let none = json!([{"field": "field_10", "operator": "is", "value": "no such subject"}]);
    let path = format!(
        "{}?filters={}",
        report_path("scene_2", "view_12", Some("1")),
        enc(&none.to_string())
    );
    let r = fx.get(&path, Some(&carol)).await;
    assert_eq!(r.json()["report"]["records"], json!([]));
    assert_eq!(
        r.json()["report"]["summary"],
        json!({"total_records": 0, "calc_0": 0, "calc_1": null})
    );
    // Bad filters: 400 as for listings.
    for bad in ["[", r#"[{"field":"field_13","operator":"is like"}]"#] {
        let path = format!(
            "{}?filters={}",
            report_path("scene_2", "view_12", None),
            enc(bad)
        );
        assert_eq!(fx.get(&path, Some(&carol)).await.status, 400, "{bad}");
    }
}

#[tokio::test]
async fn reports_see_what_the_user_may_see() {
    let fx = Fx::new().await;
    let alice = fx.alice().await;
    let bob = fx.bob().await;
    let carol = fx.carol().await;
    // A customer's report counts only their own tickets (connected_to_user).
    let r = fx
        .get(&report_path("scene_1", "view_13", None), Some(&alice))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        counts(&r.json()["reports"][0]),
        pairs(&[("New", 1), ("Open", 1), ("Closed", 1)])
    );
    let r = fx
        .get(&report_path("scene_1", "view_13", None), Some(&bob))
        .await;
    assert_eq!(
        counts(&r.json()["reports"][0]),
        pairs(&[("New", 1), ("Pending", 1)])
    );
    // Login and roles as for every view.
    let r = fx.get(&report_path("scene_2", "view_12", None), None).await;
    assert_eq!(r.status, 401);
    let r = fx
        .get(&report_path("scene_2", "view_12", None), Some(&alice))
        .await;
    assert_eq!(r.status, 403);
    let r = fx
        .get(&report_path("scene_1", "view_13", None), Some(&carol))
        .await;
    assert_eq!(r.status, 403);
    let r = fx
        .get(
            &report_path("scene_2", "view_12", None),
            Some("not-a-token"),
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(first_error(&r.json()), INVALID_TOKEN);
    let r = read(
        fx.http
            .get(fx.url(&report_path("scene_2", "view_12", None)))
            .header("Authorization", &carol)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(r.status, 400, "no application id header");

    // A child page: the customer's tickets, by `customer_id`.
    let child = report_path("scene_6", "view_14", None);
    let r = fx.get(&child, Some(&carol)).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        first_error(&r.json()),
        "customer_id is required for this view"
    );
    let r = fx
        .get(&format!("{child}?customer_id={ALICE_ID}"), Some(&carol))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let rep = &r.json()["reports"][0];
    assert_eq!(rep["type"], "bar");
    assert_eq!(
        rep["records"],
        json!([
            {"group_0": "New", "calc_0": 1, "calc_1": 3},
            {"group_0": "Open", "calc_0": 1, "calc_1": 1},
            {"group_0": "Closed", "calc_0": 1, "calc_1": 5},
        ])
    );
    assert_eq!(
        rep["summary"],
        json!({"total_records": 3, "calc_0": 3, "calc_1": 9})
    );
    let r = fx
        .get(&format!("{child}?customer_id={BOB_ID}"), Some(&carol))
        .await;
    assert_eq!(
        counts(&r.json()["reports"][0]),
        pairs(&[("New", 1), ("Pending", 1)])
    );
    let r = fx
        .get(
            &format!("{child}?customer_id=ffffffffffffffffffffffff"),
            Some(&carol),
        )
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(first_error(&r.json()), "Record not found");
}

#[tokio::test]
async fn only_report_views_report() {
    let fx = Fx::new().await;
    let carol = fx.carol().await;
    // A table asked for a report, a report view asked for records, a POST to a report.
    for (method, path) in [
        (Method::GET, report_path("scene_2", "view_4", None)),
        (Method::GET, report_path("scene_2", "view_5", Some("0"))),
        (Method::GET, view_path("scene_2", "view_12")),
        (Method::POST, report_path("scene_2", "view_12", None)),
        (
            Method::DELETE,
            rec_path("scene_2", "view_12", ALICE_TICKETS[0]),
        ),
    ] {
        let r = fx
            .send_json(method.clone(), &path, Some(&carol), &json!({}))
            .await;
        assert_eq!(r.status, 400, "{method} {path}");
        assert_eq!(
            first_error(&r.json()),
            "This view does not support this action"
        );
    }
    let r = fx.config(json!({"unsupported_status": 405})).await;
    assert_eq!(r.status, 200);
    let r = fx
        .get(&report_path("scene_2", "view_4", None), Some(&carol))
        .await;
    assert_eq!(r.status, 405);
    // Unknown scene or view.
    let r = fx
        .get(&report_path("scene_9", "view_12", None), Some(&carol))
        .await;
    assert_eq!(r.status, 404);
    let r = fx
        .get(&report_path("scene_2", "view_99", None), Some(&carol))
        .await;
    assert_eq!(r.status, 404);
    // Metadata shows the report views and their reports.
    let meta = fx
        .get(&format!("/v1/applications/{APP_ID}"), None)
        .await
        .json();
    let scene2 = meta["application"]["scenes"]
        .as_array()
        .expect("scenes")
        .iter()
        .find(|s| s["key"] == "scene_2")
        .expect("scene_2")
        .clone();
    let view12 = scene2["views"]
        .as_array()
        .expect("views")
        .iter()
        .find(|v| v["key"] == "view_12")
        .expect("view_12")
        .clone();
    assert_eq!(view12["type"], "report");
    assert_eq!(view12["reports"][1]["type"], "table");
    assert_eq!(
        view12["reports"][1]["groups"],
        json!([{"field": "field_14"}])
    );
    assert_eq!(
        view12["reports"][1]["calculations"][1],
        json!({"calculation": "average", "field": "field_13", "label": "Average priority"})
    );
}

#[test]
fn report_fixtures_are_checked() {
    let base = |view: Value| {
        json!({
            "application": {"id": "5f0c0ffee0c0ffee0c0ffee9", "name": "R", "slug": "r"},
            "objects": [{"key": "object_1", "name": "T", "fields": [
                {"key": "field_1", "name": "Name", "type": "short_text"},
                {"key": "field_2", "name": "N", "type": "number"}]}],
            "scenes": [{"key": "scene_1", "slug": "s", "name": "S", "access": "public",
                "views": [view]}]
        })
        .to_string()
    };
    let ok = base(
        json!({"key": "view_1", "name": "R", "type": "report", "object": "object_1",
        "reports": [{"title": "t", "type": "pie", "group": "field_1",
            "calculations": [{"calc": "sum", "field": "field_2"}]}]}),
    );
    assert!(fake_knack::Fixture::from_json_str(&ok).is_ok());
    for bad in [
        json!({"key": "view_1", "name": "R", "type": "report", "object": "object_1"}),
        json!({"key": "view_1", "name": "R", "type": "table", "object": "object_1",
            "reports": [{"title": "t", "type": "pie", "group": "field_1", "calculations": [{"calc": "count"}]}]}),
        json!({"key": "view_1", "name": "R", "type": "report", "object": "object_1",
            "reports": [{"title": "t", "type": "donut", "group": "field_1", "calculations": [{"calc": "count"}]}]}),
        json!({"key": "view_1", "name": "R", "type": "report", "object": "object_1",
            "reports": [{"title": "t", "type": "pie", "group": "field_9", "calculations": [{"calc": "count"}]}]}),
        json!({"key": "view_1", "name": "R", "type": "report", "object": "object_1",
            "reports": [{"title": "t", "type": "pie", "group": "field_1", "calculations": [{"calc": "sum", "field": "field_1"}]}]}),
        json!({"key": "view_1", "name": "R", "type": "report", "object": "object_1",
            "reports": [{"title": "t", "type": "pie", "group": "field_1", "calculations": [{"calc": "average"}]}]}),
        json!({"key": "view_1", "name": "R", "type": "report", "object": "object_1",
            "reports": [{"title": "t", "type": "pie", "group": "field_1", "calculations": []}]}),
    ] {
        assert!(
            fake_knack::Fixture::from_json_str(&base(bad.clone())).is_err(),
            "{bad}"
        );
    }
}

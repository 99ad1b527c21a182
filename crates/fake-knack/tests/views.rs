//! View routes: access rules, source filters, queries, formats and writes.

mod common;

use common::*;
use reqwest::Method;
use serde_json::{json, Value};

fn keys(rec: &Value) -> Vec<String> {
    let mut k: Vec<String> = rec.as_object().expect("object").keys().cloned().collect();
    k.sort();
    k
}

#[tokio::test]
async fn public_views_need_no_token() {
    let fx = Fx::new().await;
    let r = fx.get(&view_path("scene_4", "view_8"), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let v = r.json();
    assert_eq!(v["total_records"], 3);
    assert_eq!(v["total_pages"], 1);
    assert_eq!(v["current_page"], 1);
    assert_eq!(r.ids(), ARTICLES.to_vec());
    assert_eq!(
        keys(&v["records"][0]),
        vec!["field_30", "field_30_raw", "field_31", "field_31_raw", "id"]
    );
    // Paragraph text: newlines become <br />, quotes are escaped in the formatted value.
    assert_eq!(
        v["records"][1]["field_31"],
        "Turn it off and on again.<br />If it smokes, unplug it."
    );
    assert_eq!(
        v["records"][0]["field_31"],
        "Use the &quot;Forgot password&quot; link on the login page."
    );
    // Slug works as the scene, and the details view by id.
    let r = fx.get(&rec_path("help", "view_9", ARTICLES[2]), None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["field_30_raw"], "Billing FAQ");
    // A sent token is still validated on public scenes.
    let r = fx
        .get(&view_path("scene_4", "view_8"), Some("garbage"))
        .await;
    assert_eq!(r.status, 403);
    // An empty Authorization header counts as none.
    let r = fx.get(&view_path("scene_4", "view_8"), Some("")).await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn headers_are_checked() {
    let fx = Fx::new().await;
    let p = view_path("scene_4", "view_8");
    let r = read(fx.http.get(fx.url(&p)).send().await.expect("send")).await;
    assert_eq!(
        (r.status, first_error(&r.json())),
        (400, "Missing X-Knack-Application-Id".into())
    );
    let r = read(
        fx.http
            .get(fx.url(&p))
            .header("X-Knack-Application-Id", "000000000000000000000001")
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!((r.status, r.text.as_str()), (500, "Internal Server Error"));
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    let key = |k: &'static str| {
        fx.req(Method::GET, &p, None)
            .header("X-Knack-REST-API-Key", k)
            .send()
    };
    assert_eq!(key("knack").await.expect("send").status(), 200);
    let r = read(key("real-secret-key").await.expect("send")).await;
    assert_eq!((r.status, r.text.as_str()), (401, "Invalid API Key"));
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    // Switched to JSON bodies: the same statuses, Knack's error envelope.
    fx.config(json!({"error_bodies": "json"})).await;
    let r = read(key("real-secret-key").await.expect("send")).await;
    assert_eq!(
        (r.status, first_error(&r.json())),
        (401, "Invalid API Key".into())
    );
}

#[tokio::test]
async fn login_scenes_and_profiles() {
    let fx = Fx::new().await;
    let alice = fx.alice().await;
    let bob = fx.bob().await;
    let carol = fx.carol().await;
    let my = view_path("scene_1", "view_1");
    let r = fx.get(&my, None).await;
    assert_eq!(
        (r.status, first_error(&r.json())),
        (401, "Login required".into())
    );
    let r = fx.get(&my, Some(&carol)).await;
    assert_eq!(r.status, 403);
    assert_eq!(
        first_error(&r.json()),
        "You are not authorized to access this view"
    );
    let r = fx
        .get(&view_path("agent-desk", "view_4"), Some(&alice))
        .await;
    assert_eq!(r.status, 403);
    // connected_to_user: each customer sees their own tickets.
    let r = fx.get(&my, Some(&alice)).await;
    assert_eq!(r.ids(), ALICE_TICKETS.to_vec());
    let r = fx
        .get("/v1/pages/my-tickets/views/view_1/records/", Some(&bob))
        .await;
    assert_eq!(r.ids(), BOB_TICKETS.to_vec());
    let r = fx
        .get(&rec_path("scene_1", "view_1", BOB_TICKETS[0]), Some(&alice))
        .await;
    assert_eq!(
        (r.status, first_error(&r.json())),
        (404, "Record not found".into())
    );
    let r = fx
        .get(&rec_path("scene_1", "view_1", BOB_TICKETS[0]), Some(&bob))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["id"], BOB_TICKETS[0]);
    // Agents see everything.
    let r = fx.get(&view_path("scene_2", "view_4"), Some(&carol)).await;
    assert_eq!(r.json()["total_records"], 5);
    // connected_to_user: "self" on the user object.
    let r = fx.get(&view_path("account", "view_10"), Some(&alice)).await;
    assert_eq!(r.ids(), vec![ALICE_ID.to_string()]);
    assert_eq!(r.json()["records"][0]["field_1"], "Alice Customer");
    let r = fx.get(&view_path("account", "view_10"), Some(&carol)).await;
    assert_eq!(r.json()["total_records"], 0);
    // The log records who asked.
    let log = fx.log().await;
    let last = log.last().expect("entry");
    assert_eq!(last["user_id"], CAROL_ID);
    assert_eq!(last["authorization_present"], true);
}

#[tokio::test]
async fn parent_scene_param() {
    let fx = Fx::new().await;
    let alice = fx.alice().await;
    let carol = fx.carol().await;
    let p = view_path("scene_3", "view_6");
    let r = fx.get(&p, Some(&alice)).await;
    assert_eq!(r.status, 400);
    assert!(first_error(&r.json()).contains("ticket_id"));
    let r = fx
        .get(&format!("{p}?ticket_id={}", ALICE_TICKETS[0]), Some(&alice))
        .await;
    assert_eq!(r.ids(), COMMENTS.to_vec());
    assert_eq!(
        r.json()["records"][0]["field_21_raw"][0]["identifier"],
        "Printer is on fire"
    );
    let r = fx
        .get(&format!("{p}?ticket_id={}", BOB_TICKETS[1]), Some(&carol))
        .await;
    assert_eq!(r.json()["total_records"], 0);
    let r = fx
        .get(
            &format!("{p}?ticket_id=000000000000000000000000"),
            Some(&carol),
        )
        .await;
    assert_eq!(
        (r.status, first_error(&r.json())),
        (404, "Record not found".into())
    );
    // Insert a comment on bob's ticket: the rule connects it to the parent record.
    let r = fx
        .send_json(
            Method::POST,
            &format!("/v1/pages/ticket/views/view_7/records?ticket_id={}", BOB_TICKETS[1]),
            Some(&carol),
            &json!({"field_20": "Noted, thanks!", "field_22": "Carol", "field_21": ALICE_TICKETS[0]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let rec = &r.json()["record"];
    assert_eq!(rec["field_21_raw"][0]["id"], BOB_TICKETS[1]);
    let r = fx
        .get(&format!("{p}?ticket_id={}", BOB_TICKETS[1]), Some(&carol))
        .await;
    assert_eq!(r.json()["total_records"], 1);
    let missing = fx
        .send_json(
            Method::POST,
            &view_path("scene_3", "view_7"),
            Some(&carol),
            &json!({"field_20": "x"}),
        )
        .await;
    assert_eq!(missing.status, 400);
}

#[tokio::test]
async fn not_found_and_unsupported() {
    let fx = Fx::new().await;
    let alice = fx.alice().await;
    let r = fx.get(&view_path("scene_99", "view_1"), Some(&alice)).await;
    assert_eq!(
        (r.status, first_error(&r.json())),
        (404, "Page not found".into())
    );
    let r = fx.get(&view_path("scene_1", "view_8"), Some(&alice)).await;
    assert_eq!(
        (r.status, first_error(&r.json())),
        (404, "View not found".into())
    );
    let r = fx
        .get(&rec_path("scene_1", "view_1", "nothex"), Some(&alice))
        .await;
    // As recorded (2017): a malformed id is a text/html 400, not a JSON 404.
    assert_eq!(
        (r.status, r.text.as_str()),
        (400, "Malformed Record Key: nothex")
    );
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    let r = fx
        .get(
            &rec_path("scene_1", "view_1", "ffffffffffffffffffffffff"),
            Some(&alice),
        )
        .await;
    assert_eq!(r.status, 404);
    fx.config(json!({"not_found_status": 400})).await;
    let r = fx.get(&view_path("nope", "view_1"), Some(&alice)).await;
    assert_eq!(r.status, 400);
    let r = fx
        .get(
            &rec_path("scene_1", "view_1", "ffffffffffffffffffffffff"),
            Some(&alice),
        )
        .await;
    assert_eq!(
        (r.status, first_error(&r.json())),
        (400, "Record not found".into())
    );

    let unsupported = "This view does not support this action";
    let r = fx
        .send_json(
            Method::POST,
            &view_path("scene_1", "view_1"),
            Some(&alice),
            &json!({}),
        )
        .await;
    assert_eq!(
        (r.status, first_error(&r.json())),
        (400, unsupported.into())
    );
    let r = read(
        fx.req(
            Method::DELETE,
            &rec_path("scene_1", "view_1", ALICE_TICKETS[0]),
            Some(&alice),
        )
        .send()
        .await
        .expect("send"),
    )
    .await;
    assert_eq!(r.status, 400);
    let r = fx.get(&view_path("scene_1", "view_2"), Some(&alice)).await;
    assert_eq!(r.status, 400);
    fx.config(json!({"unsupported_status": 405})).await;
    let r = fx
        .send_json(
            Method::PUT,
            &rec_path("scene_1", "view_1", ALICE_TICKETS[0]),
            Some(&alice),
            &json!({}),
        )
        .await;
    assert_eq!(
        (r.status, first_error(&r.json())),
        (405, unsupported.into())
    );
    // Nothing was changed by any of that.
    assert_eq!(fx.records("object_3").await.len(), 5);
}

#[tokio::test]
async fn paging_and_rows_per_page() {
    let fx = Fx::new().await;
    let alice = fx.alice().await;
    let r = fx
        .control(
            Method::POST,
            "/_fake/seed",
            Some(json!({"object": "object_3", "count": 60, "connect": {"field_14": ALICE_ID}})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let p = view_path("scene_1", "view_1");
    let v = fx.get(&p, Some(&alice)).await.json();
    assert_eq!(
        (v["total_records"].as_u64(), v["total_pages"].as_u64()),
        (Some(63), Some(3))
    );
    assert_eq!(v["records"].as_array().map(Vec::len), Some(25));
    assert_eq!(v["records"][0]["id"], ALICE_TICKETS[0]);
    let v = fx.get(&format!("{p}?page=3"), Some(&alice)).await.json();
    assert_eq!(v["records"].as_array().map(Vec::len), Some(13));
    assert_eq!(v["current_page"], "3");
    let v = fx.get(&format!("{p}?page=4"), Some(&alice)).await.json();
    assert_eq!(v["records"], json!([]));
    assert_eq!(v["current_page"], "4");
    let v = fx
        .get(&format!("{p}?rows_per_page=1000"), Some(&alice))
        .await
        .json();
    assert_eq!(v["records"].as_array().map(Vec::len), Some(63));
    let v = fx
        .get(&format!("{p}?rows_per_page=1&page=2"), Some(&alice))
        .await
        .json();
    assert_eq!(v["records"][0]["id"], ALICE_TICKETS[1]);
    assert_eq!(v["total_pages"], 63);
    for bad in ["0", "1001", "abc", "-1"] {
        let r = fx
            .get(&format!("{p}?rows_per_page={bad}"), Some(&alice))
            .await;
        assert_eq!(r.status, 400, "{bad}");
        assert_eq!(
            r.json(),
            json!({"errors": [{"message": "rows_per_page must be between 1 and 1000"}]})
        );
    }
    assert_eq!(
        fx.get(&format!("{p}?page=0"), Some(&alice)).await.status,
        400
    );
}

async fn filtered(fx: &Fx, token: &str, filters: &Value) -> Reply {
    let p = view_path("scene_2", "view_4");
    fx.get(
        &format!("{p}?filters={}", enc(&filters.to_string())),
        Some(token),
    )
    .await
}

#[tokio::test]
async fn filter_operators() {
    let fx = Fx::new().await;
    let carol = fx.carol().await;
    let [a1, a2, a3] = ALICE_TICKETS;
    let [b1, b2] = BOB_TICKETS;
    let rule = |field: &str, op: &str, value: Value| json!({"field": field, "operator": op, "value": value});
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (rule("field_12", "is", json!("open")), vec![a1]),
        (rule("field_12", "is not", json!("New")), vec![a1, a3, b1]),
        (rule("field_10", "contains", json!("PRINTER")), vec![a1]),
        (
            rule("field_10", "does not contain", json!("in")),
            vec![a3, b2],
        ),
        (rule("field_10", "starts with", json!("bill")), vec![b1]),
        (rule("field_10", "ends with", json!("MODE")), vec![b2]),
        (
            json!({"field": "field_16", "operator": "is blank"}),
            vec![a1, a2, a3, b2],
        ),
        (
            json!({"field": "field_16", "operator": "is not blank"}),
            vec![b1],
        ),
        (rule("field_13", "higher than", json!(3)), vec![a3, b2]),
        (rule("field_13", "lower than", json!("3")), vec![a1, b1]),
        (rule("field_13", "is", json!(4)), vec![b2]),
        (rule("field_15", "is before", json!("2024-02-01")), vec![a1]),
        (
            rule("field_15", "is after", json!("02/20/2024")),
            vec![a3, b2],
        ),
        (rule("field_15", "is", json!("2024-02-20")), vec![b1]),
        (
            rule("field_12", "is any", json!(["Open", "Closed"])),
            vec![a1, a3],
        ),
        (
            json!({"field": "field_12", "operator": "is any"}),
            vec![a1, a2, a3, b1, b2],
        ),
        (rule("field_14", "is", json!(BOB_ID)), vec![b1, b2]),
        (
            rule("field_14", "contains", json!("alice")),
            vec![a1, a2, a3],
        ),
        (
            rule("field_10", "is", json!("Billing & invoices question")),
            vec![b1],
        ),
        (rule("field_16", "contains", json!("bob.example")), vec![b1]),
    ];
    for (r, want) in cases {
        // Object shape and bare-array shape give the same answer.
        for shape in [
            json!({"match": "and", "rules": [r.clone()]}),
            json!([r.clone()]),
        ] {
            let reply = filtered(&fx, &carol, &shape).await;
            assert_eq!(reply.status, 200, "{shape}: {}", reply.text);
            assert_eq!(reply.ids(), want, "{shape}");
        }
    }
    // match: or
    let f = json!({"match": "or", "rules": [
        rule("field_12", "is", json!("Open")), rule("field_13", "higher than", json!(4))]});
    assert_eq!(filtered(&fx, &carol, &f).await.ids(), vec![a1, a3]);
    // and (bare array of two rules)
    let f = json!([
        rule("field_12", "is", json!("New")),
        rule("field_14", "is", json!(ALICE_ID))
    ]);
    assert_eq!(filtered(&fx, &carol, &f).await.ids(), vec![a2]);
    // Errors.
    let p = view_path("scene_2", "view_4");
    let r = fx
        .get(&format!("{p}?filters=%7Bnot-json"), Some(&carol))
        .await;
    assert_eq!(r.status, 400);
    assert!(first_error(&r.json()).starts_with("Invalid filters"));
    let r = filtered(
        &fx,
        &carol,
        &json!([rule("field_10", "sounds like", json!("x"))]),
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(first_error(&r.json()).contains("unknown operator"));
    let r = filtered(&fx, &carol, &json!([rule("field_99", "is", json!("x"))])).await;
    assert_eq!(r.status, 400);
    // Unencoded `&` (as knack-api-helper sends it) breaks the JSON: a 400, not a panic.
    let raw = r#"{"match":"and","rules":[{"field":"field_10","operator":"is","value":"Billing & invoices question"}]}"#;
    let r = fx.get(&format!("{p}?filters={raw}"), Some(&carol)).await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn sorting_and_formats() {
    let fx = Fx::new().await;
    let carol = fx.carol().await;
    let p = view_path("scene_2", "view_4");
    let [a1, a2, a3] = ALICE_TICKETS;
    let [b1, b2] = BOB_TICKETS;
    let r = fx
        .get(&format!("{p}?sort_field=field_13"), Some(&carol))
        .await;
    assert_eq!(r.ids(), vec![a1, b1, a2, b2, a3]);
    let r = fx
        .get(
            &format!("{p}?sort_field=field_13&sort_order=desc"),
            Some(&carol),
        )
        .await;
    assert_eq!(r.ids(), vec![a3, b2, a2, b1, a1]);
    let r = fx
        .get(
            &format!("{p}?sort_field=field_10&sort_order=asc"),
            Some(&carol),
        )
        .await;
    assert_eq!(r.ids(), vec![b1, a2, b2, a1, a3]);
    let r = fx
        .get(
            &format!("{p}?sort_field=field_15&sort_order=desc"),
            Some(&carol),
        )
        .await;
    assert_eq!(r.ids(), vec![a3, b2, b1, a2, a1]);
    assert_eq!(
        fx.get(&format!("{p}?sort_field=field_99"), Some(&carol))
            .await
            .status,
        400
    );
    assert_eq!(
        fx.get(
            &format!("{p}?sort_field=field_13&sort_order=up"),
            Some(&carol)
        )
        .await
        .status,
        400
    );

    // Formats.
    let raw = fx
        .get(&format!("{p}?format=raw&rows_per_page=1"), Some(&carol))
        .await
        .json();
    let rec = &raw["records"][0];
    assert!(
        keys(rec).iter().all(|k| k == "id" || k.ends_with("_raw")),
        "{rec}"
    );
    assert_eq!(keys(rec).len(), 9);
    let html = fx
        .get(&format!("{p}?format=html&rows_per_page=1"), Some(&carol))
        .await
        .json();
    assert!(keys(&html["records"][0])
        .iter()
        .all(|k| !k.ends_with("_raw")));
    assert_eq!(keys(&html["records"][0]).len(), 9);
    let both = fx
        .get(&format!("{p}?format=both&rows_per_page=1"), Some(&carol))
        .await
        .json();
    assert_eq!(keys(&both["records"][0]).len(), 17);
    assert_eq!(
        fx.get(&format!("{p}?format=xml"), Some(&carol))
            .await
            .status,
        400
    );
    let one = fx
        .get(
            &format!("{}?format=raw", rec_path("scene_2", "view_4", b1)),
            Some(&carol),
        )
        .await
        .json();
    assert!(one.get("field_10").is_none() && one.get("field_10_raw").is_some());

    // Formatted vs raw values.
    let r = fx
        .get(&rec_path("scene_2", "view_4", b1), Some(&carol))
        .await
        .json();
    assert_eq!(r["field_10"], "Billing &amp; invoices question");
    assert_eq!(r["field_10_raw"], "Billing & invoices question");
    assert_eq!(
        r["field_16"],
        "<a href=\"mailto:billing@bob.example.com\">billing@bob.example.com</a>"
    );
    assert_eq!(
        r["field_16_raw"],
        json!({"email": "billing@bob.example.com", "label": ""})
    );
    assert_eq!(r["field_13"], "2");
    assert_eq!(r["field_13_raw"], 2);
    assert_eq!(r["field_12_raw"], "Pending");
    assert_eq!(
        r["field_14_raw"],
        json!([{"id": BOB_ID, "identifier": "Bob Customer"}])
    );
    assert!(r["field_14"]
        .as_str()
        .is_some_and(|s| s.starts_with(&format!("<span class=\"{BOB_ID}\""))
            && s.ends_with(">Bob Customer</span>")));
    let d = &r["field_15_raw"];
    assert_eq!(d["date"], "02/20/2024");
    assert_eq!(
        (
            d["hours"].as_str(),
            d["minutes"].as_str(),
            d["am_pm"].as_str()
        ),
        (Some("11"), Some("45"), Some("AM"))
    );
    assert_eq!(d["iso_timestamp"], "2024-02-20T11:45:00.000Z");
    assert_eq!(d["unix_timestamp"], 1_708_429_500_000i64);
    assert_eq!(r["field_15"], "02/20/2024 11:45am");
    assert_eq!(r["field_17_raw"], "");
}

#[tokio::test]
async fn insert_with_rules_and_validation() {
    let fx = Fx::new().await;
    let alice = fx.alice().await;
    let p = view_path("scene_1", "view_2");
    let r = fx
        .send_json(
            Method::POST,
            &p,
            Some(&alice),
            &json!({"field_10": "Monitor flickers", "field_11": "Since Monday", "field_13": "2",
                    "field_16": "me@alice.example", "field_12": "Closed", "field_14": BOB_ID}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let v = r.json();
    // Wrapped under "record", nothing else (no evidence of a submit_key).
    assert_eq!(v.as_object().map(|o| o.len()), Some(1), "{v}");
    let rec = &v["record"];
    let id = rec["id"].as_str().expect("id").to_string();
    assert_eq!(id.len(), 24);
    assert_eq!(rec["field_10_raw"], "Monitor flickers");
    assert_eq!(rec["field_13_raw"], 2);
    assert_eq!(
        rec["field_12_raw"], "New",
        "rule wins over the ignored input"
    );
    assert_eq!(
        rec["field_14_raw"][0]["id"], ALICE_ID,
        "logged-in user rule"
    );
    let created = rec["field_15_raw"]["unix_timestamp"]
        .as_i64()
        .expect("created");
    let tz_now = fx.server.state().now() * 1000;
    assert!(
        (created - tz_now).abs() < 7 * 3600 * 1000,
        "local time of the app"
    );
    let stored = fx.records("object_3").await;
    assert_eq!(stored.len(), 6);
    assert_eq!(stored[5]["id"], id.as_str());
    assert_eq!(stored[5]["field_16"]["email"], "me@alice.example");
    // It shows up in alice's list, last.
    let ids = fx
        .get(&view_path("scene_1", "view_1"), Some(&alice))
        .await
        .ids();
    assert_eq!(ids.last(), Some(&id));
    assert_eq!(fx.stats().await["inserts"], 1);
    let log = fx.log().await;
    let post = log
        .iter()
        .rev()
        .find(|e| e["method"] == "POST")
        .expect("POST logged");
    assert_eq!(post["applied"], true);
    assert_eq!(post["status"], 200);
    assert_eq!(post["user_id"], ALICE_ID);
    let get = log.last().expect("log");
    assert_eq!(
        (get["method"].as_str(), get["applied"].as_bool()),
        (Some("GET"), Some(false))
    );

    // Validation.
    let r = fx
        .send_json(
            Method::POST,
            &p,
            Some(&alice),
            &json!({"field_11": "no subject"}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json(),
        json!({"errors": [{"field": "field_10", "type": "required", "message": "Subject is required."}]})
    );
    let r = fx
        .send_json(
            Method::POST,
            &p,
            Some(&alice),
            &json!({"field_10": "  ", "field_13": "high", "field_16": "not-an-email"}),
        )
        .await;
    assert_eq!(r.status, 400);
    let types: Vec<String> = r.json()["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["type"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(types, vec!["required", "number", "email"]);
    for bad in ["[1,2", "\"a string\"", "42"] {
        let r = read(
            fx.req(Method::POST, &p, Some(&alice))
                .header("content-type", "application/json")
                .body(bad)
                .send()
                .await
                .expect("send"),
        )
        .await;
        assert_eq!(r.status, 400, "{bad}");
        assert!(r.json()["errors"].is_array());
    }
    assert_eq!(fx.records("object_3").await.len(), 6);
    assert_eq!(fx.stats().await["inserts"], 1);
}

#[tokio::test]
async fn updates_and_deletes() {
    let fx = Fx::new().await;
    let alice = fx.alice().await;
    let carol = fx.carol().await;
    let edit = |id: &str| rec_path("scene_1", "view_3", id);
    let r = fx
        .send_json(
            Method::PUT,
            &edit(ALICE_TICKETS[1]),
            Some(&alice),
            &json!({"field_10": "Still cannot log in", "field_12": "Closed"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["record"]["field_10_raw"], "Still cannot log in");
    let stored = fx.records("object_3").await;
    assert_eq!(
        stored[1]["field_12"], "New",
        "field_12 is not an input of view_3"
    );
    let r = fx
        .send_json(
            Method::PUT,
            &edit(ALICE_TICKETS[1]),
            Some(&alice),
            &json!({"field_10": ""}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["errors"][0]["type"], "required");
    let r = fx
        .send_json(
            Method::PUT,
            &edit(BOB_TICKETS[0]),
            Some(&alice),
            &json!({"field_10": "mine now"}),
        )
        .await;
    assert_eq!(
        (r.status, first_error(&r.json())),
        (404, "Record not found".into())
    );

    // Agent update form with options.
    let upd = rec_path("scene_2", "view_5", BOB_TICKETS[0]);
    let r = fx
        .send_json(
            Method::PUT,
            &upd,
            Some(&carol),
            &json!({"field_12": "Bogus"}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["errors"][0]["type"], "options");
    assert_eq!(r.json()["errors"][0]["field"], "field_12");
    let r = fx
        .send_json(
            Method::PUT,
            &upd,
            Some(&carol),
            &json!({"field_12": "closed"}),
        )
        .await;
    assert_eq!(r.json()["record"]["field_12_raw"], "Closed");
    // Inline edit on the table.
    let cell = rec_path("scene_2", "view_4", BOB_TICKETS[1]);
    let r = fx
        .send_json(Method::PUT, &cell, Some(&carol), &json!({"field_13": 9}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["record"]["field_13_raw"], 9);
    assert_eq!(fx.stats().await["updates"], 3);
    // Delete.
    let r = read(
        fx.req(Method::DELETE, &cell, Some(&carol))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({"delete": true}));
    assert_eq!(fx.get(&cell, Some(&carol)).await.status, 404);
    let r = read(
        fx.req(Method::DELETE, &cell, Some(&carol))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(r.status, 404);
    assert_eq!(fx.stats().await["deletes"], 1);
    assert_eq!(fx.records("object_3").await.len(), 4);
}

#[tokio::test]
async fn write_response_and_overstate_switches() {
    let fx = Fx::new().await;
    let alice = fx.alice().await;
    fx.config(json!({"write_response": "bare"})).await;
    let r = fx
        .send_json(
            Method::POST,
            &view_path("scene_1", "view_2"),
            Some(&alice),
            &json!({"field_10": "Bare"}),
        )
        .await;
    let v = r.json();
    assert!(v.get("record").is_none());
    assert_eq!(v["field_10_raw"], "Bare");
    assert!(v["id"].is_string());

    fx.config(json!({"overstate_total_records": 10})).await;
    let p = view_path("scene_1", "view_1");
    let v = fx
        .get(&format!("{p}?rows_per_page=2"), Some(&alice))
        .await
        .json();
    assert_eq!(v["total_records"], 14);
    assert_eq!(v["total_pages"], 7);
    let v = fx
        .get(&format!("{p}?rows_per_page=2&page=3"), Some(&alice))
        .await
        .json();
    assert_eq!(v["records"], json!([]));
    let r = fx.config(json!({"write_response": "weird"})).await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn uploads_and_file_fields() {
    let fx = Fx::new().await;
    let alice = fx.alice().await;
    let upload = |name: &'static str, bytes: &'static [u8]| {
        let boundary = "----fakeknackboundary";
        let mut body = Vec::new();
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\nContent-Type: text/plain\r\n\r\n").as_bytes());
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        fx.http
            .post(fx.url(&format!("/v1/applications/{APP_ID}/assets/file/upload")))
            .header("X-Knack-Application-Id", APP_ID)
            .header("X-Knack-REST-API-Key", "knack")
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
    };
    let r = read(upload("notes.txt", b"hello\r\nfile").await.expect("send")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let a = r.json();
    let asset = a["id"].as_str().expect("id").to_string();
    assert_eq!(a["type"], "file");
    assert_eq!(a["filename"], "notes.txt");
    assert_eq!(a["size"], 11);
    assert_eq!(a["thumb_url"], "");
    let url = a["public_url"].as_str().expect("url").to_string();
    assert!(
        url.starts_with(fx.server.url())
            && url.ends_with(&format!("/download/asset/{asset}/notes.txt"))
    );
    let got = fx.http.get(&url).send().await.expect("download");
    assert_eq!(got.status(), 200);
    assert_eq!(&got.bytes().await.expect("bytes")[..], b"hello\r\nfile");

    let form = view_path("scene_1", "view_2");
    let r = fx
        .send_json(
            Method::POST,
            &form,
            Some(&alice),
            &json!({"field_10": "With file", "field_17": asset}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let f = &r.json()["record"]["field_17_raw"];
    assert_eq!(f["id"], asset.as_str());
    assert_eq!(f["filename"], "notes.txt");
    assert_eq!(f["url"], url.as_str());
    assert_eq!(f["field_key"], "field_17");
    assert_eq!(f["application_id"], APP_ID);
    assert_eq!(f["size"], 11);
    assert!(r.json()["record"]["field_17"]
        .as_str()
        .is_some_and(|s| s.contains("notes.txt")));
    // Second use and unknown ids are refused.
    for bad in [asset.as_str(), "ffffffffffffffffffffffff", "nope"] {
        let r = fx
            .send_json(
                Method::POST,
                &form,
                Some(&alice),
                &json!({"field_10": "Again", "field_17": bad}),
            )
            .await;
        assert_eq!(r.status, 400, "{bad}");
        assert_eq!(r.json()["errors"][0]["type"], "file");
    }
    // Bad uploads.
    let r = read(
        fx.http
            .post(fx.url(&format!("/v1/applications/{APP_ID}/assets/file/upload")))
            .body("plain")
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(r.status, 400);
    let r = fx
        .get(
            &format!("/v1/applications/{APP_ID}/download/asset/ffffffffffffffffffffffff/x.txt"),
            None,
        )
        .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn hostile_inputs_never_panic() {
    let fx = Fx::new().await;
    let carol = fx.carol().await;
    let p = view_path("scene_2", "view_4");
    let week = json!([{"field": "field_15", "operator": "is during the next", "range": 1e300, "type": "years"}]);
    let queries = [
        "page=18446744073709551615".to_string(),
        "page=99999999999999999999999".to_string(),
        "rows_per_page=%FF%FE".to_string(),
        format!("filters={}", enc(&week.to_string())),
        format!("filters={}", enc(&"[".repeat(5000))),
        format!("filters={}", enc(r#"{"match":"xor","rules":[]}"#)),
        format!("filters={}", enc(r#"{"rules":{}}"#)),
        format!(
            "filters={}",
            enc(r#"[{"field":"field_13","operator":"higher than","value":{"x":[1,2]}}]"#)
        ),
        format!(
            "filters={}",
            enc(r#"[{"field":"field_15","operator":"is before","value":99999999999999999}]"#)
        ),
        "sort_field=field_17&sort_order=DESC".to_string(),
        "format=".to_string(),
        "%zz=%zz&&&=".to_string(),
    ];
    for q in &queries {
        let r = fx.get(&format!("{p}?{q}"), Some(&carol)).await;
        assert!(
            r.status == 200 || r.status == 400,
            "{q}: {} {}",
            r.status,
            r.text
        );
        assert!(r.json().is_object(), "{q}");
    }
    fx.config(json!({"overstate_total_records": u64::MAX}))
        .await;
    assert_eq!(fx.get(&p, Some(&carol)).await.status, 200);
    fx.control(
        Method::POST,
        "/_fake/clock",
        Some(json!({"advance_seconds": i64::MAX})),
    )
    .await;
    assert_eq!(
        fx.get(&view_path("scene_4", "view_8"), None).await.status,
        200
    );
    fx.control(
        Method::POST,
        "/_fake/clock",
        Some(json!({"advance_seconds": i64::MIN})),
    )
    .await;
    assert_eq!(
        fx.get(&view_path("scene_4", "view_8"), None).await.status,
        200
    );
    fx.control(Method::POST, "/_fake/reset", None).await;
    let carol = fx.carol().await;
    let cell = rec_path("scene_2", "view_4", BOB_TICKETS[0]);
    for body in [
        json!({"field_15": i64::MAX}),
        json!({"field_15": {"date": "02/30/2024"}}),
        json!({"field_15": {"date": "02/03/2024", "hours": 13, "am_pm": "pm"}}),
        json!({"field_13": "1e999"}),
        json!({"field_14": [{"id": 5}]}),
        json!({"field_14": "ffffffffffffffffffffffff"}),
        json!({"field_10": [1, 2]}),
        json!({"field_16": {"email": 5}}),
        json!({"field_17": {"id": "zz"}}),
        json!({"field_12": []}),
    ] {
        let r = fx.send_json(Method::PUT, &cell, Some(&carol), &body).await;
        assert!(
            r.status == 200 || r.status == 400,
            "{body}: {} {}",
            r.status,
            r.text
        );
    }
    // Whatever was stored still renders.
    assert_eq!(fx.get(&p, Some(&carol)).await.status, 200);
    let alice = fx.alice().await;
    let r = read(
        fx.req(Method::POST, &view_path("scene_1", "view_2"), Some(&alice))
            .header("content-type", "application/json")
            .body(format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000)))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(r.status, 400);
}

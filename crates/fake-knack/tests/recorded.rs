//! What real Knack was recorded answering (`../shared/docs/knack-evidence.md`), in the
//! default mode and in the switched one: one test per behaviour.

mod common;

use common::*;
use fake_knack::FakeConfig;
use reqwest::Method;
use serde_json::json;

const HTML: &str = "text/html; charset=utf-8";
const ARTICLES: &str = "/v1/pages/scene_4/views/view_8/records";

#[tokio::test]
async fn expired_and_invalid_tokens_get_403_invalid_token_provided_or_401_when_switched() {
    let fx = Fx::new().await;
    let alice = fx.alice().await;
    let my = view_path("scene_1", "view_1");
    fx.server.state().advance_clock(49 * 3600);
    for token in [alice.as_str(), "junk"] {
        let r = fx.get(&my, Some(token)).await;
        assert_eq!(
            (r.status, first_error(&r.json())),
            (403, INVALID_TOKEN.into())
        );
    }
    fx.config(json!({"token_error_status": 401})).await;
    let r = fx.get(&my, Some(&alice)).await;
    assert_eq!(
        (r.status, first_error(&r.json())),
        (401, INVALID_TOKEN.into())
    );
}

#[tokio::test]
async fn a_permission_403_says_something_else_than_invalid_token() {
    let fx = Fx::new().await;
    let carol = fx.carol().await;
    let r = fx.get(&view_path("scene_1", "view_1"), Some(&carol)).await;
    assert_eq!(r.status, 403);
    let message = first_error(&r.json());
    assert!(
        !message.to_ascii_lowercase().contains("invalid token"),
        "{message}"
    );
}

#[tokio::test]
async fn malformed_ids_wrong_api_keys_and_other_apps_get_text_html_or_json_when_switched() {
    let fx = Fx::new().await;
    let alice = fx.alice().await;
    let malformed = rec_path("scene_1", "view_3", "77777777");
    let wrong_key = || {
        fx.req(Method::GET, ARTICLES, None)
            .header("X-Knack-REST-API-Key", "not-the-key")
            .send()
    };
    let other_app = || {
        fx.http
            .get(fx.url(ARTICLES))
            .header("X-Knack-Application-Id", "000000000000000000000001")
            .send()
    };
    let r = fx
        .send_json(
            Method::PUT,
            &malformed,
            Some(&alice),
            &json!({"field_10": "x"}),
        )
        .await;
    assert_eq!(
        (r.status, r.text.as_str()),
        (400, "Malformed Record Key: 77777777")
    );
    assert_eq!(r.header("content-type"), Some(HTML));
    let r = read(wrong_key().await.expect("send")).await;
    assert_eq!(
        (r.status, r.text.as_str(), r.header("content-type")),
        (401, "Invalid API Key", Some(HTML))
    );
    let r = read(other_app().await.expect("send")).await;
    assert_eq!(
        (r.status, r.text.as_str(), r.header("content-type")),
        (500, "Internal Server Error", Some(HTML))
    );

    fx.config(json!({"error_bodies": "json"})).await;
    let r = fx
        .send_json(
            Method::PUT,
            &malformed,
            Some(&alice),
            &json!({"field_10": "x"}),
        )
        .await;
    assert_eq!(
        (r.status, first_error(&r.json())),
        (400, "Malformed Record Key: 77777777".into())
    );
    let r = read(wrong_key().await.expect("send")).await;
    assert_eq!(
        (r.status, first_error(&r.json())),
        (401, "Invalid API Key".into())
    );
    let r = read(other_app().await.expect("send")).await;
    assert_eq!(
        (r.status, first_error(&r.json())),
        (500, "Internal Server Error".into())
    );
}

#[tokio::test]
async fn current_page_is_echoed_as_a_string_when_page_is_sent_and_empty_results_have_zero_pages() {
    let fx = Fx::new().await;
    let v = fx.get(ARTICLES, None).await.json();
    assert_eq!(
        (v["current_page"].clone(), v["total_pages"].clone()),
        (json!(1), json!(1))
    );
    let v = fx
        .get(&format!("{ARTICLES}?page=999&rows_per_page=500"), None)
        .await
        .json();
    assert_eq!(v["current_page"], "999");
    assert_eq!(v["records"], json!([]));
    let none = enc(
        r#"{"match":"and","rules":[{"field":"field_30","operator":"is","value":"no such title"}]}"#,
    );
    let v = fx
        .get(&format!("{ARTICLES}?filters={none}"), None)
        .await
        .json();
    assert_eq!(
        v,
        json!({"total_pages": 0, "current_page": 1, "total_records": 0, "records": []})
    );
    fx.config(json!({"current_page_string": false})).await;
    let v = fx.get(&format!("{ARTICLES}?page=2"), None).await.json();
    assert_eq!(v["current_page"], 2);
}

#[tokio::test]
async fn plan_reset_is_milliseconds_to_utc_midnight_and_rate_reset_is_epoch_seconds() {
    let fx = Fx::with(FakeConfig::helpdesk()).await;
    let r = fx.get(ARTICLES, None).await;
    let now_ms = fx.server.state().now() as i64 * 1000;
    let plan_reset: i64 = r
        .header("x-planlimit-reset")
        .expect("plan reset")
        .parse()
        .expect("ms");
    let midnight = (now_ms / 86_400_000 + 1) * 86_400_000;
    assert!(
        (plan_reset - (midnight - now_ms)).abs() < 2_000,
        "{plan_reset} vs {}",
        midnight - now_ms
    );
    let rate_reset: i64 = r
        .header("x-ratelimit-reset")
        .expect("rate reset")
        .parse()
        .expect("secs");
    assert!((rate_reset - now_ms / 1000).abs() <= 2, "{rate_reset}");
}

#[tokio::test]
async fn upload_answers_carry_no_rate_headers() {
    let fx = Fx::with(FakeConfig::helpdesk()).await;
    let boundary = "b0undary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a.txt\"\r\n\r\nhello\r\n--{boundary}--\r\n"
    );
    let r = read(
        fx.http
            .post(fx.url(&format!("/v1/applications/{APP_ID}/assets/file/upload")))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    for h in [
        "x-ratelimit-limit",
        "x-ratelimit-reset",
        "x-planlimit-remaining",
        "x-planlimit-reset",
    ] {
        assert_eq!(r.header(h), None, "{h}");
    }
    assert!(fx
        .get(ARTICLES, None)
        .await
        .header("x-ratelimit-limit")
        .is_some());
}

#[tokio::test]
async fn the_429_body_is_plain_text_or_json_when_switched() {
    let fx = Fx::with(FakeConfig::helpdesk().rate_limit(Some(1))).await;
    let burst = || async {
        for _ in 0..5 {
            let r = fx.get(ARTICLES, None).await;
            if r.status == 429 {
                return r;
            }
        }
        panic!("no 429 in 5 requests at 1/s");
    };
    let r = burst().await;
    assert_eq!(r.text, "Rate limit exceeded");
    assert!(r
        .header("content-type")
        .is_some_and(|c| c.starts_with("text/plain")));
    fx.config(json!({"rate_limit_body": "json"})).await;
    let r = burst().await;
    assert_eq!(first_error(&r.json()), "Rate limit exceeded");
}

#[tokio::test]
async fn view_writes_answer_under_record_or_bare_when_switched() {
    let fx = Fx::new().await;
    let alice = fx.alice().await;
    let form = view_path("scene_1", "view_2");
    let r = fx
        .send_json(
            Method::POST,
            &form,
            Some(&alice),
            &json!({"field_10": "Wrapped"}),
        )
        .await;
    let v = r.json();
    assert_eq!(
        v.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()),
        Some(vec!["record".to_string()])
    );
    assert_eq!(v["record"]["field_10_raw"], "Wrapped");
    fx.config(json!({"write_response": "bare"})).await;
    let v = fx
        .send_json(
            Method::POST,
            &form,
            Some(&alice),
            &json!({"field_10": "Bare"}),
        )
        .await
        .json();
    assert_eq!(v["field_10_raw"], "Bare");
    assert!(v["id"].is_string());
}

#[tokio::test]
async fn a_child_view_without_its_parent_id_says_which_parameter_is_required() {
    let fx = Fx::new().await;
    let alice = fx.alice().await;
    let r = fx
        .send_json(
            Method::POST,
            &view_path("scene_3", "view_7"),
            Some(&alice),
            &json!({"field_20": "hi"}),
        )
        .await;
    assert_eq!(
        (r.status, first_error(&r.json())),
        (400, "ticket_id is required for this view".into())
    );
}

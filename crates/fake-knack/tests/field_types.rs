//! The field-types fixture (`fixtures/field-types.json`): one recorded object with a value
//! of every Knack field type, served byte for byte as the fixture writes it, for each
//! `format`, through list, paging, get-one and the login scene; plus its metadata.

mod common;

use std::collections::BTreeSet;
use std::fmt;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::{client, enc, first_error};
use fake_knack::field_types::{self as ft, EMPTY, FILLED, NULLS, RECORDS};
use fake_knack::{FakeConfig, FakeKnack, Fixture, RunningServer};
use reqwest::Method;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{json, Value};

const ALL: &str = "/v1/pages/scene_1/views/view_1/records";
const DETAILS: &str = "/v1/pages/scene_1/views/view_2/records";
const FEW: &str = "/v1/pages/scene_1/views/view_3/records";
const LOGGED_IN: &str = "/v1/pages/scene_2/views/view_4/records";

/// Values the fixture holds that neither `String` nor `f64` could carry unchanged, as the
/// served JSON text must show them.
const HARD_VALUES: [&str; 7] = [
    r#""field_210_raw":12345678901234567890123"#,
    r#""field_211_raw":9007199254740993"#,
    r#""field_129_raw":1.33333333"#,
    r#""field_212_raw":2634.66666008"#,
    r#""field_213_raw":"lone high \ud800, lone low \udfff, nul \u0000, quote \", backslash \\, slash \/, tab \t, emoji pair \ud83d\ude00, literal 🙂 and ñ""#,
    // The signature: its base30 and the start of its svg.
    r#""field_23_raw":{"base30":"1W0023344484340Z5aaa67Y68acccf4527681Z5644Y899855Z14332Y36aa5Z333Y36d64Z5412Y25477h584Z4_2QZae7a87530Y15ocec9521Z234678d553100Y5564520Z3212Y464432Z2453Y643Z26c44Y66533Z32Y100Z1222_8Q00000_1vb9c96_8y66hc86Z26522000Y1w568432751_1W000000Z35554YfcmkZ203744Y3Z46_cH10000458556376643_1C66bd5Z43Y1010300Z332","svg":"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?><!DOCTYPE svg"#,
    // The timer.
    r#""field_16_raw":{"total_time":3600000,"times":[{"to":{"time":1034,"timestamp":"09/11/2019 05:14 pm","iso_timestamp":"2019-09-11T17:14:00.000Z","unix_timestamp":1568222040000,"am_pm":"PM","minutes":"14","hours":"05","date_formatted":"09/11/2019","date":"09/11/2019"},"from":{"time":974,"timestamp":"09/11/2019 04:14 pm","iso_timestamp":"2019-09-11T16:14:00.000Z","unix_timestamp":1568218440000,"am_pm":"PM","minutes":"14","hours":"04","date_formatted":"09/11/2019","date":"09/11/2019"}}]}"#,
];

/// Every field type of knack-evidence.md U8, as the metadata names them.
const EVERY_TYPE: [&str; 27] = [
    "short_text",
    "rich_text",
    "paragraph_text",
    "number",
    "currency",
    "auto_increment",
    "boolean",
    "multiple_choice",
    "concatenation",
    "equation",
    "date_time",
    "timer",
    "name",
    "email",
    "address",
    "phone",
    "link",
    "rating",
    "signature",
    "file",
    "image",
    "connection",
    "sum",
    "count",
    "average",
    "user_roles",
    "password",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fmt {
    Raw,
    Html,
    Both,
}

const FORMATS: [Fmt; 3] = [Fmt::Raw, Fmt::Html, Fmt::Both];

impl Fmt {
    fn query(self) -> &'static str {
        match self {
            Fmt::Raw => "raw",
            Fmt::Html => "html",
            Fmt::Both => "both",
        }
    }

    /// Whether a record key belongs in an answer in this format.
    fn keeps(self, key: &str) -> bool {
        key == "id"
            || match self {
                Fmt::Raw => key.ends_with("_raw"),
                Fmt::Html => !key.ends_with("_raw"),
                Fmt::Both => true,
            }
    }
}

/// A JSON object's members in their written order, values as JSON text.
struct Members(Vec<(String, Box<RawValue>)>);

impl<'de> Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Members, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Members;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Members, A::Error> {
                let mut out = Vec::new();
                while let Some(pair) = m.next_entry::<String, Box<RawValue>>()? {
                    out.push(pair);
                }
                Ok(Members(out))
            }
        }
        d.deserialize_map(V)
    }
}

fn members(text: &str) -> Pairs {
    serde_json::from_str::<Members>(text)
        .unwrap_or_else(|e| panic!("not an object ({e}): {text}"))
        .0
}

fn member<'a>(m: &'a [(String, Box<RawValue>)], key: &str) -> &'a RawValue {
    m.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| &**v)
        .unwrap_or_else(|| panic!("no {key}"))
}

/// A record's members: key and value text, in the written order.
type Pairs = Vec<(String, Box<RawValue>)>;

/// The fixture's records of object_3 as JSON text, read from the file (not from the fake).
fn fixture_records() -> Vec<(String, Pairs)> {
    let text = std::fs::read_to_string(ft::fixture_path()).expect("fixture file");
    let top = members(&text);
    let records = members(member(&top, "records").get());
    let list: Vec<Box<RawValue>> =
        serde_json::from_str(member(&records, ft::OBJECT).get()).expect("records array");
    list.iter()
        .map(|r| {
            let m = members(r.get());
            let id: String = serde_json::from_str(member(&m, "id").get()).expect("id");
            (id, m)
        })
        .collect()
}

/// The record text the fake must serve for `rec` in `fmt`, showing the fields in `shown`
/// (`None`: every field).
fn expected(rec: &[(String, Box<RawValue>)], fmt: Fmt, shown: Option<&[&str]>) -> String {
    let parts: Vec<String> = rec
        .iter()
        .filter(|(k, _)| fmt.keeps(k))
        .filter(|(k, _)| {
            k == "id" || shown.is_none_or(|s| s.contains(&k.strip_suffix("_raw").unwrap_or(k)))
        })
        .map(|(k, v)| format!("{}:{}", serde_json::to_string(k).expect("key"), v.get()))
        .collect();
    format!("{{{}}}", parts.join(","))
}

/// The record texts of a list answer, and the answer's envelope.
fn served_records(body: &str) -> (Vec<String>, Value) {
    let top = members(body);
    let mut envelope = serde_json::Map::new();
    let mut records = Vec::new();
    for (k, v) in &top {
        if k == "records" {
            let list: Vec<Box<RawValue>> = serde_json::from_str(v.get()).expect("records");
            records = list.iter().map(|r| r.get().to_string()).collect();
        } else {
            envelope.insert(k.clone(), serde_json::from_str(v.get()).expect("envelope"));
        }
    }
    (records, Value::Object(envelope))
}

fn keys(record: &str) -> Vec<String> {
    members(record).into_iter().map(|(k, _)| k).collect()
}

struct Fx {
    server: RunningServer,
    http: reqwest::Client,
}

/// A reply read as bytes (checked to be UTF-8: the served text is compared byte for byte).
struct Reply {
    status: u16,
    text: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
}

impl Fx {
    async fn new() -> Fx {
        let cfg = FakeConfig::from_fixture_path(ft::fixture_path()).rate_limit(None);
        Fx {
            server: FakeKnack::start(cfg).await.expect("start fake"),
            http: client(),
        }
    }

    async fn send(&self, method: Method, path: &str, token: Option<&str>) -> Reply {
        let mut r = self
            .http
            .request(method, format!("{}{path}", self.server.url()))
            .header("X-Knack-Application-Id", ft::APP_ID);
        if let Some(t) = token {
            r = r.header("Authorization", t);
        }
        let resp = r.send().await.expect("send");
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.expect("body");
        let text = String::from_utf8(bytes.to_vec()).expect("UTF-8 body");
        Reply { status, text }
    }

    async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, None).await
    }

    async fn login(&self) -> String {
        let r = self
            .http
            .post(format!(
                "{}/v1/applications/{}/session",
                self.server.url(),
                ft::APP_ID
            ))
            .json(&json!({"email": ft::USER_EMAIL, "password": ft::USER_PASSWORD}))
            .send()
            .await
            .expect("login");
        assert_eq!(r.status().as_u16(), 200);
        let v: Value = r.json().await.expect("login JSON");
        v["session"]["user"]["token"]
            .as_str()
            .expect("token")
            .to_string()
    }
}

#[test]
fn the_fixture_loads_and_holds_its_records_in_order() {
    Fixture::load(ft::fixture_path()).expect("field-types fixture is valid");
    let ids: Vec<String> = fixture_records().into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, RECORDS);
}

#[tokio::test]
async fn each_format_serves_every_record_byte_for_byte_with_its_keys_only() {
    let fx = Fx::new().await;
    let fixture = fixture_records();
    for fmt in FORMATS {
        let r = fx.get(&format!("{ALL}?format={}", fmt.query())).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let (served, envelope) = served_records(&r.text);
        assert_eq!(
            envelope,
            json!({"total_pages": 1, "current_page": 1, "total_records": 6})
        );
        assert_eq!(served.len(), fixture.len());
        for (text, (id, rec)) in served.iter().zip(&fixture) {
            assert_eq!(text, &expected(rec, fmt, None), "{id} {fmt:?}");
            for key in keys(text) {
                assert!(fmt.keeps(&key), "{id} {fmt:?}: {key}");
            }
        }
        let filled = &served[0];
        for hard in HARD_VALUES {
            let key = hard.split_once(':').map_or(hard, |(k, _)| k);
            let formatted_key = format!("{}:", key.replace("_raw", ""));
            match fmt {
                Fmt::Html => {
                    assert!(!filled.contains(hard), "{fmt:?}: {key}");
                    assert!(filled.contains(&formatted_key), "{fmt:?}: {formatted_key}");
                }
                _ => assert!(filled.contains(hard), "{fmt:?}: {key}"),
            }
        }
        if fmt != Fmt::Raw {
            // The made-up values are formatted as written too (numbers and text alike).
            for hard in [
                HARD_VALUES[0],
                HARD_VALUES[1],
                HARD_VALUES[3],
                HARD_VALUES[4],
            ] {
                let formatted = hard.replacen("_raw\":", "\":", 1);
                assert!(filled.contains(&formatted), "{fmt:?}: {formatted:.40}");
            }
        }
    }
}

#[tokio::test]
async fn the_formatted_and_raw_values_of_the_filled_record_are_the_recorded_ones() {
    let fx = Fx::new().await;
    let r = fx.get(&format!("{ALL}/{FILLED}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    for exact in [
        r#""field_30":"$100.43","field_30_raw":"100.43""#,
        r#""field_129":1,"field_129_raw":1.33333333"#,
        r#""field_6":"Extra Cheese","field_6_raw":"Extra Cheese""#,
        r#""field_14":"4:14pm""#,
        r#""field_15":"09/11/2019 4:14pm to 5:14pm""#,
        r#""field_44":"Bauchi ","field_44_raw":{"latitude":10,"longitude":10,"state":"Bauchi","country":"Nigeria"}"#,
        r#""field_127_raw":{"street":"123 Fake St","street2":"APT C","city":"London","state":"London","zip":"ABC123","country":"United Kingdom"}"#,
        r#""field_50":"<img src=\"google.com\" />","field_50_raw":"google.com""#,
        r#""field_128":"<span class=\"5ea46ad2b6ce4b0015000ae8\">Johnny C</span>","field_128_raw":[{"id":"5ea46ad2b6ce4b0015000ae8","identifier":"Johnny C"}]"#,
        r#""field_25":"0.00","field_25_raw":0"#,
        r#""field_201_raw":["Option 1","Option 2"]"#,
        r#""field_205":"*********","field_205_raw":"**********""#,
        r#""field_206_raw":[{"id":"profile_8","identifier":"Accounting"}]"#,
    ] {
        assert!(r.text.contains(exact), "missing {exact}");
    }
}

#[tokio::test]
async fn the_empty_records_have_the_recorded_empty_shapes() {
    let fx = Fx::new().await;
    // As recorded: `field_N` is "" and `field_N_raw` is absent, but connections say [] and
    // booleans false.
    let r = fx.get(&format!("{ALL}/{EMPTY}?format=raw")).await;
    assert_eq!(
        r.text,
        format!(
            r#"{{"id":"{EMPTY}","field_29_raw":false,"field_38_raw":false,"field_128_raw":[],"field_206_raw":[]}}"#
        )
    );
    let html = fx.get(&format!("{ALL}/{EMPTY}?format=html")).await.json();
    let html = html.as_object().expect("object");
    // id and the 43 fields of object_3
    assert_eq!(html.len(), 1 + 43);
    for (k, v) in html {
        let want = match k.as_str() {
            "id" => json!(EMPTY),
            "field_29" | "field_38" => json!("No"),
            _ => json!(""),
        };
        assert_eq!(v, &want, "{k}");
    }
    // As knack-evidence.md reads it: raw null (file, multiple choice, ...), connection [].
    let r = fx.get(&format!("{ALL}/{NULLS}")).await;
    for exact in [
        r#""field_17":"","field_17_raw":null"#,
        r#""field_6":"","field_6_raw":null"#,
        r#""field_128":"","field_128_raw":[]"#,
        r#""field_201":"","field_201_raw":[null]"#,
        r#""field_29":"No","field_29_raw":false"#,
    ] {
        assert!(r.text.contains(exact), "missing {exact}: {}", r.text);
    }
}

#[tokio::test]
async fn a_view_shows_only_its_fields_in_the_fixtures_key_order() {
    let fx = Fx::new().await;
    let shown = ["field_7", "field_128", "field_210", "field_213"];
    let fixture = fixture_records();
    for fmt in FORMATS {
        let r = fx.get(&format!("{FEW}?format={}", fmt.query())).await;
        let (served, _) = served_records(&r.text);
        for (text, (id, rec)) in served.iter().zip(&fixture) {
            assert_eq!(text, &expected(rec, fmt, Some(&shown)), "{id} {fmt:?}");
        }
    }
    let r = fx.get(&format!("{FEW}/{FILLED}?format=both")).await;
    assert_eq!(
        keys(&r.text),
        [
            "id",
            "field_7",
            "field_7_raw",
            "field_128",
            "field_128_raw",
            "field_210",
            "field_210_raw",
            "field_213",
            "field_213_raw"
        ]
    );
}

#[tokio::test]
async fn paging_and_get_one_work_on_recorded_views_as_on_the_others() {
    let fx = Fx::new().await;
    let mut seen = Vec::new();
    for page in 1..=3 {
        let r = fx
            .get(&format!("{ALL}?rows_per_page=4&page={page}&format=raw"))
            .await;
        let (served, envelope) = served_records(&r.text);
        assert_eq!(
            envelope,
            json!({"total_pages": 2, "current_page": page.to_string(), "total_records": 6})
        );
        assert_eq!(served.len(), [4, 2, 0][page - 1]);
        seen.extend(served.iter().map(|t| {
            let m = members(t);
            serde_json::from_str::<String>(member(&m, "id").get()).expect("id")
        }));
    }
    assert_eq!(seen, RECORDS);
    let r = fx.get(&format!("{ALL}?rows_per_page=1001")).await;
    assert_eq!(r.status, 400);

    let fixture = fixture_records();
    for (id, rec) in &fixture {
        for fmt in FORMATS {
            for view in [ALL, DETAILS] {
                let r = fx.get(&format!("{view}/{id}?format={}", fmt.query())).await;
                assert_eq!(r.status, 200, "{view} {id}");
                assert_eq!(r.text, expected(rec, fmt, None), "{view} {id} {fmt:?}");
            }
        }
    }
    let missing = fx.get(&format!("{ALL}/5f1e1d7e0000000000000bad")).await;
    assert_eq!(
        (missing.status, first_error(&missing.json())),
        (404, "Record not found".to_string())
    );
    // (The records hold lone surrogates, which serde_json's Value refuses: read the envelope.)
    let (records, envelope) = served_records(&fx.get(DETAILS).await.text);
    assert_eq!((records.len(), &envelope["total_records"]), (6, &json!(6)));
}

#[tokio::test]
async fn the_login_scene_needs_a_token_and_serves_the_same_records() {
    let fx = Fx::new().await;
    let r = fx.get(LOGGED_IN).await;
    assert_eq!(r.status, 401);
    let token = fx.login().await;
    for fmt in FORMATS {
        let q = format!("?format={}", fmt.query());
        let logged_in = fx
            .send(Method::GET, &format!("{LOGGED_IN}{q}"), Some(&token))
            .await;
        assert_eq!(logged_in.status, 200);
        let public = fx.get(&format!("{ALL}{q}")).await;
        assert_eq!(logged_in.text, public.text);
        let one = fx
            .send(
                Method::GET,
                &format!("{LOGGED_IN}/{FILLED}{q}"),
                Some(&token),
            )
            .await;
        assert_eq!(one.text, fx.get(&format!("{ALL}/{FILLED}{q}")).await.text);
    }
}

#[tokio::test]
async fn filters_and_sorting_on_recorded_views_are_refused_with_a_400() {
    let fx = Fx::new().await;
    let filters = enc(r#"[{"field":"field_7","operator":"is","value":"hello"}]"#);
    for q in [
        format!("filters={filters}"),
        "sort_field=field_7&sort_order=desc".to_string(),
    ] {
        let r = fx.get(&format!("{ALL}?{q}")).await;
        assert_eq!(r.status, 400, "{q}");
        assert!(first_error(&r.json()).contains("recorded"), "{}", r.text);
    }
}

#[tokio::test]
async fn writes_to_recorded_views_and_seeding_are_refused() {
    let fx = Fx::new().await;
    for (method, path) in [
        (Method::POST, ALL.to_string()),
        (Method::PUT, format!("{ALL}/{FILLED}")),
        (Method::DELETE, format!("{ALL}/{FILLED}")),
    ] {
        let r = fx.send(method.clone(), &path, None).await;
        assert_eq!(
            (r.status, first_error(&r.json())),
            (400, "This view does not support this action".to_string()),
            "{method} {path}"
        );
    }
    let seed = fx
        .http
        .post(format!("{}/_fake/seed", fx.server.url()))
        .json(&json!({"object": ft::OBJECT, "count": 1}))
        .send()
        .await
        .expect("seed");
    assert_eq!(seed.status().as_u16(), 400);
    assert!(fx.server.state().seed(ft::OBJECT, 1, &[]).is_err());
}

#[tokio::test]
async fn fake_records_gives_the_recorded_records_as_written() {
    let fx = Fx::new().await;
    let r = fx
        .http
        .get(format!("{}/_fake/records/{}", fx.server.url(), ft::OBJECT))
        .send()
        .await
        .expect("records");
    let text = r.text().await.expect("body");
    let m = members(&text);
    let list: Vec<Box<RawValue>> =
        serde_json::from_str(member(&m, "records").get()).expect("records");
    for (served, (id, rec)) in list.iter().zip(fixture_records()) {
        assert_eq!(served.get(), expected(&rec, Fmt::Both, None), "{id}");
    }
}

#[tokio::test]
async fn metadata_lists_every_field_type_by_its_knack_name() {
    let fx = Fx::new().await;
    let r = fx
        .http
        .get(format!(
            "{}/v1/applications/{}",
            fx.server.url(),
            ft::APP_ID
        ))
        .send()
        .await
        .expect("metadata");
    let v: Value = r.json().await.expect("JSON");
    let objects = v["application"]["objects"].as_array().expect("objects");
    let all = objects
        .iter()
        .find(|o| o["key"] == ft::OBJECT)
        .expect("object_3");
    assert_eq!(all["name"], "All field types");
    let fields = all["fields"].as_array().expect("fields");
    let types: BTreeSet<&str> = fields
        .iter()
        .map(|f| f["type"].as_str().expect("type"))
        .collect();
    assert_eq!(types, EVERY_TYPE.into_iter().collect::<BTreeSet<_>>());
    let field = |key: &str| {
        fields
            .iter()
            .find(|f| f["key"] == key)
            .unwrap_or_else(|| panic!("{key}"))
    };
    assert_eq!(field("field_30")["type"], "currency");
    assert_eq!(field("field_18")["format"]["source"], "upload");
    assert_eq!(field("field_50")["format"]["source"], "url");
    assert_eq!(field("field_201")["format"]["type"], "multi");
    assert_eq!(field("field_6")["format"]["type"], "single");
    assert_eq!(field("field_14")["format"]["date_format"], "Ignore Date");
    assert_eq!(field("field_128")["relationship"]["object"], "object_7");
    assert_eq!(v["application"]["counts"]["total_entries"], 6 + 2);
}

#[test]
fn the_binary_serves_the_field_types_fixture() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fake-knack"))
        .args([
            "--fixture",
            ft::fixture_path().to_str().expect("path"),
            "--port",
            "0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("line");
    let url = line
        .trim_end()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("{line:?}"))
        .to_string();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    let body = rt.block_on(async {
        client()
            .get(format!("{url}{FEW}/{FILLED}?format=raw"))
            .header("X-Knack-Application-Id", ft::APP_ID)
            .send()
            .await
            .expect("send")
            .text()
            .await
            .expect("body")
    });
    let _ = child.kill();
    let _ = child.wait();
    assert!(body.contains(HARD_VALUES[0]), "{body}");
    assert!(body.contains(HARD_VALUES[4]), "{body}");
}

#[test]
fn a_recorded_object_refuses_writable_or_filtered_views_and_ordinary_objects_refuse_new_types() {
    let base = |objects: &str, views: &str, records: &str| {
        format!(
            r#"{{"application": {{"id": "5f1e1d7e5f1e1d7e5f1e1d7e", "name": "T", "slug": "t"}},
                "objects": [{objects}],
                "scenes": [{{"key": "scene_1", "slug": "s", "name": "S", "access": "public",
                            "views": [{views}]}}],
                "records": {{{records}}}}}"#
        )
    };
    let recorded = r#"{"key": "object_1", "name": "R", "recorded": true,
        "fields": [{"key": "field_1", "name": "A", "type": "currency"}]}"#;
    let ok = base(
        recorded,
        r#"{"key": "view_1", "name": "V", "type": "table", "object": "object_1", "fields": ["field_1"]}"#,
        r#""object_1": [{"id": "5f1e1d7e0000000000000001", "field_1": "$1.00", "field_1_raw": "1.00"}]"#,
    );
    Fixture::from_json_str(&ok).expect("a readable view of a recorded object");
    for (view, needle) in [
        (
            r#"{"key": "view_1", "name": "V", "type": "form", "action": "insert", "object": "object_1", "inputs": ["field_1"]}"#,
            "a form",
        ),
        (
            r#"{"key": "view_1", "name": "V", "type": "table", "object": "object_1", "fields": ["field_1"], "delete": true}"#,
            "delete",
        ),
        (
            r#"{"key": "view_1", "name": "V", "type": "table", "object": "object_1", "fields": ["field_1"], "sort": [{"field": "field_1"}]}"#,
            "sort",
        ),
    ] {
        let err = Fixture::from_json_str(&base(recorded, view, ""))
            .expect_err(needle)
            .to_string();
        assert!(err.contains(needle), "{err}");
    }
    let ordinary = r#"{"key": "object_1", "name": "O",
        "fields": [{"key": "field_1", "name": "Price", "type": "currency"}]}"#;
    Fixture::from_json_str(&base(ordinary, "", "")).expect("a currency field may exist");
    let err = Fixture::from_json_str(&base(
        ordinary,
        "",
        r#""object_1": [{"id": "5f1e1d7e0000000000000001", "field_1": "1.00"}]"#,
    ))
    .expect_err("a currency value in an ordinary object")
    .to_string();
    assert!(err.contains("does not store currency"), "{err}");
}

//! No scene, view, record id or list parameter can make a request URL leave its intended path:
//! for any input, the call is refused before sending (KNACK_INVALID_ARGUMENT), or the URL is
//! on the configured host, under `/v1/pages/{scene}/views/{view}/records[/{id}]` with each
//! piece exactly one path segment, and carries only the known query parameters.

use knack_client::internals::request_url;
use knack_client::internals::validate;
use knack_client::{ListQuery, ViewRef};
use proptest::prelude::*;
use url::Url;

/// Strings made of the pieces path tricks are made of, plus valid keys, plus anything.
fn hostile() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec![
        "..",
        ".",
        "/",
        "\\",
        "%2e",
        "%2E",
        "%2f",
        "%2F",
        "%5c",
        "%00",
        "%",
        "?",
        "#",
        "&",
        "=",
        "@",
        ":",
        ";",
        " ",
        "\t",
        "\n",
        "\r",
        "\u{0}",
        "\u{ff0e}",
        "\u{2215}",
        "\u{202e}",
        "é",
        "scene_",
        "view_",
        "field_",
        "1",
        "0",
        "9",
        "a",
        "f",
        "A",
        "-",
        "_",
        "scene_1",
        "view_2",
        "my-tickets",
        "000000000000000000000a11",
        "http://evil.example",
        "//evil",
        "api.knack.com",
        "~",
        "+",
        "*",
    ]);
    prop_oneof![
        3 => prop::collection::vec(piece, 0..8).prop_map(|v| v.concat()),
        1 => any::<String>(),
        1 => "[a-z0-9_-]{1,12}",
        1 => "(scene|view)_[0-9]{1,10}",
        1 => "[0-9a-fA-F]{23,25}",
    ]
}

fn base() -> Url {
    Url::parse("https://api.knack.com/v1").expect("base")
}

fn check_url(u: &Url, scene: &str, view: &str, id: Option<&str>) {
    assert_eq!(u.scheme(), "https");
    assert_eq!(u.host_str(), Some("api.knack.com"));
    assert_eq!(u.port(), None);
    assert!(u.username().is_empty() && u.password().is_none());
    assert_eq!(u.fragment(), None);
    let segments: Vec<&str> = u.path_segments().expect("path").collect();
    let mut want = vec!["v1", "pages", scene, "views", view, "records"];
    if let Some(id) = id {
        want.push(id);
    }
    assert_eq!(segments, want, "{u}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn a_record_url_is_refused_or_stays_in_its_path(
        scene in hostile(), view in hostile(), id in hostile()
    ) {
        let v = ViewRef { scene: scene.clone(), view: view.clone(), parent_record_id: None };
        match (v.check(), validate::record_id("id", &id)) {
            (Ok(()), Ok(())) => {
                let u = request_url(&base(), &v.record_path(&id), "").expect("url");
                check_url(&u, &scene, &view, Some(&id));
                prop_assert_eq!(u.query(), None);
            }
            (a, b) => {
                let e = a.err().or(b.err()).expect("an error");
                prop_assert_eq!(e.code(), "KNACK_INVALID_ARGUMENT");
                // The refusal quotes at most a short, escaped excerpt of the input.
                prop_assert!(!e.message.contains('\n') && !e.message.contains('\r'));
            }
        }
    }

    #[test]
    fn a_list_url_is_refused_or_carries_only_known_parameters(
        scene in hostile(),
        view in hostile(),
        page in proptest::option::of(any::<u32>()),
        rows in proptest::option::of(0u32..1200),
        filter_value in hostile(),
        filter_field in hostile(),
        sort_field in proptest::option::of(hostile()),
        sort_order in proptest::option::of(prop_oneof![Just("asc".to_owned()), Just("desc".to_owned()), hostile()]),
        format in proptest::option::of(prop_oneof![Just("raw".to_owned()), hostile()]),
        parent in proptest::option::of(hostile()),
    ) {
        let filters = serde_json::json!([{"field": filter_field, "operator": "is", "value": filter_value}]);
        let q = ListQuery {
            view: ViewRef { scene: scene.clone(), view: view.clone(), parent_record_id: parent },
            page,
            rows_per_page: rows,
            filters: Some(filters.to_string()),
            sort_field,
            sort_order,
            format,
            shape: Default::default(),
        };
        match q.prepare() {
            Err(e) => prop_assert_eq!(e.code(), "KNACK_INVALID_ARGUMENT"),
            Ok(p) => {
                let u = request_url(&base(), &p.path, &p.query_for_page(page)).expect("url");
                check_url(&u, &scene, &view, None);
                let parent_key = format!("{scene}_id");
                let mut seen = std::collections::HashSet::new();
                for (k, v) in u.query_pairs() {
                    prop_assert!(
                        matches!(k.as_ref(), "rows_per_page" | "filters" | "sort_field" | "sort_order" | "format" | "page")
                            || k == parent_key,
                        "unexpected parameter {}={} in {}", k, v, u
                    );
                    prop_assert!(seen.insert(k.to_string()), "{} twice in {}", k, u);
                    if k == "filters" {
                        let f: serde_json::Value = serde_json::from_str(&v).expect("filters JSON");
                        prop_assert_eq!(&f, &filters);
                    }
                }
            }
        }
    }

    #[test]
    fn accepted_names_hold_only_path_safe_characters(s in hostile()) {
        let safe = |s: &str| s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if validate::scene(&s).is_ok() {
            prop_assert!(safe(&s) && !s.is_empty() && s.len() <= 100);
        }
        if validate::view(&s).is_ok() || validate::record_id("id", &s).is_ok()
            || validate::field_key("f", &s).is_ok() || validate::app_id(&s).is_ok()
        {
            prop_assert!(safe(&s) && !s.is_empty());
        }
    }

    #[test]
    fn an_accepted_base_url_keeps_every_request_on_its_host(
        host in prop_oneof![Just("api.knack.com".to_owned()), Just("127.0.0.1:8080".to_owned()), Just("localhost".to_owned()), hostile()],
        scheme in prop_oneof![Just("https"), Just("http")],
        path in hostile(),
    ) {
        let text = format!("{scheme}://{host}/{path}");
        if let Ok(b) = validate::base_url(&text) {
            prop_assert!(b.username().is_empty() && b.password().is_none());
            prop_assert!(b.query().is_none() && b.fragment().is_none());
            let u = request_url(&b, "/pages/scene_1/views/view_1/records", "page=1").expect("url");
            prop_assert_eq!(u.host(), b.host());
            prop_assert_eq!(u.port_or_known_default(), b.port_or_known_default());
            prop_assert!(u.path().ends_with("/pages/scene_1/views/view_1/records"), "{}", u);
            prop_assert!(u.path().starts_with(b.path().trim_end_matches('/')), "{} from {}", u, b);
            prop_assert_eq!(u.query(), Some("page=1"));
            prop_assert!(u.scheme() == "https" || matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "[::1]")) || u.host().is_some_and(|h| matches!(h, url::Host::Ipv4(ip) if ip.is_loopback())), "{}", u);
        }
    }
}

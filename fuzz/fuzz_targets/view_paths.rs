//! Request URLs built from caller input (scene, view, record id, list parameters): whatever is
//! given, the call is either refused before sending (KNACK_INVALID_ARGUMENT) or its URL stays
//! on Knack's host, under `/v1/pages/{scene}/views/{view}/records[/{id}]` with each piece one
//! whole path segment, and with only the known query parameters.
#![no_main]

use arbitrary::Arbitrary;
use knack_client::internals::request_url;
use knack_client::internals::validate;
use knack_client::{ListQuery, ViewRef};
use libfuzzer_sys::fuzz_target;
use url::Url;

#[derive(Arbitrary, Debug)]
struct Input {
    scene: String,
    view: String,
    id: String,
    page: Option<u32>,
    rows_per_page: Option<u32>,
    filters: Option<String>,
    sort_field: Option<String>,
    sort_order: Option<String>,
    format: Option<String>,
    parent_record_id: Option<String>,
}

fn base() -> Url {
    Url::parse("https://api.knack.com/v1").expect("base URL")
}

fn segments(u: &Url) -> Vec<String> {
    u.path_segments()
        .expect("a path")
        .map(str::to_owned)
        .collect()
}

fn check_url(u: &Url, scene: &str, view: &str, id: Option<&str>) {
    assert_eq!(u.scheme(), "https");
    assert_eq!(u.host_str(), Some("api.knack.com"));
    assert_eq!(u.port(), None);
    assert!(u.username().is_empty() && u.password().is_none());
    assert_eq!(u.fragment(), None);
    let mut want = vec!["v1", "pages", scene, "views", view, "records"];
    if let Some(id) = id {
        want.push(id);
    }
    assert_eq!(segments(u), want, "{u}");
}

fuzz_target!(|input: Input| {
    let view = ViewRef {
        scene: input.scene.clone(),
        view: input.view.clone(),
        parent_record_id: None,
    };
    // One record: path only.
    if view.check().is_ok() && validate::record_id("id", &input.id).is_ok() {
        let u = request_url(&base(), &view.record_path(&input.id), "").expect("a URL");
        check_url(&u, &input.scene, &input.view, Some(&input.id));
        assert_eq!(u.query(), None);
    }
    // A list: path and query.
    let filters = input.filters.clone();
    let q = ListQuery {
        view: ViewRef {
            parent_record_id: input.parent_record_id,
            ..view
        },
        page: input.page,
        rows_per_page: input.rows_per_page,
        filters,
        sort_field: input.sort_field,
        sort_order: input.sort_order,
        format: input.format,
        shape: Default::default(),
    };
    match q.prepare() {
        Err(e) => assert_eq!(e.code(), "KNACK_INVALID_ARGUMENT"),
        Ok(p) => {
            let query = p.query_for_page(q.page);
            let u = request_url(&base(), &p.path, &query).expect("a URL");
            check_url(&u, &input.scene, &input.view, None);
            let parent_key = format!("{}_id", input.scene);
            for (k, v) in u.query_pairs() {
                assert!(
                    matches!(
                        k.as_ref(),
                        "rows_per_page"
                            | "filters"
                            | "sort_field"
                            | "sort_order"
                            | "format"
                            | "page"
                    ) || k == parent_key,
                    "unexpected parameter {k}={v} in {u}"
                );
                if k == "filters" {
                    // The caller's text, as given (trimmed), decoded back from the URL.
                    assert_eq!(Some(v.as_ref()), q.filters.as_deref().map(str::trim));
                }
            }
        }
    }
});

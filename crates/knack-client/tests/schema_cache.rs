//! The per-app schema cache: one metadata request for callers that ask together, however
//! late the runtime polls them, and a refresh is a fetch no older than the moment it was
//! asked for.

mod common;

use common::*;
use fake_knack::{FakeConfig, FakeKnack, RunningServer};
use futures_util::future::join_all;
use knack_client::CallOptions;
use std::time::Instant;

fn metadata_requests(server: &RunningServer) -> usize {
    server
        .state()
        .log()
        .iter()
        .filter(|e| e.method == "GET" && e.path.ends_with(&format!("/applications/{APP_ID}")))
        .count()
}

#[tokio::test]
async fn refreshes_asked_together_share_one_fetch_even_when_polled_after_it_finished() {
    let server = FakeKnack::start(FakeConfig::default().rate_limit(None))
        .await
        .expect("fake-knack");
    let config = config(&server.api_url());
    let opts = CallOptions::default();
    config.schema(None, &opts).await.expect("first schema");
    assert_eq!(metadata_requests(&server), 1);

    // Twenty callers ask for a refresh at the same moment; the first runs to the end before
    // the others are polled at all (what a loaded machine does to JS calls made in one tick).
    let asked = Instant::now();
    config.schema(Some(asked), &opts).await.expect("refresh");
    assert_eq!(metadata_requests(&server), 2, "a refresh fetches again");
    let late = join_all((0..19).map(|_| config.schema(Some(asked), &opts))).await;
    assert!(late.iter().all(Result::is_ok));
    assert_eq!(
        metadata_requests(&server),
        2,
        "callers that asked before the refresh finished take its answer"
    );

    // A refresh asked after that fetch fetches again; a plain call takes the cache.
    config
        .schema(Some(Instant::now()), &opts)
        .await
        .expect("refresh");
    config.schema(None, &opts).await.expect("cached");
    assert_eq!(metadata_requests(&server), 3);
}

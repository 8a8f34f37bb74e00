//! Health, readiness and metrics: what an orchestrator and Prometheus ask.

use reqwest::{Method, StatusCode};

use crate::support::TestApp;

api_tests! {
    a_running_kontor_is_alive_and_ready,
    a_kontor_whose_database_lacks_a_migration_is_not_ready,
    metrics_count_requests_by_route_template_and_report_the_provisioning_queue,
}

async fn text(app: &TestApp, path: &str) -> (StatusCode, String) {
    let resp = app.request(Method::GET, path).send().await.expect("GET");
    (resp.status(), resp.text().await.expect("body"))
}

async fn a_running_kontor_is_alive_and_ready(app: TestApp) {
    assert_eq!(text(&app, "/healthz").await, (StatusCode::OK, "ok".into()));
    assert_eq!(
        text(&app, "/readyz").await,
        (StatusCode::OK, "ready".into())
    );
}

async fn a_kontor_whose_database_lacks_a_migration_is_not_ready(app: TestApp) {
    // As if this binary were newer than the schema: its newest migration
    // is not applied there.
    sqlx::query(
        "DELETE FROM _sqlx_migrations WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)",
    )
    .execute(&app.db().pool)
    .await
    .expect("forget the newest migration");
    let (status, body) = text(&app, "/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(body.contains("migrations"), "{body}");
    assert_eq!(
        text(&app, "/healthz").await.0,
        StatusCode::OK,
        "alive all the same"
    );
}

async fn metrics_count_requests_by_route_template_and_report_the_provisioning_queue(app: TestApp) {
    let t = app.contract_with_room(20).await;
    let b = app
        .book_ok(
            &t.token,
            t.application_id,
            "abnahme",
            "container-namespace",
            "S",
        )
        .await;
    app.settle().await;
    for _ in 0..3 {
        let resp = app
            .get(&format!("/api/v1/bookings/{}", b["id"]), &t.token)
            .await;
        assert_eq!(resp.status(), StatusCode::OK);
    }
    // Not where the portal is: on a listener of its own.
    let (status, _) = text(&app, "/metrics").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let scraped = reqwest::get(format!("{}/metrics", app.metrics_address))
        .await
        .expect("scrape the metrics listener");
    assert_eq!(scraped.status(), StatusCode::OK);
    assert!(
        scraped.headers()[reqwest::header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4"),
        "Prometheus' text format"
    );
    let body = scraped.text().await.expect("body");
    let line = body
        .lines()
        .find(|l| {
            l.starts_with("kontor_http_requests_total{")
                && l.contains("route=\"/api/v1/bookings/{id}\"")
                && l.contains("status=\"200\"")
        })
        .unwrap_or_else(|| panic!("no request counter by route template:\n{body}"));
    let count: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(count >= 3.0, "{line}");
    assert!(
        !body.contains(&format!("/api/v1/bookings/{}", b["id"])),
        "raw paths with ids would make a series per object"
    );
    assert!(
        body.contains("kontor_http_request_duration_seconds_bucket{"),
        "{body}"
    );
    assert!(
        body.contains("kontor_provisioning_queue_pending 0"),
        "{body}"
    );
    assert!(
        body.contains("kontor_provisioning_queue_failing 0"),
        "{body}"
    );
    assert!(
        body.lines()
            .any(|l| l.starts_with("kontor_reconciles_total{") && l.contains("outcome=\"ok\"")),
        "{body}"
    );
}

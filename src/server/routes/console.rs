//! `GET /`: the analyst console, a page of our own HTML, CSS and JavaScript compiled into the
//! binary (no CDN, works offline). It uses only the public API: `/v1/analyze`, `/v1/jobs`,
//! `/v1/status`. The files live in `src/server/console/`.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

/// Scripts, styles and API calls from this server only; no framing by other sites.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data:; \
     object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // The files change with the binary: revalidate rather than serve a stale console.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// `GET /`: the console page.
pub async fn page() -> Response {
    asset(
        "text/html; charset=utf-8",
        include_str!("../console/index.html"),
    )
}

/// `GET /console/console.js`.
pub async fn script() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../console/console.js"),
    )
}

/// `GET /console/console.css`.
pub async fn stylesheet() -> Response {
    asset(
        "text/css; charset=utf-8",
        include_str!("../console/console.css"),
    )
}

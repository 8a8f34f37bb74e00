//! An export as an HTTP download: the bytes stream out as the exporting
//! task produces them, for the pages and the API alike (billing CSV, the
//! Revision's CSV and JSON Lines).

use axum::{
    body::Body,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};

use crate::app::export::Export;

impl IntoResponse for Export {
    fn into_response(self) -> Response {
        let mut rx = self.rx;
        let stream = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
        let mut response = Body::from_stream(stream).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(self.content_type),
        );
        if let Ok(v) =
            HeaderValue::from_str(&format!("attachment; filename=\"{}\"", self.file_name))
        {
            headers.insert(header::CONTENT_DISPOSITION, v);
        }
        response
    }
}

//! The storefront's static assets, compiled into the component (no files to deploy): the
//! stylesheet and the one small script. Pure.

use shopnow_kernel::http::{HttpRequest, HttpResponse, Method};

const CSS: &str = include_str!("../assets/app.css");
const JS: &str = include_str!("../assets/app.js");

/// The asset at the request's path, if it is one (GET only).
pub fn serve(request: &HttpRequest) -> Option<HttpResponse> {
    if request.method != Method::Get && request.method != Method::Head {
        return None;
    }
    let (body, content_type) = match request.path.as_str() {
        "/assets/app.css" => (CSS, "text/css; charset=utf-8"),
        "/assets/app.js" => (JS, "text/javascript; charset=utf-8"),
        _ => return None,
    };
    Some(HttpResponse {
        status: 200,
        headers: vec![
            ("content-type".into(), content_type.into()),
            ("cache-control".into(), "public, max-age=3600".into()),
        ],
        body: body.as_bytes().to_vec(),
    })
}

//! The headers of one delivery: the emulator's own (`Content-Type`, `Monime-Signature`; the
//! HTTP client adds `Content-Length` and `Host` from the body and the URL) and the webhook's
//! custom ones, which never replace, duplicate or reframe them. A custom header that cannot be
//! sent is left out with a reason the delivery log shows, instead of failing the delivery.

use std::collections::BTreeMap;

use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use serde::Serialize;

/// A custom header left out of a delivery, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkippedHeader {
    pub name: String,
    pub reason: String,
}

/// Names a custom header may not carry: the emulator's own headers, and those that frame the
/// message or steer the connection (a custom `Content-Length: 5` would cut the body and make
/// the rest read as a second request).
fn reserved(name: &HeaderName) -> Option<&'static str> {
    let own = [
        header::CONTENT_TYPE,
        HeaderName::from_static(monime_signature::SIGNATURE_HEADER),
    ];
    let framing = [
        header::CONTENT_LENGTH,
        header::TRANSFER_ENCODING,
        header::HOST,
        header::CONNECTION,
        header::TE,
        header::TRAILER,
        header::UPGRADE,
        header::EXPECT,
        HeaderName::from_static("keep-alive"),
        HeaderName::from_static("proxy-connection"),
    ];
    if own.contains(name) {
        Some("the emulator sets this header itself")
    } else if framing.contains(name) {
        Some("it frames the message or steers the connection, so the HTTP client sets it")
    } else {
        None
    }
}

/// Every header of a delivery signed with `signature` (if any), and the custom ones skipped.
pub fn delivery_headers(
    custom: Option<&BTreeMap<String, String>>,
    signature: Option<String>,
) -> (HeaderMap, Vec<SkippedHeader>) {
    let mut headers = HeaderMap::new();
    let mut skipped = Vec::new();
    for (name, value) in custom.into_iter().flatten() {
        let skip = |reason: &str| SkippedHeader {
            name: name.clone(),
            reason: reason.to_owned(),
        };
        let Ok(parsed_name) = HeaderName::from_bytes(name.as_bytes()) else {
            skipped.push(skip("not a valid HTTP header name"));
            continue;
        };
        if let Some(reason) = reserved(&parsed_name) {
            skipped.push(skip(reason));
            continue;
        }
        let Ok(parsed_value) = HeaderValue::from_str(value) else {
            skipped.push(skip("the value holds characters a header cannot carry"));
            continue;
        };
        headers.append(parsed_name, parsed_value);
    }
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(signature) = signature
        && let Ok(value) = HeaderValue::from_str(&signature)
    {
        headers.insert(monime_signature::SIGNATURE_HEADER, value);
    }
    (headers, skipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_that_cannot_be_sent_are_skipped_with_a_reason() {
        let custom: BTreeMap<String, String> = [
            ("Bad Name", "x"),
            ("X-Newline", "a\nb"),
            ("content-length", "5"),
            ("Monime-Signature", "t=1,v1=forged"),
            ("X-Tenant", "acme"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let (headers, skipped) = delivery_headers(Some(&custom), Some("t=2,v1=real".to_owned()));
        let names: Vec<&str> = skipped.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "Bad Name",
                "Monime-Signature",
                "X-Newline",
                "content-length"
            ]
        );
        assert!(skipped.iter().all(|s| !s.reason.is_empty()));
        assert_eq!(headers["x-tenant"], "acme");
        assert_eq!(headers.get_all("monime-signature").iter().count(), 1);
        assert_eq!(headers["monime-signature"], "t=2,v1=real");
        assert!(headers.get("content-length").is_none());
    }
}

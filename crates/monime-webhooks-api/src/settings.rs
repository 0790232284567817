//! What the generated client carries besides its base URL and `reqwest::Client`: the caller's
//! credentials and how calls are retried. progenitor stores it as the client's inner value
//! (`Client::inner()`), where the hooks read it on every request.

use std::fmt;
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};

use crate::retry::RetryPolicy;
use crate::spec::params;

/// The largest response body the hooks read by default (bytes). Monime's largest answer, a
/// page of 50 webhooks, is far smaller.
pub const DEFAULT_BODY_LIMIT: usize = 4 * 1024 * 1024;

/// Per-client settings read by the request hooks. `Debug` never shows the token.
#[derive(Clone)]
pub struct Settings {
    /// `Authorization: Bearer <token>`, built once (marked sensitive); a token that cannot be
    /// a header value is reported on the first request that lacks the header.
    pub(crate) authorization: Option<DefaultHeader>,
    space_id: Option<String>,
    version: Option<String>,
    /// `Monime-Space-Id` and `Monime-Version` as they go on the wire, made once here rather
    /// than on every request.
    pub(crate) space_header: Option<DefaultHeader>,
    pub(crate) version_header: DefaultHeader,
    /// How failed attempts are retried.
    pub retry: RetryPolicy,
    /// The limit of one attempt, connection to last byte.
    pub timeout: Option<Duration>,
    /// Larger response bodies are refused, not read.
    pub body_limit: usize,
}

impl Settings {
    /// Settings that add nothing: no token, no retries, the default body limit.
    pub fn none() -> Settings {
        Settings {
            authorization: None,
            space_id: None,
            version: None,
            space_header: None,
            version_header: DefaultHeader::new(params::MONIME_VERSION.name, crate::API_VERSION),
            retry: RetryPolicy::none(),
            timeout: None,
            body_limit: DEFAULT_BODY_LIMIT,
        }
    }

    /// Sends `Authorization: Bearer <token>` on every request that has none.
    pub fn with_token(mut self, token: impl Into<String>) -> Settings {
        let header = HeaderValue::from_str(&format!("Bearer {}", token.into()))
            .map(|mut value| {
                value.set_sensitive(true);
                (AUTHORIZATION, value)
            })
            .map_err(|_| "the access token is not a valid header value".to_owned());
        self.authorization = Some(DefaultHeader {
            name: AUTHORIZATION.as_str(),
            header,
        });
        self
    }

    /// Sends this `Monime-Space-Id` on every request that has none.
    pub fn with_space_id(mut self, space_id: impl Into<String>) -> Settings {
        let space_id = space_id.into();
        self.space_header = Some(DefaultHeader::new(params::MONIME_SPACE_ID.name, &space_id));
        self.space_id = Some(space_id);
        self
    }

    /// Sends this `Monime-Version` on every request that has none (default
    /// [`crate::API_VERSION`]).
    pub fn with_version(mut self, version: impl Into<String>) -> Settings {
        let version = version.into();
        self.version_header = DefaultHeader::new(params::MONIME_VERSION.name, &version);
        self.version = Some(version);
        self
    }

    /// Retries failed attempts per `retry`.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Settings {
        self.retry = retry;
        self
    }

    /// Limits each attempt to `timeout`.
    pub fn with_timeout(mut self, timeout: Duration) -> Settings {
        self.timeout = Some(timeout);
        self
    }

    /// Refuses response bodies larger than `bytes`.
    pub fn with_body_limit(mut self, bytes: usize) -> Settings {
        self.body_limit = bytes;
        self
    }

    /// The space requests act on, when set.
    pub fn space_id(&self) -> Option<&str> {
        self.space_id.as_deref()
    }

    /// The `Monime-Version` requests carry.
    pub fn version(&self) -> &str {
        self.version.as_deref().unwrap_or(crate::API_VERSION)
    }
}

impl Default for Settings {
    fn default() -> Settings {
        Settings::none()
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("token", &self.authorization.as_ref().map(|_| "[redacted]"))
            .field("space_id", &self.space_id)
            .field("version", &self.version())
            .field("retry", &self.retry)
            .field("timeout", &self.timeout)
            .field("body_limit", &self.body_limit)
            .finish()
    }
}

/// A header the hooks add to requests that lack it, or why it cannot be sent.
#[derive(Clone)]
pub(crate) struct DefaultHeader {
    name: &'static str,
    header: Result<(HeaderName, HeaderValue), String>,
}

impl DefaultHeader {
    fn new(name: &'static str, value: &str) -> DefaultHeader {
        let header = match HeaderName::from_bytes(name.as_bytes()) {
            Err(_) => Err(format!("`{name}` is not a header name")),
            Ok(name) => match HeaderValue::from_str(value) {
                Ok(value) => Ok((name, value)),
                Err(_) => Err(format!("{name}: not a valid header value")),
            },
        };
        DefaultHeader { name, header }
    }

    /// Adds the header unless `headers` has it; the problem with it when it was needed.
    pub(crate) fn add_to(&self, headers: &mut HeaderMap) -> Result<(), String> {
        match &self.header {
            Ok((name, value)) => {
                // `insert`, as the generated operations write their header parameters: one
                // copy of that code serves a whole call (see `hooks`).
                if !headers.contains_key(name) {
                    headers.insert(name.clone(), value.clone());
                }
                Ok(())
            }
            Err(_) if headers.contains_key(self.name) => Ok(()),
            Err(problem) => Err(problem.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use reqwest::header::{HeaderMap, HeaderValue};

    use super::Settings;
    use crate::spec::params;

    #[test]
    fn a_bad_default_is_reported_only_when_it_would_be_sent() {
        let settings = Settings::none().with_version("caph\n2025");
        let mut lacking = HeaderMap::new();
        let problem = settings.version_header.add_to(&mut lacking).unwrap_err();
        assert!(problem.contains("not a valid header value"), "{problem}");

        let mut has_one = HeaderMap::new();
        has_one.insert(
            params::MONIME_VERSION.name,
            HeaderValue::from_static("caph"),
        );
        settings.version_header.add_to(&mut has_one).unwrap();
        assert_eq!(has_one[params::MONIME_VERSION.name], "caph");

        let mut empty = HeaderMap::new();
        Settings::none().version_header.add_to(&mut empty).unwrap();
        assert_eq!(empty[params::MONIME_VERSION.name], crate::API_VERSION);

        let token = Settings::none().with_token("mon_test\nbad");
        let token = token.authorization.as_ref().unwrap();
        assert_eq!(
            token.add_to(&mut HeaderMap::new()).unwrap_err(),
            "the access token is not a valid header value"
        );
        let mut authorized = HeaderMap::new();
        authorized.insert("authorization", HeaderValue::from_static("Bearer mine"));
        token.add_to(&mut authorized).unwrap();
        assert_eq!(authorized["authorization"], "Bearer mine");

        let mut fresh = HeaderMap::new();
        let good = Settings::none().with_token("mon_test_good");
        good.authorization
            .as_ref()
            .unwrap()
            .add_to(&mut fresh)
            .unwrap();
        assert_eq!(fresh["authorization"], "Bearer mon_test_good");
        assert!(fresh["authorization"].is_sensitive());
    }
}

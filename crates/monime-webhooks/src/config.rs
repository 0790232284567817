//! Building a [`Client`]: values from code or from the environment, all checked before the
//! first request.

use std::fmt;
use std::time::Duration;

use monime_webhooks_api::spec::params;
use monime_webhooks_api::{Settings, SpaceId, constraints};

use crate::RetryPolicy;
use crate::client::Client;
use crate::error::Error;

/// Where requests go unless configured otherwise: the spec's server.
pub const DEFAULT_API_URL: &str = monime_webhooks_api::spec::SERVER_URL;
/// Per-attempt timeout unless configured otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// A value and the name to blame for it: the builder method or the environment variable.
#[derive(Clone)]
struct Setting {
    value: String,
    name: &'static str,
}

impl Setting {
    fn code(name: &'static str, value: impl Into<String>) -> Setting {
        Setting {
            value: value.into(),
            name,
        }
    }
}

impl Client {
    /// A builder with nothing set; see [`ClientBuilder`].
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client from `MONIME_ACCESS_TOKEN`, `MONIME_SPACE_ID` and, when set,
    /// `MONIME_API_URL` and `MONIME_VERSION`.
    pub fn from_env() -> Result<Client, Error> {
        ClientBuilder::from_env().build()
    }
}

/// Builds a [`Client`]. `access_token` and `space_id` are required.
///
/// ```
/// use monime_webhooks::Client;
///
/// let client = Client::builder()
///     .access_token("mon_test_example")
///     .space_id("spc-example")
///     .build()?;
/// assert!(!format!("{client:?}").contains("mon_test_example"));
/// # Ok::<(), monime_webhooks::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct ClientBuilder {
    token: Option<Setting>,
    space_id: Option<Setting>,
    api_url: Option<Setting>,
    version: Option<Setting>,
    http: Option<reqwest::Client>,
    retry: Option<RetryPolicy>,
    timeout: Option<Duration>,
    body_limit: Option<usize>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("access_token", &self.token.as_ref().map(|_| "[redacted]"))
            .field("space_id", &self.space_id.as_ref().map(|s| &s.value))
            .field(
                "api_url",
                &self.api_url.as_ref().map(|s| without_user_info(&s.value)),
            )
            .field("version", &self.version.as_ref().map(|s| &s.value))
            .field("retry", &self.retry)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// A builder with `MONIME_ACCESS_TOKEN`, `MONIME_SPACE_ID`, and when set `MONIME_API_URL`
    /// and `MONIME_VERSION`, read from the environment. Unset required variables are reported
    /// by [`ClientBuilder::build`] under their variable names.
    pub fn from_env() -> ClientBuilder {
        ClientBuilder::from_vars(|name| std::env::var(name).ok())
    }

    /// [`ClientBuilder::from_env`] with another source of variables (a config map, a test).
    ///
    /// ```
    /// use monime_webhooks::ClientBuilder;
    ///
    /// let error = ClientBuilder::from_vars(|_| None).build().unwrap_err();
    /// assert_eq!(error.to_string(), "invalid configuration: MONIME_ACCESS_TOKEN is not set");
    /// ```
    pub fn from_vars(lookup: impl Fn(&str) -> Option<String>) -> ClientBuilder {
        let read = |name: &'static str| {
            lookup(name)
                .filter(|v| !v.is_empty())
                .map(|value| Setting { value, name })
        };
        ClientBuilder {
            token: read("MONIME_ACCESS_TOKEN").or(Some(Setting::code("MONIME_ACCESS_TOKEN", ""))),
            space_id: read("MONIME_SPACE_ID").or(Some(Setting::code("MONIME_SPACE_ID", ""))),
            api_url: read("MONIME_API_URL"),
            version: read("MONIME_VERSION"),
            ..ClientBuilder::default()
        }
    }

    /// The access token (`mon_test_...` or `mon_...`), sent as a bearer token.
    pub fn access_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(Setting::code("access_token", token));
        self
    }

    /// The space every request acts on (`spc-...`).
    pub fn space_id(mut self, space_id: impl Into<String>) -> Self {
        self.space_id = Some(Setting::code("space_id", space_id));
        self
    }

    /// The API base URL (default `https://api.monime.io`), e.g. an emulator's URL.
    pub fn api_url(mut self, url: impl Into<String>) -> Self {
        self.api_url = Some(Setting::code("api_url", url));
        self
    }

    /// The `Monime-Version` to send (default: the release this crate was generated for).
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(Setting::code("version", version));
        self
    }

    /// Uses the caller's reqwest client (its proxies, TLS roots, pools). Build it with
    /// `.redirect(reqwest::redirect::Policy::none())`: the client refuses an answer that came
    /// through a redirect, but reqwest has already re-sent the request (its body included,
    /// the create's HS256 secret too) to the other host by then, and a redirect chain that
    /// comes back to the first URL is not seen at all.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// How failed attempts are retried (default [`RetryPolicy::default`]).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// The largest response body read, in bytes (default
    /// [`monime_webhooks_api::DEFAULT_BODY_LIMIT`]); a larger one fails the call unread.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = Some(bytes);
        self
    }

    /// The timeout of each attempt (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Checks every value and builds the client.
    pub fn build(self) -> Result<Client, Error> {
        let token = required(self.token, "access_token")?;
        if token
            .value
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(Error::Config {
                name: token.name,
                message: "contains whitespace or control characters; copy the token exactly"
                    .to_owned(),
            });
        }
        let space = required(self.space_id, "space_id")?;
        let space_id = SpaceId::try_from(space.value.as_str()).map_err(|v| Error::Config {
            name: space.name,
            message: v.message,
        })?;
        let api_url = match self.api_url {
            Some(url) => check_url(url)?,
            None => DEFAULT_API_URL.to_owned(),
        };
        let mut settings = Settings::none()
            .with_token(token.value)
            .with_space_id(space.value)
            .with_retry(self.retry.unwrap_or_default())
            .with_timeout(self.timeout.unwrap_or(DEFAULT_TIMEOUT))
            .with_body_limit(
                self.body_limit
                    .unwrap_or(monime_webhooks_api::DEFAULT_BODY_LIMIT),
            );
        if let Some(version) = self.version {
            constraints::check_param(&params::MONIME_VERSION, &version.value).map_err(|v| {
                Error::Config {
                    name: version.name,
                    message: v.message,
                }
            })?;
            settings = settings.with_version(version.value);
        }
        let http = match self.http {
            Some(http) => http,
            // Redirects are never followed: a 3xx could send the token and a webhook secret
            // to a host the caller did not name.
            None => reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(10))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|e| Error::Config {
                    name: "http_client",
                    message: format!("cannot be built: {e}"),
                })?,
        };
        Ok(Client::new(
            monime_webhooks_api::Client::new_with_client(&api_url, http, settings),
            space_id,
        ))
    }
}

fn required(setting: Option<Setting>, name: &'static str) -> Result<Setting, Error> {
    match setting {
        Some(setting) if !setting.value.trim().is_empty() => Ok(setting),
        Some(setting) => Err(Error::Config {
            name: setting.name,
            message: "is not set".to_owned(),
        }),
        None => Err(Error::Config {
            name,
            message: "is required".to_owned(),
        }),
    }
}

fn check_url(setting: Setting) -> Result<String, Error> {
    // Messages leave the value out: a URL may carry credentials (`user:pass@`).
    let parsed = reqwest::Url::parse(&setting.value).map_err(|e| Error::Config {
        name: setting.name,
        message: format!("is not a URL ({e})"),
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(Error::Config {
            name: setting.name,
            message: format!(
                "must be an http or https URL, got scheme `{}`",
                parsed.scheme()
            ),
        });
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(Error::Config {
            name: setting.name,
            message: "must not carry user-info (`user:pass@`); the access token authenticates"
                .to_owned(),
        });
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(Error::Config {
            name: setting.name,
            message: "must not have a query or fragment: the operations' paths follow it"
                .to_owned(),
        });
    }
    if parsed.scheme() == "http" && !is_loopback(&parsed) {
        return Err(Error::Config {
            name: setting.name,
            message: "must use https (plain http is allowed for loopback hosts only): the \
                      token and webhook secrets would travel in cleartext"
                .to_owned(),
        });
    }
    Ok(setting.value.trim_end_matches('/').to_owned())
}

/// `localhost`, 127.0.0.0/8 or ::1: traffic that never leaves the machine.
fn is_loopback(url: &reqwest::Url) -> bool {
    url.host_str().is_some_and(|host| {
        host.eq_ignore_ascii_case("localhost")
            || host
                .trim_matches(['[', ']'])
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    })
}

/// `url` with any `user:pass@` replaced, for `Debug`.
fn without_user_info(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) if !parsed.username().is_empty() || parsed.password().is_some() => {
            let _ = parsed.set_username("[redacted]");
            let _ = parsed.set_password(None);
            parsed.to_string()
        }
        Ok(_) => url.to_owned(),
        Err(_) => "[not a URL]".to_owned(),
    }
}

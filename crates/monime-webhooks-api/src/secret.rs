//! The HS256 webhook secret: checked against the spec's length limits when built, and never
//! printed by `Debug`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An HS256 shared secret, within the spec's length limits.
///
/// ```
/// use monime_webhooks_api::WebhookSecret;
///
/// let secret: WebhookSecret = "0123456789abcdef0123456789abcdef".parse().unwrap();
/// assert_eq!(format!("{secret:?}"), "WebhookSecret([redacted])");
/// assert!("too short".parse::<WebhookSecret>().is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct WebhookSecret(String);

impl WebhookSecret {
    /// The length limits in characters, from the spec's `WebhookSecret` schema.
    pub fn limits() -> (Option<usize>, Option<usize>) {
        match crate::spec::schemas::WEBHOOK_SECRET.kind {
            crate::schema::Kind::String {
                min_length,
                max_length,
                ..
            } => (min_length, max_length),
            _ => (None, None),
        }
    }

    /// The secret itself, for signing and verifying.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Why a string is not a valid [`WebhookSecret`]; it names the limit, never the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidSecret {
    chars: usize,
}

impl fmt::Display for InvalidSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (min, max) = WebhookSecret::limits();
        write!(
            f,
            "an HS256 secret must be {} to {} characters long, this one has {}",
            min.unwrap_or(0),
            max.map_or_else(|| "any number of".to_owned(), |m| m.to_string()),
            self.chars
        )
    }
}

impl std::error::Error for InvalidSecret {}

impl FromStr for WebhookSecret {
    type Err = InvalidSecret;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let chars = value.chars().count();
        let text = serde_json::Value::String(value.to_owned());
        if crate::constraints::check(&crate::spec::schemas::WEBHOOK_SECRET, &text, "secret").is_ok()
        {
            Ok(WebhookSecret(value.to_owned()))
        } else {
            Err(InvalidSecret { chars })
        }
    }
}

impl TryFrom<&str> for WebhookSecret {
    type Error = InvalidSecret;

    fn try_from(value: &str) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl TryFrom<String> for WebhookSecret {
    type Error = InvalidSecret;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret([redacted])")
    }
}

impl Serialize for WebhookSecret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for WebhookSecret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "schemars")]
#[cfg_attr(docsrs, doc(cfg(feature = "schemars")))]
impl schemars::JsonSchema for WebhookSecret {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "WebhookSecret".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let (min, max) = WebhookSecret::limits();
        schemars::json_schema!({
            "type": "string",
            "minLength": min,
            "maxLength": max,
            "description": "The HS256 shared secret; its length limits come from the spec."
        })
    }
}

/// An HS256 verification method from a plain secret string, for the create body builder:
/// `.verification_method(Hs256(secret))`. The length is checked when the request is built,
/// so a bad secret fails `send()` before anything goes on the wire.
///
/// ```
/// use monime_webhooks_api::{Hs256, types::CreateWebhookRequestVerificationMethod as Method};
///
/// let ok: Result<Option<Method>, _> = Hs256("0123456789abcdef0123456789abcdef".into()).try_into();
/// assert!(matches!(ok, Ok(Some(Method::Hs256 { .. }))));
/// let short: Result<Option<Method>, _> = Hs256("short".into()).try_into();
/// assert!(short.is_err());
/// ```
#[derive(Clone)]
pub struct Hs256(pub String);

impl fmt::Debug for Hs256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Hs256([redacted])")
    }
}

impl TryFrom<Hs256> for Option<crate::types::CreateWebhookRequestVerificationMethod> {
    type Error = InvalidSecret;

    fn try_from(value: Hs256) -> Result<Self, Self::Error> {
        let secret = value.0.parse()?;
        Ok(Some(
            crate::types::CreateWebhookRequestVerificationMethod::Hs256 { secret },
        ))
    }
}

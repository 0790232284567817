//! The open verification method of responses: a method Monime adds without a new API release
//! must not break decoding of a whole response. The generator substitutes it for the spec's
//! closed `oneOf` on the response side only (see `xtask/src/generate.rs`); open string enums
//! are generated into `generated_tables.rs`.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// How a webhook's deliveries are signed, as Monime reports it.
///
/// `Debug` never prints the HS256 secret.
#[derive(Clone, PartialEq, Eq)]
pub enum WebhookVerificationMethod {
    /// HMAC-SHA256. Whether Monime echoes the secret in responses is not documented, so it is
    /// optional here.
    Hs256 { secret: Option<String> },
    /// ECDSA P-256 / SHA-256 with the PEM public key Monime generated.
    Es256 { public_key: Option<String> },
    /// A method this crate does not know yet: its `type` and every other field, verbatim.
    Unknown {
        kind: String,
        fields: Map<String, Value>,
    },
}

impl WebhookVerificationMethod {
    /// The method's `type` as Monime spells it (`HS256`, `ES256`, ...).
    pub fn kind(&self) -> &str {
        match self {
            WebhookVerificationMethod::Hs256 { .. } => "HS256",
            WebhookVerificationMethod::Es256 { .. } => "ES256",
            WebhookVerificationMethod::Unknown { kind, .. } => kind,
        }
    }
}

impl fmt::Debug for WebhookVerificationMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WebhookVerificationMethod::Hs256 { secret } => f
                .debug_struct("Hs256")
                .field("secret", &secret.as_ref().map(|_| "[redacted]"))
                .finish(),
            WebhookVerificationMethod::Es256 { public_key } => f
                .debug_struct("Es256")
                .field("public_key", public_key)
                .finish(),
            WebhookVerificationMethod::Unknown { kind, fields } => {
                let names: Vec<&String> = fields.keys().collect();
                f.debug_struct("Unknown")
                    .field("kind", kind)
                    .field("fields", &names)
                    .finish()
            }
        }
    }
}

impl Serialize for WebhookVerificationMethod {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = Map::new();
        map.insert("type".to_owned(), Value::String(self.kind().to_owned()));
        match self {
            WebhookVerificationMethod::Hs256 { secret } => {
                if let Some(secret) = secret {
                    map.insert("secret".to_owned(), Value::String(secret.clone()));
                }
            }
            WebhookVerificationMethod::Es256 { public_key } => {
                if let Some(key) = public_key {
                    map.insert("publicKey".to_owned(), Value::String(key.clone()));
                }
            }
            WebhookVerificationMethod::Unknown { fields, .. } => {
                map.extend(fields.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
        }
        map.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for WebhookVerificationMethod {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut fields = Map::deserialize(deserializer)?;
        let kind = match fields.remove("type") {
            Some(Value::String(kind)) => kind,
            Some(other) => {
                return Err(D::Error::custom(format!(
                    "`type` must be a string, got {other}"
                )));
            }
            None => return Err(D::Error::missing_field("type")),
        };
        let text =
            |fields: &mut Map<String, Value>, name: &str| -> Result<Option<String>, D::Error> {
                match fields.remove(name) {
                    None | Some(Value::Null) => Ok(None),
                    Some(Value::String(s)) => Ok(Some(s)),
                    Some(other) => Err(D::Error::custom(format!(
                        "`{name}` must be a string, got {other}"
                    ))),
                }
            };
        Ok(match kind.as_str() {
            "HS256" => WebhookVerificationMethod::Hs256 {
                secret: text(&mut fields, "secret")?,
            },
            "ES256" => WebhookVerificationMethod::Es256 {
                public_key: text(&mut fields, "publicKey")?,
            },
            _ => WebhookVerificationMethod::Unknown { kind, fields },
        })
    }
}

impl JsonSchema for WebhookVerificationMethod {
    fn schema_name() -> Cow<'static, str> {
        "WebhookVerificationMethod".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "object",
            "description": "How deliveries are signed: HS256 (optional `secret`), ES256 (`publicKey`), or a later method.",
            "required": ["type"],
            "properties": {
                "type": { "type": "string", "examples": ["HS256", "ES256"] },
                "secret": { "type": "string" },
                "publicKey": { "type": "string" }
            }
        })
    }
}

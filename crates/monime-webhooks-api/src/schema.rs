//! The shapes the generated tables (`generated_tables.rs`) use to carry the spec's schemas,
//! parameters and operations into Rust: plain `static` data that the validator in
//! [`crate::constraints`], the client and the emulator read. Nothing here names a property,
//! a limit or a value; `cargo xtask generate` writes those from the spec.

use std::fmt;
use std::sync::OnceLock;

/// One schema of the spec, with `$ref`s already resolved by the generator.
#[derive(Debug)]
pub struct Schema {
    /// `nullable: true`: JSON `null` is a valid value.
    pub nullable: bool,
    /// `readOnly: true`: set by Monime; a value sent in a request is ignored.
    pub read_only: bool,
    /// The `default` value as JSON text, if the spec gives one.
    pub default: Option<&'static str>,
    /// `x-max-depth`: how deeply objects and arrays may nest inside the value (the value
    /// itself is level 1). Deeper free-form data could not be read back by every client.
    pub max_depth: Option<usize>,
    /// `x-http-header-map`: the keys are HTTP header names (RFC 9110 tokens) and the values
    /// header values (no control characters but tab).
    pub http_header_map: bool,
    /// What values the schema allows.
    pub kind: Kind,
}

impl Schema {
    /// The object this schema describes, when it is an object schema.
    pub fn object(&self) -> Option<&'static Object> {
        match self.kind {
            Kind::Object(object) => Some(object),
            _ => None,
        }
    }
}

/// What a [`Schema`] allows, keyword by keyword.
#[derive(Debug)]
pub enum Kind {
    /// No `type`: any JSON value.
    Any,
    /// `type: boolean`.
    Boolean,
    /// `type: integer` (or a whole `number`).
    Integer {
        /// `minimum`, inclusive.
        minimum: Option<i64>,
        /// `maximum`, inclusive.
        maximum: Option<i64>,
    },
    /// `type: string`.
    String {
        /// `minLength`, in characters.
        min_length: Option<usize>,
        /// `maxLength`, in characters.
        max_length: Option<usize>,
        /// `pattern`.
        pattern: Option<&'static Pattern>,
        /// The `enum` values; empty when any string is allowed.
        values: &'static [&'static str],
    },
    /// `type: array`.
    Array {
        /// `items`.
        items: &'static Schema,
        /// `minItems`.
        min_items: Option<usize>,
        /// `maxItems`.
        max_items: Option<usize>,
        /// `uniqueItems`.
        unique_items: bool,
    },
    /// `type: object`, or `properties` without a type.
    Object(&'static Object),
}

/// An object schema: its properties, and what else it allows.
#[derive(Debug)]
pub struct Object {
    /// `properties`, in the spec's order.
    pub properties: &'static [Property],
    /// `required`.
    pub required: &'static [&'static str],
    /// `additionalProperties`.
    pub additional: Additional,
    /// `maxProperties`.
    pub max_properties: Option<usize>,
    /// `oneOf` branches the value must also match (each an object schema).
    pub one_of: &'static [&'static Schema],
}

impl Object {
    /// The property named `name` (the JSON key).
    pub fn property(&self, name: &str) -> Option<&'static Property> {
        self.properties.iter().find(|p| p.name == name)
    }
}

/// One property of an object schema.
#[derive(Debug)]
pub struct Property {
    /// The JSON key, as the spec spells it (`alertEmails`).
    pub name: &'static str,
    /// The property's schema.
    pub schema: &'static Schema,
}

/// `additionalProperties`.
#[derive(Debug)]
pub enum Additional {
    /// `false`: only the listed properties.
    Denied,
    /// Absent or `true`: anything.
    Any,
    /// Extra properties must match this schema.
    Schema(&'static Schema),
}

/// A string schema's `pattern`: an ECMAScript regular expression, as OpenAPI defines it,
/// matched anywhere in the text unless anchored. `cargo xtask generate` compiles each one
/// with the same engine, so a pattern the spec holds always compiles here.
pub struct Pattern {
    /// The pattern as the spec writes it.
    pub source: &'static str,
    compiled: OnceLock<regress::Regex>,
}

impl Pattern {
    /// The pattern `source`, compiled on first use.
    pub const fn new(source: &'static str) -> Pattern {
        Pattern {
            source,
            compiled: OnceLock::new(),
        }
    }

    /// Whether `text` matches, as an ECMAScript regular expression without flags does.
    pub fn is_match(&self, text: &str) -> bool {
        self.compiled
            .get_or_init(|| {
                regress::Regex::new(self.source)
                    .expect("cargo xtask generate compiles every pattern it writes")
            })
            .find(text)
            .is_some()
    }
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Pattern").field(&self.source).finish()
    }
}

/// Where a parameter travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// In the path (`/v1/webhooks/{id}`).
    Path,
    /// In the query string.
    Query,
    /// An HTTP header.
    Header,
}

/// One parameter of an operation.
#[derive(Debug)]
pub struct Param {
    /// The name on the wire (`Monime-Space-Id`, `limit`, `id`).
    pub name: &'static str,
    /// Where it travels.
    pub location: Location,
    /// Whether the operation requires it.
    pub required: bool,
    /// Its schema.
    pub schema: &'static Schema,
}

/// One operation of the spec.
#[derive(Debug)]
pub struct Operation {
    /// progenitor's name for it (`create_webhook`), also the tracing span's `operation`.
    pub id: &'static str,
    /// The HTTP method (`GET`, `POST`, ...).
    pub method: &'static str,
    /// The path template, `{name}` for path parameters (axum's syntax too).
    pub path: &'static str,
    /// Its parameters.
    pub params: &'static [&'static Param],
    /// Its JSON request body, if it has one.
    pub body: Option<&'static Schema>,
}

impl Operation {
    /// The parameter named `name`, if this operation takes it.
    pub fn param(&self, name: &str) -> Option<&'static Param> {
        self.params
            .iter()
            .copied()
            .find(|p| p.name.eq_ignore_ascii_case(name))
    }
}

#[cfg(test)]
mod tests {
    use super::Pattern;

    #[test]
    fn a_pattern_matches_as_ecmascript_does() {
        let id = Pattern::new("^whk-[A-Za-z0-9_-]{1,8}$");
        assert!(id.is_match("whk-abc_1-2"));
        for text in [
            "whk-",
            "whk-a.b",
            "whk-\\..",
            "whk-a/b",
            "whk-123456789",
            "xwhk-a",
            "whk-a\n",
        ] {
            assert!(!id.is_match(text), "{text:?}");
        }
        let anywhere = Pattern::new("b+");
        assert!(anywhere.is_match("abbc"));
        let line = Pattern::new("^a.*$");
        assert!(line.is_match("abc"));
        for text in ["a\n", "a\r", "a\u{2028}", "a\u{2029}"] {
            assert!(
                !line.is_match(text),
                "`.` stops at line terminators: {text:?}"
            );
        }
    }
}

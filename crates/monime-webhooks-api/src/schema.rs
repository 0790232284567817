//! The shapes the generated tables (`generated_tables.rs`) use to carry the spec's schemas,
//! parameters and operations into Rust: plain `static` data that the validator in
//! [`crate::constraints`], the client and the emulator read. Nothing here names a property,
//! a limit or a value; `cargo xtask generate` writes those from the spec.

use std::fmt;

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

/// A `pattern` of the one shape Monime's specs use: an anchored literal prefix and any rest of
/// the line (`^whk-.*$`). `cargo xtask generate` reads the prefix out of the spec and refuses
/// any other shape, naming the schema, so no pattern is ever checked loosely; a new shape is
/// added here and in `xtask/src/tables.rs`.
pub struct Pattern {
    /// The pattern as the spec writes it.
    pub source: &'static str,
    /// The literal a matching text starts with.
    pub prefix: &'static str,
}

/// ECMAScript's line terminators: `.` matches any character but these (no `s` flag). Two are
/// ASCII; the other two are three-byte UTF-8 sequences starting with `0xE2`.
const LINE_FEED: u8 = b'\n';
const CARRIAGE_RETURN: u8 = b'\r';
const OTHER_LINE_TERMINATORS: [&str; 2] = ["\u{2028}", "\u{2029}"];
const OTHER_LINE_TERMINATORS_LEAD: u8 = 0xE2;

impl Pattern {
    /// `^<prefix>.*$`, written as `source` in the spec.
    pub const fn prefix(source: &'static str, prefix: &'static str) -> Pattern {
        Pattern { source, prefix }
    }

    /// Whether `text` matches, as an ECMAScript regular expression without flags would.
    pub fn is_match(&self, text: &str) -> bool {
        // A plain scan of the bytes: ids are short, and a vectorised search (or a char by
        // char one) is more code for every call with an id to bring in.
        text.strip_prefix(self.prefix).is_some_and(|rest| {
            let bytes = rest.as_bytes();
            bytes.iter().enumerate().all(|(at, byte)| match *byte {
                LINE_FEED | CARRIAGE_RETURN => false,
                OTHER_LINE_TERMINATORS_LEAD => !OTHER_LINE_TERMINATORS
                    .iter()
                    .any(|terminator| bytes[at..].starts_with(terminator.as_bytes())),
                _ => true,
            })
        })
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

    /// The prefix matcher agrees with an ECMAScript engine on the spec's shape of pattern,
    /// line terminators and non-ASCII text included.
    #[test]
    fn a_prefix_pattern_matches_as_ecmascript_does() {
        let pattern = Pattern::prefix("^whk-.*$", "whk-");
        let engine = regress::Regex::new(pattern.source).unwrap();
        let pieces = [
            "whk-", "whk", "wh", "-", "a", "0", "é", "\n", "\r", "\u{2028}", "\u{2029}", "\t", " ",
            "WHK-", "spc-", "$", ".*",
            // Characters whose UTF-8 starts with the same byte as U+2028 and U+2029.
            "€", "\u{2027}", "\u{202A}",
        ];
        // Every text of up to three pieces, and longer ones from a fixed sequence.
        let mut texts = vec![String::new()];
        for _ in 0..3 {
            let longer: Vec<String> = texts
                .iter()
                .flat_map(|t| pieces.iter().map(move |p| format!("{t}{p}")))
                .collect();
            texts.extend(longer);
        }
        let mut state = 0x2545_f491_u32;
        for _ in 0..2_000 {
            let mut text = String::new();
            for _ in 0..8 {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                text.push_str(pieces[state as usize % pieces.len()]);
            }
            texts.push(text);
        }
        for text in &texts {
            assert_eq!(
                pattern.is_match(text),
                engine.find(text).is_some(),
                "{text:?}"
            );
        }
    }
}

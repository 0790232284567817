//! The body flags of `create` and `update`, one per property of the operation's request body,
//! built at run time from the spec tables. After a property is added to the spec,
//! `cargo xtask generate` alone gives it a flag, and the help states the spec's limits.
//!
//! The mapping, by the property's schema:
//! - text, integer or boolean: `--<kebab-name> VALUE` (an enum lists its values);
//! - a list: `--<singular>` repeated, one item each (`events` -> `--event`);
//! - a map: `--<singular> KEY=VALUE` repeated (`headers` -> `--header`);
//! - `update` also gets `--clear-<kebab-name>` for each nullable property (sent as `null`).
//!
//! A property of any other shape needs flags written by hand: it must be listed in
//! `BY_HAND` in this file's tests (and handled in `manage.rs`), which a test checks for
//! every property.

use clap::{Arg, ArgAction, ArgMatches, Command, FromArgMatches};
use monime_webhooks::api::schema::{Additional, Kind, Object, Operation, Property, Schema};
use monime_webhooks::api::spec::operations;
use serde_json::{Map, Value};

/// One change to a request body, by the property's name on the wire.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Send this value.
    Set(&'static str, Value),
    /// Send `null` (update only).
    Clear(&'static str),
}

/// The body flags of `create`, parsed.
#[derive(Debug, Clone, Default)]
pub struct CreateBody(pub Vec<Change>);

/// The body flags of `update`, parsed.
#[derive(Debug, Clone, Default)]
pub struct UpdateBody(pub Vec<Change>);

/// How a property is given on the command line.
enum Shape {
    /// One value.
    Scalar(&'static Schema),
    /// A repeated flag, one item each.
    List(&'static Schema),
    /// A repeated `KEY=VALUE` flag; the values' schema, if the spec gives one (text
    /// otherwise).
    Map(Option<&'static Schema>),
}

fn shape(schema: &'static Schema) -> Option<Shape> {
    match &schema.kind {
        Kind::String { .. } | Kind::Integer { .. } | Kind::Boolean => Some(Shape::Scalar(schema)),
        Kind::Array { items, .. } => scalar(items).then_some(Shape::List(items)),
        Kind::Object(object) if object.properties.is_empty() && object.one_of.is_empty() => {
            match object.additional {
                Additional::Any => Some(Shape::Map(None)),
                Additional::Schema(values) if scalar(values) => Some(Shape::Map(Some(values))),
                _ => None,
            }
        }
        _ => None,
    }
}

fn scalar(schema: &Schema) -> bool {
    matches!(
        schema.kind,
        Kind::String { .. } | Kind::Integer { .. } | Kind::Boolean
    )
}

fn body(operation: &Operation) -> Option<&'static Object> {
    operation.body.and_then(Schema::object)
}

/// The property's name as a flag: `alertEmails` -> `alert-emails`.
fn kebab(name: &str) -> String {
    let mut flag = String::new();
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            flag.push('-');
            flag.push(c.to_ascii_lowercase());
        } else {
            flag.push(c);
        }
    }
    flag
}

/// The flag of a repeated property, named for one item: `alertEmails` -> `alert-email`.
fn flag_name(property: &Property, shape: &Shape) -> String {
    let flag = kebab(property.name);
    match shape {
        Shape::Scalar(_) => flag,
        Shape::List(_) | Shape::Map(_) => flag.strip_suffix('s').unwrap_or(&flag).to_owned(),
    }
}

/// The spec's limits of a value, as help text.
fn limits(schema: &Schema) -> Vec<String> {
    let mut said = Vec::new();
    match &schema.kind {
        Kind::String {
            min_length,
            max_length,
            pattern,
            ..
        } => {
            said.extend(range(*min_length, *max_length, "characters"));
            if let Some(pattern) = pattern {
                said.push(format!("matching {}", pattern.source));
            }
        }
        Kind::Integer { minimum, maximum } => said.extend(range(*minimum, *maximum, "")),
        Kind::Array {
            items,
            min_items,
            max_items,
            unique_items,
        } => {
            said.extend(range(*min_items, *max_items, "in all"));
            if *unique_items {
                said.push("no repeats".to_owned());
            }
            said.extend(
                limits(items)
                    .into_iter()
                    .map(|limit| format!("each {limit}")),
            );
        }
        Kind::Object(object) => {
            said.extend(range(None, object.max_properties, "entries"));
            if let Additional::Schema(values) = object.additional {
                said.extend(
                    limits(values)
                        .into_iter()
                        .map(|l| format!("each value {l}")),
                );
            }
        }
        Kind::Any | Kind::Boolean => {}
    }
    said
}

fn range<T: std::fmt::Display + PartialEq>(
    min: Option<T>,
    max: Option<T>,
    unit: &str,
) -> Option<String> {
    let unit = if unit.is_empty() {
        String::new()
    } else {
        format!(" {unit}")
    };
    match (min, max) {
        (Some(min), Some(max)) if min == max => Some(format!("exactly {min}{unit}")),
        (Some(min), Some(max)) => Some(format!("{min} to {max}{unit}")),
        (Some(min), None) => Some(format!("at least {min}{unit}")),
        (None, Some(max)) => Some(format!("at most {max}{unit}")),
        (None, None) => None,
    }
}

fn help(property: &Property, shape: &Shape, required: bool) -> String {
    let mut parts = vec![format!("The body's `{}`", property.name)];
    if required {
        parts.push("required".to_owned());
    }
    match shape {
        Shape::Scalar(_) => {}
        Shape::List(_) => parts.push("repeat the flag for each item".to_owned()),
        Shape::Map(_) => parts.push("repeat the flag for each entry".to_owned()),
    }
    parts.extend(limits(property.schema));
    if let Some(default) = property.schema.default {
        parts.push(format!("default {default}"));
    }
    format!("{}.", parts.join("; "))
}

fn value_arg(id: String, flag: String, schema: &Schema) -> Arg {
    let arg = Arg::new(id).long(flag).value_name("VALUE");
    match &schema.kind {
        Kind::String { values, .. } if !values.is_empty() => {
            arg.value_parser(clap::builder::PossibleValuesParser::new(*values))
        }
        Kind::Integer { .. } => arg.value_parser(clap::value_parser!(i64)),
        Kind::Boolean => arg.value_parser(clap::value_parser!(bool)),
        _ => arg,
    }
}

/// Adds the flags of `operation`'s body to `command`.
fn augment(mut command: Command, operation: &Operation, clears: bool) -> Command {
    let Some(object) = body(operation) else {
        return command;
    };
    for property in object.properties {
        let Some(shape) = shape(property.schema) else {
            continue;
        };
        let flag = flag_name(property, &shape);
        let required = object.required.contains(&property.name)
            && property.schema.default.is_none()
            && !clears;
        let arg = match &shape {
            Shape::Scalar(schema) => value_arg(property.name.to_owned(), flag, schema),
            Shape::List(items) => value_arg(property.name.to_owned(), flag, items)
                .action(ArgAction::Append)
                .value_name("ITEM"),
            Shape::Map(_) => Arg::new(property.name)
                .long(flag)
                .action(ArgAction::Append)
                .value_name("KEY=VALUE")
                .value_parser(key_value),
        };
        let arg = arg
            .help(help(property, &shape, required))
            .required(required);
        command = command.arg(arg);
        if clears && property.schema.nullable {
            let clear = format!("clear-{}", kebab(property.name));
            command = command.arg(
                Arg::new(clear.clone())
                    .long(clear)
                    .action(ArgAction::SetTrue)
                    .conflicts_with(property.name)
                    .help(format!("Send `{}: null`, clearing it.", property.name)),
            );
        }
    }
    command
}

fn key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        // The text is left out: it may be a credential given without its `=`.
        _ => Err("expected KEY=VALUE".to_owned()),
    }
}

/// The JSON value of one command-line text, for a schema of [`scalar`] kind.
fn json(text: &str, schema: &Schema) -> Value {
    match schema.kind {
        Kind::Integer { .. } => text.parse::<i64>().map_or(Value::Null, Value::from),
        Kind::Boolean => text.parse::<bool>().map_or(Value::Null, Value::Bool),
        _ => Value::String(text.to_owned()),
    }
}

/// The changes the flags of `operation`'s body ask for, in the spec's order.
fn changes(matches: &ArgMatches, operation: &Operation) -> Vec<Change> {
    let Some(object) = body(operation) else {
        return Vec::new();
    };
    let mut changes = Vec::new();
    for property in object.properties {
        let Some(shape) = shape(property.schema) else {
            continue;
        };
        let clear = format!("clear-{}", kebab(property.name));
        if matches.try_get_one::<bool>(&clear).ok().flatten() == Some(&true) {
            changes.push(Change::Clear(property.name));
            continue;
        }
        let value = match shape {
            Shape::Scalar(schema) => matches
                .get_raw(property.name)
                .and_then(|mut raw| raw.next())
                .map(|text| json(&text.to_string_lossy(), schema)),
            Shape::List(items) => matches.get_raw(property.name).map(|raw| {
                Value::Array(
                    raw.map(|text| json(&text.to_string_lossy(), items))
                        .collect(),
                )
            }),
            Shape::Map(values) => {
                matches
                    .get_many::<(String, String)>(property.name)
                    .map(|entries| {
                        let map: Map<String, Value> = entries
                            .map(|(key, value)| {
                                let value = match values {
                                    Some(schema) => json(value, schema),
                                    None => Value::String(value.clone()),
                                };
                                (key.clone(), value)
                            })
                            .collect();
                        Value::Object(map)
                    })
            }
        };
        if let Some(value) = value {
            changes.push(Change::Set(property.name, value));
        }
    }
    changes
}

/// The clap glue of one operation's body flags; `clears` adds the `--clear-` flags.
macro_rules! body_flags {
    ($flags:ident, $operation:expr, $clears:expr) => {
        impl FromArgMatches for $flags {
            fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
                Ok($flags(changes(matches, &$operation)))
            }

            fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
                *self = Self::from_arg_matches(matches)?;
                Ok(())
            }
        }

        impl clap::Args for $flags {
            fn augment_args(command: Command) -> Command {
                augment(command, &$operation, $clears)
            }

            fn augment_args_for_update(command: Command) -> Command {
                Self::augment_args(command)
            }
        }
    };
}

body_flags!(CreateBody, operations::CREATE_WEBHOOK, false);
body_flags!(UpdateBody, operations::UPDATE_WEBHOOK, true);

#[cfg(test)]
mod tests {
    use super::*;

    /// Properties whose flags are written by hand: `verificationMethod` (a union with a
    /// secret, which `--hs256-secret`, `--hs256-secret-file` and `--es256` handle).
    const BY_HAND: &[&str] = &["verificationMethod"];

    /// Every body property gets flags from the spec, or is one whose flags are written by
    /// hand. A property of a new shape fails here: give it a mapping in this file, or list it
    /// in `BY_HAND` and handle it in `manage.rs`.
    #[test]
    fn every_body_property_has_flags() {
        for operation in [&operations::CREATE_WEBHOOK, &operations::UPDATE_WEBHOOK] {
            let object = body(operation).expect("a JSON object body");
            for property in object.properties {
                assert!(
                    shape(property.schema).is_some() || BY_HAND.contains(&property.name),
                    "{}'s `{}` has no command-line mapping: add one in \
                     crates/monime-webhooks-cli/src/body_flags.rs",
                    operation.id,
                    property.name
                );
            }
        }
    }

    #[test]
    fn names_and_limits_read_well() {
        assert_eq!(kebab("alertEmails"), "alert-emails");
        assert_eq!(
            range(Some(1), Some(100), "characters").unwrap(),
            "1 to 100 characters"
        );
        assert_eq!(range(None, Some(2), "in all").unwrap(), "at most 2 in all");
        assert_eq!(range::<usize>(None, None, "x"), None);
    }
}

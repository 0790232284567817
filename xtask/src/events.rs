//! `cargo xtask generate`, events part: `openapi/monime-objects.<release>.yaml` through typify
//! to `crates/monime-events/src/generated.rs`. Receivers must keep working when Monime adds a
//! field or a value without warning, so the spec is lowered to JSON Schema with a receiver's
//! policy: every property optional and nullable (a sender's `required` is no promise to a
//! receiver), unknown fields accepted, every string `enum` and every `oneOf` tagged by `type`
//! open (see `open_types`), no limits checked (they are a sender's rules), and
//! `format: date-time` as `crate::Timestamp`, which keeps the text as received. Each object
//! marked `x-monime-object-type` becomes a variant of `EventData`.

use std::collections::BTreeMap;
use std::path::Path;

use proc_macro2::TokenStream;
use quote::quote;
use serde_json::{Map, Value, json};
use typify::{TypeSpace, TypeSpaceImpl, TypeSpaceSettings};

use crate::failure::{Failure, Result};
use crate::generate::{Output, locked_version, stamped};
use crate::open_types::{check_type_name, check_variants, pascal};
use crate::upstream::OBJECT_TYPE_EXTENSION;
use crate::{open_types, paths, spec};

pub use crate::paths::EVENTS_FILE;
const REF_PREFIX: &str = "#/components/schemas/";

/// The events file for the objects spec of `release`.
pub fn output(root: &Path, release: &str) -> Result<Output> {
    let objects = paths::objects_spec(root, release);
    let source = paths::display_relative(root, &objects);
    let text = std::fs::read_to_string(&objects).map_err(|e| fail!("cannot read {source}: {e}"))?;
    let text = render(&text, &source, &locked_version(root, "typify")?)?;
    Ok((EVENTS_FILE, source, text))
}

/// The full text of `generated.rs` for the objects spec `text`.
pub fn render(text: &str, display_path: &str, typify_version: &str) -> Result<String> {
    let spec = spec::parse(text, display_path)?;
    // typify reads JSON Schema; the components are lowered in name order.
    let document = serde_json::to_value(&spec.raw).unwrap_or_default();
    let tokens =
        generate_tokens(&document).map_err(|failure| fail!("{display_path}: {failure}"))?;
    let file: syn::File =
        syn::parse2(tokens).map_err(|e| fail!("the generated code does not parse: {e}"))?;
    let body = skip_absent_boxes(&prettyplease::unparse(&file));
    stamped(&spec, &format!("typify {typify_version}"), &body)
}

/// typify breaks a recursive type (an owner's owner) with `Box<Option<T>>` and serializes
/// `None` there as `null`; like every other optional field it should be left out, so an
/// object serializes back as received.
fn skip_absent_boxes(source: &str) -> String {
    let mut parts = source.split("#[serde(default)]\n");
    let mut out = parts.next().unwrap_or_default().to_owned();
    for part in parts {
        let field = part.lines().next().unwrap_or_default();
        let boxed = field.contains(": ::std::boxed::Box<::std::option::Option<");
        let skip = "#[serde(default, skip_serializing_if = \"crate::open::boxed_none\")]\n";
        out.push_str(if boxed { skip } else { "#[serde(default)]\n" });
        out.push_str(part);
    }
    out
}

/// The generated items: typify's structs, then the open enums, open unions and `EventData`.
pub fn generate_tokens(document: &Value) -> Result<TokenStream> {
    let schemas = document
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .ok_or_else(|| Failure::new("no components.schemas: nothing to generate"))?;
    let mut lowering = Lowering::default();
    for (name, schema) in schemas {
        if let Some(object_type) = schema.get(OBJECT_TYPE_EXTENSION) {
            let object_type = object_type
                .as_str()
                .ok_or_else(|| fail!("{name}: {OBJECT_TYPE_EXTENSION} must be a string"))?;
            lowering
                .objects
                .push((object_type.to_owned(), name.to_owned()));
        }
        if schema.get("$ref").is_some() {
            return Err(fail!(
                "{name}: a component must describe an object, enum or union, not only refer to \
                 another schema"
            ));
        }
        // A component is named by its key.
        lowering.hoist(name, schema)?;
    }
    let mut settings = TypeSpaceSettings::default();
    settings
        .with_struct_builder(false)
        .with_derive("PartialEq".to_owned());
    for name in lowering.enums.keys().chain(lowering.unions.keys()) {
        settings.with_replacement(
            name,
            name,
            [TypeSpaceImpl::Display, TypeSpaceImpl::FromStr].into_iter(),
        );
    }
    settings.with_replacement("Timestamp", "crate::Timestamp", std::iter::empty());
    let mut definitions = json!(lowering.definitions);
    definitions["Timestamp"] = json!({ "type": "string" });
    let definitions: BTreeMap<String, schemars::schema::Schema> =
        serde_json::from_value(definitions).map_err(|e| fail!("a schema does not lower: {e}"))?;
    let mut space = TypeSpace::new(&settings);
    space
        .add_ref_types(definitions)
        .map_err(|e| fail!("typify rejected the objects: {e}"))?;
    let structs = without_unused_error_module(space.to_stream())?;
    let enums = lowering.enums.iter();
    let enums =
        enums.map(|(name, (doc, values))| open_types::open_enum(name, doc.as_deref(), values));
    let unions = lowering.unions.iter();
    let unions =
        unions.map(|(name, (doc, tags))| open_types::event_union(name, doc.as_deref(), tags));
    let event_data = open_types::event_data(&lowering.objects);
    Ok(quote! {
        #structs
        #(#enums)*
        #(#unions)*
        #event_data
    })
}

/// typify always emits `pub mod error { ConversionError }` for its `TryFrom` impls; types
/// built for receiving have none (the lowering drops every constraint that would need one),
/// and the module would clash with crates that re-export these types beside their own.
fn without_unused_error_module(tokens: TokenStream) -> Result<TokenStream> {
    let mut file: syn::File =
        syn::parse2(tokens).map_err(|e| fail!("typify produced code syn cannot parse: {e}"))?;
    file.items
        .retain(|item| !matches!(item, syn::Item::Mod(m) if m.ident == "error"));
    Ok(quote!(#file))
}

/// Open types by name: each one's doc and values or variants.
type Open<T> = BTreeMap<String, (Option<String>, Vec<T>)>;

/// The spec's schemas lowered to JSON Schema for typify, plus what this module generates.
#[derive(Debug, Default)]
struct Lowering {
    definitions: BTreeMap<String, Value>,
    /// Each open enum's doc and values.
    enums: Open<String>,
    /// Each open union's doc and variants: `type` value and the struct of the other properties.
    unions: Open<(String, String)>,
    /// The objects events carry as `data`: `object.type` and type name.
    objects: Vec<(String, String)>,
}

impl Lowering {
    /// Lowers `schema` found at a place named `hint` and returns what stands there: a
    /// `$ref` to a definition for objects, enums and unions, an inline schema otherwise.
    fn lower(&mut self, hint: &str, schema: &Value) -> Result<Value> {
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            let target = reference.strip_prefix(REF_PREFIX).ok_or_else(|| {
                fail!("{hint}: only local schema references are supported, found {reference}")
            })?;
            return Ok(json!({ "$ref": format!("#/definitions/{target}") }));
        }
        if ["enum", "properties", "oneOf"]
            .iter()
            .any(|key| schema.get(key).is_some())
        {
            return self.hoist(hint, schema);
        }
        let description = schema.get("description").cloned();
        let mut out = match schema.get("type").and_then(Value::as_str) {
            Some("string") if schema.get("format").and_then(Value::as_str) == Some("date-time") => {
                // The reference carries no siblings; the field stays optional through its
                // place in the parent.
                return Ok(json!({ "$ref": "#/definitions/Timestamp" }));
            }
            Some(kind @ ("string" | "integer" | "boolean" | "number")) => json!({ "type": kind }),
            Some("array") => {
                let item_hint = hint.strip_suffix('s').map(str::to_owned);
                let items = match schema.get("items") {
                    Some(items @ Value::Object(_)) => {
                        self.lower(&item_hint.unwrap_or_else(|| format!("{hint}Item")), items)?
                    }
                    _ => json!({}),
                };
                json!({ "type": ["array", "null"], "items": items })
            }
            Some("object") => match schema.get("additionalProperties") {
                Some(inner @ Value::Object(_)) => {
                    let inner = self.lower(&format!("{hint}Value"), inner)?;
                    json!({ "type": ["object", "null"], "additionalProperties": inner })
                }
                _ => json!({ "type": ["object", "null"] }),
            },
            None => json!({}),
            Some(other) => {
                return Err(fail!("{hint}: unsupported type `{other}`"));
            }
        };
        if let (Some(description), Some(map)) = (description, out.as_object_mut()) {
            map.insert("description".to_owned(), description);
        }
        Ok(out)
    }

    /// Files an object, enum or union under `name` and returns a `$ref` to it.
    fn hoist(&mut self, name: &str, schema: &Value) -> Result<Value> {
        check_type_name(name)?;
        if self.definitions.contains_key(name) {
            return Err(fail!(
                "two schemas would both be named {name}: name one of them as a component"
            ));
        }
        let doc = schema["description"].as_str().map(str::to_owned);
        if let Some(values) = schema.get("enum").and_then(Value::as_array) {
            let values: Option<Vec<String>> = values
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect();
            let values = values.ok_or_else(|| fail!("{name}: only string enums are supported"))?;
            check_variants(name, &values)?;
            self.enums.insert(name.to_owned(), (doc, values));
            self.definitions
                .insert(name.to_owned(), json!({ "type": "string" }));
        } else if let Some(branches) = schema.get("oneOf").and_then(Value::as_array) {
            self.definitions.insert(name.to_owned(), json!({}));
            let mut variants = Vec::new();
            for branch in branches {
                let tag = branch
                    .pointer("/properties/type/enum/0")
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        fail!("{name}: every oneOf branch needs a one-value `type` enum")
                    })?;
                let variant = format!("{name}{}", pascal(tag));
                let mut rest = branch.clone();
                if let Some(properties) = rest.get_mut("properties").and_then(Value::as_object_mut)
                {
                    properties.remove("type");
                }
                self.hoist(&variant, &rest)?;
                variants.push((tag.to_owned(), variant));
            }
            let tags: Vec<String> = variants.iter().map(|(tag, _)| tag.clone()).collect();
            check_variants(name, &tags)?;
            self.unions.insert(name.to_owned(), (doc, variants));
        } else {
            self.definitions.insert(name.to_owned(), json!({}));
            let mut properties = Map::new();
            if let Some(declared) = schema.get("properties").and_then(Value::as_object) {
                for (property, inner) in declared {
                    let lowered = self.lower(&format!("{name}{}", pascal(property)), inner)?;
                    properties.insert(property.clone(), lowered);
                }
            }
            let object = json!({ "type": "object", "properties": properties, "description": doc });
            self.definitions.insert(name.to_owned(), object);
        }
        Ok(json!({ "$ref": format!("#/definitions/{name}") }))
    }
}

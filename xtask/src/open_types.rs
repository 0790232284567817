//! Every open type the generators write, in both crates: an enum whose `Unknown` arm keeps a
//! value this release does not list, and a union whose `Unknown` arm keeps a variant it does
//! not know. Monime adds values without a new release, so a receiver or a response must not
//! fail on them, and must serialize them back as received.
//!
//! `monime-webhooks-api` (the spec's response values, in `generated_tables.rs`) and
//! `monime-events` (the objects events carry) get open enums of one shape, that of
//! `monime_signature::EventName`; a union's `Unknown` keeps what each crate's types can hold.
//! Also the Rust names for spec names every generator uses: modules and methods in snake case,
//! statics in screaming case, types and variants in Pascal case.

use std::collections::BTreeMap;

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};
use serde_yaml::Value;

use crate::failure::Result;
use crate::spec::{self, entries, sequence};

/// An open enum, the same shape in both crates: the values this release lists, in the spec's
/// order, and `Unknown` for the rest.
pub fn open_enum(name: &str, doc: Option<&str>, values: &[String]) -> TokenStream {
    let name = ident(name);
    let doc = doc_lines(
        doc,
        "Open: a value this release does not list arrives as `Unknown` and serializes back unchanged.",
    );
    let variants: Vec<Ident> = values.iter().map(|v| variant(pascal(v))).collect();
    let variant_docs = values.iter().map(|v| format!(" `{v}`"));
    quote! {
        #doc
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum #name {
            #(#[doc = #variant_docs] #variants,)*
            /// A value this release does not list, kept as received.
            Unknown(::std::string::String),
        }

        impl #name {
            /// Every value this release lists.
            pub const KNOWN: &'static [#name] = &[#(#name::#variants,)*];

            /// The value as Monime spells it.
            pub fn as_str(&self) -> &str {
                match self {
                    #( #name::#variants => #values, )*
                    #name::Unknown(other) => other,
                }
            }
        }

        impl ::std::convert::From<&str> for #name {
            fn from(value: &str) -> Self {
                match value {
                    #( #values => #name::#variants, )*
                    other => #name::Unknown(other.to_owned()),
                }
            }
        }

        impl ::std::convert::AsRef<str> for #name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl ::std::str::FromStr for #name {
            type Err = ::std::convert::Infallible;

            fn from_str(value: &str) -> ::std::result::Result<Self, Self::Err> {
                Ok(#name::from(value))
            }
        }

        impl ::std::fmt::Display for #name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for #name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for #name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                let text = <::std::string::String as ::serde::Deserialize>::deserialize(deserializer)?;
                Ok(#name::from(text.as_str()))
            }
        }
    }
}

/// The open enum of `monime-webhooks-api` for the string-enum `component`, with its JSON
/// Schema behind the `schemars` feature.
pub fn api_enum(component: &str, rust_name: &str, schema: &Value) -> Result<TokenStream> {
    let values = spec::strings(schema.get("enum"));
    if schema.get("type").and_then(Value::as_str) != Some("string") || values.is_empty() {
        return Err(fail!(
            "components.schemas.{component} is in OPEN_TYPES but is neither a string enum nor \
             a oneOf"
        ));
    }
    check_variants(rust_name, &values)?;
    let description = description_of(schema);
    let schema_text = format!(
        "{description} One of {}, or a value Monime adds later.",
        values.join(", ")
    );
    let json =
        serde_json::json!({ "type": "string", "description": schema_text, "examples": values });
    let open_enum = open_enum(rust_name, Some(&description), &values);
    let schema_impl = json_schema_impl(rust_name, json, "string");
    Ok(quote! { #open_enum #schema_impl })
}

/// An open tagged union of `monime-webhooks-api` for a `oneOf` component whose branches are
/// objects told apart by a one-value string property (`type: HS256`). Field values are
/// optional strings; `Debug` prints only what Monime sets (`readOnly`), never what the caller
/// chose (a secret). `Unknown` keeps the tag and every field.
pub fn api_union(
    document: &Value,
    component: &str,
    rust_name: &str,
    schema: &Value,
) -> Result<TokenStream> {
    let place = format!("components.schemas.{component}");
    let mut tag_key: Option<String> = None;
    let (mut tags, mut json_branches) = (Vec::new(), Vec::new());
    // Per branch: the fields' JSON names, Rust names, and what `Debug` shows of each.
    let (mut field_names, mut field_idents, mut debug_values) = (vec![], vec![], vec![]);
    for branch in sequence(schema.get("oneOf")) {
        let branch = spec::resolve(document, branch, &place)?;
        let (mut tag, mut names, mut idents, mut shown) = (None, vec![], vec![], vec![]);
        let mut json_properties = serde_json::Map::new();
        for (name, property) in entries(branch.get("properties")) {
            let property = spec::resolve(document, property, &place)?;
            if let [only] = sequence(property.get("enum"))
                && let Some(only) = only.as_str()
            {
                tag = Some((name, only.to_owned()));
                continue;
            }
            if property.get("type").and_then(Value::as_str) != Some("string") {
                return Err(fail!(
                    "{place}: open unions hold string fields only; `{name}` is not one"
                ));
            }
            let mut rules = serde_json::json!({ "type": "string" });
            for key in ["minLength", "maxLength", "pattern"] {
                if let Some(value) = property.get(key) {
                    rules[key] = serde_json::to_value(value).unwrap_or_default();
                }
            }
            json_properties.insert(name.clone(), rules);
            let ident = rust_ident(&snake_case(&name));
            // `readOnly` values are Monime's and public; the rest may be the caller's secrets.
            shown.push(match spec::flag(property, "readOnly") {
                true => quote! { #ident },
                false => quote! { &#ident.as_ref().map(|_| "[redacted]") },
            });
            names.push(name);
            idents.push(ident);
        }
        let Some((key, value)) = tag else {
            return Err(fail!(
                "{place}: every oneOf branch needs a one-value enum property (its tag)"
            ));
        };
        if tag_key.get_or_insert_with(|| key.clone()) != &key {
            return Err(fail!(
                "{place}: the oneOf branches are tagged by different properties"
            ));
        }
        json_properties.insert(key.clone(), serde_json::json!({ "const": value }));
        json_branches.push(serde_json::json!({
            "type": "object",
            "required": [key],
            "properties": json_properties,
        }));
        tags.push(value);
        field_names.push(names);
        field_idents.push(idents);
        debug_values.push(shown);
    }
    let tag_key = tag_key.ok_or_else(|| fail!("{place}: oneOf is empty"))?;
    let name = format_ident!("{}", rust_name);
    let description = description_of(schema);
    let doc = format!(
        "{description} An open union: a `{tag_key}` this crate does not know yet decodes into \
         `Unknown` with every field kept. `Debug` never prints a value the caller chose."
    );
    let variants: Vec<Ident> = tags
        .iter()
        .map(|tag| variant(pascal(&snake_case(tag))))
        .collect();
    let variant_texts: Vec<String> = variants.iter().map(ToString::to_string).collect();
    let schema_text = format!(
        "{description} `{tag_key}` is one of {}, or a later one.",
        tags.join(", ")
    );
    // The known branches with their constraints, and any other tag (a later method) open.
    json_branches.push(serde_json::json!({
        "type": "object",
        "required": [tag_key],
        "properties": { tag_key.clone(): { "type": "string", "not": { "enum": tags } } },
    }));
    let json = serde_json::json!({ "description": schema_text, "oneOf": json_branches });
    let schema_impl = json_schema_impl(rust_name, json, "object");
    Ok(quote! {
        #[doc = #doc]
        #[derive(Clone, PartialEq, Eq)]
        pub enum #name {
            #(
                #[doc = concat!("`", #tag_key, ": ", #tags, "`")]
                #variants { #( #field_idents: ::std::option::Option<::std::string::String>, )* },
            )*
            /// A kind this crate does not know yet: its tag and every other field, verbatim.
            Unknown {
                kind: ::std::string::String,
                fields: ::serde_json::Map<::std::string::String, ::serde_json::Value>,
            },
        }

        impl #name {
            /// Every tag the spec lists.
            pub const KNOWN: &'static [&'static str] = &[#(#tags),*];

            /// The tag as Monime spells it.
            pub fn kind(&self) -> &str {
                match self {
                    #( #name::#variants { .. } => #tags, )*
                    #name::Unknown { kind, .. } => kind,
                }
            }
        }

        impl ::std::fmt::Debug for #name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                match self {
                    #(
                        #name::#variants { #( #field_idents ),* } => f
                            .debug_struct(#variant_texts)
                            #( .field(stringify!(#field_idents), #debug_values) )*
                            .finish(),
                    )*
                    #name::Unknown { kind, fields } => f
                        .debug_struct("Unknown")
                        .field("kind", kind)
                        .field("fields", &fields.keys().collect::<::std::vec::Vec<_>>())
                        .finish(),
                }
            }
        }

        impl ::serde::Serialize for #name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                let mut map = ::serde_json::Map::new();
                map.insert(#tag_key.to_owned(), ::serde_json::Value::String(self.kind().to_owned()));
                match self {
                    #(
                        #name::#variants { #( #field_idents ),* } => {
                            #(
                                if let Some(value) = #field_idents {
                                    map.insert(#field_names.to_owned(), ::serde_json::Value::String(value.clone()));
                                }
                            )*
                        }
                    )*
                    #name::Unknown { fields, .. } => {
                        map.extend(fields.iter().map(|(k, v)| (k.clone(), v.clone())));
                    }
                }
                ::serde::Serialize::serialize(&map, serializer)
            }
        }

        impl<'de> ::serde::Deserialize<'de> for #name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                use ::serde::de::Error as _;
                let mut fields = <::serde_json::Map<::std::string::String, ::serde_json::Value> as ::serde::Deserialize>::deserialize(deserializer)?;
                let kind = match fields.remove(#tag_key) {
                    Some(::serde_json::Value::String(kind)) => kind,
                    Some(other) => {
                        return Err(D::Error::custom(format!("`{}` must be a string, got {other}", #tag_key)));
                    }
                    None => return Err(D::Error::missing_field(#tag_key)),
                };
                let mut text = |name: &str| -> ::std::result::Result<::std::option::Option<::std::string::String>, D::Error> {
                    match fields.remove(name) {
                        None | Some(::serde_json::Value::Null) => Ok(None),
                        Some(::serde_json::Value::String(s)) => Ok(Some(s)),
                        Some(other) => Err(D::Error::custom(format!("`{name}` must be a string, got {other}"))),
                    }
                };
                Ok(match kind.as_str() {
                    #(
                        #tags => #name::#variants { #( #field_idents: text(#field_names)?, )* },
                    )*
                    _ => {
                        drop(text);
                        #name::Unknown { kind, fields }
                    }
                })
            }
        }

        #schema_impl
    })
}

/// An open union of `monime-events` chosen by `type`: each variant (its `type` and the struct
/// of its other properties), and `Unknown` with the object as received.
pub fn event_union(name: &str, doc: Option<&str>, variants: &[(String, String)]) -> TokenStream {
    let name = ident(name);
    let doc = doc_lines(
        doc,
        "Chosen by `type`. Open: a `type` this release does not list (or none) arrives as `Unknown`, kept as received.",
    );
    let tags: Vec<&String> = variants.iter().map(|(tag, _)| tag).collect();
    let structs: Vec<Ident> = variants.iter().map(|(_, s)| ident(s)).collect();
    let docs = tags.iter().map(|tag| format!(" `type` is `{tag}`."));
    let variants: Vec<Ident> = tags.iter().map(|tag| variant(pascal(tag))).collect();
    quote! {
        #doc
        #[derive(Debug, Clone, PartialEq)]
        pub enum #name {
            #(#[doc = #docs] #variants(#structs),)*
            /// A `type` this release does not list, or no `type`: the object as received.
            Unknown(::serde_json::Value),
        }

        impl #name {
            /// The `type` of this variant, as Monime spells it.
            pub fn type_name(&self) -> ::std::option::Option<&str> {
                match self {
                    #(#name::#variants(_) => Some(#tags),)*
                    #name::Unknown(value) => value.get("type").and_then(::serde_json::Value::as_str),
                }
            }
        }

        impl ::serde::Serialize for #name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                match self {
                    #(#name::#variants(inner) => crate::open::serialize_tagged(#tags, inner, serializer),)*
                    #name::Unknown(value) => ::serde::Serialize::serialize(value, serializer),
                }
            }
        }

        impl<'de> ::serde::Deserialize<'de> for #name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                let (tag, value) = crate::open::tagged_object(deserializer)?;
                match tag.as_deref() {
                    #(Some(#tags) => crate::open::from_value(value).map(#name::#variants),)*
                    _ => Ok(#name::Unknown(value)),
                }
            }
        }
    }
}

/// `EventData`, the open union of `monime-events` chosen by the event's `object.type`: one
/// variant per object (its `object.type` and its type name), and `Unknown` for the rest.
pub fn event_data(objects: &[(String, String)]) -> TokenStream {
    let variants: Vec<Ident> = objects.iter().map(|(_, name)| ident(name)).collect();
    let types = variants.clone();
    let object_types: Vec<&String> = objects.iter().map(|(t, _)| t).collect();
    let docs = objects
        .iter()
        .map(|(object_type, _)| format!(" `object.type` is `{object_type}`."));
    quote! {
        /// The `data` of an event, decoded as the object its `object.type` names.
        ///
        /// Open: an `object.type` this release does not describe arrives as `Unknown`, kept as
        /// received; more variants may be added in any release.
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub enum EventData {
            #(#[doc = #docs] #variants(#types),)*
            /// An `object.type` this release does not describe: `data` as received.
            Unknown(::serde_json::Value),
        }

        impl EventData {
            /// Every `object.type` this release describes.
            pub const OBJECT_TYPES: &'static [&'static str] = &[#(#object_types,)*];

            /// The `object.type` of this variant; `None` for `Unknown`.
            pub fn object_type(&self) -> ::std::option::Option<&'static str> {
                match self {
                    #(EventData::#variants(_) => Some(#object_types),)*
                    EventData::Unknown(_) => None,
                }
            }

            /// Decodes `data` as the object `object_type` names.
            pub(crate) fn deserialize_as<'de, D: ::serde::Deserializer<'de>>(
                object_type: &str,
                deserializer: D,
            ) -> ::std::result::Result<Self, D::Error> {
                match object_type {
                    #(#object_types => <#types as ::serde::Deserialize>::deserialize(deserializer).map(EventData::#variants),)*
                    _ => <::serde_json::Value as ::serde::Deserialize>::deserialize(deserializer).map(EventData::Unknown),
                }
            }
        }

        impl ::serde::Serialize for EventData {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                match self {
                    #(EventData::#variants(inner) => ::serde::Serialize::serialize(inner, serializer),)*
                    EventData::Unknown(value) => ::serde::Serialize::serialize(value, serializer),
                }
            }
        }
    }
}

/// A schema's `description`, trimmed (empty when it has none).
pub fn description_of(schema: &Value) -> String {
    let description = schema.get("description").and_then(Value::as_str);
    description.unwrap_or("").trim().to_owned()
}

/// The description as doc lines, then a blank doc line, then `note`.
fn doc_lines(doc: Option<&str>, note: &str) -> TokenStream {
    let lines = doc.into_iter().flat_map(str::lines);
    let mut lines: Vec<String> = lines.map(|line| format!(" {line}")).collect();
    if !lines.is_empty() {
        lines.push(String::new());
    }
    lines.push(format!(" {note}"));
    quote! { #(#[doc = #lines])* }
}

/// `schemars::JsonSchema` for the generated type `name`: the spec's schema `json` (as text), or
/// an untyped schema of `fallback_type` should the text not be a schema.
pub fn json_schema_impl(name: &str, json: serde_json::Value, fallback_type: &str) -> TokenStream {
    let (schema_name, json_text, name) = (name, json.to_string(), ident(name));
    quote! {
        #[cfg(feature = "schemars")]
        #[cfg_attr(docsrs, doc(cfg(feature = "schemars")))]
        impl ::schemars::JsonSchema for #name {
            fn schema_name() -> ::std::borrow::Cow<'static, str> {
                #schema_name.into()
            }

            fn json_schema(_: &mut ::schemars::SchemaGenerator) -> ::schemars::Schema {
                ::serde_json::from_str::<::serde_json::Value>(#json_text)
                    .ok()
                    .and_then(|value| ::schemars::Schema::try_from(value).ok())
                    .unwrap_or_else(|| ::schemars::json_schema!({ "type": #fallback_type }))
            }
        }
    }
}

/// `alertEmails` -> `alert_emails`, `CreateWebhook` -> `create_webhook`, `Monime-Space-Id` ->
/// `monime_space_id`.
pub fn snake_case(text: &str) -> String {
    let (mut out, mut previous_lower) = (String::new(), false);
    for ch in text.chars() {
        let word_start = ch.is_ascii_uppercase() && previous_lower;
        if word_start || !ch.is_ascii_alphanumeric() && !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
        if ch.is_ascii_alphanumeric() {
            out.push(ch.to_ascii_lowercase());
        }
        previous_lower = ch.is_ascii_lowercase() || ch.is_ascii_digit();
    }
    out.trim_end_matches('_').to_owned()
}

/// `apiRelease` -> `API_RELEASE`.
pub fn screaming(text: &str) -> Ident {
    ident(&snake_case(text).to_ascii_uppercase())
}

/// `one_time` -> `OneTime`, `lineItems` -> `LineItems`, `m17` -> `M17`, `3ds` -> `V3ds`
/// (a capital stays one; `pascal(&snake_case("HS256"))` is `Hs256`).
pub fn pascal(text: &str) -> String {
    let mut out = String::new();
    let mut upper = true;
    for c in text.chars() {
        if !c.is_ascii_alphanumeric() {
            upper = true;
        } else if std::mem::take(&mut upper) {
            out.push(c.to_ascii_uppercase());
        } else {
            out.push(c);
        }
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'V');
    }
    out
}

/// The variant for a listed value whose Pascal name is `name`: the `Unknown` arm of every open
/// type holds the values a release does not list, so a value spelled `unknown` becomes
/// `VUnknown`, as a value starting with a digit does (`3ds` -> `V3ds`).
pub fn variant(name: String) -> Ident {
    ident(if name == "Unknown" { "VUnknown" } else { &name })
}

pub fn ident(name: &str) -> Ident {
    Ident::new(name, Span::call_site())
}

/// `name`, raw (`r#type`) where it is a keyword.
pub fn rust_ident(name: &str) -> Ident {
    syn::parse_str(name).unwrap_or_else(|_| Ident::new_raw(name, Span::call_site()))
}

/// Refuses a name that is not PascalCase letters and digits.
pub fn check_type_name(name: &str) -> Result<()> {
    let valid = name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && name.chars().all(|c| c.is_ascii_alphanumeric());
    let problem = "cannot name a Rust type: use PascalCase letters and digits";
    valid
        .then_some(())
        .ok_or_else(|| fail!("`{name}` {problem}"))
}

/// Refuses `values` where two name the same [`variant`] or one names none.
pub fn check_variants(type_name: &str, values: &[String]) -> Result<()> {
    let mut seen = BTreeMap::new();
    for value in values {
        let base = pascal(value);
        if base.is_empty() {
            return Err(fail!(
                "{type_name}: the value `{value}` cannot name a variant"
            ));
        }
        let variant = variant(base).to_string();
        if let Some(previous) = seen.insert(variant.clone(), value.clone()) {
            return Err(fail!(
                "{type_name}: `{previous}` and `{value}` would both be the variant {variant}"
            ));
        }
    }
    Ok(())
}

//! The spec as Rust data: `generated_tables.rs` holds every component schema, parameter,
//! operation and response header name of the spec as `static` tables (the shapes of
//! `monime_webhooks_api::schema`), the open enums and the JSON keys of request bodies. The
//! client, the emulator and the CLI read these instead of typing a spec fact again, so
//! `cargo xtask generate` alone carries a spec change to them.
//!
//! A keyword the validator cannot enforce (`allOf`, `anyOf`, `not`, ...) fails generation with
//! the schema's place in the spec, rather than being dropped silently.

use std::collections::BTreeMap;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_yaml::{Mapping, Value};

use crate::failure::Result;
use crate::open_types::{self, description_of, ident, json_schema_impl, screaming, snake_case};
use crate::spec::{self, Spec, entries, flag, sequence};

/// Component schemas whose values Monime can grow without a new release, and the Rust name
/// of the open type generated for each: a string enum becomes an enum with an `Unknown` arm, a
/// `oneOf` of objects tagged by a one-value property becomes an enum whose `Unknown` arm keeps
/// the tag and every field. progenitor uses them through replacements.
pub const OPEN_TYPES: [(&str, &str); 2] = [
    ("WebhookApiRelease", "ApiRelease"),
    ("WebhookVerificationMethod", "WebhookVerificationMethod"),
];

/// The keywords the generated validator enforces, then those that only document; any other
/// fails generation.
const KNOWN_KEYWORDS: &str = "type nullable readOnly default enum minLength maxLength pattern \
     minimum maximum items minItems maxItems uniqueItems properties required \
     additionalProperties maxProperties oneOf x-max-depth x-http-header-map \
     description title example examples format externalDocs deprecated writeOnly";

struct Tables<'a> {
    document: &'a Value,
    /// Each distinct pattern's source.
    patterns: Vec<String>,
}

/// The request body schema of `operation`, if it takes a JSON one.
pub fn body_schema<'a>(
    document: &'a Value,
    operation: &'a Value,
    place: &str,
) -> Result<Option<&'a Value>> {
    let Some(body) = operation.get("requestBody") else {
        return Ok(None);
    };
    let body = spec::resolve(document, body, place)?.get("content");
    let media = body.and_then(|content| content.get("application/json"));
    Ok(media.and_then(|media| media.get("schema")))
}

/// The tokens of `generated_tables.rs` for `spec`.
pub fn render_tokens(spec: &Spec) -> Result<TokenStream> {
    let (document, display_path) = (&spec.raw, spec.display_path.as_str());
    let mut tables = Tables {
        document,
        patterns: Vec::new(),
    };
    let version = spec.release()?;
    let server = document
        .get("servers")
        .and_then(|servers| servers.get(0)?.get("url"));
    let server = server.and_then(Value::as_str);
    let server = server.ok_or_else(|| fail!("{display_path}: servers[0].url is missing"))?;
    let schemas = document.get("components").and_then(|c| c.get("schemas"));
    let mut schema_items = Vec::new();
    for (name, schema) in entries(schemas) {
        let value = tables.schema_value(schema, &format!("components.schemas.{name}"))?;
        let ident = screaming(&name);
        schema_items.push(quote! { pub static #ident: Schema = #value; });
    }

    let mut params: BTreeMap<String, (String, TokenStream)> = BTreeMap::new();
    let mut operations = Vec::new();
    let mut operation_idents = Vec::new();
    let mut keys = Vec::new();
    let mut response_headers: BTreeMap<String, String> = BTreeMap::new();
    for (route, method, item, operation) in spec::operations(document) {
        let operation_id = operation_id(operation, method, &route)?;
        let snake = snake_case(operation_id);
        let place = format!("paths.{route}.{method}");
        let mut refs = Vec::new();
        let own = sequence(operation.get("parameters"));
        for param in sequence(item.get("parameters")).iter().chain(own) {
            let param = spec::resolve(document, param, &place)?;
            let (name, tokens) = tables.param(param, &place)?;
            let ident = screaming(&name);
            let previous = params.insert(ident.to_string(), (name.clone(), tokens.clone()));
            if previous.is_some_and(|(_, previous)| previous.to_string() != tokens.to_string()) {
                return Err(fail!(
                    "{place}: parameter `{name}` differs from another operation's parameter \
                     of the same name; give both the same schema (a $ref)"
                ));
            }
            refs.push(quote! { &params::#ident });
        }
        let body = match body_schema(document, operation, &place)? {
            Some(schema) => {
                let reference = tables.schema_ref(schema, &format!("{place}.requestBody"))?;
                let resolved = spec::resolve(document, schema, &place)?;
                let module = format_ident!("{}", snake);
                let key_items = entries(resolved.get("properties"))
                    .into_iter()
                    .map(|(name, _)| {
                        let key = screaming(&name);
                        quote! { pub const #key: &str = #name; }
                    });
                keys.push(quote! {
                    #[doc = concat!("The JSON keys of the `", #operation_id, "` body.")]
                    pub mod #module { #(#key_items)* }
                });
                quote! { Some(#reference) }
            }
            None => quote! { None },
        };
        for (_status, response) in entries(operation.get("responses")) {
            let response = spec::resolve(document, response, &place)?;
            for (header, _) in entries(response.get("headers")) {
                response_headers.insert(screaming(&header).to_string(), header);
            }
        }
        let ident = screaming(&snake);
        operation_idents.push(ident.clone());
        let method_text = method.to_uppercase();
        operations.push(quote! {
            pub static #ident: Operation = Operation {
                id: #snake,
                method: #method_text,
                path: #route,
                params: &[#(#refs),*],
                body: #body,
            };
        });
    }

    let param_items = params.iter().map(|(name, (_, tokens))| {
        let name = ident(name);
        quote! { pub static #name: Param = #tokens; }
    });
    let header_items = response_headers.iter().map(|(name, header)| {
        let name = ident(name);
        quote! { pub const #name: &str = #header; }
    });
    let pattern_items = tables.patterns.iter().enumerate().map(|(index, source)| {
        let ident = format_ident!("PATTERN_{}", index);
        quote! { pub(crate) static #ident: Pattern = Pattern::new(#source); }
    });
    let component = |name: &str| spec::component(document, name).unwrap_or(&Value::Null);
    let pattern_types = pattern_types(document)?;
    let pattern_strings = pattern_types.iter();
    let pattern_strings = pattern_strings.map(|name| pattern_string(name, component(name)));
    let mut open_enums = Vec::new();
    for (component, rust_name) in OPEN_TYPES {
        let schema = spec::component(document, component).ok_or_else(|| {
            fail!(
                "xtask/src/tables.rs OPEN_TYPES names `{component}`, which is not a component \
                 schema of {display_path}"
            )
        })?;
        open_enums.push(if schema.get("oneOf").is_some() {
            open_types::api_union(document, component, rust_name, schema)?
        } else {
            open_types::api_enum(component, rust_name, schema)?
        });
    }

    Ok(quote! {
        use crate::schema::{Additional, Kind, Location, Object, Operation, Param, Pattern, Property, Schema};

        /// The spec file, relative to the workspace root, that this crate was generated from.
        pub const SPEC_FILE: &str = #display_path;
        /// The API version the spec describes (`info.version`), sent as `Monime-Version`.
        pub const API_VERSION: &str = #version;
        /// The API's base URL (the spec's first server).
        pub const SERVER_URL: &str = #server;

        #(#pattern_items)*

        /// Every component schema of the spec.
        pub mod schemas {
            #[allow(unused_imports)]
            use super::*;
            #(#schema_items)*
        }

        /// Every parameter of the spec's operations, by its name on the wire.
        pub mod params {
            #[allow(unused_imports)]
            use super::*;
            #(#param_items)*
        }

        /// Every operation of the spec.
        pub mod operations {
            #[allow(unused_imports)]
            use super::*;
            #(#operations)*

            /// Every operation, in the spec's order.
            pub static ALL: &[&Operation] = &[#(&#operation_idents),*];
        }

        /// The names of the response headers the spec documents.
        pub mod response_headers {
            #(#header_items)*
        }

        /// The JSON keys of each operation's request body.
        pub mod keys {
            #(#keys)*
        }

        #(#open_enums)*

        /// The spec's string schemas with a `pattern`: each a type checked on construction and
        /// decoding (typify would check them with a regular-expression engine; our validator
        /// matches the spec's one pattern shape directly).
        pub mod strings {
            #(#pattern_strings)*
        }
    })
}

/// The `operationId` of `operation` (the spec is checked to have one on every operation).
pub fn operation_id<'a>(operation: &'a Value, method: &str, route: &str) -> Result<&'a str> {
    let id = operation.get("operationId").and_then(Value::as_str);
    id.ok_or_else(|| fail!("{} {route} has no operationId", method.to_uppercase()))
}

/// The component schemas that are strings with a `pattern`, in the spec's order. Each becomes
/// a type in `spec::strings`, which progenitor uses through a replacement.
pub fn pattern_types(document: &Value) -> Result<Vec<String>> {
    let schemas = entries(document.get("components").and_then(|c| c.get("schemas")));
    let is_string = |schema: &Value| schema.get("type").and_then(Value::as_str) == Some("string");
    let patterned = schemas
        .into_iter()
        .filter(|(_, s)| is_string(s) && s.get("pattern").is_some());
    let checked = patterned.map(|(name, _)| match open_types::check_type_name(&name) {
        Ok(()) => Ok(name),
        Err(_) => Err(fail!(
            "components.schemas.{name}: a string schema with a pattern needs a PascalCase name \
             (it becomes the Rust type `spec::strings::{name}`)"
        )),
    });
    checked.collect()
}

/// A string type for the pattern-string component `component`: built only from text the
/// spec's constraints accept (checked by `constraints::check_text`), so a value of it is valid.
fn pattern_string(component: &str, schema: &Value) -> TokenStream {
    let name = format_ident!("{}", component);
    let table = screaming(component);
    let description = description_of(schema);
    let doc = format!(
        "{description} Built only from text that meets the spec's constraints \
         (`spec::schemas::{table}`)."
    );
    let json = serde_json::to_value(schema).unwrap_or_default();
    let schema_impl = json_schema_impl(component, json, "string");
    let borrowed = [quote!(&str), quote!(&::std::string::String)];
    quote! {
        #[doc = #doc]
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::serde::Serialize)]
        #[serde(transparent)]
        pub struct #name(::std::string::String);

        impl #name {
            /// The text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl ::std::ops::Deref for #name {
            type Target = ::std::string::String;
            fn deref(&self) -> &::std::string::String {
                &self.0
            }
        }

        impl ::core::convert::AsRef<str> for #name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl ::std::convert::From<#name> for ::std::string::String {
            fn from(value: #name) -> Self {
                value.0
            }
        }

        impl ::std::fmt::Display for #name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl ::std::str::FromStr for #name {
            type Err = crate::constraints::Violation;
            fn from_str(value: &str) -> ::std::result::Result<Self, Self::Err> {
                crate::constraints::check_text(&super::schemas::#table, value, #component)?;
                Ok(#name(value.to_owned()))
            }
        }

        #(
            impl ::std::convert::TryFrom<#borrowed> for #name {
                type Error = crate::constraints::Violation;
                fn try_from(value: #borrowed) -> ::std::result::Result<Self, Self::Error> {
                    value.parse()
                }
            }
        )*

        impl ::std::convert::TryFrom<::std::string::String> for #name {
            type Error = crate::constraints::Violation;
            fn try_from(value: ::std::string::String) -> ::std::result::Result<Self, Self::Error> {
                crate::constraints::check_text(&super::schemas::#table, &value, #component)?;
                Ok(#name(value))
            }
        }

        impl<'de> ::serde::Deserialize<'de> for #name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                let text = <::std::string::String as ::serde::Deserialize>::deserialize(deserializer)?;
                #name::try_from(text).map_err(<D::Error as ::serde::de::Error>::custom)
            }
        }

        #schema_impl
    }
}

impl<'a> Tables<'a> {
    /// A `&'static Schema` expression: the component's static for a `$ref`, else inline.
    fn schema_ref(&mut self, value: &'a Value, place: &str) -> Result<TokenStream> {
        if let Some(reference) = value.get("$ref").and_then(Value::as_str) {
            let name = reference
                .strip_prefix("#/components/schemas/")
                .ok_or_else(|| {
                    fail!(
                        "{place}: a schema $ref must point into #/components/schemas, got \
                         `{reference}`"
                    )
                })?;
            spec::lookup(self.document, reference, place)?;
            let ident = screaming(name);
            return Ok(quote! { &crate::spec::schemas::#ident });
        }
        let value = self.schema_value(value, place)?;
        Ok(quote! { &#value })
    }

    /// A `Schema { .. }` expression for an inline schema.
    fn schema_value(&mut self, value: &'a Value, place: &str) -> Result<TokenStream> {
        let map = value
            .as_mapping()
            .ok_or_else(|| fail!("{place}: a schema must be a mapping"))?;
        if map.contains_key("$ref") {
            return Err(fail!(
                "{place}: a component schema that is only a $ref is not supported; use the \
                 target schema directly"
            ));
        }
        let known = |key: &String| KNOWN_KEYWORDS.split_whitespace().any(|known| known == key);
        if let Some(key) = map.keys().map(spec::key_text).find(|key| !known(key)) {
            return Err(fail!(
                "{place}: the keyword `{key}` is not enforced by the generated validator; \
                 teach xtask/src/tables.rs and monime_webhooks_api::constraints about it \
                 (or remove it from the spec)"
            ));
        }
        let (nullable, read_only) = (flag(value, "nullable"), flag(value, "readOnly"));
        let max_depth = count(map, "x-max-depth");
        let http_header_map = flag(value, "x-http-header-map");
        let default = map.get("default").map(serde_json::to_value).transpose();
        let default = default.map_err(|e| fail!("{place}: default is not JSON: {e}"))?;
        let default = option(default.map(|json| json.to_string()));
        let kind_name = map.get("type").and_then(Value::as_str);
        // The validator checks a pattern on strings only; anywhere else it would be dropped.
        if let Some(pattern) = map.get("pattern")
            && (kind_name != Some("string") || pattern.as_str().is_none())
        {
            return Err(fail!(
                "{place}: `pattern` must be text on a `type: string` schema; the validator \
                 would not check it here"
            ));
        }
        let kind = match kind_name {
            Some("boolean") => quote! { Kind::Boolean },
            Some("integer") | Some("number") => {
                let minimum = integer(map, "minimum", place)?;
                let maximum = integer(map, "maximum", place)?;
                quote! { Kind::Integer { minimum: #minimum, maximum: #maximum } }
            }
            Some("string") => {
                let min_length = count(map, "minLength");
                let max_length = count(map, "maxLength");
                let pattern = map.get("pattern").and_then(Value::as_str);
                let pattern = option(pattern.map(|p| self.pattern(p, place)).transpose()?);
                let values = spec::strings(map.get("enum"));
                quote! {
                    Kind::String {
                        min_length: #min_length,
                        max_length: #max_length,
                        pattern: #pattern,
                        values: &[#(#values),*],
                    }
                }
            }
            Some("array") => {
                let items = match map.get("items") {
                    Some(items) => self.schema_ref(items, &format!("{place}.items"))?,
                    None => {
                        quote! { &Schema { nullable: true, read_only: false, default: None, max_depth: None, http_header_map: false, kind: Kind::Any } }
                    }
                };
                let min_items = count(map, "minItems");
                let max_items = count(map, "maxItems");
                let unique = flag(value, "uniqueItems");
                quote! {
                    Kind::Array { items: #items, min_items: #min_items, max_items: #max_items, unique_items: #unique }
                }
            }
            None if !map.contains_key("properties") && !map.contains_key("oneOf") => {
                quote! { Kind::Any }
            }
            Some("object") | None => {
                let object = self.object(map, place)?;
                quote! { Kind::Object(&#object) }
            }
            Some(other) => {
                return Err(fail!(
                    "{place}: type `{other}` is not supported by the generated validator"
                ));
            }
        };
        Ok(quote! {
            Schema {
                nullable: #nullable,
                read_only: #read_only,
                default: #default,
                max_depth: #max_depth,
                http_header_map: #http_header_map,
                kind: #kind,
            }
        })
    }

    /// `&crate::spec::PATTERN_<n>` for `source`, a static per distinct pattern.
    fn pattern(&mut self, source: &str, place: &str) -> Result<TokenStream> {
        if !self.patterns.iter().any(|p| p == source) {
            // The client compiles the same text with the same engine.
            regress::Regex::new(source).map_err(|e| {
                fail!(
                    "{place}: pattern `{source}` is not an ECMAScript regular expression (what \
                     OpenAPI patterns are): {e}"
                )
            })?;
            self.patterns.push(source.to_owned());
        }
        let index = self.patterns.iter().position(|p| p == source);
        let ident = format_ident!("PATTERN_{}", index.unwrap_or_default());
        Ok(quote! { &crate::spec::#ident })
    }

    fn object(&mut self, map: &'a Mapping, place: &str) -> Result<TokenStream> {
        let mut properties = Vec::new();
        for (name, schema) in entries(map.get("properties")) {
            let schema = self.schema_ref(schema, &format!("{place}.properties.{name}"))?;
            properties.push(quote! { Property { name: #name, schema: #schema } });
        }
        let required = spec::strings(map.get("required"));
        let additional = match map.get("additionalProperties") {
            None | Some(Value::Bool(true)) => quote! { Additional::Any },
            Some(Value::Bool(false)) => quote! { Additional::Denied },
            Some(schema) => {
                let schema = self.schema_ref(schema, &format!("{place}.additionalProperties"))?;
                quote! { Additional::Schema(#schema) }
            }
        };
        let max_properties = count(map, "maxProperties");
        let mut branches = Vec::new();
        for (index, branch) in sequence(map.get("oneOf")).iter().enumerate() {
            branches.push(self.schema_ref(branch, &format!("{place}.oneOf[{index}]"))?);
        }
        Ok(quote! {
            Object {
                properties: &[#(#properties),*],
                required: &[#(#required),*],
                additional: #additional,
                max_properties: #max_properties,
                one_of: &[#(#branches),*],
            }
        })
    }

    fn param(&mut self, param: &'a Value, place: &str) -> Result<(String, TokenStream)> {
        let name = param
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| fail!("{place}: a parameter has no name"))?;
        let location = match param.get("in").and_then(Value::as_str) {
            Some("path") => quote! { Location::Path },
            Some("query") => quote! { Location::Query },
            Some("header") => quote! { Location::Header },
            other => {
                return Err(fail!(
                    "{place}: parameter `{name}` is in {other:?}; only path, query and header \
                     parameters are supported"
                ));
            }
        };
        let required = param
            .get("required")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let schema = param
            .get("schema")
            .ok_or_else(|| fail!("{place}: parameter `{name}` has no schema"))?;
        let schema = self.schema_ref(schema, &format!("{place}.parameters.{name}"))?;
        Ok((
            name.to_owned(),
            quote! { Param { name: #name, location: #location, required: #required, schema: #schema } },
        ))
    }
}

fn count(map: &Mapping, key: &str) -> TokenStream {
    option(map.get(key).and_then(Value::as_u64).map(|n| n as usize))
}

fn integer(map: &Mapping, key: &str, place: &str) -> Result<TokenStream> {
    match map.get(key).map(Value::as_i64) {
        Some(None) => Err(fail!("{place}: `{key}` must be a whole number")),
        value => Ok(option(value.flatten())),
    }
}

/// `Some(value)` or `None`, as tokens.
fn option(value: Option<impl quote::ToTokens>) -> TokenStream {
    match value {
        Some(value) => quote! { Some(#value) },
        None => quote! { None },
    }
}

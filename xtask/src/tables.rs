//! The spec as Rust data: `generated_tables.rs` holds every component schema, parameter,
//! operation and response header name of the spec as `static` tables (the shapes of
//! `monime_webhooks_api::schema`), the open enums, the JSON keys of request bodies, and one
//! setter macro per operation body. The client, the emulator and the CLI read these instead of
//! typing a spec fact again, so `cargo xtask generate` alone carries a spec change to them.
//!
//! A keyword the validator cannot enforce (`allOf`, `anyOf`, `not`, ...) fails generation with
//! the schema's place in the spec, rather than being dropped silently.

use std::collections::BTreeMap;

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};
use serde_yaml::{Mapping, Value};

use crate::failure::{Failure, Result};
use crate::spec::METHODS;

/// Component schemas whose values Monime can grow without a new release, and the Rust name
/// of the open type generated for each: a string enum becomes an enum with an `Unknown` arm, a
/// `oneOf` of objects tagged by a one-value property becomes an enum whose `Unknown` arm keeps
/// the tag and every field. progenitor uses them through replacements.
pub const OPEN_TYPES: [(&str, &str); 2] = [
    ("WebhookApiRelease", "ApiRelease"),
    ("WebhookVerificationMethod", "WebhookVerificationMethod"),
];

/// Keywords that only document; everything else must be understood.
const DOC_KEYWORDS: [&str; 8] = [
    "description",
    "title",
    "example",
    "examples",
    "format",
    "externalDocs",
    "deprecated",
    "writeOnly",
];

struct Tables<'a> {
    document: &'a Value,
    /// Each distinct pattern's source.
    patterns: Vec<String>,
}

/// The tokens of `generated_tables.rs` for the spec `text` at `display_path`.
pub fn render_tokens(text: &str, display_path: &str) -> Result<TokenStream> {
    let document: Value = serde_yaml::from_str(text)
        .map_err(|e| Failure::new(format!("{display_path}: cannot read the spec: {e}")))?;
    let mut tables = Tables {
        document: &document,
        patterns: Vec::new(),
    };
    let version = document
        .get("info")
        .and_then(|info| info.get("version"))
        .and_then(Value::as_str)
        .ok_or_else(|| Failure::new(format!("{display_path}: info.version is missing")))?;

    let server = sequence(document.get("servers"))
        .first()
        .and_then(|server| server.get("url"))
        .and_then(Value::as_str)
        .ok_or_else(|| Failure::new(format!("{display_path}: servers[0].url is missing")))?
        .to_owned();
    let mut schema_items = Vec::new();
    for (name, schema) in mapping(document.get("components").and_then(|c| c.get("schemas"))) {
        let name = text_key(name)?;
        let place = format!("components.schemas.{name}");
        let value = tables.schema_value(schema, &place)?;
        let ident = screaming(&name);
        schema_items.push(quote! { pub static #ident: Schema = #value; });
    }

    let mut params: BTreeMap<String, (String, TokenStream)> = BTreeMap::new();
    let mut operations = Vec::new();
    let mut operation_idents = Vec::new();
    let mut keys = Vec::new();
    let mut setters = Vec::new();
    let mut response_headers: BTreeMap<String, String> = BTreeMap::new();
    for (route, item) in mapping(document.get("paths")) {
        let route = text_key(route)?;
        let shared_params = sequence(item.get("parameters"));
        for method in METHODS {
            let Some(operation) = item.get(method) else {
                continue;
            };
            let operation_id = operation
                .get("operationId")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    Failure::new(format!(
                        "{} {route} has no operationId",
                        method.to_uppercase()
                    ))
                })?;
            let snake = snake_case(operation_id);
            let place = format!("paths.{route}.{method}");
            let mut refs = Vec::new();
            for param in shared_params
                .iter()
                .chain(sequence(operation.get("parameters")).iter())
            {
                let param = tables.resolve(param, &place)?;
                let (name, tokens) = tables.param(param, &place)?;
                let ident = screaming(&name);
                match params.get(&ident.to_string()) {
                    Some((_, existing)) if existing.to_string() != tokens.to_string() => {
                        return Err(Failure::new(format!(
                            "{place}: parameter `{name}` differs from another operation's \
                             parameter of the same name; give both the same schema (a $ref)"
                        )));
                    }
                    _ => {
                        params.insert(ident.to_string(), (name, tokens));
                    }
                }
                refs.push(quote! { &params::#ident });
            }
            let body_schema = operation
                .get("requestBody")
                .map(|body| tables.resolve(body, &place))
                .transpose()?
                .and_then(|body| body.get("content"))
                .and_then(|content| content.get("application/json"))
                .and_then(|media| media.get("schema"));
            let body = match body_schema {
                Some(schema) => {
                    let reference = tables.schema_ref(schema, &format!("{place}.requestBody"))?;
                    let resolved = tables.resolve(schema, &place)?;
                    let module = format_ident!("{}", snake);
                    let (key_items, setter_items) =
                        body_setters(resolved, method == "patch", &module, &place)?;
                    keys.push(quote! {
                        #[doc = concat!("The JSON keys of the `", #operation_id, "` body.")]
                        pub mod #module { #(#key_items)* }
                    });
                    let macro_name = format_ident!("{}_setters", snake);
                    let doc = format!(
                        "The setters of the `{operation_id}` body, one per property of the spec, \
                         for a builder whose field `$body` is a `RequestBody`."
                    );
                    setters.push(quote! {
                        #[doc = #doc]
                        #[macro_export]
                        macro_rules! #macro_name {
                            ($body:ident) => { #(#setter_items)* };
                        }
                    });
                    quote! { Some(#reference) }
                }
                None => quote! { None },
            };
            for (_status, response) in mapping(operation.get("responses")) {
                let response = tables.resolve(response, &place)?;
                for (header, _) in mapping(response.get("headers")) {
                    let header = text_key(header)?;
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
    }

    let param_items = params.iter().map(|(ident, (_, tokens))| {
        let ident = Ident::new(ident, Span::call_site());
        quote! { pub static #ident: Param = #tokens; }
    });
    let header_items = response_headers.iter().map(|(ident, name)| {
        let ident = Ident::new(ident, Span::call_site());
        quote! { pub const #ident: &str = #name; }
    });
    let pattern_items = tables.patterns.iter().enumerate().map(|(index, source)| {
        let ident = format_ident!("PATTERN_{}", index);
        quote! { pub(crate) static #ident: Pattern = Pattern::new(#source); }
    });
    let pattern_strings = pattern_types(&document)?
        .into_iter()
        .map(|component| pattern_string(component, &document["components"]["schemas"][component]))
        .collect::<Vec<_>>();
    let mut open_enums = Vec::new();
    for (component, rust_name) in OPEN_TYPES {
        let schema = document
            .get("components")
            .and_then(|c| c.get("schemas"))
            .and_then(|s| s.get(component))
            .ok_or_else(|| {
                Failure::new(format!(
                    "xtask/src/tables.rs OPEN_TYPES names `{component}`, which is not a \
                     component schema of {display_path}"
                ))
            })?;
        let open = if schema.get("oneOf").is_some() {
            open_union(&tables, component, rust_name, schema)?
        } else {
            open_enum(component, rust_name, schema)?
        };
        open_enums.push(open);
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

        #(#setters)*
    })
}

/// The component schemas that are strings with a `pattern`, in the spec's order. Each becomes
/// a type in `spec::strings`, which progenitor uses through a replacement.
pub fn pattern_types(document: &Value) -> Result<Vec<&str>> {
    let mut names = Vec::new();
    for (name, schema) in mapping(document.get("components").and_then(|c| c.get("schemas"))) {
        let is_pattern_string = schema.get("type").and_then(Value::as_str) == Some("string")
            && schema.get("pattern").is_some();
        if !is_pattern_string {
            continue;
        }
        let name = name.as_str().unwrap_or_default();
        let pascal = name.starts_with(|c: char| c.is_ascii_uppercase())
            && name.chars().all(|c| c.is_ascii_alphanumeric());
        if !pascal {
            return Err(Failure::new(format!(
                "components.schemas.{name}: a string schema with a pattern needs a PascalCase \
                 name (it becomes the Rust type `spec::strings::{name}`)"
            )));
        }
        names.push(name);
    }
    Ok(names)
}

/// A schema's `description`, trimmed (empty when it has none).
fn description_of(schema: &Value) -> String {
    schema
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim()
        .to_owned()
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
    let json_text = serde_json::to_value(schema)
        .map(|v| v.to_string())
        .unwrap_or_default();
    let schema_impl = json_schema_impl(&name, component, &json_text, "string");
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

        impl ::std::convert::TryFrom<&str> for #name {
            type Error = crate::constraints::Violation;
            fn try_from(value: &str) -> ::std::result::Result<Self, Self::Error> {
                value.parse()
            }
        }

        impl ::std::convert::TryFrom<&::std::string::String> for #name {
            type Error = crate::constraints::Violation;
            fn try_from(value: &::std::string::String) -> ::std::result::Result<Self, Self::Error> {
                value.parse()
            }
        }

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

/// `schemars::JsonSchema` for the generated type `name`: the spec's schema as JSON text, or an
/// untyped schema of `fallback_type` should the text not be a schema.
fn json_schema_impl(
    name: &Ident,
    schema_name: &str,
    json_text: &str,
    fallback_type: &str,
) -> TokenStream {
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

impl<'a> Tables<'a> {
    /// Follows a `$ref` inside the document (one level at a time until a value).
    fn resolve(&self, value: &'a Value, place: &str) -> Result<&'a Value> {
        let mut current = value;
        for _ in 0..16 {
            let Some(reference) = current.get("$ref").and_then(Value::as_str) else {
                return Ok(current);
            };
            current = self.lookup(reference, place)?;
        }
        Err(Failure::new(format!("{place}: $ref chain too long")))
    }

    fn lookup(&self, reference: &str, place: &str) -> Result<&'a Value> {
        let path = reference.strip_prefix("#/").ok_or_else(|| {
            Failure::new(format!(
                "{place}: only local $refs (#/...) are supported, got `{reference}`"
            ))
        })?;
        let mut current = self.document;
        for part in path.split('/') {
            current = current.get(part).ok_or_else(|| {
                Failure::new(format!("{place}: $ref `{reference}` points nowhere"))
            })?;
        }
        Ok(current)
    }

    /// A `&'static Schema` expression: the component's static for a `$ref`, else inline.
    fn schema_ref(&mut self, value: &'a Value, place: &str) -> Result<TokenStream> {
        if let Some(reference) = value.get("$ref").and_then(Value::as_str) {
            let name = reference
                .strip_prefix("#/components/schemas/")
                .ok_or_else(|| {
                    Failure::new(format!(
                        "{place}: a schema $ref must point into #/components/schemas, got \
                         `{reference}`"
                    ))
                })?;
            self.lookup(reference, place)?;
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
            .ok_or_else(|| Failure::new(format!("{place}: a schema must be a mapping")))?;
        if map.contains_key("$ref") {
            return Err(Failure::new(format!(
                "{place}: a component schema that is only a $ref is not supported; use the \
                 target schema directly"
            )));
        }
        for key in map.keys() {
            let key = text_key(key)?;
            let known = DOC_KEYWORDS.contains(&key.as_str())
                || matches!(
                    key.as_str(),
                    "type"
                        | "nullable"
                        | "readOnly"
                        | "default"
                        | "enum"
                        | "minLength"
                        | "maxLength"
                        | "pattern"
                        | "minimum"
                        | "maximum"
                        | "items"
                        | "minItems"
                        | "maxItems"
                        | "uniqueItems"
                        | "properties"
                        | "required"
                        | "additionalProperties"
                        | "maxProperties"
                        | "oneOf"
                        | "x-max-depth"
                        | "x-http-header-map"
                );
            if !known {
                return Err(Failure::new(format!(
                    "{place}: the keyword `{key}` is not enforced by the generated validator; \
                     teach xtask/src/tables.rs and monime_webhooks_api::constraints about it \
                     (or remove it from the spec)"
                )));
            }
        }
        let nullable = flag(map, "nullable");
        let read_only = flag(map, "readOnly");
        let max_depth = count(map, "x-max-depth");
        let http_header_map = flag(map, "x-http-header-map");
        let default = match map.get("default") {
            Some(value) => {
                let json: serde_json::Value = serde_json::to_value(value)
                    .map_err(|e| Failure::new(format!("{place}: default is not JSON: {e}")))?;
                let text = json.to_string();
                quote! { Some(#text) }
            }
            None => quote! { None },
        };
        let kind_name = map.get("type").and_then(Value::as_str);
        // The validator checks a pattern on strings only; anywhere else it would be dropped.
        if let Some(pattern) = map.get("pattern")
            && (kind_name != Some("string") || pattern.as_str().is_none())
        {
            return Err(Failure::new(format!(
                "{place}: `pattern` must be text on a `type: string` schema; the validator \
                 would not check it here"
            )));
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
                let pattern = match map.get("pattern").and_then(Value::as_str) {
                    Some(source) => {
                        let index = match self.patterns.iter().position(|p| p == source) {
                            Some(index) => index,
                            None => {
                                // The client compiles the same text with the same engine.
                                regress::Regex::new(source).map_err(|e| {
                                    Failure::new(format!(
                                        "{place}: pattern `{source}` is not an ECMAScript \
                                         regular expression (what OpenAPI patterns are): {e}"
                                    ))
                                })?;
                                self.patterns.push(source.to_owned());
                                self.patterns.len() - 1
                            }
                        };
                        let ident = format_ident!("PATTERN_{}", index);
                        quote! { Some(&crate::spec::#ident) }
                    }
                    None => quote! { None },
                };
                let values: Vec<String> = sequence(map.get("enum"))
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect();
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
                let unique = flag(map, "uniqueItems");
                quote! {
                    Kind::Array { items: #items, min_items: #min_items, max_items: #max_items, unique_items: #unique }
                }
            }
            Some("object") | None
                if kind_name.is_some()
                    || map.contains_key("properties")
                    || map.contains_key("oneOf") =>
            {
                let object = self.object(map, place)?;
                quote! { Kind::Object(&#object) }
            }
            None => quote! { Kind::Any },
            Some(other) => {
                return Err(Failure::new(format!(
                    "{place}: type `{other}` is not supported by the generated validator"
                )));
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

    fn object(&mut self, map: &'a Mapping, place: &str) -> Result<TokenStream> {
        let mut properties = Vec::new();
        for (name, schema) in mapping(map.get("properties")) {
            let name = text_key(name)?;
            let schema = self.schema_ref(schema, &format!("{place}.properties.{name}"))?;
            properties.push(quote! { Property { name: #name, schema: #schema } });
        }
        let required: Vec<String> = sequence(map.get("required"))
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
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
            .ok_or_else(|| Failure::new(format!("{place}: a parameter has no name")))?;
        let location = match param.get("in").and_then(Value::as_str) {
            Some("path") => quote! { Location::Path },
            Some("query") => quote! { Location::Query },
            Some("header") => quote! { Location::Header },
            other => {
                return Err(Failure::new(format!(
                    "{place}: parameter `{name}` is in {other:?}; only path, query and header \
                     parameters are supported"
                )));
            }
        };
        let required = param
            .get("required")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let schema = param
            .get("schema")
            .ok_or_else(|| Failure::new(format!("{place}: parameter `{name}` has no schema")))?;
        let schema = self.schema_ref(schema, &format!("{place}.parameters.{name}"))?;
        Ok((
            name.to_owned(),
            quote! { Param { name: #name, location: #location, required: #required, schema: #schema } },
        ))
    }
}

/// The key constants and setter methods of one request body schema.
fn body_setters(
    schema: &Value,
    patch: bool,
    module: &Ident,
    place: &str,
) -> Result<(Vec<TokenStream>, Vec<TokenStream>)> {
    let mut keys = Vec::new();
    let mut setters = Vec::new();
    for (name, property) in mapping(schema.get("properties")) {
        let name = text_key(name)?;
        let key = screaming(&name);
        keys.push(quote! { pub const #key: &str = #name; });
        if flag_value(property, "readOnly") {
            continue;
        }
        let method = rust_ident(&snake_case(&name));
        let key_path = quote! { $crate::spec::keys::#module::#key };
        let description = description_of(property);
        let limits = limits_text(property);
        let doc = if limits.is_empty() {
            format!("`{name}`: {description}")
        } else {
            format!("`{name}`: {description} ({limits})")
        };
        let type_name = property.get("type").and_then(Value::as_str);
        let has_ref = property.get("$ref").is_some();
        let setter = match type_name {
            Some("string") if property.get("enum").is_some() => quote! {
                #[doc = #doc]
                pub fn #method(mut self, value: impl ::core::convert::AsRef<str>) -> Self {
                    self.$body.set_text(#key_path, value.as_ref());
                    self
                }
            },
            Some("string") => quote! {
                #[doc = #doc]
                pub fn #method(mut self, value: impl ::core::convert::Into<::std::string::String>) -> Self {
                    self.$body.set_text(#key_path, value.into());
                    self
                }
            },
            Some("boolean") => quote! {
                #[doc = #doc]
                pub fn #method(mut self, value: bool) -> Self {
                    self.$body.set_bool(#key_path, value);
                    self
                }
            },
            Some("integer") => quote! {
                #[doc = #doc]
                pub fn #method(mut self, value: i64) -> Self {
                    self.$body.set_integer(#key_path, value);
                    self
                }
            },
            Some("array")
                if property
                    .get("items")
                    .and_then(|i| i.get("type"))
                    .and_then(Value::as_str)
                    == Some("string") =>
            {
                quote! {
                    #[doc = #doc]
                    pub fn #method<I, S>(mut self, values: I) -> Self
                    where
                        I: ::core::iter::IntoIterator<Item = S>,
                        S: ::core::convert::Into<::std::string::String>,
                    {
                        self.$body.set_texts(#key_path, values.into_iter().map(::core::convert::Into::into));
                        self
                    }
                }
            }
            Some("object")
                if property
                    .get("additionalProperties")
                    .and_then(|a| a.get("type"))
                    .and_then(Value::as_str)
                    == Some("string")
                    && property.get("properties").is_none() =>
            {
                quote! {
                    #[doc = #doc]
                    pub fn #method<I, K, V>(mut self, entries: I) -> Self
                    where
                        I: ::core::iter::IntoIterator<Item = (K, V)>,
                        K: ::core::convert::Into<::std::string::String>,
                        V: ::core::convert::Into<::std::string::String>,
                    {
                        self.$body.set_text_map(
                            #key_path,
                            entries.into_iter().map(|(k, v)| (k.into(), v.into())),
                        );
                        self
                    }
                }
            }
            Some("object")
                if property.get("properties").is_none()
                    && property.get("oneOf").is_none()
                    && property.get("additionalProperties").is_none() =>
            {
                quote! {
                    #[doc = #doc]
                    pub fn #method(
                        mut self,
                        value: $crate::serde_json::Map<::std::string::String, $crate::serde_json::Value>,
                    ) -> Self {
                        self.$body.set_value(#key_path, $crate::serde_json::Value::Object(value));
                        self
                    }
                }
            }
            _ if type_name.is_some() || has_ref => quote! {
                #[doc = #doc]
                pub fn #method(mut self, value: impl $crate::serde::Serialize) -> Self {
                    self.$body.set_serialized(#key_path, &value);
                    self
                }
            },
            _ => {
                return Err(Failure::new(format!(
                    "{place}: body property `{name}` has no type; xtask/src/tables.rs cannot \
                     choose a setter for it"
                )));
            }
        };
        setters.push(setter);
        if patch && flag_value(property, "nullable") {
            let clear = format_ident!("clear_{}", snake_case(&name));
            let doc = format!("Clears `{name}` (sends `null`).");
            setters.push(quote! {
                #[doc = #doc]
                pub fn #clear(mut self) -> Self {
                    self.$body.clear(#key_path);
                    self
                }
            });
        }
    }
    Ok((keys, setters))
}

/// The limits of a property in words, for its setter's doc.
fn limits_text(property: &Value) -> String {
    let number = |key: &str| property.get(key).and_then(Value::as_u64);
    let mut parts = Vec::new();
    match (number("minLength"), number("maxLength")) {
        (Some(min), Some(max)) => parts.push(format!("{min} to {max} characters")),
        (None, Some(max)) => parts.push(format!("at most {max} characters")),
        (Some(min), None) => parts.push(format!("at least {min} characters")),
        _ => {}
    }
    match (number("minItems"), number("maxItems")) {
        (Some(min), Some(max)) => parts.push(format!("{min} to {max} items")),
        (None, Some(max)) => parts.push(format!("at most {max} items")),
        (Some(min), None) => parts.push(format!("at least {min} items")),
        _ => {}
    }
    if let Some(max) = number("maxProperties") {
        parts.push(format!("at most {max} entries"));
    }
    if flag_value(property, "uniqueItems") {
        parts.push("distinct".to_owned());
    }
    let values: Vec<String> = sequence(property.get("enum"))
        .iter()
        .filter_map(|v| v.as_str().map(|s| format!("`{s}`")))
        .collect();
    if !values.is_empty() {
        parts.push(format!("one of {}", values.join(", ")));
    }
    if let Some(default) = property.get("default") {
        let json = serde_json::to_value(default)
            .map(|v| v.to_string())
            .unwrap_or_default();
        parts.push(format!("default {json}"));
    }
    parts.join("; ")
}

/// An open enum for a string-enum component: the known values, and `Unknown` for the rest.
fn open_enum(component: &str, rust_name: &str, schema: &Value) -> Result<TokenStream> {
    let values: Vec<String> = sequence(schema.get("enum"))
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    if schema.get("type").and_then(Value::as_str) != Some("string") || values.is_empty() {
        return Err(Failure::new(format!(
            "components.schemas.{component} is in OPEN_TYPES but is neither a string enum nor \
             a oneOf"
        )));
    }
    let name = format_ident!("{}", rust_name);
    let variants: Vec<Ident> = values
        .iter()
        .map(|v| format_ident!("{}", pascal_case(v)))
        .collect();
    let description = description_of(schema);
    let doc = format!(
        "{description} An open enum: a value this crate does not know yet decodes into \
         `Unknown` and round-trips unchanged."
    );
    let schema_text = format!(
        "{description} One of {}, or a value Monime adds later.",
        values.join(", ")
    );
    let json_text = serde_json::json!({
        "type": "string",
        "description": schema_text,
        "examples": values,
    })
    .to_string();
    let schema_impl = json_schema_impl(&name, rust_name, &json_text, "string");
    Ok(quote! {
        #[doc = #doc]
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum #name {
            #(
                #[doc = concat!("`", #values, "`")]
                #variants,
            )*
            /// A value this crate does not know yet, kept verbatim.
            Unknown(::std::string::String),
        }

        impl #name {
            /// Every value the spec lists, in its order.
            pub const KNOWN: &'static [&'static str] = &[#(#values),*];

            /// The value as Monime spells it.
            pub fn as_str(&self) -> &str {
                match self {
                    #( #name::#variants => #values, )*
                    #name::Unknown(other) => other,
                }
            }

            /// Whether the spec lists this value.
            pub fn is_known(&self) -> bool {
                !matches!(self, #name::Unknown(_))
            }
        }

        impl ::std::fmt::Display for #name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::core::convert::AsRef<str> for #name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl ::std::str::FromStr for #name {
            type Err = ::std::convert::Infallible;

            fn from_str(s: &str) -> ::std::result::Result<Self, Self::Err> {
                Ok(#name::from(s))
            }
        }

        impl ::core::convert::From<&str> for #name {
            fn from(s: &str) -> Self {
                match s {
                    #( #values => #name::#variants, )*
                    other => #name::Unknown(other.to_owned()),
                }
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

        #schema_impl
    })
}

/// One branch of an open union: its tag value and its other properties (JSON name, Rust
/// name, whether Monime sets it: `readOnly` values are public, the rest may be secrets).
struct Branch {
    tag: String,
    fields: Vec<(String, Ident, bool)>,
}

/// An open tagged union for a `oneOf` component whose branches are objects told apart by a
/// one-value string property (`type: HS256`). Field values are optional strings; `Debug`
/// prints only what Monime sets (`readOnly`), never what the caller chose (a secret).
fn open_union(
    tables: &Tables<'_>,
    component: &str,
    rust_name: &str,
    schema: &Value,
) -> Result<TokenStream> {
    let place = format!("components.schemas.{component}");
    let mut tag_key: Option<String> = None;
    let mut branches = Vec::new();
    let mut json_branches = Vec::new();
    for branch in sequence(schema.get("oneOf")) {
        let branch = tables.resolve(branch, &place)?;
        let mut tag = None;
        let mut fields = Vec::new();
        let mut json_properties = serde_json::Map::new();
        for (name, property) in mapping(branch.get("properties")) {
            let name = text_key(name)?;
            let property = tables.resolve(property, &place)?;
            match sequence(property.get("enum")) {
                [only] if only.as_str().is_some() => {
                    tag = Some((name, only.as_str().unwrap_or_default().to_owned()));
                }
                _ => {
                    if property.get("type").and_then(Value::as_str) != Some("string") {
                        return Err(Failure::new(format!(
                            "{place}: open unions hold string fields only; `{name}` is not one"
                        )));
                    }
                    let ident = rust_ident(&snake_case(&name));
                    let mut rules = serde_json::Map::new();
                    rules.insert("type".to_owned(), "string".into());
                    for key in ["minLength", "maxLength", "pattern"] {
                        if let Some(value) = property.get(key) {
                            rules.insert(
                                key.to_owned(),
                                serde_json::to_value(value).unwrap_or_default(),
                            );
                        }
                    }
                    json_properties.insert(name.clone(), serde_json::Value::Object(rules));
                    fields.push((name, ident, flag_value(property, "readOnly")));
                }
            }
        }
        let Some((key, value)) = tag else {
            return Err(Failure::new(format!(
                "{place}: every oneOf branch needs a one-value enum property (its tag)"
            )));
        };
        if tag_key.get_or_insert_with(|| key.clone()) != &key {
            return Err(Failure::new(format!(
                "{place}: the oneOf branches are tagged by different properties"
            )));
        }
        json_properties.insert(key.clone(), serde_json::json!({ "const": value }));
        json_branches.push(serde_json::json!({
            "type": "object",
            "required": [key],
            "properties": json_properties,
        }));
        branches.push(Branch { tag: value, fields });
    }
    let tag_key = tag_key.ok_or_else(|| Failure::new(format!("{place}: oneOf is empty")))?;
    let name = format_ident!("{}", rust_name);
    let description = description_of(schema);
    let doc = format!(
        "{description} An open union: a `{tag_key}` this crate does not know yet decodes into \
         `Unknown` with every field kept. `Debug` never prints a value the caller chose."
    );
    let tags: Vec<&str> = branches.iter().map(|b| b.tag.as_str()).collect();
    let variants: Vec<Ident> = branches
        .iter()
        .map(|b| format_ident!("{}", pascal_case(&b.tag)))
        .collect();
    let field_idents: Vec<Vec<&Ident>> = branches
        .iter()
        .map(|b| b.fields.iter().map(|(_, ident, _)| ident).collect())
        .collect();
    let field_names: Vec<Vec<&str>> = branches
        .iter()
        .map(|b| b.fields.iter().map(|(json, _, _)| json.as_str()).collect())
        .collect();
    let debug_values: Vec<Vec<TokenStream>> = branches
        .iter()
        .map(|b| {
            b.fields
                .iter()
                .map(|(_, ident, public)| {
                    if *public {
                        quote! { #ident }
                    } else {
                        quote! { &#ident.as_ref().map(|_| "[redacted]") }
                    }
                })
                .collect()
        })
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
    let json_text = serde_json::json!({
        "description": schema_text,
        "oneOf": json_branches,
    })
    .to_string();
    let schema_impl = json_schema_impl(&name, rust_name, &json_text, "object");
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

fn mapping(value: Option<&Value>) -> Vec<(&Value, &Value)> {
    value
        .and_then(Value::as_mapping)
        .map(|m| m.iter().collect())
        .unwrap_or_default()
}

fn sequence(value: Option<&Value>) -> &[Value] {
    value
        .and_then(Value::as_sequence)
        .map_or(&[], Vec::as_slice)
}

fn text_key(key: &Value) -> Result<String> {
    key.as_str()
        .map(str::to_owned)
        .ok_or_else(|| Failure::new(format!("a spec key is not text: {key:?}")))
}

fn flag(map: &Mapping, key: &str) -> bool {
    map.get(key).and_then(Value::as_bool).unwrap_or(false)
}

fn flag_value(value: &Value, key: &str) -> bool {
    value.get(key).and_then(Value::as_bool).unwrap_or(false)
}

fn count(map: &Mapping, key: &str) -> TokenStream {
    match map.get(key).and_then(Value::as_u64) {
        Some(n) => {
            let n = n as usize;
            quote! { Some(#n) }
        }
        None => quote! { None },
    }
}

fn integer(map: &Mapping, key: &str, place: &str) -> Result<TokenStream> {
    match map.get(key) {
        None => Ok(quote! { None }),
        Some(value) => {
            let n = value
                .as_i64()
                .ok_or_else(|| Failure::new(format!("{place}: `{key}` must be a whole number")))?;
            Ok(quote! { Some(#n) })
        }
    }
}

/// `alertEmails` -> `alert_emails`, `CreateWebhook` -> `create_webhook`, `Monime-Space-Id` ->
/// `monime_space_id`.
pub fn snake_case(text: &str) -> String {
    let mut out = String::new();
    let mut previous_lower = false;
    for ch in text.chars() {
        if ch.is_ascii_uppercase() {
            if previous_lower {
                out.push('_');
            }
            out.push(ch.to_ascii_lowercase());
            previous_lower = false;
        } else if ch.is_ascii_alphanumeric() {
            out.push(ch);
            previous_lower = true;
        } else {
            if !out.ends_with('_') && !out.is_empty() {
                out.push('_');
            }
            previous_lower = false;
        }
    }
    out.trim_end_matches('_').to_owned()
}

fn screaming(text: &str) -> Ident {
    Ident::new(&snake_case(text).to_ascii_uppercase(), Span::call_site())
}

fn pascal_case(text: &str) -> String {
    snake_case(text)
        .split('_')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

fn rust_ident(name: &str) -> Ident {
    if syn::parse_str::<Ident>(name).is_ok() {
        Ident::new(name, Span::call_site())
    } else {
        Ident::new_raw(name, Span::call_site())
    }
}

//! `crates/monime-webhooks/src/generated_setters.rs`: one setter per property of each
//! operation's JSON request body (a `clear_` one too for a nullable property of a PATCH), on
//! the `monime-webhooks` builder named after the operation (`CreateWebhook`). A new property
//! in the spec is a new setter after `cargo xtask generate`, with the spec's limits in its doc.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_yaml::Value;

use crate::failure::Result;
use crate::open_types::{description_of, ident, rust_ident, screaming, snake_case};
use crate::spec::{self, Spec, entries, flag};
use crate::tables::{body_schema, operation_id};

/// The tokens of the setters file for `spec`.
pub fn render_tokens(spec: &Spec) -> Result<TokenStream> {
    let document = &spec.raw;
    let (mut builders, mut impls) = (Vec::new(), Vec::new());
    for (route, method, _, operation) in spec::operations(document) {
        let place = format!("paths.{route}.{method}");
        let Some(schema) = body_schema(document, operation, &place)? else {
            continue;
        };
        let id = operation_id(operation, method, &route)?;
        let schema = spec::resolve(document, schema, &place)?;
        let keys = format_ident!("{}", snake_case(id));
        let mut setters = Vec::new();
        for (name, property) in entries(schema.get("properties")) {
            if flag(property, "readOnly") {
                continue;
            }
            let key = screaming(&name);
            let key = quote!(keys::#keys::#key);
            setters.push(setter(&name, property, &key, &place)?);
            if method == "patch" && flag(property, "nullable") {
                let clear = format_ident!("clear_{}", snake_case(&name));
                let doc = format!("Clears `{name}` (sends `null`).");
                setters.push(quote! {
                    #[doc = #doc]
                    pub fn #clear(mut self) -> Self {
                        self.body.clear(#key);
                        self
                    }
                });
            }
        }
        let builder = ident(id);
        impls.push(quote! { impl #builder<'_> { #(#setters)* } });
        builders.push(builder);
    }
    Ok(quote! {
        use monime_webhooks_api::spec::keys;

        use super::{#(#builders),*};

        #(#impls)*
    })
}

/// The setter of the body property `name`, typed after its schema.
fn setter(name: &str, property: &Value, key: &TokenStream, place: &str) -> Result<TokenStream> {
    let method = rust_ident(&snake_case(name));
    let kind = type_of(Some(property));
    let items = type_of(property.get("items"));
    let values = type_of(property.get("additionalProperties"));
    let has = |keyword| property.get(keyword).is_some();
    // The common shape: one `value` of type `ty`, stored by `call`.
    let simple = |ty: TokenStream, call| (quote!((mut self, value: #ty) -> Self), call);
    let (signature, call) = match kind {
        Some("string") if has("enum") => simple(
            quote!(impl AsRef<str>),
            quote!(set_text(#key, value.as_ref())),
        ),
        Some("string") => simple(quote!(impl Into<String>), quote!(set_text(#key, value))),
        Some("boolean") => simple(quote!(bool), quote!(set_bool(#key, value))),
        Some("integer") => simple(quote!(i64), quote!(set_integer(#key, value))),
        Some("array") if items == Some("string") => (
            quote!(<I, S>(mut self, values: I) -> Self
                where I: IntoIterator<Item = S>, S: Into<String>),
            quote!(set_texts(#key, values.into_iter().map(Into::into))),
        ),
        Some("object") if values == Some("string") && !has("properties") => (
            quote!(<I, K, V>(mut self, entries: I) -> Self
                where I: IntoIterator<Item = (K, V)>, K: Into<String>, V: Into<String>),
            quote!(set_text_map(#key, entries.into_iter().map(|(k, v)| (k.into(), v.into())))),
        ),
        Some("object") if !has("properties") && !has("oneOf") && !has("additionalProperties") => {
            let object = quote!(set_value(#key, serde_json::Value::Object(value)));
            simple(quote!(serde_json::Map<String, serde_json::Value>), object)
        }
        None if !has("$ref") => {
            return Err(fail!(
                "{place}: body property `{name}` has no type; xtask/src/setters.rs cannot \
                 choose a setter for it"
            ));
        }
        _ => simple(
            quote!(impl serde::Serialize),
            quote!(set_serialized(#key, &value)),
        ),
    };
    let description = description_of(property);
    let doc = match limits_text(property) {
        limits if limits.is_empty() => format!("`{name}`: {description}"),
        limits => format!("`{name}`: {description} ({limits})"),
    };
    Ok(quote! {
        #[doc = #doc]
        pub fn #method #signature {
            self.body.#call;
            self
        }
    })
}

fn type_of(schema: Option<&Value>) -> Option<&str> {
    schema?.get("type")?.as_str()
}

/// The limits of a property in words, for its setter's doc.
fn limits_text(property: &Value) -> String {
    let number = |key: &str| property.get(key).and_then(Value::as_u64);
    let range = |min: &str, max: &str, unit: &str| match (number(min), number(max)) {
        (Some(min), Some(max)) => Some(format!("{min} to {max} {unit}")),
        (None, Some(max)) => Some(format!("at most {max} {unit}")),
        (Some(min), None) => Some(format!("at least {min} {unit}")),
        (None, None) => None,
    };
    let mut parts: Vec<String> = [
        range("minLength", "maxLength", "characters"),
        range("minItems", "maxItems", "items"),
        range("minProperties", "maxProperties", "entries"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if flag(property, "uniqueItems") {
        parts.push("distinct".to_owned());
    }
    let values = spec::strings(property.get("enum"));
    if !values.is_empty() {
        parts.push(format!("one of `{}`", values.join("`, `")));
    }
    if let Some(default) = property.get("default") {
        parts.push(format!("default {}", spec::json_text(default)));
    }
    parts.join("; ")
}

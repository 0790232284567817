//! Carries the spec's value constraints into the generated types' JSON Schemas. progenitor's
//! types enforce lengths in their `FromStr`, but the derived `schemars::JsonSchema` leaves
//! them out (and says nothing of item or key counts), so schemas exported from the types
//! would accept what the API refuses. This pass adds `#[schemars(extend(...))]` to each field
//! of a generated struct named after a spec schema, with the keywords the spec gives that
//! property, read from the spec itself.
//!
//! Then every `JsonSchema` derive and `#[schemars(...)]` attribute goes behind the generated
//! crate's `schemars` feature: exporting schemas is for those who ask for it, and the derive
//! costs every user's build otherwise.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use serde_yaml::Value;
use syn::visit_mut::VisitMut;

use crate::failure::{Failure, Result};
use crate::spec::{self, Spec};

/// The JSON Schema keywords that constrain a value.
const KEYWORDS: &str = "minLength maxLength pattern minItems maxItems uniqueItems \
     minProperties maxProperties minimum maximum multipleOf";

/// progenitor's `tokens` with the spec's constraints added to the fields of its structs.
pub fn apply(tokens: TokenStream, spec: &Spec) -> Result<TokenStream> {
    let mut file: syn::File = syn::parse2(tokens)
        .map_err(|e| Failure::new(format!("progenitor produced code syn cannot parse: {e}")))?;
    Pass { spec: &spec.raw }.visit_file_mut(&mut file);
    BehindFeature.visit_file_mut(&mut file);
    Ok(file.into_token_stream())
}

/// The Cargo feature that turns on the generated types' JSON Schemas.
const FEATURE: &str = "schemars";

/// Puts `JsonSchema` derives and `#[schemars(...)]` attributes behind [`FEATURE`].
struct BehindFeature;

impl BehindFeature {
    fn item_attributes(attrs: &mut Vec<syn::Attribute>) {
        let mut derived = false;
        for attribute in attrs.iter_mut().filter(|a| a.path().is_ident("derive")) {
            let Ok(paths) = attribute.parse_args_with(
                syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated,
            ) else {
                continue;
            };
            let (schema, kept): (Vec<_>, Vec<_>) = paths.into_iter().partition(|path| {
                path.segments
                    .last()
                    .is_some_and(|segment| segment.ident == "JsonSchema")
            });
            if !schema.is_empty() {
                derived = true;
                *attribute = syn::parse_quote!(#[derive(#(#kept),*)]);
            }
        }
        if derived {
            attrs.push(syn::parse_quote!(
                #[cfg_attr(feature = #FEATURE, derive(schemars::JsonSchema))]
            ));
        }
    }
}

impl VisitMut for BehindFeature {
    fn visit_item_struct_mut(&mut self, item: &mut syn::ItemStruct) {
        Self::item_attributes(&mut item.attrs);
        syn::visit_mut::visit_item_struct_mut(self, item);
    }

    fn visit_item_enum_mut(&mut self, item: &mut syn::ItemEnum) {
        Self::item_attributes(&mut item.attrs);
        syn::visit_mut::visit_item_enum_mut(self, item);
    }

    fn visit_attribute_mut(&mut self, attribute: &mut syn::Attribute) {
        if attribute.path().is_ident("schemars")
            && let syn::Meta::List(list) = &attribute.meta
        {
            let inner = &list.tokens;
            *attribute = syn::parse_quote!(#[cfg_attr(feature = #FEATURE, schemars(#inner))]);
        }
    }
}

struct Pass<'a> {
    spec: &'a Value,
}

impl VisitMut for Pass<'_> {
    fn visit_item_struct_mut(&mut self, item: &mut syn::ItemStruct) {
        let schema = spec::component(self.spec, &item.ident.to_string());
        let properties = schema.and_then(|s| s.get("properties"));
        // The builders share the types' names but derive no schema.
        if let (true, Some(properties), syn::Fields::Named(fields)) = (
            derives_json_schema(item),
            properties.and_then(Value::as_mapping),
            &mut item.fields,
        ) {
            for field in &mut fields.named {
                let Some(name) = wire_name(field) else {
                    continue;
                };
                let property = properties.get(name.as_str());
                let property = property.and_then(|p| spec::resolve(self.spec, p, "").ok());
                if let Some(attribute) = property.and_then(extend_attribute) {
                    field.attrs.push(attribute);
                }
            }
        }
        syn::visit_mut::visit_item_struct_mut(self, item);
    }
}

fn derives_json_schema(item: &syn::ItemStruct) -> bool {
    item.attrs
        .iter()
        .filter(|a| a.path().is_ident("derive"))
        .any(|a| a.to_token_stream().to_string().contains("JsonSchema"))
}

/// The property name on the wire: `#[serde(rename = "...")]`, else the field's name.
fn wire_name(field: &syn::Field) -> Option<String> {
    let mut renamed = None;
    for attribute in field.attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let _ = attribute.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                renamed = Some(meta.value()?.parse::<syn::LitStr>()?.value());
            } else if meta.input.peek(syn::Token![=]) {
                // Skip the value of every other `key = value`.
                meta.value()?.parse::<syn::Expr>()?;
            }
            Ok(())
        });
    }
    renamed.or_else(|| field.ident.as_ref().map(ToString::to_string))
}

/// `#[schemars(extend("maxLength" = 100, ...))]` for the constraints of `property`, if any.
fn extend_attribute(property: &Value) -> Option<syn::Attribute> {
    let pairs: Vec<proc_macro2::TokenStream> = KEYWORDS
        .split_whitespace()
        .filter_map(|keyword| {
            let value = property.get(keyword)?;
            let value = literal(value)?;
            Some(quote!(#keyword = #value))
        })
        .collect();
    if pairs.is_empty() {
        return None;
    }
    Some(syn::parse_quote!(#[schemars(extend(#(#pairs),*))]))
}

fn literal(value: &Value) -> Option<proc_macro2::TokenStream> {
    let span = proc_macro2::Span::call_site();
    match value {
        Value::Bool(flag) => Some(quote!(#flag)),
        Value::String(text) => Some(quote!(#text)),
        Value::Number(number) => Some(match number.as_u64() {
            Some(integer) => syn::LitInt::new(&integer.to_string(), span).to_token_stream(),
            None => syn::LitFloat::new(&format!("{:?}", number.as_f64()?), span).to_token_stream(),
        }),
        _ => None,
    }
}

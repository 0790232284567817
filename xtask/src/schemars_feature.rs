//! The one change made to progenitor's output: every `JsonSchema` derive and `#[schemars(...)]`
//! attribute goes behind the generated crate's `schemars` feature. Exporting schemas is for
//! those who ask for it, and the derive costs every user's build otherwise.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::visit_mut::VisitMut;

use crate::failure::Result;

/// The Cargo feature that turns on the generated types' JSON Schemas.
const FEATURE: &str = "schemars";

/// progenitor's `tokens` with the schemars derives and attributes behind [`FEATURE`].
pub fn apply(tokens: TokenStream) -> Result<TokenStream> {
    let mut file: syn::File =
        syn::parse2(tokens).map_err(|e| fail!("progenitor produced code syn cannot parse: {e}"))?;
    BehindFeature.visit_file_mut(&mut file);
    Ok(file.into_token_stream())
}

struct BehindFeature;

impl VisitMut for BehindFeature {
    fn visit_item_mut(&mut self, item: &mut syn::Item) {
        if let syn::Item::Struct(syn::ItemStruct { attrs, .. })
        | syn::Item::Enum(syn::ItemEnum { attrs, .. }) = item
        {
            item_attributes(attrs);
        }
        syn::visit_mut::visit_item_mut(self, item);
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

/// A struct's or enum's attributes with `JsonSchema` moved out of its derive, behind the feature.
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

//! Rust names for spec names: modules and methods in snake case, statics in screaming case,
//! types and variants in Pascal case.

use std::collections::BTreeMap;

use proc_macro2::{Ident, Span};

use crate::failure::Result;

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

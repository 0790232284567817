//! Makes each operation's `send` append its path to the client's parsed base URL instead of
//! formatting the whole URL as text for reqwest to parse again on every call (scheme and host
//! included; see BENCHMARKS.md).
//!
//! progenitor 0.15 writes `let url = format!("{}/v1/webhooks/{}", client.baseurl, ..);`. The
//! pass turns it into
//! `let url = crate::base_url::join(client, format_args!("/v1/webhooks/{}", ..)).map_err(Error::InvalidRequest)?;`
//! (`crates/monime-webhooks-api/src/base_url.rs`, which gives the URL parsing the whole text
//! would give). The path template and its arguments stay progenitor's, as the spec made them.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::punctuated::Punctuated;

use crate::failure::Result;

/// Rewrites the URL statement of every operation's `send`. Fails, naming the builders, unless
/// each has exactly one in the shape progenitor 0.15 writes, so a progenitor release that
/// builds URLs differently is noticed rather than left half-rewritten.
pub fn apply(tokens: TokenStream) -> Result<TokenStream> {
    crate::sends::edit_each(
        tokens,
        "the statement `let url = format!(\"{}/...\", client.baseurl, ..);`",
        "xtask/src/base_url.rs",
        |stmts| {
            let mut rewritten = 0;
            for stmt in stmts {
                if let Some(joined) = joined_url(stmt) {
                    *stmt = joined;
                    rewritten += 1;
                }
            }
            rewritten
        },
    )
}

/// `let url = format!("{}<path>", client.baseurl, args..);` as the statement joining `<path>`
/// to the parsed base URL; `None` for any other statement.
fn joined_url(stmt: &syn::Stmt) -> Option<syn::Stmt> {
    let syn::Stmt::Local(local) = stmt else {
        return None;
    };
    let syn::Pat::Ident(name) = &local.pat else {
        return None;
    };
    let syn::Expr::Macro(format) = &*local.init.as_ref()?.expr else {
        return None;
    };
    if name.ident != "url" || !format.mac.path.is_ident("format") {
        return None;
    }
    let args = format
        .mac
        .parse_body_with(Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated)
        .ok()?;
    let mut args = args.into_iter();
    let syn::Expr::Lit(syn::ExprLit {
        lit: syn::Lit::Str(template),
        ..
    }) = args.next()?
    else {
        return None;
    };
    // `join` appends the path to the base URL's own path, which is what the text did only
    // for a path starting with `/` (another could run on into the host).
    let path = template.value().strip_prefix("{}")?.to_owned();
    if !path.starts_with('/') {
        return None;
    }
    let base = args.next()?;
    if base.to_token_stream().to_string() != quote!(client.baseurl).to_string() {
        return None;
    }
    let rest: Vec<syn::Expr> = args.collect();
    Some(syn::parse_quote! {
        let url = crate::base_url::join(client, format_args!(#path #(, #rest)*))
            .map_err(Error::InvalidRequest)?;
    })
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::apply;

    #[test]
    fn joins_each_sends_path_to_the_base_url() {
        let tokens = quote! {
            impl A {
                pub async fn send(self) {
                    let url = format!("{}/v1/webhooks/{}", client.baseurl, encode_path(&id.to_string()),);
                    let other = format!("{}/x", client.baseurl);
                }
            }
            impl B {
                pub async fn send(self) {
                    let url = format!("{}/v1/webhooks", client.baseurl,);
                }
            }
        };
        let text = apply(tokens).unwrap().to_string();
        let expected_a = quote! {
            let url = crate::base_url::join(client, format_args!("/v1/webhooks/{}", encode_path(&id.to_string())))
                .map_err(Error::InvalidRequest)?;
        };
        let expected_b = quote! {
            let url = crate::base_url::join(client, format_args!("/v1/webhooks"))
                .map_err(Error::InvalidRequest)?;
        };
        assert!(text.contains(&expected_a.to_string()), "{text}");
        assert!(text.contains(&expected_b.to_string()), "{text}");
        assert!(
            text.contains("let other = format !"),
            "only `url` is rewritten: {text}"
        );
    }

    #[test]
    fn fails_naming_the_builders_it_cannot_rewrite() {
        let tokens = quote! {
            impl A {
                pub async fn send(self) {
                    let url = format!("{}/a", client.baseurl);
                }
            }
            impl B {
                pub async fn send(self) {
                    let url = format!("{}/b/{}", base, id);
                }
            }
            impl C {
                pub async fn send(self) {
                    let url = format!("/c{}", client.baseurl);
                }
            }
            impl D {
                pub async fn send(self) {
                    let url = format!("{}.d/{}", client.baseurl, id);
                }
            }
        };
        let failure = apply(tokens).unwrap_err().to_string();
        assert!(failure.contains("B (0)"), "{failure}");
        assert!(failure.contains("C (0)"), "{failure}");
        assert!(failure.contains("D (0)"), "{failure}");
        assert!(!failure.contains("A ("), "{failure}");
        assert!(failure.contains("xtask/src/base_url.rs"), "{failure}");
    }
}

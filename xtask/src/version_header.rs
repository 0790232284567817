//! Drops the `api-version` header progenitor stamps on every request (with the spec's
//! `info.version`; progenitor 0.15 has no setting for it). Monime reads its release from
//! `Monime-Version`, a header parameter of the spec; sending a second, unread header on every
//! call only costs time, and removing it again in a hook costs more.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::visit_mut::VisitMut;

use crate::failure::{Failure, Result};

/// The header progenitor adds.
const HEADER: &str = "api-version";

/// Removes the statement adding [`HEADER`] from every operation's `send`. Fails when it is not
/// found exactly once per operation (a progenitor release that adds it differently), so the
/// header never comes back unnoticed.
pub fn apply(tokens: TokenStream) -> Result<TokenStream> {
    let mut file: syn::File = syn::parse2(tokens)
        .map_err(|e| Failure::new(format!("progenitor produced code syn cannot parse: {e}")))?;
    let mut pass = Pass::default();
    pass.visit_file_mut(&mut file);
    if pass.sends == 0 || pass.removed != pass.sends {
        return Err(Failure::new(format!(
            "progenitor's `{HEADER}` header was found in {} of {} operations' `send`; \
             update xtask/src/version_header.rs for this progenitor release",
            pass.removed, pass.sends
        )));
    }
    Ok(file.into_token_stream())
}

#[derive(Default)]
struct Pass {
    sends: usize,
    removed: usize,
}

impl VisitMut for Pass {
    fn visit_impl_item_fn_mut(&mut self, function: &mut syn::ImplItemFn) {
        if function.sig.ident == "send" && function.sig.asyncness.is_some() {
            self.sends += 1;
            let before = function.block.stmts.len();
            function.block.stmts.retain(|stmt| !adds_header(stmt));
            self.removed += before - function.block.stmts.len();
        }
        syn::visit_mut::visit_impl_item_fn_mut(self, function);
    }
}

/// `header_map.append(HeaderName::from_static("api-version"), ...);`
fn adds_header(stmt: &syn::Stmt) -> bool {
    let syn::Stmt::Expr(syn::Expr::MethodCall(call), Some(_)) = stmt else {
        return false;
    };
    call.method == "append"
        && call.args.first().is_some_and(|name| {
            let syn::Expr::Call(from_static) = name else {
                return false;
            };
            matches!(
                from_static.args.first(),
                Some(syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(text), .. }))
                    if text.value() == HEADER
            )
        })
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::apply;

    #[test]
    fn removes_the_header_from_each_send_and_nothing_else() {
        let tokens = quote! {
            impl A {
                pub async fn send(self) {
                    let mut header_map = HeaderMap::with_capacity(2usize);
                    header_map.append(HeaderName::from_static("api-version"), HeaderValue::from_static(V));
                    header_map.append("Monime-Space-Id", space.try_into()?);
                }
            }
        };
        let text = apply(tokens).unwrap().to_string();
        assert!(!text.contains("api-version"), "{text}");
        assert!(text.contains("Monime-Space-Id"), "{text}");
    }

    #[test]
    fn fails_when_an_operation_has_no_such_statement() {
        let tokens = quote! {
            impl A {
                pub async fn send(self) {
                    header_map.append(HeaderName::from_static("api-version"), v);
                }
            }
            impl B {
                pub async fn send(self) {
                    request.header("api-version", v);
                }
            }
        };
        let failure = apply(tokens).unwrap_err().to_string();
        assert!(failure.contains("1 of 2"), "{failure}");
        assert!(failure.contains("xtask/src/version_header.rs"), "{failure}");
    }
}

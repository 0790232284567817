//! Drops the `api-version` header progenitor stamps on every request (with the spec's
//! `info.version`; progenitor 0.15 has no setting for it). Monime reads its release from
//! `Monime-Version`, a header parameter of the spec; sending a second, unread header on every
//! call only costs time, and removing it again in a hook costs more.

use proc_macro2::TokenStream;

use crate::failure::Result;

/// The header progenitor adds.
const HEADER: &str = "api-version";

/// Removes the statement adding [`HEADER`] from every operation's `send`. Fails, naming the
/// builders, when it is not found exactly once in each (a progenitor release that adds it
/// differently), so the header never comes back unnoticed.
pub fn apply(tokens: TokenStream) -> Result<TokenStream> {
    crate::sends::edit_each(
        tokens,
        &format!("progenitor's `{HEADER}` header"),
        "xtask/src/version_header.rs",
        |stmts| {
            let before = stmts.len();
            stmts.retain(|stmt| !adds_header(stmt));
            before - stmts.len()
        },
    )
}

/// `header_map.append(HeaderName::from_static("api-version"), ...);`
fn adds_header(stmt: &syn::Stmt) -> bool {
    let syn::Stmt::Expr(syn::Expr::MethodCall(call), Some(_)) = stmt else {
        return false;
    };
    let on_header_map =
        matches!(&*call.receiver, syn::Expr::Path(path) if path.path.is_ident("header_map"));
    on_header_map
        && call.method == "append"
        && call.args.first().is_some_and(|name| {
            let syn::Expr::Call(from_static) = name else {
                return false;
            };
            let is_from_static = matches!(
                &*from_static.func,
                syn::Expr::Path(path)
                    if path.path.segments.last().is_some_and(|last| last.ident == "from_static")
            );
            is_from_static
                && matches!(
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
    fn fails_naming_a_builder_with_two_such_statements() {
        let tokens = quote! {
            impl A {
                pub async fn send(self) {
                    header_map.append(HeaderName::from_static("api-version"), v);
                    header_map.append(HeaderName::from_static("api-version"), v);
                }
            }
            impl B {
                pub async fn send(self) {}
            }
        };
        let failure = apply(tokens).unwrap_err().to_string();
        assert!(failure.contains("A (2)"), "{failure}");
        assert!(failure.contains("B (0)"), "{failure}");
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
        assert!(failure.contains("B (0)"), "{failure}");
        assert!(!failure.contains("A ("), "{failure}");
        assert!(failure.contains("xtask/src/version_header.rs"), "{failure}");
    }
}

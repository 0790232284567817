//! Makes each operation's `send` read its answer with `crate::response::read`
//! (`crates/monime-webhooks-api/src/response.rs`) instead of progenitor's
//! `ResponseValue::from_response`: the same reading and decoding, with the headers moved
//! rather than copied and the reading's state boxed out of the operation's future (see that
//! module and BENCHMARKS.md).

use proc_macro2::TokenStream;
use syn::visit_mut::VisitMut;

use crate::failure::Result;

/// Replaces every `ResponseValue::from_response(..)` in each operation's `send`. Fails, naming
/// the builders, when a `send` has none to replace (every operation of the spec answers with
/// JSON) or keeps one in a shape it does not know (a progenitor release that reads answers
/// differently), so no operation is left half-rewritten.
pub fn apply(tokens: TokenStream) -> Result<TokenStream> {
    crate::sends::edit_each(
        tokens,
        "`ResponseValue::from_response(response)`",
        "xtask/src/response_body.rs",
        |stmts| {
            let mut reads = Reads {
                replaced: 0,
                left: 0,
            };
            for stmt in stmts.iter_mut() {
                reads.visit_stmt_mut(stmt);
            }
            usize::from(reads.replaced > 0 && reads.left == 0)
        },
    )
}

struct Reads {
    replaced: usize,
    /// Calls of a `from_response` in another shape (a turbofish, more arguments).
    left: usize,
}

impl VisitMut for Reads {
    fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
        if let syn::Expr::Call(call) = expr
            && let syn::Expr::Path(function) = &*call.func
            && ends_in_from_response(&function.path)
        {
            let segments = &function.path.segments;
            let on_response_value = segments.len() >= 2
                && segments[segments.len() - 2].ident == "ResponseValue"
                && segments.iter().all(|segment| segment.arguments.is_none());
            for arg in &mut call.args {
                self.visit_expr_mut(arg);
            }
            if on_response_value && call.args.len() == 1 {
                let response = call.args[0].clone();
                *expr = syn::parse_quote!(crate::response::read(#response));
                self.replaced += 1;
            } else {
                self.left += 1;
            }
        } else if let syn::Expr::Path(path) = expr
            && ends_in_from_response(&path.path)
        {
            // Named but not called (`.map(ResponseValue::from_response)`).
            self.left += 1;
        } else {
            syn::visit_mut::visit_expr_mut(self, expr);
        }
    }
}

fn ends_in_from_response(path: &syn::Path) -> bool {
    path.segments
        .last()
        .is_some_and(|last| last.ident == "from_response")
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::apply;

    #[test]
    fn replaces_each_read_and_fails_where_there_is_none() {
        let tokens = quote! {
            impl A {
                pub async fn send(self) {
                    match status {
                        200u16 => ResponseValue::from_response(response).await,
                        400u16 => Err(Error::ErrorResponse(ResponseValue::from_response(response).await?)),
                        _ => Err(Error::UnexpectedResponse(response)),
                    }
                }
            }
        };
        let text = apply(tokens).unwrap().to_string();
        assert!(!text.contains("from_response"), "{text}");
        assert_eq!(
            text.matches("crate :: response :: read (response)").count(),
            2,
            "{text}"
        );

        let tokens = quote! {
            impl A {
                pub async fn send(self) { ResponseValue::from_response(response).await }
            }
            impl B {
                pub async fn send(self) { ResponseValue::upgrade(response).await }
            }
            impl C {
                pub async fn send(self) {
                    match status {
                        200u16 => progenitor_client::ResponseValue::from_response(response).await,
                        _ => ResponseValue::<E>::from_response(response).await,
                    }
                }
            }
            impl D {
                pub async fn send(self) {
                    match status {
                        200u16 => ResponseValue::from_response(response).await,
                        _ => answer.map(ResponseValue::from_response),
                    }
                }
            }
        };
        let failure = apply(tokens).unwrap_err().to_string();
        assert!(failure.contains("B (0)"), "{failure}");
        assert!(failure.contains("C (0)"), "{failure}");
        assert!(failure.contains("D (0)"), "{failure}");
        assert!(!failure.contains("A ("), "{failure}");
        assert!(failure.contains("xtask/src/response_body.rs"), "{failure}");
    }
}

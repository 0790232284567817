//! Makes each operation's `send` write its header parameters into the request it built,
//! instead of into a second header map that reqwest then merges into the request.
//!
//! progenitor 0.15 writes
//!
//! ```text
//! let mut header_map = HeaderMap::with_capacity(3usize);
//! header_map.append("Monime-Space-Id", monime_space_id.to_string().try_into()?);
//! if let Some(value) = monime_version { header_map.append("Monime-Version", ..); }
//! let mut request = client.client.get(url).header(ACCEPT, ..).headers(header_map).build()?;
//! ```
//!
//! The pass drops the map and `.headers(header_map)`, and after the request statement adds
//! `{ let header_map = request.headers_mut(); header_map.insert(NAME, ..); .. }`, each name an
//! inline `const` `HeaderName` (so a name the spec gets wrong fails the build, not a call).
//! `insert` is what merging the map did (`.headers` replaces a header of the same name). Why:
//! the second map, its merge and the parsing of each name as text on every call were about 100
//! of the 700 cache lines of code and data a `get` touched beyond a bare reqwest call, and on
//! a busy machine a call's time follows those lines (BENCHMARKS.md). Values, names and order
//! stay progenitor's, as the spec made them.

use proc_macro2::TokenStream;
use syn::visit::Visit;
use syn::visit_mut::VisitMut;

use crate::failure::{Failure, Result};

/// The variable progenitor builds the header parameters in.
const MAP: &str = "header_map";

/// Rewrites the header parameters of every operation's `send`. Fails, naming the builders,
/// unless each has exactly one header map in the shape progenitor 0.15 writes.
pub fn apply(tokens: TokenStream) -> Result<TokenStream> {
    let mut invalid = Vec::new();
    let rewritten = crate::sends::edit_each(
        tokens,
        "the header map `let mut header_map = HeaderMap::with_capacity(..)` and its \
         `.headers(header_map)`",
        "xtask/src/header_params.rs",
        |stmts| usize::from(rewrite(stmts, &mut invalid).is_some()),
    );
    if !invalid.is_empty() {
        invalid.sort();
        invalid.dedup();
        return Err(Failure::new(format!(
            "header parameters the generated code cannot send: {}; header names are RFC 9110 \
             tokens, one parameter each; fix them in the spec",
            invalid.join(", ")
        )));
    }
    rewritten
}

/// Whether `name` is an HTTP field name (an RFC 9110 token), which `HeaderName::from_static`
/// takes in lower case.
fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte))
}

/// Rewrites one `send`'s statements; `None`, leaving them as they were, for any other shape.
fn rewrite(stmts: &mut Vec<syn::Stmt>, invalid: &mut Vec<String>) -> Option<()> {
    let created = stmts.iter().position(creates_map)?;
    let built = stmts.iter().position(|stmt| merge_of(stmt).is_some())?;
    // Only the writes stand between the map and the request, as progenitor writes them: moving
    // them past anything else could change what runs first.
    if built < created || !stmts[created + 1..built].iter().all(is_write) {
        return None;
    }
    let mut request = stmts[built].clone();
    drop_merge(&mut request)?;
    let mut names = ConstNames {
        failed: false,
        seen: Vec::new(),
        invalid,
    };
    let mut writes = stmts[created + 1..built].to_vec();
    for write in &mut writes {
        names.visit_stmt_mut(write);
    }
    if names.failed || mentions_map(&request) {
        return None;
    }
    let map = syn::Ident::new(MAP, proc_macro2::Span::call_site());
    let block: syn::Stmt = syn::parse_quote! {
        {
            let #map = request.headers_mut();
            #(#writes)*
        }
    };
    let mut out = Vec::with_capacity(stmts.len());
    for (at, stmt) in stmts.iter().enumerate() {
        if at == built {
            out.push(request.clone());
            out.push(block.clone());
        } else if created <= at && at < built {
            // The map's creation and the writes, now in the block.
        } else if mentions_map(stmt) {
            // Any other use of the map is a shape this pass does not know.
            return None;
        } else {
            out.push(stmt.clone());
        }
    }
    *stmts = out;
    Some(())
}

/// `let mut header_map = ..HeaderMap::with_capacity(..);`
fn creates_map(stmt: &syn::Stmt) -> bool {
    let syn::Stmt::Local(local) = stmt else {
        return false;
    };
    let syn::Pat::Ident(name) = &local.pat else {
        return false;
    };
    let Some(init) = &local.init else {
        return false;
    };
    let syn::Expr::Call(call) = &*init.expr else {
        return false;
    };
    let with_capacity = matches!(
        &*call.func,
        syn::Expr::Path(path) if path.path.segments.iter().map(|s| s.ident.to_string())
            .collect::<Vec<_>>().ends_with(&["HeaderMap".to_owned(), "with_capacity".to_owned()])
    );
    name.ident == MAP && name.mutability.is_some() && with_capacity
}

/// In `let mut request = <chain>.headers(header_map).build()?;`, the `.headers(header_map)`
/// call. It must come last before `.build()`: a header the chain added after it would have
/// been appended to the parameters' values rather than replaced by them.
fn merge_of(stmt: &syn::Stmt) -> Option<&syn::ExprMethodCall> {
    let syn::Stmt::Local(local) = stmt else {
        return None;
    };
    let syn::Pat::Ident(name) = &local.pat else {
        return None;
    };
    if name.ident != "request" {
        return None;
    }
    let syn::Expr::Try(tried) = &*local.init.as_ref()?.expr else {
        return None;
    };
    let syn::Expr::MethodCall(build) = &*tried.expr else {
        return None;
    };
    if build.method != "build" || !build.args.is_empty() {
        return None;
    }
    let syn::Expr::MethodCall(merge) = &*build.receiver else {
        return None;
    };
    let is_merge = merge.method == "headers"
        && merge.args.len() == 1
        && matches!(&merge.args[0], syn::Expr::Path(path) if path.path.is_ident(MAP));
    is_merge.then_some(merge)
}

/// Removes `.headers(header_map)` from the request statement ([`merge_of`]).
fn drop_merge(stmt: &mut syn::Stmt) -> Option<()> {
    let receiver = (*merge_of(stmt)?.receiver).clone();
    let syn::Stmt::Local(local) = stmt else {
        return None;
    };
    let syn::Expr::Try(tried) = &mut *local.init.as_mut()?.expr else {
        return None;
    };
    let syn::Expr::MethodCall(build) = &mut *tried.expr else {
        return None;
    };
    *build.receiver = receiver;
    Some(())
}

/// The only statements moved into the request's block, the two shapes progenitor writes:
/// `header_map.append("Name", value);` and `if let Some(value) = x { <such appends> }`.
/// Anything else naming the map (a `let`, an `else`, another method) is a shape this pass does
/// not know, and moving it could change what it means.
fn is_write(stmt: &syn::Stmt) -> bool {
    match stmt {
        syn::Stmt::Expr(syn::Expr::MethodCall(call), Some(_)) => is_append(call),
        syn::Stmt::Expr(syn::Expr::If(branch), _) => {
            matches!(&*branch.cond, syn::Expr::Let(_))
                && branch.else_branch.is_none()
                && !branch.then_branch.stmts.is_empty()
                && branch.then_branch.stmts.iter().all(|inner| {
                    matches!(inner, syn::Stmt::Expr(syn::Expr::MethodCall(call), Some(_))
                        if is_append(call))
                })
        }
        _ => false,
    }
}

/// `header_map.append("Name", value)`.
fn is_append(call: &syn::ExprMethodCall) -> bool {
    matches!(&*call.receiver, syn::Expr::Path(path) if path.path.is_ident(MAP))
        && call.method == "append"
        && call.args.len() == 2
        && matches!(
            &call.args[0],
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(_),
                ..
            })
        )
}

/// Whether the statement names the header map anywhere.
fn mentions_map(stmt: &syn::Stmt) -> bool {
    struct Mentions(bool);
    impl Visit<'_> for Mentions {
        fn visit_ident(&mut self, ident: &proc_macro2::Ident) {
            self.0 |= ident == MAP;
        }
    }
    let mut mentions = Mentions(false);
    mentions.visit_stmt(stmt);
    mentions.0
}

/// Turns `header_map.append("Name", value)` into `header_map.insert(<const NAME>, value)`;
/// `failed` when the map is used any other way. Names that are not header names (a
/// `from_static` of one would fail the build without naming the parameter) and names given
/// twice (`insert` would keep one value where `append` sent both) go in `invalid`.
struct ConstNames<'a> {
    failed: bool,
    /// The names written so far in this `send`, in lower case.
    seen: Vec<String>,
    invalid: &'a mut Vec<String>,
}

impl VisitMut for ConstNames<'_> {
    fn visit_expr_method_call_mut(&mut self, call: &mut syn::ExprMethodCall) {
        let on_map = matches!(&*call.receiver, syn::Expr::Path(path) if path.path.is_ident(MAP));
        if on_map {
            match (call.method == "append", call.args.first()) {
                (
                    true,
                    Some(syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(name),
                        ..
                    })),
                ) if call.args.len() == 2 => {
                    // Header names are case-insensitive; `from_static` takes the lower case
                    // form, which is what parsing the text gave.
                    let lower = name.value().to_ascii_lowercase();
                    if !is_header_name(&lower) {
                        self.invalid
                            .push(format!("`{}` (not an HTTP header name)", name.value()));
                    } else if self.seen.contains(&lower) {
                        self.invalid
                            .push(format!("`{}` (the same header twice)", name.value()));
                    }
                    self.seen.push(lower.clone());
                    call.method = syn::Ident::new("insert", call.method.span());
                    call.args[0] = syn::parse_quote! {
                        const { ::reqwest::header::HeaderName::from_static(#lower) }
                    };
                }
                _ => self.failed = true,
            }
        }
        syn::visit_mut::visit_expr_method_call_mut(self, call);
    }
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::apply;

    fn squeezed(text: &str) -> String {
        text.split_whitespace().collect()
    }

    #[test]
    fn writes_each_parameter_into_the_built_request() {
        let tokens = quote! {
            impl A {
                pub async fn send(self) {
                    let id = id.map_err(Error::InvalidRequest)?;
                    let body = body_of(id);
                    let mut header_map = ::reqwest::header::HeaderMap::with_capacity(3usize);
                    header_map.append("Idempotency-Key", key.to_string().try_into()?);
                    if let Some(value) = version {
                        header_map.append("Monime-Version", value.to_string().try_into()?);
                    }
                    #[allow(unused_mut)]
                    let mut request = client.client.post(url).json(&body).headers(header_map).build()?;
                    client.pre(&mut request, &info).await?;
                }
            }
        };
        let text = squeezed(&apply(tokens).unwrap().to_string());
        let expected = squeezed(
            &quote! {
                let id = id.map_err(Error::InvalidRequest)?;
                let body = body_of(id);
                #[allow(unused_mut)]
                let mut request = client.client.post(url).json(&body).build()?;
                {
                    let header_map = request.headers_mut();
                    header_map.insert(
                        const { ::reqwest::header::HeaderName::from_static("idempotency-key") },
                        key.to_string().try_into()?
                    );
                    if let Some(value) = version {
                        header_map.insert(
                            const { ::reqwest::header::HeaderName::from_static("monime-version") },
                            value.to_string().try_into()?
                        );
                    }
                }
                client.pre(&mut request, &info).await?;
            }
            .to_string(),
        );
        assert!(text.contains(&expected), "{text}");
    }

    #[test]
    fn fails_naming_a_parameter_it_cannot_send() {
        let tokens = quote! {
            impl A {
                pub async fn send(self) {
                    let mut header_map = ::reqwest::header::HeaderMap::with_capacity(2usize);
                    header_map.append("Monime Space", v);
                    header_map.append("Idempotency-Key", k);
                    header_map.append("idempotency-key", k);
                    let mut request = client.client.get(url).headers(header_map).build()?;
                }
            }
        };
        let failure = apply(tokens).unwrap_err().to_string();
        assert!(
            failure.contains("`Monime Space` (not an HTTP header name)"),
            "{failure}"
        );
        assert!(
            failure.contains("`idempotency-key` (the same header twice)"),
            "{failure}"
        );
        assert!(!failure.contains("`Idempotency-Key`"), "{failure}");
        assert!(failure.contains("fix them in the spec"), "{failure}");
    }

    #[test]
    fn fails_naming_the_builders_it_cannot_rewrite() {
        let tokens = quote! {
            impl A {
                pub async fn send(self) {
                    let mut header_map = ::reqwest::header::HeaderMap::with_capacity(1usize);
                    header_map.append("X", v);
                    let mut request = client.client.get(url).headers(header_map).build()?;
                }
            }
            impl B {
                pub async fn send(self) {
                    let mut request = client.client.get(url).build()?;
                }
            }
            impl C {
                pub async fn send(self) {
                    let mut header_map = ::reqwest::header::HeaderMap::with_capacity(1usize);
                    header_map.extend(other);
                    let mut request = client.client.get(url).headers(header_map).build()?;
                }
            }
            impl D {
                pub async fn send(self) {
                    let mut header_map = ::reqwest::header::HeaderMap::with_capacity(1usize);
                    header_map.append("X", v);
                    let mut request = client.client.get(url).headers(header_map).build()?;
                    log(&header_map);
                }
            }
            impl E {
                pub async fn send(self) {
                    let mut header_map = ::reqwest::header::HeaderMap::with_capacity(1usize);
                    let mut header_map = ::reqwest::header::HeaderMap::with_capacity(1usize);
                    header_map.append("X", v);
                    let mut request = client.client.get(url).headers(header_map).build()?;
                }
            }
            impl F {
                pub async fn send(self) {
                    let mut header_map = ::reqwest::header::HeaderMap::with_capacity(1usize);
                    if let Some(value) = x {
                        header_map.append("X", value);
                    } else {
                        header_map.append("Y", y);
                    }
                    let mut request = client.client.get(url).headers(header_map).build()?;
                }
            }
            impl G {
                pub async fn send(self) {
                    let mut header_map = ::reqwest::header::HeaderMap::with_capacity(1usize);
                    header_map.append("X", v);
                    let v = other();
                    let mut request = client.client.get(url).headers(header_map).build()?;
                }
            }
            impl H {
                pub async fn send(self) {
                    let mut header_map = ::reqwest::header::HeaderMap::with_capacity(1usize);
                    header_map.append("X", v);
                    let mut request = client.client.get(url).headers(header_map).header(X, w).build()?;
                }
            }
        };
        let failure = apply(tokens).unwrap_err().to_string();
        assert!(failure.contains("B (0)"), "{failure}");
        assert!(failure.contains("C (0)"), "{failure}");
        assert!(failure.contains("D (0)"), "{failure}");
        assert!(failure.contains("E (0)"), "{failure}");
        assert!(failure.contains("F (0)"), "{failure}");
        assert!(failure.contains("G (0)"), "{failure}");
        assert!(failure.contains("H (0)"), "{failure}");
        assert!(!failure.contains("A ("), "{failure}");
        assert!(failure.contains("xtask/src/header_params.rs"), "{failure}");
    }
}

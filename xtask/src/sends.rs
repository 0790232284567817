//! Edits of every operation's `send` in progenitor's output, each expected exactly once per
//! operation. The passes that need them (`version_header`, `base_url`, `header_params`,
//! `response_body`) share this walk so that each fails the same way when progenitor changes
//! shape.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::visit_mut::VisitMut;

use crate::failure::{Failure, Result};

/// Applies `edit` to the statements of each builder's `async fn send`; `edit` returns how
/// many statements it changed. Fails, naming the builders, when a `send` saw other than
/// exactly one change or when no `send` was found at all: `what` names the statement and
/// `module` the file to update for a new progenitor release.
pub fn edit_each(
    tokens: TokenStream,
    what: &str,
    module: &str,
    edit: impl FnMut(&mut Vec<syn::Stmt>) -> usize,
) -> Result<TokenStream> {
    let mut file: syn::File = syn::parse2(tokens)
        .map_err(|e| Failure::new(format!("progenitor produced code syn cannot parse: {e}")))?;
    let mut walk = Walk {
        builder: String::new(),
        edited: Vec::new(),
        edit,
    };
    walk.visit_file_mut(&mut file);
    if walk.edited.is_empty() {
        return Err(Failure::new(format!(
            "no `async fn send` found in progenitor's output, so {what} was not found; update \
             {module} for this progenitor release"
        )));
    }
    let odd: Vec<String> = walk
        .edited
        .iter()
        .filter(|(_, edited)| *edited != 1)
        .map(|(builder, edited)| format!("{builder} ({edited})"))
        .collect();
    if !odd.is_empty() {
        return Err(Failure::new(format!(
            "{what} was not found exactly once in the `send` of {} (statements found in \
             parentheses); update {module} for this progenitor release",
            odd.join(", ")
        )));
    }
    Ok(file.into_token_stream())
}

/// The `send` functions seen, by builder, with the statements edited in each.
struct Walk<F> {
    builder: String,
    edited: Vec<(String, usize)>,
    edit: F,
}

impl<F: FnMut(&mut Vec<syn::Stmt>) -> usize> VisitMut for Walk<F> {
    fn visit_item_impl_mut(&mut self, item: &mut syn::ItemImpl) {
        self.builder = item.self_ty.to_token_stream().to_string();
        syn::visit_mut::visit_item_impl_mut(self, item);
    }

    fn visit_impl_item_fn_mut(&mut self, function: &mut syn::ImplItemFn) {
        if function.sig.ident == "send" && function.sig.asyncness.is_some() {
            let edited = (self.edit)(&mut function.block.stmts);
            self.edited.push((self.builder.clone(), edited));
        }
        syn::visit_mut::visit_impl_item_fn_mut(self, function);
    }
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::edit_each;

    #[test]
    fn fails_when_there_is_no_send_at_all() {
        let tokens = quote! {
            impl A {
                pub fn send(self) {}
            }
        };
        let failure = edit_each(tokens, "`x`", "xtask/src/x.rs", |_| 1)
            .unwrap_err()
            .to_string();
        assert!(failure.contains("no `async fn send`"), "{failure}");
        assert!(failure.contains("xtask/src/x.rs"), "{failure}");
    }
}

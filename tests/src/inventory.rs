//! Reviewable text renderings of the generated client, for insta snapshots: one of the
//! operations (from the spec and the generated builders together) and one of the types (from
//! the generated source). A spec or generator change shows up as a plain-text diff.

use std::collections::BTreeMap;
use std::fmt::Write;

use openapiv3::{OpenAPI, Parameter, ReferenceOr};
use quote::ToTokens;
use syn::visit::Visit;
use syn::{
    Fields, File, GenericArgument, Item, ItemEnum, ItemImpl, ItemMod, ItemStruct, PathArguments,
    Type,
};

/// Parses the generated source.
pub fn parse_generated(source: &str) -> File {
    syn::parse_file(source).expect("generated.rs parses")
}

/// Rust type text without the noise of fully qualified std paths.
pub fn type_text(ty: &impl ToTokens) -> String {
    let raw = ty.to_token_stream().to_string().replace(' ', "");
    let mut text = raw.replace(",>", ">").replace(',', ", ");
    for noise in [
        "::std::option::",
        "::std::string::",
        "::std::vec::",
        "::std::collections::",
        "::std::num::",
        "::serde_json::",
        "std::option::",
    ] {
        text = text.replace(noise, "");
    }
    text
}

fn module<'a>(items: &'a [Item], name: &str) -> &'a ItemMod {
    items
        .iter()
        .find_map(|item| match item {
            Item::Mod(m) if m.ident == name => Some(m),
            _ => None,
        })
        .unwrap_or_else(|| panic!("generated code has no `mod {name}`"))
}

fn module_items(m: &ItemMod) -> &[Item] {
    &m.content.as_ref().expect("inline module").1
}

/// The `T` of `Result<T, String>` (builder fields hold their value that way).
fn result_ok_type(ty: &Type) -> Option<&Type> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    if last.ident != "Result" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first()? {
        GenericArgument::Type(t) => Some(t),
        _ => None,
    }
}

/// `(true, T)` for `Option<T>`, `(false, ty)` otherwise.
fn strip_option(ty: &Type) -> (bool, &Type) {
    if let Type::Path(path) = ty
        && let Some(last) = path.path.segments.last()
        && last.ident == "Option"
        && let PathArguments::AngleBracketed(args) = &last.arguments
        && let Some(GenericArgument::Type(inner)) = args.args.first()
    {
        return (true, inner);
    }
    (false, ty)
}

fn pascal(operation_id: &str) -> String {
    operation_id.to_owned()
}

fn snake(name: &str) -> String {
    name.to_lowercase().replace('-', "_")
}

/// The operations: id, method, path, every parameter (location, required, Rust type), body,
/// success and error types and the declared statuses.
pub fn operations(spec: &OpenAPI, generated: &File) -> String {
    let builder_mod = module(&generated.items, "builder");
    let builders: BTreeMap<String, &ItemStruct> = module_items(builder_mod)
        .iter()
        .filter_map(|item| match item {
            Item::Struct(s) => Some((s.ident.to_string(), s)),
            _ => None,
        })
        .collect();
    let sends = send_signatures(module_items(builder_mod));
    let components = &spec.components;
    let mut out = String::new();
    for (route, item) in &spec.paths.paths {
        let ReferenceOr::Item(item) = item else {
            continue;
        };
        for (method, operation) in item.iter() {
            let id = operation.operation_id.clone().unwrap_or_default();
            let name = pascal(&id);
            let builder = builders.get(&name);
            let fields: BTreeMap<String, &Type> = builder
                .map(|b| {
                    b.fields
                        .iter()
                        .filter_map(|f| Some((f.ident.as_ref()?.to_string(), &f.ty)))
                        .collect()
                })
                .unwrap_or_default();
            writeln!(out, "{id}: {} {route}", method.to_uppercase()).unwrap();
            let params = item.parameters.iter().chain(&operation.parameters);
            for param in params {
                let param = resolve_parameter(param, components);
                let data = param.parameter_data_ref();
                let location = match param {
                    Parameter::Query { .. } => "query",
                    Parameter::Header { .. } => "header",
                    Parameter::Path { .. } => "path",
                    Parameter::Cookie { .. } => "cookie",
                };
                let field = snake(&data.name);
                let rust = match fields.get(&field).and_then(|t| result_ok_type(t)) {
                    Some(ty) => {
                        let (optional, inner) = strip_option(ty);
                        let builder_says = if optional { "optional" } else { "required" };
                        let spec_says = if data.required {
                            "required"
                        } else {
                            "optional"
                        };
                        if builder_says == spec_says {
                            type_text(inner)
                        } else {
                            format!("{} (builder: {builder_says})", type_text(inner))
                        }
                    }
                    None => "(no builder field)".to_owned(),
                };
                let required = if data.required {
                    "required"
                } else {
                    "optional"
                };
                writeln!(
                    out,
                    "  {location:<6} {:<16} {required:<8} {rust}",
                    data.name
                )
                .unwrap();
            }
            let body = fields
                .get("body")
                .and_then(|t| result_ok_type(t))
                .map(type_text)
                .unwrap_or_else(|| "none".to_owned());
            writeln!(out, "  body     {body}").unwrap();
            if let Some(request_body) = &operation.request_body {
                let required = match request_body {
                    ReferenceOr::Item(b) => b.required,
                    ReferenceOr::Reference { .. } => false,
                };
                let media: Vec<&String> = match request_body {
                    ReferenceOr::Item(b) => b.content.keys().collect(),
                    ReferenceOr::Reference { .. } => Vec::new(),
                };
                writeln!(out, "  body in  {media:?}, required: {required}").unwrap();
            }
            match sends.get(&name) {
                Some((ok, err)) => {
                    writeln!(out, "  success  {ok}").unwrap();
                    writeln!(out, "  error    {err}").unwrap();
                }
                None => writeln!(out, "  (no send method)").unwrap(),
            }
            let statuses: Vec<String> = operation
                .responses
                .responses
                .keys()
                .map(ToString::to_string)
                .collect();
            writeln!(out, "  statuses {}", statuses.join(" ")).unwrap();
            out.push('\n');
        }
    }
    out
}

fn resolve_parameter<'a>(
    param: &'a ReferenceOr<Parameter>,
    components: &'a Option<openapiv3::Components>,
) -> &'a Parameter {
    match param {
        ReferenceOr::Item(p) => p,
        ReferenceOr::Reference { reference } => {
            let key = reference.rsplit('/').next().unwrap_or_default();
            match components.as_ref().and_then(|c| c.parameters.get(key)) {
                Some(ReferenceOr::Item(p)) => p,
                _ => panic!("unresolvable parameter {reference}"),
            }
        }
    }
}

/// Builder name -> (success type, error type) read off each `send()`'s return type.
fn send_signatures(items: &[Item]) -> BTreeMap<String, (String, String)> {
    let mut out = BTreeMap::new();
    for item in items {
        let Item::Impl(imp) = item else { continue };
        let Type::Path(self_ty) = imp.self_ty.as_ref() else {
            continue;
        };
        let name = self_ty
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        for entry in &imp.items {
            let syn::ImplItem::Fn(f) = entry else {
                continue;
            };
            if f.sig.ident != "send" {
                continue;
            }
            let syn::ReturnType::Type(_, ty) = &f.sig.output else {
                continue;
            };
            let Type::Path(path) = ty.as_ref() else {
                continue;
            };
            let Some(last) = path.path.segments.last() else {
                continue;
            };
            let PathArguments::AngleBracketed(args) = &last.arguments else {
                continue;
            };
            let types: Vec<String> = args
                .args
                .iter()
                .map(|a| match a {
                    GenericArgument::Type(t) => type_text(t),
                    other => other.to_token_stream().to_string(),
                })
                .collect();
            out.insert(
                name.clone(),
                (types[0].clone(), types.get(1).cloned().unwrap_or_default()),
            );
        }
    }
    out
}

/// Every type of `mod types`: fields with serde names and Rust types, enum variants, and the
/// checks the type's constructors enforce (read off its `FromStr`/`TryFrom` code).
pub fn types(generated: &File) -> String {
    let items = module_items(module(&generated.items, "types"));
    let mut checks: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for item in items {
        if let Item::Impl(imp) = item
            && let Some(name) = constructor_impl_target(imp)
        {
            let mut literals = Literals::default();
            literals.visit_item_impl(imp);
            let entry = checks.entry(name).or_default();
            for lit in literals.0 {
                if !entry.contains(&lit) {
                    entry.push(lit);
                }
            }
        }
    }
    let mut out = String::new();
    for item in items {
        match item {
            Item::Struct(s) => render_struct(&mut out, s, checks.get(&s.ident.to_string())),
            Item::Enum(e) => render_enum(&mut out, e, checks.get(&e.ident.to_string())),
            _ => {}
        }
    }
    out
}

/// The type an `impl FromStr for X` / `impl TryFrom<..> for X` block constructs, if any.
fn constructor_impl_target(imp: &ItemImpl) -> Option<String> {
    let (_, trait_path, _) = imp.trait_.as_ref()?;
    let trait_name = trait_path.segments.last()?.ident.to_string();
    if !matches!(trait_name.as_str(), "FromStr" | "TryFrom") {
        return None;
    }
    let Type::Path(self_ty) = imp.self_ty.as_ref() else {
        return None;
    };
    Some(self_ty.path.segments.last()?.ident.to_string())
}

#[derive(Default)]
struct Literals(Vec<String>);

impl<'ast> Visit<'ast> for Literals {
    fn visit_lit_str(&mut self, lit: &'ast syn::LitStr) {
        self.0.push(lit.value());
    }
}

fn serde_attrs(attrs: &[syn::Attribute]) -> Vec<String> {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("serde"))
        .filter_map(|a| match &a.meta {
            syn::Meta::List(list) => Some(
                list.tokens
                    .to_string()
                    .replace(" = ", "=")
                    .replace(" ,", ","),
            ),
            _ => None,
        })
        .collect()
}

fn render_struct(out: &mut String, s: &ItemStruct, checks: Option<&Vec<String>>) {
    let attrs = serde_attrs(&s.attrs);
    match &s.fields {
        Fields::Named(fields) => {
            writeln!(out, "struct {}{}", s.ident, bracket(&attrs)).unwrap();
            for field in &fields.named {
                let name = field
                    .ident
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                let attrs = serde_attrs(&field.attrs);
                writeln!(out, "  {name}: {}{}", type_text(&field.ty), bracket(&attrs)).unwrap();
            }
        }
        Fields::Unnamed(fields) => {
            let inner: Vec<String> = fields.unnamed.iter().map(|f| type_text(&f.ty)).collect();
            writeln!(
                out,
                "newtype {}({}){}",
                s.ident,
                inner.join(", "),
                bracket(&attrs)
            )
            .unwrap();
        }
        Fields::Unit => writeln!(out, "unit {}", s.ident).unwrap(),
    }
    render_checks(out, checks);
    out.push('\n');
}

fn render_enum(out: &mut String, e: &ItemEnum, checks: Option<&Vec<String>>) {
    writeln!(out, "enum {}{}", e.ident, bracket(&serde_attrs(&e.attrs))).unwrap();
    for variant in &e.variants {
        let attrs = bracket(&serde_attrs(&variant.attrs));
        match &variant.fields {
            Fields::Unit => writeln!(out, "  {}{attrs}", variant.ident).unwrap(),
            Fields::Unnamed(fields) => {
                let inner: Vec<String> = fields.unnamed.iter().map(|f| type_text(&f.ty)).collect();
                writeln!(out, "  {}({}){attrs}", variant.ident, inner.join(", ")).unwrap();
            }
            Fields::Named(fields) => {
                writeln!(out, "  {}{attrs}", variant.ident).unwrap();
                for field in &fields.named {
                    let name = field
                        .ident
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default();
                    let attrs = serde_attrs(&field.attrs);
                    writeln!(
                        out,
                        "    {name}: {}{}",
                        type_text(&field.ty),
                        bracket(&attrs)
                    )
                    .unwrap();
                }
            }
        }
    }
    render_checks(out, checks);
    out.push('\n');
}

fn render_checks(out: &mut String, checks: Option<&Vec<String>>) {
    for check in checks.into_iter().flatten() {
        writeln!(out, "  check: {check:?}").unwrap();
    }
}

/// ` #[serde(..)]` after an item, or nothing when it has no serde attributes.
fn bracket(attrs: &[String]) -> String {
    if attrs.is_empty() {
        String::new()
    } else {
        format!(" #[serde({})]", attrs.join("; "))
    }
}

//! `cargo xtask generate [--check]`: the spec, through progenitor, to a formatted and stamped
//! `generated.rs`; and the formatting, stamps and write-or-check step every generator shares.

use std::io::Write;
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::process::{Command, Stdio};

use openapiv3::OpenAPI;
use proc_macro2::{Delimiter, Group, TokenStream, TokenTree};
use progenitor::{GenerationSettings, Generator, InterfaceStyle, TagStyle, TypeImpl};
use serde_yaml::{Mapping, Value};
use sha2::{Digest, Sha256};
use syn::visit_mut::VisitMut;

use crate::failure::{Failure, Result};
use crate::spec::{self, Spec};
use crate::{events, package, paths, setters, tables};

/// The generator settings, chosen from measurements on this API (see the README).
/// `pattern_types` are the pattern-string components (see `tables::pattern_types`).
fn settings(pattern_types: &[String]) -> GenerationSettings {
    let mut settings = GenerationSettings::default();
    settings
        .with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Merged)
        .with_derive("schemars::JsonSchema")
        // Deterministic key order on the wire and in snapshots.
        .with_map_type("::std::collections::BTreeMap")
        // The client's settings (token, retry policy, timeouts) travel with the generated
        // client, where its hooks read them.
        .with_inner_type(quote::quote!(crate::Settings))
        // A PATCH body must be able to send `null` to clear a field; typify's struct drops
        // `None`. The body is the JSON object the generated setters build, checked against
        // the same spec tables before it is sent.
        .with_replacement(
            "UpdateWebhookRequest",
            "crate::JsonObject",
            std::iter::empty(),
        )
        // The HS256 secret gets a type whose Debug output never shows it.
        .with_replacement(
            "WebhookSecret",
            "crate::WebhookSecret",
            [TypeImpl::FromStr].into_iter(),
        );
    // Response-side values Monime can grow without a new release decode into open types
    // (generated into the tables file) instead of failing the whole response.
    for (component, rust_name) in tables::OPEN_TYPES {
        settings.with_replacement(component, format!("crate::{rust_name}"), std::iter::empty());
    }
    // typify would check a pattern with a regular-expression engine on every call, and make
    // every user build one; the tables file generates these types on the spec's validator.
    for component in pattern_types {
        settings.with_replacement(
            component,
            format!("crate::spec::strings::{component}"),
            [TypeImpl::FromStr, TypeImpl::Display].into_iter(),
        );
    }
    settings
}

/// Runs progenitor on `spec`. A panic inside the generator comes back as an error that names
/// the operation(s) that cause it, found by generating each operation alone.
pub fn generate_tokens(spec: &Spec) -> Result<TokenStream> {
    let settings = settings(&tables::pattern_types(&spec.raw)?);
    let message = match catch_generator_panic(&settings, &spec.openapi()?) {
        Ok(Ok(tokens)) => return Ok(tokens),
        Ok(Err(error)) => return Err(fail!("progenitor rejected the spec: {error}")),
        Err(message) => message,
    };
    let mut culprits = Vec::new();
    for (route, method, item, operation) in spec::operations(&spec.raw) {
        let mut only = Mapping::new();
        only.insert(method.into(), operation.clone());
        if let Some(parameters) = item.get("parameters") {
            only.insert("parameters".into(), parameters.clone());
        }
        let mut single = spec.raw.clone();
        single["paths"] = Mapping::from_iter([(route.as_str().into(), only.into())]).into();
        let single = serde_yaml::from_value::<OpenAPI>(single);
        if single.is_ok_and(|single| catch_generator_panic(&settings, &single).is_err()) {
            let id = operation.get("operationId").and_then(Value::as_str);
            let method = method.to_uppercase();
            culprits.push(format!("{} ({method} {route})", id.unwrap_or_default()));
        }
    }
    let which = match culprits.join(", ") {
        culprits if culprits.is_empty() => "no single operation reproduces it alone".to_owned(),
        culprits => format!("operation {culprits} has a shape it cannot handle"),
    };
    Err(fail!(
        "progenitor panicked while generating the client ({message}); {which}. Known causes: \
         more than one error schema or an error status without a body, a request body with \
         two content types, 200 and 201 with different schemas."
    ))
}

/// progenitor on `document`, a panic caught as its message.
fn catch_generator_panic(
    settings: &GenerationSettings,
    document: &OpenAPI,
) -> std::result::Result<std::result::Result<TokenStream, progenitor::Error>, String> {
    let previous_hook = panic::take_hook();
    // The default hook would print a backtrace banner; the caller reports the panic itself.
    panic::set_hook(Box::new(|_| {}));
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
        Generator::new(settings).generate_tokens(document)
    }));
    panic::set_hook(previous_hook);
    outcome.map_err(|payload| match payload.downcast::<String>() {
        Ok(message) => *message,
        Err(payload) => payload
            .downcast_ref::<&str>()
            .unwrap_or(&"no message")
            .to_string(),
    })
}

/// The full text of `generated.rs` for `spec`: header, then the client formatted by
/// prettyplease and rustfmt (so `cargo fmt --check` accepts it as committed).
pub fn render(spec: &Spec, progenitor_version: &str) -> Result<String> {
    let tokens =
        generate_tokens(spec).map_err(|failure| fail!("{}: {failure}", spec.display_path))?;
    if tokens.to_string().contains(":: regress ::") {
        return Err(fail!(
            "{}: a `pattern` outside components.schemas: typify checks it with the regress \
             engine, which the generated crate does not depend on. Move the pattern into a \
             component schema (it then gets a type in `spec::strings`).",
            spec.display_path
        ));
    }
    format_file(spec, &format!("progenitor {progenitor_version}"), tokens)
}

/// The full text of `generated_tables.rs` for `spec` (see `tables`).
pub fn render_tables(spec: &Spec) -> Result<String> {
    format_file(spec, "xtask tables", tables::render_tokens(spec)?)
}

/// `tokens` as a stamped file, with one change to progenitor's output: every `JsonSchema`
/// derive and `#[schemars(...)]` attribute goes behind the `schemars` feature. Exporting
/// schemas is for those who ask for it, and the derive costs every user's build otherwise.
fn format_file(spec: &Spec, generator: &str, tokens: TokenStream) -> Result<String> {
    let mut file: syn::File = syn::parse2(one_line_docs(tokens))
        .map_err(|e| fail!("the generator produced code syn cannot parse: {e}"))?;
    BehindFeature.visit_file_mut(&mut file);
    stamped(spec, generator, &prettyplease::unparse(&file))
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
            *attribute = syn::parse_quote!(#[cfg_attr(feature = "schemars", schemars(#inner))]);
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
            #[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
        ));
    }
}

/// Splits every multi-line `#[doc = "..."]` into one attribute per line. prettyplease prints a
/// multi-line doc as a `/** */` block, and rustfmt re-indents such blocks, which turns the
/// indented lines into Markdown code blocks (and failing doctests). `///` lines stay verbatim.
fn one_line_docs(tokens: TokenStream) -> TokenStream {
    let mut out = TokenStream::new();
    let mut trees = tokens.into_iter().peekable();
    while let Some(tree) = trees.next() {
        if let TokenTree::Punct(hash) = &tree
            && hash.as_char() == '#'
            && let Some(TokenTree::Group(group)) = trees.peek()
            && group.delimiter() == Delimiter::Bracket
            && let Ok(syn::Meta::NameValue(doc)) = syn::parse2::<syn::Meta>(group.stream())
            && doc.path.is_ident("doc")
            && let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(text),
                ..
            }) = &doc.value
        {
            for line in text.value().split('\n') {
                // progenitor's usage sketches are not compilable; as `text` blocks they
                // document without being counted as ignored doctests.
                let line = if line == "```ignore" { "```text" } else { line };
                out.extend(quote::quote!(#[doc = #line]));
            }
            trees.next();
        } else if let TokenTree::Group(group) = tree {
            let mut inner = Group::new(group.delimiter(), one_line_docs(group.stream()));
            inner.set_span(group.span());
            out.extend([TokenTree::Group(inner)]);
        } else {
            out.extend([tree]);
        }
    }
    out
}

/// Every published crate carries the spec's release as build metadata
/// (`0.1.0+caph.2025-08-23`); a mismatch means a release bump was half done.
pub fn check_version_metadata(root: &Path, release: &str) -> Result<()> {
    let problems: Vec<String> = (package::published(root)?.into_iter())
        .filter(|c| c.version.split_once('+').map(|(_, metadata)| metadata) != Some(release))
        .map(|c| format!("crates/{}/Cargo.toml has version `{}`", c.name, c.version))
        .collect();
    if !problems.is_empty() {
        return Err(fail!(
            "the spec's release is `{release}`, but {}. Set each crate's version to \
             `<semver>+{release}`.",
            problems.join(" and ")
        ));
    }
    crate::versions::check(root, release)
}

/// The version of the generated crate (`0.1.0+caph.2025-08-23`).
pub fn crate_version(root: &Path) -> Result<String> {
    let mut published = package::published(root)?.into_iter();
    let api = published.find(|c| c.name == "monime-webhooks-api");
    api.map(|c| c.version)
        .ok_or_else(|| Failure::new("cargo metadata lists no monime-webhooks-api"))
}

/// `cargo xtask generate [--check]`.
pub fn run(check: bool) -> Result<()> {
    run_at(&paths::workspace_root(), check)
}

/// `cargo xtask generate [--check]` for the workspace at `root`: the event objects, then the
/// client, the tables and the body setters of the newest spec.
pub fn run_at(root: &Path, check: bool) -> Result<()> {
    let spec_path = paths::current_spec(root)?;
    let spec = spec::load(&spec_path, &paths::display_relative(root, &spec_path))?;
    let (release, source) = (spec.release()?, spec.display_path.clone());
    let client = render(&spec, &locked_version(root, "progenitor")?)?;
    let setters = format_file(&spec, "xtask setters", setters::render_tokens(&spec)?)?;
    let outputs: [Output; 4] = [
        events::output(root, &release)?,
        (paths::GENERATED_FILE, source.clone(), client),
        (paths::TABLES_FILE, source.clone(), render_tables(&spec)?),
        (paths::SETTERS_FILE, source, setters),
    ];
    if check {
        check_version_metadata(root, &release)?;
    }
    write_or_check(root, &outputs, check)?;
    if !check {
        check_version_metadata(root, &release)?;
    }
    Ok(())
}

/// `cargo xtask generate --spec FILE`: the code for any spec, on stdout.
pub fn print(spec_path: &Path) -> Result<()> {
    let root = paths::workspace_root();
    let spec = spec::load(spec_path, &spec_path.display().to_string())?;
    print!("{}", render(&spec, &locked_version(&root, "progenitor")?)?);
    Ok(())
}

/// One file `cargo xtask generate` writes, the spec it comes from, and its text.
pub type Output = (&'static str, String, String);

/// The text of a generated file: a header naming the spec, its sha256 and the generator, then
/// `body` through rustfmt.
pub fn stamped(spec: &Spec, generator: &str, body: &str) -> Result<String> {
    let sha = format!("{:x}", Sha256::digest(spec.text.as_bytes()));
    let header = format!(
        "// @generated by `cargo xtask generate`. Do not edit this file by hand: change the \
         spec\n// and run `cargo xtask generate` again.\n//\n// spec:        {}\n// spec \
         sha256: {sha}\n// generator:   {generator}\n\n",
        spec.display_path
    );
    rustfmt(&format!("{header}{body}"))
}

/// Writes each output under `root`, or with `check` fails on the first whose committed text
/// differs, with the diff.
pub fn write_or_check(root: &Path, outputs: &[Output], check: bool) -> Result<()> {
    for (file, source, text) in outputs {
        let target = root.join(file);
        if !check {
            std::fs::write(&target, text)
                .map_err(|e| fail!("cannot write {}: {e}", target.display()))?;
            println!("wrote {file} from {source}");
            continue;
        }
        let committed = std::fs::read_to_string(&target).unwrap_or_default();
        if &committed != text {
            return Err(fail!(
                "{file} is stale: it differs from what `cargo xtask generate` produces from \
                 {source}. Run `cargo xtask generate` and commit the result.\n{}",
                unified_diff(&committed, text)
            ));
        }
        println!("{file} is up to date with {source}");
    }
    Ok(())
}

/// `source` through rustfmt (edition 2024), so `cargo fmt --check` accepts it as written.
pub fn rustfmt(source: &str) -> Result<String> {
    let mut child = Command::new("rustfmt")
        .args(["--edition", "2024", "--emit", "stdout", "--quiet"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| fail!("cannot run rustfmt (install the rustfmt component): {e}"))?;
    // rustfmt reads all of stdin before it writes, so the pipes cannot fill both ways.
    let mut stdin = child.stdin.take().expect("stdin was piped");
    stdin
        .write_all(source.as_bytes())
        .map_err(|e| fail!("cannot feed rustfmt: {e}"))?;
    drop(stdin);
    let output = child
        .wait_with_output()
        .map_err(|e| fail!("rustfmt did not finish: {e}"))?;
    if !output.status.success() {
        return Err(fail!(
            "rustfmt rejected the generated code: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    String::from_utf8(output.stdout).map_err(|_| Failure::new("rustfmt printed non-UTF-8 output"))
}

/// The version of `package` in the workspace's lock file (the version the xtask is built with).
pub fn locked_version(root: &Path, package: &str) -> Result<String> {
    let lock = std::fs::read_to_string(root.join("Cargo.lock"))
        .map_err(|e| fail!("cannot read Cargo.lock: {e}"))?;
    let entry = format!("\nname = \"{package}\"\nversion = \"");
    let version = lock
        .split_once(&entry)
        .and_then(|(_, rest)| rest.split_once('"'));
    let version = version.map(|(version, _)| version.to_owned());
    version.ok_or_else(|| fail!("Cargo.lock names no {package} package"))
}

/// A unified diff of `old` (committed) against `new` (regenerated), for stale-file errors.
pub fn unified_diff(old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header("committed", "regenerated")
        .to_string()
}

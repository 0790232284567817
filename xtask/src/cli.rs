//! Argument handling for `cargo xtask`.

use std::path::PathBuf;

use crate::failure::{Failure, Result};
use crate::{ci, diff, fuzz, generate, paths, upstream};

const USAGE: &str = "usage: cargo xtask <command>

  generate [--check]      write the generated files from the specs (--check: fail if stale)
  generate --spec FILE    print the client generated from FILE
  upstream-diff [DOC] [--allow FILE]
                          compare our spec with Monime's document (default: the committed
                          facts); --allow: fail on differences the list does not explain
  upstream-diff --refresh DOC
                          rewrite the committed facts from Monime's document DOC
  diff OLD NEW [--prefix PATH]
                          classify the changes between two documents and the semver bump
  package                 package every published crate and check its contents
  versions                check the crates' version core against CHANGELOG.md
  lint-spec               lint the spec with the pinned Redocly CLI
  fuzz [SECONDS | --smoke]
                          run the fuzz targets (300 s each; --smoke: what CI runs)
  bench-mock              throughput of monime-mock against Prism's mock server
  ci                      everything CI checks, in order";

pub fn run(args: &[String]) -> Result<()> {
    let root = paths::workspace_root();
    let mut args = args.iter().map(String::as_str);
    match args.next() {
        Some("generate") => match args.next() {
            None => generate::run(false),
            Some("--check") => no_more(args).and_then(|()| generate::run(true)),
            Some("--spec") => {
                let file = args.next().ok_or_else(|| usage("--spec needs a file"))?;
                no_more(args).and_then(|()| generate::print(&PathBuf::from(file)))
            }
            Some(other) => Err(usage(&format!("unknown option `{other}` for generate"))),
        },
        Some("upstream-diff") => {
            let (documents, mut options) = split(args, &["--allow"], &["--refresh"])?;
            let allow = options.remove("--allow").map(PathBuf::from);
            match (options.contains_key("--refresh"), &documents[..]) {
                (true, [document]) => upstream::refresh(&root, document),
                (false, []) => upstream::run(&root, &upstream::Theirs::Committed, allow.as_deref()),
                (false, [document]) => {
                    let theirs = upstream::Theirs::Document(document.clone());
                    upstream::run(&root, &theirs, allow.as_deref())
                }
                _ => Err(usage(
                    "upstream-diff takes one document (--refresh needs it)",
                )),
            }
        }
        Some("fuzz") => {
            let seconds = match args.next() {
                Some("--smoke") => return no_more(args).and_then(|()| fuzz::smoke(&root)),
                text => number_or(text, 300, "seconds")?,
            };
            no_more(args).and_then(|()| fuzz::run(&root, seconds))
        }
        Some("bench-mock") => no_more(args).and_then(|()| ci::bench_mock(&root)),
        Some("diff") => {
            let (documents, mut options) = split(args, &["--prefix"], &[])?;
            let [old, new] = &documents[..] else {
                return Err(usage("diff needs two documents: OLD NEW"));
            };
            let prefix = options.remove("--prefix").unwrap_or_default();
            diff::run(old, new, &prefix, &generate::crate_version(&root)?)
        }
        Some("package") => no_more(args).and_then(|()| crate::package::run(&root)),
        Some("versions") => no_more(args).and_then(|()| {
            let spec = paths::current_spec(&root)?;
            let spec = crate::spec::load(&spec, &paths::display_relative(&root, &spec))?;
            crate::versions::check(&root, &spec.release()?)
        }),
        Some("lint-spec") => no_more(args).and_then(|()| ci::lint_spec(&root)),
        Some("ci") => no_more(args).and_then(|()| ci::run(&root)),
        Some("help" | "--help" | "-h") => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(usage(&format!("unknown command `{other}`"))),
        None => Err(usage("no command given")),
    }
}

/// The paths and options of a command: `valued` options take the next argument, `flags`
/// stand alone (recorded with an empty value).
fn split<'a>(
    mut args: impl Iterator<Item = &'a str>,
    valued: &[&str],
    flags: &[&str],
) -> Result<(Vec<PathBuf>, std::collections::HashMap<&'a str, String>)> {
    let (mut paths, mut options) = (Vec::new(), std::collections::HashMap::new());
    while let Some(arg) = args.next() {
        if valued.contains(&arg) {
            let value = args
                .next()
                .ok_or_else(|| usage(&format!("{arg} needs a value")))?;
            options.insert(arg, value.to_owned());
        } else if flags.contains(&arg) {
            options.insert(arg, String::new());
        } else if arg.starts_with("--") {
            return Err(usage(&format!("unknown option `{arg}`")));
        } else {
            paths.push(PathBuf::from(arg));
        }
    }
    Ok((paths, options))
}

/// An optional count argument: `default` when absent.
fn number_or<T: std::str::FromStr>(text: Option<&str>, default: T, what: &str) -> Result<T> {
    match text {
        None => Ok(default),
        Some(text) => text
            .parse()
            .map_err(|_| usage(&format!("`{text}` is not a number of {what}"))),
    }
}

fn no_more<'a>(mut args: impl Iterator<Item = &'a str>) -> Result<()> {
    match args.next() {
        None => Ok(()),
        Some(extra) => Err(usage(&format!("unexpected argument `{extra}`"))),
    }
}

fn usage(problem: &str) -> Failure {
    Failure::new(format!("{problem}\n\n{USAGE}"))
}

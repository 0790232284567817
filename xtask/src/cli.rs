//! Argument handling for `cargo xtask`.

use std::path::PathBuf;

use crate::failure::{Failure, Result};
use crate::{bench_build, ci, diff, fuzz, generate, paths, upstream};

const USAGE: &str = "usage: cargo xtask <command>

commands:
  generate [--check]     regenerate crates/monime-webhooks-api/src/generated.rs from the spec
                         and crates/monime-events/src/generated.rs from the objects spec;
                         with --check, fail with a diff when a committed file is stale
  generate --spec FILE   generate from FILE and print the code (nothing is written)
  upstream-diff [DOC] [--allow FILE]
                         compare our spec with Monime's OpenAPI document DOC (default: the
                         facts committed in openapi/upstream-facts.<release>.json); with
                         --allow, fail on differences the allow-list does not explain
  upstream-diff --refresh DOC
                         rewrite openapi/upstream-facts.<release>.json from Monime's
                         document DOC and print every fact that moved
  diff OLD NEW [--prefix PATH]
                         classify every change between two OpenAPI documents (breaking or
                         compatible) and print the semver bump it implies; --prefix limits
                         the comparison to paths starting with PATH
  package                cargo package (verifying) every published crate, then check each
                         .crate holds both license files and its README
  versions               check the published crates' version core against CHANGELOG.md: a new
                         Monime release needs a new one (also part of generate --check)
  lint-spec              lint the spec with the pinned Redocly CLI
  fuzz [SECONDS]         run each fuzz target of monime-signature (default 300 s each)
  fuzz --smoke           what CI runs: clippy on the fuzz targets, then 20,000 inputs each
  bench-build [RUNS]     clean debug build of an empty crate using monime-webhooks against one
                         using reqwest + serde + tokio, interleaved (default 5 runs each;
                         0: only write the crates and count their dependency trees)
  bench-mock             throughput of monime-mock against Prism's mock server (benchmark)
  ci                     everything CI checks, in order";

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
            let mut document = None;
            let mut allow = None;
            let mut refresh = false;
            while let Some(arg) = args.next() {
                match arg {
                    "--allow" => {
                        let file = args.next().ok_or_else(|| usage("--allow needs a file"))?;
                        allow = Some(PathBuf::from(file));
                    }
                    "--refresh" => refresh = true,
                    flag if flag.starts_with("--") => {
                        return Err(usage(&format!("unknown option `{flag}` for upstream-diff")));
                    }
                    path if document.is_none() => document = Some(PathBuf::from(path)),
                    extra => return Err(usage(&format!("unexpected argument `{extra}`"))),
                }
            }
            match (refresh, document) {
                (true, Some(document)) => upstream::refresh(&root, &document),
                (true, None) => Err(usage("--refresh needs Monime's document")),
                (false, document) => {
                    let theirs =
                        document.map_or(upstream::Theirs::Committed, upstream::Theirs::Document);
                    upstream::run(&root, &theirs, allow.as_deref())
                }
            }
        }
        Some("fuzz") => {
            let seconds = match args.next() {
                Some("--smoke") => return no_more(args).and_then(|()| fuzz::smoke(&root)),
                text => number_or(text, 300, "seconds")?,
            };
            no_more(args).and_then(|()| fuzz::run(&root, seconds))
        }
        Some("bench-build") => {
            let runs = number_or(args.next(), 5, "runs")?;
            no_more(args).and_then(|()| bench_build::run(&root, runs))
        }
        Some("bench-mock") => no_more(args).and_then(|()| ci::bench_mock(&root)),
        Some("diff") => {
            let mut documents = Vec::new();
            let mut prefix = String::new();
            while let Some(arg) = args.next() {
                match arg {
                    "--prefix" => {
                        prefix = args
                            .next()
                            .ok_or_else(|| usage("--prefix needs a path"))?
                            .to_owned()
                    }
                    flag if flag.starts_with("--") => {
                        return Err(usage(&format!("unknown option `{flag}` for diff")));
                    }
                    path => documents.push(PathBuf::from(path)),
                }
            }
            let [old, new] = &documents[..] else {
                return Err(usage("diff needs two documents: OLD NEW"));
            };
            let version = generate::crate_version(&root)?;
            diff::run(old, new, &prefix, &version)
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

//! Argument handling for `cargo xtask`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::failure::{Failure, Result};
use crate::upstream::{self, Theirs};
use crate::{ci, diff, fuzz, generate, paths};

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

/// The options each command takes; `=` marks one that takes a value.
const OPTIONS: [(&str, &str); 4] = [
    ("generate", "--check --spec="),
    ("upstream-diff", "--allow= --refresh"),
    ("diff", "--prefix="),
    ("fuzz", "--smoke"),
];

pub fn run(args: &[String]) -> Result<()> {
    let root = paths::workspace_root();
    let Some((command, args)) = args.split_first() else {
        return Err(usage("no command given"));
    };
    let (operands, options) = parse(command, args)?;
    let option = |name: &str| options.get(name).map(String::as_str);
    let (allow, prefix) = (option("--allow").map(Path::new), option("--prefix"));
    match (
        command.as_str(),
        &operands[..],
        option("--refresh").is_some(),
    ) {
        ("generate", [], _) if options.len() < 2 => match option("--spec") {
            Some(file) => generate::print(Path::new(file)),
            None => generate::run(option("--check").is_some()),
        },
        ("upstream-diff", [document], true) => upstream::refresh(&root, document),
        ("upstream-diff", [], false) => upstream::run(&root, &Theirs::Committed, allow),
        ("upstream-diff", [document], false) => {
            upstream::run(&root, &Theirs::Document(document.clone()), allow)
        }
        ("diff", [old, new], _) => {
            let version = generate::crate_version(&root)?;
            diff::run(old, new, prefix.unwrap_or_default(), &version)
        }
        ("fuzz", [], _) if option("--smoke").is_some() => fuzz::smoke(&root),
        ("fuzz", [], _) => fuzz::run(&root, 300),
        ("fuzz", [seconds], _) if options.is_empty() => match seconds.to_string_lossy().parse() {
            Ok(seconds) => fuzz::run(&root, seconds),
            Err(_) => Err(usage(&format!(
                "`{}` is not a number of seconds",
                seconds.display()
            ))),
        },
        ("bench-mock", [], _) => ci::bench_mock(&root),
        ("package", [], _) => crate::package::run(&root),
        ("versions", [], _) => {
            let spec = paths::current_spec(&root)?;
            let spec = crate::spec::load(&spec, &paths::display_relative(&root, &spec))?;
            crate::versions::check(&root, &spec.release()?)
        }
        ("lint-spec", [], _) => ci::lint_spec(&root),
        ("ci", [], _) => ci::run(&root),
        ("help" | "--help" | "-h", [], _) => {
            println!("{USAGE}");
            Ok(())
        }
        (known, _, _) if USAGE.contains(&format!("\n  {known} ")) => {
            Err(usage(&format!("wrong arguments for `{known}`")))
        }
        (other, _, _) => Err(usage(&format!("unknown command `{other}`"))),
    }
}

/// The operands and options of `command`, by [`OPTIONS`] (a flag has an empty value).
fn parse(command: &str, args: &[String]) -> Result<(Vec<PathBuf>, HashMap<String, String>)> {
    let known = OPTIONS.iter().find(|(name, _)| *name == command);
    let known: Vec<&str> = known.map_or("", |(_, list)| list).split(' ').collect();
    let (mut operands, mut options) = (Vec::new(), HashMap::new());
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let value = if known.contains(&format!("{arg}=").as_str()) {
            let value = args.next().cloned();
            value.ok_or_else(|| usage(&format!("{arg} needs a value")))?
        } else if arg.starts_with("--") && !known.contains(&arg.as_str()) {
            return Err(usage(&format!("unknown option `{arg}` for {command}")));
        } else if arg.starts_with("--") {
            String::new()
        } else {
            operands.push(PathBuf::from(arg));
            continue;
        };
        options.insert(arg.clone(), value);
    }
    Ok((operands, options))
}

fn usage(problem: &str) -> Failure {
    fail!("{problem}\n\n{USAGE}")
}

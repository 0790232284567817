//! Version cores crates.io accepts: the changelog's releases, the minimum core for a new
//! Monime release (even one that changes nothing), and the workspace as committed.

use std::path::{Path, PathBuf};

use serde_json::Value;
use xtask::versions::{self, Release};
use xtask::{paths, upstream};

const CHANGELOG: &str = "# Changelog

## [Unreleased]

### Added
- something

## [0.2.0] - 2026-12-01

Monime API release: `caph.2025-09-30`.

## [0.1.0] - 2026-11-27

Monime API release: `caph.2025-08-23`.

[Unreleased]: https://example.invalid/compare/v0.2.0...HEAD
";

#[test]
fn released_sections_name_their_api_release_newest_first() {
    assert_eq!(
        versions::released(CHANGELOG).unwrap(),
        [
            Release {
                core: "0.2.0".into(),
                api_release: "caph.2025-09-30".into()
            },
            Release {
                core: "0.1.0".into(),
                api_release: "caph.2025-08-23".into()
            },
        ]
    );
    let unnamed = "## [0.1.0] - 2026-11-27\n\n### Added\n- x\n\n## [0.0.1] - 2026-11-01\n\nMonime API release: `caph.2025-06-20`.\n";
    let error = versions::released(unnamed).unwrap_err();
    assert!(error.0.contains("the section of 0.1.0"), "{error}");
    let bad = versions::released("## [next] - 2026-11-27\n").unwrap_err();
    assert!(bad.0.contains("version core"), "{bad}");
}

/// A workspace-like folder whose openapi/ holds the current spec under two release names,
/// the second changed by `change`.
fn two_releases(name: &str, change: impl FnOnce(&mut Value)) -> PathBuf {
    let root = std::env::temp_dir().join(format!("xtask-versions-{name}-{}", std::process::id()));
    let dir = root.join(paths::SPEC_DIR);
    std::fs::create_dir_all(&dir).unwrap();
    let workspace = paths::workspace_root();
    let old = upstream::load_document(&paths::current_spec(&workspace).unwrap()).unwrap();
    let old = serde_json::to_value(old).unwrap();
    let mut new = old.clone();
    change(&mut new);
    for (release, document) in [("caph.2025-08-23", &old), ("caph.2025-09-30", &new)] {
        let path = dir.join(format!("{}{release}.yaml", paths::SPEC_PREFIX));
        std::fs::write(path, serde_yaml::to_string(document).unwrap()).unwrap();
    }
    root
}

fn last() -> Release {
    Release {
        core: "0.1.0".into(),
        api_release: "caph.2025-08-23".into(),
    }
}

fn minimum(root: &Path, release: &str) -> String {
    versions::minimum_core(root, &last(), release).unwrap()
}

#[test]
fn a_new_release_that_changes_nothing_still_needs_a_new_core() {
    let root = two_releases("same", |_| {});
    assert_eq!(minimum(&root, "caph.2025-08-23"), "0.1.0");
    assert_eq!(minimum(&root, "caph.2025-09-30"), "0.1.1");
}

#[test]
fn a_breaking_release_needs_the_bump_diff_derives() {
    let root = two_releases("breaking", |document| {
        document
            .pointer_mut("/paths/~1v1~1webhooks~1{id}")
            .unwrap()
            .as_object_mut()
            .unwrap()
            .remove("delete");
    });
    assert_eq!(minimum(&root, "caph.2025-09-30"), "0.2.0");
}

#[test]
fn without_the_old_spec_a_patch_bump_is_the_minimum() {
    let root = two_releases("no-old-spec", |_| {});
    assert_eq!(minimum(&root, "caph.2026-01-15"), "0.1.1");
}

#[test]
fn the_committed_workspace_passes() {
    let root = paths::workspace_root();
    let spec = paths::current_spec(&root).unwrap();
    let release = upstream::load_document(&spec).unwrap()["info"]["version"]
        .as_str()
        .unwrap()
        .to_owned();
    versions::check(&root, &release).unwrap();
    // The same crates under a newer release, with the old core, are refused.
    let error = versions::check(&root, "caph.2099-01-01").unwrap_err();
    assert!(error.0.contains("crates.io ignores"), "{error}");
    assert!(error.0.contains("0.1.1+caph.2099-01-01"), "{error}");
}

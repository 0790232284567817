//! Where things live in the workspace, resolved from the xtask's own manifest so commands work
//! from any directory.

use std::path::{Path, PathBuf};

use crate::failure::{Failure, Result};

pub const GENERATED_CRATE: &str = "crates/monime-webhooks-api";
pub const GENERATED_FILE: &str = "crates/monime-webhooks-api/src/generated.rs";
pub const TABLES_FILE: &str = "crates/monime-webhooks-api/src/generated_tables.rs";
pub const SPEC_DIR: &str = "openapi";
pub const SPEC_PREFIX: &str = "monime-webhooks.";
pub const UPSTREAM_ALLOW_LIST: &str = "openapi/upstream-allow.txt";
pub const UPSTREAM_REFERENCE: &str = "../shared/monime-openapi/webhooks-caph-2025-08-23.yaml";

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

/// The newest of our spec files: `openapi/monime-webhooks.<release>.yaml`, newest by the date
/// in the release name. The generated crate always follows the newest release.
pub fn current_spec(root: &Path) -> Result<PathBuf> {
    let dir = root.join(SPEC_DIR);
    let entries = std::fs::read_dir(&dir)
        .map_err(|e| Failure::new(format!("cannot read {}: {e}", dir.display())))?;
    let mut specs: Vec<(String, PathBuf)> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter_map(|path| {
            let name = path.file_name()?.to_str()?.to_owned();
            let release = name.strip_prefix(SPEC_PREFIX)?.strip_suffix(".yaml")?;
            let date = release.rsplit_once('.').map_or(release, |(_, d)| d);
            Some((date.to_owned(), path))
        })
        .collect();
    specs.sort();
    specs.pop().map(|(_, path)| path).ok_or_else(|| {
        Failure::new(format!(
            "no spec found: expected a file named {SPEC_PREFIX}<release>.yaml in {}",
            dir.display()
        ))
    })
}

/// `path` relative to the workspace root, with `/` separators, for messages and headers.
pub fn display_relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

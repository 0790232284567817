//! Where things live in the workspace. The root is found at run time, from the process's
//! environment, so a binary built by another clone sharing the target folder still works on
//! the clone it runs in.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::failure::Result;

pub const GENERATED_FILE: &str = "crates/monime-webhooks-api/src/generated.rs";
pub const TABLES_FILE: &str = "crates/monime-webhooks-api/src/generated_tables.rs";
pub const SETTERS_FILE: &str = "crates/monime-webhooks/src/generated_setters.rs";
pub const EVENTS_FILE: &str = "crates/monime-events/src/generated.rs";
pub const SPEC_DIR: &str = "openapi";
pub const SPEC_PREFIX: &str = "monime-webhooks.";
pub const UPSTREAM_ALLOW_LIST: &str = "openapi/upstream-allow.txt";

/// The workspace the xtask runs in: the parent of `CARGO_MANIFEST_DIR`, which cargo sets to
/// the xtask's folder in *this* clone (a path baked in at build time would name whichever
/// clone built the binary last); else (started by hand) what `cargo locate-project` says.
pub fn workspace_root() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_MANIFEST_DIR") {
        let dir = PathBuf::from(dir);
        if let Some(root) = dir.parent().filter(|root| is_workspace(root)) {
            return root.to_path_buf();
        }
    }
    located_workspace().unwrap_or_else(|| PathBuf::from("."))
}

fn is_workspace(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("Cargo.toml"))
        .is_ok_and(|text| text.lines().any(|line| line.trim() == "[workspace]"))
}

fn located_workspace() -> Option<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args(["locate-project", "--workspace", "--message-format", "plain"])
        .output()
        .ok()
        .filter(|output| output.status.success())?;
    let manifest = PathBuf::from(String::from_utf8(output.stdout).ok()?.trim());
    manifest.parent().map(Path::to_path_buf)
}

/// Our spec of the objects events carry, for `release`, beside the webhooks spec.
pub fn objects_spec(root: &Path, release: &str) -> PathBuf {
    root.join(SPEC_DIR)
        .join(format!("monime-objects.{release}.yaml"))
}

/// The facts of Monime's document for `release` (`caph.2025-08-23`), committed so CI compares
/// against them without Monime's document at hand.
pub fn upstream_facts(root: &Path, release: &str) -> PathBuf {
    root.join(SPEC_DIR)
        .join(format!("upstream-facts.{release}.json"))
}

/// The newest of our spec files: `openapi/monime-webhooks.<release>.yaml`, newest by the date
/// in the release name. The generated crate always follows the newest release.
pub fn current_spec(root: &Path) -> Result<PathBuf> {
    let dir = root.join(SPEC_DIR);
    let entries =
        std::fs::read_dir(&dir).map_err(|e| fail!("cannot read {}: {e}", dir.display()))?;
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
        fail!(
            "no spec found: expected a file named {SPEC_PREFIX}<release>.yaml in {}",
            dir.display()
        )
    })
}

/// `path` relative to the workspace root, with `/` separators, for messages and headers.
pub fn display_relative(root: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(root).unwrap_or(path);
    relative
        .to_string_lossy()
        .replace(std::path::MAIN_SEPARATOR, "/")
}

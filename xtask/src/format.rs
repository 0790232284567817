//! Formatting and version stamps shared by generators that write Rust files.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::failure::{Failure, Result};

/// `source` through rustfmt (edition 2024), so `cargo fmt --check` accepts it as written.
pub fn rustfmt(source: &str) -> Result<String> {
    let mut child = Command::new("rustfmt")
        .args(["--edition", "2024", "--emit", "stdout", "--quiet"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            Failure::new(format!(
                "cannot run rustfmt (install the rustfmt component): {e}"
            ))
        })?;
    let mut stdin = child
        .stdin
        .take()
        .ok_or_else(|| Failure::new("rustfmt has no stdin"))?;
    stdin
        .write_all(source.as_bytes())
        .map_err(|e| Failure::new(format!("cannot feed rustfmt: {e}")))?;
    drop(stdin);
    let output = child
        .wait_with_output()
        .map_err(|e| Failure::new(format!("rustfmt did not finish: {e}")))?;
    if !output.status.success() {
        return Err(Failure::new(format!(
            "rustfmt rejected the generated code: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    String::from_utf8(output.stdout).map_err(|_| Failure::new("rustfmt printed non-UTF-8 output"))
}

/// The version of `package` in the workspace's lock file (the version the xtask is built with).
pub fn locked_version(root: &Path, package: &str) -> Result<String> {
    let lock = std::fs::read_to_string(root.join("Cargo.lock"))
        .map_err(|e| Failure::new(format!("cannot read Cargo.lock: {e}")))?;
    let wanted = format!("name = \"{package}\"");
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == wanted
            && let Some(version) = lines.next().and_then(|l| l.strip_prefix("version = \""))
        {
            return Ok(version.trim_end_matches('"').to_owned());
        }
    }
    Err(Failure::new(format!(
        "Cargo.lock names no {package} package"
    )))
}

/// A unified diff of `old` (committed) against `new` (regenerated), for stale-file errors.
pub fn unified_diff(old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header("committed", "regenerated")
        .to_string()
}

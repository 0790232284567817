//! Tools the CI needs from npm, installed at the versions pinned in `tools/` into the ignored
//! `.tools/` folder. A tool that cannot be installed fails the run: nothing is skipped.

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::failure::{Failure, Result};

const NODE_FILES: [&str; 2] = ["package.json", "package-lock.json"];

/// Installs the npm tools of `tools/package-lock.json` (reusing a finished install of the same
/// lock) and returns the folder holding their executables.
pub fn node_bin(root: &Path) -> Result<PathBuf> {
    let source = root.join("tools");
    let target = root.join(".tools/node");
    let bin = target.join("node_modules/.bin");
    let mut stamp_input = Vec::new();
    for name in NODE_FILES {
        let bytes = std::fs::read(source.join(name))
            .map_err(|e| Failure::new(format!("cannot read tools/{name}: {e}")))?;
        stamp_input.extend_from_slice(&bytes);
    }
    let stamp: String = Sha256::digest(&stamp_input)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let stamp_file = target.join(".installed");
    if std::fs::read_to_string(&stamp_file).ok().as_deref() == Some(stamp.as_str()) && bin.is_dir()
    {
        return Ok(bin);
    }
    std::fs::create_dir_all(&target)
        .map_err(|e| Failure::new(format!("cannot create {}: {e}", target.display())))?;
    for name in NODE_FILES {
        std::fs::copy(source.join(name), target.join(name))
            .map_err(|e| Failure::new(format!("cannot copy tools/{name}: {e}")))?;
    }
    println!("installing the pinned npm tools into .tools/node");
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(&target)
        .status()
        .map_err(|e| {
            Failure::new(format!(
                "cannot run npm to install the CI's node tools ({e}). Install Node.js 20.19 or \
                 newer with npm, then run `cargo xtask ci` again."
            ))
        })?;
    if !status.success() {
        return Err(Failure::new(format!(
            "`npm ci` in .tools/node failed ({status}); the CI cannot lint the spec without \
             the pinned @redocly/cli. Check the network to the npm registry and Node.js >= 20.19."
        )));
    }
    std::fs::write(&stamp_file, stamp)
        .map_err(|e| Failure::new(format!("cannot write {}: {e}", stamp_file.display())))?;
    Ok(bin)
}

/// Installs a cargo subcommand from crates.io at an exact version into `.tools/cargo` (once)
/// and returns its executable.
pub fn cargo_tool(root: &Path, krate: &str, binary: &str, version: &str) -> Result<PathBuf> {
    let install_root = root.join(".tools/cargo");
    let executable = install_root.join("bin").join(binary);
    let stamp = install_root.join(format!(".{krate}-{version}"));
    if executable.is_file() && stamp.is_file() {
        return Ok(executable);
    }
    println!("installing {krate} {version} into .tools/cargo");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(cargo)
        .args(["install", "--locked", "--version", version, "--root"])
        .arg(&install_root)
        .arg(krate)
        .status()
        .map_err(|e| Failure::new(format!("cannot run cargo install {krate}: {e}")))?;
    if !status.success() {
        return Err(Failure::new(format!(
            "`cargo install {krate}@{version}` failed ({status}); check the network to crates.io"
        )));
    }
    std::fs::write(&stamp, version)
        .map_err(|e| Failure::new(format!("cannot write {}: {e}", stamp.display())))?;
    Ok(executable)
}

//! Tools the CI needs from npm, installed at the versions pinned in `tools/` into the ignored
//! `.tools/` folder. A tool that cannot be installed fails the run: nothing is skipped.

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::failure::{Failure, Result};

const NODE_FILES: [&str; 2] = ["package.json", "package-lock.json"];
const PYTHON_FILES: [&str; 1] = ["requirements.txt"];

/// Runs `install` unless `.tools/<folder>` already holds an install of exactly these
/// `tools/` files (recorded as a sha256 stamp written only after a successful install).
fn install_once(
    root: &Path,
    folder: &str,
    inputs: &[&str],
    install: impl FnOnce(&Path) -> Result<()>,
) -> Result<PathBuf> {
    let target = root.join(".tools").join(folder);
    let mut hasher = Sha256::new();
    for name in inputs {
        let bytes = std::fs::read(root.join("tools").join(name))
            .map_err(|e| Failure::new(format!("cannot read tools/{name}: {e}")))?;
        hasher.update(&bytes);
    }
    let stamp: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let stamp_file = target.join(".installed");
    if std::fs::read_to_string(&stamp_file).ok().as_deref() == Some(stamp.as_str()) {
        return Ok(target);
    }
    std::fs::create_dir_all(&target)
        .map_err(|e| Failure::new(format!("cannot create {}: {e}", target.display())))?;
    install(&target)?;
    std::fs::write(&stamp_file, stamp)
        .map_err(|e| Failure::new(format!("cannot write {}: {e}", stamp_file.display())))?;
    Ok(target)
}

fn run_installer(command: &mut Command, what: &str, hint: &str) -> Result<()> {
    let status = command
        .status()
        .map_err(|e| Failure::new(format!("cannot run {what} ({e}). {hint}")))?;
    if status.success() {
        Ok(())
    } else {
        Err(Failure::new(format!("{what} failed ({status}). {hint}")))
    }
}

/// Installs the npm tools of `tools/package-lock.json` into `.tools/node` and returns the
/// folder holding their executables.
pub fn node_bin(root: &Path) -> Result<PathBuf> {
    let target = install_once(root, "node", &NODE_FILES, |target| {
        for name in NODE_FILES {
            std::fs::copy(root.join("tools").join(name), target.join(name))
                .map_err(|e| Failure::new(format!("cannot copy tools/{name}: {e}")))?;
        }
        println!("installing the pinned npm tools into .tools/node");
        run_installer(
            Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
                .current_dir(target),
            "`npm ci` in .tools/node",
            "The CI needs Node.js 20.19 or newer with npm, and the npm registry.",
        )
    })?;
    Ok(target.join("node_modules/.bin"))
}

/// Installs the Python tools of `tools/requirements.txt` into the virtual environment
/// `.tools/venv` and returns its `bin` folder.
pub fn python_bin(root: &Path) -> Result<PathBuf> {
    let target = install_once(root, "venv", &PYTHON_FILES, |target| {
        println!("installing the pinned Python tools into .tools/venv");
        run_installer(
            Command::new("python3")
                .args(["-m", "venv", "--clear"])
                .arg(target),
            "`python3 -m venv .tools/venv`",
            "The CI needs Python 3.10 or newer with the venv module.",
        )?;
        run_installer(
            Command::new(target.join("bin/pip"))
                .args([
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "--requirement",
                ])
                .arg(root.join("tools/requirements.txt")),
            "`pip install -r tools/requirements.txt`",
            "Check the network to PyPI.",
        )
    })?;
    Ok(target.join("bin"))
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

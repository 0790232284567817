//! Tools the CI needs from npm, PyPI and crates.io, installed at pinned versions into the
//! per-user cache `~/.cache/monime-webhooks-tools/` (`.tools/` in the clone without a home). A tool that cannot be installed fails the run: nothing is skipped.

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::failure::Result;

/// Runs `install` into the cache's `<folder>-<stamp>` unless the folder already holds an install stamped
/// `stamp` (the stamp is written only after a successful install).
fn install_once(
    root: &Path,
    folder: &str,
    stamp: String,
    install: impl FnOnce(&Path) -> Result<()>,
) -> Result<PathBuf> {
    // Per user, not per clone: an install is named by what it pins, so clones share it.
    let home = std::env::var_os("HOME").map(|home| Path::new(&home).join(".cache"));
    let cache = home.map_or(root.join(".tools"), |cache| {
        cache.join("monime-webhooks-tools")
    });
    let target = cache.join(format!("{folder}-{}", &stamp[..stamp.len().min(16)]));
    let stamp_file = target.join(".installed");
    if std::fs::read_to_string(&stamp_file).is_ok_and(|installed| installed == stamp) {
        return Ok(target);
    }
    std::fs::create_dir_all(&target)
        .map_err(|e| fail!("cannot create {}: {e}", target.display()))?;
    install(&target)?;
    std::fs::write(&stamp_file, stamp)
        .map_err(|e| fail!("cannot write {}: {e}", stamp_file.display()))?;
    Ok(target)
}

/// The sha256 of the pinning files `tools/<name>`.
fn stamp_of(root: &Path, names: &[&str]) -> Result<String> {
    let mut hasher = Sha256::new();
    for name in names {
        let bytes = std::fs::read(root.join("tools").join(name))
            .map_err(|e| fail!("cannot read tools/{name}: {e}"))?;
        hasher.update(&bytes);
    }
    Ok(format!("{:x}", hasher.finalize()))
}

fn run_installer(command: &mut Command, what: &str, hint: &str) -> Result<()> {
    let status = command
        .status()
        .map_err(|e| fail!("cannot run {what} ({e}). {hint}"))?;
    status
        .success()
        .then_some(())
        .ok_or_else(|| fail!("{what} failed ({status}). {hint}"))
}

/// Debian's Chromium and ChromeDriver, for the emulator dashboard's browser test.
pub fn chromium() -> Result<()> {
    let hint = "install Debian's chromium and chromium-driver (as root)";
    for args in [
        &["update"][..],
        &["install", "-y", "chromium", "chromium-driver"],
    ] {
        if !Path::new("/usr/bin/chromedriver").exists() {
            run_installer(Command::new("apt-get").args(args), "apt-get", hint)?;
        }
    }
    Ok(())
}

/// Installs the npm tools of `tools/package-lock.json` into the cache and returns the
/// folder holding their executables.
pub fn node_bin(root: &Path) -> Result<PathBuf> {
    const FILES: [&str; 2] = ["package.json", "package-lock.json"];
    let target = install_once(root, "node", stamp_of(root, &FILES)?, |target| {
        for name in FILES {
            std::fs::copy(root.join("tools").join(name), target.join(name))
                .map_err(|e| fail!("cannot copy tools/{name}: {e}"))?;
        }
        println!("installing the pinned npm tools into {}", target.display());
        run_installer(
            Command::new("npm")
                // No package's install script runs: the tools work without them.
                .args([
                    "ci",
                    "--ignore-scripts",
                    "--no-audit",
                    "--no-fund",
                    "--silent",
                ])
                .current_dir(target),
            "`npm ci` of tools/package-lock.json",
            "The CI needs Node.js 20.19 or newer with npm, and the npm registry.",
        )
    })?;
    Ok(target.join("node_modules/.bin"))
}

/// Installs the Python tools of `tools/requirements.txt` into the virtual environment
/// the cache and returns its `bin` folder.
pub fn python_bin(root: &Path) -> Result<PathBuf> {
    let stamp = stamp_of(root, &["requirements.txt"])?;
    let target = install_once(root, "venv", stamp, |target| {
        println!(
            "installing the pinned Python tools into {}",
            target.display()
        );
        run_installer(
            Command::new("python3")
                .args(["-m", "venv", "--clear"])
                .arg(target),
            "`python3 -m venv`",
            "The CI needs Python 3.10 or newer with the venv module.",
        )?;
        run_installer(
            Command::new(target.join("bin/pip"))
                .args(["install", "--quiet", "--disable-pip-version-check", "-r"])
                .arg(root.join("tools/requirements.txt")),
            "`pip install -r tools/requirements.txt`",
            "Check the network to PyPI.",
        )
    })?;
    Ok(target.join("bin"))
}

/// Installs a cargo subcommand from crates.io at an exact version into the cache (once)
/// and returns its executable.
pub fn cargo_tool(root: &Path, krate: &str, binary: &str, version: &str) -> Result<PathBuf> {
    let target = install_once(root, krate, version.to_owned(), |target| {
        println!("installing {krate} {version} into {}", target.display());
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        run_installer(
            Command::new(cargo)
                .args(["install", "--locked", "--version", version, "--root"])
                .args([target.as_os_str(), krate.as_ref()]),
            &format!("`cargo install {krate}@{version}`"),
            "Check the network to crates.io.",
        )
    })?;
    Ok(target.join("bin").join(binary))
}

//! `cargo xtask package`: package every published crate as crates.io would receive it, with
//! cargo's own verification build, then open each `.crate` and check that it holds both
//! license files (the same text as the workspace root's) and the README its manifest names.
//!
//! The published crates are the workspace members whose manifest does not say
//! `publish = false`; cargo packages interdependent unpublished crates of one workspace
//! together, so this needs nothing published first.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::emulator::target_dir;
use crate::failure::Result;

/// The license files every crate ships, from the workspace root.
pub const LICENSE_FILES: [&str; 2] = ["LICENSE-MIT", "LICENSE-APACHE"];

/// A crate the workspace publishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub name: String,
    pub version: String,
    /// The README its manifest names, relative to the crate folder.
    pub readme: Option<String>,
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
}

/// The workspace members that are published, from `cargo metadata`.
pub fn published(root: &Path) -> Result<Vec<Published>> {
    let output = cargo()
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(root)
        .output()
        .map_err(|e| fail!("cannot run cargo metadata: {e}"))?;
    if !output.status.success() {
        return Err(fail!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let metadata: Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| fail!("cargo metadata printed no JSON: {e}"))?;
    let packages = metadata["packages"].as_array().cloned().unwrap_or_default();
    let mut published: Vec<Published> = packages
        .iter()
        // `publish = false` reads as an empty list of registries; absent means crates.io.
        .filter(|p| p["publish"].as_array().is_none_or(|r| !r.is_empty()))
        .map(|p| Published {
            name: p["name"].as_str().unwrap_or_default().to_owned(),
            version: p["version"].as_str().unwrap_or_default().to_owned(),
            readme: p["readme"].as_str().map(str::to_owned),
        })
        .collect();
    published.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(published)
}

/// The file names and contents inside a `.crate` (a gzipped tar), without the
/// `<name>-<version>/` folder every entry starts with.
pub fn crate_contents(path: &Path) -> Result<Vec<(String, Vec<u8>)>> {
    let file =
        std::fs::File::open(path).map_err(|e| fail!("cannot open {}: {e}", path.display()))?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let unreadable = |e: std::io::Error| fail!("cannot read {}: {e}", path.display());
    let mut contents = Vec::new();
    for entry in archive.entries().map_err(unreadable)? {
        let mut entry = entry.map_err(unreadable)?;
        let name = entry
            .path()
            .map_err(unreadable)?
            .to_string_lossy()
            .into_owned();
        let name = name
            .split_once('/')
            .map_or(name.as_str(), |(_, rest)| rest)
            .to_owned();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).map_err(unreadable)?;
        contents.push((name, bytes));
    }
    Ok(contents)
}

/// What is missing or wrong in one crate's archive; empty when it is complete.
pub fn problems(root: &Path, krate: &Published, archive: &Path) -> Result<Vec<String>> {
    let contents = crate_contents(archive)?;
    let find = |name: &str| contents.iter().find(|(n, _)| n == name).map(|(_, b)| b);
    let mut problems = Vec::new();
    for license in LICENSE_FILES {
        let expected =
            std::fs::read(root.join(license)).map_err(|e| fail!("cannot read {license}: {e}"))?;
        match find(license) {
            None => problems.push(format!("{} has no {license}", krate.name)),
            Some(bytes) if *bytes != expected => problems.push(format!(
                "{}'s {license} differs from the workspace's",
                krate.name
            )),
            Some(_) => {}
        }
    }
    match &krate.readme {
        None => problems.push(format!("{} names no readme", krate.name)),
        Some(readme) => match find(readme) {
            None => problems.push(format!("{} has no {readme}", krate.name)),
            Some(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => {
                problems.push(format!("{}'s {readme} is empty", krate.name));
            }
            Some(_) => {}
        },
    }
    Ok(problems)
}

/// Where cargo writes the `.crate` of a package.
fn archive_path(root: &Path, krate: &Published) -> PathBuf {
    target_dir(root)
        .join("package")
        .join(format!("{}-{}.crate", krate.name, krate.version))
}

/// Makes the verification build our crates from this commit's sources. It runs in the
/// workspace's target folder (reusing the build's dependencies: the dev profile is in
/// `.cargo/config.toml`, so the packaged crates use it too), where cargo would take an earlier
/// run's build of our crates from its temporary local registry as up to date (registry crates
/// are immutable to it, and our versions do not change between commits), and it would not
/// unpack their sources into `$CARGO_HOME/registry/src/` again either. So both go first:
/// our crates' fingerprints and unpacked copies (never crates.io's), and earlier archives.
fn forget_earlier_runs(root: &Path, crates: &[Published]) -> Result<()> {
    let remove = |path: &Path| match std::fs::remove_dir_all(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(fail!("cannot remove {}: {e}", path.display()))
        }
        _ => Ok(()),
    };
    remove(&target_dir(root).join("package"))?;
    let fingerprints = target_dir(root).join("debug/.fingerprint");
    for entry in std::fs::read_dir(&fingerprints)
        .into_iter()
        .flatten()
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        if crates
            .iter()
            .any(|k| name.starts_with(&format!("{}-", k.name)))
        {
            remove(&entry.path())?;
        }
    }
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    let registries = home.map(|h| h.join("registry/src"));
    for registry in registries
        .iter()
        .flat_map(std::fs::read_dir)
        .flatten()
        .flatten()
    {
        // Remote registries are named after their host; local ones only by a hash.
        if registry.file_name().to_string_lossy().starts_with('-') {
            for krate in crates {
                remove(
                    &registry
                        .path()
                        .join(format!("{}-{}", krate.name, krate.version)),
                )?;
            }
        }
    }
    Ok(())
}

/// `cargo package` (verifying) for every published crate, then the archive check.
pub fn run(root: &Path) -> Result<()> {
    let crates = published(root)?;
    forget_earlier_runs(root, &crates)?;
    let mut command = cargo();
    // A dirty tree is packaged as it is, so the step also runs before a commit.
    command.args(["package", "--allow-dirty"]);
    for krate in &crates {
        command.args(["--package", &krate.name]);
    }
    let status = command
        .current_dir(root)
        .status()
        .map_err(|e| fail!("cannot run cargo package: {e}"))?;
    if !status.success() {
        return Err(fail!("`cargo package` failed ({status}): see above"));
    }
    let mut all = Vec::new();
    for krate in &crates {
        all.extend(problems(root, krate, &archive_path(root, krate))?);
    }
    if !all.is_empty() {
        return Err(fail!("packaged crates are incomplete: {}", all.join("; ")));
    }
    let names: Vec<&str> = crates.iter().map(|c| c.name.as_str()).collect();
    println!(
        "packaged and verified {}; each holds {} and its README",
        names.join(", "),
        LICENSE_FILES.join(" and ")
    );
    Ok(())
}

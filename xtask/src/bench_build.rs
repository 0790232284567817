//! `cargo xtask bench-build [RUNS]`: what a user pays to depend on the client.
//!
//! Two empty binary crates are written under `<target>/bench-build/`: one depends on
//! `monime-webhooks` with default features, the baseline on what a hand-written client needs
//! (reqwest with rustls and json, serde, serde_json, tokio). Both take their versions from the
//! workspace's `Cargo.lock`, so they share every common crate at the same version. Each run is a
//! clean debug build (`cargo build` into an emptied target folder), the two interleaved
//! (A B A B ...) so drift in the machine's speed hits both; the medians and the median of the
//! per-pair ratios are printed, with the size of both dependency trees. It is a benchmark, not
//! a test: nothing is asserted.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::emulator::target_dir;
use crate::failure::{Failure, Result};

/// The baseline's dependencies: the HTTP stack `monime-webhooks` uses, with the same features.
const BASELINE_DEPENDENCIES: &str = r#"reqwest = { version = "0.13", default-features = false, features = ["rustls", "json"] }
serde = { version = "1", features = ["derive"] }
serde_json = "1"
tokio = { version = "1", features = ["macros", "rt-multi-thread"] }
"#;

/// One of the two empty crates.
#[derive(Debug)]
pub struct Project {
    pub name: &'static str,
    pub dir: PathBuf,
}

impl Project {
    fn manifest(&self) -> PathBuf {
        self.dir.join("Cargo.toml")
    }

    fn build_dir(&self) -> PathBuf {
        self.dir.join("target")
    }
}

/// Writes both crates and returns them, `monime-webhooks` first.
pub fn prepare(root: &Path) -> Result<[Project; 2]> {
    let base = target_dir(root).join("bench-build");
    let client_path = root.join("crates/monime-webhooks");
    let client = Project {
        name: "uses-monime-webhooks",
        dir: base.join("uses-monime-webhooks"),
    };
    let baseline = Project {
        name: "uses-reqwest-serde-tokio",
        dir: base.join("uses-reqwest-serde-tokio"),
    };
    let client_dependencies = format!(
        "monime-webhooks = {{ path = {:?} }}\n",
        client_path.to_string_lossy()
    );
    for (project, dependencies) in [
        (&client, client_dependencies.as_str()),
        (&baseline, BASELINE_DEPENDENCIES),
    ] {
        write_project(root, project, dependencies)?;
    }
    Ok([client, baseline])
}

fn write_project(root: &Path, project: &Project, dependencies: &str) -> Result<()> {
    let write = |path: PathBuf, text: &str| {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Failure::new(format!("cannot create {}: {e}", parent.display())))?;
        }
        std::fs::write(&path, text)
            .map_err(|e| Failure::new(format!("cannot write {}: {e}", path.display())))
    };
    // The empty `[workspace]` keeps the crate out of the enclosing workspace.
    write(
        project.manifest(),
        &format!(
            "[package]\nname = \"{}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
             [dependencies]\n{dependencies}\n[workspace]\n",
            project.name
        ),
    )?;
    write(project.dir.join("src/main.rs"), "fn main() {}\n")?;
    // The workspace's lock file pins every shared crate to the same version in both.
    std::fs::copy(root.join("Cargo.lock"), project.dir.join("Cargo.lock"))
        .map_err(|e| Failure::new(format!("cannot copy Cargo.lock: {e}")))?;
    Ok(())
}

fn cargo() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()));
    // The user's build, not ours: no inherited target folder or flags.
    for name in [
        "CARGO_TARGET_DIR",
        "RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "RUSTC_WRAPPER",
    ] {
        command.env_remove(name);
    }
    command
}

/// Distinct packages in the project's normal dependency tree, the project itself included
/// (`cargo tree -e normal --prefix none`, duplicates removed).
pub fn tree_size(project: &Project, edges: &str) -> Result<usize> {
    let output = cargo()
        .args(["tree", "--offline", "--prefix", "none", "-e", edges])
        .arg("--manifest-path")
        .arg(project.manifest())
        .output()
        .map_err(|e| Failure::new(format!("cannot run cargo tree: {e}")))?;
    if !output.status.success() {
        return Err(Failure::new(format!(
            "cargo tree failed for {}: {}",
            project.name,
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    let mut packages: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| line.trim_end_matches(" (*)").to_owned())
        .filter(|line| !line.is_empty())
        .collect();
    packages.sort();
    packages.dedup();
    Ok(packages.len())
}

/// One clean debug build of the project: its target folder emptied first.
pub fn clean_build(project: &Project) -> Result<Duration> {
    let build_dir = project.build_dir();
    if build_dir.exists() {
        std::fs::remove_dir_all(&build_dir)
            .map_err(|e| Failure::new(format!("cannot empty {}: {e}", build_dir.display())))?;
    }
    let started = Instant::now();
    let status = cargo()
        .args(["build", "--offline", "--quiet", "--manifest-path"])
        .arg(project.manifest())
        .arg("--target-dir")
        .arg(&build_dir)
        .status()
        .map_err(|e| Failure::new(format!("cannot run cargo build: {e}")))?;
    let elapsed = started.elapsed();
    if status.success() {
        Ok(elapsed)
    } else {
        Err(Failure::new(format!(
            "the clean build of {} failed ({status})",
            project.name
        )))
    }
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    if values.len().is_multiple_of(2) {
        (values[middle - 1] + values[middle]) / 2.0
    } else {
        values[middle]
    }
}

/// `cargo xtask bench-build [RUNS]`; with 0 runs, only write the crates and count their trees.
pub fn run(root: &Path, runs: usize) -> Result<()> {
    let [client, baseline] = prepare(root)?;
    println!(
        "projects in {}",
        client.dir.parent().unwrap_or(root).display()
    );
    for project in [&client, &baseline] {
        println!(
            "{:<26} dependency tree: {} packages (-e normal), {} with build dependencies too",
            project.name,
            tree_size(project, "normal")?,
            tree_size(project, "normal,build")?
        );
    }
    if runs == 0 {
        return Ok(());
    }
    // One untimed build each, so the first timed one does not pay for cold caches alone.
    clean_build(&client)?;
    clean_build(&baseline)?;
    let (mut a, mut b, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for run in 1..=runs {
        let client_time = clean_build(&client)?.as_secs_f64();
        let baseline_time = clean_build(&baseline)?.as_secs_f64();
        println!(
            "run {run}/{runs}: {} {client_time:.1} s, {} {baseline_time:.1} s, ratio {:.2}",
            client.name,
            baseline.name,
            client_time / baseline_time
        );
        a.push(client_time);
        b.push(baseline_time);
        ratios.push(client_time / baseline_time);
    }
    println!(
        "median clean debug build: {} {:.1} s, {} {:.1} s; median ratio {:.2}x (goal <= 1.20x)",
        client.name,
        median(&mut a),
        baseline.name,
        median(&mut b),
        median(&mut ratios)
    );
    Ok(())
}

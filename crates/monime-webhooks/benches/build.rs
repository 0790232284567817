//! `cargo bench -p monime-webhooks --bench build [-- RUNS]`: what a user pays to depend on the
//! client (see BENCHMARKS.md, "What a user pays to build"). Two empty binary crates under
//! `<target>/bench-build/`, one on `monime-webhooks`, the baseline on the same HTTP stack by
//! hand, both on the workspace's `Cargo.lock`; clean debug builds (default 5 of each),
//! interleaved, then the medians of wall and CPU time and of the per-pair ratios. A benchmark:
//! nothing is asserted. Under `cargo test --all-targets` it only checks that it builds.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|arg| arg == "--bench") {
        return;
    }
    let runs = args
        .iter()
        .find_map(|arg| arg.parse::<usize>().ok())
        .unwrap_or(5);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    if let Err(message) = run(&root, &target, runs) {
        eprintln!("build bench: {message}");
        std::process::exit(1);
    }
}

/// The baseline's dependencies: the HTTP stack `monime-webhooks` uses, with the same features.
const BASELINE: &str = r#"reqwest = { version = "0.13", default-features = false, features = ["rustls", "json"] }
serde = { version = "1", features = ["derive"] }
serde_json = "1"
tokio = { version = "1", features = ["macros", "rt-multi-thread"] }
"#;

/// With 0 runs, only write the crates and count their trees.
fn run(root: &Path, target: &Path, runs: usize) -> Result<(), String> {
    let base = target.join("bench-build");
    let client = format!(
        "monime-webhooks = {{ path = {:?} }}\n",
        root.join("crates/monime-webhooks").to_string_lossy()
    );
    let crates = [
        ("uses-monime-webhooks", client.as_str()),
        ("uses-reqwest-serde-tokio", BASELINE),
    ];
    let mut dirs = Vec::new();
    for (name, dependencies) in crates {
        let dir = base.join(name);
        write_crate(root, &dir, name, dependencies)?;
        println!(
            "{name:<26} dependency tree: {} packages (-e normal), {} with build dependencies too",
            tree_size(&dir, "normal")?,
            tree_size(&dir, "normal,build")?
        );
        dirs.push(dir);
    }
    if runs == 0 {
        return Ok(());
    }
    // One untimed build each, so the first timed one does not pay for cold caches alone.
    for dir in &dirs {
        clean_build(dir)?;
    }
    // [wall, cpu] of each crate per run; the two alternate so drift hits both.
    let mut samples: Vec<[[f64; 2]; 2]> = Vec::new();
    for run in 1..=runs {
        let pair = [clean_build(&dirs[0])?, clean_build(&dirs[1])?];
        println!(
            "run {run}/{runs}: wall {:.1} s vs {:.1} s; cpu {:.1} s vs {:.1} s",
            pair[0][0], pair[1][0], pair[0][1], pair[1][1]
        );
        samples.push(pair);
    }
    println!(
        "medians over {runs} pairs ({} / {}):",
        crates[0].0, crates[1].0
    );
    for (index, what) in ["wall time", "cpu time (user + sys)"].iter().enumerate() {
        let mut a: Vec<f64> = samples.iter().map(|s| s[0][index]).collect();
        let mut b: Vec<f64> = samples.iter().map(|s| s[1][index]).collect();
        let mut ratios: Vec<f64> = a.iter().zip(&b).map(|(a, b)| a / b).collect();
        let (low, high) = ratios
            .iter()
            .fold((f64::MAX, f64::MIN), |(l, h), r| (l.min(*r), h.max(*r)));
        println!(
            "  {what:<22} {:.1} s / {:.1} s; ratio {:.2}x (min {low:.2}, max {high:.2})",
            median(&mut a),
            median(&mut b),
            median(&mut ratios)
        );
    }
    println!("goal: at most 1.20x");
    Ok(())
}

fn write_crate(root: &Path, dir: &Path, name: &str, dependencies: &str) -> Result<(), String> {
    let write = |path: PathBuf, text: &str| {
        std::fs::create_dir_all(path.parent().unwrap_or(dir))
            .and_then(|()| std::fs::write(&path, text))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    // The empty `[workspace]` keeps the crate out of the enclosing workspace.
    write(
        dir.join("Cargo.toml"),
        &format!(
            "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\
             publish = false\n\n[dependencies]\n{dependencies}\n[workspace]\n"
        ),
    )?;
    write(dir.join("src/main.rs"), "fn main() {}\n")?;
    // The workspace's lock file pins every shared crate to the same version in both.
    let lock = std::fs::read_to_string(root.join("Cargo.lock"))
        .map_err(|e| format!("cannot read Cargo.lock: {e}"))?;
    write(dir.join("Cargo.lock"), &lock)
}

/// cargo for the user's build, not ours: no inherited target folder, flags or wrapper.
fn cargo(dir: &Path, subcommand: &str) -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()));
    for name in [
        "CARGO_TARGET_DIR",
        "RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "RUSTC_WRAPPER",
    ] {
        command.env_remove(name);
    }
    command
        .arg(subcommand)
        .arg("--manifest-path")
        .arg(dir.join("Cargo.toml"));
    command
}

/// Distinct lines of `cargo tree --prefix none -e <edges>`: the packages, the crate included.
fn tree_size(dir: &Path, edges: &str) -> Result<usize, String> {
    let output = cargo(dir, "tree")
        .args(["--offline", "--prefix", "none", "-e", edges])
        .output()
        .map_err(|e| format!("cannot run cargo tree: {e}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(format!("cargo tree failed in {}: {stderr}", dir.display()));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let mut packages: Vec<&str> = text.lines().map(|l| l.trim_end_matches(" (*)")).collect();
    packages.retain(|line| !line.is_empty());
    packages.sort();
    packages.dedup();
    Ok(packages.len())
}

/// User + sys seconds of this process's waited-for children: fields 16 and 17 (`cutime`,
/// `cstime`, in ticks of 1/100 s) of `/proc/self/stat`, after the parenthesized command name.
fn children_cpu() -> Result<f64, String> {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap_or_default()
        .1
        .split_whitespace()
        .collect();
    let tick = |index: usize| fields.get(index).and_then(|f| f.parse::<f64>().ok());
    match (tick(13), tick(14)) {
        (Some(user), Some(sys)) => Ok((user + sys) / 100.0),
        _ => Err("the build bench reads CPU time from /proc: it needs Linux".to_owned()),
    }
}

/// One clean debug build: the target folder emptied first. Returns [wall, cpu] seconds.
fn clean_build(dir: &Path) -> Result<[f64; 2], String> {
    let target = dir.join("target");
    if target.exists() {
        std::fs::remove_dir_all(&target)
            .map_err(|e| format!("cannot empty {}: {e}", target.display()))?;
    }
    let (cpu, started) = (children_cpu()?, Instant::now());
    let status = cargo(dir, "build")
        // A user gets monime-webhooks from crates.io, and cargo builds registry crates without
        // incremental compilation; a path dependency would be built incrementally (about a
        // quarter slower for our crates). The baseline has only registry crates.
        .env("CARGO_INCREMENTAL", "0")
        .args(["--offline", "--quiet", "--target-dir"])
        .arg(&target)
        .status()
        .map_err(|e| format!("cannot run cargo build: {e}"))?;
    if !status.success() {
        return Err(format!(
            "the clean build of {} failed ({status})",
            dir.display()
        ));
    }
    Ok([started.elapsed().as_secs_f64(), children_cpu()? - cpu])
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

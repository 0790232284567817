//! `cargo xtask bench-build [RUNS]`: what a user pays to depend on the client.
//!
//! Two empty binary crates are written under `<target>/bench-build/`: one depends on
//! `monime-webhooks` with default features, the baseline on what a hand-written client needs
//! (reqwest with rustls and json, serde, serde_json, tokio). Both take their versions from the
//! workspace's `Cargo.lock`, so they share every common crate at the same version. Each run is a
//! clean debug build (`cargo build` into an emptied target folder, without incremental
//! compilation, as cargo builds crates from a registry), the two interleaved
//! (A B A B ...) so drift in the machine's speed hits both; the medians and the median of the
//! per-pair ratios are printed, with the size of both dependency trees. Wall time is what a user
//! waits; CPU time (user + sys of cargo and every rustc it ran) is what the build costs, and it
//! is the steadier figure on a shared machine. It is a benchmark, not a test: nothing is
//! asserted.

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

/// What one build took.
#[derive(Debug, Clone, Copy)]
pub struct Cost {
    pub wall: Duration,
    /// User + sys time of the build's processes; `None` where the platform does not say.
    pub cpu: Option<Duration>,
}

/// User + sys time of this process's waited-for descendants, from `/proc/self/stat` (fields
/// 16 and 17, `cutime` and `cstime`, in clock ticks of 1/100 s on Linux); `None` elsewhere.
fn children_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state), so field N is at index N - 3.
    let ticks: u64 = fields.get(13)?.parse::<u64>().ok()? + fields.get(14)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// One clean debug build of the project: its target folder emptied first.
pub fn clean_build(project: &Project) -> Result<Cost> {
    let build_dir = project.build_dir();
    if build_dir.exists() {
        std::fs::remove_dir_all(&build_dir)
            .map_err(|e| Failure::new(format!("cannot empty {}: {e}", build_dir.display())))?;
    }
    let cpu_before = children_cpu();
    let started = Instant::now();
    let status = cargo()
        // A user gets monime-webhooks from crates.io, and cargo builds registry crates without
        // incremental compilation; here it is a path dependency, which a debug build would
        // compile incrementally (about a quarter slower for our crates). The baseline has only
        // registry crates, so this changes nothing for it.
        .env("CARGO_INCREMENTAL", "0")
        .args(["build", "--offline", "--quiet", "--manifest-path"])
        .arg(project.manifest())
        .arg("--target-dir")
        .arg(&build_dir)
        .status()
        .map_err(|e| Failure::new(format!("cannot run cargo build: {e}")))?;
    let wall = started.elapsed();
    let cpu = children_cpu()
        .zip(cpu_before)
        .map(|(after, before)| after.saturating_sub(before));
    if status.success() {
        Ok(Cost { wall, cpu })
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
    let mut wall = Samples::default();
    let mut cpu = Samples::default();
    for run in 1..=runs {
        let a = clean_build(&client)?;
        let b = clean_build(&baseline)?;
        wall.push(a.wall.as_secs_f64(), b.wall.as_secs_f64());
        if let (Some(a_cpu), Some(b_cpu)) = (a.cpu, b.cpu) {
            cpu.push(a_cpu.as_secs_f64(), b_cpu.as_secs_f64());
        }
        println!(
            "run {run}/{runs}: wall {:.1} s vs {:.1} s; cpu {} vs {}",
            a.wall.as_secs_f64(),
            b.wall.as_secs_f64(),
            seconds(a.cpu),
            seconds(b.cpu)
        );
    }
    println!(
        "medians over {runs} pairs ({} / {}):",
        client.name, baseline.name
    );
    wall.report("wall time");
    if !cpu.a.is_empty() {
        cpu.report("cpu time (user + sys)");
    }
    println!("goal: at most 1.20x");
    Ok(())
}

fn seconds(value: Option<Duration>) -> String {
    value.map_or_else(|| "-".to_owned(), |d| format!("{:.1} s", d.as_secs_f64()))
}

/// Paired measurements of the two builds and their per-pair ratios.
#[derive(Debug, Default)]
struct Samples {
    a: Vec<f64>,
    b: Vec<f64>,
    ratios: Vec<f64>,
}

impl Samples {
    fn push(&mut self, a: f64, b: f64) {
        self.a.push(a);
        self.b.push(b);
        self.ratios.push(a / b);
    }

    fn report(&mut self, what: &str) {
        let (low, high) = self
            .ratios
            .iter()
            .fold((f64::MAX, f64::MIN), |(l, h), r| (l.min(*r), h.max(*r)));
        println!(
            "  {what:<22} {:.1} s / {:.1} s; ratio {:.2}x (min {low:.2}, max {high:.2})",
            median(&mut self.a),
            median(&mut self.b),
            median(&mut self.ratios)
        );
    }
}

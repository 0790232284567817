//! `cargo xtask ci`: the one test command. Each step runs in order and the first failure stops
//! the run with that step's message.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::emulator::{Emulator, KillOnDrop, target_dir};
use crate::failure::{Failure, Result};
use crate::{generate, paths, tools, upstream};

const CLIPPY: [&str; 3] = ["--", "-D", "warnings"];
const EMULATOR: [&str; 5] = ["build", "-p", "monime-mock", "--bin", "monime-mock"];

pub fn run(root: &Path) -> Result<()> {
    let started = Instant::now();
    // Schemathesis's example database and Prism's log, per clone (the tools are cached).
    std::fs::create_dir_all(root.join(".tools")).map_err(|e| fail!("cannot create .tools: {e}"))?;
    step("generated code is up to date", || generate::run(true))?;
    step(
        "spec carries every committed fact of Monime's document",
        || {
            let allow = root.join(paths::UPSTREAM_ALLOW_LIST);
            upstream::run(root, &upstream::Theirs::Committed, Some(&allow))
        },
    )?;
    step("spec lint (Redocly CLI)", || lint_spec(root))?;
    // The workspace, then the feature sets users build that the workspace's unified features
    // hide: monime-signature without ES256, the client without schemars.
    for (what, packages) in [
        ("clippy", &["--workspace", "--all-targets"][..]),
        (
            "clippy: monime-signature without ES256",
            &[
                "-p",
                "monime-signature",
                "--no-default-features",
                "--features",
                "axum",
            ],
        ),
        (
            "clippy: the client with default features only",
            &["-p", "monime-webhooks", "-p", "monime-webhooks-api"],
        ),
    ] {
        step(what, || {
            let args: Vec<&str> = ["clippy"]
                .iter()
                .chain(packages)
                .chain(&CLIPPY)
                .copied()
                .collect();
            cargo(root, &args, &[])
        })?;
    }
    // After clippy: the docs reuse the dependencies it checked.
    step("formatting, and docs without warnings", || {
        let deny = [("RUSTDOCFLAGS", "-D warnings")];
        cargo(root, &["fmt", "--all", "--check"], &[])?;
        cargo(root, &["doc", "--workspace", "--no-deps"], &deny)
    })?;
    step("tests", || run_tests(root))?;
    step("contract (Schemathesis)", || schemathesis(root))?;
    step("quickstart, also via Prism", || quickstart(root))?;
    // After the steps that build our crates: it makes the next build of them start afresh.
    step("cargo package, verified", || crate::package::run(root))?;
    step("fuzz: lint, short run", || crate::fuzz::smoke(root))?;
    println!("\nxtask ci: all steps passed in {:.0?}", started.elapsed());
    Ok(())
}

fn step(name: &str, body: impl FnOnce() -> Result<()>) -> Result<()> {
    println!("\n==> {name}");
    let started = Instant::now();
    body().map_err(|failure| fail!("step `{name}` failed: {failure}"))?;
    println!("<== {name}: ok in {:.1?}", started.elapsed());
    Ok(())
}

fn cargo(root: &Path, args: &[&str], env: &[(&str, &str)]) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut command = Command::new(cargo);
    command
        .args(args)
        .envs(env.iter().copied())
        .current_dir(root);
    run_checked(&mut command, &format!("`cargo {}`", args.join(" ")))
}

fn run_checked(command: &mut Command, what: &str) -> Result<()> {
    let status = command
        .status()
        .map_err(|e| fail!("cannot run {what}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(fail!("{what} failed ({status})"))
    }
}

/// Lints the current spec with the pinned Redocly CLI; errors fail, warnings are shown.
pub fn lint_spec(root: &Path) -> Result<()> {
    let spec = paths::current_spec(root)?;
    run_checked(
        Command::new(tools::node_bin(root)?.join("redocly"))
            .args(["lint", "--format", "stylish"])
            .arg(&spec)
            .env("REDOCLY_TELEMETRY", "off")
            .env("REDOCLY_SUPPRESS_UPDATE_NOTICE", "true")
            .current_dir(root),
        &format!("Redocly CLI on {}", paths::display_relative(root, &spec)),
    )
}

/// `cargo xtask bench-mock`: installs Prism with the other npm tools, then runs the
/// throughput benchmark, which compares both servers in one run.
pub fn bench_mock(root: &Path) -> Result<()> {
    let prism = tools::node_bin(root)?.join("prism");
    let args = ["bench", "-p", "monime-mock", "--bench", "throughput"];
    cargo(root, &args, &[("PRISM_BIN", &prism.to_string_lossy())])
}

/// Schemathesis, all checks, against a running emulator with our spec: any failure fails CI.
fn schemathesis(root: &Path) -> Result<()> {
    let bin = tools::python_bin(root)?;
    cargo(root, &EMULATOR, &[])?;
    let emulator = Emulator::start(root, &[])?;
    let spec = paths::current_spec(root)?;
    run_checked(
        Command::new(bin.join("schemathesis"))
            .arg("--config-file")
            .arg(root.join("tools/schemathesis.toml"))
            .arg("run")
            .arg(&spec)
            .args([
                "--url",
                &emulator.url,
                "--checks",
                "all",
                "--continue-on-failure",
            ])
            .args(["--header", "Authorization: Bearer mon_test_contract"])
            .args(["--max-examples", "30", "--seed", "20250823", "--no-color"])
            // Teaches the generator our vendor extensions (x-http-header-map, x-max-depth).
            .env(
                "SCHEMATHESIS_HOOKS",
                root.join("tools/schemathesis_hooks.py"),
            )
            .env("MONIME_SPEC", &spec)
            // Schemathesis keeps its example database in the working directory.
            .current_dir(root.join(".tools")),
        "Schemathesis against monime-mock",
    )
}

/// The quickstart twice: as a newcomer runs it (in-process emulator), then in its "real API"
/// mode against Stoplight Prism in proxy mode (`--errors`) in front of a monime-mock process,
/// so an independent validator checks every request and response against the spec.
fn quickstart(root: &Path) -> Result<()> {
    let prism = tools::node_bin(root)?.join("prism");
    let example = ["build", "-p", "monime-webhooks", "--example", "quickstart"];
    cargo(root, &example, &[])?;
    cargo(root, &EMULATOR, &[])?;
    let example = target_dir(root).join("debug/examples/quickstart");
    let credentials = [
        "MONIME_ACCESS_TOKEN",
        "MONIME_SPACE_ID",
        "MONIME_API_URL",
        "MONIME_VERSION",
    ];
    let mut plain = Command::new(&example);
    for name in credentials {
        plain.env_remove(name);
    }
    run_checked(&mut plain, "the quickstart on the in-process emulator")?;

    let emulator = Emulator::start(root, &[])?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| fail!("cannot find a free port: {e}"))?
        .port();
    let log_path = root.join(".tools/prism-proxy.log");
    let log = std::fs::File::create(&log_path)
        .map_err(|e| fail!("cannot create {}: {e}", log_path.display()))?;
    let port_text = port.to_string();
    let child = Command::new(&prism)
        .arg("proxy")
        .arg(paths::current_spec(root)?)
        .arg(&emulator.url)
        .args(["--errors", "--host", "127.0.0.1", "--port", &port_text])
        .stdout(Stdio::from(
            log.try_clone().map_err(|e| Failure::new(e.to_string()))?,
        ))
        .stderr(log)
        .spawn()
        .map_err(|e| fail!("cannot start prism: {e}"))?;
    let proxy = KillOnDrop(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            return Err(Failure::new("Prism's proxy did not start within 60 s"));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let outcome = run_checked(
        Command::new(&example)
            .env("MONIME_ACCESS_TOKEN", "mon_test_prism")
            .env("MONIME_SPACE_ID", "spc-prism")
            .env("MONIME_API_URL", format!("http://127.0.0.1:{port}"))
            .env_remove("MONIME_VERSION"),
        "the quickstart through Prism's proxy",
    );
    drop(proxy);
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    outcome?;
    if !log.contains("Forwarding") {
        return Err(Failure::new(
            "Prism forwarded nothing: the quickstart did not go through it",
        ));
    }
    let violations: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("Violation") || line.contains('✖') || line.contains('⚠'))
        .collect();
    if !violations.is_empty() {
        return Err(fail!(
            "Prism reported {} spec violation(s):\n{}",
            violations.len(),
            violations.join("\n")
        ));
    }
    println!("Prism: every request and response matched the spec");
    Ok(())
}

/// `cargo test --workspace` (all targets, then doctests) with insta in strict mode, then a
/// check that every committed snapshot was used and none is pending review. The dashboard's
/// browser test needs Chromium.
fn run_tests(root: &Path) -> Result<()> {
    let target = target_dir(root);
    let _ = std::fs::create_dir_all(&target);
    let references = target.join("insta-references.txt");
    let _ = std::fs::remove_file(&references);
    let insta = [
        ("INSTA_UPDATE", "no"),
        ("INSTA_FORCE_PASS", "0"),
        (
            "INSTA_SNAPSHOT_REFERENCES_FILE",
            &*references.to_string_lossy(),
        ),
    ];
    tools::chromium()?;
    cargo(root, &["test", "--workspace", "--all-targets"], &insta)?;
    cargo(root, &["test", "--workspace", "--doc"], &[])?;
    let canonical = |path: &Path| std::fs::canonicalize(path).unwrap_or(path.to_path_buf());
    let used: BTreeSet<PathBuf> = std::fs::read_to_string(&references)
        .unwrap_or_default()
        .lines()
        .map(|line| canonical(Path::new(line)))
        .collect();
    let mut files = Vec::new();
    collect_files(root, &mut files);
    let mut problems = Vec::new();
    for file in files {
        let name = file.to_string_lossy();
        let shown = paths::display_relative(root, &file);
        if name.ends_with(".snap.new") || name.ends_with(".pending-snap") {
            problems.push(format!("{shown} is a snapshot waiting for review"));
        } else if name.ends_with(".snap") && !used.contains(&canonical(&file)) {
            problems.push(format!("{shown} is not used by any test"));
        }
    }
    if !problems.is_empty() {
        return Err(fail!(
            "snapshot hygiene: {}. Review with `cargo insta review` or delete stale files.",
            problems.join("; ")
        ));
    }
    println!("snapshots: every committed snapshot is used, none is pending");
    Ok(())
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let (path, name) = (entry.path(), entry.file_name());
        if ["target", ".tools", ".git", "node_modules"].contains(&&*name.to_string_lossy()) {
            continue;
        }
        match path.is_dir() {
            true => collect_files(&path, out),
            false => out.push(path),
        }
    }
}

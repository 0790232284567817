//! `cargo xtask ci`: the one test command. Each step runs in order and the first failure stops
//! the run with that step's message.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::emulator::{Emulator, KillOnDrop};
use crate::failure::{Failure, Result};
use crate::{generate, paths, tools, upstream};

pub fn run(root: &Path) -> Result<()> {
    let started = Instant::now();
    step("generated code is up to date", || generate::run(true))?;
    step(
        "spec carries every committed fact of Monime's document",
        || {
            upstream::run(
                root,
                &upstream::Theirs::Committed,
                Some(&root.join(paths::UPSTREAM_ALLOW_LIST)),
            )
        },
    )?;
    step("formatting", || {
        cargo(root, &["fmt", "--all", "--check"], &[])
    })?;
    step("spec lint (Redocly CLI)", || lint_spec(root))?;
    step("clippy", || {
        cargo(
            root,
            &[
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ],
            &[],
        )
    })?;
    step(
        "monime-signature without ES256 (how monime-webhooks uses it)",
        || {
            cargo(
                root,
                &[
                    "clippy",
                    "--package",
                    "monime-signature",
                    "--no-default-features",
                    "--features",
                    "axum",
                    "--",
                    "-D",
                    "warnings",
                ],
                &[],
            )
        },
    )?;
    step(
        "monime-webhooks with default features only (what users build: no schemars)",
        || {
            cargo(
                root,
                &[
                    "clippy",
                    "--package",
                    "monime-webhooks",
                    "--package",
                    "monime-webhooks-api",
                    "--",
                    "-D",
                    "warnings",
                ],
                &[],
            )
        },
    )?;
    step("tests", || run_tests(root))?;
    step(
        "cargo package: every published crate, verified, with licenses and README",
        || crate::package::run(root),
    )?;
    step("fuzz targets: lint and a short run (nightly)", || {
        crate::fuzz::smoke(root)
    })?;
    step("contract: Schemathesis against monime-mock", || {
        schemathesis(root)
    })?;
    step(
        "quickstart, on the emulator and through Prism's validating proxy",
        || quickstart(root),
    )?;
    println!("\nxtask ci: all steps passed in {:.0?}", started.elapsed());
    Ok(())
}

fn step(name: &str, body: impl FnOnce() -> Result<()>) -> Result<()> {
    println!("\n==> {name}");
    let started = Instant::now();
    body().map_err(|failure| Failure::new(format!("step `{name}` failed: {failure}")))?;
    println!("<== {name}: ok in {:.1?}", started.elapsed());
    Ok(())
}

fn cargo(root: &Path, args: &[&str], env: &[(&str, &str)]) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(&cargo)
        .args(args)
        .envs(env.iter().copied())
        .current_dir(root)
        .status()
        .map_err(|e| Failure::new(format!("cannot run `cargo {}`: {e}", args.join(" "))))?;
    if status.success() {
        Ok(())
    } else {
        Err(Failure::new(format!(
            "`cargo {}` exited with {status}",
            args.join(" ")
        )))
    }
}

/// Lints the current spec with the pinned Redocly CLI; errors fail, warnings are shown.
pub fn lint_spec(root: &Path) -> Result<()> {
    let bin = tools::node_bin(root)?;
    let spec = paths::current_spec(root)?;
    let status = Command::new(bin.join("redocly"))
        .args(["lint", "--format", "stylish"])
        .arg(&spec)
        .env("REDOCLY_TELEMETRY", "off")
        .env("REDOCLY_SUPPRESS_UPDATE_NOTICE", "true")
        .current_dir(root)
        .status()
        .map_err(|e| Failure::new(format!("cannot run redocly: {e}")))?;
    if status.success() {
        Ok(())
    } else {
        Err(Failure::new(format!(
            "Redocly CLI found errors in {} (see above)",
            paths::display_relative(root, &spec)
        )))
    }
}

/// `cargo xtask bench-mock`: installs Prism with the other npm tools, then runs the
/// throughput benchmark, which compares both servers in one run.
pub fn bench_mock(root: &Path) -> Result<()> {
    let prism = tools::node_bin(root)?.join("prism");
    let prism = prism.to_string_lossy().into_owned();
    cargo(
        root,
        &["bench", "--package", "monime-mock", "--bench", "throughput"],
        &[("PRISM_BIN", prism.as_str())],
    )
}

/// Schemathesis, all checks, against a running emulator with our spec: any failure fails CI.
fn schemathesis(root: &Path) -> Result<()> {
    let bin = tools::python_bin(root)?;
    cargo(
        root,
        &["build", "--package", "monime-mock", "--bin", "monime-mock"],
        &[],
    )?;
    let emulator = Emulator::start(root, &[])?;
    let spec = paths::current_spec(root)?;
    let status = Command::new(bin.join("schemathesis"))
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
        .current_dir(root.join(".tools"))
        .status()
        .map_err(|e| Failure::new(format!("cannot run schemathesis: {e}")))?;
    if status.success() {
        Ok(())
    } else {
        Err(Failure::new(
            "Schemathesis found responses of monime-mock that break the spec (see above)",
        ))
    }
}

/// The quickstart twice: as a newcomer runs it (in-process emulator), then in its "real API"
/// mode against Stoplight Prism in proxy mode (`--errors`) in front of a monime-mock process,
/// so an independent validator checks every request and response against the spec.
fn quickstart(root: &Path) -> Result<()> {
    let prism = tools::node_bin(root)?.join("prism");
    cargo(
        root,
        &[
            "build",
            "--package",
            "monime-webhooks",
            "--example",
            "quickstart",
        ],
        &[],
    )?;
    cargo(
        root,
        &["build", "--package", "monime-mock", "--bin", "monime-mock"],
        &[],
    )?;
    let example = crate::emulator::target_dir(root).join("debug/examples/quickstart");
    let env_names = [
        "MONIME_ACCESS_TOKEN",
        "MONIME_SPACE_ID",
        "MONIME_API_URL",
        "MONIME_VERSION",
    ];
    let mut plain = Command::new(&example);
    for name in env_names {
        plain.env_remove(name);
    }
    run_checked(&mut plain, "the quickstart on the in-process emulator")?;

    let emulator = Emulator::start(root, &[])?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| Failure::new(format!("cannot find a free port: {e}")))?;
    let log_path = root.join(".tools/prism-proxy.log");
    let log = std::fs::File::create(&log_path)
        .map_err(|e| Failure::new(format!("cannot create {}: {e}", log_path.display())))?;
    let spec = paths::current_spec(root)?;
    let child = Command::new(&prism)
        .arg("proxy")
        .arg(&spec)
        .arg(&emulator.url)
        .args([
            "--errors",
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
        ])
        .stdout(log.try_clone().map_err(|e| Failure::new(e.to_string()))?)
        .stderr(log)
        .spawn()
        .map_err(|e| Failure::new(format!("cannot start prism: {e}")))?;
    let proxy = KillOnDrop(child);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if std::time::Instant::now() > deadline {
            return Err(Failure::new("Prism's proxy did not start within 60 s"));
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let mut through_prism = Command::new(&example);
    through_prism
        .env("MONIME_ACCESS_TOKEN", "mon_test_prism")
        .env("MONIME_SPACE_ID", "spc-prism")
        .env("MONIME_API_URL", format!("http://127.0.0.1:{port}"))
        .env_remove("MONIME_VERSION");
    let outcome = run_checked(&mut through_prism, "the quickstart through Prism's proxy");
    drop(proxy);
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    let violations: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("Violation") || line.contains("✖") || line.contains("⚠"))
        .collect();
    outcome?;
    if !log.contains("Forwarding") {
        return Err(Failure::new(
            "Prism forwarded nothing: the quickstart did not go through it",
        ));
    }
    if violations.is_empty() {
        println!("Prism: every request and response matched the spec");
        Ok(())
    } else {
        Err(Failure::new(format!(
            "Prism reported {} spec violation(s):\n{}",
            violations.len(),
            violations.join("\n")
        )))
    }
}

fn run_checked(command: &mut Command, what: &str) -> Result<()> {
    let status = command
        .status()
        .map_err(|e| Failure::new(format!("cannot run {what}: {e}")))?;
    if status.success() {
        Ok(())
    } else {
        Err(Failure::new(format!("{what} failed ({status})")))
    }
}

/// `cargo test --workspace` with insta in strict mode, then a check that every committed
/// snapshot was used and none is pending review.
fn run_tests(root: &Path) -> Result<()> {
    // In the build's target folder (`CARGO_TARGET_DIR` when set), which exists by now.
    let target = crate::emulator::target_dir(root);
    let _ = std::fs::create_dir_all(&target);
    let references = target.join("insta-references.txt");
    let _ = std::fs::remove_file(&references);
    let references_env = references.to_string_lossy().into_owned();
    cargo(
        root,
        &["test", "--workspace", "--all-targets"],
        &[
            ("INSTA_UPDATE", "no"),
            ("INSTA_FORCE_PASS", "0"),
            ("INSTA_SNAPSHOT_REFERENCES_FILE", references_env.as_str()),
        ],
    )?;
    // Doctests are not part of --all-targets.
    cargo(root, &["test", "--workspace", "--doc"], &[])?;
    check_snapshots(root, &references)
}

fn check_snapshots(root: &Path, references: &Path) -> Result<()> {
    let used: BTreeSet<PathBuf> = std::fs::read_to_string(references)
        .unwrap_or_default()
        .lines()
        .map(|line| std::fs::canonicalize(line).unwrap_or_else(|_| PathBuf::from(line)))
        .collect();
    let mut problems = Vec::new();
    let mut files = Vec::new();
    collect_files(root, &mut files);
    for file in files {
        let name = file.to_string_lossy();
        let shown = paths::display_relative(root, &file);
        if name.ends_with(".snap.new") || name.ends_with(".pending-snap") {
            problems.push(format!("{shown} is a snapshot waiting for review"));
        } else if name.ends_with(".snap") {
            let canonical = std::fs::canonicalize(&file).unwrap_or(file.clone());
            if !used.contains(&canonical) {
                problems.push(format!("{shown} is not used by any test"));
            }
        }
    }
    if problems.is_empty() {
        println!("snapshots: every committed snapshot is used, none is pending");
        Ok(())
    } else {
        Err(Failure::new(format!(
            "snapshot hygiene: {}. Review with `cargo insta review` or delete stale files.",
            problems.join("; ")
        )))
    }
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if matches!(
            name.to_str(),
            Some("target" | ".tools" | ".git" | "node_modules")
        ) {
            continue;
        }
        if path.is_dir() {
            collect_files(&path, out);
        } else {
            out.push(path);
        }
    }
}

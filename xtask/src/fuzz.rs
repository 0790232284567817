//! `cargo xtask fuzz [SECONDS]`: runs every cargo-fuzz target of monime-signature for SECONDS
//! each (default 300) with the pinned nightly toolchain, a pinned cargo-fuzz and the fuzz
//! workspace's committed `Cargo.lock`. CI runs [`smoke`]: the targets lint clean and each
//! runs briefly, so they cannot rot unnoticed.

use std::path::Path;
use std::process::Command;

use crate::failure::Result;
use crate::tools;

const CARGO_FUZZ_VERSION: &str = "0.13.1";
const FUZZ_CRATE: &str = "crates/monime-signature";
const TARGETS: [&str; 2] = ["header_parser", "event_parser"];
/// The nightly the fuzz targets build with, as `rustc +nightly --version` prints it: the
/// machine's one nightly (no other toolchain can be fetched here), so the pin is checked, not
/// installed. A different nightly fails the run, naming both.
const NIGHTLY: &str = "rustc 1.97.0-nightly (e50aa6fba 2026-05-19)";

/// The rustup toolchain holding that nightly: `nightly` on this machine kind, or the dated
/// name a machine that installs it uses (`MONIME_FUZZ_TOOLCHAIN=nightly-2026-05-20`).
fn toolchain() -> String {
    std::env::var("MONIME_FUZZ_TOOLCHAIN").unwrap_or_else(|_| "nightly".to_owned())
}

fn check_nightly() -> Result<()> {
    let output = Command::new("rustc")
        .arg(format!("+{}", toolchain()))
        .arg("--version")
        .env_remove("RUSTC")
        .output()
        .map_err(|e| fail!("cannot run rustc +nightly: {e}"))?;
    let found = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    if found == NIGHTLY {
        Ok(())
    } else {
        Err(fail!(
            "fuzzing is pinned to `{NIGHTLY}`, but toolchain `{}` is `{found}`: \
             install that nightly, or move the pin in xtask/src/fuzz.rs",
            toolchain()
        ))
    }
}

pub fn run(root: &Path, seconds: u64) -> Result<()> {
    fuzz_each(
        root,
        &format!("-max_total_time={seconds}"),
        &format!("for {seconds} s"),
    )
}

/// CI's check of the fuzz targets: clippy on nightly (warnings are errors), then a short run
/// of each (a fixed number of inputs, so it takes seconds whatever the machine).
pub fn smoke(root: &Path) -> Result<()> {
    check_nightly()?;
    // `--locked`: the committed lock file is used as it is, so the fuzz build runs no
    // dependency's build script that review has not seen; `cargo fuzz` then reuses it.
    let status = nightly(Command::new("cargo"))
        .args(["clippy", "--locked", "--all-targets", "--manifest-path"])
        .arg(root.join(FUZZ_CRATE).join("fuzz/Cargo.toml"))
        .args(["--", "-D", "warnings"])
        .current_dir(root)
        .status()
        .map_err(|e| fail!("cannot run cargo clippy on the fuzz targets: {e}"))?;
    if !status.success() {
        return Err(fail!(
            "clippy found problems in the fuzz targets ({status})"
        ));
    }
    fuzz_each(root, "-runs=5000", "for 5,000 inputs")
}

/// `command` on the pinned nightly (libFuzzer's instrumentation needs it) instead of the
/// workspace's stable toolchain.
fn nightly(mut command: Command) -> Command {
    command
        .env("RUSTUP_TOOLCHAIN", toolchain())
        .env_remove("CARGO")
        .env_remove("RUSTC");
    command
}

fn fuzz_each(root: &Path, limit: &str, described: &str) -> Result<()> {
    check_nightly()?;
    let cargo_fuzz = tools::cargo_tool(root, "cargo-fuzz", "cargo-fuzz", CARGO_FUZZ_VERSION)?;
    for target in TARGETS {
        println!("\n==> fuzzing {target} {described}");
        let status = nightly(Command::new(&cargo_fuzz))
            .args(["fuzz", "run", target, "--", limit])
            .current_dir(root.join(FUZZ_CRATE))
            .status()
            .map_err(|e| fail!("cannot run cargo-fuzz: {e}"))?;
        if !status.success() {
            return Err(fail!(
                "fuzz target {target} failed ({status}); the crashing input is under \
                 {FUZZ_CRATE}/fuzz/artifacts/{target}/"
            ));
        }
    }
    Ok(())
}

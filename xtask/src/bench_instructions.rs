//! `cargo xtask bench-instructions [CALLS]`: the cost of one `get` in instructions, for each way
//! of calling the canned server of `crates/monime-webhooks/benches/get.rs` (bare reqwest +
//! serde, the client, the generated operation alone).
//!
//! Timings on this machine move by several percent from one run to the next; an instruction
//! count under valgrind does not (the same binary and arguments give the same count to within
//! a few hundred instructions in a hundred million). Each kind runs twice, with `CALLS` and with
//! `2 * CALLS` calls after one warm-up call; the difference divided by `CALLS` is one call,
//! without the process's start, the server's set-up or the first connection. Instructions are
//! not time (a system call counts as one, a cache miss as none), so this complements the
//! timed benchmark rather than replacing it. It is a benchmark, not a test: nothing is asserted.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::failure::{Failure, Result};

/// The kinds of call the bench binary knows, the baseline first.
const KINDS: [&str; 3] = ["bare", "client", "generated"];

pub fn run(root: &Path, calls: u64) -> Result<()> {
    if calls == 0 {
        return Err(Failure::new("CALLS must be at least 1"));
    }
    let binary = build(root)?;
    let mut per_call = Vec::new();
    for kind in KINDS {
        let short = count(&binary, kind, calls)?;
        let long = count(&binary, kind, 2 * calls)?;
        if long <= short {
            return Err(Failure::new(format!(
                "`{kind}`: {} calls counted {long} instructions, {calls} calls {short}; \
                 the counts are not comparable",
                2 * calls
            )));
        }
        let instructions = (long - short) as f64 / calls as f64;
        println!("{kind:>10}: {instructions:>9.0} instructions per call");
        per_call.push(instructions);
    }
    let bare = per_call[0];
    for (kind, instructions) in KINDS.iter().zip(&per_call).skip(1) {
        // Not set against the timed goal: the canned server runs on the same thread and
        // counts on both sides, and kernel time is not counted at all.
        println!(
            "{kind:>10}: {:.3}x bare (canned server included on both sides)",
            instructions / bare
        );
    }
    Ok(())
}

/// Builds the bench binary as `cargo bench` does and returns its path.
fn build(root: &Path) -> Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .current_dir(root)
        .args([
            "bench",
            "--no-run",
            "-p",
            "monime-webhooks",
            "--bench",
            "get",
            "--message-format=json",
        ])
        .output()
        .map_err(|e| Failure::new(format!("cannot run cargo bench: {e}")))?;
    if !output.status.success() {
        return Err(Failure::new(format!(
            "cargo bench --no-run failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| message["target"]["name"] == "get")
        .find_map(|message| message["executable"].as_str().map(PathBuf::from))
        .ok_or_else(|| Failure::new("cargo bench --no-run named no `get` executable"))
}

/// Instructions of one run of `calls` calls of `kind`, as callgrind counts them.
fn count(binary: &Path, kind: &str, calls: u64) -> Result<u64> {
    let output = Command::new("valgrind")
        .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
        .arg(binary)
        .args(["--instructions", kind, &calls.to_string()])
        .output()
        .map_err(|e| {
            Failure::new(format!(
                "cannot run valgrind ({e}); it is in Debian's `valgrind` package"
            ))
        })?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(Failure::new(format!(
            "valgrind on `{kind}` failed:\n{stderr}"
        )));
    }
    collected(&stderr).ok_or_else(|| {
        Failure::new(format!(
            "valgrind printed no instruction count for `{kind}`:\n{stderr}"
        ))
    })
}

/// The total of callgrind's `==PID== Collected : N` line.
fn collected(stderr: &str) -> Option<u64> {
    stderr.lines().find_map(|line| {
        let (_, count) = line.split_once("Collected :")?;
        count.trim().parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::collected;

    #[test]
    fn reads_callgrinds_total() {
        let stderr = "==7== Events    : Ir\n==7== Collected : 150254125\n==7==\n==7== I   refs:      150,254,125\n";
        assert_eq!(collected(stderr), Some(150_254_125));
        assert_eq!(collected("==7== nothing\n"), None);
    }
}

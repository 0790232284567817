//! `cargo xtask bench-instructions [CALLS]`: the cost of one `get` in instructions and
//! first-level cache misses, for each way of calling the canned server of
//! `crates/monime-webhooks/benches/get.rs` (bare reqwest + serde, the client, the generated
//! operation alone, the bare call bounded by the client's per-attempt timeout).
//!
//! Timings on this machine move by several percent from one run to the next; counts under
//! valgrind do not (the same binary and arguments give the same counts to within a few
//! hundred instructions in a hundred million). Each kind runs twice under cachegrind, with
//! `CALLS` and with `2 * CALLS` calls after one warm-up call; the difference divided by `CALLS`
//! is one call, without the process's start, the server's set-up or the first connection.
//! Instructions alone leave out the memory side: parsing a URL is thousands of instructions
//! that run from a few hot cache lines, while each cache line more that a call touches (code
//! or data) costs time without many instructions. The
//! misses come from cachegrind's model of this machine's caches (32 KiB first-level caches),
//! not from the hardware. Neither a system call nor the kernel's work is counted, so this
//! complements the timed benchmark rather than replacing it. It is a benchmark, not a test:
//! nothing is asserted.
//!
//! A second table counts each call with cold caches (the bench binary's `--cold`: an 8 MiB
//! buffer written between calls, against a 4 MiB last-level model): the cache lines of code
//! and data a call has to bring in, beyond the bare call's. Writing data does not empty the
//! code cache, so code still there from the end of the previous call (at most its 32 KiB, and
//! the same code for every kind) is not counted: the column is for comparing kinds, not an
//! absolute size. On this machine the timed overhead of a `get` follows that number (about
//! 1.5% of a call per 100 lines, BENCHMARKS.md) much more closely than it follows instructions.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::failure::{Failure, Result};

/// The kinds of call the bench binary knows, the baseline first.
const KINDS: [&str; 4] = ["bare", "client", "generated", "bare_timeout"];

/// cachegrind's caches, fixed so that counts do not depend on the host: this machine's 32 KiB
/// first-level caches, and a last level half the size of the bench binary's 8 MiB eviction
/// buffer.
const CACHES: [&str; 3] = ["--I1=32768,8,64", "--D1=32768,8,64", "--LL=4194304,16,64"];

pub fn run(root: &Path, calls: u64) -> Result<()> {
    if calls == 0 {
        return Err(Failure::new("CALLS must be at least 1"));
    }
    let binary = build(root)?;
    let mut per_call = Vec::new();
    println!(
        "{:>12}  {:>12}  {:>17}  {:>17}",
        "", "instructions", "code-cache misses", "data-cache misses"
    );
    for kind in KINDS {
        let call = per_call_of(
            &binary,
            kind,
            calls,
            false,
            [|c| c.instructions, |c| c.code_misses, |c| c.data_misses],
        )?;
        println!(
            "{kind:>12}  {:>12.0}  {:>17.0}  {:>17.0}   per call",
            call[0], call[1], call[2]
        );
        per_call.push(call);
    }
    let bare = per_call[0];
    for (kind, call) in KINDS.iter().zip(&per_call).skip(1) {
        // Not set against the timed goal: the canned server runs on the same thread and
        // counts on both sides, and kernel time is not counted at all.
        println!(
            "{kind:>12}  {:>11.3}x  {:>+17.0}  {:>+17.0}   against bare (canned server included \
             on both sides)",
            call[0] / bare[0],
            call[1] - bare[1],
            call[2] - bare[2]
        );
    }
    cold(&binary, (calls / 4).max(1))
}

/// The cold-cache table: lines brought in per call, against the bare call's.
fn cold(binary: &Path, calls: u64) -> Result<()> {
    println!(
        "\ncold caches, {calls} and {} calls: cache lines a call brings in beyond bare",
        2 * calls
    );
    println!(
        "{:>12}  {:>10}  {:>10}  {:>13}  {:>11}",
        "", "code", "data read", "data written", "all"
    );
    let mut per_call = Vec::new();
    for kind in KINDS {
        per_call.push(per_call_of(
            binary,
            kind,
            calls,
            true,
            [|c| c.cold_code, |c| c.cold_reads, |c| c.cold_writes],
        )?);
    }
    let bare = per_call[0];
    for (kind, call) in KINDS.iter().zip(&per_call).skip(1) {
        let more: Vec<f64> = call.iter().zip(bare).map(|(a, b)| a - b).collect();
        println!(
            "{kind:>12}  {:>+10.0}  {:>+10.0}  {:>+13.0}  {:>+11.0}",
            more[0],
            more[1],
            more[2],
            more.iter().sum::<f64>()
        );
    }
    Ok(())
}

/// Three counts of one call of `kind`: runs of `calls` and `2 * calls` calls, their
/// difference divided by `calls`. Fails when the longer run did not count more instructions
/// (and, with cold caches, did not write more lines): the two runs did not do the same work.
fn per_call_of(
    binary: &Path,
    kind: &str,
    calls: u64,
    cold: bool,
    fields: [fn(&Counts) -> u64; 3],
) -> Result<[f64; 3]> {
    let short = count(binary, kind, calls, cold)?;
    let long = count(binary, kind, 2 * calls, cold)?;
    if long.instructions <= short.instructions || (cold && long.cold_writes <= short.cold_writes) {
        return Err(Failure::new(format!(
            "`{kind}`{}: {} calls counted {} instructions and {} lines written, {calls} calls {} \
             and {}; the counts are not comparable",
            if cold { " with cold caches" } else { "" },
            2 * calls,
            long.instructions,
            long.cold_writes,
            short.instructions,
            short.cold_writes
        )));
    }
    // Signed: a count can fall between the two runs (misses, by chance of layout).
    Ok(fields.map(|of| (of(&long) as f64 - of(&short) as f64) / calls as f64))
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

/// What cachegrind counted over one run.
#[derive(Debug, PartialEq, Eq)]
struct Counts {
    instructions: u64,
    /// First-level instruction-cache misses.
    code_misses: u64,
    /// First-level data-cache misses, reads and writes.
    data_misses: u64,
    /// Last-level misses: lines of code, of data read and of data written brought in.
    cold_code: u64,
    cold_reads: u64,
    cold_writes: u64,
}

/// The counts of one run of `calls` calls of `kind`, under cachegrind; `cold` evicts the
/// caches between calls.
fn count(binary: &Path, kind: &str, calls: u64, cold: bool) -> Result<Counts> {
    let output = Command::new("valgrind")
        .args([
            "--tool=cachegrind",
            "--cache-sim=yes",
            "--cachegrind-out-file=/dev/null",
        ])
        .args(CACHES)
        .arg(binary)
        .args(["--instructions", kind, &calls.to_string()])
        .args(cold.then_some("--cold"))
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
    counts(&stderr).map_err(|missing| {
        Failure::new(format!(
            "cachegrind printed no `{missing}` line (with its parts read and written where it \
             has them) for `{kind}`{}:\n{stderr}",
            if cold { " with cold caches" } else { "" }
        ))
    })
}

/// cachegrind's summary: `==PID== I   refs: N`, `I1  misses: N`, `D1  misses: N (...)`,
/// `LLi misses: N`, `LLd misses: N (R rd + W wr)`; `Err` names the first line missing.
fn counts(stderr: &str) -> Result<Counts, &'static str> {
    // The numbers after the label: the total, then the parts in parentheses, if any.
    let numbers = |label: &str| {
        stderr.lines().find_map(|line| {
            let (_, summary) = line.split_once("== ")?;
            let (name, rest) = summary.split_once(':')?;
            let name: Vec<&str> = name.split_whitespace().collect();
            if name.join(" ") != label {
                return None;
            }
            let numbers: Vec<u64> = rest
                .split(|c: char| !c.is_ascii_digit() && c != ',')
                .filter_map(|word| word.replace(',', "").parse().ok())
                .collect();
            (!numbers.is_empty()).then_some(numbers)
        })
    };
    let total = |label: &'static str| numbers(label).map(|numbers| numbers[0]).ok_or(label);
    let (cold_reads, cold_writes) = match numbers("LLd misses").as_deref() {
        Some(&[_, reads, writes]) => (reads, writes),
        _ => return Err("LLd misses"),
    };
    Ok(Counts {
        instructions: total("I refs")?,
        code_misses: total("I1 misses")?,
        data_misses: total("D1 misses")?,
        cold_code: total("LLi misses")?,
        cold_reads,
        cold_writes,
    })
}

#[cfg(test)]
mod tests {
    use super::{Counts, counts};

    #[test]
    fn reads_cachegrinds_summary() {
        let stderr = "==7== \n==7== I   refs:      150,254,125\n==7== I1  misses:      5,092,739\n\
                      ==7== LLi misses:          8,686\n==7== I1  miss rate:        3.39%\n\
                      ==7== D   refs:       3,925,343  (2,720,013 rd   + 1,205,330 wr)\n\
                      ==7== D1  misses:     1,342,530  (  804,577 rd   +   537,953 wr)\n\
                      ==7== LLd misses:        17,900  (    7,604 rd   +    10,296 wr)\n";
        assert_eq!(
            counts(stderr),
            Ok(Counts {
                instructions: 150_254_125,
                code_misses: 5_092_739,
                data_misses: 1_342_530,
                cold_code: 8_686,
                cold_reads: 7_604,
                cold_writes: 10_296,
            })
        );
        assert_eq!(
            counts("==7== I   refs:      15\n==7== I1  miss rate: 3%\n"),
            Err("LLd misses")
        );
        assert_eq!(
            counts(&stderr.replace("(    7,604 rd   +    10,296 wr)", "")),
            Err("LLd misses")
        );
        assert_eq!(
            counts(&stderr.replace("LLi misses", "LLx misses")),
            Err("LLi misses")
        );
    }
}

//! A `monime-mock` process for the CI's contract checks, stopped when dropped.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::failure::Result;

#[derive(Debug)]
pub struct Emulator {
    _process: KillOnDrop,
    pub url: String,
}

/// A child process stopped when dropped.
#[derive(Debug)]
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The workspace's cargo target folder.
pub fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from)
}

impl Emulator {
    /// Starts the already built debug binary on a free port and waits for its URL line.
    pub fn start(root: &Path, extra_args: &[&str]) -> Result<Emulator> {
        let binary = target_dir(root).join("debug/monime-mock");
        let mut child = Command::new(&binary)
            .args(["--addr", "127.0.0.1:0"])
            .args(extra_args)
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| fail!("cannot start {}: {e}", binary.display()))?;
        let stdout = child.stdout.take().expect("stdout was piped");
        // Stopped on every way out, the failure included.
        let process = KillOnDrop(child);
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let url = line.trim().strip_prefix("monime-mock listening on ");
        let url =
            url.ok_or_else(|| fail!("monime-mock did not report its address (printed {line:?})"))?;
        Ok(Emulator {
            _process: process,
            url: url.to_owned(),
        })
    }
}

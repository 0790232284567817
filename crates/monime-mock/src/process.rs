//! The emulator as a child process, for benchmarks and tools that want it outside their own
//! process (so it does not share their runtime or allocator).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// The start of the one line the binary prints once it listens.
pub const LISTENING_LINE_PREFIX: &str = "monime-mock listening on ";

/// A running `monime-mock` process; killed when dropped.
#[derive(Debug)]
pub struct MockProcess {
    child: Child,
    url: String,
}

impl MockProcess {
    /// Starts `binary` on a free port of 127.0.0.1 with `extra_args` and waits for its URL.
    pub fn spawn(binary: &Path, extra_args: &[&str]) -> std::io::Result<MockProcess> {
        let mut child = Command::new(binary)
            .args(["--addr", "127.0.0.1:0"])
            .args(extra_args)
            .stdout(Stdio::piped())
            .spawn()?;
        let mut line = String::new();
        if let Some(stdout) = child.stdout.take() {
            BufReader::new(stdout).read_line(&mut line)?;
        }
        match line.trim().strip_prefix(LISTENING_LINE_PREFIX) {
            Some(url) => Ok(MockProcess {
                url: url.to_owned(),
                child,
            }),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                Err(std::io::Error::other(format!(
                    "monime-mock printed {line:?} instead of its URL"
                )))
            }
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for MockProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

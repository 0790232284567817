//! Helpers for the workspace tests in `tests/tests/`: a readable inventory of the generated
//! client (guarded by insta snapshots) and a recording HTTP server on 127.0.0.1.

pub mod inventory;
pub mod recorder;

/// The workspace README's Rust examples, compiled (and run unless `no_run`) as doctests, so
/// the README cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeExamples;

/// The emulator README's Rust examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../crates/monime-mock/README.md")]
pub struct MockReadmeExamples;

use std::path::PathBuf;

/// The workspace root (this crate lives in `tests/`).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

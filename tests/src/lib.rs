//! Helpers for the workspace tests in `tests/tests/`: a readable inventory of the generated
//! client (guarded by insta snapshots) and a recording HTTP server on 127.0.0.1.

pub mod inventory;
pub mod recorder;

use std::path::PathBuf;

/// The workspace root (this crate lives in `tests/`).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

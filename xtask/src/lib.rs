//! The workspace's task runner. Every command returns a [`Failure`] instead of panicking, so a
//! bad spec or a missing tool ends in one readable paragraph.

mod base_url;
pub mod bench_build;
pub mod bench_instructions;
pub mod ci;
pub mod cli;
pub mod diff;
pub mod emulator;
pub mod events;
pub mod failure;
pub mod format;
pub mod fuzz;
pub mod generate;
mod header_params;
pub mod package;
pub mod paths;
mod response_body;
mod schema_constraints;
mod sends;
pub mod spec;
pub mod tables;
pub mod tools;
pub mod upstream;
mod version_header;
pub mod versions;

pub use failure::Failure;

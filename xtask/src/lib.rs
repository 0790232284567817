//! The workspace's task runner. Every command returns a [`Failure`] instead of panicking, so a
//! bad spec or a missing tool ends in one readable paragraph.

/// A [`Failure`] whose message is `format!(...)` of the arguments.
macro_rules! fail {
    ($($message:tt)*) => {
        $crate::failure::Failure(format!($($message)*))
    };
}

pub mod ci;
pub mod cli;
pub mod diff;
pub mod emulator;
pub mod events;
pub mod failure;
pub mod fuzz;
pub mod generate;
pub mod open_types;
pub mod package;
pub mod paths;
pub mod setters;
pub mod spec;
pub mod tables;
pub mod tools;
pub mod upstream;
pub mod versions;

pub use failure::Failure;

//! One file per subcommand: each picks a source and hands its outcome to
//! the shared finish (`settings::Session::finish`).

pub mod baseline;
pub mod git;
pub mod hook;
pub mod merge;
pub mod rules;
pub mod scan;
pub mod staged;

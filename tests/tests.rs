//! The integration suite, one binary (ripgrep's pattern): every file here is
//! a module, and `common/` holds the helpers they share (the binary under
//! test, generated keys, fixture repositories, archives, a mock provider).

mod common;

mod artifacts;
mod bad_input;
mod binaries;
mod ci_clones;
mod client_side;
mod decode_unit;
mod engine;
mod git_cli;
mod hard_cases;
mod history_scale;
mod hostile_git;
mod html_report;
mod org_cli;
mod packaging;
mod properties;
mod rules;
mod sarif;
mod scan_cli;
mod ship;
mod suppress_cli;
mod team;
mod team_output;
mod verify_cli;

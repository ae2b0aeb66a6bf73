//! stackgate: conformance gates for rebuilding charmed OpenStack on MAAS + Juju.
//!
//! Data flows one way: `runner` (the only place that spawns a process) -> `sources`
//! (argv and serde model per CLI) -> `snapshot` (what one run read) -> `gates` (pure
//! verdicts) -> `report` (the only writer of output). See the project README.
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod actions;
pub mod cli;
pub mod drift;
pub mod events;
pub mod fixtures;
pub mod gates;
pub mod profile;
pub mod redact;
pub mod rehearsal;
pub mod report;
pub mod resolve;
pub mod run;
pub mod runner;
pub mod sim;
pub mod snapshot;
pub mod sources;
pub mod waivers;
pub mod world;

//! The offline simulator (DESIGN.md layer 6): renders the output the real CLIs print,
//! byte for byte, from a described cloud, so gates, tests and benchmarks run on clouds
//! of any size with no controller.
//!
//! Today it renders `juju status --format=json` for a healthy, settled model of a
//! given [`CloudShape`]; the mutable world and the `Sim` runner backend grow here.

pub mod json;
pub mod status;

pub use status::{CloudShape, VaultState};

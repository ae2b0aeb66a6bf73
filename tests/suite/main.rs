//! The integration tests, one module per subject, in one test binary: cargo runs test
//! binaries one after another, so as separate binaries the short ones waited on each
//! other with a core idle; together libtest runs them side by side (8 at once,
//! `.cargo/config.toml`), and the build links one binary, not eleven.

mod common;

mod actions;
mod cli;
mod damage;
mod key_paths;
mod libvirt;
mod openstack;
mod properties;
mod recording;
mod reports;
mod upstream_strings;
mod wait;

//! The offline simulator (the offline simulator): a mutable cloud loaded from a fixture
//! world. It answers read commands by rendering the bytes the real CLI prints and applies
//! mutating commands with the behaviour the change log recorded, behind the same
//! [`CommandRunner`](crate::runner::CommandRunner) trait as the live backend
//! ([`Sim`]), so gates, actions and tests cannot tell it from a cloud.
//!
//! - [`maas`]: machines, interfaces, subnets, VLANs, IP records, ranges, tags;
//! - [`host`]: the jumphost: libvirt domains and networks (virsh), disk images
//!   (qemu-img, stat, rm, chown, chmod) and plain files (cat, ls);
//! - [`juju`]: models, their machines, model defaults and config, spaces;
//! - [`openstack`]: the openstack client: networks, subnets, security groups, images,
//!   the service catalog;
//! - [`status`]: `juju status` for a healthy cloud of any size (benches, properties);
//! - [`images`]: a loopback HTTP server publishing the amphora base image and its
//!   `SHA256SUMS` (the pipeline's download is stackgate's own, not a command).
//!
//! Each part answers the argvs it owns and returns `None` for the rest; the runner
//! asks each part in turn, then falls back to the world's recording for a read no part
//! models, and refuses a mutating argv no part models (the simulator never pretends a
//! mutation happened).

pub mod host;
pub mod images;
pub mod json;
pub mod juju;
pub mod keystone;
pub mod maas;
pub mod octavia;
pub mod openstack;
mod runner;
pub mod status;
pub mod vault;

pub use runner::{Sim, SimError};
pub use status::{CloudShape, VaultState};

/// What one simulated command printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub exit: i32,
    pub stdout: bytes::Bytes,
    pub stderr: Vec<u8>,
}

impl Answer {
    /// Exit 0 with `stdout`.
    pub fn ok(stdout: impl Into<Vec<u8>>) -> Self {
        Answer {
            exit: 0,
            stdout: bytes::Bytes::from(stdout.into()),
            stderr: Vec::new(),
        }
    }

    /// Exit `exit` with `stderr` and nothing on stdout.
    pub fn fail(exit: i32, stderr: impl Into<Vec<u8>>) -> Self {
        Answer {
            exit,
            stdout: Default::default(),
            stderr: stderr.into(),
        }
    }
}

/// A change one part's command makes in another part: juju's MAAS provider acting on
/// MAAS machines when a model or machine goes away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// The model that held the machine is gone and MAAS got it back. On a virsh-pod
    /// MAAS with [`SimConfig::decompose_on_destroy`] the machine object is deleted
    /// (decomposed: D-055, D-061, seed 002, observed three times); otherwise it is
    /// released to Ready.
    ModelMachineGone { hostname: String },
    /// `remove-machine --keep-instance`: juju forgets the machine, MAAS keeps it
    /// Deployed with its carve (seed 002 Path A).
    MachineKept { hostname: String },
    /// A juju command wrote a file on the jumphost (`export-bundle --filename`).
    WroteFile { path: String, contents: Vec<u8> },
    /// The model's `juju status` is now the one this world recorded: the vault moved
    /// to the moment that world holds ([`vault`]).
    RecordedStatus { model: String, world: &'static str },
}

/// How the simulated systems behave where the change log recorded a choice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimConfig {
    /// `juju models` reads a destroyed model still shows as destroying before it is
    /// gone.
    pub destroy_polls: u32,
    /// Simulated time one `juju models` read of a destroying model stands for (the
    /// executor polls every 10 s): its `since` ages by this much per read, so a destroy
    /// that never finishes is past the remediation bound after enough polls.
    pub seconds_per_poll: u64,
    /// A destroy that never finishes (the remediation case: remove-machine --force
    /// per lingering machine, then the model goes).
    pub destroy_stuck: bool,
    /// `machines read` reads a new machine spends in New, then in Commissioning,
    /// before it is Ready.
    pub commission_polls: u32,
    /// destroy-model on this virsh-pod MAAS deletes the machine objects (D-055/D-061)
    /// instead of releasing them.
    pub decompose_on_destroy: bool,
    /// The jumphost runs the real programs where this machine has them
    /// (`host::real`): virsh on libvirt's test driver, qemu-img and qemu-io on real
    /// qcow2 files in a tempdir the simulator removes when it drops. Off by default:
    /// the modelled answers are byte for byte the recordings. [`Sim::new`] fails, naming
    /// the program and its package, where virsh, qemu-img or qemu-io is missing.
    pub real_programs: bool,
    /// Reads of a unit's o-hm0 after configure-resources that still find no device
    /// (the port's bring-up); `u32::MAX`: it never comes up.
    pub o_hm0_bringup_reads: u32,
    /// The certificate cascade after generate-root-ca: the recorded `juju status` worlds
    /// the model shows, in order, each for that many `juju status` reads, before
    /// `phase02-authorized` (vault ready, every consumer active). Empty: straight there.
    pub cert_cascade: Vec<(&'static str, u32)>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            destroy_polls: 2,
            seconds_per_poll: 10,
            destroy_stuck: false,
            commission_polls: 2,
            decompose_on_destroy: true,
            real_programs: false,
            o_hm0_bringup_reads: 2,
            cert_cascade: Vec::new(),
        }
    }
}

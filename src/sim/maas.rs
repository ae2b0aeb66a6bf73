//! The simulated MAAS region: machines, interfaces, subnets, VLANs, IP records, ranges
//! and tags, loaded from a world's `maas <profile> ...` recordings.

use super::{Answer, Effect, SimConfig};
use crate::world::World;

/// MAAS as the simulator holds it.
#[derive(Debug, Default)]
pub struct MaasState {}

impl MaasState {
    pub fn load(_world: &World, _profile: &str) -> Result<Self, String> {
        Ok(MaasState {})
    }

    pub fn answer(
        &mut self,
        _argv: &[String],
        _stdin: Option<&[u8]>,
        _config: &SimConfig,
    ) -> Option<Answer> {
        None
    }

    /// Applies what juju did to MAAS machines ([`Effect::ModelMachineGone`],
    /// [`Effect::MachineKept`]); other effects are not MAAS's.
    pub fn apply(&mut self, _effect: &Effect, _config: &SimConfig) {}

    /// Each space MAAS holds, with the CIDRs of its subnets, as juju's MAAS provider
    /// imports them at add-model and reload-spaces.
    pub fn spaces(&self) -> Vec<(String, Vec<String>)> {
        Vec::new()
    }
}

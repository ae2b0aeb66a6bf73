//! The simulated juju controller: models, their machines, model defaults and config,
//! spaces.

use super::maas::MaasState;
use super::{Answer, Effect, SimConfig};
use crate::world::World;

/// The controller as the simulator holds it.
#[derive(Debug, Default)]
pub struct JujuState {
    effects: Vec<Effect>,
}

impl JujuState {
    pub fn load(_world: &World) -> Result<Self, String> {
        Ok(JujuState::default())
    }

    pub fn answer(
        &mut self,
        _argv: &[String],
        _stdin: Option<&[u8]>,
        _config: &SimConfig,
        _maas: &MaasState,
    ) -> Option<Answer> {
        None
    }

    /// What juju's MAAS provider did to MAAS machines since the last call.
    pub fn drain_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }
}

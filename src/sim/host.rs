//! The simulated jumphost: libvirt domains and networks (virsh), disk images
//! (qemu-img, stat, rm, chown, chmod) and plain files (cat, ls).

use super::{Answer, Effect, SimConfig};
use crate::world::World;

/// The jumphost as the simulator holds it.
#[derive(Debug, Default)]
pub struct HostState {}

impl HostState {
    pub fn load(_world: &World) -> Result<Self, String> {
        Ok(HostState {})
    }

    pub fn answer(
        &mut self,
        _argv: &[String],
        _stdin: Option<&[u8]>,
        _config: &SimConfig,
    ) -> Option<Answer> {
        None
    }

    /// Applies a file another part wrote ([`Effect::WroteFile`]); other effects are not
    /// the jumphost's.
    pub fn apply(&mut self, _effect: &Effect) {}
}

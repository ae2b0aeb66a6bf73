//! Given steps: the site profile and the fixture world a scenario reads. Worlds come from
//! the copy of `fixtures/` embedded in the library (what the binary ships), checked
//! against the files on disk so a stale embedding cannot pass silently.

use std::path::Path;

use cucumber::given;
use stackgate::profile::Profile;
use stackgate::world::World;

use crate::{Fixture, GateWorld};

const SITE: &str = "testcloud";

#[given("the testcloud site profile")]
fn testcloud_profile(w: &mut GateWorld) -> Result<(), String> {
    let profile = Profile::testcloud();
    if profile.name != SITE {
        return Err(format!(
            "the embedded default profile is named {:?}, expected {SITE:?}",
            profile.name
        ));
    }
    w.profile = Some(profile);
    Ok(())
}

/// A profile file of the project's `profiles/`, used against worlds recorded for another
/// profile on purpose: the world is the cloud as it is, the profile what it should be.
#[given(
    expr = "the site profile file {string}, checked against a cloud recorded for another profile"
)]
fn profile_file(w: &mut GateWorld, file: String) -> Result<(), String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("profiles")
        .join(&file);
    w.profile = Some(Profile::from_file(&path).map_err(|e| e.to_string())?);
    w.foreign_profile = true;
    Ok(())
}

#[given(expr = "the fixture world {fixture}")]
fn fixture_world(w: &mut GateWorld, fixture: Fixture) -> Result<(), String> {
    let name = format!("{SITE}/{}", fixture.0);
    let on_disk = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(&name);
    let world = World::embedded(&name).map_err(|e| {
        if on_disk.join("world.toml").is_file() {
            format!(
                "{e}\n{} exists on disk but not in the embedded copy: the fixtures changed \
                 after the last build (touch src/world.rs and re-run)",
                on_disk.display()
            )
        } else {
            e.to_string()
        }
    })?;
    check_embedding_is_current(&world, &on_disk)?;
    let profile = match w.profile.take() {
        Some(p) => p,
        None => Profile::embedded(&world.profile).ok_or_else(|| {
            format!(
                "world {name} was recorded for profile {:?}, which is not embedded",
                world.profile
            )
        })?,
    };
    if profile.name != world.profile && !w.foreign_profile {
        return Err(format!(
            "world {name} was recorded for profile {:?}, but the scenario uses profile {:?}",
            world.profile, profile.name
        ));
    }
    w.profile = Some(profile);
    w.fixture = Some(world);
    Ok(())
}

/// include_dir embeds `fixtures/` at compile time and cargo does not watch that
/// directory, so an edited recording could be tested in its old form. Every recording
/// must match the world as it is on disk now.
fn check_embedding_is_current(embedded: &World, dir: &Path) -> Result<(), String> {
    let disk = World::from_dir(dir).map_err(|e| e.to_string())?;
    let stale = "the embedded fixtures are stale (touch src/world.rs and re-run)";
    let disk_argvs: Vec<&Vec<String>> = disk.argvs().collect();
    let embedded_argvs: Vec<&Vec<String>> = embedded.argvs().collect();
    if disk_argvs != embedded_argvs {
        return Err(format!(
            "world {}: the embedded copy holds {} command(s), the directory on disk {}: {stale}",
            embedded.name,
            embedded_argvs.len(),
            disk_argvs.len()
        ));
    }
    for argv in embedded_argvs {
        let (a, b) = (embedded.get(argv), disk.get(argv));
        let same = match (a, b) {
            (Some(a), Some(b)) => a.stdout == b.stdout && a.stderr == b.stderr && a.exit == b.exit,
            _ => false,
        };
        if !same {
            return Err(format!(
                "world {}: the recording of `{}` differs between the embedded copy and disk: {stale}",
                embedded.name,
                argv.join(" ")
            ));
        }
    }
    Ok(())
}

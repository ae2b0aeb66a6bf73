//! Fixture worlds: raw CLI outputs plus a `world.toml` manifest mapping each argv to
//! its stdout, stderr and exit status (format in `fixtures/README.md`). Worlds load from
//! disk (`--world DIR`) or from the copy of `fixtures/` embedded in the binary.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use include_dir::{Dir, include_dir};
use serde::Deserialize;

/// The project's `fixtures/` directory, embedded so a fresh clone and an installed
/// binary both run on the testcloud worlds.
pub static EMBEDDED: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/fixtures");

const MANIFEST: &str = "world.toml";
const MAX_EXTENDS_DEPTH: usize = 8;

/// Why a world could not be loaded.
#[derive(Debug, Clone, thiserror::Error)]
#[error("failed to load fixture world {world}: {message}")]
pub struct WorldError {
    pub world: String,
    pub message: String,
}

/// One recorded answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recording {
    /// Shared with every replay of it (a large status is held once).
    pub stdout: bytes::Bytes,
    pub stderr: Vec<u8>,
    pub exit: i32,
    /// The world whose manifest declared this entry.
    pub declared_in: String,
    /// Why the output is damaged on purpose, when the manifest says it is.
    pub damaged: Option<String>,
}

impl Recording {
    /// A recording that holds what a command printed, declared by no manifest.
    pub fn new(stdout: Vec<u8>, stderr: Vec<u8>, exit: i32) -> Self {
        Recording {
            stdout: stdout.into(),
            stderr,
            exit,
            declared_in: String::new(),
            damaged: None,
        }
    }
}

/// A loaded fixture world.
#[derive(Debug, Clone)]
pub struct World {
    pub name: String,
    pub profile: String,
    pub description: String,
    recordings: BTreeMap<Vec<String>, Recording>,
    redacted: BTreeMap<Vec<String>, Vec<String>>,
    /// The file each large stdout read from disk came from (from [`HUGE_READ_FROM`]):
    /// what [`World::take_large_stdouts`] lets go can be read again.
    large_files: BTreeMap<Vec<String>, PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    profile: Option<String>,
    description: Option<String>,
    extends: Option<String>,
    #[serde(default, rename = "command")]
    commands: Vec<ManifestCommand>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestCommand {
    argv: Vec<String>,
    stdout: Option<String>,
    stderr: Option<String>,
    #[serde(default)]
    exit: i32,
    /// What `stackgate record` redacted in this entry (`stdout: key power_parameters
    /// (1)`): the files are not byte-identical to what the CLI printed there.
    #[serde(default)]
    redacted: Vec<String>,
    /// Why this output is damaged on purpose (a world for a gate that must refuse it):
    /// `fixtures check` then requires its parse to fail.
    damaged: Option<String>,
}

/// Where world files are read from.
#[derive(Debug, Clone, Copy)]
pub enum WorldStore {
    Disk,
    Embedded,
}

impl WorldStore {
    fn read(self, path: &Path) -> Result<Vec<u8>, String> {
        self.read_shared(path).map(|b| b.to_vec())
    }

    /// A file's bytes, shared: an embedded file is never copied.
    fn read_shared(self, path: &Path) -> Result<bytes::Bytes, String> {
        match self {
            WorldStore::Disk => read_file(path).map_err(|e| format!("{}: {e}", path.display())),
            WorldStore::Embedded => EMBEDDED
                .get_file(path)
                .map(|f| bytes::Bytes::from_static(f.contents()))
                .ok_or_else(|| format!("{}: not in the embedded fixtures", path.display())),
        }
    }
}

/// From this size a world file is read into memory advised as huge pages.
const HUGE_READ_FROM: u64 = 4 << 20;

/// A file's bytes, as `std::fs::read` gives them. A large one (a status of tens of
/// thousands of units) is read into an anonymous mapping advised as transparent huge
/// pages, where the kernel allows them: the read then takes a few page faults, not one
/// per 4 KiB, which were half the time of reading a 20,000-unit status (8 ms to 4 ms).
/// Never a mapping of the file itself: its bytes could change under a parse that
/// proved them UTF-8.
fn read_file(path: &Path) -> std::io::Result<bytes::Bytes> {
    use std::io::Read;
    let len = std::fs::metadata(path)?.len();
    if len < HUGE_READ_FROM {
        return std::fs::read(path).map(bytes::Bytes::from);
    }
    let mut file = std::fs::File::open(path)?;
    let mut buffer =
        memmap2::MmapMut::map_anon(usize::try_from(len).map_err(std::io::Error::other)?)?;
    // Advice: where huge pages are off, the read takes the faults it always did.
    let _ = buffer.advise(memmap2::Advice::HugePage);
    let whole = file.read_exact(&mut buffer).is_ok() && file.read(&mut [0u8; 1])? == 0;
    if !whole {
        // The file changed size since its length was read: read it as it is now.
        return std::fs::read(path).map(bytes::Bytes::from);
    }
    Ok(bytes::Bytes::from_owner(buffer.make_read_only()?))
}

impl World {
    /// Loads a world directory from disk.
    pub fn from_dir(dir: &Path) -> Result<World, WorldError> {
        Self::load(WorldStore::Disk, dir, 0)
    }

    /// Loads an embedded world by its path under `fixtures/`, e.g. `testcloud/phase02-pre-vault`.
    pub fn embedded(name: &str) -> Result<World, WorldError> {
        Self::load(WorldStore::Embedded, Path::new(name), 0)
    }

    fn load(store: WorldStore, dir: &Path, depth: usize) -> Result<World, WorldError> {
        let name = dir.display().to_string();
        let fail = |message: String| WorldError {
            world: name.clone(),
            message,
        };
        if depth > MAX_EXTENDS_DEPTH {
            return Err(fail(format!(
                "`extends` nests deeper than {MAX_EXTENDS_DEPTH} worlds (a cycle?)"
            )));
        }
        let manifest_bytes = store.read(&dir.join(MANIFEST)).map_err(fail)?;
        let manifest_text =
            String::from_utf8(manifest_bytes).map_err(|e| fail(format!("{MANIFEST}: {e}")))?;
        let manifest: Manifest =
            toml::from_str(&manifest_text).map_err(|e| fail(format!("{MANIFEST}: {e}")))?;

        // The world this one extends, whose answers this one's replace; or none.
        let base = match &manifest.extends {
            Some(base) => Some(Self::load(store, &normalize(&dir.join(base)), depth + 1)?),
            None => None,
        };
        let profile = manifest
            .profile
            .or_else(|| base.as_ref().map(|b| b.profile.clone()));
        let description = manifest
            .description
            .or_else(|| base.as_ref().map(|b| b.description.clone()))
            .unwrap_or_default();
        let mut world = base.unwrap_or_else(|| World::empty(&name, ""));
        for command in manifest.commands {
            if command.argv.is_empty() {
                return Err(fail(format!("{MANIFEST}: a [[command]] has an empty argv")));
            }
            let stdout_path = command.stdout.as_ref().map(|f| normalize(&dir.join(f)));
            let read = |path: Option<&PathBuf>| -> Result<bytes::Bytes, WorldError> {
                match path {
                    Some(path) => store.read_shared(path).map_err(fail),
                    None => Ok(bytes::Bytes::new()),
                }
            };
            let stderr_path = command.stderr.as_ref().map(|f| normalize(&dir.join(f)));
            let recording = Recording {
                stdout: read(stdout_path.as_ref())?,
                stderr: read(stderr_path.as_ref())?.to_vec(),
                exit: command.exit,
                declared_in: name.clone(),
                damaged: command.damaged,
            };
            if command.redacted.is_empty() {
                world.redacted.remove(&command.argv);
            } else {
                world
                    .redacted
                    .insert(command.argv.clone(), command.redacted);
            }
            match (store, stdout_path) {
                (WorldStore::Disk, Some(path))
                    if recording.stdout.len() as u64 >= HUGE_READ_FROM =>
                {
                    world.large_files.insert(command.argv.clone(), path);
                }
                _ => {
                    world.large_files.remove(&command.argv);
                }
            }
            world.recordings.insert(command.argv, recording);
        }
        world.profile = profile.ok_or_else(|| {
            fail(format!(
                "{MANIFEST}: no `profile` (and no world it extends names one)"
            ))
        })?;
        world.name = name;
        world.description = description;
        Ok(world)
    }

    /// A world with no command yet, for tests and tools that build one.
    pub fn empty(name: &str, profile: &str) -> World {
        World {
            name: name.to_string(),
            profile: profile.to_string(),
            description: String::new(),
            recordings: BTreeMap::new(),
            redacted: BTreeMap::new(),
            large_files: BTreeMap::new(),
        }
    }

    /// What `stackgate record` redacted, per argv that has any.
    pub fn redactions(&self) -> &BTreeMap<Vec<String>, Vec<String>> {
        &self.redacted
    }

    pub fn get(&self, argv: &[String]) -> Option<&Recording> {
        self.recordings.get(argv)
    }

    /// Replaces (or adds) the answer to an argv: negative worlds and the damaged copies
    /// the malformed-input tests make from a healthy one.
    pub fn set(&mut self, argv: Vec<String>, recording: Recording) {
        self.large_files.remove(&argv);
        self.recordings.insert(argv, recording);
    }

    /// Takes out every large stdout read from disk, leaving its recording with empty
    /// bytes, for a runner that serves each once and then lets it go
    /// ([`crate::runner::Replay::releasing`]); [`World::reread_stdout`] reads one again.
    pub fn take_large_stdouts(&mut self) -> BTreeMap<Vec<String>, bytes::Bytes> {
        self.large_files
            .keys()
            .filter_map(|argv| {
                let recording = self.recordings.get_mut(argv)?;
                Some((argv.clone(), std::mem::take(&mut recording.stdout)))
            })
            .collect()
    }

    /// A large stdout read from disk, read from its file again: `None` when this argv's
    /// stdout was not one.
    pub fn reread_stdout(&self, argv: &[String]) -> Option<std::io::Result<bytes::Bytes>> {
        self.large_files.get(argv).map(|path| read_file(path))
    }

    /// Every argv the world holds.
    pub fn argvs(&self) -> impl Iterator<Item = &Vec<String>> {
        self.recordings.keys()
    }
}

/// The default embedded world for a phase, from `fixtures/<site>/worlds.toml`.
pub fn default_world(site: &str, phase: &str) -> Result<String, WorldError> {
    #[derive(Deserialize)]
    struct Index {
        default: BTreeMap<String, String>,
    }
    let path = format!("{site}/worlds.toml");
    let fail = |message: String| WorldError {
        world: path.clone(),
        message,
    };
    let bytes = WorldStore::Embedded.read(Path::new(&path)).map_err(fail)?;
    let text = String::from_utf8(bytes).map_err(|e| fail(e.to_string()))?;
    let index: Index = toml::from_str(&text).map_err(|e| fail(e.to_string()))?;
    index
        .default
        .get(phase)
        .map(|w| format!("{site}/{w}"))
        .ok_or_else(|| fail(format!("no default world for phase {phase}")))
}

/// Resolves `.` and `..` without touching the filesystem (embedded paths have no disk).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            // `..` removes a folder kept before it, never a `..` kept before it
            // (`../../w` stays `../../w`), and stops at the root (`/..` is `/`).
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                Some(Component::ParentDir | Component::CurDir) | None => out.push(".."),
            },
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_reads_as_std_reads_it_small_or_large() {
        let dir = tempfile::tempdir().unwrap();
        for len in [
            0usize,
            1,
            4095,
            (HUGE_READ_FROM as usize) - 1,
            HUGE_READ_FROM as usize,
            (5 << 20) + 7,
        ] {
            let path = dir.path().join(format!("f{len}"));
            let bytes: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            std::fs::write(&path, &bytes).unwrap();
            assert_eq!(read_file(&path).unwrap(), bytes, "{len} bytes");
        }
        assert!(read_file(&dir.path().join("absent")).is_err());
    }

    #[test]
    fn normalize_resolves_parent_components() {
        assert_eq!(
            normalize(Path::new("testcloud/a/../b/x.json")),
            PathBuf::from("testcloud/b/x.json")
        );
        assert_eq!(normalize(Path::new("./a/./b")), PathBuf::from("a/b"));
        // A world above the working directory keeps every `..` that climbs to it.
        assert_eq!(
            normalize(Path::new("../../w/x.json")),
            PathBuf::from("../../w/x.json")
        );
        assert_eq!(normalize(Path::new("a/../../b")), PathBuf::from("../b"));
        assert_eq!(normalize(Path::new("../a/../b")), PathBuf::from("../b"));
        assert_eq!(normalize(Path::new("/a/../..")), PathBuf::from("/"));
    }

    #[test]
    fn extends_inherits_and_overrides() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("base");
        let child = dir.path().join("child");
        std::fs::create_dir_all(&base).unwrap();
        std::fs::create_dir_all(&child).unwrap();
        std::fs::write(base.join("a.json"), "{\"a\":1}\n").unwrap();
        std::fs::write(base.join("b.json"), "{\"b\":1}\n").unwrap();
        std::fs::write(child.join("b.json"), "{\"b\":2}\n").unwrap();
        std::fs::write(
            base.join("world.toml"),
            "profile = \"testcloud\"\ndescription = \"base\"\n\
             [[command]]\nargv = [\"x\", \"a\"]\nstdout = \"a.json\"\n\
             [[command]]\nargv = [\"x\", \"b\"]\nstdout = \"b.json\"\n",
        )
        .unwrap();
        std::fs::write(
            child.join("world.toml"),
            "extends = \"../base\"\n[[command]]\nargv = [\"x\", \"b\"]\nstdout = \"b.json\"\nexit = 3\n",
        )
        .unwrap();
        let world = World::from_dir(&child).unwrap();
        assert_eq!(world.profile, "testcloud");
        assert_eq!(
            &world.get(&["x".into(), "a".into()]).unwrap().stdout[..],
            b"{\"a\":1}\n"
        );
        let b = world.get(&["x".into(), "b".into()]).unwrap();
        assert_eq!((&b.stdout[..], b.exit), (&b"{\"b\":2}\n"[..], 3));
    }

    #[test]
    fn unknown_manifest_keys_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("world.toml"),
            "profile = \"t\"\nstdot = \"x\"\n",
        )
        .unwrap();
        let err = World::from_dir(dir.path()).unwrap_err();
        assert!(err.message.contains("stdot"), "{err}");
    }
}

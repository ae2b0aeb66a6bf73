//! The real python-openstackclient in the `@needs-openstack-caracal` scenarios (issue
//! 11.6): the client Caracal pins (6.6.1 on openstacksdk 3.0.0, `.ci/run` installs it
//! as `openstack-caracal`) runs every `openstack ... -f json` a gate reads against a
//! loopback stub of the Keystone, Neutron and Glance APIs (`tests/stubs/openstack_api.py`,
//! serving the testcloud's objects as the composed fixtures state them); juju and MAAS
//! answer from the fixture world. The gates must give the world's verdicts, and what
//! `stackgate record` captures of the client must be the world's files byte for byte.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cucumber::{given, then, when};
use stackgate::cli::{Format, GateRun};
use stackgate::gates;
use stackgate::profile::Profile;
use stackgate::redact::Redactor;
use stackgate::run::RunOptions;
use stackgate::runner::{
    CommandRunner, DEFAULT_TIMEOUT, Layered, Live, Logged, Record, Replay, display_argv,
};
use stackgate::snapshot::DEFAULT_JOBS;
use stackgate::world::World;

use crate::loopback::{Program, STARTUP};
use crate::{GateRunResult, GateWorld};

/// A fixture world of the testcloud, from the embedded copy.
fn load(name: &str) -> Result<World, String> {
    World::embedded(&format!("testcloud/{name}")).map_err(|e| e.to_string())
}

/// The fake password the stub accepts (and nothing else: a wrong one is keystone's 401).
const STUB_PASSWORD: &str = "stub-password";

fn stub_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/stubs/openstack_api.py")
}

/// What the stub serves and where the client finds it.
#[derive(Debug, Default)]
pub struct Stub {
    pub port: Option<u16>,
    /// A directory whose `openstack` is the Caracal client, first on the client's PATH.
    pub bin: Option<PathBuf>,
    /// Where a `record` step wrote its world.
    pub recorded: Option<PathBuf>,
}

#[given(expr = "the OpenStack API stub serving the cloud of {string}")]
async fn stub_serving(w: &mut GateWorld, world: String) -> Result<(), String> {
    let dir = w.loopback.dir()?;
    let data: serde_json::Value = serde_json::from_slice(
        &std::fs::read(stub_script().with_file_name("openstack_api_data.json"))
            .map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    let script = stub_script().display().to_string();
    let mut argv = vec![
        "python3",
        script.as_str(),
        "--idle",
        "120",
        "--max-life",
        "600",
    ];
    // A world the data names is served with its patch; any other is the base state.
    if data["variants"].get(&world).is_some() {
        argv.extend(["--variant", world.as_str()]);
    }
    let log = dir.join("openstack-stub.log");
    let mut program = Program::start("openstack stub", &argv, &dir, &log)?;
    // The stub prints its port alone on its first line once it listens.
    let started = Instant::now();
    let port = loop {
        program.check_running()?;
        if let Some(first) = program.log_text().lines().next()
            && let Ok(port) = first.trim().parse::<u16>()
        {
            break port;
        }
        if started.elapsed() > STARTUP {
            return Err(format!("the stub printed no port:\n{}", program.log_text()));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    w.loopback.keep(program);
    // `openstack` on the client's PATH is the Caracal client, whatever else is installed.
    let caracal = which::which("openstack-caracal").map_err(|e| e.to_string())?;
    let bin = dir.join("osc-bin");
    std::fs::create_dir_all(&bin).map_err(|e| e.to_string())?;
    std::os::unix::fs::symlink(&caracal, bin.join("openstack")).map_err(|e| e.to_string())?;
    w.stub.port = Some(port);
    w.stub.bin = Some(bin);
    Ok(())
}

/// The client's environment: admin-openrc's variables (src/actions/phase03.rs writes
/// them) pointed at the stub, or none at all (an operator who did not source it).
fn client_env(w: &mut GateWorld, credentials: &str) -> Result<ClientEnv, String> {
    let port = w
        .stub
        .port
        .ok_or("no stub: a `Given the OpenStack API stub` step first")?;
    let bin = w.stub.bin.clone().ok_or("no client directory")?;
    let home = w.loopback.dir()?.join("home");
    std::fs::create_dir_all(&home).map_err(|e| e.to_string())?;
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into())
    );
    let mut env = vec![
        ("PATH".to_string(), path),
        ("HOME".to_string(), home.display().to_string()),
    ];
    let openrc = [
        ("OS_AUTH_URL", format!("http://127.0.0.1:{port}/v3")),
        ("OS_IDENTITY_API_VERSION", "3".into()),
        ("OS_USERNAME", "admin".into()),
        ("OS_USER_DOMAIN_NAME", "admin_domain".into()),
        ("OS_PROJECT_NAME", "admin".into()),
        ("OS_PROJECT_DOMAIN_NAME", "admin_domain".into()),
        ("OS_REGION_NAME", "RegionOne".into()),
        ("OS_INTERFACE", "public".into()),
    ];
    match credentials {
        "admin-openrc" => {
            env.extend(openrc.map(|(k, v)| (k.to_string(), v)));
            env.push(("OS_PASSWORD".into(), STUB_PASSWORD.into()));
        }
        "a stale admin-openrc" => {
            env.extend(openrc.map(|(k, v)| (k.to_string(), v)));
            env.push(("OS_PASSWORD".into(), "an-earlier-clouds-password".into()));
        }
        "no admin-openrc" => {}
        other => return Err(format!("unknown credentials {other:?}")),
    }
    Ok(env)
}

/// The fixture world without its `openstack` entries: those fall through to the client.
fn world_without_openstack(name: &str) -> Result<World, String> {
    let full = load(name)?;
    let mut bare = World::empty(&full.name, &full.profile);
    for argv in full.argvs().filter(|a| a[0] != "openstack") {
        bare.set(argv.clone(), full.get(argv).expect("listed").clone());
    }
    Ok(bare)
}

/// Variables set for the client (admin-openrc's).
type ClientEnv = Vec<(String, String)>;

/// The client over a fixture world: the world answers juju and MAAS, the real client
/// (with `credentials`) every `openstack` argv. Also the client's environment, whose
/// secrets a recording must know.
fn client_over_world(
    w: &mut GateWorld,
    credentials: &str,
    world: &str,
) -> Result<(Layered, Profile, ClientEnv), String> {
    let env = client_env(w, credentials)?;
    let bare = world_without_openstack(world)?;
    let profile = Profile::embedded(&bare.profile).ok_or("no profile")?;
    let runner = Layered::new(Replay::new(bare), Live::new().with_env(env.clone()));
    Ok((runner, profile, env))
}

/// Every gate of a phase, run as the binary runs them, through `runner`.
fn phase_run(phase: &str, profile: Profile, runner: impl CommandRunner + 'static) -> GateRun {
    GateRun {
        phase: phase.to_string(),
        gates: gates::all_of_phase(phase),
        profile,
        runner: Arc::new(Logged::new(runner)),
        format: Format::Json,
        options: RunOptions {
            timeout: DEFAULT_TIMEOUT,
            jobs: DEFAULT_JOBS,
            today: crate::TODAY.parse().expect("a date"),
        },
    }
}

#[then("every gate gives the verdict it gives on the fixture world alone")]
async fn same_verdicts_as_the_world(w: &mut GateWorld) -> Result<(), String> {
    let report = w.report()?;
    let world = w.fixture.clone().ok_or("no fixture world")?;
    let profile = w.profile.clone().ok_or("no profile")?;
    let phase = report.phase.clone();
    let run = phase_run(&phase, profile, Replay::new(world));
    let alone = crate::on_worker(async move { run.execute().await }).await;
    let mut differ = Vec::new();
    for (live, recorded) in report.verdicts.iter().zip(&alone.verdicts) {
        if live.status != recorded.status || live.summary != recorded.summary {
            differ.push(format!(
                "{}: with the client {} ({}); on the world {} ({})",
                live.id, live.status, live.summary, recorded.status, recorded.summary
            ));
        }
    }
    let ran = report
        .reads
        .iter()
        .filter(|r| r.argv.starts_with("openstack "))
        .count();
    if ran == 0 {
        return Err("the gates ran no openstack command".into());
    }
    if differ.is_empty() {
        Ok(())
    } else {
        Err(differ.join("\n"))
    }
}

#[when(
    expr = "stackgate records phase {word} with the real client and {string} over fixture world {string}"
)]
async fn record_with_client(
    w: &mut GateWorld,
    phase: String,
    credentials: String,
    world: String,
) -> Result<(), String> {
    let (runner, profile, env) = client_over_world(w, &credentials, &world)?;
    // The redactor knows the client's password, as `record --live` knows the
    // environment's credentials.
    let record = Record::new(runner, Redactor::from_env(env));
    let log = record.log();
    let run = phase_run(&phase, profile.clone(), record);
    let report = crate::on_worker(async move { run.execute().await }).await;
    let out = w.loopback.dir()?.join("recorded");
    log.write_world(
        &out,
        &profile.name,
        "the real client against the stub",
        false,
    )
    .map_err(|e| e.to_string())?;
    w.stub.recorded = Some(out);
    w.profile = Some(profile);
    w.fixture = Some(load(&world)?);
    w.run = Some(GateRunResult {
        report,
        snapshot: Default::default(),
    });
    Ok(())
}

/// keystoneauth's 401 names a request id the server minted: the one part of a
/// recording no two runs share.
fn without_request_id(text: &[u8]) -> String {
    let re = regex::Regex::new(r"req-[0-9a-f-]{36}").expect("a regex");
    re.replace_all(&String::from_utf8_lossy(text), "req-ID")
        .into_owned()
}

#[then("each openstack command it recorded is the fixture world's, byte for byte")]
async fn recorded_is_the_fixture(w: &mut GateWorld) -> Result<(), String> {
    let dir = w.stub.recorded.clone().ok_or("no recording")?;
    let recorded = World::from_dir(&dir).map_err(|e| e.to_string())?;
    let fixture = w.fixture.clone().ok_or("no fixture world")?;
    let mut compared = 0;
    let mut differ = Vec::new();
    for argv in recorded.argvs().filter(|a| a[0] == "openstack") {
        let shown = display_argv(argv);
        let got = recorded.get(argv).expect("listed");
        let Some(want) = fixture.get(argv) else {
            differ.push(format!("`{shown}` is not in the fixture world"));
            continue;
        };
        compared += 1;
        if got.exit != want.exit {
            differ.push(format!(
                "`{shown}`: exit {} where the fixture has {}",
                got.exit, want.exit
            ));
        }
        if got.stdout != want.stdout {
            differ.push(format!(
                "`{shown}`: stdout differs from the fixture:\n--- client\n{}\n--- fixture\n{}",
                String::from_utf8_lossy(&got.stdout),
                String::from_utf8_lossy(&want.stdout)
            ));
        }
        if without_request_id(&got.stderr) != without_request_id(&want.stderr) {
            differ.push(format!(
                "`{shown}`: stderr differs:\n--- client\n{}--- fixture\n{}",
                String::from_utf8_lossy(&got.stderr),
                String::from_utf8_lossy(&want.stderr)
            ));
        }
    }
    if compared == 0 {
        return Err("no openstack command was recorded".into());
    }
    if differ.is_empty() {
        Ok(())
    } else {
        Err(differ.join("\n"))
    }
}

#[then("no recorded file holds the client's password")]
async fn no_password_recorded(w: &mut GateWorld) -> Result<(), String> {
    let dir = w.stub.recorded.clone().ok_or("no recording")?;
    for entry in std::fs::read_dir(&dir).map_err(|e| e.to_string())? {
        let path = entry.map_err(|e| e.to_string())?.path();
        let bytes = std::fs::read(&path).map_err(|e| e.to_string())?;
        for secret in [STUB_PASSWORD, "an-earlier-clouds-password"] {
            if bytes
                .windows(secret.len())
                .any(|win| win == secret.as_bytes())
            {
                return Err(format!("{} holds the password", path.display()));
            }
        }
    }
    Ok(())
}

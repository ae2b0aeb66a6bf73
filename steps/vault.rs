//! Vault and secret-file steps: a real OpenBao server (`bao server`, Vault-API
//! compatible) started on loopback with in-memory storage, initialized through the real
//! CLI into a real capture file, unsealed through the HTTP API, and real admin-openrc
//! files, so P02-SEALED, P02-INIT, P02-UNSEALED and P03-OPENRC run against real
//! programs (`bao`, `stat`, `sed`) through the Live runner, as `--live` does.
//!
//! Unseal keys, the root token and the openrc password live only in this process's
//! memory and in the scenario's temp dir; keys travel in HTTP request bodies, never on
//! an argv (`bao operator unseal` takes a key only from a terminal or its argv).

use std::fmt;
use std::fs::{DirBuilder, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use cucumber::{given, then, when};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use stackgate::gates as catalog;
use stackgate::profile::{OpenrcExpectation, Profile, RunOn, VaultServer};
use stackgate::report;
use tempfile::TempDir;

use crate::gates::run_gates;
use crate::{Gate, GateWorld, Phase};

/// What a scenario started or wrote on this machine; dropping it stops the server and
/// removes the files.
#[derive(Debug, Default)]
pub struct Started {
    pub bao: Option<BaoServer>,
    /// Holds a scenario's admin-openrc.
    pub scratch: Option<TempDir>,
    /// Secret values the scenario wrote (the openrc password), to prove none leaks.
    pub secrets: Vec<String>,
    /// The simulated juju with real programs for the rest (the vault action scenarios).
    pub router: Option<std::sync::Arc<SimJujuRealRest>>,
    /// Every secret the scenario's operator typed.
    pub typed: Vec<String>,
}

/// A real `bao server` on 127.0.0.1, in-memory storage, in its own process group.
pub struct BaoServer {
    child: Child,
    pub address: String,
    dir: TempDir,
}

impl fmt::Debug for BaoServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BaoServer")
            .field("address", &self.address)
            .field("pid", &self.child.id())
            .finish()
    }
}

/// A local HTTP client with a bound on every request.
fn http() -> ureq::Agent {
    ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(5)))
            .http_status_as_error(false)
            .build(),
    )
}

impl BaoServer {
    /// Starts a server on a free loopback port and waits (bounded) until it answers.
    fn start() -> Result<BaoServer, String> {
        let mut last = String::new();
        // The port is free when asked for, but another process may take it before bao
        // binds it: then bao exits, and a new port is tried.
        for _ in 0..3 {
            match Self::try_start() {
                Ok(server) => return Ok(server),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    fn try_start() -> Result<BaoServer, String> {
        let dir = tempfile::Builder::new()
            .prefix("stackgate-bao-")
            .tempdir()
            .map_err(|e| e.to_string())?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let config = dir.path().join("server.hcl");
        std::fs::write(
            &config,
            format!(
                "storage \"inmem\" {{}}\nlistener \"tcp\" {{\n  address = \"127.0.0.1:{port}\"\n  tls_disable = true\n}}\n"
            ),
        )
        .map_err(|e| e.to_string())?;
        let log =
            std::fs::File::create(dir.path().join("server.log")).map_err(|e| e.to_string())?;
        let child = Command::new("bao")
            .arg("server")
            .arg(format!("-config={}", config.display()))
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .process_group(0)
            .spawn()
            .map_err(|e| format!("cannot start bao: {e}"))?;
        let mut server = BaoServer {
            child,
            address: format!("http://127.0.0.1:{port}"),
            dir,
        };
        server.wait_until_answering()?;
        Ok(server)
    }

    /// Polls `GET /v1/sys/seal-status` (200 even while sealed), at most 200 times.
    fn wait_until_answering(&mut self) -> Result<(), String> {
        let agent = http();
        let url = format!("{}/v1/sys/seal-status", self.address);
        for _ in 0..200 {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "bao server exited ({status}):\n{}",
                    self.log_tail()
                ));
            }
            if agent.get(&url).call().is_ok_and(|r| r.status() == 200) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!(
            "bao server did not answer on {}:\n{}",
            self.address,
            self.log_tail()
        ))
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }

    /// The init capture directory and file, as the runbook makes them (Step 2.1b).
    fn capture_dir(&self) -> PathBuf {
        self.dir.path().join("vault-init")
    }

    fn capture_file(&self) -> PathBuf {
        self.capture_dir().join("init.txt")
    }

    /// Stops the server: SIGKILL to its process group, then reap it.
    fn stop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            if let Ok(pid) = i32::try_from(self.child.id()) {
                let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
            }
            let _ = self.child.wait();
        }
    }
}

impl Drop for BaoServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn bao(w: &mut GateWorld) -> Result<&mut BaoServer, String> {
    w.started.bao.as_mut().ok_or_else(|| {
        "no OpenBao server: a `Given a real OpenBao server ...` step must come first".into()
    })
}

/// The profile the scenario runs with (testcloud unless a step chose another).
fn profile(w: &mut GateWorld) -> &mut Profile {
    w.profile.get_or_insert_with(Profile::testcloud)
}

#[given("a real OpenBao server on loopback with in-memory storage")]
async fn start_bao(w: &mut GateWorld) -> Result<(), String> {
    // Its start polls with sleeps until the server answers: off the scenarios' task.
    let server = crate::off_thread(BaoServer::start).await?;
    let expectation = VaultServer {
        cli: "bao".into(),
        address: server.address.clone(),
        run_on: RunOn::Local,
        // The real server runs on inmem, not the charm's mysql: the test profile says so.
        storage_type: "inmem".into(),
        ha_enabled: false,
        init_dir: server.capture_dir().display().to_string(),
        init_file: server.capture_file().display().to_string(),
        key_shares: 5,
    };
    profile(w).vault.server = Some(expectation);
    w.started.bao = Some(server);
    w.live = true;
    Ok(())
}

/// `umask 077; mkdir -p ~/vault-init; vault operator init ... 2>&1 | tee ~/vault-init/init.txt`:
/// the real CLI writes straight into an owner-only file this step never reads.
#[given(
    expr = "the OpenBao server is initialized with {int} key shares and a threshold of {int}, its output captured to a 0600 file in a 0700 directory"
)]
async fn init_bao(w: &mut GateWorld, shares: u32, threshold: u32) -> Result<(), String> {
    let server = bao(w)?;
    DirBuilder::new()
        .mode(0o700)
        .create(server.capture_dir())
        .map_err(|e| e.to_string())?;
    let capture = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(server.capture_file())
        .map_err(|e| e.to_string())?;
    let mut init = Command::new("bao");
    init.args([
        "operator",
        "init",
        &format!("-key-shares={shares}"),
        &format!("-key-threshold={threshold}"),
        &format!("-address={}", server.address),
    ])
    .stdin(Stdio::null())
    .stdout(capture.try_clone().map_err(|e| e.to_string())?)
    .stderr(capture);
    let status = crate::off_thread(move || init.status())
        .await
        .map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("bao operator init failed ({status})"))
    }
}

/// The values of the capture, in this process's memory only: `Unseal Key N: <share>`
/// lines and the `Initial Root Token: <token>` line.
fn capture_secrets(server: &BaoServer) -> Result<(Vec<String>, Option<String>), String> {
    let text = std::fs::read_to_string(server.capture_file()).map_err(|e| e.to_string())?;
    let mut shares = Vec::new();
    let mut root = None;
    for line in text.lines() {
        if let Some((label, value)) = line.split_once(": ") {
            if label.starts_with("Unseal Key ") {
                shares.push(value.trim().to_string());
            } else if label == "Initial Root Token" {
                root = Some(value.trim().to_string());
            }
        }
    }
    Ok((shares, root))
}

/// `PUT /v1/sys/unseal` with one share per request, in the body.
#[given(expr = "the OpenBao server is unsealed with {int} of its key shares")]
async fn unseal_bao(w: &mut GateWorld, count: usize) -> Result<(), String> {
    let server = bao(w)?;
    let (mut shares, _) = capture_secrets(server)?;
    if shares.len() < count {
        return Err(format!(
            "the capture holds {} shares, not {count}",
            shares.len()
        ));
    }
    shares.truncate(count);
    let url = format!("{}/v1/sys/unseal", server.address);
    let last = crate::off_thread(move || {
        let agent = http();
        let mut last = String::new();
        for share in &shares {
            let body = serde_json::json!({ "key": share }).to_string();
            let mut response = agent
                .put(&url)
                .header("Content-Type", "application/json")
                .send(body)
                .map_err(|e| format!("unseal request failed: {e}"))?;
            last = response
                .body_mut()
                .read_to_string()
                .map_err(|e| e.to_string())?;
        }
        Ok::<_, String>(last)
    })
    .await?;
    let status: serde_json::Value = serde_json::from_str(&last).map_err(|e| e.to_string())?;
    if status["sealed"] == false {
        Ok(())
    } else {
        Err("still sealed after the unseal requests".into())
    }
}

#[given("the OpenBao server is stopped")]
fn stop_bao(w: &mut GateWorld) -> Result<(), String> {
    bao(w)?.stop();
    Ok(())
}

fn chmod(path: &Path, octal: &str) -> Result<(), String> {
    let mode = u32::from_str_radix(octal, 8).map_err(|e| format!("{octal}: {e}"))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(|e| e.to_string())
}

#[given(expr = "the init capture file is made mode {word}")]
fn chmod_capture_file(w: &mut GateWorld, mode: String) -> Result<(), String> {
    chmod(&bao(w)?.capture_file(), &mode)
}

#[given(expr = "the init capture directory is made mode {word}")]
fn chmod_capture_dir(w: &mut GateWorld, mode: String) -> Result<(), String> {
    chmod(&bao(w)?.capture_dir(), &mode)
}

/// An interrupted `tee`: the capture keeps only its first lines.
#[given(expr = "the init capture keeps only its first {int} lines")]
fn truncate_capture(w: &mut GateWorld, lines: usize) -> Result<(), String> {
    let path = bao(w)?.capture_file();
    let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
    let kept: String = text.lines().take(lines).map(|l| format!("{l}\n")).collect();
    std::fs::write(&path, kept).map_err(|e| e.to_string())
}

/// An admin-openrc of the phase-03-admin-openrc.sh shape, with a random password.
#[given(expr = "an admin-openrc on this machine with mode {word} and a fresh password")]
fn write_openrc(w: &mut GateWorld, mode: String) -> Result<(), String> {
    let dir = tempfile::Builder::new()
        .prefix("stackgate-openrc-")
        .tempdir()
        .map_err(|e| e.to_string())?;
    let path = dir.path().join("admin-openrc");
    let password = format!("pw-{:016x}", rand_u64());
    std::fs::write(
        &path,
        format!(
            "# admin-openrc (umask 077)\nexport OS_REGION_NAME=RegionOne\nexport OS_AUTH_URL=https://10.12.4.50:5000/v3\n\
             export OS_CACERT=/home/ubuntu/vault-root-ca.pem\nexport OS_USERNAME=admin\nexport OS_PASSWORD='{password}'\n\
             export OS_USER_DOMAIN_NAME=admin_domain\nexport OS_PROJECT_DOMAIN_NAME=admin_domain\nexport OS_PROJECT_NAME=admin\n"
        ),
    )
    .map_err(|e| e.to_string())?;
    chmod(&path, &mode)?;
    let required = profile(w)
        .openrc
        .as_ref()
        .map(|o| o.required.clone())
        .ok_or("the profile has no [phase03.openrc]")?;
    profile(w).openrc = Some(OpenrcExpectation {
        path: path.display().to_string(),
        required,
        build: None,
    });
    w.started.scratch = Some(dir);
    w.started.secrets.push(password);
    w.live = true;
    Ok(())
}

/// A password from the clock and the process id: unique enough to search for.
fn rand_u64() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    (nanos as u64) ^ (u64::from(std::process::id()) << 32)
}

fn openrc_path(w: &GateWorld) -> Result<PathBuf, String> {
    w.profile
        .as_ref()
        .and_then(|p| p.openrc.as_ref())
        .map(|o| PathBuf::from(&o.path))
        .ok_or_else(|| "no admin-openrc: a `Given an admin-openrc ...` step must come first".into())
}

#[given(expr = "the admin-openrc also has the line {string}")]
fn openrc_line(w: &mut GateWorld, line: String) -> Result<(), String> {
    let path = openrc_path(w)?;
    let mut text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
    text.push_str(&line);
    text.push('\n');
    std::fs::write(&path, text).map_err(|e| e.to_string())
}

#[when(expr = "gates {gate} and {gate} run")]
async fn two_gates_run(w: &mut GateWorld, first: Gate, second: Gate) -> Result<(), String> {
    if first.0.phase != second.0.phase {
        return Err("the two gates must be of one phase".into());
    }
    run_gates(w, first.0.phase, vec![first.0, second.0]).await
}

#[when(expr = "the phase {phase} gates of moment {word} run")]
async fn moment_runs(w: &mut GateWorld, phase: Phase, moment: String) -> Result<(), String> {
    let gates = catalog::for_moment(&phase.0, &moment);
    if gates.is_empty() {
        return Err(format!(
            "phase {} has no moment {moment}; its moments: {}",
            phase.0,
            catalog::phase_moments(&phase.0).join(", ")
        ));
    }
    run_gates(w, &phase.0, gates).await
}

#[then(expr = "the moment {word} of phase {phase} runs exactly {string}")]
fn moment_is(_w: &mut GateWorld, moment: String, phase: Phase, ids: String) -> Result<(), String> {
    let got: Vec<&str> = catalog::for_moment(&phase.0, &moment)
        .iter()
        .map(|g| g.id)
        .collect();
    let want: Vec<&str> = ids.split(", ").collect();
    if got == want {
        Ok(())
    } else {
        Err(format!(
            "moment {moment} of phase {} runs {got:?}, expected {want:?}",
            phase.0
        ))
    }
}

#[then(expr = "the default run of phase {phase} includes {gate} and not {gate}")]
fn default_run(
    _w: &mut GateWorld,
    phase: Phase,
    included: Gate,
    excluded: Gate,
) -> Result<(), String> {
    let ids: Vec<&str> = catalog::for_phase(&phase.0).iter().map(|g| g.id).collect();
    if ids.contains(&included.0.id) && !ids.contains(&excluded.0.id) {
        Ok(())
    } else {
        Err(format!("the default run of phase {} is {ids:?}", phase.0))
    }
}

/// R6: no secret the scenario holds appears in the text or JSON report, in the
/// snapshot (every parsed read, debug-printed) or in the call log.
#[then("no secret of the scenario appears in the report, the snapshot or the call log")]
fn no_secret_leaks(w: &mut GateWorld) -> Result<(), String> {
    let secrets = scenario_secrets(w)?;
    if secrets.is_empty() {
        return Err("the scenario holds no secret to look for".into());
    }
    let run = w.run.as_ref().ok_or("no gates have run yet")?;
    let places = [
        ("the text report", report::render_text(&run.report)),
        ("the JSON report", report::render_json(&run.report)),
        ("the snapshot", format!("{:?}", run.snapshot)),
        ("the call log", format!("{:?}", run.snapshot.calls())),
    ];
    for (place, text) in &places {
        if secrets
            .iter()
            .any(|s| !s.is_empty() && text.contains(s.as_str()))
        {
            return Err(format!("a secret of the scenario appears in {place}"));
        }
    }
    Ok(())
}

// ---- The phase-02 actions on the real OpenBao, the juju side simulated -------------

/// The runner of the vault action scenarios: the simulated juju answers every `juju`
/// argv; every other argv (`bao`, `sh`, `stat`, `sed`) runs for real. It keeps every
/// argv it saw, and, as the charm would receive it, the token of each
/// `juju run --params FILE` (read from the file while it exists), so a step can prove
/// the token real and the canary check can look for it.
pub struct SimJujuRealRest {
    sim: std::sync::Arc<stackgate::sim::Sim>,
    live: stackgate::runner::Live,
    pub argvs: std::sync::Mutex<Vec<Vec<String>>>,
    pub tokens: std::sync::Mutex<Vec<String>>,
}

impl fmt::Debug for SimJujuRealRest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimJujuRealRest").finish_non_exhaustive()
    }
}

impl stackgate::runner::CommandRunner for SimJujuRealRest {
    fn run<'a>(
        &'a self,
        invocation: &'a stackgate::runner::Invocation,
    ) -> futures::future::BoxFuture<
        'a,
        Result<stackgate::runner::CommandOutput, stackgate::runner::RunError>,
    > {
        let argv = invocation.argv().to_vec();
        self.argvs.lock().expect("argvs").push(argv.clone());
        if argv[0] != "juju" {
            return self.live.run(invocation);
        }
        if let Some(path) = argv.windows(2).find(|w| w[0] == "--params").map(|w| &w[1]) {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            if let Some(token) = text.lines().find_map(|l| l.strip_prefix("token: ")) {
                self.tokens
                    .lock()
                    .expect("tokens")
                    .push(token.trim().to_string());
            }
        }
        self.sim.run(invocation)
    }

    fn describe(&self) -> String {
        format!("{} + live", self.sim.describe())
    }
}

#[given(
    expr = "the simulated juju of {fixture} answers the juju commands and real programs the rest"
)]
fn sim_juju(w: &mut GateWorld, fixture: crate::Fixture) -> Result<(), String> {
    let world = stackgate::world::World::embedded(&format!("testcloud/{}", fixture.0))
        .map_err(|e| e.to_string())?;
    let maas = profile(w).maas_profile();
    let sim = std::sync::Arc::new(
        stackgate::sim::Sim::new(world, &maas, stackgate::sim::SimConfig::default())
            .map_err(|e| e.to_string())?,
    );
    let router = std::sync::Arc::new(SimJujuRealRest {
        sim: sim.clone(),
        live: stackgate::runner::Live::new(),
        argvs: Default::default(),
        tokens: Default::default(),
    });
    w.acting.sim = Some(sim);
    w.acting.runner = Some(router.clone());
    w.started.router = Some(router);
    Ok(())
}

fn router(w: &GateWorld) -> Result<&SimJujuRealRest, String> {
    w.started.router.as_deref().ok_or_else(|| {
        "no simulated juju: a `Given the simulated juju of ...` step must come first".into()
    })
}

/// What the operator types next, in order.
fn will_type(w: &mut GateWorld, values: Vec<String>) {
    w.started.typed.extend(values.iter().cloned());
    *w.acting.typed.lock().expect("typed") =
        Some(values.into_iter().map(String::into_bytes).collect());
}

#[when(regex = r"^(\S+) is applied with the unseal keys the operator reads from the init capture$")]
async fn applied_with_keys(w: &mut GateWorld, action: String) -> Result<(), String> {
    let (shares, _) = capture_secrets(bao(w)?)?;
    will_type(w, shares);
    crate::actions::dry_then_apply(w, &action, None).await
}

#[when(regex = r"^(\S+) is applied with two keys from the init capture and then a wrong one$")]
async fn applied_with_a_wrong_key(w: &mut GateWorld, action: String) -> Result<(), String> {
    let (shares, _) = capture_secrets(bao(w)?)?;
    // Well-formed (33 bytes, base64) and no share of this vault.
    let wrong = "d3JvbmctYnV0LXdlbGwtZm9ybWVkLXNoYXJlLTAwMDAw".to_string();
    will_type(w, vec![shares[0].clone(), shares[1].clone(), wrong]);
    crate::actions::dry_then_apply(w, &action, None).await
}

#[when(regex = r"^(\S+) is applied with the root token the operator reads from the init capture$")]
async fn applied_with_root(w: &mut GateWorld, action: String) -> Result<(), String> {
    let (_, root) = capture_secrets(bao(w)?)?;
    will_type(w, vec![root.ok_or("the capture holds no root token")?]);
    crate::actions::dry_then_apply(w, &action, None).await
}

#[when(regex = r"^(\S+) is applied with a root token that is not this vault's$")]
async fn applied_with_wrong_root(w: &mut GateWorld, action: String) -> Result<(), String> {
    will_type(w, vec!["s.NotTheRootTokenOfThisVault0".to_string()]);
    crate::actions::dry_then_apply(w, &action, None).await
}

#[given("a capture file is already at the init capture path")]
fn stale_capture(w: &mut GateWorld) -> Result<(), String> {
    let server = bao(w)?;
    DirBuilder::new()
        .mode(0o700)
        .create(server.capture_dir())
        .map_err(|e| e.to_string())?;
    std::fs::write(server.capture_file(), "a capture of another vault\n").map_err(|e| e.to_string())
}

/// `POST /v1/auth/token/lookup` with the root token.
fn lookup(server: &BaoServer, root: &str, token: &str) -> Result<serde_json::Value, String> {
    let mut response = http()
        .post(format!("{}/v1/auth/token/lookup", server.address))
        .header("X-Vault-Token", root)
        .send(serde_json::json!({ "token": token }).to_string())
        .map_err(|e| format!("token lookup failed: {e}"))?;
    let body = response
        .body_mut()
        .read_to_string()
        .map_err(|e| e.to_string())?;
    let doc: serde_json::Value = serde_json::from_str(&body).map_err(|e| e.to_string())?;
    Ok(doc["data"].clone())
}

/// The token authorize-charm got is no root token: created through auth/token/create
/// as a child (not an orphan) of the root token, with a creation TTL of 600 s and at
/// most that left, expiring; and the root token itself is none of those.
#[then(
    expr = "the token authorize-charm was given is a child of the root token that expires within {int} seconds"
)]
fn child_token_is_real(w: &mut GateWorld, seconds: u64) -> Result<(), String> {
    let tokens = router(w)?.tokens.lock().expect("tokens").clone();
    let [child] = tokens.as_slice() else {
        return Err(format!("authorize-charm was given {} tokens", tokens.len()));
    };
    let server = bao(w)?;
    let (_, root) = capture_secrets(server)?;
    let root = root.ok_or("the capture holds no root token")?;
    if child == &root {
        return Err("authorize-charm was given the root token".into());
    }
    let data = lookup(server, &root, child)?;
    let ttl = data["ttl"].as_u64().ok_or("the lookup shows no ttl")?;
    let checks = [
        ("ttl", ttl > 0 && ttl <= seconds),
        (
            "creation_ttl",
            data["creation_ttl"].as_u64() == Some(seconds),
        ),
        ("orphan", data["orphan"] == false),
        ("path", data["path"] == "auth/token/create"),
        ("expire_time", data["expire_time"].is_string()),
    ];
    let failed: Vec<&str> = checks
        .iter()
        .filter(|(_, ok)| !ok)
        .map(|(k, _)| *k)
        .collect();
    // The root token, looked up the same way, has none of it.
    let root_data = lookup(server, &root, &root)?;
    if root_data["path"] != "auth/token/root" || root_data["ttl"] != 0 {
        return Err("the root token does not look like one: the check proves nothing".into());
    }
    if failed.is_empty() {
        Ok(())
    } else {
        let mut shown = data.clone();
        if let Some(o) = shown.as_object_mut() {
            o.remove("id");
            o.remove("accessor");
        }
        Err(format!("the child token fails on {failed:?}: {shown}"))
    }
}

/// Every secret of the scenario: what it wrote (the openrc password), the shares and
/// root token of the capture, every token a `--params` file carried, and whatever the
/// operator typed.
fn scenario_secrets(w: &GateWorld) -> Result<Vec<String>, String> {
    let mut secrets = w.started.secrets.clone();
    secrets.extend(w.started.typed.iter().cloned());
    if let Some(server) = &w.started.bao {
        if server.capture_file().exists() {
            let (shares, root) = capture_secrets(server)?;
            secrets.extend(shares);
            secrets.extend(root);
        }
    }
    if let Some(router) = &w.started.router {
        secrets.extend(router.tokens.lock().expect("tokens").iter().cloned());
    }
    secrets.retain(|s| s.len() >= 8);
    secrets.sort();
    secrets.dedup();
    Ok(secrets)
}

/// The planted-canary check: no share, root token, child token or typed secret appears
/// in any action report (text and JSON, with its call records), any gate report or
/// snapshot of the scenario, any argv the runner saw, or any file under fixtures/.
#[then(
    expr = "no share, root token or child token appears in a report, a call record, an argv the runner saw, a snapshot or the fixtures"
)]
fn canary(w: &mut GateWorld) -> Result<(), String> {
    let secrets = scenario_secrets(w)?;
    if secrets.len() < 6 {
        return Err(format!(
            "the scenario holds {} secrets: the five shares and the root token at least, or the check proves nothing",
            secrets.len()
        ));
    }
    let argvs = format!("{:?}", router(w)?.argvs.lock().expect("argvs"));
    if !argvs.contains("sys/unseal key=-") && !argvs.contains("operator init") {
        return Err("no vault step ran through the runner: the check proves nothing".into());
    }
    let mut places: Vec<(String, String)> = vec![("an argv the runner saw".into(), argvs)];
    places.extend(
        w.acting
            .rendered
            .iter()
            .enumerate()
            .map(|(i, text)| (format!("report/snapshot {}", i + 1), text.clone())),
    );
    for (place, text) in &places {
        if let Some(i) = secrets.iter().position(|s| text.contains(s.as_str())) {
            return Err(format!("secret #{i} of the scenario appears in {place}"));
        }
    }
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    for entry in walkdir::WalkDir::new(&fixtures).into_iter().flatten() {
        if !entry.file_type().is_file() {
            continue;
        }
        let bytes = std::fs::read(entry.path()).map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&bytes);
        if secrets.iter().any(|s| text.contains(s.as_str())) {
            return Err(format!(
                "a secret of the scenario is in {}",
                entry
                    .path()
                    .strip_prefix(&fixtures)
                    .unwrap_or(entry.path())
                    .display()
            ));
        }
    }
    Ok(())
}

//! The admin credentials phase 03 collects (seed 004 Step 3.2), as the charms and
//! keystone answer them:
//!
//! - `juju run -m <model> --format=json [--wait=<d>] <keystone>/leader
//!   get-admin-password`: charm-keystone `actions/admin_password.py` sets
//!   `admin-password` (`leader_get("admin_passwd")`: a `pwgen -c 16 1` word,
//!   `hooks/keystone_utils.py` `get_admin_passwd`); `<vault>/leader get-root-ca`:
//!   charm-vault `src/actions/actions.py` `get_root_ca` sets `output`, the CA PEM, once
//!   the vault units are active (authorized, root CA generated). The answer is
//!   `formatActionResult`'s document, as for `juju exec` ([`crate::sources::juju::action`]).
//! - `sh -c <SCOPE_SCRIPT> sh --os-... token issue -f json -c expires -c project_id`,
//!   the password on stdin ([`crate::actions::phase03::SCOPE_SCRIPT`]): keystone issues
//!   a token for the scope charm-keystone granted the admin role on (project `admin`
//!   of `admin_domain`, `ensure_initial_admin`); any other scope, user or password is
//!   keystoneauth's 401. The auth URL must be keystone's public endpoint as the world's
//!   catalog records it.
//! - `sh -c <SOURCED_SCRIPT> sh <openrc>`: the openrc the simulated jumphost holds is
//!   read as the shell would source it (`export NAME=value`, single-quoted or bare), and
//!   with its credentials the catalog is the world's `openstack endpoint list -f json`.
//!
//! The password and the CA are simulated (derived, never a real secret): what an
//! operator would take off the cloud.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::Answer;
use super::host::HostState;
use super::juju::JujuState;
use crate::actions::phase03::{SCOPE_SCRIPT, SOURCED_SCRIPT, TOKEN_ISSUE};
use crate::world::World;

/// The scope charm-keystone grants the admin user its role on.
const GRANTED: (&str, &str) = ("admin", "admin_domain");
const ADMIN_USER: (&str, &str) = ("admin", "admin_domain");
const CATALOG: [&str; 5] = ["openstack", "endpoint", "list", "-f", "json"];

#[derive(Debug)]
pub struct KeystoneState {
    model: String,
    keystone: String,
    vault: Option<String>,
    password: String,
    root_ca: String,
    /// keystone's public identity endpoint as the world's catalog records it.
    public_url: Option<String>,
    next_task: u32,
}

#[derive(Deserialize)]
struct Status {
    #[serde(default)]
    applications: BTreeMap<String, App>,
}

#[derive(Deserialize)]
struct App {
    charm: Option<String>,
    #[serde(default)]
    units: BTreeMap<String, Unit>,
}

#[derive(Deserialize)]
struct Unit {
    #[serde(rename = "workload-status")]
    workload: Option<Workload>,
}

#[derive(Deserialize)]
struct Workload {
    current: Option<String>,
}

#[derive(Deserialize)]
struct Endpoint {
    #[serde(rename = "Service Name")]
    service_name: String,
    #[serde(rename = "Interface")]
    interface: String,
    #[serde(rename = "URL")]
    url: String,
}

/// The simulated admin password: 16 characters of `pwgen -c`'s alphabet.
pub fn simulated_password() -> String {
    use sha2::{Digest, Sha256};
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let digest = Sha256::digest("stackgate-sim-keystone-admin-password");
    let mut word: String = digest
        .iter()
        .take(14)
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect();
    // pwgen -c: at least one capital; and a digit.
    word.push('Q');
    word.push('7');
    word
}

/// A simulated CA certificate: PEM armour around derived base64 (no real key exists).
fn simulated_ca() -> String {
    use sha2::{Digest, Sha256};
    let mut body = String::new();
    for n in 0..6 {
        let d = Sha256::digest(format!("stackgate-sim-vault-root-ca-{n}"));
        let hex = format!("{d:x}");
        body.push_str(&hex);
        body.push('\n');
    }
    format!("-----BEGIN CERTIFICATE-----\n{body}-----END CERTIFICATE-----")
}

impl KeystoneState {
    /// The world's keystone, from its `juju status` recording; `None` without one.
    pub fn load(world: &World) -> Option<KeystoneState> {
        let (model, status) = world.argvs().find_map(|argv| match argv.as_slice() {
            [j, s, m, model, f]
                if j == "juju" && s == "status" && m == "-m" && f == "--format=json" =>
            {
                let rec = world.get(argv)?;
                let status: Status = serde_json::from_slice(&rec.stdout).ok()?;
                Some((model.clone(), status))
            }
            _ => None,
        })?;
        let by_charm = |charm: &str| {
            status
                .applications
                .iter()
                .find(|(_, a)| a.charm.as_deref() == Some(charm))
                .map(|(name, _)| name.clone())
        };
        let keystone = by_charm("keystone")?;
        let catalog: Vec<String> = CATALOG.map(String::from).to_vec();
        let public_url = world
            .get(&catalog)
            .and_then(|r| serde_json::from_slice::<Vec<Endpoint>>(&r.stdout).ok())
            .and_then(|rows| {
                rows.into_iter()
                    .find(|e| e.service_name == keystone && e.interface == "public")
                    .map(|e| e.url)
            });
        Some(KeystoneState {
            model,
            vault: by_charm("vault"),
            keystone,
            password: simulated_password(),
            root_ca: simulated_ca(),
            public_url,
            next_task: 40,
        })
    }

    /// Answers the argvs this part owns; `None` for every other.
    pub fn answer(
        &mut self,
        argv: &[String],
        stdin: Option<&[u8]>,
        host: &HostState,
        juju: &JujuState,
        world: &World,
    ) -> Option<Answer> {
        let a: Vec<&str> = argv.iter().map(String::as_str).collect();
        match a.as_slice() {
            ["juju", "run", rest @ ..] => self.juju_run(rest, juju),
            ["sh", "-c", script, "sh", args @ ..] if *script == SCOPE_SCRIPT => {
                Some(self.token_issue(args, stdin))
            }
            ["sh", "-c", script, "sh", path] if *script == SOURCED_SCRIPT => {
                Some(self.sourced(path, host, world))
            }
            _ => None,
        }
    }

    fn juju_run(&mut self, rest: &[&str], juju: &JujuState) -> Option<Answer> {
        let (mut model, mut json, mut words) = (None, false, Vec::new());
        let mut it = rest.iter();
        while let Some(w) = it.next() {
            match *w {
                "-m" | "--model" => model = it.next().copied(),
                "--format=json" => json = true,
                w if w.starts_with("--wait=") => {}
                w => words.push(w),
            }
        }
        let (Some(model), [receiver, action]) = (model, words.as_slice()) else {
            return None;
        };
        let app = receiver.split_once('/').map_or(*receiver, |(a, _)| a);
        if model != self.model || !json {
            return None;
        }
        let status: Status = serde_json::from_slice(juju.status_json(model)?).ok()?;
        let unit = status.applications.get(app)?.units.keys().next()?.clone();
        let (key, value) = match *action {
            "get-admin-password" if app == self.keystone => {
                ("admin-password", self.password.clone())
            }
            "get-root-ca" if Some(app) == self.vault.as_deref() => {
                let active = status.applications[app].units.values().all(|u| {
                    u.workload.as_ref().and_then(|w| w.current.as_deref()) == Some("active")
                });
                if !active {
                    return Some(Answer::fail(
                        1,
                        "stackgate simulator: get-root-ca before vault is active (authorized, root CA generated) is not modelled\n",
                    ));
                }
                ("output", self.root_ca.clone())
            }
            _ => return None,
        };
        self.next_task += 2;
        let out = super::json::juju_task(&unit, &self.next_task.to_string(), |w| {
            w.field_str(key, &value);
            w.key("return-code").int(0);
        });
        Some(Answer::ok(out))
    }

    /// keystoneauth's answer to a failed authentication (python-openstackclient prints
    /// the exception, exit 1).
    fn unauthorized() -> Answer {
        Answer::fail(
            1,
            "The request you have made requires authentication. (HTTP 401) (Request-ID: req-5e1f0a3c-0000-4d6b-9c2e-51m000000401)\n",
        )
    }

    /// Whether these credentials get a token: the admin user's password, for the scope
    /// it holds a role on, at keystone's public endpoint.
    fn authenticates(&self, creds: &BTreeMap<String, String>) -> Result<(), Answer> {
        let get = |k: &str| creds.get(k).map(String::as_str);
        if let (Some(want), Some(url)) = (&self.public_url, get("OS_AUTH_URL"))
            && url.trim_end_matches('/') != want.trim_end_matches('/')
        {
            return Err(Answer::fail(
                1,
                format!(
                    "Failed to discover available identity versions when contacting {url}. Attempting to parse version from URL.\nUnable to establish connection to {url}/auth/tokens: connection refused\n"
                ),
            ));
        }
        let ok = get("OS_USERNAME") == Some(ADMIN_USER.0)
            && get("OS_USER_DOMAIN_NAME") == Some(ADMIN_USER.1)
            && get("OS_PASSWORD") == Some(self.password.as_str())
            && get("OS_PROJECT_NAME") == Some(GRANTED.0)
            && get("OS_PROJECT_DOMAIN_NAME") == Some(GRANTED.1);
        if ok {
            Ok(())
        } else {
            Err(Self::unauthorized())
        }
    }

    fn token_issue(&self, args: &[&str], stdin: Option<&[u8]>) -> Answer {
        let mut creds = BTreeMap::new();
        let mut rest = Vec::new();
        let mut it = args.iter();
        while let Some(w) = it.next() {
            if let Some(flag) = w.strip_prefix("--os-") {
                let Some(value) = it.next() else {
                    return Answer::fail(
                        2,
                        format!("openstack: error: argument --os-{flag}: expected one argument\n"),
                    );
                };
                let name = format!("OS_{}", flag.replace('-', "_").to_ascii_uppercase());
                creds.insert(name, (*value).to_string());
            } else {
                rest.push(*w);
            }
        }
        if rest != TOKEN_ISSUE {
            return Answer::fail(
                1,
                format!(
                    "stackgate simulator: `openstack {}` is not modelled\n",
                    rest.join(" ")
                ),
            );
        }
        // `read -r` takes the first line.
        let line = stdin
            .and_then(|s| s.split(|b| *b == b'\n').next())
            .map(|l| String::from_utf8_lossy(l).into_owned())
            .unwrap_or_default();
        creds.insert("OS_PASSWORD".into(), line);
        if let Err(answer) = self.authenticates(&creds) {
            return answer;
        }
        Answer::ok(
            "{\n  \"expires\": \"2026-06-27T15:02:11+0000\",\n  \"project_id\": \"3b9c1f0e5a7d4e2c8f6b0a1d2c3e4f50\"\n}\n",
        )
    }

    fn sourced(&self, path: &str, host: &HostState, world: &World) -> Answer {
        let Some(bytes) = host.file_contents(path) else {
            return Answer::fail(2, format!("sh: 1: .: cannot open {path}: No such file\n"));
        };
        let text = String::from_utf8_lossy(bytes);
        let mut creds = BTreeMap::new();
        for line in text.lines() {
            let Some((name, value)) = line.strip_prefix("export ").and_then(|l| l.split_once('='))
            else {
                continue;
            };
            let value = value
                .strip_prefix('\'')
                .and_then(|v| v.strip_suffix('\''))
                .unwrap_or(value);
            creds.insert(name.to_string(), value.to_string());
        }
        if let Err(answer) = self.authenticates(&creds) {
            return answer;
        }
        let catalog: Vec<String> = CATALOG.map(String::from).to_vec();
        match world.get(&catalog) {
            Some(rec) => Answer {
                exit: rec.exit,
                stdout: rec.stdout.clone(),
                stderr: rec.stderr.clone(),
            },
            None => Answer::fail(
                1,
                "stackgate simulator: the world records no service catalog\n",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_simulated_password_is_a_pwgen_word_the_capture_accepts() {
        let p = simulated_password();
        assert_eq!(p.len(), 16);
        assert!(p.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert!(p.bytes().any(|b| b.is_ascii_uppercase()));
    }
}

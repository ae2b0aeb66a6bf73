//! Phase-03 action: admin-openrc, seed 004 Step 3.2 (`phase-03-admin-openrc.sh`):
//! vault's root CA (`get-root-ca`), keystone's admin password (`get-admin-password`),
//! the project scope that password gets a token for (DOCFIX-022: discovered, never
//! assumed), written to the admin-openrc under umask 077, the password never echoed;
//! then P03-OPENRC and a scoped `openstack endpoint list` with the file sourced.
//!
//! - `juju run -m M --format=json --wait=2m <app>/leader <action>`: one task's
//!   results ([`crate::sources::juju::action`]): charm-vault `get-root-ca` sets
//!   `output` (the CA PEM), charm-keystone `get-admin-password` sets `admin-password`
//!   (`leader_get("admin_passwd")`, a `pwgen -c 16 1` word unless the operator set the
//!   `admin-password` config). Both are captured in memory only, the password as a
//!   secret of the run (blanked from every excerpt, wiped at the end).
//! - The scope discovery: for each profile scope in order, `openstack token issue -f
//!   json -c expires -c project_id` (python-openstackclient `identity/v3/token.py`
//!   `IssueToken`; `-c` keeps the token's id off stdout) with the password read from
//!   stdin into `OS_PASSWORD` in a child shell, so it is never on argv. The first that
//!   issues a token is written; a 401 for a scope is reported by its label.
//! - The files: `sh -c 'umask 077 && set -C && exec cat > "$1"' sh PATH`, the content
//!   on stdin: owner-only from the start (never world-readable, then chmod), and `set
//!   -C` refuses to overwrite (an operator's file is never replaced).
//! - The proof: P03-OPENRC (mode and names, never the value), then `sh -c '. "$1" &&
//!   exec openstack endpoint list -f json' sh PATH`: the catalog only a scoped token
//!   can list, read with the file's own credentials in a child shell.
//!
//! Idempotent: an openrc that P03-OPENRC passes and whose credentials already list the
//! catalog plans nothing. An openrc or CA file already there otherwise (an earlier
//! cloud's, on a rebuild) is refused, never overwritten.

use std::net::Ipv4Addr;

use super::checks::{gate_holds, require, verdict};
use super::plan::{Alternative, Check, Delivery, Plan, SecretSource, Shape, Step, Target};
use super::wait::Poll;
use super::{Action, ActionArgs, Refusal, need};
use crate::gates::{Status, by_id};
use crate::profile::{OpenrcBuild, OpenrcExpectation, Profile};
use crate::snapshot::{Read, Snapshot};
use crate::sources::secret_files::PathStat;
use crate::sources::unit_exec::{ExecHost, shell_word};

/// Writes stdin to `$1`, owner-only from creation, refusing an existing file.
pub const WRITE_SCRIPT: &str = "umask 077 && set -C && exec cat > \"$1\"";
/// Reads the password from stdin into the client's environment, then runs `openstack`
/// with the arguments after `sh`; a clouds.yaml entry or a token in the operator's
/// environment must not decide the scope.
pub const SCOPE_SCRIPT: &str = "read -r OS_PASSWORD && export OS_PASSWORD && unset OS_CLOUD OS_TOKEN OS_AUTH_TYPE && exec openstack \"$@\"";
/// Sources `$1` and lists the catalog with its credentials.
pub const SOURCED_SCRIPT: &str = ". \"$1\" && exec openstack endpoint list -f json";

/// The token issue the discovery runs: `-c` keeps the token's id off stdout.
pub const TOKEN_ISSUE: [&str; 8] = [
    "token",
    "issue",
    "-f",
    "json",
    "-c",
    "expires",
    "-c",
    "project_id",
];

/// juju's wait for each action's task.
const JUJU_RUN_WAIT: &str = "--wait=2m";
const ROOT_CA: &str = "vault root CA";
const PASSWORD: &str = "keystone admin password";

pub static ACTIONS: [Action; 1] = [Action {
    name: "admin-openrc",
    phase: "03",
    description: "Step 3.2: vault's root CA (get-root-ca) and keystone's admin password (get-admin-password), the project scope discovered by token issue (DOCFIX-022), the admin-openrc written owner-only under umask 077 without echoing the password; then P03-OPENRC and a scoped endpoint list",
    destructive: false,
    guards: "P02-AUTHORIZED PASS (vault's root CA exists); neither the admin-openrc nor the CA file exists; an openrc P03-OPENRC passes whose credentials list the catalog plans nothing",
    takes_host: false,
    reads: openrc_reads,
    follow_up: super::no_follow_up,
    plan: plan_openrc,
}];

fn gate_reads(id: &str, profile: &Profile) -> Vec<Read> {
    by_id(id).map(|g| (g.reads)(profile)).unwrap_or_default()
}

fn openrc_reads(profile: &Profile, _: &ActionArgs) -> Vec<Read> {
    let mut reads = gate_reads("P02-AUTHORIZED", profile);
    reads.extend(gate_reads("P03-OPENRC", profile));
    reads.extend(gate_reads("P03-ENDPOINTS", profile));
    if let Some(build) = profile.openrc.as_ref().and_then(|o| o.build.as_ref()) {
        reads.push(Read::PathStat {
            host: ExecHost::Local,
            path: build.ca_path.clone(),
        });
    }
    reads.sort();
    reads.dedup();
    reads
}

fn sections(profile: &Profile) -> Result<(&OpenrcExpectation, &OpenrcBuild), Refusal> {
    let missing = |what: &str| {
        Refusal::Precondition(format!(
            "profile {} has no [{what}]: where the admin-openrc goes and what it holds",
            profile.name
        ))
    };
    let openrc = profile
        .openrc
        .as_ref()
        .ok_or_else(|| missing("phase03.openrc"))?;
    let build = openrc
        .build
        .as_ref()
        .ok_or_else(|| missing("phase03.openrc.build"))?;
    Ok((openrc, build))
}

/// keystone's application and its VIP on the public plane, from the bundle (by CIDR,
/// never pinned).
fn keystone_vip<'p>(
    snapshot: &Snapshot,
    profile: &'p Profile,
) -> Result<(&'p str, Ipv4Addr), Refusal> {
    let endpoints = profile.endpoints.as_ref().ok_or_else(|| {
        Refusal::Precondition(format!(
            "profile {} has no [endpoints]: which plane is public and which application is keystone",
            profile.name
        ))
    })?;
    let bundle_site = profile.bundle.as_ref().ok_or_else(|| {
        Refusal::Precondition(format!(
            "profile {} has no [bundle]: keystone's VIP is read from it",
            profile.name
        ))
    })?;
    let plane = endpoints
        .interfaces
        .get("public")
        .and_then(|p| profile.plane(p))
        .ok_or_else(|| {
            Refusal::Precondition("the profile's public interface names no plane".to_string())
        })?;
    let app = endpoints
        .services
        .get(&endpoints.identity_service)
        .ok_or_else(|| {
            Refusal::Precondition(format!(
                "[endpoints.services] has no {}",
                endpoints.identity_service
            ))
        })?;
    let bundle = need(snapshot.bundle_file(&bundle_site.path))?;
    bundle
        .bundle
        .applications
        .get(app)
        .and_then(|a| a.vip_in(&plane.cidr))
        .map(|vip| (app.as_str(), vip))
        .ok_or_else(|| {
            Refusal::Precondition(format!(
                "the bundle gives {app} no vip on {} {}",
                plane.name, plane.cidr
            ))
        })
}

/// The file's content, with the password and the chosen scope filled in when the step
/// runs. Every value but those is one shell word now.
fn openrc_template(build: &OpenrcBuild, auth_url: &str, path: &str) -> String {
    let line = |name: &str, value: &str| format!("export {name}={}\n", shell_word(value));
    let mut text = format!(
        "# admin-openrc: the keystone admin's credentials (seed 004 Step 3.2), written by\n# stackgate admin-openrc under umask 077. Use it with: . {path}\n"
    );
    text.push_str(&line("OS_AUTH_URL", auth_url));
    text.push_str(&line("OS_IDENTITY_API_VERSION", "3"));
    text.push_str(&line("OS_USERNAME", &build.username));
    // A `pwgen` word or one the capture accepted: no quote, backslash or space.
    text.push_str("export OS_PASSWORD='{secret}'\n");
    text.push_str(&line("OS_USER_DOMAIN_NAME", &build.user_domain));
    text.push_str("export OS_PROJECT_NAME={var:project}\n");
    text.push_str("export OS_PROJECT_DOMAIN_NAME={var:project_domain}\n");
    text.push_str(&line("OS_REGION_NAME", &build.region));
    text.push_str(&line("OS_CACERT", &build.ca_path));
    text.push_str(&line("OS_INTERFACE", "public"));
    text
}

/// A post-condition on what `stat` says of a local path.
fn path_check(
    path: &str,
    describe: String,
    judge: impl Fn(&str, &PathStat) -> Poll + Send + Sync + 'static,
) -> Check {
    let path = path.to_string();
    let host = ExecHost::Local;
    let read = Read::PathStat {
        host: host.clone(),
        path: path.clone(),
    };
    Check::new(describe, vec![read], move |snapshot, _| {
        match snapshot.path_stat(&host, &path) {
            Err(e) => Poll::Fail(e.to_string()),
            Ok(stat) => judge(&path, stat),
        }
    })
}

/// The path is still absent: nothing raced the action to it.
fn still_absent(path: &str, what: &str) -> Check {
    path_check(
        path,
        format!("{path} ({what}) does not exist yet"),
        |path, stat| match stat {
            PathStat::Absent { .. } => Poll::Pass(format!("{path} absent")),
            stat => Poll::Fail(format!(
                "{path} appeared ({}): another writer; nothing is overwritten",
                stat.describe()
            )),
        },
    )
}

/// The path is a regular file only its owner can read.
fn owner_only(path: &str) -> Check {
    path_check(
        path,
        format!("{path} is a regular file, owner-only"),
        |path, stat| {
            let line = format!("{path}: {}", stat.describe());
            if stat.is_regular_file() && stat.permissions().is_some_and(|p| p & 0o077 == 0) {
                Poll::Pass(line)
            } else {
                Poll::Fail(line)
            }
        },
    )
}

fn plan_openrc(snapshot: &Snapshot, profile: &Profile, _: &ActionArgs) -> Result<Plan, Refusal> {
    let (openrc, build) = sections(profile)?;
    let mut plan = Plan::new("admin-openrc");
    let host = ExecHost::Local;
    let (openrc_status, openrc_line) = verdict("P03-OPENRC", snapshot, profile);
    plan.resolve("P03-OPENRC", openrc_line.clone());
    let stat = need(snapshot.path_stat(&host, &openrc.path))?;
    match (openrc_status, stat) {
        (Status::Precondition, _) => return Err(Refusal::Precondition(openrc_line)),
        (_, PathStat::Absent { .. }) => {}
        (Status::Pass, _) => {
            let (endpoints, endpoints_line) = verdict("P03-ENDPOINTS", snapshot, profile);
            plan.resolve("P03-ENDPOINTS", endpoints_line.clone());
            if endpoints == Status::Precondition {
                return Err(Refusal::Guard(format!(
                    "{} exists and P03-OPENRC passes, but the environment's credentials cannot list the catalog ({endpoints_line}): source it and re-run; if it is an earlier cloud's, move it aside (it is never overwritten)",
                    openrc.path
                )));
            }
            plan.note(format!(
                "{} exists, owner-only with every variable assigned, and the catalog lists: nothing to do",
                openrc.path
            ));
            return Ok(plan);
        }
        (_, _) => {
            return Err(Refusal::Guard(format!(
                "{openrc_line}: {} exists and is not one P03-OPENRC passes; fix or move it aside (it is never overwritten)",
                openrc.path
            )));
        }
    }
    require(
        verdict("P02-AUTHORIZED", snapshot, profile),
        Status::Pass,
        "vault's root CA exists only once the charm is authorized and generate-root-ca ran: run vault-authorize first",
    )?;
    let ca = need(snapshot.path_stat(&host, &build.ca_path))?;
    plan.resolve("CA file", format!("{}: {}", build.ca_path, ca.describe()));
    if !matches!(ca, PathStat::Absent { .. }) {
        return Err(Refusal::Guard(format!(
            "{} already exists ({}): an earlier vault's CA would not verify this one; move it aside (it is never overwritten)",
            build.ca_path,
            ca.describe()
        )));
    }
    let (keystone_app, vip) = keystone_vip(snapshot, profile)?;
    let auth_url = build.auth_url.replace("{vip}", &vip.to_string());
    plan.resolve("OS_AUTH_URL", auth_url.clone());
    let model = profile.model.clone();
    let vault_app = profile
        .vault
        .unit
        .split_once('/')
        .map_or(profile.vault.unit.as_str(), |(a, _)| a);
    let juju_run = |app: &str, action: &str| {
        vec![
            "juju".to_string(),
            "run".into(),
            "-m".into(),
            model.clone(),
            "--format=json".into(),
            JUJU_RUN_WAIT.into(),
            format!("{app}/leader"),
            action.into(),
        ]
    };
    let captured = |slot: &str| SecretSource::Captured(slot.to_string());
    let write = |path: &str| {
        ["sh", "-c", WRITE_SCRIPT, "sh", path]
            .map(String::from)
            .to_vec()
    };
    plan.push(
        Step::run(
            juju_run(vault_app, "get-root-ca"),
            "3.2: vault's root CA, the `output` result of charm-vault's get-root-ca (no secret; kept in memory for the next step)",
            gate_holds("P02-AUTHORIZED", profile),
        )
        .capture_result(ROOT_CA, "output", Shape::Certificates),
    );
    plan.push(
        Step::run(
            write(&build.ca_path),
            "3.2: write the CA owner-only (umask 077), refusing to overwrite (set -C)",
            owner_only(&build.ca_path),
        )
        .secret_via(captured(ROOT_CA), Delivery::Stdin, Some("{secret}\n"))
        .targets([Target::File {
            path: build.ca_path.clone(),
        }]),
    );
    plan.push(
        Step::run(
            juju_run(keystone_app, "get-admin-password"),
            "3.2: keystone's admin password, the `admin-password` result of charm-keystone's get-admin-password: captured in memory as a secret, never shown",
            still_absent(&openrc.path, "the admin-openrc"),
        )
        .capture_result(PASSWORD, "admin-password", Shape::Word),
    );
    let alternatives = build
        .scopes
        .iter()
        .map(|scope| {
            let mut argv: Vec<String> = ["sh", "-c", SCOPE_SCRIPT, "sh"].map(String::from).to_vec();
            for (flag, value) in [
                ("--os-auth-url", auth_url.as_str()),
                ("--os-identity-api-version", "3"),
                ("--os-username", build.username.as_str()),
                ("--os-user-domain-name", build.user_domain.as_str()),
                ("--os-project-name", scope.project.as_str()),
                ("--os-project-domain-name", scope.domain.as_str()),
                ("--os-region-name", build.region.as_str()),
                ("--os-cacert", build.ca_path.as_str()),
            ] {
                argv.push(flag.to_string());
                argv.push(value.to_string());
            }
            argv.extend(TOKEN_ISSUE.map(String::from));
            Alternative {
                label: format!("project {} in domain {}", scope.project, scope.domain),
                argv,
                vars: vec![
                    ("project".to_string(), shell_word(&scope.project)),
                    ("project_domain".to_string(), shell_word(&scope.domain)),
                ],
            }
        })
        .collect();
    plan.push(
        Step::first_of(
            alternatives,
            format!(
                "3.2 (DOCFIX-022): the first project scope, in the profile's order, that {}@{} gets a token for (password on stdin, never argv; the token's id is not printed)",
                build.username, build.user_domain
            ),
            still_absent(&openrc.path, "the admin-openrc"),
        )
        .secret_via(captured(PASSWORD), Delivery::Stdin, Some("{secret}\n")),
    );
    plan.push(
        Step::run(
            write(&openrc.path),
            "3.2: write the admin-openrc owner-only (umask 077), refusing to overwrite (set -C); the password goes on stdin, never echoed",
            gate_holds("P03-OPENRC", profile),
        )
        .secret_via(
            captured(PASSWORD),
            Delivery::Stdin,
            Some(&openrc_template(build, &auth_url, &openrc.path)),
        )
        .targets([Target::File {
            path: openrc.path.clone(),
        }]),
    );
    plan.push(Step::run(
        ["sh", "-c", SOURCED_SCRIPT, "sh", openrc.path.as_str()],
        "3.2: list the catalog with the file sourced in a child shell: only a scoped token lists it",
        gate_holds("P03-OPENRC", profile),
    ));
    plan.note(format!(
        "source it before the phase-03 gates (. {}): P03-ENDPOINTS and the phase 04-05 reads use your environment's credentials",
        openrc.path
    ));
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The CA file's post-condition: a regular file with no group or other access;
    /// anything else (world-readable, a directory, absent) is the step's failure.
    #[test]
    fn the_ca_file_must_be_a_regular_owner_only_file() {
        use crate::snapshot::Value;
        let path = "/home/ubuntu/vault-root-ca.pem";
        let check = owner_only(path);
        let poll = |stat: PathStat| {
            let snapshot = Snapshot::from_parts("test").with(
                Read::PathStat {
                    host: ExecHost::Local,
                    path: path.into(),
                },
                Ok(Value::PathStat(std::sync::Arc::new(stat))),
            );
            (check.verify)(&snapshot, &Profile::testcloud())
        };
        let present = |raw_mode| PathStat::Present {
            raw_mode,
            owner: "ubuntu".into(),
        };
        assert!(matches!(poll(present(0o100_600)), Poll::Pass(_)));
        assert!(matches!(poll(present(0o100_400)), Poll::Pass(_)));
        for bad in [0o100_644, 0o100_640, 0o100_604, 0o040_700] {
            assert!(matches!(poll(present(bad)), Poll::Fail(_)), "{bad:o}");
        }
        assert!(matches!(
            poll(PathStat::Absent {
                message: "No such file or directory".into()
            }),
            Poll::Fail(_)
        ));
    }

    #[test]
    fn the_template_quotes_every_value_and_leaves_only_the_runs_placeholders() {
        let profile = Profile::testcloud();
        let openrc = profile.openrc.as_ref().unwrap();
        let build = openrc.build.as_ref().unwrap();
        let text = openrc_template(build, "http://10.12.4.50:5000/v3", &openrc.path);
        for name in &openrc.required {
            assert!(
                text.contains(&format!("export {name}=")),
                "{name} not assigned"
            );
        }
        assert!(text.contains("export OS_PASSWORD='{secret}'\n"));
        assert!(text.contains("export OS_PROJECT_NAME={var:project}\n"));
        assert!(!text.contains("echo"), "nothing echoes");
        let mut odd = build.clone();
        odd.region = "Region One".into();
        assert!(openrc_template(&odd, "u", "/p").contains("export OS_REGION_NAME='Region One'\n"));
    }
}

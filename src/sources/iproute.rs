//! `ip -j addr show dev <name>` (iproute2), read on a unit through `juju exec`.
//!
//! iproute2's JSON (ip/ipaddress.c `print_linkinfo`, `print_addrinfo`): an array with
//! one object per link: `ifindex`, `ifname`, `flags` [str], `mtu`, `qdisc`,
//! `operstate`, `group`, `txqlen`, `link_type`, `address`, `broadcast` and `addr_info`,
//! a list of `{family: "inet"|"inet6", local, prefixlen, scope: "global"|"link"|"host",
//! valid_life_time, preferred_life_time}` plus flag keys (`dynamic`, `mngtmpaddr`, ...)
//! when set. A missing device: exit 1, stderr `Device "o-hm0" does not exist.`
//! (checked against iproute2 6.1 on this project's CI image; charm-octavia's
//! `api_crud.setup_hm_port` tests the same words).
//!
//! `operstate` of an Open vSwitch internal port (o-hm0) is `UNKNOWN`: the kernel has no
//! carrier to report (R5; seed 004 phase-05 correction).

use std::net::Ipv6Addr;

use serde::Deserialize;

use super::juju::{ExecTask, parse_exec};
use super::keys::{Doc, KeyPath};
use super::{Presence, SourceError, excerpt};
use crate::runner::{CommandOutput, display_argv};

/// Gates that read this document; each parses it whole, so the keys its parser requires
/// are theirs too.
const IP_ADDR_READERS: &[&str] = &["P05-AMPHORA", "P05-POST"];

/// Every key path a phase-05 gate reads from `ip -j addr show` (inside `juju exec`).
pub static KEYS: &[&KeyPath] = &[
    &KeyPath::required(Doc::IpAddr, "[].ifname", IP_ADDR_READERS),
    &KeyPath::required(Doc::IpAddr, "[].operstate", IP_ADDR_READERS),
    &KeyPath::required(Doc::IpAddr, "[].addr_info[].family", IP_ADDR_READERS),
    &KeyPath::required(Doc::IpAddr, "[].addr_info[].local", IP_ADDR_READERS),
    &KeyPath::required(Doc::IpAddr, "[].addr_info[].scope", IP_ADDR_READERS),
    &KeyPath::required(Doc::IpAddr, "[].addr_info", IP_ADDR_READERS),
    &KeyPath::required(Doc::IpAddr, "[].addr_info[].prefixlen", IP_ADDR_READERS),
];

/// The argv run on the unit.
pub fn ip_addr_command(device: &str) -> [&str; 6] {
    ["ip", "-j", "addr", "show", "dev", device]
}

/// One link of `ip -j addr show`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct IpLink {
    pub ifname: String,
    /// `UP`, `DOWN`, `UNKNOWN`, `LOWERLAYERDOWN`, `DORMANT`, ...
    pub operstate: String,
    #[serde(default)]
    pub flags: Vec<String>,
    pub address: Option<String>,
    pub addr_info: Vec<AddrInfo>,
}

/// One address of a link.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct AddrInfo {
    /// `inet` or `inet6`.
    pub family: String,
    pub local: String,
    pub prefixlen: u8,
    pub scope: String,
}

impl IpLink {
    /// The global-scope IPv6 addresses, with their prefix length.
    pub fn global_inet6(&self) -> impl Iterator<Item = (Ipv6Addr, u8)> + '_ {
        self.addr_info
            .iter()
            .filter(|a| a.family == "inet6" && a.scope == "global")
            .filter_map(|a| Some((a.local.parse::<Ipv6Addr>().ok()?, a.prefixlen)))
    }

    /// Every address as `ip` shows it (`fc00::1/64`), for evidence.
    pub fn addresses(&self) -> Vec<String> {
        self.addr_info
            .iter()
            .map(|a| format!("{}/{}", a.local, a.prefixlen))
            .collect()
    }
}

/// Parses `juju exec --unit <unit> -- ip -j addr show dev <device>`: the link,
/// [`Presence::Absent`] when `ip` exited 1 saying the device does not exist, or an error
/// for anything else (the task did not complete, `ip` failed otherwise).
pub fn parse_ip_addr_on_unit(
    output: &CommandOutput,
    unit: &str,
    device: &str,
) -> Result<Presence<IpLink>, SourceError> {
    let task: ExecTask = parse_exec(output, unit)?;
    let argv = display_argv(&output.argv);
    let results = task.results.unwrap_or_default();
    let stderr = results.stderr.unwrap_or_default();
    match results.return_code {
        Some(0) => {
            let stdout = results.stdout.unwrap_or_default();
            let links: Vec<IpLink> = crate::sources::parse_json_bytes(
                stdout.as_bytes(),
                &argv,
                &format!("{unit}.results.stdout"),
            )?;
            links
                .into_iter()
                .find(|l| l.ifname == device)
                .map(Presence::Present)
                .ok_or_else(|| SourceError::Parse {
                    argv,
                    path: format!("{unit}.results.stdout[].ifname"),
                    message: format!("ip printed no link named {device}"),
                })
        }
        Some(1) if stderr.contains(&format!("Device \"{device}\" does not exist.")) => {
            Ok(Presence::Absent {
                message: format!("Device \"{device}\" does not exist."),
            })
        }
        code => Err(SourceError::Exit {
            argv,
            code: code.map_or_else(
                || "without a return-code".to_string(),
                |c| format!("{c} on {unit}"),
            ),
            reason: excerpt(&stderr),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::juju::exec_invocation;
    use crate::sources::test_invocation_output as test_output;

    fn exec_output(exit: i32, stdout: &str, stderr: &str) -> CommandOutput {
        let inv = exec_invocation("openstack", "octavia/0", &ip_addr_command("o-hm0"));
        test_output(inv, exit, stdout, stderr)
    }

    fn task(results: serde_json::Value) -> String {
        let doc = serde_json::json!({
            "octavia/0": {"id": "142", "results": results, "status": "completed", "unit": "octavia/0"}
        });
        format!("{doc}\n")
    }

    #[test]
    fn a_present_device_parses_with_its_addresses() {
        let ip = r#"[{"ifindex":9,"ifname":"o-hm0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"qdisc":"noqueue","operstate":"UNKNOWN","group":"default","txqlen":1000,"link_type":"ether","address":"fa:16:3e:2a:f7:41","broadcast":"ff:ff:ff:ff:ff:ff","addr_info":[{"family":"inet6","local":"fc00:7bab:3c0b:ae43:f816:3eff:fe2a:f741","prefixlen":64,"scope":"global","dynamic":true,"mngtmpaddr":true,"noprefixroute":true,"valid_life_time":86391,"preferred_life_time":14391},{"family":"inet6","local":"fe80::f816:3eff:fe2a:f741","prefixlen":64,"scope":"link","valid_life_time":4294967295,"preferred_life_time":4294967295}]}]
"#;
        let out = exec_output(
            0,
            &task(serde_json::json!({"return-code": 0, "stdout": ip})),
            "",
        );
        let link = parse_ip_addr_on_unit(&out, "octavia/0", "o-hm0").unwrap();
        let link = link.present().unwrap();
        assert_eq!(link.operstate, "UNKNOWN");
        let globals: Vec<_> = link.global_inet6().collect();
        assert_eq!(globals.len(), 1);
        assert_eq!(globals[0].0.segments()[0], 0xfc00);
    }

    #[test]
    fn a_missing_device_is_absent_only_with_ip_s_own_words() {
        let absent = task(
            serde_json::json!({"return-code": 1, "stderr": "Device \"o-hm0\" does not exist.\n"}),
        );
        let out = exec_output(
            1,
            &absent,
            "ERROR the following task failed:\n - id \"142\" with return code 1\n\nuse 'juju show-task' to inspect the failure\n",
        );
        assert!(matches!(
            parse_ip_addr_on_unit(&out, "octavia/0", "o-hm0").unwrap(),
            Presence::Absent { .. }
        ));
        // Another failure of `ip` is not absence (R3).
        let other = task(
            serde_json::json!({"return-code": 127, "stderr": "bash: line 1: ip: command not found\n"}),
        );
        let err = parse_ip_addr_on_unit(&exec_output(1, &other, "ERROR ..."), "octavia/0", "o-hm0")
            .unwrap_err()
            .to_string();
        assert!(err.contains("127 on octavia/0"), "{err}");
        // A missing operstate names its path.
        let ip = r#"[{"ifname":"o-hm0","addr_info":[]}]"#;
        let out = exec_output(
            0,
            &task(serde_json::json!({"return-code": 0, "stdout": ip})),
            "",
        );
        let err = parse_ip_addr_on_unit(&out, "octavia/0", "o-hm0")
            .unwrap_err()
            .to_string();
        assert!(err.contains("octavia/0.results.stdout[0]"), "{err}");
        assert!(err.contains("operstate"), "{err}");
    }
}

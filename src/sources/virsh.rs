//! libvirt sources: `virsh -c <uri> list --all`, `domstate <dom>`, `net-list --all` and
//! `dumpxml <dom>`, each run under the site's command prefix (seed 002 step 1 runs
//! `sudo virsh -c qemu:///system ...`).
//!
//! virsh prints text tables (docs/schemas/virsh.md): a header, a line of dashes,
//! one row per object and a blank line. libvirt 5.x+ computes the column widths
//! (`vshTable`); older releases printed fixed `printf` widths. Both are read by splitting
//! on whitespace, a state taking the rest of its row (`shut off`, `in shutdown`). The
//! header must be the English one (the live runner sets `LC_ALL=C`): any other header is
//! a parse error naming it, never an empty table. States are libvirt's
//! `virshDomainState` strings (libvirt/libvirt tools/virsh-domain-monitor.c). A domain
//! that does not exist is told by virsh's exit status and its "failed to get domain"
//! message, never by empty output (rule R3; tools/virsh-util.c
//! `virshLookupDomainInternal` resets libvirt's own error and prints only that line).
//! Outputs were checked against virsh 9.0 on libvirt's test driver.

use std::fmt;

use super::{Presence, SourceError};
use crate::runner::{CommandOutput, Invocation, display_argv};

/// How virsh reaches the hypervisor: the connection URI, and the argv prefix the site
/// runs it under (`sudo -n`: the runbook's `sudo`, failing at once instead of prompting
/// for a password on a closed stdin).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Connection {
    pub uri: String,
    pub prefix: Vec<String>,
}

impl Connection {
    fn invocation(&self, args: &[&str]) -> Invocation {
        Invocation::new(self.argv(args))
    }

    /// `[prefix] virsh -c <uri> <args>`: the argv of any virsh command on this
    /// connection, reads and the phase actions' mutations alike.
    pub fn argv(&self, args: &[&str]) -> Vec<String> {
        self.prefix
            .iter()
            .map(String::as_str)
            .chain(["virsh", "-c", self.uri.as_str()])
            .chain(args.iter().copied())
            .map(str::to_string)
            .collect()
    }
}

/// `virsh -c <uri> list --all`
pub fn list_all_invocation(conn: &Connection) -> Invocation {
    conn.invocation(&["list", "--all"])
}

/// `virsh -c <uri> domstate <domain>`
pub fn domstate_invocation(conn: &Connection, domain: &str) -> Invocation {
    conn.invocation(&["domstate", domain])
}

/// `virsh -c <uri> net-list --all`
pub fn net_list_invocation(conn: &Connection) -> Invocation {
    conn.invocation(&["net-list", "--all"])
}

/// `virsh -c <uri> dumpxml <domain>`
pub fn dumpxml_invocation(conn: &Connection, domain: &str) -> Invocation {
    conn.invocation(&["dumpxml", domain])
}

/// A domain's state as virsh prints it (`virshDomainState`, virsh-domain-monitor.c).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainState {
    NoState,
    Running,
    /// `idle`: running but blocked on a resource.
    Idle,
    Paused,
    InShutdown,
    ShutOff,
    Crashed,
    PmSuspended,
}

impl DomainState {
    const KNOWN: [(&'static str, DomainState); 8] = [
        ("no state", DomainState::NoState),
        ("running", DomainState::Running),
        ("idle", DomainState::Idle),
        ("paused", DomainState::Paused),
        ("in shutdown", DomainState::InShutdown),
        ("shut off", DomainState::ShutOff),
        ("crashed", DomainState::Crashed),
        ("pmsuspended", DomainState::PmSuspended),
    ];

    /// The state a label names, if libvirt has it.
    pub fn known(text: &str) -> Option<DomainState> {
        let text = text.trim();
        Self::KNOWN
            .iter()
            .find(|(label, _)| *label == text)
            .map(|(_, s)| s.clone())
    }

    pub fn label(&self) -> &'static str {
        Self::KNOWN
            .iter()
            .find(|(_, s)| s == self)
            .map_or("no state", |(label, _)| label)
    }

    /// Only `shut off` lets a `--config` detach or a disk wipe go on (seed 002 steps 3
    /// and 4): a paused or crashed domain still holds its devices.
    pub fn is_shut_off(&self) -> bool {
        *self == DomainState::ShutOff
    }
}

impl fmt::Display for DomainState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// One row of `virsh list --all`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainEntry {
    /// `None` for an inactive domain (virsh prints `-`).
    pub id: Option<u32>,
    pub name: String,
    pub state: DomainState,
}

/// `virsh list --all`: every defined domain with its state.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DomainList {
    pub domains: Vec<DomainEntry>,
}

impl DomainList {
    /// The domain with this name, if libvirt defines it.
    pub fn get(&self, name: &str) -> Option<&DomainEntry> {
        self.domains.iter().find(|d| d.name == name)
    }
}

/// One row of `virsh net-list --all`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkEntry {
    pub name: String,
    /// `active` or `inactive`.
    pub state: String,
    /// `yes` or `no`.
    pub autostart: String,
    /// `yes` or `no`.
    pub persistent: String,
}

/// `virsh net-list --all`: every defined network, active or not.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NetworkList {
    pub networks: Vec<NetworkEntry>,
}

impl NetworkList {
    pub fn get(&self, name: &str) -> Option<&NetworkEntry> {
        self.networks.iter().find(|n| n.name == name)
    }
}

/// One `<interface>` of a domain's XML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainInterface {
    /// The `type` attribute: `network`, `bridge`, `direct`, ...
    pub kind: String,
    pub mac: Option<String>,
    /// `<source network=...>` of a `type='network'` interface.
    pub source_network: Option<String>,
    /// `<source bridge=...>` of a `type='bridge'` interface.
    pub source_bridge: Option<String>,
}

/// What gates read from `virsh dumpxml <dom>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainXml {
    pub name: String,
    pub interfaces: Vec<DomainInterface>,
}

impl DomainXml {
    /// The interfaces whose source is this libvirt network.
    pub fn interfaces_on(&self, network: &str) -> impl Iterator<Item = &DomainInterface> {
        self.interfaces
            .iter()
            .filter(move |i| i.source_network.as_deref() == Some(network))
    }
}

fn parse_error(output: &CommandOutput, path: &str, message: impl Into<String>) -> SourceError {
    SourceError::Parse {
        argv: display_argv(&output.argv),
        path: path.to_string(),
        message: message.into(),
    }
}

fn check(output: &CommandOutput) -> Result<(), SourceError> {
    if output.success() {
        Ok(())
    } else {
        Err(SourceError::exit(output))
    }
}

/// An undefined domain: exit status non-zero and virsh's own lookup message.
fn undefined_domain(output: &CommandOutput) -> Option<String> {
    let stderr = output.stderr_text();
    (!output.success() && stderr.contains("failed to get domain"))
        .then(|| "failed to get domain".to_string())
}

/// The rows of a virsh table after checking its shape: the header, a line of dashes,
/// the rows, then the one blank line virsh ends every table with (`vshTablePrint`), and
/// nothing after it. A table without its closing blank line was cut short; one with
/// text after it, or the same first column twice, is not one table: both are refused.
/// Messages name rows and columns, never their text.
fn table_rows<'a>(
    output: &CommandOutput,
    text: &'a str,
    header: &[&str],
) -> Result<Vec<Vec<&'a str>>, SourceError> {
    let mut lines = text.split('\n');
    let found: Vec<&str> = lines.next().unwrap_or("").split_whitespace().collect();
    if found != header {
        return Err(parse_error(
            output,
            "header",
            format!(
                "expected the columns {} as the first line (is LC_ALL=C set?)",
                header.join(" ")
            ),
        ));
    }
    match lines.next() {
        Some(rule) if !rule.trim().is_empty() && rule.trim().chars().all(|c| c == '-') => {}
        _ => {
            return Err(parse_error(
                output,
                "header",
                "expected a line of dashes under the header",
            ));
        }
    }
    let mut rows: Vec<Vec<&str>> = Vec::new();
    let mut closed = false;
    for line in lines.by_ref() {
        if line.trim().is_empty() {
            closed = true;
            break;
        }
        rows.push(line.split_whitespace().collect());
    }
    // After the blank line only the final newline's empty remainder may follow.
    let rest: Vec<&str> = lines.collect();
    if !closed || rest != [""] {
        return Err(parse_error(
            output,
            &format!("row {}", rows.len() + 1),
            if closed {
                "text after the table's closing blank line"
            } else {
                "the table ends without its closing blank line (cut short)"
            },
        ));
    }
    // The name column (`list`: Id Name State; `net-list`: Name first) names one object
    // once; two rows for one name would resolve the name arbitrarily.
    let name_at = header.iter().position(|c| *c == "Name").unwrap_or(0);
    let mut names = std::collections::HashSet::new();
    for (n, row) in rows.iter().enumerate() {
        let key = row.get(name_at).copied().unwrap_or("");
        if !names.insert(key) {
            return Err(parse_error(
                output,
                &format!("row {}", n + 1),
                "the same row twice (refused: which one holds is arbitrary)",
            ));
        }
    }
    Ok(rows)
}

/// The first child element with this tag.
fn child<'a, 'input>(
    node: roxmltree::Node<'a, 'input>,
    tag: &str,
) -> Option<roxmltree::Node<'a, 'input>> {
    node.children()
        .find(|c| c.is_element() && c.has_tag_name(tag))
}

fn stdout_text(output: &CommandOutput) -> Result<&str, SourceError> {
    std::str::from_utf8(&output.stdout)
        .map_err(|e| parse_error(output, "(top level)", format!("not UTF-8: {e}")))
}

/// Parses `virsh list --all`.
pub fn parse_list(output: &CommandOutput) -> Result<DomainList, SourceError> {
    check(output)?;
    let text = stdout_text(output)?;
    let rows = table_rows(output, text, &["Id", "Name", "State"])?;
    let mut domains = Vec::with_capacity(rows.len());
    for (n, row) in rows.iter().enumerate() {
        let path = format!("row {}", n + 1);
        if row.len() < 3 {
            return Err(parse_error(
                output,
                &path,
                format!("expected Id, Name and State, found {} column(s)", row.len()),
            ));
        }
        let id = match row[0] {
            "-" => None,
            id => Some(id.parse::<u32>().map_err(|_| {
                parse_error(output, &format!("{path}.Id"), "not a domain id or `-`")
            })?),
        };
        domains.push(DomainEntry {
            id,
            name: row[1].to_string(),
            state: DomainState::known(&row[2..].join(" "))
                .ok_or_else(|| parse_error(output, &format!("{path}.State"), UNKNOWN_STATE))?,
        });
    }
    Ok(DomainList { domains })
}

/// Parses `virsh net-list --all`.
pub fn parse_net_list(output: &CommandOutput) -> Result<NetworkList, SourceError> {
    check(output)?;
    let text = stdout_text(output)?;
    let rows = table_rows(output, text, &["Name", "State", "Autostart", "Persistent"])?;
    let mut networks = Vec::with_capacity(rows.len());
    for (n, row) in rows.iter().enumerate() {
        if row.len() < 4 {
            return Err(parse_error(
                output,
                &format!("row {}", n + 1),
                format!(
                    "expected Name, State, Autostart and Persistent, found {} column(s)",
                    row.len()
                ),
            ));
        }
        let k = row.len() - 3;
        let yes_no = |v: &str| v == "yes" || v == "no";
        if !matches!(row[k], "active" | "inactive") || !yes_no(row[k + 1]) || !yes_no(row[k + 2]) {
            // virsh-network.c prints active/inactive and yes/no, nothing else.
            return Err(parse_error(
                output,
                &format!("row {}", n + 1),
                "State must be active or inactive, Autostart and Persistent yes or no",
            ));
        }
        networks.push(NetworkEntry {
            name: row[..k].join(" "),
            state: row[k].to_string(),
            autostart: row[k + 1].to_string(),
            persistent: row[k + 2].to_string(),
        });
    }
    Ok(NetworkList { networks })
}

/// Parses `virsh domstate <dom>`: one state line, then a blank line.
pub fn parse_domstate(output: &CommandOutput) -> Result<Presence<DomainState>, SourceError> {
    if let Some(message) = undefined_domain(output) {
        return Ok(Presence::Absent { message });
    }
    check(output)?;
    let text = stdout_text(output)?;
    // Exactly `<state>\n\n` (virsh-domain-monitor.c prints the state, then vshPrint's
    // blank line).
    let line = text
        .strip_suffix("\n\n")
        .filter(|l| !l.contains('\n'))
        .ok_or_else(|| {
            parse_error(
                output,
                "state line",
                "expected one state line and a blank line",
            )
        })?;
    let state =
        DomainState::known(line).ok_or_else(|| parse_error(output, "state line", UNKNOWN_STATE))?;
    Ok(Presence::Present(state))
}

/// An unknown state is refused, never taken for any state: a newer libvirt adds
/// states rarely, and a gate that decides on shut off must not guess.
const UNKNOWN_STATE: &str = "not one of libvirt's domain states (virshDomainStateToString)";

/// Parses `virsh dumpxml <dom>`: the domain's name and its interfaces.
pub fn parse_dumpxml(output: &CommandOutput) -> Result<Presence<DomainXml>, SourceError> {
    if let Some(message) = undefined_domain(output) {
        return Ok(Presence::Absent { message });
    }
    check(output)?;
    let text = stdout_text(output)?;
    let doc = roxmltree::Document::parse(text).map_err(|e| {
        parse_error(
            output,
            "(document)",
            format!("not well-formed XML at {}", e.pos()),
        )
    })?;
    let root = doc.root_element();
    if !root.has_tag_name("domain") {
        return Err(parse_error(
            output,
            "/",
            "expected <domain> as the root element",
        ));
    }
    for tag in ["name", "devices"] {
        let n = root
            .children()
            .filter(|c| c.is_element() && c.has_tag_name(tag))
            .count();
        if n != 1 {
            return Err(parse_error(
                output,
                &format!("/domain/{tag}"),
                format!("expected exactly one <{tag}>, found {n}"),
            ));
        }
    }
    let name = child(root, "name")
        .and_then(|n| n.text())
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| parse_error(output, "/domain/name", "missing"))?
        .to_string();
    let interfaces = child(root, "devices")
        .into_iter()
        .flat_map(|devices| devices.children())
        .filter(|c| c.is_element() && c.has_tag_name("interface"))
        .map(|iface| {
            let source = child(iface, "source");
            // Each type's <source> names its attachment by one attribute (libvirt
            // formatdomain: network, bridge, dev); without it the interface cannot be
            // placed, so the document is refused rather than read as "on nothing".
            let wanted = match iface.attribute("type") {
                Some("network") => Some("network"),
                Some("bridge") => Some("bridge"),
                Some("direct") => Some("dev"),
                _ => None,
            };
            if let Some(attribute) = wanted
                && source.and_then(|s| s.attribute(attribute)).is_none()
            {
                return Err(parse_error(
                    output,
                    "/domain/devices/interface/source",
                    format!("an interface of its type without source@{attribute}"),
                ));
            }
            Ok(DomainInterface {
                kind: iface.attribute("type").unwrap_or("").to_string(),
                mac: child(iface, "mac")
                    .and_then(|m| m.attribute("address"))
                    .map(str::to_string),
                source_network: source
                    .and_then(|s| s.attribute("network"))
                    .map(str::to_string),
                source_bridge: source
                    .and_then(|s| s.attribute("bridge"))
                    .map(str::to_string),
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(Presence::Present(DomainXml { name, interfaces }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output(exit: i32, stdout: &str, stderr: &str) -> CommandOutput {
        crate::sources::test_output(&["virsh", "-c", "test:///n.xml"], exit, stdout, stderr)
    }

    // Recorded from virsh 9.0 on the test driver (computed column widths).
    const LIST: &str = " Id   Name         State\n-----------------------------\n 1    openstack1   running\n -    openstack0   shut off\n\n";
    // libvirt 4.0 (bionic) printed fixed widths.
    const LIST_FIXED: &str = " Id    Name                           State\n----------------------------------------------------\n -     openstack0                     shut off\n 3     juju                           running\n\n";

    #[test]
    fn list_reads_ids_names_and_two_word_states_in_both_layouts() {
        let list = parse_list(&output(0, LIST, "")).unwrap();
        assert_eq!(list.domains.len(), 2);
        let off = list.get("openstack0").unwrap();
        assert_eq!((off.id, &off.state), (None, &DomainState::ShutOff));
        assert_eq!(list.get("openstack1").unwrap().id, Some(1));
        let fixed = parse_list(&output(0, LIST_FIXED, "")).unwrap();
        assert!(fixed.get("openstack0").unwrap().state.is_shut_off());
        assert_eq!(fixed.get("juju").unwrap().state, DomainState::Running);
    }

    #[test]
    fn an_empty_list_is_a_table_without_rows_not_an_error() {
        let list = parse_list(&output(
            0,
            " Id   Name   State\n--------------------\n\n",
            "",
        ))
        .unwrap();
        assert!(list.domains.is_empty());
    }

    #[test]
    fn a_translated_or_missing_header_is_a_parse_error_naming_it() {
        let translated = " Id   Nom          État\n----------\n -    openstack0   fermé\n\n";
        let err = parse_list(&output(0, translated, ""))
            .unwrap_err()
            .to_string();
        assert!(err.contains("header") && err.contains("LC_ALL"), "{err}");
        let err = parse_list(&output(0, "", "")).unwrap_err().to_string();
        assert!(err.contains("header"), "{err}");
    }

    #[test]
    fn only_libvirts_states_are_known_and_only_shut_off_is_shut_off() {
        assert_eq!(DomainState::known("hibernating"), None);
        for (label, state) in DomainState::KNOWN {
            assert_eq!(DomainState::known(label), Some(state.clone()));
            assert_eq!(state.label(), label);
            assert_eq!(state.is_shut_off(), label == "shut off");
        }
    }

    #[test]
    fn net_list_reads_every_network() {
        let text = " Name      State    Autostart   Persistent\n--------------------------------------------\n 2_metal   active   yes         yes\n 8_lbaas   inactive no          yes\n\n";
        let nets = parse_net_list(&output(0, text, "")).unwrap();
        assert_eq!(nets.networks.len(), 2);
        let lbaas = nets.get("8_lbaas").unwrap();
        assert_eq!(
            (lbaas.state.as_str(), lbaas.autostart.as_str()),
            ("inactive", "no")
        );
    }

    #[test]
    fn an_undefined_domain_is_absent_by_exit_status_and_message() {
        let out = output(1, "", "error: failed to get domain 'openstack9'\n");
        assert_eq!(
            parse_domstate(&out).unwrap(),
            Presence::Absent {
                message: "failed to get domain".into()
            }
        );
        assert!(matches!(
            parse_dumpxml(&out).unwrap(),
            Presence::Absent { .. }
        ));
        // Any other failure is an error, never "absent" (R3).
        let down = output(1, "", "error: failed to connect to the hypervisor\n");
        assert!(parse_domstate(&down).is_err());
        // And empty output with exit 0 is not a state.
        assert!(parse_domstate(&output(0, "\n", "")).is_err());
    }

    #[test]
    fn domstate_reads_the_first_line() {
        let state = parse_domstate(&output(0, "shut off\n\n", "")).unwrap();
        assert_eq!(state, Presence::Present(DomainState::ShutOff));
    }

    #[test]
    fn dumpxml_reads_interfaces_and_their_source_network() {
        let xml = "<domain type='kvm'>\n  <name>openstack0</name>\n  <devices>\n    <interface type='network'>\n      <mac address='52:54:00:7c:71:40'/>\n      <source network='2_metal'/>\n    </interface>\n    <interface type='network'>\n      <mac address='52:54:00:7c:b5:40'/>\n      <source network='8_lbaas'/>\n    </interface>\n    <interface type='bridge'>\n      <source bridge='virbr6'/>\n    </interface>\n  </devices>\n</domain>\n\n";
        let dom = parse_dumpxml(&output(0, xml, "")).unwrap();
        let dom = dom.present().unwrap();
        assert_eq!(dom.name, "openstack0");
        assert_eq!(dom.interfaces.len(), 3);
        let on: Vec<_> = dom.interfaces_on("8_lbaas").collect();
        assert_eq!(on.len(), 1);
        assert_eq!(on[0].mac.as_deref(), Some("52:54:00:7c:b5:40"));
        assert_eq!(dom.interfaces[2].source_bridge.as_deref(), Some("virbr6"));
    }

    #[test]
    fn dumpxml_without_a_name_is_a_parse_error() {
        let err = parse_dumpxml(&output(0, "<domain type='kvm'/>\n", ""))
            .unwrap_err()
            .to_string();
        assert!(err.contains("/domain/name"), "{err}");
    }
}

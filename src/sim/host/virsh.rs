//! The jumphost's libvirt (`virsh -c <uri> ...`), as the site's `qemu:///system` prints
//! it through virsh 9.0.
//!
//! State is loaded from the world's recordings (`list --all`, `net-list --all`,
//! `domstate`, `dumpxml`) and the test-driver node each libvirt world keeps in
//! `libvirt-node.xml` (the network definitions `net-dumpxml` prints). Every answer is
//! rendered from that state:
//!
//! - tables through [`vsh_table`], libvirt's `vshTablePrint` (libvirt/libvirt
//!   tools/vsh-table.c `vshTableRowPrint`);
//! - every command that ran, failed or not, ends with the blank line
//!   `vshCommandRun` prints after it (tools/vsh.c `vshCommandRun`: `vshPrintExtra(ctl,
//!   "\n")`); a command virsh refuses while parsing its options prints nothing on stdout;
//! - a domain's XML is the document libvirt formats for it (`dumpxml`); a detach removes
//!   the `<interface>` element from that document, which is what libvirt's formatter
//!   prints for the definition without the device (src/conf/domain_conf.c
//!   `virDomainDefFormatInternal` formats each device in turn).
//!
//! Messages are libvirt 9.0's, checked against the real virsh on the test driver where
//! that driver implements the call (`tests` below run it when virsh is installed).
//! In the real-program mode (`super::real`) the read forms, `net-destroy` and
//! `net-undefine` are answered by the real virsh on a test-driver node rendered from
//! this state, and this model's answer is their cross-check; `detach-interface` is this
//! model's in both modes.

use std::collections::BTreeMap;

use crate::runner::CommandOutput;
use crate::sim::Answer;
use crate::sources::Presence;
use crate::sources::virsh::{parse_domstate, parse_list, parse_net_list};
use crate::world::World;

/// One defined domain.
#[derive(Debug, Clone)]
pub(crate) struct Domain {
    pub id: Option<u32>,
    pub name: String,
    /// virsh's state label (`shut off`, `running`; tools/virsh-domain-monitor.c
    /// `virshDomainStateToString`).
    pub state: String,
    /// What `dumpxml` prints (without vsh's blank line): the live XML of a running
    /// domain, the persistent one of a shut-off domain.
    pub xml: Option<String>,
    /// MACs detached from the persistent definition of a running domain (`--config`):
    /// its live XML, which `dumpxml` prints, still has them.
    pub config_detached: Vec<String>,
}

impl Domain {
    fn is_active(&self) -> bool {
        self.state != "shut off"
    }
}

/// One network as `net-list --all` shows it.
#[derive(Debug, Clone)]
pub(crate) struct Network {
    pub name: String,
    pub active: bool,
    pub autostart: bool,
    pub persistent: bool,
}

/// A network's definition, as the world's test-driver node holds it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct NetworkDef {
    pub name: String,
    pub uuid: Option<String>,
    pub forward_mode: Option<String>,
    pub bridge: Option<String>,
    pub mac: Option<String>,
    /// `(address, netmask)`.
    pub ip: Option<(String, String)>,
}

/// The libvirt host.
#[derive(Debug, Clone, Default)]
pub(crate) struct Libvirt {
    pub domains: Vec<Domain>,
    pub networks: Vec<Network>,
    pub defs: BTreeMap<String, NetworkDef>,
}

fn output_of(argv: &[String], rec: &crate::world::Recording) -> CommandOutput {
    CommandOutput {
        argv: argv.to_vec(),
        exit_code: Some(rec.exit),
        stdout: rec.stdout.clone(),
        stderr: rec.stderr.clone(),
        duration: std::time::Duration::ZERO,
    }
}

/// The virsh subcommand argv after `[sudo -n] virsh -c <uri>`, if this is one.
pub(crate) fn virsh_args(argv: &[String]) -> Option<&[String]> {
    let rest = super::strip_sudo(argv).0;
    match rest {
        [virsh, c, _uri, args @ ..] if virsh == "virsh" && c == "-c" => Some(args),
        [virsh, ..] if virsh == "virsh" => Some(&rest[1..]),
        _ => None,
    }
}

impl Libvirt {
    pub fn load(world: &World) -> Result<Libvirt, String> {
        let mut lv = Libvirt::default();
        let mut states: BTreeMap<String, String> = BTreeMap::new();
        let mut xmls: BTreeMap<String, String> = BTreeMap::new();
        let mut undefined: Vec<String> = Vec::new();
        for argv in world.argvs() {
            let Some(args) = virsh_args(argv) else {
                continue;
            };
            let rec = world.get(argv).expect("listed argv");
            let out = output_of(argv, rec);
            let shown = crate::runner::display_argv(argv);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            match args.as_slice() {
                ["list", "--all"] => {
                    let list = parse_list(&out).map_err(|e| format!("`{shown}`: {e}"))?;
                    for d in list.domains {
                        lv.domains.push(Domain {
                            id: d.id,
                            name: d.name,
                            state: d.state.label().to_string(),
                            xml: None,
                            config_detached: Vec::new(),
                        });
                    }
                }
                ["net-list", "--all"] => {
                    let list = parse_net_list(&out).map_err(|e| format!("`{shown}`: {e}"))?;
                    lv.networks = list
                        .networks
                        .into_iter()
                        .map(|n| Network {
                            name: n.name,
                            active: n.state == "active",
                            autostart: n.autostart == "yes",
                            persistent: n.persistent == "yes",
                        })
                        .collect();
                }
                ["domstate", dom] => match parse_domstate(&out) {
                    Ok(Presence::Present(s)) => {
                        states.insert(dom.to_string(), s.label().to_string());
                    }
                    Ok(Presence::Absent { .. }) => undefined.push(dom.to_string()),
                    Err(e) => return Err(format!("`{shown}`: {e}")),
                },
                ["dumpxml", dom] if rec.exit == 0 => {
                    let text = String::from_utf8(rec.stdout.to_vec())
                        .map_err(|_| format!("`{shown}`: not UTF-8"))?;
                    let xml = text
                        .strip_suffix('\n')
                        .filter(|x| x.ends_with("</domain>\n"))
                        .ok_or_else(|| {
                            format!("`{shown}`: not a domain XML and virsh's blank line")
                        })?;
                    xmls.insert(dom.to_string(), xml.to_string());
                }
                _ => {}
            }
        }
        // A domain no `list --all` names but `domstate`/`dumpxml` know.
        for (name, state) in &states {
            if undefined.contains(name) {
                continue;
            }
            match lv.domains.iter_mut().find(|d| &d.name == name) {
                Some(d) if &d.state != state => {
                    return Err(format!(
                        "domain {name}: `list --all` says {} but `domstate` {state}",
                        d.state
                    ));
                }
                Some(_) => {}
                None => lv.domains.push(Domain {
                    id: None,
                    name: name.clone(),
                    state: state.clone(),
                    xml: None,
                    config_detached: Vec::new(),
                }),
            }
        }
        for (name, xml) in xmls {
            if let Some(d) = lv.domains.iter_mut().find(|d| d.name == name) {
                d.xml = Some(xml);
            }
        }
        for name in undefined {
            if lv.domains.iter().any(|d| d.name == name) {
                return Err(format!(
                    "domain {name}: listed but `domstate` says it is not defined"
                ));
            }
        }
        lv.defs = load_node_networks(world)?;
        Ok(lv)
    }

    pub(crate) fn domain(&self, name: &str) -> Option<usize> {
        self.domains.iter().position(|d| d.name == name)
    }

    pub(crate) fn network(&self, name: &str) -> Option<usize> {
        self.networks.iter().position(|n| n.name == name)
    }

    /// Answers one virsh subcommand.
    pub fn answer(&mut self, args: &[String]) -> Answer {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        match a.as_slice() {
            ["list", "--all"] => ran_ok(self.render_list()),
            ["net-list", "--all"] => ran_ok(self.render_net_list()),
            ["domstate", dom] => match self.domain(dom) {
                Some(i) => ran_ok(format!("{}\n", self.domains[i].state)),
                None => no_domain(dom),
            },
            ["dumpxml", dom] => match self.domain(dom) {
                Some(i) => match &self.domains[i].xml {
                    Some(xml) => ran_ok(xml.clone()),
                    None => unmodelled(&format!(
                        "dumpxml {dom}: the world recorded no XML for this domain"
                    )),
                },
                None => no_domain(dom),
            },
            ["net-dumpxml", net] => match self.network(net) {
                Some(_) => match self.defs.get(*net) {
                    Some(def) => ran_ok(render_network_xml(def)),
                    None => unmodelled(&format!(
                        "net-dumpxml {net}: the world's libvirt-node.xml does not define it"
                    )),
                },
                None => no_network(net),
            },
            ["net-destroy", net] => self.net_destroy(net),
            ["net-undefine", net] => self.net_undefine(net),
            ["detach-interface", rest @ ..] => self.detach_interface(rest),
            [cmd, ..] if !KNOWN.contains(cmd) => Answer::fail(
                1,
                // tools/vsh.c vshCmddefSearch failing in vshCommandParse.
                format!("error: unknown command: '{cmd}'\n"),
            ),
            _ => unmodelled(&a.join(" ")),
        }
    }

    fn render_list(&self) -> String {
        let rows: Vec<Vec<String>> = self
            .domains
            .iter()
            .map(|d| {
                vec![
                    d.id.map_or_else(|| "-".to_string(), |i| i.to_string()),
                    d.name.clone(),
                    d.state.clone(),
                ]
            })
            .collect();
        vsh_table(&["Id", "Name", "State"], &rows)
    }

    fn render_net_list(&self) -> String {
        let yes = |b: bool| if b { "yes" } else { "no" }.to_string();
        let rows: Vec<Vec<String>> = self
            .networks
            .iter()
            .map(|n| {
                vec![
                    n.name.clone(),
                    if n.active { "active" } else { "inactive" }.to_string(),
                    yes(n.autostart),
                    yes(n.persistent),
                ]
            })
            .collect();
        vsh_table(&["Name", "State", "Autostart", "Persistent"], &rows)
    }

    /// tools/virsh-network.c `cmdNetworkDestroy`; the network driver refuses an inactive
    /// network (src/network/bridge_driver.c `networkDestroy`: "network '%s' is not
    /// active", VIR_ERR_OPERATION_INVALID). A transient network is gone once destroyed.
    fn net_destroy(&mut self, net: &str) -> Answer {
        let Some(i) = self.network(net) else {
            return no_network(net);
        };
        if !self.networks[i].active {
            return ran_fail(format!(
                "error: Failed to destroy network {net}\nerror: Requested operation is not valid: network '{net}' is not active\n"
            ));
        }
        self.networks[i].active = false;
        if !self.networks[i].persistent {
            self.networks.remove(i);
        }
        ran_ok(format!("Network {net} destroyed\n"))
    }

    /// tools/virsh-network.c `cmdNetworkUndefine`. On qemu:///system the network driver
    /// (src/network/bridge_driver.c `networkUndefine`) deletes the persistent config; an
    /// active network stays, transient, until it is destroyed.
    fn net_undefine(&mut self, net: &str) -> Answer {
        let Some(i) = self.network(net) else {
            return no_network(net);
        };
        if !self.networks[i].persistent {
            return ran_fail(format!(
                "error: Failed to undefine network {net}\nerror: Requested operation is not valid: can't undefine transient network\n"
            ));
        }
        if self.networks[i].active {
            self.networks[i].persistent = false;
            self.networks[i].autostart = false;
        } else {
            self.networks.remove(i);
            self.defs.remove(net);
        }
        ran_ok(format!("Network {net} has been undefined\n"))
    }

    /// `detach-interface <dom> <type> --mac <mac> [--config] [--live] [--current]
    /// [--persistent]` (tools/virsh-domain.c `cmdDetachInterface`,
    /// `virshDomainDetachInterface`). The interface is looked up in the persistent XML
    /// with `--config` and in the live XML otherwise, by type and MAC (case-insensitive,
    /// `virMacAddrCompare`); without `--config` the call is `virDomainDetachDevice`, which
    /// the qemu driver runs as `VIR_DOMAIN_AFFECT_LIVE` and refuses on a shut-off domain
    /// (src/conf/domain_conf.c `virDomainObjUpdateModificationImpact`: "domain is not
    /// running", VIR_ERR_OPERATION_INVALID).
    fn detach_interface(&mut self, rest: &[&str]) -> Answer {
        let mut positional = Vec::new();
        let (mut mac, mut config, mut live, mut persistent) = (None, false, false, false);
        let mut it = rest.iter();
        while let Some(arg) = it.next() {
            match *arg {
                "--mac" => match it.next() {
                    Some(m) => mac = Some(m.to_string()),
                    None => {
                        // vshCommandParse: an option without its value.
                        return Answer::fail(
                            1,
                            "error: expected syntax: --mac <string>\n".to_string(),
                        );
                    }
                },
                "--config" => config = true,
                "--live" => live = true,
                "--current" => {}
                "--persistent" => persistent = true,
                other if other.starts_with("--") => {
                    return Answer::fail(
                        1,
                        format!(
                            "error: command 'detach-interface' doesn't support option {other}\n"
                        ),
                    );
                }
                other => positional.push(other),
            }
        }
        let [dom, kind] = positional.as_slice() else {
            return unmodelled(&format!("detach-interface {}", rest.join(" ")));
        };
        let Some(mac) = mac else {
            return unmodelled("detach-interface without --mac");
        };
        let Some(i) = self.domain(dom) else {
            return no_domain(dom);
        };
        let domain = &mut self.domains[i];
        let active = domain.is_active();
        if persistent {
            config = true;
            live |= active;
        }
        let Some(xml) = domain.xml.clone() else {
            return unmodelled(&format!("detach-interface {dom}: no recorded XML"));
        };
        let already = config
            && domain
                .config_detached
                .iter()
                .any(|m| m.eq_ignore_ascii_case(&mac));
        let range = match interface_range(&xml, kind, &mac) {
            Ok(r) if !already => r,
            Ok(_) | Err(Lookup::NoMatch) => {
                return ran_fail(format!(
                    "error: No interface with MAC address {mac} was found\nerror: Failed to detach interface\n"
                ));
            }
            Err(Lookup::NoType) => {
                return ran_fail(format!(
                    "error: No interface found whose type is {kind}\nerror: Failed to detach interface\n"
                ));
            }
            Err(Lookup::Broken) => return unmodelled(&format!("{dom}: XML the sim cannot read")),
        };
        // Without --config/--live the default is the live definition.
        let affects_live = live || !config;
        if affects_live && !active {
            return ran_fail(
                "error: Failed to detach interface\nerror: Requested operation is not valid: domain is not running\n"
                    .to_string(),
            );
        }
        // dumpxml shows the live XML of a running domain and the persistent one of a
        // shut-off domain.
        if affects_live || !active {
            let mut text = xml;
            text.replace_range(range, "");
            domain.xml = Some(text);
        }
        if config && active {
            domain.config_detached.push(mac);
        }
        ran_ok("Interface detached successfully\n".to_string())
    }
}

/// Commands virsh has that the simulator does not model (their forms are refused as
/// unmodelled, not as unknown commands).
const KNOWN: &[&str] = &[
    "list",
    "net-list",
    "domstate",
    "dumpxml",
    "net-dumpxml",
    "net-destroy",
    "net-undefine",
    "detach-interface",
    "start",
    "shutdown",
    "destroy",
    "undefine",
    "define",
    "attach-interface",
    "net-start",
    "net-define",
    "net-autostart",
    "domiflist",
    "dominfo",
    "net-info",
    "edit",
];

enum Lookup {
    NoType,
    NoMatch,
    Broken,
}

/// The byte range of the `<interface type=kind>` with this MAC, with its line's
/// indentation and its newline, in a domain XML.
fn interface_range(xml: &str, kind: &str, mac: &str) -> Result<std::ops::Range<usize>, Lookup> {
    let doc = roxmltree::Document::parse(xml).map_err(|_| Lookup::Broken)?;
    let devices = doc
        .root_element()
        .children()
        .find(|c| c.has_tag_name("devices"))
        .ok_or(Lookup::NoType)?;
    let of_type: Vec<_> = devices
        .children()
        .filter(|c| c.has_tag_name("interface") && c.attribute("type") == Some(kind))
        .collect();
    if of_type.is_empty() {
        return Err(Lookup::NoType);
    }
    let node = of_type
        .into_iter()
        .find(|i| {
            i.children().any(|c| {
                c.has_tag_name("mac")
                    && c.attribute("address")
                        .is_some_and(|a| a.eq_ignore_ascii_case(mac))
            })
        })
        .ok_or(Lookup::NoMatch)?;
    let r = node.range();
    let line_start = xml[..r.start].rfind('\n').map_or(0, |p| p + 1);
    let start = if xml[line_start..r.start].chars().all(|c| c == ' ') {
        line_start
    } else {
        r.start
    };
    let end = if xml[r.end..].starts_with('\n') {
        r.end + 1
    } else {
        r.end
    };
    Ok(start..end)
}

/// A command that ran: its output and vsh's blank line.
fn ran_ok(stdout: String) -> Answer {
    Answer::ok(format!("{stdout}\n"))
}

/// A command that ran and failed: vsh's blank line on stdout, the errors on stderr,
/// exit 1.
fn ran_fail(stderr: String) -> Answer {
    Answer {
        exit: 1,
        stdout: b"\n".to_vec().into(),
        stderr: stderr.into_bytes(),
    }
}

/// tools/virsh-util.c `virshLookupDomainInternal` resets libvirt's error and reports
/// only this line.
fn no_domain(dom: &str) -> Answer {
    ran_fail(format!("error: failed to get domain '{dom}'\n"))
}

/// tools/virsh-network.c `virshCommandOptNetworkBy` ("failed to get network '%s'"),
/// then the driver's own error (src/network/bridge_driver.c `networkObjFromNetwork`:
/// VIR_ERR_NO_NETWORK "no network with matching name '%s'").
fn no_network(net: &str) -> Answer {
    ran_fail(format!(
        "error: failed to get network '{net}'\nerror: Network not found: no network with matching name '{net}'\n"
    ))
}

fn unmodelled(what: &str) -> Answer {
    Answer::fail(
        1,
        format!("error: stackgate simulator: virsh {what}: not modelled\n"),
    )
}

/// A virsh table as `vshTablePrint` prints it (tools/vsh-table.c
/// `vshTableRowPrint`): each cell after one space, every cell but the last padded to
/// its column's widest cell plus two spaces, the header followed by a rule of dashes
/// as long as the widths plus three per column. The blank line after the table is
/// vsh's, after every command ([`ran_ok`]).
pub(crate) fn vsh_table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, cells: &[&str]| {
        for (i, cell) in cells.iter().enumerate() {
            out.push(' ');
            out.push_str(cell);
            if i + 1 < cells.len() {
                let pad = widths[i] - cell.chars().count() + 2;
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push('\n');
    };
    line(&mut out, header);
    let rule: usize = widths.iter().map(|w| w + 3).sum();
    out.extend(std::iter::repeat_n('-', rule));
    out.push('\n');
    for row in rows {
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        line(&mut out, &cells);
    }
    out
}

/// A network's XML as libvirt 9.0 formats it (src/conf/network_conf.c
/// `virNetworkDefFormatBuf`: name, uuid, forward, bridge with its stp/delay defaults,
/// mac, then each `<ip>`, which `virNetworkIPDefFormat` always closes with `</ip>` on its
/// own line).
pub(crate) fn render_network_xml(def: &NetworkDef) -> String {
    let mut x = String::from("<network>\n");
    x.push_str(&format!("  <name>{}</name>\n", def.name));
    if let Some(u) = &def.uuid {
        x.push_str(&format!("  <uuid>{u}</uuid>\n"));
    }
    if let Some(m) = &def.forward_mode {
        x.push_str(&format!("  <forward mode='{m}'/>\n"));
    }
    if let Some(b) = &def.bridge {
        x.push_str(&format!("  <bridge name='{b}' stp='on' delay='0'/>\n"));
    }
    if let Some(m) = &def.mac {
        x.push_str(&format!("  <mac address='{m}'/>\n"));
    }
    if let Some((addr, mask)) = &def.ip {
        x.push_str(&format!(
            "  <ip address='{addr}' netmask='{mask}'>\n  </ip>\n"
        ));
    }
    x.push_str("</network>\n");
    x
}

/// The `<network>` definitions of the world's `libvirt-node.xml` (the test-driver node
/// its virsh recordings were made from), read through the `cat -- libvirt-node.xml`
/// file the world directory holds. Worlds without one define no networks to dump.
fn load_node_networks(world: &World) -> Result<BTreeMap<String, NetworkDef>, String> {
    let Some(text) = super::world_file(world, "libvirt-node.xml") else {
        return Ok(BTreeMap::new());
    };
    parse_node_networks(&text)
}

pub(crate) fn parse_node_networks(text: &str) -> Result<BTreeMap<String, NetworkDef>, String> {
    let doc = roxmltree::Document::parse(text).map_err(|e| format!("libvirt-node.xml: {e}"))?;
    let mut defs = BTreeMap::new();
    for net in doc
        .root_element()
        .children()
        .filter(|c| c.has_tag_name("network"))
    {
        let child = |tag: &str| net.children().find(|c| c.has_tag_name(tag));
        let text_of = |tag: &str| child(tag).and_then(|c| c.text()).map(str::to_string);
        let Some(name) = text_of("name") else {
            return Err("libvirt-node.xml: a <network> without <name>".into());
        };
        let def = NetworkDef {
            name: name.clone(),
            uuid: text_of("uuid"),
            forward_mode: child("forward")
                .and_then(|c| c.attribute("mode"))
                .map(str::to_string),
            bridge: child("bridge")
                .and_then(|c| c.attribute("name"))
                .map(str::to_string),
            mac: child("mac")
                .and_then(|c| c.attribute("address"))
                .map(str::to_string),
            ip: child("ip").and_then(|c| {
                Some((
                    c.attribute("address")?.to_string(),
                    c.attribute("netmask")?.to_string(),
                ))
            }),
        };
        defs.insert(name, def);
    }
    Ok(defs)
}

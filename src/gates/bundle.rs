//! Bundle gates: P00-BUNDLE (seed 002 step 7, provider-bundle-check.py), P01-VIPS and
//! P01-OVERLAY (004 checkpoint). The bundle is read as the jumphost holds it; every
//! expectation (API charms, VIP planes and band, chassis MACs, overlays) comes from the
//! profile's `[bundle]` section.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

use super::substrate::{all_good, section, tally};
use super::{Evidence, GateSpec, Mark, Verdict, read_or_precondition};
use crate::profile::{BundleSite, Profile};
use crate::snapshot::{Read, ReadError, Snapshot};
use crate::sources::SourceError;
use crate::sources::bundle::{Bundle, BundleFile, endpoint_application};

pub(super) static GATES_00: [GateSpec; 1] = [GateSpec {
    id: "P00-BUNDLE",
    phase: "00",
    tags: &["read-only"],
    description: "bundle.yaml: API charms bind public to provider-public, VIP triples aligned in the band, every chassis MAC mapped, relations name bundle applications, mysql units, keystone policyd wired, the one overlay complete and ASCII clean",
    reads: bundle_reads,
    follow_up: None,
    evaluate: gate_bundle,
    from_parts: None,
}];

pub(super) static GATES_01: [GateSpec; 2] = [
    GateSpec {
        id: "P01-VIPS",
        phase: "01",
        tags: &["read-only"],
        description: "every API charm's VIP triple aligned (provider, admin, internal; one octet) inside the VIP band (OK=11, bad=0)",
        reads: bundle_reads,
        follow_up: None,
        evaluate: gate_vips,
        from_parts: None,
    },
    GateSpec {
        id: "P01-OVERLAY",
        phase: "01",
        tags: &["read-only"],
        description: "the octavia-pki overlay present with its five lb-mgmt-* keys, ASCII clean",
        reads: bundle_reads,
        follow_up: None,
        evaluate: gate_overlay,
        from_parts: None,
    },
];

fn bundle_reads(profile: &Profile) -> Vec<Read> {
    let Some(site) = &profile.bundle else {
        return Vec::new();
    };
    std::iter::once(site.path.clone())
        .chain(site.overlays.iter().map(|o| o.path.clone()))
        .map(|path| Read::BundleFile { path })
        .collect()
}

fn bundle_site<'p>(gate: &GateSpec, profile: &'p Profile) -> Result<&'p BundleSite, Box<Verdict>> {
    section(gate, profile, profile.bundle.as_ref(), "bundle")
}

/// One checked item: good or not, with its evidence line.
type Check = (bool, Evidence);

fn check(ok: bool, subject: impl Into<String>, property: &str, actual: impl Into<String>) -> Check {
    let mark = if ok { Mark::Ok } else { Mark::Bad };
    (ok, Evidence::new(mark, subject, property, actual))
}

/// Turns checks into a verdict: PASS only when there were checks and all were good.
fn verdict_of(gate: &GateSpec, checks: Vec<Check>, what: &str) -> Verdict {
    let (good, total, bad) = tally(&checks);
    let summary = if bad.is_empty() {
        format!("{good}/{total} {what} checks hold")
    } else {
        format!(
            "{} of {total} {what} checks fail: {}",
            bad.len(),
            bad.join("; ")
        )
    };
    Verdict::new(gate, all_good(good, total), summary)
        .with_evidence(checks.into_iter().map(|(_, e)| e).collect())
        .metric("ok", good)
        .metric("bad", total - good)
}

/// The VIP triple of every API charm: one line per application.
fn vip_checks(bundle: &Bundle, site: &BundleSite, profile: &Profile) -> Vec<Check> {
    let planes: Vec<_> = site
        .vip_planes
        .iter()
        .filter_map(|name| profile.plane(name))
        .collect();
    let band = site.vip_octets.first..=site.vip_octets.last;
    let mut owners: BTreeMap<u8, Vec<&str>> = BTreeMap::new();
    let mut checks = Vec::new();
    for app in &site.api_applications {
        let subject = format!("application {app}");
        let Some(a) = bundle.applications.get(app) else {
            checks.push(check(
                false,
                subject,
                "vip",
                "application absent from the bundle",
            ));
            continue;
        };
        let Some(vip) = a.option_text("vip") else {
            checks.push(check(false, subject, "vip", "option not set"));
            continue;
        };
        let addrs: Vec<Option<Ipv4Addr>> = vip.split_whitespace().map(|s| s.parse().ok()).collect();
        let mut problems = Vec::new();
        if addrs.len() != planes.len() {
            problems.push(format!(
                "{} address(es), expected {} ({})",
                addrs.len(),
                planes.len(),
                site.vip_planes.join(", ")
            ));
        }
        let mut octets = BTreeSet::new();
        for (addr, plane) in addrs.iter().zip(&planes) {
            match addr {
                Some(a) if plane.cidr.contains(a) => {
                    octets.insert(a.octets()[3]);
                }
                Some(a) => problems.push(format!("{a} is not on {} {}", plane.name, plane.cidr)),
                None => problems.push("an address does not parse".to_string()),
            }
        }
        match octets.len() {
            0 => {}
            1 => {
                let x = *octets.first().expect("one octet");
                owners.entry(x).or_default().push(app);
                if !band.contains(&x) {
                    problems.push(format!(
                        "octet .{x} outside the band .{}-.{}",
                        band.start(),
                        band.end()
                    ));
                }
            }
            _ => problems.push(format!(
                "octets differ across planes: {}",
                octets
                    .iter()
                    .map(|o| format!(".{o}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            )),
        }
        let ok = problems.is_empty();
        let actual = if ok {
            vip.clone()
        } else {
            format!("{vip:?}: {}", problems.join("; "))
        };
        checks.push((
            ok,
            Evidence::new(
                if ok { Mark::Ok } else { Mark::Bad },
                subject,
                "vip",
                actual,
            )
            .expected(format!(
                "one address per plane ({}), same octet in .{}-.{}",
                site.vip_planes.join(", "),
                band.start(),
                band.end()
            )),
        ));
    }
    // Two services on one VIP octet would share an address on every plane.
    for (octet, apps) in owners.iter().filter(|(_, apps)| apps.len() > 1) {
        checks.push(check(
            false,
            format!("VIP octet .{octet}"),
            "applications",
            format!("shared by {}", apps.join(", ")),
        ));
    }
    checks
}

/// The overlays: each present, its application given every key, ASCII + LF clean.
/// An overlay read that failed for a reason other than the file being absent (`cat`
/// exiting non-zero): a parse error or a runner failure is PRECONDITION, while an absent
/// overlay is the finding itself.
fn overlay_unreadable(snapshot: &Snapshot, site: &BundleSite) -> Option<ReadError> {
    site.overlays
        .iter()
        .filter_map(|o| snapshot.bundle_file(&o.path).err())
        .find(|e| !matches!(e, ReadError::Source(SourceError::NotFound { .. })))
}

fn overlay_checks(snapshot: &Snapshot, site: &BundleSite) -> Vec<Check> {
    let mut checks = Vec::new();
    if site.overlays.is_empty() {
        checks.push(check(false, "profile", "bundle.overlays", "none listed"));
    }
    for overlay in &site.overlays {
        let file: &BundleFile = match snapshot.bundle_file(&overlay.path) {
            Ok(f) => f,
            Err(e) => {
                checks.push(check(
                    false,
                    format!("overlay {}", overlay.path),
                    "read",
                    e.to_string(),
                ));
                continue;
            }
        };
        let subject = format!("overlay {}", overlay.path);
        let app = file.bundle.applications.get(&overlay.application);
        for key in &overlay.keys {
            let set = app.is_some_and(|a| {
                a.options.get(key).is_some_and(|v| {
                    !v.is_null() && v.as_str().is_none_or(|s| !s.trim().is_empty())
                })
            });
            checks.push(check(
                set,
                subject.clone(),
                &format!("applications.{}.options.{key}", overlay.application),
                if set { "set" } else { "absent or empty" },
            ));
        }
        let mut clean = Vec::new();
        if !file.non_ascii_lines.is_empty() {
            clean.push(format!(
                "non-ASCII on line(s) {}",
                lines(&file.non_ascii_lines)
            ));
        }
        if !file.crlf_lines.is_empty() {
            clean.push(format!("CRLF on line(s) {}", lines(&file.crlf_lines)));
        }
        checks.push(check(
            clean.is_empty(),
            subject,
            "ASCII + LF",
            if clean.is_empty() {
                "clean".to_string()
            } else {
                clean.join("; ")
            },
        ));
    }
    checks
}

fn lines(numbers: &[usize]) -> String {
    numbers
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

fn gate_bundle(gate: &GateSpec, snapshot: &Snapshot, profile: &Profile) -> Verdict {
    let site = match bundle_site(gate, profile) {
        Ok(s) => s,
        Err(v) => return *v,
    };
    let file = read_or_precondition!(gate, snapshot.bundle_file(&site.path));
    let bundle = &file.bundle;
    let mut checks = Vec::new();

    // 11 API charms bind `public` to the provider space.
    for app in &site.api_applications {
        let bound = bundle
            .applications
            .get(app)
            .map(|a| a.bindings.get("public").map_or("(unbound)", String::as_str));
        checks.push(check(
            bound == Some(site.public_space.as_str()),
            format!("application {app}"),
            "bindings.public",
            bound.unwrap_or("application absent from the bundle"),
        ));
    }
    checks.extend(vip_checks(bundle, site, profile));

    // Every host's provider MAC in the chassis bridge-interface-mappings.
    let mappings = bundle
        .applications
        .get(&site.chassis_application)
        .and_then(|a| a.option_text("bridge-interface-mappings"))
        .unwrap_or_default();
    let mapped: BTreeSet<String> = mappings
        .split_whitespace()
        .filter_map(|m| m.split_once(':'))
        .filter(|(bridge, _)| *bridge == site.chassis_bridge)
        .map(|(_, mac)| mac.to_ascii_lowercase())
        .collect();
    for host in &profile.hosts {
        let subject = format!("host {}", host.hostname);
        let property = format!(
            "{}.bridge-interface-mappings {}",
            site.chassis_application, site.chassis_bridge
        );
        match &host.provider_mac {
            Some(mac) => checks.push(check(
                mapped.contains(&mac.to_ascii_lowercase()),
                subject,
                &property,
                if mapped.contains(&mac.to_ascii_lowercase()) {
                    format!("{mac} mapped")
                } else {
                    format!("{mac} not mapped")
                },
            )),
            None => checks.push(check(
                false,
                subject,
                &property,
                "profile gives no provider_mac",
            )),
        }
    }

    // Relations name applications of the bundle (or consumed offers).
    let mut bad_endpoints = 0;
    for relation in &bundle.relations {
        for endpoint in relation {
            let app = endpoint_application(endpoint);
            if !bundle.applications.contains_key(app) && !bundle.saas.contains_key(app) {
                bad_endpoints += 1;
                checks.push(check(
                    false,
                    format!("relation {}", relation.join(" <-> ")),
                    "endpoint",
                    format!("{endpoint}: no application {app} in the bundle"),
                ));
            }
        }
    }
    // juju/charm bundledata.go `verifyRelations` refuses a bundle that defines a
    // relation twice ("relation %q is defined more than once"), either way round.
    let mut pairs: Vec<[&str; 2]> = Vec::new();
    for relation in &bundle.relations {
        let [a, b] = [relation[0].as_str(), relation[1].as_str()];
        let pair = if a <= b { [a, b] } else { [b, a] };
        if pairs.contains(&pair) {
            bad_endpoints += 1;
            checks.push(check(
                false,
                format!("relation {}", relation.join(" <-> ")),
                "defined",
                "more than once: juju's bundle verifier refuses the bundle",
            ));
        } else {
            pairs.push(pair);
        }
    }
    if bad_endpoints == 0 {
        checks.push(check(
            !bundle.relations.is_empty(),
            "relations",
            "endpoints",
            format!(
                "{} relation(s), every endpoint names a bundle application",
                bundle.relations.len()
            ),
        ));
    }

    // mysql-innodb-cluster at its unit count (D-062).
    let mysql = bundle.applications.get(&profile.mysql.application);
    let units = mysql.and_then(|a| a.num_units);
    checks.push(check(
        units == Some(profile.mysql.units as u64),
        format!("application {}", profile.mysql.application),
        "num_units",
        units.map_or_else(|| "not set".to_string(), |n| n.to_string()),
    ));
    if let Some((_, e)) = checks.last_mut() {
        *e = e.clone().expected(profile.mysql.units.to_string());
    }

    // keystone's policy override: the resource attached and the option on (DOCFIX-071).
    let pd = &site.policyd;
    let app = bundle.applications.get(&pd.application);
    let resource = app.and_then(|a| a.resources.get(&pd.resource));
    checks.push(check(
        resource.is_some_and(|v| !v.is_null()),
        format!("application {}", pd.application),
        &format!("resources.{}", pd.resource),
        if resource.is_some() {
            "wired"
        } else {
            "absent"
        },
    ));
    let option = app.and_then(|a| a.option_text(&pd.option));
    checks.push(check(
        option.as_deref() == Some("true"),
        format!("application {}", pd.application),
        &format!("options.{}", pd.option),
        option.unwrap_or_else(|| "not set".to_string()),
    ));

    if let Some(e) = overlay_unreadable(snapshot, site) {
        return Verdict::unreadable(gate, &e);
    }
    checks.extend(overlay_checks(snapshot, site));
    verdict_of(gate, checks, "bundle")
}

fn gate_vips(gate: &GateSpec, snapshot: &Snapshot, profile: &Profile) -> Verdict {
    let site = match bundle_site(gate, profile) {
        Ok(s) => s,
        Err(v) => return *v,
    };
    let file = read_or_precondition!(gate, snapshot.bundle_file(&site.path));
    verdict_of(gate, vip_checks(&file.bundle, site, profile), "VIP")
}

fn gate_overlay(gate: &GateSpec, snapshot: &Snapshot, profile: &Profile) -> Verdict {
    let site = match bundle_site(gate, profile) {
        Ok(s) => s,
        Err(v) => return *v,
    };
    if let Some(e) = overlay_unreadable(snapshot, site) {
        return Verdict::unreadable(gate, &e);
    }
    verdict_of(gate, overlay_checks(snapshot, site), "overlay")
}

//! Shared reads of the MAAS substrate for phase-00/01 gates: the site's MAAS section,
//! subnets by CIDR and machines by hostname (rule R1).

use super::{Evidence, GateSpec, Mark, Status, Verdict};
use crate::profile::{MaasSite, Plane, Profile};
use crate::snapshot::Read;
use crate::sources::maas::Subnet;

/// The profile's MAAS section, or the PRECONDITION verdict saying it has none.
pub(super) fn maas_site<'p>(
    gate: &GateSpec,
    profile: &'p Profile,
) -> Result<&'p MaasSite, Box<Verdict>> {
    profile.maas.as_ref().ok_or_else(|| {
        Box::new(Verdict::new(
            gate,
            Status::Precondition,
            format!(
                "profile {} has no [maas] section: this gate has nothing to check against",
                profile.name
            ),
        ))
    })
}

pub(super) fn maas_profile(profile: &Profile) -> String {
    profile.maas_profile()
}

pub(super) fn machines_read(profile: &Profile) -> Vec<Read> {
    vec![Read::MaasMachines {
        profile: maas_profile(profile),
    }]
}

pub(super) fn subnets_read(profile: &Profile) -> Vec<Read> {
    vec![Read::MaasSubnets {
        profile: maas_profile(profile),
    }]
}

/// The subnet whose CIDR is the plane's, whatever its id.
pub(super) fn subnet_for<'a>(subnets: &'a [Subnet], plane: &Plane) -> Option<&'a Subnet> {
    crate::resolve::subnet_by_cidr(subnets, plane.cidr)
}

pub(super) use crate::resolve::machine;

/// An evidence line comparing one property.
pub(super) fn compare(
    subject: &str,
    property: &str,
    actual: &str,
    expected: &str,
) -> (bool, Evidence) {
    let ok = actual == expected;
    let mark = if ok { Mark::Ok } else { Mark::Bad };
    (
        ok,
        Evidence::new(mark, subject, property, actual).expected(expected),
    )
}

/// The VID, gateway and DNS of a subnet compared with its plane (P01-PLANES and the
/// standup drift check read the same three properties).
pub(super) fn plane_checks(subject: &str, subnet: &Subnet, plane: &Plane) -> Vec<(bool, Evidence)> {
    let vid = subnet
        .vlan
        .as_ref()
        .map_or_else(|| "(no vlan)".to_string(), |v| v.vid.to_string());
    vec![
        compare(subject, "vlan.vid", &vid, &plane.vid.to_string()),
        compare(
            subject,
            "gateway_ip",
            &shown(subnet.gateway_ip.as_deref()),
            &shown(plane.gateway.map(|g| g.to_string()).as_deref()),
        ),
        compare(
            subject,
            "dns_servers",
            &joined(&subnet.dns_servers),
            &joined(&plane.dns),
        ),
    ]
}

/// PASS when every one of `total` (at least one) checked items is good, else FAIL: a
/// gate over no hosts or links has proved nothing.
pub(super) fn all_good(good: u64, total: u64) -> Status {
    if good == total && total > 0 {
        Status::Pass
    } else {
        Status::Fail
    }
}

/// Shows an optional value for evidence.
pub(super) fn shown(value: Option<&str>) -> String {
    match value {
        Some(v) if !v.is_empty() => v.to_string(),
        _ => "(none)".to_string(),
    }
}

/// A list of addresses as MAAS prints them, for comparison.
pub(super) fn joined<T: ToString>(items: &[T]) -> String {
    let mut v: Vec<String> = items.iter().map(ToString::to_string).collect();
    v.sort();
    if v.is_empty() {
        "(none)".to_string()
    } else {
        v.join(",")
    }
}

/// Counts scored checks (info lines carry context, not a score): the good ones, all of
/// them, and "subject property" of each bad one, for summaries.
pub(super) fn tally(checks: &[(bool, Evidence)]) -> (u64, u64, Vec<String>) {
    let scored = checks.iter().filter(|(_, e)| e.mark != Mark::Info);
    let total = scored.clone().count() as u64;
    let good = scored.filter(|(ok, _)| *ok).count() as u64;
    let bad = checks
        .iter()
        .filter(|(ok, _)| !ok)
        .map(|(_, e)| format!("{} {}", e.subject, e.property))
        .collect();
    (good, total, bad)
}

/// A profile section a gate needs, or the PRECONDITION verdict naming its absence.
pub(super) fn section<'p, T>(
    gate: &GateSpec,
    profile: &Profile,
    value: Option<&'p T>,
    name: &str,
) -> Result<&'p T, Box<Verdict>> {
    value.ok_or_else(|| {
        Box::new(Verdict::new(
            gate,
            Status::Precondition,
            format!(
                "profile {} has no [{name}] section: nothing to check against",
                profile.name
            ),
        ))
    })
}

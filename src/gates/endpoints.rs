//! P03-ENDPOINTS (seed 004 phase-03 3.2, amended for D-052): the catalog a scoped token
//! returns puts each interface on its plane (public on provider 10.12.4.X, internal on
//! metal-internal 10.12.12.X, admin on metal-admin 10.12.8.X), X is the service's VIP
//! octet in the bundle, and keystone's admin endpoint listens on :35357. The
//! simplestreams image stream is registered per deploy and never pinned.

use super::substrate::{all_good, section, tally};
use super::{Evidence, GateSpec, Mark, Verdict, read_or_precondition};
use crate::profile::Profile;
use crate::snapshot::{Read, Snapshot};

pub(super) static GATES: [GateSpec; 1] = [GateSpec {
    id: "P03-ENDPOINTS",
    phase: "03",
    tags: &["read-only"],
    description: "scoped catalog: public on provider .4.X, internal on metal-internal .12.X, admin on metal-admin .8.X, X = the service's bundle VIP, keystone admin :35357; the simplestreams stream not pinned",
    reads: |p| {
        let mut r = vec![Read::OpenstackEndpoints];
        if let Some(b) = &p.bundle {
            r.push(Read::BundleFile {
                path: b.path.clone(),
            });
        }
        r
    },
    follow_up: None,
    evaluate: gate_endpoints,
    from_parts: None,
}];

fn gate_endpoints(gate: &GateSpec, snapshot: &Snapshot, profile: &Profile) -> Verdict {
    let site = match section(gate, profile, profile.endpoints.as_ref(), "endpoints") {
        Ok(s) => s,
        Err(v) => return *v,
    };
    let bundle_site = match section(gate, profile, profile.bundle.as_ref(), "bundle") {
        Ok(s) => s,
        Err(v) => return *v,
    };
    // An unscoped or expired token fails the list itself: PRECONDITION, never "0 endpoints".
    let rows = read_or_precondition!(gate, snapshot.openstack_endpoints());
    let bundle = read_or_precondition!(gate, snapshot.bundle_file(&bundle_site.path));
    let mut checks: Vec<(bool, Evidence)> = Vec::new();
    let mut seen: std::collections::BTreeSet<(String, String)> = Default::default();
    for row in rows {
        let subject = format!("{} {}", row.service_name, row.interface);
        // Context, not scored: an endpoint the gate reports without pinning it.
        let unscored = |why: &str| {
            let line = Evidence::new(Mark::Info, &subject, "url", format!("{} ({why})", row.url));
            (true, line)
        };
        if site.unpinned_types.contains(&row.service_type) {
            checks.push(unscored("per deploy, not pinned"));
            continue;
        }
        let Some(app) = site.services.get(&row.service_name) else {
            checks.push(unscored("service not in the profile"));
            continue;
        };
        seen.insert((row.service_name.clone(), row.interface.clone()));
        let Some(plane) = site
            .interfaces
            .get(&row.interface)
            .and_then(|p| profile.plane(p))
        else {
            checks.push((
                false,
                Evidence::new(Mark::Bad, subject, "interface", &row.interface).expected(
                    site.interfaces
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(" | "),
                ),
            ));
            continue;
        };
        // The VIP octet the bundle gives the service's application.
        let octet = bundle
            .bundle
            .applications
            .get(app)
            .and_then(|a| a.vip_in(&plane.cidr));
        let Some(want_ip) = octet else {
            checks.push((
                false,
                Evidence::new(
                    Mark::Bad,
                    subject,
                    "bundle vip",
                    format!("{app} has no VIP on {}", plane.name),
                ),
            ));
            continue;
        };
        let parsed = url::Url::parse(&row.url).ok();
        let host = parsed
            .as_ref()
            .and_then(|u| u.host_str().map(str::to_string));
        let port = parsed.as_ref().and_then(url::Url::port_or_known_default);
        let mut problems = Vec::new();
        if host.as_deref() != Some(want_ip.to_string().as_str()) {
            problems.push(format!(
                "host is not {want_ip} ({} VIP on {})",
                app, plane.name
            ));
        }
        if row.service_name == site.identity_service
            && row.interface == "admin"
            && port != Some(site.keystone_admin_port)
        {
            problems.push(format!(
                "keystone admin must listen on :{}",
                site.keystone_admin_port
            ));
        }
        if !row.enabled {
            problems.push("disabled".to_string());
        }
        let ok = problems.is_empty();
        let mut expected = format!("{want_ip} on {} {}", plane.name, plane.cidr);
        if row.service_name == site.identity_service && row.interface == "admin" {
            expected.push_str(&format!(", port {}", site.keystone_admin_port));
        }
        let actual = if ok {
            row.url.clone()
        } else {
            format!("{} ({})", row.url, problems.join("; "))
        };
        checks.push((
            ok,
            Evidence::new(
                if ok { Mark::Ok } else { Mark::Bad },
                subject,
                "url",
                actual,
            )
            .expected(expected),
        ));
    }
    // Every profile service answers on every interface (identity, not counts: R4).
    for service in site.services.keys() {
        for interface in site.interfaces.keys() {
            if !seen.contains(&(service.clone(), interface.clone())) {
                checks.push((
                    false,
                    Evidence::new(
                        Mark::Bad,
                        format!("{service} {interface}"),
                        "endpoint",
                        "absent from the catalog",
                    ),
                ));
            }
        }
    }
    let (good, total, bad) = tally(&checks);
    let summary = if bad.is_empty() {
        format!("{good}/{total} catalog endpoints on their planes at their bundle VIPs")
    } else {
        format!(
            "{} of {total} catalog endpoints wrong: {}",
            bad.len(),
            bad.join("; ")
        )
    };
    Verdict::new(gate, all_good(good, total), summary)
        .with_evidence(checks.into_iter().map(|(_, e)| e).collect())
        .metric("endpoints_ok", good)
        .metric("endpoints", total)
}

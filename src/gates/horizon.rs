//! P03-HORIZON: the v1 plain-http Horizon leg of seed 004 step 3.3 (D-044, DOCFIX-046).
//! Three GETs, none following redirects:
//! - the dashboard VIP itself, `http://<vip>:80/horizon/`: 302 to the login page, so
//!   Horizon is served over plain http :80 (the :443 there is a certless haproxy
//!   frontend; an upstream repointed at it is the DOCFIX-046 breakage);
//! - the proxy, `http://<proxy>:81/horizon/`: 302 with the same Location, the
//!   dashboard's answer passed through (a proxy pointing elsewhere answers 502, a
//!   different redirect or nothing);
//! - the proxy, `.../horizon/auth/login/`: Set-Cookie `csrftoken` without `Secure`,
//!   or the browser on the plain-http leg drops the cookie and every login fails CSRF.
//!
//! Which upstream the proxy names is in its vhost on the proxy host, which stackgate
//! does not read (no juju unit, no credentials): the gate judges the proxy by what it
//! answers, against what the VIP answers.

use super::{Evidence, GateSpec, Mark, Status, Verdict, read_or_precondition};
use crate::profile::Profile;
use crate::snapshot::{Read, Snapshot};
use crate::sources::curl::HttpProbe;

/// Django's default `CSRF_COOKIE_NAME` (django/conf/global_settings.py), which Horizon
/// keeps.
pub const CSRF_COOKIE: &str = "csrftoken";

pub(super) static GATES: [GateSpec; 1] = [GateSpec {
    id: "P03-HORIZON",
    phase: "03",
    tags: &["read-only"],
    description: "proxy :81 -> dashboard VIP .58 http :80: GET /horizon/ -> 302 at both, same Location; csrftoken cookie without Secure",
    reads: horizon_reads,
    follow_up: None,
    evaluate: gate_horizon,
    from_parts: None,
}];

fn horizon_reads(profile: &Profile) -> Vec<Read> {
    let Some(h) = &profile.horizon else {
        return Vec::new();
    };
    [
        h.dashboard_url(&h.path),
        h.proxy_url(&h.path),
        h.proxy_url(&h.login_path),
    ]
    .into_iter()
    .map(|url| Read::HttpGet { url })
    .collect()
}

/// What a probe answered, for evidence lines.
fn answered(probe: &HttpProbe) -> String {
    match probe {
        HttpProbe::Response(r) => match r.header("location") {
            Some(location) => format!("{} -> {location}", r.status_line()),
            None => r.status_line(),
        },
        HttpProbe::NoConnection { message } => format!("no connection ({message})"),
    }
}

/// The Location of a 302, if that is what the probe got.
fn redirect(probe: &HttpProbe) -> Option<&str> {
    match probe {
        HttpProbe::Response(r) if r.code == 302 => Some(r.header("location").unwrap_or("")),
        _ => None,
    }
}

fn gate_horizon(gate: &GateSpec, snapshot: &Snapshot, profile: &Profile) -> Verdict {
    let Some(h) = &profile.horizon else {
        return Verdict::new(
            gate,
            Status::Precondition,
            "the profile has no Horizon proxy leg",
        )
        .with_evidence(vec![
            Evidence::new(Mark::Missing, "profile", "phase03.horizon", "absent")
                .expected("proxy, dashboard VIP and paths"),
        ]);
    };
    let (vip_url, proxy_url, login_url) = (
        h.dashboard_url(&h.path),
        h.proxy_url(&h.path),
        h.proxy_url(&h.login_path),
    );
    let vip = read_or_precondition!(gate, snapshot.http_get(&vip_url));
    let proxy = read_or_precondition!(gate, snapshot.http_get(&proxy_url));
    let login = read_or_precondition!(gate, snapshot.http_get(&login_url));
    let mut evidence = Vec::new();
    let mut bad = 0u64;
    let mut line = |ok: bool, subject: &str, property: &str, actual: String, expected: &str| {
        let mark = if ok { Mark::Ok } else { Mark::Bad };
        bad += u64::from(!ok);
        evidence.push(Evidence::new(mark, subject, property, actual).expected(expected));
    };

    let vip_redirect = redirect(vip);
    line(
        vip_redirect.is_some(),
        &format!("dashboard VIP {}", h.dashboard),
        &format!("GET {}", h.path),
        answered(vip),
        "302 to the login page: Horizon over plain http (D-044)",
    );
    let proxy_redirect = redirect(proxy);
    line(
        proxy_redirect.is_some(),
        &format!("proxy {}", h.proxy),
        &format!("GET {}", h.path),
        answered(proxy),
        "302 to the login page",
    );
    if let (Some(at_vip), Some(at_proxy)) = (vip_redirect, proxy_redirect) {
        line(
            at_vip == at_proxy,
            &format!("proxy {}", h.proxy),
            "forwards to",
            format!("redirect {at_proxy:?} (dashboard VIP: {at_vip:?})"),
            &format!("the redirect the dashboard VIP {} gives", h.dashboard),
        );
    }
    let subject = format!("proxy {}", h.proxy);
    let property = format!("GET {} Set-Cookie {CSRF_COOKIE}", h.login_path);
    match login {
        HttpProbe::Response(r) => match r.cookie(CSRF_COOKIE) {
            // The value is never shown: only its attributes matter here.
            Some(cookie) => {
                let secure = cookie.secure() == Some(true);
                let attributes = format!(
                    "{}; Path={}; SameSite={}",
                    if secure { "Secure" } else { "no Secure" },
                    cookie.path().unwrap_or("-"),
                    cookie
                        .same_site()
                        .map_or_else(|| "-".to_string(), |s| s.to_string())
                );
                line(
                    !secure,
                    &subject,
                    &property,
                    format!("{} with {attributes}", r.status_line()),
                    "no Secure: the :81 leg is plain http, a Secure cookie never comes back (CSRF_COOKIE_SECURE=False)",
                );
            }
            None => line(
                false,
                &subject,
                &property,
                format!("{}, no {CSRF_COOKIE} cookie", answered(login)),
                "the login page sets csrftoken",
            ),
        },
        HttpProbe::NoConnection { .. } => line(
            false,
            &subject,
            &property,
            answered(login),
            "the login page sets csrftoken",
        ),
    }
    let status = if bad == 0 { Status::Pass } else { Status::Fail };
    let summary = if bad == 0 {
        format!(
            "proxy {} passes the dashboard VIP {}'s login redirect; csrftoken without Secure",
            h.proxy, h.dashboard
        )
    } else {
        format!("{bad} check(s) of the Horizon leg failed")
    };
    Verdict::new(gate, status, summary)
        .with_evidence(evidence)
        .metric("failed_checks", bad)
}

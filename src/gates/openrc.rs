//! P03-OPENRC, seed 004 Step 3.2: the admin-openrc on the jumphost is mode 0600 and the
//! password is never echoed. Read by mode and by variable name: the password never
//! enters stackgate (R6), and a line that would print it when the file is sourced (an
//! `echo`/`printf` of OS_PASSWORD, or shell tracing) fails the gate by line number.

use super::{Evidence, GateSpec, Mark, Status, Verdict, read_or_precondition};
use crate::profile::Profile;
use crate::snapshot::{Read, Snapshot};
use crate::sources::secret_files::{FileLabels, LabelKind};
use crate::sources::unit_exec::ExecHost;

pub(super) static GATES: [GateSpec; 1] = [GateSpec {
    id: "P03-OPENRC",
    phase: "03",
    tags: &["read-only"],
    description: "admin-openrc: owner-only (0600), assigns every required OS_* variable, no line echoes the password or traces the shell; read by name, never by value",
    reads: openrc_reads,
    follow_up: None,
    evaluate: gate_openrc,
    from_parts: None,
}];

fn openrc_reads(profile: &Profile) -> Vec<Read> {
    let Some(openrc) = &profile.openrc else {
        return Vec::new();
    };
    let label = |kind| Read::FileLabels {
        host: ExecHost::Local,
        kind,
        path: openrc.path.clone(),
    };
    vec![
        Read::PathStat {
            host: ExecHost::Local,
            path: openrc.path.clone(),
        },
        label(LabelKind::OpenrcNames),
        label(LabelKind::OpenrcEchoLines),
    ]
}

fn gate_openrc(gate: &GateSpec, snapshot: &Snapshot, profile: &Profile) -> Verdict {
    let Some(want) = &profile.openrc else {
        return Verdict::new(
            gate,
            Status::Precondition,
            "the site profile has no [phase03.openrc]: where the admin-openrc is and what it must set",
        );
    };
    let host = ExecHost::Local;
    let stat = read_or_precondition!(gate, snapshot.path_stat(&host, &want.path));
    let names = read_or_precondition!(
        gate,
        snapshot.file_labels(&host, LabelKind::OpenrcNames, &want.path)
    );
    let echoes = read_or_precondition!(
        gate,
        snapshot.file_labels(&host, LabelKind::OpenrcEchoLines, &want.path)
    );
    let subject = want.path.clone();
    let mode_ok = stat.is_regular_file()
        && stat
            .permissions()
            .is_some_and(|p| p & 0o077 == 0 && p & 0o400 == 0o400);
    let mut evidence = vec![
        Evidence::new(
            if mode_ok { Mark::Ok } else { Mark::Bad },
            subject.clone(),
            "mode",
            stat.describe(),
        )
        .expected("regular file 0600 or stricter (no group or other access)"),
    ];
    let (FileLabels::Present(names), FileLabels::Present(echoes)) = (names, echoes) else {
        // Absent: the mode line already says so.
        return Verdict::new(gate, Status::Fail, format!("{} is absent", want.path))
            .with_evidence(evidence);
    };
    let mut unset = Vec::new();
    for name in &want.required {
        let set = names.contains(name);
        if !set {
            unset.push(name.as_str());
        }
        evidence.push(
            Evidence::new(
                if set { Mark::Ok } else { Mark::Bad },
                subject.clone(),
                name.clone(),
                if set {
                    "assigned"
                } else {
                    "not assigned (absent or empty)"
                },
            )
            .expected("assigned a value"),
        );
    }
    // A variable assigned twice: the shell keeps the last, so which value the client
    // gets depends on order; the file is rewritten, not trusted (issue 8).
    let mut twice: Vec<&str> = names
        .iter()
        .enumerate()
        .filter(|(n, name)| names[..*n].contains(name))
        .map(|(_, name)| name.as_str())
        .collect();
    twice.dedup();
    if !twice.is_empty() {
        evidence.push(
            Evidence::new(
                Mark::Bad,
                subject.clone(),
                "assigned more than once",
                twice.join(", "),
            )
            .expected("each variable assigned once"),
        );
    }
    let echo_ok = echoes.is_empty();
    evidence.push(
        Evidence::new(
            if echo_ok { Mark::Ok } else { Mark::Bad },
            subject.clone(),
            "lines that print OS_PASSWORD or trace the shell",
            if echo_ok {
                "none".to_string()
            } else {
                format!("line(s) {}", echoes.join(", "))
            },
        )
        .expected("none: the password is never echoed"),
    );
    evidence.push(Evidence::new(
        Mark::Info,
        subject,
        "read",
        "mode and variable names only: the password never entered stackgate (R6)",
    ));
    let mut problems = Vec::new();
    if !mode_ok {
        problems.push(format!("mode {}", stat.describe()));
    }
    if !unset.is_empty() {
        problems.push(format!("not assigned: {}", unset.join(", ")));
    }
    if !twice.is_empty() {
        problems.push(format!("assigned more than once: {}", twice.join(", ")));
    }
    if !echo_ok {
        problems.push(format!(
            "echoes the password at line(s) {}",
            echoes.join(", ")
        ));
    }
    if problems.is_empty() {
        Verdict::new(
            gate,
            Status::Pass,
            format!(
                "{}: owner-only, {} required variables assigned, password never echoed",
                want.path,
                want.required.len()
            ),
        )
    } else {
        Verdict::new(
            gate,
            Status::Fail,
            format!("{}: {}", want.path, problems.join("; ")),
        )
    }
    .with_evidence(evidence)
}

//! A bench's child process measured as the operator runs it: wall time and peak RSS
//! from `wait4`, taken by a small measurer process; and jq, when it is installed, run
//! beside it, the two alternated.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One child run: wall time, peak RSS (bytes), exit code.
pub struct Measured {
    pub wall: Duration,
    pub max_rss: u64,
    pub code: i32,
}

/// The flag under which a bench binary runs as the measurer.
const MEASURE: &str = "--measure-child";

/// Measures `command` from a fresh, small process: the bench binary itself, started
/// again as the measurer (`serve_measurer`). Linux carries a child's peak RSS from
/// before its `exec` into `ru_maxrss`, and a child spawned from the bench shares the
/// bench's pages until then, so spawned from here it would report the bench's size.
pub fn measure(command: Command) -> Measured {
    let mut measurer = Command::new(std::env::current_exe().expect("the bench binary"));
    measurer
        .arg(MEASURE)
        .arg(command.get_program())
        .args(command.get_args());
    let out = measurer.output().expect("the measurer runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let fields: Vec<u64> = text
        .split_whitespace()
        .map(|f| f.parse().expect("the measurer's numbers"))
        .collect();
    assert_eq!(fields.len(), 3, "the measurer printed {text:?}");
    Measured {
        wall: Duration::from_nanos(fields[0]),
        max_rss: fields[1],
        code: fields[2] as i32,
    }
}

/// When this bench binary was started as the measurer: runs the command it names with
/// its output discarded, reaps it with `wait4`, prints its wall time (ns), peak RSS
/// (bytes) and exit code, and exits. Every bench using `measure` calls this first.
pub fn serve_measurer() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).map(|a| a == MEASURE) != Some(true) {
        return;
    }
    let mut command = Command::new(&args[2]);
    command
        .args(&args[3..])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let started = Instant::now();
    let child = command.spawn().expect("spawns");
    let pid = child.id() as nix::libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid, and wait4 fills it for the child it reaps.
    let mut usage: nix::libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is this process's own unreaped child.
    let reaped = unsafe { nix::libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = started.elapsed();
    assert_eq!(reaped, pid, "wait4");
    std::mem::forget(child);
    // Linux reports ru_maxrss in KiB.
    let max_rss = u64::try_from(usage.ru_maxrss).unwrap_or(0) * 1024;
    println!(
        "{} {max_rss} {}",
        wall.as_nanos(),
        nix::libc::WEXITSTATUS(status)
    );
    std::process::exit(0);
}

/// How many runs each side of a comparison gets, the best of them kept.
pub const RUNS: usize = 7;

/// The best of `runs` (the least disturbed), by wall time; peak RSS is the largest.
fn best(runs: Vec<Measured>) -> Measured {
    let max_rss = runs.iter().map(|m| m.max_rss).max().unwrap_or(0);
    let best = runs.into_iter().min_by_key(|m| m.wall).expect("one run");
    Measured { max_rss, ..best }
}

/// stackgate's run (`sg`) beside jq's over the same bytes (`jq_args` gives its program
/// and file), alternated run by run, the best of [`RUNS`] each: this VM's noise comes in
/// spells of seconds, and measured one side after the other a spell fell on one side
/// only (the 20,000-unit ratio moved between 6.8x and 10.8x from one bench run to the
/// next). Returns stackgate's measure and the columns every bench prints after its own:
/// stackgate's time, peak RSS and RSS over the input; jq's time and peak RSS (when jq
/// is installed), the speed-up, and issue 13's two checks (at least 10x jq, peak RSS at
/// most twice the input).
pub fn side_by_side(
    sg: impl Fn() -> Command,
    input: u64,
    jq_args: impl Fn(&mut Command),
) -> (Measured, String) {
    let jq = jq();
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        ours.push(measure(sg()));
        if let Some(jq) = &jq {
            let mut c = Command::new(jq);
            jq_args(&mut c);
            theirs.push(measure(c));
        }
    }
    let sg = best(ours);
    let (jq_cell, jq_rss, speedup, fast) = if theirs.is_empty() {
        ("(no jq)".into(), "-".into(), "-".into(), None)
    } else {
        let j = best(theirs);
        assert_eq!(j.code, 0, "jq's run");
        let ratio = j.wall.as_secs_f64() / sg.wall.as_secs_f64();
        (
            format!("{:.0} ms", j.wall.as_secs_f64() * 1e3),
            format!("{:.0} MiB", mib(j.max_rss)),
            format!("{ratio:.1}x"),
            Some(ratio >= 10.0),
        )
    };
    let rss_ratio = sg.max_rss as f64 / input as f64;
    let columns = format!(
        "{:>7.0} ms {:>6.0} MiB {:>7.2}x {:>10} {:>10} {:>8}  {} {}",
        sg.wall.as_secs_f64() * 1e3,
        mib(sg.max_rss),
        rss_ratio,
        jq_cell,
        jq_rss,
        speedup,
        match fast {
            Some(true) => "speed MET",
            Some(false) => "speed MISSED",
            None => "speed n/a",
        },
        if rss_ratio <= 2.0 {
            "memory MET"
        } else {
            "memory MISSED"
        },
    );
    (sg, columns)
}

fn jq() -> Option<PathBuf> {
    let out = Command::new("jq").arg("--version").output().ok()?;
    out.status.success().then(|| PathBuf::from("jq"))
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / f64::from(1 << 20)
}

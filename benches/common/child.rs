//! A bench's child process measured as the operator runs it: wall time and peak RSS
//! from `wait4`, taken by a small measurer process; jq, when it is installed, run
//! beside it; and the floor, the least any JSON reader must do with the same bytes
//! (issue 13: "aim at the physical limit"); the three alternated.

use std::path::{Path, PathBuf};
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
/// The flag under which a bench binary runs as the floor: it reads the file it names,
/// proves it UTF-8 and skips it as JSON (serde_json into `IgnoredAny`: every byte
/// scanned, nothing kept), and exits.
const FLOOR: &str = "--floor-child";

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
    if args.get(1).map(|a| a == FLOOR) == Some(true) {
        let bytes = std::fs::read(&args[2]).expect("the floor's file");
        let text = std::str::from_utf8(&bytes).expect("UTF-8");
        let _: serde::de::IgnoredAny = serde_json::from_str(text).expect("JSON");
        std::process::exit(0);
    }
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
/// and file) and beside the floor over `input` (the document the comparison is about),
/// alternated run by run, the best of [`RUNS`] each: this VM's noise comes in spells of
/// seconds, and measured one side after the other a spell fell on one side only (the
/// 20,000-unit ratio moved between 6.8x and 10.8x from one bench run to the next).
///
/// The floor is a process that reads `input`, proves it UTF-8 and scans it as JSON
/// keeping nothing: what any reader of every byte pays, with a process start. jq's
/// time over the floor's is the most any such reader could beat jq by (the ceiling).
///
/// Returns stackgate's measure and the columns every bench prints after its own:
/// stackgate's time, peak RSS and RSS over the input; the floor's time and stackgate's
/// over it; jq's time and peak RSS (when jq is installed), the speed-up and the
/// ceiling; and issue 13's two checks (at least 10x jq, peak RSS at most twice the
/// input).
pub fn side_by_side(
    sg: impl Fn() -> Command,
    input: &Path,
    jq_args: impl Fn(&mut Command),
) -> (Measured, String) {
    let size = std::fs::metadata(input).expect("the input's size").len();
    let jq = jq();
    let floor_command = || {
        let mut c = Command::new(std::env::current_exe().expect("the bench binary"));
        c.arg(FLOOR).arg(input);
        c
    };
    let (mut ours, mut floors, mut theirs) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..RUNS {
        ours.push(measure(sg()));
        floors.push(measure(floor_command()));
        if let Some(jq) = &jq {
            let mut c = Command::new(jq);
            jq_args(&mut c);
            theirs.push(measure(c));
        }
    }
    let sg = best(ours);
    let floor = best(floors);
    assert_eq!(floor.code, 0, "the floor's run over {}", input.display());
    let (jq_cell, jq_rss, speedup, ceiling, fast) = if theirs.is_empty() {
        ("(no jq)".into(), "-".into(), "-".into(), "-".into(), None)
    } else {
        let j = best(theirs);
        assert_eq!(j.code, 0, "jq's run");
        let ratio = j.wall.as_secs_f64() / sg.wall.as_secs_f64();
        let ceiling = j.wall.as_secs_f64() / floor.wall.as_secs_f64();
        (
            format!("{:.0} ms", ms(j.wall)),
            format!("{:.0} MiB", mib(j.max_rss)),
            format!("{ratio:.1}x"),
            format!("{ceiling:.1}x"),
            Some(ratio >= 10.0),
        )
    };
    let rss_ratio = sg.max_rss as f64 / size as f64;
    let columns = format!(
        "{:>7.0} ms {:>6.0} MiB {:>7.2}x {:>6.0} ms {:>7.1}x {:>10} {:>10} {:>8} {:>8}  {} {}",
        ms(sg.wall),
        mib(sg.max_rss),
        rss_ratio,
        ms(floor.wall),
        sg.wall.as_secs_f64() / floor.wall.as_secs_f64(),
        jq_cell,
        jq_rss,
        speedup,
        ceiling,
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

/// The headings of [`side_by_side`]'s columns, right-aligned to them.
pub fn headings() -> String {
    format!(
        "{:>10} {:>10} {:>8} {:>9} {:>8} {:>10} {:>10} {:>8} {:>8}",
        "stackgate",
        "peak RSS",
        "RSS/in",
        "floor",
        "sg/floor",
        "jq",
        "jq RSS",
        "speedup",
        "ceiling"
    )
}

fn jq() -> Option<PathBuf> {
    let out = Command::new("jq").arg("--version").output().ok()?;
    out.status.success().then(|| PathBuf::from("jq"))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / f64::from(1 << 20)
}

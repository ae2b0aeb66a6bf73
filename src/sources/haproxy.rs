//! HAProxy source: `show stat` read from a unit's stats socket through `juju exec`.
//!
//! The OpenStack API charms render charm-helpers' haproxy template
//! (juju/charm-helpers `charmhelpers/contrib/openstack/templates/haproxy.cfg`):
//! `stats socket /var/run/haproxy/admin.sock mode 600 level admin`. `juju exec --unit`
//! runs its command as root in the unit's hook context (juju/juju
//! `cmd/juju/action/exec.go`), so the mode-600 socket is readable without the HTTP stats
//! page and its `stats auth` password, which the charm's own nrpe check reads from
//! haproxy.cfg (`charmhelpers/contrib/openstack/files/check_haproxy.sh`) and which a
//! gate must never touch (R6). The socket is read with OpenBSD netcat (`nc -U`, from
//! `netcat-openbsd`, part of Ubuntu's minimal seed), not socat, which charm units do not
//! install: haproxy answers one non-interactive command and closes the connection, so
//! `echo 'show stat' | nc -U <socket>` ends by itself.
//!
//! The output is parsed by header name, never by position (../shared/SCHEMAS.md section
//! 4; haproxy/haproxy `doc/management.txt` section 9.1): the first line is `# ` and the
//! field names, every line ends with a trailing comma, fields are only ever appended
//! (haproxy 2.6 already prints `agg_server_status`, a `-` column and module counters
//! after it), and the output ends with an empty line.

use std::collections::HashMap;

use super::{MissingKey, SourceError, excerpt};
use crate::runner::{CommandOutput, Invocation, display_argv};

/// Where charm-helpers' haproxy template puts the admin socket.
pub const CHARM_STATS_SOCKET: &str = "/var/run/haproxy/admin.sock";

/// The columns a gate reads; the schema-drift check walks this list.
pub const GATE_COLUMNS: &[&str] = &["pxname", "svname", "status", "check_status"];

/// The command run on the unit: one `show stat` over the admin socket.
pub fn stat_command(socket: &str) -> String {
    format!("echo 'show stat' | nc -U {socket}")
}

/// `juju exec -m <model> --unit <unit> -- "echo 'show stat' | nc -U <socket>"`. The
/// remote command is one word, which juju passes to the unit's shell unquoted
/// (exec.go `Init`).
pub fn stat_invocation(model: &str, unit: &str, socket: &str) -> Invocation {
    Invocation::new([
        "juju".to_string(),
        "exec".to_string(),
        "-m".to_string(),
        model.to_string(),
        "--unit".to_string(),
        unit.to_string(),
        "--".to_string(),
        stat_command(socket),
    ])
}

/// One `show stat` dump: the header and the rows, each cell kept as printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShowStat {
    /// Who printed it (`keystone/0`), for key paths in messages.
    pub unit: String,
    columns: HashMap<String, usize>,
    rows: Vec<Vec<String>>,
}

/// One row of `show stat`, read through the header.
#[derive(Debug, Clone, Copy)]
pub struct StatRow<'a> {
    stat: &'a ShowStat,
    cells: &'a [String],
}

impl ShowStat {
    /// The position of a column, or the missing key naming it (R2).
    pub fn column(&self, name: &str) -> Result<usize, MissingKey> {
        self.columns
            .get(name)
            .copied()
            .ok_or_else(|| MissingKey::at(format!("{}: show stat column `{name}`", self.unit)))
    }

    pub fn rows(&self) -> impl Iterator<Item = StatRow<'_>> {
        self.rows.iter().map(|cells| StatRow { stat: self, cells })
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

impl<'a> StatRow<'a> {
    /// The cell under a column: an empty string where haproxy printed nothing (a
    /// column that does not apply to this row type), the missing key where the header
    /// lacks the column.
    pub fn get(&self, column: &str) -> Result<&'a str, MissingKey> {
        let index = self.stat.column(column)?;
        Ok(self.cells.get(index).map_or("", String::as_str))
    }
}

/// The two aggregate rows of a proxy; every other `svname` is a server.
pub fn is_aggregate(svname: &str) -> bool {
    svname == "FRONTEND" || svname == "BACKEND"
}

/// A server's state as `status` prints it: `DOWN`, and `DOWN 1/2` (down, rising) are
/// down; `UP 1/3` (up, failing) is still up. MAINT, DRAIN, NOLB and `no check` are
/// neither (management.txt 9.1 field 17).
pub fn is_down(status: &str) -> bool {
    status == "DOWN" || status.starts_with("DOWN ")
}

/// Parses `juju exec`'s plain output for one unit: the remote command's stdout, then
/// its stderr (exec.go `printExecOutput` merges both into juju's stdout). A failed
/// remote command makes juju exit non-zero ("the following task failed"); absence of
/// the socket is decided there, by exit status and message, never by empty output (R3).
pub fn parse_show_stat(unit: &str, output: &CommandOutput) -> Result<ShowStat, SourceError> {
    let argv = display_argv(&output.argv);
    if !output.success() {
        // juju's plain output merges the remote stdout and stderr: classified, never
        // quoted.
        let said = format!(
            "{}; {}",
            excerpt(&String::from_utf8_lossy(&output.stdout)),
            excerpt(&output.stderr_text())
        );
        return Err(SourceError::Exit {
            argv,
            code: output
                .exit_code
                .map_or_else(|| "by signal".to_string(), |c| c.to_string()),
            reason: format!("cannot read the haproxy stats socket on {unit}: {said}"),
        });
    }
    let parse_error = |path: &str, message: String| SourceError::Parse {
        argv: argv.clone(),
        path: format!("{unit}: {path}"),
        message,
    };
    let Some(body) = output.stdout.strip_prefix(b"# ") else {
        let first = String::from_utf8_lossy(&output.stdout);
        let first = first.lines().next().unwrap_or("");
        return Err(parse_error(
            "line 1",
            format!("expected the `# pxname,svname,...` header of `show stat`, found {first:?}"),
        ));
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(body);
    let header = reader
        .headers()
        .map_err(|e| parse_error("line 1", e.to_string()))?
        .clone();
    let mut columns = HashMap::new();
    for (index, name) in header.iter().enumerate() {
        // The trailing comma makes an unnamed last column; it names nothing.
        if !name.is_empty() {
            columns.entry(name.to_string()).or_insert(index);
        }
    }
    let mut rows = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let record = record.map_err(|e| parse_error(&format!("line {}", n + 2), e.to_string()))?;
        // The closing empty line of the dump is not a row.
        if record.iter().all(str::is_empty) {
            continue;
        }
        rows.push(record.iter().map(str::to_string).collect());
    }
    Ok(ShowStat {
        unit: unit.to_string(),
        columns,
        rows,
    })
}

#[cfg(test)]
mod tests {

    use super::*;

    /// Recorded from haproxy 2.6.12 on loopback (a backend with an open listener and
    /// one with a closed port), first lines only.
    const RECORDED: &str = "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,ctime,rtime,ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,check_rise,check_fall,check_health,agent_rise,agent_fall,agent_health,addr,cookie,mode,algo,conn_rate,conn_rate_max,conn_tot,intercepted,dcon,dses,wrew,connect,reuse,cache_lookups,cache_hits,srv_icur,src_ilim,qtime_max,ctime_max,rtime_max,ttime_max,eint,idle_conn_cur,safe_conn_cur,used_conn_cur,need_conn_est,uweight,agg_server_status,agg_server_check_status,agg_check_status,-,ssl_sess,\n\
keystone-public_10.12.12.104,keystone-0,0,0,0,0,,0,0,0,,0,,0,0,0,0,DOWN,1,1,0,1,1,1,1,,1,5,1,,0,,2,0,,0,L4CON,,0,,,,,,,,,,,0,0,,,,,-1,Connection refused,,0,0,0,0,,,,Layer4 connection problem,,1,1,0,,,,127.0.0.1:45672,,tcp,,,,,,,,0,0,0,,,0,,0,0,0,0,0,0,0,0,1,1,,,,-,0,\n\
keystone-public_10.12.12.104,BACKEND,0,0,0,0,400,0,0,0,0,0,,0,0,0,0,DOWN,0,0,0,,1,1,1,,1,5,0,,0,,1,0,,0,,,,,,,,,,,,,,0,0,0,0,0,0,-1,,,0,0,0,0,,,,,,,,,,,,,,tcp,leastconn,,,,,,,0,0,0,,,,,0,0,0,0,0,,,,,0,0,0,0,-,0,\n\
\n";

    fn output(exit: i32, stdout: &str, stderr: &str) -> CommandOutput {
        crate::sources::test_invocation_output(
            stat_invocation("openstack", "keystone/0", CHARM_STATS_SOCKET),
            exit,
            stdout,
            stderr,
        )
    }

    #[test]
    fn the_argv_is_juju_exec_with_one_remote_command_word() {
        let inv = stat_invocation("openstack", "keystone/0", CHARM_STATS_SOCKET);
        assert_eq!(
            inv.argv().last().unwrap(),
            "echo 'show stat' | nc -U /var/run/haproxy/admin.sock"
        );
        assert_eq!(
            &inv.argv()[..6],
            ["juju", "exec", "-m", "openstack", "--unit", "keystone/0"]
        );
    }

    #[test]
    fn rows_are_read_by_header_name() {
        let stat = parse_show_stat("keystone/0", &output(0, RECORDED, "")).unwrap();
        assert_eq!(stat.len(), 2);
        let row = stat.rows().next().unwrap();
        assert_eq!(row.get("pxname").unwrap(), "keystone-public_10.12.12.104");
        assert_eq!(row.get("svname").unwrap(), "keystone-0");
        assert_eq!(row.get("status").unwrap(), "DOWN");
        assert_eq!(row.get("check_status").unwrap(), "L4CON");
        assert_eq!(row.get("check_desc").unwrap(), "Layer4 connection problem");
    }

    #[test]
    fn a_column_moved_elsewhere_is_still_found_by_name() {
        // Swap `status` and `weight` in the header and every row: the reading follows.
        let swapped: String = RECORDED
            .lines()
            .map(|l| {
                let mut cells: Vec<&str> = l.split(',').collect();
                if cells.len() > 18 {
                    cells.swap(17, 18);
                }
                format!("{}\n", cells.join(","))
            })
            .collect();
        let stat = parse_show_stat("keystone/0", &output(0, &swapped, "")).unwrap();
        assert_eq!(stat.rows().next().unwrap().get("status").unwrap(), "DOWN");
    }

    #[test]
    fn a_missing_column_names_the_unit_and_the_column() {
        let renamed = RECORDED.replacen(",status,", ",state,", 1);
        let stat = parse_show_stat("keystone/0", &output(0, &renamed, "")).unwrap();
        let err = stat.rows().next().unwrap().get("status").unwrap_err();
        assert_eq!(err.path, "keystone/0: show stat column `status`");
    }

    #[test]
    fn a_failed_socket_read_is_an_error_naming_the_unit_never_an_empty_dump() {
        // juju's plain output carries the remote stderr on stdout (exec.go).
        let out = output(
            1,
            "nc: /var/run/haproxy/admin.sock: No such file or directory\n",
            "ERROR the following task failed:\n - id \"118\" with return code 1\n\nuse 'juju show-task' to inspect the failure\n\n",
        );
        let err = parse_show_stat("keystone/0", &out).unwrap_err().to_string();
        assert!(err.contains("keystone/0"), "{err}");
        assert!(
            err.contains("not found") && !err.contains("admin.sock:"),
            "{err}"
        );
    }

    #[test]
    fn output_without_the_header_is_a_parse_error() {
        let err = parse_show_stat("keystone/0", &output(0, "", ""))
            .unwrap_err()
            .to_string();
        assert!(err.contains("header"), "{err}");
    }

    #[test]
    fn down_states() {
        assert!(is_down("DOWN"));
        assert!(is_down("DOWN 1/2"));
        assert!(!is_down("UP 1/3"));
        assert!(!is_down("MAINT"));
        assert!(!is_down("no check"));
    }
}

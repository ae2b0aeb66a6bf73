//! What the charms write into `juju status`'s `workload-status.message`, and the grammar
//! that composes it. Gates match a message whole against an exact state, never by
//! substring or prefix: a charm reports every failing state of a unit in one message,
//! so a message that holds the expected state may still hold others (issue 8, section
//! 1: octavia "Awaiting ... resources, Missing required certificate configuration,
//! please examine documentation" passed a prefix match at P05-PRE and P03-ACCEPT).
//!
//! Each string is declared next to the upstream file that prints it; the site's
//! expected states (octavia's, glance-simplestreams-sync's, mysql's statusText) are in
//! the profile, cited there, and `tests/suite/upstream_strings.rs` holds the exact upstream
//! strings with the verdict each gives.

/// The policy-override prefix a charms.openstack charm puts before its message when
/// `use-policyd-override` is set: openstack/charms.openstack (stable/caracal)
/// `charms_openstack/charm/core.py` `_assess_status` appends a space to
/// juju/charm-helpers `charmhelpers/contrib/openstack/policyd.py`
/// `policyd_status_message_prefix`, which returns "PO:" when the overrides loaded.
pub const POLICYD_PREFIX: &str = "PO: ";

/// The same prefix when the override resource failed to load ("PO (broken):"): the
/// unit's state is otherwise as reported, but its policy is not the one intended.
pub const POLICYD_BROKEN_PREFIX: &str = "PO (broken): ";

/// charms.openstack `check_interfaces`: the message of every failing state, joined
/// (`return status, ", ".join(messages)`) at the most severe level
/// (charm-helpers `charmhelpers/contrib/openstack/utils.py` `workload_state_compare`:
/// unknown < active < maintenance < waiting < blocked). A state's own message may hold
/// the separator too (charm-octavia's "Missing required certificate configuration,
/// please examine documentation"), so a message is never split on it.
pub const STATE_SEPARATOR: &str = ", ";

/// How a workload message stands to one expected state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateMatch {
    /// The message is the state, whole.
    Exact,
    /// The state, after the policy-override prefix of overrides that loaded.
    PolicydLoaded,
    /// The state after "PO (broken): ": the override resource did not load.
    PolicydBroken,
    /// The state joined with other failing states (or other text around it).
    Joined,
    /// Anything else.
    Other,
}

impl StateMatch {
    /// Whether the message is the expected state: whole, or after the prefix of policy
    /// overrides that loaded (the prefix reports a working feature, not a state).
    pub fn holds(self) -> bool {
        matches!(self, StateMatch::Exact | StateMatch::PolicydLoaded)
    }

    /// Why a message that is not the state is not, for evidence lines.
    pub fn why_not(self) -> Option<&'static str> {
        match self {
            StateMatch::Exact | StateMatch::PolicydLoaded => None,
            StateMatch::PolicydBroken => {
                Some("the policy-override resource did not load (\"PO (broken): \")")
            }
            StateMatch::Joined => Some(
                "other failing states are reported with it (charms.openstack joins every failing state with \", \")",
            ),
            StateMatch::Other => Some("not the expected state"),
        }
    }
}

/// Compares a whole workload message with an expected state.
pub fn match_state(message: &str, expected: &str) -> StateMatch {
    if message == expected {
        StateMatch::Exact
    } else if message.strip_prefix(POLICYD_PREFIX) == Some(expected) {
        StateMatch::PolicydLoaded
    } else if message.strip_prefix(POLICYD_BROKEN_PREFIX) == Some(expected) {
        StateMatch::PolicydBroken
    } else if !expected.is_empty() && message.contains(expected) {
        StateMatch::Joined
    } else {
        StateMatch::Other
    }
}

/// mysql-innodb-cluster's active message and the MySQL Shell text inside it.
pub mod mysql {
    /// openstack/charm-mysql-innodb-cluster `src/lib/charm/openstack/mysql_innodb_cluster.py`
    /// `_assess_status` (stable/jammy L1603-1609):
    /// `"Unit is ready: Mode: {}, {}".format(self.get_cluster_instance_mode() or
    /// "(Unknown)", self.get_cluster_status_text() or "(empty)")`.
    pub const READY_PREFIX: &str = "Unit is ready: Mode: ";
    /// Between the mode and the cluster's statusText.
    pub const MODE_SEPARATOR: &str = ", ";
    /// `get_cluster_instance_mode`: the instance's `mode` in MySQL Shell's
    /// `cluster.status()` topology (mysql/mysql-shell
    /// `modules/adminapi/cluster/status.cc`), "R/W" on the primary.
    pub const READ_WRITE: &str = "R/W";
    /// ... and "R/O" on a secondary.
    pub const READ_ONLY: &str = "R/O";
    /// What the charm prints when the topology does not name this instance.
    pub const MODE_UNKNOWN: &str = "(Unknown)";

    /// An active mysql-innodb-cluster message, split where the charm joined it.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Ready<'a> {
        pub mode: &'a str,
        /// MySQL Shell's `statusText` (status.cc `check_group_status`): "Cluster is
        /// ONLINE and can tolerate up to ONE failure." (or "up to N failures."), to
        /// which the Shell appends " 1 member is not active." or " N members are not
        /// active." when a member of the metadata is not ONLINE (RECOVERING, ...).
        pub status_text: &'a str,
    }

    impl Ready<'_> {
        /// Whether the mode is one the topology reports for a cluster member.
        pub fn is_member_mode(&self) -> bool {
            self.mode == READ_WRITE || self.mode == READ_ONLY
        }
    }

    /// Splits "Unit is ready: Mode: <mode>, <statusText>" at the first separator after
    /// the mode (a mode never holds one; a statusText may). Anything else: `None`.
    pub fn parse_ready(message: &str) -> Option<Ready<'_>> {
        let rest = message.strip_prefix(READY_PREFIX)?;
        let (mode, status_text) = rest.split_once(MODE_SEPARATOR)?;
        Some(Ready { mode, status_text })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 8 section 1: charm-octavia's leader state joined with its certificate
    /// state, as charms.openstack `check_interfaces` reports both at once.
    const OCTAVIA_LEADER: &str =
        "Awaiting end-user execution of `configure-resources` action to create required resources";
    const OCTAVIA_CERTS: &str =
        "Missing required certificate configuration, please examine documentation";

    #[test]
    fn a_joined_message_is_not_the_state_it_starts_with() {
        let joined = format!("{OCTAVIA_LEADER}{STATE_SEPARATOR}{OCTAVIA_CERTS}");
        assert_eq!(match_state(&joined, OCTAVIA_LEADER), StateMatch::Joined);
        assert!(!match_state(&joined, OCTAVIA_LEADER).holds());
        // The certificate state holds the separator itself: never split on it.
        assert_eq!(match_state(OCTAVIA_CERTS, OCTAVIA_CERTS), StateMatch::Exact);
    }

    #[test]
    fn the_policyd_prefix_of_loaded_overrides_is_allowed_a_broken_one_is_not() {
        let loaded = format!("{POLICYD_PREFIX}{OCTAVIA_LEADER}");
        let broken = format!("{POLICYD_BROKEN_PREFIX}{OCTAVIA_LEADER}");
        assert_eq!(loaded, format!("PO: {OCTAVIA_LEADER}"));
        assert!(match_state(&loaded, OCTAVIA_LEADER).holds());
        assert_eq!(
            match_state(&broken, OCTAVIA_LEADER),
            StateMatch::PolicydBroken
        );
        assert!(!match_state(&broken, OCTAVIA_LEADER).holds());
    }

    #[test]
    fn the_empty_state_is_only_the_empty_message() {
        assert!(match_state("", "").holds());
        assert_eq!(match_state("Synchronising images", ""), StateMatch::Other);
    }

    #[test]
    fn mysql_ready_splits_after_the_mode_only() {
        let r = mysql::parse_ready(
            "Unit is ready: Mode: R/W, Cluster is ONLINE and can tolerate up to ONE failure. 1 member is not active.",
        )
        .unwrap();
        assert_eq!(r.mode, "R/W");
        assert_eq!(
            r.status_text,
            "Cluster is ONLINE and can tolerate up to ONE failure. 1 member is not active."
        );
        assert!(r.is_member_mode());
        let unknown = mysql::parse_ready("Unit is ready: Mode: (Unknown), (empty)").unwrap();
        assert!(!unknown.is_member_mode());
        assert_eq!(unknown.status_text, "(empty)");
        assert!(mysql::parse_ready("Unit is ready").is_none());
        assert!(mysql::parse_ready("MySQL is down on this instance").is_none());
    }
}

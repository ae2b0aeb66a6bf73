//! juju's humanised `since` times. Without `--exact-time`, juju prints how long ago a
//! status began relative to the moment of the read (juju/juju cmd/juju/common/format.go
//! `UserFriendlyDuration(when, now)`, which `ModelInfoFromParams` in
//! cmd/juju/common/model.go applies to a model's `status.since` for `juju models`):
//! "just now", "N seconds ago", "N minute(s) ago", "N hour(s) ago", or the date
//! `2006-01-02` once a day has passed. So the age is in the read itself and
//! a gate deciding "destroying for 10 minutes" stays a pure function of what was read.

use std::time::Duration;

const MINUTE: u64 = 60;
const HOUR: u64 = 60 * MINUTE;
const DAY: u64 = 24 * HOUR;

/// The least time that has passed since a humanised `since` (juju truncates: "9 minutes
/// ago" is 9 to 10 minutes). `None` when the text is not in juju's humanised form (an
/// `--exact-time` timestamp, or a format this build does not know).
pub fn humanised_age(since: &str) -> Option<Duration> {
    let since = since.trim();
    if since == "just now" {
        return Some(Duration::ZERO);
    }
    if let Some(ago) = since.strip_suffix(" ago") {
        let (n, unit) = ago.split_once(' ')?;
        let n: u64 = n.parse().ok()?;
        let seconds = match unit {
            "second" | "seconds" => 1,
            "minute" | "minutes" => MINUTE,
            "hour" | "hours" => HOUR,
            _ => return None,
        };
        return Some(Duration::from_secs(n * seconds));
    }
    // A date alone: at least a day ago.
    let mut parts = since.split('-');
    let date = (
        parts.next()?.len(),
        parts.next()?.len(),
        parts.next()?.len(),
    );
    let digits = since.chars().all(|c| c.is_ascii_digit() || c == '-');
    (date == (4, 2, 2) && digits && parts.next().is_none()).then(|| Duration::from_secs(DAY))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_user_friendly_duration_prints() {
        let minutes = |m: u64| Some(Duration::from_secs(m * 60));
        assert_eq!(humanised_age("just now"), Some(Duration::ZERO));
        assert_eq!(
            humanised_age("42 seconds ago"),
            Some(Duration::from_secs(42))
        );
        assert_eq!(humanised_age("1 minute ago"), minutes(1));
        assert_eq!(humanised_age("4 minutes ago"), minutes(4));
        assert_eq!(humanised_age("1 hour ago"), minutes(60));
        assert_eq!(humanised_age("22 hours ago"), minutes(22 * 60));
        assert_eq!(humanised_age("2026-06-09"), minutes(24 * 60));
    }

    #[test]
    fn other_forms_are_not_guessed() {
        for text in [
            "",
            "2026-06-28 10:11:12 +0000 UTC",
            "4 fortnights ago",
            "some minutes ago",
            "2026-6-9",
        ] {
            assert_eq!(humanised_age(text), None, "{text:?}");
        }
    }
}

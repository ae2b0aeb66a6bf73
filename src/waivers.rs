//! Waivers: a failure the operators have accepted, for a stated reason, until a date.
//!
//! A waiver names a gate, the subject it covers (an evidence line's subject, `unit
//! keystone/0`), optionally the property and the value it covers, a justification and
//! an expiry date. A FAIL whose every BAD line a live waiver covers is WAIVED (exit 0),
//! each covered line marked `waived` with the justification and the date. Past the date
//! the failure counts again and the verdict says which waiver expired. A waiver never
//! covers a PRECONDITION (a read that could not be trusted) nor a HOLD (a guard in front
//! of an irreversible step): only a failure the cloud's state shows.
//!
//! Waivers come from the profile (`[[waiver]]`) and from `--waivers FILE` (the same
//! entries); a malformed one fails when the run starts, before any command runs.

use std::path::Path;

use chrono::NaiveDate;
use regex::Regex;
use serde::Deserialize;

use crate::gates::{Evidence, Mark, Status, Verdict};

/// One waiver, validated.
#[derive(Debug, Clone)]
pub struct Waiver {
    pub id: String,
    pub gate: String,
    pub subject: Match,
    /// The evidence property it covers (`status`, `policy override`).
    pub property: String,
    /// The value it covers (the evidence line's `actual`); any when absent.
    pub value: Option<Match>,
    pub justification: String,
    /// The last day the waiver holds (UTC).
    pub expires: NaiveDate,
    /// Where the accepted finding is recorded (a change-log entry, a ticket).
    pub source: Option<String>,
}

/// Exact text, or an anchored regular expression.
#[derive(Debug, Clone)]
pub enum Match {
    Exact(String),
    Pattern(Regex),
}

impl Match {
    pub fn is_match(&self, text: &str) -> bool {
        match self {
            Match::Exact(e) => e == text,
            Match::Pattern(p) => p.is_match(text),
        }
    }

    pub fn shown(&self) -> String {
        match self {
            Match::Exact(e) => format!("{e:?}"),
            Match::Pattern(p) => format!("/{}/", p.as_str()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("invalid waivers {origin}: {message}")]
pub struct WaiverError {
    pub origin: String,
    pub message: String,
}

/// A waiver as written (the profile's `[[waiver]]`, a waivers file's `[[waiver]]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWaiver {
    id: String,
    gate: String,
    subject: Option<String>,
    subject_pattern: Option<String>,
    property: String,
    value: Option<String>,
    value_pattern: Option<String>,
    justification: String,
    expires: toml::value::Datetime,
    source: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    waiver: Vec<RawWaiver>,
}

/// Reads and validates a waivers file (`--waivers FILE`).
pub fn from_file(path: &Path) -> Result<Vec<Waiver>, WaiverError> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| WaiverError {
        origin: origin.clone(),
        message: format!("cannot read it: {e}"),
    })?;
    parse(&text, &origin)
}

/// Parses a waivers document: `[[waiver]]` entries and nothing else.
pub fn parse(text: &str, origin: &str) -> Result<Vec<Waiver>, WaiverError> {
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        // Where: the line and its text (a waivers file holds no secret).
        let at = e.span().map(|span| {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            let shown = text.lines().nth(line - 1).unwrap_or("").trim();
            format!("line {line} (`{shown}`): ")
        });
        WaiverError {
            origin: origin.to_string(),
            message: format!("{}{}", at.unwrap_or_default(), e.message()),
        }
    })?;
    validate(raw.waiver, origin)
}

/// Validates raw entries: every field present and sound, ids unique, each gate known.
pub fn validate(raw: Vec<RawWaiver>, origin: &str) -> Result<Vec<Waiver>, WaiverError> {
    let fail = |message: String| WaiverError {
        origin: origin.to_string(),
        message,
    };
    let mut out: Vec<Waiver> = Vec::new();
    for r in raw {
        let id = r.id.trim().to_string();
        if id.is_empty() {
            return Err(fail("a waiver has an empty id".into()));
        }
        if out.iter().any(|w| w.id == id) {
            return Err(fail(format!("waiver {id} is given twice")));
        }
        let Some(spec) = crate::gates::by_id(&r.gate) else {
            return Err(fail(format!(
                "waiver {id} names gate {:?}, which is not a gate (see `stackgate list`)",
                r.gate
            )));
        };
        let subject = one_match(&id, "subject", r.subject, r.subject_pattern)
            .map_err(&fail)?
            .ok_or_else(|| fail(format!("waiver {id} needs a subject or a subject_pattern")))?;
        let value = one_match(&id, "value", r.value, r.value_pattern).map_err(&fail)?;
        if r.justification.trim().is_empty() {
            return Err(fail(format!("waiver {id} needs a justification")));
        }
        let expires = date(&r.expires).ok_or_else(|| {
            fail(format!(
                "waiver {id}: expires must be a date such as 2027-06-30 (a TOML local date), not {}",
                r.expires
            ))
        })?;
        out.push(Waiver {
            id,
            gate: spec.id.to_string(),
            subject,
            property: r.property,
            value,
            justification: r.justification.trim().to_string(),
            expires,
            source: r.source,
        });
    }
    Ok(out)
}

fn one_match(
    id: &str,
    what: &str,
    exact: Option<String>,
    pattern: Option<String>,
) -> Result<Option<Match>, String> {
    match (exact, pattern) {
        (Some(_), Some(_)) => Err(format!(
            "waiver {id} gives both {what} and {what}_pattern: give one"
        )),
        (Some(e), None) => Ok(Some(Match::Exact(e))),
        (None, Some(p)) => {
            if !p.starts_with('^')
                || !p.ends_with('$')
                || Regex::new(&p).is_ok_and(|r| r.is_match(""))
            {
                return Err(format!(
                    "waiver {id}: {what}_pattern must be anchored (^...$) and match something, so it covers no more than it says"
                ));
            }
            Regex::new(&p)
                .map(|r| Some(Match::Pattern(r)))
                .map_err(|e| {
                    format!("waiver {id}: {what}_pattern is not a regular expression: {e}")
                })
        }
        (None, None) => Ok(None),
    }
}

/// A TOML local date (no time, no offset) as a calendar date.
fn date(d: &toml::value::Datetime) -> Option<NaiveDate> {
    if d.time.is_some() || d.offset.is_some() {
        return None;
    }
    let day = d.date?;
    NaiveDate::from_ymd_opt(
        i32::from(day.year),
        u32::from(day.month),
        u32::from(day.day),
    )
}

impl Waiver {
    /// Whether the waiver is in force on `today`: through its expiry date, inclusive.
    pub fn live(&self, today: NaiveDate) -> bool {
        today <= self.expires
    }

    fn covers(&self, gate: &str, e: &Evidence) -> bool {
        self.gate == gate
            && self.subject.is_match(&e.subject)
            && self.property == e.property
            && self.value.as_ref().is_none_or(|v| v.is_match(&e.actual))
    }
}

/// Applies `waivers` as of `today` to each FAIL: a failure every BAD line of which a live
/// waiver covers is WAIVED; a covered line is marked waived either way; an expired
/// waiver that would have covered a line is named on the verdict.
pub fn apply(verdicts: Vec<Verdict>, waivers: &[Waiver], today: NaiveDate) -> Vec<Verdict> {
    if waivers.is_empty() {
        return verdicts;
    }
    verdicts
        .into_iter()
        .map(|v| apply_one(v, waivers, today))
        .collect()
}

fn apply_one(mut v: Verdict, waivers: &[Waiver], today: NaiveDate) -> Verdict {
    // Only a failure the cloud's state shows, whole: never a unit in error (waiting and
    // waiving cannot clear it), never a verdict with a line it could not read.
    if v.status != Status::Fail
        || v.unsettleable.is_some()
        || v.evidence.iter().any(|e| e.mark == Mark::Missing)
    {
        return v;
    }
    let (mut bad, mut waived) = (0usize, 0usize);
    let mut expired: Vec<&Waiver> = Vec::new();
    let mut covered: Vec<&Waiver> = Vec::new();
    for e in v.evidence.iter_mut().filter(|e| e.mark == Mark::Bad) {
        bad += 1;
        let matching: Vec<&Waiver> = waivers.iter().filter(|w| w.covers(v.id, e)).collect();
        match matching.iter().find(|w| w.live(today)) {
            Some(w) => {
                waived += 1;
                e.mark = Mark::Waived;
                e.expected = Some(format!(
                    "waived by {} until {}: {}",
                    w.id, w.expires, w.justification
                ));
                if !covered.iter().any(|c| c.id == w.id) {
                    covered.push(w);
                }
            }
            None => {
                for w in matching {
                    if !expired.iter().any(|x| x.id == w.id) {
                        expired.push(w);
                    }
                }
            }
        }
    }
    for w in &expired {
        v.evidence.push(Evidence::new(
            Mark::Info,
            format!("waiver {}", w.id),
            "expired",
            format!(
                "{} (today is {today}): the failure it covered counts again; {}",
                w.expires, w.justification
            ),
        ));
    }
    if bad > 0 && waived == bad {
        v.status = Status::Waived;
        let ids: Vec<&str> = covered.iter().map(|w| w.id.as_str()).collect();
        v.summary = format!("{} (waived: {})", v.summary, ids.join(", "));
    } else if !expired.is_empty() {
        let ids: Vec<String> = expired
            .iter()
            .map(|w| format!("{} expired {}", w.id, w.expires))
            .collect();
        v.summary = format!("{} (waiver {})", v.summary, ids.join(", "));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gates::by_id;

    const FILE: &str = r#"
[[waiver]]
id = "FINDING-1"
gate = "P03-ACCEPT"
subject = "unit keystone/0"
property = "policy override"
value_pattern = '^PO \(broken\): .*$'
justification = "keystone's policyd override is broken since the phase-01 deploy; tracked"
expires = 2027-06-30
"#;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn failing(lines: &[(&str, &str, &str)]) -> Verdict {
        let gate = by_id("P03-ACCEPT").unwrap();
        Verdict::new(gate, Status::Fail, "2 units").with_evidence(
            lines
                .iter()
                .map(|(s, p, a)| Evidence::new(Mark::Bad, *s, *p, *a))
                .collect(),
        )
    }

    #[test]
    fn a_failure_every_line_of_which_is_covered_is_waived_until_the_date_inclusive() {
        let w = parse(FILE, "test").unwrap();
        let v = failing(&[(
            "unit keystone/0",
            "policy override",
            "PO (broken): Unit is ready",
        )]);
        let out = apply(vec![v.clone()], &w, day("2027-06-30")).remove(0);
        assert_eq!(out.status, Status::Waived);
        assert_eq!(out.status.exit_code(), 0);
        assert_eq!(out.evidence[0].mark, Mark::Waived);
        assert!(
            out.evidence[0]
                .expected
                .as_ref()
                .unwrap()
                .contains("waived by FINDING-1 until 2027-06-30: keystone's policyd")
        );
        let out = apply(vec![v], &w, day("2027-07-01")).remove(0);
        assert_eq!(out.status, Status::Fail);
        assert_eq!(out.evidence[0].mark, Mark::Bad);
        assert!(
            out.summary.contains("FINDING-1 expired 2027-06-30"),
            "{}",
            out.summary
        );
        assert!(
            out.evidence
                .iter()
                .any(|e| e.subject == "waiver FINDING-1" && e.property == "expired")
        );
    }

    #[test]
    fn a_line_the_waiver_does_not_cover_keeps_the_failure() {
        let w = parse(FILE, "test").unwrap();
        let v = failing(&[
            (
                "unit keystone/0",
                "policy override",
                "PO (broken): Unit is ready",
            ),
            ("unit keystone/0", "status", "error \"hook failed\""),
            (
                "unit nova/0",
                "policy override",
                "PO (broken): Unit is ready",
            ),
        ]);
        let out = apply(vec![v], &w, day("2027-01-01")).remove(0);
        assert_eq!(out.status, Status::Fail);
        let marks: Vec<Mark> = out.evidence.iter().map(|e| e.mark).collect();
        assert_eq!(marks, [Mark::Waived, Mark::Bad, Mark::Bad]);
    }

    #[test]
    fn a_unit_in_error_or_an_unread_line_is_never_waived() {
        let w = parse(FILE, "test").unwrap();
        let line = (
            "unit keystone/0",
            "policy override",
            "PO (broken): Unit is ready",
        );
        let v = failing(&[line]).unsettleable("keystone/0 in error");
        assert_eq!(
            apply(vec![v], &w, day("2027-01-01"))[0].status,
            Status::Fail
        );
        let mut v = failing(&[line]);
        v.evidence.push(Evidence::new(
            Mark::Missing,
            "unit keystone/0",
            "juju-status",
            "missing",
        ));
        assert_eq!(
            apply(vec![v], &w, day("2027-01-01"))[0].status,
            Status::Fail
        );
    }

    #[test]
    fn preconditions_and_holds_are_never_waived() {
        let w = parse(FILE, "test").unwrap();
        for status in [Status::Precondition, Status::Hold, Status::Pass] {
            let mut v = failing(&[(
                "unit keystone/0",
                "policy override",
                "PO (broken): Unit is ready",
            )]);
            v.status = status;
            assert_eq!(apply(vec![v], &w, day("2027-01-01"))[0].status, status);
        }
    }

    #[test]
    fn malformed_waivers_are_refused_with_the_reason() {
        let cases = [
            (FILE.replace("justification = \"keystone's policyd override is broken since the phase-01 deploy; tracked\"", "justification = \"  \""), "needs a justification"),
            (FILE.replace("expires = 2027-06-30", ""), "missing field `expires`"),
            (FILE.replace("expires = 2027-06-30", "expires = \"2027-06-30\""), "expires"),
            (FILE.replace("expires = 2027-06-30", "expires = 2027-06-30T00:00:00Z"), "must be a date"),
            (FILE.replace("P03-ACCEPT", "P03-ACEPT"), "not a gate"),
            (FILE.replace("subject = \"unit keystone/0\"", ""), "needs a subject"),
            (FILE.replace("property = \"policy override\"\n", ""), "missing field `property`"),
            (FILE.replace("subject = \"unit keystone/0\"", "subject_pattern = '^.*$'"), "match something"),
            (FILE.replace("value_pattern = '^PO \\(broken\\): .*$'", "value_pattern = 'PO \\(broken\\)'"), "anchored"),
            (FILE.replace("value_pattern", "value = \"x\"\nvalue_pattern"), "both value and value_pattern"),
            (format!("{FILE}{FILE}"), "given twice"),
            (FILE.replace("[[waiver]]", "[[waivers]]"), "unknown field"),
            (FILE.replace("gate =", "reason = \"x\"\ngate ="), "unknown field"),
        ];
        for (text, why) in cases {
            let err = parse(&text, "w.toml").unwrap_err().to_string();
            assert!(err.contains(why), "{why}: {err}");
            assert!(err.starts_with("invalid waivers w.toml: "), "{err}");
        }
    }
}

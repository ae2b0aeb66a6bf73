//! One result of a charm action: `juju run -m M --format=json <app>/leader <action>`
//! (juju 3.6 `cmd/juju/action/run.go`). The document is `formatActionResult`'s
//! (`cmd/juju/action/common.go`, written by `cmd.FormatJson`: compact, keys sorted),
//! keyed by the unit the task ran on, the same as `juju exec`'s:
//! `{"keystone/0":{"id":"8","results":{"admin-password":"...","return-code":0},"status":"completed","timing":{...},"unit":"keystone/0"}}`.
//! The charm's `action_set`/`function_set` keys sit beside juju's own `return-code`
//! (and `stdout`/`stderr` when the action printed): charm-keystone
//! `actions/admin_password.py` sets `admin-password`; charm-vault
//! `src/actions/actions.py` `get_root_ca` sets `output`.
//!
//! A result may be a secret (the admin password), so no error here shows a value: the
//! key path and what is wrong with it only.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::super::parse_json_bytes;
use crate::runner::display_argv;

#[derive(Debug, Deserialize)]
struct Task {
    status: Option<String>,
    results: Option<BTreeMap<String, serde_json::Value>>,
}

/// The string result `key` of the one task `stdout` holds, as bytes, or why not (a
/// key path, never a value).
pub fn result_value(argv: &[String], stdout: &[u8], key: &str) -> Result<Vec<u8>, String> {
    let shown = display_argv(argv);
    let tasks: BTreeMap<String, Task> =
        parse_json_bytes(stdout, &shown, "").map_err(|e| e.to_string())?;
    let mut tasks = tasks.into_iter();
    let (unit, task) = match (tasks.next(), tasks.next()) {
        (Some(one), None) => one,
        (None, _) => return Err("no task in the document (top level)".to_string()),
        (Some(_), Some(_)) => {
            return Err(
                "more than one task in the document: which unit answered is ambiguous".into(),
            );
        }
    };
    match task.status.as_deref() {
        Some("completed") => {}
        Some(other) => return Err(format!("`{unit}.status` is {other}, not completed")),
        None => return Err(format!("missing key `{unit}.status`")),
    }
    let results = task
        .results
        .ok_or_else(|| format!("missing key `{unit}.results`"))?;
    match results.get("return-code") {
        None => return Err(format!("missing key `{unit}.results.return-code`")),
        Some(code) if code.as_i64() == Some(0) => {}
        Some(code) if code.is_i64() => {
            return Err(format!("`{unit}.results.return-code` is {code}, not 0"));
        }
        Some(_) => return Err(format!("`{unit}.results.return-code` is not an integer")),
    }
    match results.get(key) {
        Some(serde_json::Value::String(value)) => Ok(value.clone().into_bytes()),
        Some(_) => Err(format!(
            "`{unit}.results.{key}` is not a string (not shown)"
        )),
        None => Err(format!("missing key `{unit}.results.{key}`")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv() -> Vec<String> {
        [
            "juju",
            "run",
            "-m",
            "openstack",
            "--format=json",
            "keystone/leader",
            "get-admin-password",
        ]
        .map(String::from)
        .to_vec()
    }

    const DOC: &str = "{\"keystone/0\":{\"id\":\"8\",\"results\":{\"admin-password\":\"Ohngai6ieP3quee9\",\"return-code\":0},\"status\":\"completed\",\"timing\":{\"completed\":\"2026-06-27 14:02:11 +0000 UTC\",\"enqueued\":\"2026-06-27 14:02:09 +0000 UTC\",\"started\":\"2026-06-27 14:02:10 +0000 UTC\"},\"unit\":\"keystone/0\"}}\n";

    #[test]
    fn the_one_tasks_string_result_is_taken() {
        assert_eq!(
            result_value(&argv(), DOC.as_bytes(), "admin-password").unwrap(),
            b"Ohngai6ieP3quee9"
        );
    }

    #[test]
    fn what_is_wrong_is_named_by_key_path_and_never_shows_the_value() {
        let cases = [
            (
                DOC.replace("\"admin-password\"", "\"password\""),
                "missing key `keystone/0.results.admin-password`",
            ),
            (
                DOC.replace("\"return-code\":0", "\"return-code\":1"),
                "`keystone/0.results.return-code` is 1",
            ),
            (
                DOC.replace(",\"return-code\":0", ""),
                "missing key `keystone/0.results.return-code`",
            ),
            (
                DOC.replace("\"completed\",\"timing\"", "\"failed\",\"timing\""),
                "`keystone/0.status` is failed",
            ),
            (
                DOC.replace("\"Ohngai6ieP3quee9\"", "[\"Ohngai6ieP3quee9\"]"),
                "is not a string",
            ),
            ("{}\n".to_string(), "no task"),
            (format!("{}{}", DOC.trim_end(), "{}"), "trailing"),
            (
                DOC.replace(
                    "{\"keystone/0\":{",
                    "{\"keystone/1\":{\"status\":\"completed\"},\"keystone/0\":{",
                ),
                "more than one task",
            ),
            (
                DOC.replace("\"id\":\"8\"", "\"id\":\"8\",\"id\":\"9\""),
                "duplicate key",
            ),
        ];
        for (doc, want) in cases {
            let err = result_value(&argv(), doc.as_bytes(), "admin-password").unwrap_err();
            assert!(err.contains(want), "{err} lacks {want}");
            assert!(!err.contains("Ohngai6ieP3quee9"), "{err} shows the value");
        }
    }
}

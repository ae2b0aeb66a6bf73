//! Lookups into a JSON report (`stackgate gate --format json`) shared by the
//! process-level tests.

use serde_json::Value;

/// The verdict with this gate id; panics showing the whole report when there is none.
pub fn verdict<'a>(doc: &'a Value, id: &str) -> &'a Value {
    doc["verdicts"]
        .as_array()
        .expect("verdicts is an array")
        .iter()
        .find(|v| v["id"] == id)
        .unwrap_or_else(|| panic!("no verdict {id} in\n{doc:#}"))
}

/// The status label of the verdict with this gate id.
pub fn status_of<'a>(doc: &'a Value, id: &str) -> &'a str {
    verdict(doc, id)["status"]
        .as_str()
        .expect("a verdict's status is a string")
}

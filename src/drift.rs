//! Schema drift between two recordings of one CLI command (`stackgate drift OLD NEW`).
//!
//! A recording is reduced to its [`Shape`]: every key path it has, with the JSON types
//! seen there. Two shapes are compared into [`Change`]s (keys added, removed, renamed,
//! changed in type), and [`affected`] names the gates whose declared key paths a change
//! touches. Values never matter, only where keys are and what type they hold, so two
//! recordings of different clouds made by the same CLI version have no drift.
//!
//! Path syntax (the declared key paths' convention): segments joined by `.`; an array's
//! elements are `[]` appended to the array's segment (`subnets[].cidr`, and `[].hostname`
//! for a top-level array); a map keyed by ids or names is folded into one wildcard
//! segment `<name>` (`applications.<app>.units.<unit>.workload-status.current`). The
//! document itself is the empty path. A key that would not survive that syntax (empty,
//! holding `.`, `[`, `]`, `"` or `\`, or spelled like a wildcard `<x>`) is written in
//! double quotes with `\"` and `\\` escapes (`endpoint-bindings.""`,
//! `subnets."10.0.0.0/24"`); in practice such keys sit under wildcards and never show.
//!
//! Wildcard segments match each other whatever their names (`<id>` matches `<unit>`),
//! and a wildcard in a declared path also matches a literal key there.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;
use serde_json::Value;

/// The maps of `juju status --format=json` keyed by names or ids (juju/juju
/// cmd/juju/status/formatted.go: applications, units, subordinates, machines,
/// containers, network interfaces, relation endpoints, endpoint bindings, offers,
/// consumed applications, the storage section).
pub const JUJU_STATUS_WILDCARDS: &[&str] = &[
    "applications.<app>",
    "applications.<app>.units.<unit>",
    "applications.<app>.units.<unit>.subordinates.<unit>",
    "applications.<app>.relations.<endpoint>",
    "applications.<app>.endpoint-bindings.<endpoint>",
    "applications.<app>.exposed-endpoints.<endpoint>",
    "machines.<id>",
    "machines.<id>.network-interfaces.<interface>",
    "machines.<id>.containers.<id>",
    "machines.<id>.containers.<id>.network-interfaces.<interface>",
    "machines.<id>.lxd-profiles.<profile>",
    "application-endpoints.<app>",
    "application-endpoints.<app>.endpoints.<endpoint>",
    "application-endpoints.<app>.relations.<endpoint>",
    "offers.<offer>",
    "offers.<offer>.endpoints.<endpoint>",
    "storage.storage.<storage>",
    "storage.storage.<storage>.attachments.units.<unit>",
    "storage.filesystems.<filesystem>",
    "storage.filesystems.<filesystem>.attachments.machines.<id>",
    "storage.filesystems.<filesystem>.attachments.containers.<unit>",
    "storage.filesystems.<filesystem>.attachments.units.<unit>",
    "storage.volumes.<volume>",
    "storage.volumes.<volume>.attachments.machines.<id>",
    "storage.volumes.<volume>.attachments.containers.<unit>",
    "storage.volumes.<volume>.attachments.units.<unit>",
];

/// The maps of `maas <profile> machines read` keyed by user-chosen names (canonical/maas
/// src/maasserver/api/machines.py: `owner_data` and `workload_annotations` are free-form
/// key/value maps).
pub const MAAS_MACHINES_WILDCARDS: &[&str] =
    &["[].owner_data.<key>", "[].workload_annotations.<key>"];

/// A JSON value's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JsonType {
    Null,
    Bool,
    Number,
    String,
    Array,
    Object,
}

impl JsonType {
    pub fn of(value: &Value) -> Self {
        match value {
            Value::Null => Self::Null,
            Value::Bool(_) => Self::Bool,
            Value::Number(_) => Self::Number,
            Value::String(_) => Self::String,
            Value::Array(_) => Self::Array,
            Value::Object(_) => Self::Object,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Null => "null",
            Self::Bool => "bool",
            Self::Number => "number",
            Self::String => "string",
            Self::Array => "array",
            Self::Object => "object",
        }
    }
}

impl fmt::Display for JsonType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every normalized key path of a document with the JSON types seen there (a path seen
/// as string in one unit and object in another holds both).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Shape {
    pub paths: BTreeMap<String, BTreeSet<JsonType>>,
}

impl Shape {
    /// The shape of one document; see [`shape`].
    pub fn of(doc: &Value, wildcards: &[&str]) -> Self {
        shape(doc, wildcards)
    }

    /// The shape of several documents (recordings of the same command) together.
    pub fn of_all(docs: &[Value], wildcards: &[&str]) -> Self {
        let mut all = Self::default();
        for doc in docs {
            all.merge(&shape(doc, wildcards));
        }
        all
    }

    /// Adds another shape's paths and types to this one.
    pub fn merge(&mut self, other: &Shape) {
        for (path, types) in &other.paths {
            self.paths
                .entry(path.clone())
                .or_default()
                .extend(types.iter().copied());
        }
    }

    /// The types seen at `path` (written exactly as this shape writes it).
    pub fn types(&self, path: &str) -> Option<&BTreeSet<JsonType>> {
        self.paths.get(path)
    }

    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }
}

/// Every normalized key path of `doc`, the document itself being the empty path.
///
/// `wildcards`: patterns whose last segment is a `<name>`: every key of the map at that
/// place is folded into the wildcard, e.g. `applications.<app>.units.<unit>` folds unit
/// names (and, through its `<app>`, application names too: every `<name>` segment of a
/// pattern folds its level). Patterns' wildcard names need not agree with each other;
/// the first pattern listed that reaches a level names it.
pub fn shape(doc: &Value, wildcards: &[&str]) -> Shape {
    let folder = Folder::new(wildcards);
    let mut out = BTreeMap::new();
    walk(doc, &mut Vec::new(), &mut String::new(), &folder, &mut out);
    Shape { paths: out }
}

/// The shapes of several documents on each side, merged, then compared.
pub fn diff_values(old_docs: &[Value], new_docs: &[Value], wildcards: &[&str]) -> Vec<Change> {
    diff(
        &Shape::of_all(old_docs, wildcards),
        &Shape::of_all(new_docs, wildcards),
    )
}

/// How a rename was recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RenameBasis {
    /// The only removed and the only added key under their parent with this subtree
    /// structure (same relative paths, same types).
    Structure,
    /// Several removed and added keys under the parent share the structure; these two
    /// are each other's unique closest name (longest common prefix or suffix, at least 3
    /// characters and half of the longer name), e.g. `substatus_name` -> `status_name`.
    StructureAndName,
}

/// One difference between two shapes.
///
/// `leaves` are the full paths of the subtree's leaves (the root itself when it has no
/// children), on the side that has it (the new side for a rename).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    /// A key (with its whole subtree) only the new shape has.
    Added {
        path: String,
        types: BTreeSet<JsonType>,
        leaves: Vec<String>,
    },
    /// A key (with its whole subtree) only the old shape has.
    Removed {
        path: String,
        types: BTreeSet<JsonType>,
        leaves: Vec<String>,
    },
    /// A removed key and an added sibling holding the same structure.
    Renamed {
        from: String,
        to: String,
        types: BTreeSet<JsonType>,
        leaves: Vec<String>,
        basis: RenameBasis,
    },
    /// A key both shapes have, seen with different types. When a container type appeared
    /// (string -> array), the paths below it are new with it: their leaves are listed in
    /// `added_below` rather than reported as additions of their own; likewise
    /// `removed_below` when a container type disappeared.
    TypeChanged {
        path: String,
        old: BTreeSet<JsonType>,
        new: BTreeSet<JsonType>,
        added_below: Vec<String>,
        removed_below: Vec<String>,
    },
}

impl Change {
    /// The path the change is about (`from` for a rename).
    pub fn path(&self) -> &str {
        match self {
            Self::Added { path, .. }
            | Self::Removed { path, .. }
            | Self::TypeChanged { path, .. } => path,
            Self::Renamed { from, .. } => from,
        }
    }

    /// A type change that only adds or drops `null`, or where one side only ever saw
    /// `null` (often what the recordings happened to hold, not the schema).
    pub fn is_nullability_only(&self) -> bool {
        let Self::TypeChanged { old, new, .. } = self else {
            return false;
        };
        let strip = |s: &BTreeSet<JsonType>| -> BTreeSet<JsonType> {
            s.iter().copied().filter(|t| *t != JsonType::Null).collect()
        };
        let (old, new) = (strip(old), strip(new));
        old == new || old.is_empty() || new.is_empty()
    }

    fn rank(&self) -> u8 {
        match self {
            Self::Removed { .. } => 0,
            Self::Renamed { .. } => 1,
            Self::TypeChanged { .. } => 2,
            Self::Added { .. } => 3,
        }
    }
}

fn types_text(types: &BTreeSet<JsonType>) -> String {
    types
        .iter()
        .map(|t| t.as_str())
        .collect::<Vec<_>>()
        .join("|")
}

fn leaves_text(path: &str, leaves: &[String]) -> String {
    if leaves.len() == 1 && leaves[0] == path {
        String::new()
    } else {
        let n = leaves.len();
        format!(", {n} {}", if n == 1 { "leaf" } else { "leaves" })
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Added {
                path,
                types,
                leaves,
            } => {
                write!(
                    f,
                    "+ {path} ({}{})",
                    types_text(types),
                    leaves_text(path, leaves)
                )
            }
            Self::Removed {
                path,
                types,
                leaves,
            } => {
                write!(
                    f,
                    "- {path} ({}{})",
                    types_text(types),
                    leaves_text(path, leaves)
                )
            }
            Self::Renamed {
                from,
                to,
                types,
                leaves,
                ..
            } => {
                write!(
                    f,
                    "> {from} -> {to} ({}{})",
                    types_text(types),
                    leaves_text(to, leaves)
                )
            }
            Self::TypeChanged {
                path,
                old,
                new,
                added_below,
                removed_below,
            } => {
                write!(f, "~ {path}: {} -> {}", types_text(old), types_text(new))?;
                for (sign, below) in [('+', added_below), ('-', removed_below)] {
                    match below.len() {
                        0 => {}
                        1 => write!(f, " ({sign}1 leaf below)")?,
                        n => write!(f, " ({sign}{n} leaves below)")?,
                    }
                }
                Ok(())
            }
        }
    }
}

/// The differences from `old` to `new`, ordered by path (a rename by its `from`), then
/// removal, rename, type change, addition.
///
/// A subtree added or removed as a whole is reported once, at its root, with its leaves;
/// a type change is reported where it happens, even deep inside a kept subtree. Renames:
/// a removed and an added key under the same parent whose subtrees have the same
/// structure (relative paths and types), one-to-one under that parent; when several share
/// a structure, pairs of unique mutually closest names (see [`RenameBasis`]).
pub fn diff(old: &Shape, new: &Shape) -> Vec<Change> {
    let old_tree = Tree::new(old);
    let new_tree = Tree::new(new);

    let mut type_changed: BTreeMap<String, (Vec<String>, Vec<String>)> = BTreeMap::new();
    for (path, old_types) in &old.paths {
        if new
            .paths
            .get(path)
            .is_some_and(|new_types| new_types != old_types)
        {
            type_changed.insert(path.clone(), (Vec::new(), Vec::new()));
        }
    }

    let added = only_in(&new_tree, &old_tree, &mut type_changed, true);
    let removed = only_in(&old_tree, &new_tree, &mut type_changed, false);

    let mut changes = Vec::new();
    let (renames, added, removed) = pair_renames(added, removed);
    for (r, a, basis) in renames {
        changes.push(Change::Renamed {
            from: r.path,
            to: a.path,
            types: a.types,
            leaves: a.leaves,
            basis,
        });
    }
    for a in added {
        changes.push(Change::Added {
            path: a.path,
            types: a.types,
            leaves: a.leaves,
        });
    }
    for r in removed {
        changes.push(Change::Removed {
            path: r.path,
            types: r.types,
            leaves: r.leaves,
        });
    }
    for (path, (added_below, removed_below)) in type_changed {
        changes.push(Change::TypeChanged {
            old: old.paths[&path].clone(),
            new: new.paths[&path].clone(),
            path,
            added_below,
            removed_below,
        });
    }
    changes.sort_by(|a, b| (a.path(), a.rank()).cmp(&(b.path(), b.rank())));
    changes
}

/// How a change touches a declared key path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    /// The changed path is the declared path.
    Exact,
    /// The changed path is an ancestor of the declared path.
    Ancestor,
    /// An added key next to a removed declared key (or a removed ancestor of one): what
    /// replaced it, e.g. `base` for a declared `series`.
    Replacement,
    /// A type change or removal below the declared path: a gate reading the declared
    /// value whole (a list, an object) reads a different shape. Not counted by
    /// [`affected`].
    Inside,
}

/// One change touching one declared path of one gate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Impact {
    pub gate: String,
    pub declared: String,
    /// Index into the changes given.
    pub change: usize,
    pub relation: Relation,
}

/// Every (gate, declared path, change) with how the change touches the path (the
/// closest relation when several apply), ordered by gate, declared path, change.
/// `declared`: (pattern, gate ids) pairs; a pattern is a key path without the source
/// prefix (`applications.<app>.units.<unit>.workload-status.current`).
pub fn impacts(changes: &[Change], declared: &[(&str, &[&str])]) -> Vec<Impact> {
    let parsed: Vec<Vec<Step>> = changes_paths(changes);
    // What an addition may replace: removed keys (a rename already names its successor).
    let removed_roots: Vec<Vec<Step>> = changes
        .iter()
        .filter_map(|c| match c {
            Change::Removed { path, .. } => Some(parse(path)),
            _ => None,
        })
        .collect();
    let mut out = Vec::new();
    for (pattern, gates) in declared {
        let d = parse(pattern);
        for (i, change) in changes.iter().enumerate() {
            let Some(relation) = relation(
                change,
                &parsed[2 * i],
                &parsed[2 * i + 1],
                &d,
                &removed_roots,
            ) else {
                continue;
            };
            for gate in *gates {
                out.push(Impact {
                    gate: (*gate).to_string(),
                    declared: (*pattern).to_string(),
                    change: i,
                    relation,
                });
            }
        }
    }
    out.sort_by(|a, b| (&a.gate, &a.declared, a.change).cmp(&(&b.gate, &b.declared, b.change)));
    out
}

/// The gates affected: a change affects a declared key path when the changed path is
/// that path, an ancestor of it, or (for an addition) a sibling that replaces a removed
/// declared key (or a removed ancestor of one), i.e. a rename. Changes strictly below a
/// declared path ([`Relation::Inside`]) are left out here; [`impacts`] has them.
pub fn affected(
    changes: &[Change],
    declared: &[(&str, &[&str])],
) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for impact in impacts(changes, declared) {
        if impact.relation != Relation::Inside {
            out.entry(impact.gate).or_default().insert(impact.declared);
        }
    }
    out
}

/// Splits a declared entry as stackgate's `GATE_KEY_PATHS` write them, `<source>: <path>`
/// (`network show: router:external`), at the first `": "`.
pub fn split_source(entry: &str) -> Option<(&str, &str)> {
    entry.split_once(": ")
}

// ---------------------------------------------------------------------------------------
// Paths

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Step {
    Key(String),
    Wild(String),
    Elem,
}

fn needs_quotes(key: &str) -> bool {
    key.is_empty()
        || key.contains(['.', '[', ']', '"', '\\'])
        || (key.starts_with('<') && key.ends_with('>'))
}

fn push_step(out: &mut String, step: &Step, first: bool) {
    match step {
        Step::Elem => out.push_str("[]"),
        Step::Key(key) => {
            if !first {
                out.push('.');
            }
            if needs_quotes(key) {
                out.push('"');
                for c in key.chars() {
                    if c == '"' || c == '\\' {
                        out.push('\\');
                    }
                    out.push(c);
                }
                out.push('"');
            } else {
                out.push_str(key);
            }
        }
        Step::Wild(name) => {
            if !first {
                out.push('.');
            }
            out.push('<');
            out.push_str(name);
            out.push('>');
        }
    }
}

fn render(steps: &[Step]) -> String {
    let mut out = String::new();
    for (i, step) in steps.iter().enumerate() {
        push_step(&mut out, step, i == 0);
    }
    out
}

/// Parses a path; lenient (an unterminated quote runs to the end, a trailing `.` is an
/// empty last key).
fn parse(path: &str) -> Vec<Step> {
    let chars: Vec<char> = path.chars().collect();
    let mut steps = Vec::new();
    if chars.is_empty() {
        return steps;
    }
    let mut i = 0;
    let mut first = true;
    loop {
        // One segment: a key (none for a top-level array), then any number of `[]`.
        if chars[i..].first() == Some(&'"') {
            let mut key = String::new();
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' && i + 1 < chars.len() {
                    i += 1;
                }
                key.push(chars[i]);
                i += 1;
            }
            i = (i + 1).min(chars.len());
            steps.push(Step::Key(key));
        } else {
            let start = i;
            while i < chars.len() && chars[i] != '.' && !is_elem(&chars, i) {
                i += 1;
            }
            let raw: String = chars[start..i].iter().collect();
            if raw.len() > 2 && raw.starts_with('<') && raw.ends_with('>') {
                steps.push(Step::Wild(raw[1..raw.len() - 1].to_string()));
            } else if !(raw.is_empty() && first) {
                steps.push(Step::Key(raw));
            }
        }
        while is_elem(&chars, i) {
            steps.push(Step::Elem);
            i += 2;
        }
        first = false;
        if i >= chars.len() {
            break;
        }
        if chars[i] == '.' {
            i += 1;
        }
        // Else stray characters after a quoted key: read them as the next segment.
    }
    steps
}

fn is_elem(chars: &[char], i: usize) -> bool {
    chars.get(i) == Some(&'[') && chars.get(i + 1) == Some(&']')
}

fn step_matches(a: &Step, b: &Step) -> bool {
    match (a, b) {
        (Step::Elem, Step::Elem) => true,
        (Step::Key(x), Step::Key(y)) => x == y,
        (Step::Wild(_), Step::Wild(_) | Step::Key(_)) | (Step::Key(_), Step::Wild(_)) => true,
        _ => false,
    }
}

fn path_matches(a: &[Step], b: &[Step]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| step_matches(x, y))
}

/// `a` is a proper prefix of `b`.
fn is_ancestor(a: &[Step], b: &[Step]) -> bool {
    a.len() < b.len() && path_matches(a, &b[..a.len()])
}

// ---------------------------------------------------------------------------------------
// Shapes

struct Folder {
    /// Patterns ending in a wildcard, with every wildcard-ended prefix of each pattern.
    patterns: Vec<Vec<Step>>,
}

impl Folder {
    fn new(wildcards: &[&str]) -> Self {
        let mut patterns: Vec<Vec<Step>> = Vec::new();
        for w in wildcards {
            let steps = parse(w);
            for (j, step) in steps.iter().enumerate() {
                if matches!(step, Step::Wild(_)) {
                    let prefix = steps[..=j].to_vec();
                    if !patterns.contains(&prefix) {
                        patterns.push(prefix);
                    }
                }
            }
        }
        Self { patterns }
    }

    /// The wildcard name the keys of the object at `parent` fold into, if any.
    fn fold(&self, parent: &[Step]) -> Option<&str> {
        self.patterns.iter().find_map(|p| match p.last() {
            Some(Step::Wild(name))
                if p.len() == parent.len() + 1 && path_matches(&p[..parent.len()], parent) =>
            {
                Some(name.as_str())
            }
            _ => None,
        })
    }
}

fn walk(
    value: &Value,
    steps: &mut Vec<Step>,
    path: &mut String,
    folder: &Folder,
    out: &mut BTreeMap<String, BTreeSet<JsonType>>,
) {
    let t = JsonType::of(value);
    match out.get_mut(path.as_str()) {
        Some(types) => {
            types.insert(t);
        }
        None => {
            out.insert(path.clone(), BTreeSet::from([t]));
        }
    }
    match value {
        Value::Object(map) => {
            let wild = folder.fold(steps).map(str::to_string);
            for (key, child) in map {
                let step = match &wild {
                    Some(name) => Step::Wild(name.clone()),
                    None => Step::Key(key.clone()),
                };
                let len = path.len();
                push_step(path, &step, steps.is_empty());
                steps.push(step);
                walk(child, steps, path, folder, out);
                steps.pop();
                path.truncate(len);
            }
        }
        Value::Array(items) => {
            for item in items {
                let len = path.len();
                path.push_str("[]");
                steps.push(Step::Elem);
                walk(item, steps, path, folder, out);
                steps.pop();
                path.truncate(len);
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------
// Diff

/// A shape with its paths parsed and its parent links.
struct Tree<'a> {
    shape: &'a Shape,
    parent: BTreeMap<&'a str, String>,
    steps: BTreeMap<&'a str, Vec<Step>>,
    has_children: BTreeSet<String>,
}

impl<'a> Tree<'a> {
    fn new(shape: &'a Shape) -> Self {
        let mut parent = BTreeMap::new();
        let mut steps = BTreeMap::new();
        let mut has_children = BTreeSet::new();
        for path in shape.paths.keys() {
            let s = parse(path);
            if let Some((_, up)) = s.split_last() {
                let p = render(up);
                has_children.insert(p.clone());
                parent.insert(path.as_str(), p);
            }
            steps.insert(path.as_str(), s);
        }
        Self {
            shape,
            parent,
            steps,
            has_children,
        }
    }

    fn contains(&self, path: &str) -> bool {
        self.shape.paths.contains_key(path)
    }
}

/// An added or removed subtree.
struct Subtree {
    path: String,
    parent: Option<String>,
    last: Step,
    types: BTreeSet<JsonType>,
    leaves: Vec<String>,
    signature: Signature,
}

/// (path relative to the subtree's root, types) of every path in a subtree, sorted.
type Signature = Vec<(String, BTreeSet<JsonType>)>;

/// The subtrees of `this` that `other` lacks, by root. A path below a kept path whose
/// container type is new (or gone) with a type change is filed under that change
/// instead (`added` says which list of the change).
fn only_in(
    this: &Tree<'_>,
    other: &Tree<'_>,
    type_changed: &mut BTreeMap<String, (Vec<String>, Vec<String>)>,
    added: bool,
) -> Vec<Subtree> {
    // Root of each path `other` lacks: walk up while the parent is lacking too.
    let mut roots: BTreeMap<String, Subtree> = BTreeMap::new();
    let mut implied: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (path, types) in &this.shape.paths {
        if other.contains(path) {
            continue;
        }
        let mut root = path.as_str();
        while let Some(p) = this.parent.get(root) {
            if other.contains(p) || !this.contains(p) {
                break;
            }
            root = p.as_str();
        }
        let is_leaf = !this.has_children.contains(path);
        let parent = this.parent.get(root).cloned();
        // Implied by a type change of a kept parent that gained (or lost) the container?
        let container = match this.steps[root].last() {
            Some(Step::Elem) => JsonType::Array,
            _ => JsonType::Object,
        };
        let implied_by = parent.as_ref().filter(|p| {
            type_changed.contains_key(p.as_str())
                && other
                    .shape
                    .paths
                    .get(p.as_str())
                    .is_some_and(|t| !t.contains(&container))
        });
        if let Some(p) = implied_by {
            if is_leaf {
                implied.entry(p.clone()).or_default().push(path.clone());
            }
            continue;
        }
        let root_steps = &this.steps[root];
        let entry = roots.entry(root.to_string()).or_insert_with(|| Subtree {
            path: root.to_string(),
            parent: parent.clone(),
            last: root_steps.last().cloned().unwrap_or(Step::Elem),
            types: this.shape.paths[root].clone(),
            leaves: Vec::new(),
            signature: Vec::new(),
        });
        let rel = render(&this.steps[path.as_str()][root_steps.len()..]);
        entry.signature.push((rel, types.clone()));
        if is_leaf {
            entry.leaves.push(path.clone());
        }
    }
    for (p, leaves) in implied {
        if let Some((added_below, removed_below)) = type_changed.get_mut(&p) {
            if added {
                added_below.extend(leaves);
            } else {
                removed_below.extend(leaves);
            }
        }
    }
    roots
        .into_values()
        .map(|mut s| {
            s.signature.sort();
            s
        })
        .collect()
}

type Pairing = (
    Vec<(Subtree, Subtree, RenameBasis)>,
    Vec<Subtree>,
    Vec<Subtree>,
);

/// Splits added and removed subtrees into renames (removed, added) and the rest.
fn pair_renames(added: Vec<Subtree>, removed: Vec<Subtree>) -> Pairing {
    // Candidates: keyed steps with a parent, grouped by (parent, signature).
    type Group = (Vec<usize>, Vec<usize>);
    let mut groups: BTreeMap<(String, Signature), Group> = BTreeMap::new();
    for (i, r) in removed.iter().enumerate() {
        if let (Some(p), Step::Key(_)) = (&r.parent, &r.last) {
            groups
                .entry((p.clone(), r.signature.clone()))
                .or_default()
                .0
                .push(i);
        }
    }
    for (i, a) in added.iter().enumerate() {
        if let (Some(p), Step::Key(_)) = (&a.parent, &a.last) {
            groups
                .entry((p.clone(), a.signature.clone()))
                .or_default()
                .1
                .push(i);
        }
    }
    let mut pairs: Vec<(usize, usize, RenameBasis)> = Vec::new();
    for (rs, adds) in groups.values() {
        if rs.is_empty() || adds.is_empty() {
            continue;
        }
        if rs.len() == 1 && adds.len() == 1 {
            pairs.push((rs[0], adds[0], RenameBasis::Structure));
            continue;
        }
        let name = |s: &Subtree| match &s.last {
            Step::Key(k) => k.clone(),
            _ => String::new(),
        };
        let best = |from: &str, candidates: &[String]| -> Option<usize> {
            let scores: Vec<usize> = candidates.iter().map(|c| closeness(from, c)).collect();
            let top = *scores.iter().max()?;
            let mut at = scores.iter().enumerate().filter(|(_, s)| **s == top);
            let (i, _) = at.next()?;
            if at.next().is_some()
                || top < 3
                || 2 * top < from.chars().count().max(candidates[i].chars().count())
            {
                return None;
            }
            Some(i)
        };
        let r_names: Vec<String> = rs.iter().map(|&i| name(&removed[i])).collect();
        let a_names: Vec<String> = adds.iter().map(|&i| name(&added[i])).collect();
        for (ri, rn) in r_names.iter().enumerate() {
            let Some(ai) = best(rn, &a_names) else {
                continue;
            };
            if best(&a_names[ai], &r_names) == Some(ri) {
                pairs.push((rs[ri], adds[ai], RenameBasis::StructureAndName));
            }
        }
    }
    let paired_r: BTreeSet<usize> = pairs.iter().map(|p| p.0).collect();
    let paired_a: BTreeSet<usize> = pairs.iter().map(|p| p.1).collect();
    let mut removed: Vec<Option<Subtree>> = removed.into_iter().map(Some).collect();
    let mut added: Vec<Option<Subtree>> = added.into_iter().map(Some).collect();
    let mut renames = Vec::new();
    for (r, a, basis) in pairs {
        if let (Some(r), Some(a)) = (removed[r].take(), added[a].take()) {
            renames.push((r, a, basis));
        }
    }
    let rest_a = added
        .into_iter()
        .enumerate()
        .filter(|(i, _)| !paired_a.contains(i))
        .filter_map(|(_, a)| a)
        .collect();
    let rest_r = removed
        .into_iter()
        .enumerate()
        .filter(|(i, _)| !paired_r.contains(i))
        .filter_map(|(_, r)| r)
        .collect();
    (renames, rest_a, rest_r)
}

/// The longer of the common prefix and the common suffix of two names, in characters.
fn closeness(a: &str, b: &str) -> usize {
    let prefix = a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
    let suffix = a
        .chars()
        .rev()
        .zip(b.chars().rev())
        .take_while(|(x, y)| x == y)
        .count();
    prefix.max(suffix)
}

/// For change `i`: its main path and, for a rename, its `to` (else the main path again),
/// parsed, flattened as [main_0, second_0, main_1, second_1, ...].
fn changes_paths(changes: &[Change]) -> Vec<Vec<Step>> {
    let mut out = Vec::with_capacity(2 * changes.len());
    for c in changes {
        let main = parse(c.path());
        let second = match c {
            Change::Renamed { to, .. } => parse(to),
            _ => main.clone(),
        };
        out.push(main);
        out.push(second);
    }
    out
}

fn relation(
    change: &Change,
    main: &[Step],
    to: &[Step],
    d: &[Step],
    removed_roots: &[Vec<Step>],
) -> Option<Relation> {
    let direct = |p: &[Step]| {
        if path_matches(p, d) {
            Some(Relation::Exact)
        } else if is_ancestor(p, d) {
            Some(Relation::Ancestor)
        } else {
            None
        }
    };
    match change {
        Change::Added { .. } => direct(main).or_else(|| {
            let (_, parent) = main.split_last()?;
            removed_roots
                .iter()
                .any(|r| {
                    r.split_last()
                        .is_some_and(|(_, rp)| path_matches(rp, parent))
                        && (path_matches(r, d) || is_ancestor(r, d))
                })
                .then_some(Relation::Replacement)
        }),
        Change::Removed { .. } | Change::TypeChanged { .. } => {
            direct(main).or_else(|| is_ancestor(d, main).then_some(Relation::Inside))
        }
        Change::Renamed { .. } => {
            let by_from = direct(main).or_else(|| is_ancestor(d, main).then_some(Relation::Inside));
            let by_to = direct(to);
            match (by_from, by_to) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn load(text: &str) -> Value {
        serde_json::from_str(text).expect("test data is JSON")
    }

    fn set(types: &[JsonType]) -> BTreeSet<JsonType> {
        types.iter().copied().collect()
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    use JsonType::{Array, Bool, Null, Number, Object, String as Str};

    // ---- Path syntax ------------------------------------------------------------------

    #[test]
    fn paths_render_and_parse_back() {
        for p in [
            "",
            "[]",
            "[].hostname",
            "subnets[].cidr",
            "applications.<app>.units.<unit>.workload-status.current",
            "applications.<app>.relations.<endpoint>[]",
            "a[][].b",
            "endpoint-bindings.\"\"",
            "spaces[].subnets.\"10.0.0.0/24\".zones[]",
            "x.\"<not a wildcard>\"",
            "x.\"say \\\"hi\\\" \\\\ [0]\"",
            "Service Name",
            "router:external",
        ] {
            assert_eq!(render(&parse(p)), p, "{p}");
        }
        assert_eq!(
            parse("[].hostname"),
            vec![Step::Elem, Step::Key("hostname".into())]
        );
        assert_eq!(
            parse("units.<unit>[]"),
            vec![
                Step::Key("units".into()),
                Step::Wild("unit".into()),
                Step::Elem
            ]
        );
    }

    #[test]
    fn declared_entries_split_at_the_source() {
        assert_eq!(
            split_source("network show: router:external"),
            Some(("network show", "router:external"))
        );
        assert_eq!(
            split_source("endpoint list: [].Service Name"),
            Some(("endpoint list", "[].Service Name"))
        );
        assert_eq!(split_source("[].hostname"), None);
    }

    #[test]
    fn shape_of_a_top_level_array_and_odd_keys() {
        let doc = json!([
            {"hostname": "a", "tags": ["x"], "owner_data": {"k.1": "v", "": null}},
            {"hostname": "b", "tags": [], "owner_data": {}}
        ]);
        let s = shape(&doc, &[]);
        let keys: Vec<&str> = s.paths.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "",
                "[]",
                "[].hostname",
                "[].owner_data",
                "[].owner_data.\"\"",
                "[].owner_data.\"k.1\"",
                "[].tags",
                "[].tags[]"
            ]
        );
        assert_eq!(s.paths["[].owner_data.\"\""], set(&[Null]));
        let folded = shape(&doc, MAAS_MACHINES_WILDCARDS);
        assert_eq!(folded.paths["[].owner_data.<key>"], set(&[Null, Str]));
        assert!(!folded.paths.contains_key("[].owner_data.\"k.1\""));
    }

    // ---- Upstream shape changes, on documents we composed -----------------------------
    //
    // Every document under tests/data/drift/ was composed for these tests from the
    // stackgate testcloud fixtures (fixtures/testcloud/**): our host names, ids, CIDRs,
    // MACs and timestamps. Only the shape (which keys, of which JSON type) follows the
    // upstream version named, as cited next to each test; nothing is copied from an
    // upstream recording.

    // `juju status --format=json` of one small deployment in juju 2.9 and 3.6 shape:
    // keystone/0 in LXD container 0/lxd/3 on openstack0 with its subordinates
    // keystone-hacluster/0 and keystone-mysql-router/0, mysql-innodb-cluster/0 in
    // 0/lxd/1 (values from phase02-pre-vault/juju-status.json, cut to those units, the
    // endpoints they relate on and one network interface each). Shapes:
    // canonical/jubilant jubilant/statustypes.py at ceefc9476d9069b49dd41c387a5112a2a8f86826
    // ("feat: add Juju 2.9 compatibility (#193)"): `AppStatus.series` and `.os` "Not
    // provided in Juju 3.0 or above", `.base` "Not provided in Juju 2.9",
    // `MachineStatus.series` likewise (containers are `MachineStatus` too), and 2.9
    // `relations` lists carry no `AppStatusRelation` fields (its parser falls back when
    // the list items are plain application names); juju/juju
    // cmd/juju/status/formatted.go on 2.9 (`Series` `json:"series"`, `OS` `json:"os"`,
    // `Relations map[string][]string`) against 3.x (`Base`, relations as
    // `applicationStatusRelation {related-application, interface, scope}`).
    const JUJU_29: &str = include_str!("../tests/data/drift/juju-2.9-status-keystone.json");
    const JUJU_36: &str = include_str!("../tests/data/drift/juju-3.6-status-keystone.json");
    // A second deployment in juju 2.9 shape: ceph-osd/0 on openstack0 with its disk as
    // juju storage osd-devices/0 (the testcloud configures the disk by charm option
    // instead; the storage section's keys follow jubilant statustypes `CombinedStorage`,
    // `StorageInfo`, `VolumeInfo` at the same commit), ceph-mon/0 in 0/lxd/0.
    const HAND_29: &str = include_str!("../tests/data/drift/juju-2.9-status-ceph.json");
    // The same document ported to juju 3 by hand, the way charmed-openstack-upgrader's
    // tests/unit/jujustatus.json was ported in its 38ccaaed ("Port to Juju 3 (#451)"):
    // series/os -> base on applications, machines and containers, versions bumped to
    // 3.6.14, the storage section emptied, and the relation lists left as 2.9 printed
    // them (names), which no juju 3 prints. Composed by us on that pattern.
    const HAND_3X: &str = include_str!("../tests/data/drift/juju-3.x-status-ceph-handported.json");

    fn juju_diff(old: &str, new: &str) -> Vec<Change> {
        diff(
            &shape(&load(old), JUJU_STATUS_WILDCARDS),
            &shape(&load(new), JUJU_STATUS_WILDCARDS),
        )
    }

    /// Cases 1 and 2: juju 2.9 -> 3.x. In 2.9 (formatted.go `Relations map[string][]string`)
    /// an application's relations list the related application names; 3.x lists
    /// `{related-application, interface, scope}` objects. `series` and `os` on
    /// applications and `series` on machines and their containers became `base {name,
    /// channel}`. Nothing else differs between the two documents' shapes.
    #[test]
    fn juju_29_to_36_relations_objects_and_series_to_base() {
        let changes = juju_diff(JUJU_29, JUJU_36);
        let expected = vec![
            Change::Added {
                path: "applications.<app>.base".into(),
                types: set(&[Object]),
                leaves: strings(&[
                    "applications.<app>.base.channel",
                    "applications.<app>.base.name",
                ]),
            },
            Change::Removed {
                path: "applications.<app>.os".into(),
                types: set(&[Str]),
                leaves: strings(&["applications.<app>.os"]),
            },
            Change::TypeChanged {
                path: "applications.<app>.relations.<endpoint>[]".into(),
                old: set(&[Str]),
                new: set(&[Object]),
                added_below: strings(&[
                    "applications.<app>.relations.<endpoint>[].interface",
                    "applications.<app>.relations.<endpoint>[].related-application",
                    "applications.<app>.relations.<endpoint>[].scope",
                ]),
                removed_below: vec![],
            },
            Change::Removed {
                path: "applications.<app>.series".into(),
                types: set(&[Str]),
                leaves: strings(&["applications.<app>.series"]),
            },
            Change::Added {
                path: "machines.<id>.base".into(),
                types: set(&[Object]),
                leaves: strings(&["machines.<id>.base.channel", "machines.<id>.base.name"]),
            },
            Change::Added {
                path: "machines.<id>.containers.<id>.base".into(),
                types: set(&[Object]),
                leaves: strings(&[
                    "machines.<id>.containers.<id>.base.channel",
                    "machines.<id>.containers.<id>.base.name",
                ]),
            },
            Change::Removed {
                path: "machines.<id>.containers.<id>.series".into(),
                types: set(&[Str]),
                leaves: strings(&["machines.<id>.containers.<id>.series"]),
            },
            Change::Removed {
                path: "machines.<id>.series".into(),
                types: set(&[Str]),
                leaves: strings(&["machines.<id>.series"]),
            },
        ];
        assert_eq!(changes, expected, "{changes:#?}");
        // Back the other way: the same keys, the other way round.
        let back = juju_diff(JUJU_36, JUJU_29);
        assert_eq!(back.len(), 8);
        assert!(back.contains(&Change::TypeChanged {
            path: "applications.<app>.relations.<endpoint>[]".into(),
            old: set(&[Object]),
            new: set(&[Str]),
            added_below: vec![],
            removed_below: strings(&[
                "applications.<app>.relations.<endpoint>[].interface",
                "applications.<app>.relations.<endpoint>[].related-application",
                "applications.<app>.relations.<endpoint>[].scope",
            ]),
        }));
    }

    /// A 2.9 document against its hand port to 3.x: the port did series/os -> base (and
    /// emptied `storage`), but kept 2.9's relation lists of names, which no juju 3
    /// prints. Against a 3.6-shaped document the port shows exactly that: the relations
    /// element type differs.
    #[test]
    fn hand_ported_juju_3_fixture_kept_29_relations() {
        let port = juju_diff(HAND_29, HAND_3X);
        let paths: Vec<String> = port.iter().map(|c| c.to_string()).collect();
        assert!(
            port.iter().any(
                |c| matches!(c, Change::Removed { path, .. } if path == "applications.<app>.series")
            ),
            "{paths:#?}"
        );
        assert!(
            port.iter().any(
                |c| matches!(c, Change::Removed { path, .. } if path == "applications.<app>.os")
            )
        );
        assert!(
            port.iter().any(
                |c| matches!(c, Change::Added { path, .. } if path == "applications.<app>.base")
            )
        );
        assert!(
            port.iter()
                .any(|c| matches!(c, Change::Added { path, .. } if path == "machines.<id>.base"))
        );
        assert!(port.iter().any(|c| matches!(c, Change::Added { path, .. }
            if path == "machines.<id>.containers.<id>.base")));
        assert!(
            port.iter()
                .any(|c| matches!(c, Change::Removed { path, .. } if path == "storage.storage"))
        );
        assert!(
            !port.iter().any(|c| c.path().contains(".relations.")),
            "{paths:#?}"
        );

        let against_36 = juju_diff(HAND_3X, JUJU_36);
        assert!(against_36.contains(&Change::TypeChanged {
            path: "applications.<app>.relations.<endpoint>[]".into(),
            old: set(&[Str]),
            new: set(&[Object]),
            added_below: strings(&[
                "applications.<app>.relations.<endpoint>[].interface",
                "applications.<app>.relations.<endpoint>[].related-application",
                "applications.<app>.relations.<endpoint>[].scope",
            ]),
            removed_below: vec![],
        }));
        // While its base matches the 3.6 one.
        assert!(
            !against_36
                .iter()
                .any(|c| c.path().ends_with(".base") || c.path().ends_with(".series"))
        );
    }

    /// Removes `since` from every principal unit's `juju-status`: what juju/juju issue
    /// #21261 ("juju status YAML in 4.0 differs from juju 3.6", filed 2025-11-19 against
    /// juju 4.0.0 on MAAS, label kind/bug) shows: a unit's `juju-status` printed
    /// `current` and `version` but no `since`, which broke the juju-wait snap. The issue
    /// quotes only a unit's `juju-status`; `workload-status` kept `since`, as the
    /// 4.0.0 output quoted in juju/juju PR #21281 ("fix: set Since field on statuses on
    /// caas provisioning", merged 2025-11-20, "Fixes #21261") also shows. So a 4.0.0
    /// document is derived from our 3.6 one; subordinate units are left as they are
    /// since the issue does not show one.
    fn without_unit_agent_since(mut doc: Value) -> Value {
        for app in doc["applications"]
            .as_object_mut()
            .expect("applications")
            .values_mut()
        {
            if let Some(units) = app.get_mut("units").and_then(Value::as_object_mut) {
                for unit in units.values_mut() {
                    unit["juju-status"]
                        .as_object_mut()
                        .expect("juju-status")
                        .remove("since");
                }
            }
        }
        doc
    }

    /// Case 3: juju 4.0.0 dropping `since` from units' agent status (issue #21261, a
    /// regression fixed by PR #21281, not a designed change).
    #[test]
    fn juju_40_unit_agent_status_without_since() {
        let v36 = load(JUJU_36);
        let v40 = without_unit_agent_since(v36.clone());
        let changes = diff(
            &shape(&v36, JUJU_STATUS_WILDCARDS),
            &shape(&v40, JUJU_STATUS_WILDCARDS),
        );
        assert_eq!(
            changes,
            vec![Change::Removed {
                path: "applications.<app>.units.<unit>.juju-status.since".into(),
                types: set(&[Str]),
                leaves: strings(&["applications.<app>.units.<unit>.juju-status.since"]),
            }]
        );
        // The gates: only the one declaring an agent-status `since` is affected.
        let declared: &[(&str, &[&str])] = &[
            (
                "applications.<app>.units.<unit>.workload-status.current",
                &["P02-E"],
            ),
            (
                "applications.<app>.units.<unit>.workload-status.since",
                &["P00-TEARDOWN"],
            ),
            (
                "applications.<app>.units.<unit>.juju-status.since",
                &["P00-TEARDOWN"],
            ),
            (
                "applications.<app>.units.<unit>.juju-status.current",
                &["P02-E"],
            ),
        ];
        let hit = affected(&changes, declared);
        assert_eq!(
            hit,
            BTreeMap::from([(
                "P00-TEARDOWN".to_string(),
                BTreeSet::from(["applications.<app>.units.<unit>.juju-status.since".to_string()])
            )])
        );
        // Had the whole agent-status object gone, its declared leaves would be hit
        // through their ancestor.
        let gone = vec![Change::Removed {
            path: "applications.<app>.units.<unit>.juju-status".into(),
            types: set(&[Object]),
            leaves: vec![],
        }];
        assert_eq!(
            affected(&gone, declared).keys().collect::<Vec<_>>(),
            ["P00-TEARDOWN", "P02-E"]
        );
    }

    // python-openstackclient before and after c44f26eb7e41c28bb13ef9bd31c8ddda9e638862
    // ("Use cliff formattable columns in network commands", 2017-05-03, first released
    // in 4.0.0). Keys: the `columns` of TestShowSubnet / TestShowNetwork in
    // openstackclient/tests/unit/network/v2/test_subnet.py and test_network.py, the same
    // before and after. Values: before, what that commit's parent's `_formatters` print
    // (`_format_allocation_pools` "start-end" joined by ",", osc_lib `format_list` sorted
    // and joined by ", ", `_format_admin_state` "UP"/"DOWN", `_format_router_external`
    // "External"/"Internal"); after, the raw values the formattable columns hand to
    // cliff's JSON formatter (`machine_readable()`). The subnet and network are the
    // stackgate testcloud's provider-ext / provider-ext-fip (no upstream recording of
    // OSC 3.x `-f json` output was found).
    const OSC3_SUBNET: &str = include_str!("../tests/data/drift/osc-3.x-subnet-show.json");
    const OSC4_SUBNET: &str = include_str!("../tests/data/drift/osc-4.0-subnet-show.json");
    const OSC3_NETWORK: &str = include_str!("../tests/data/drift/osc-3.x-network-show.json");
    const OSC4_NETWORK: &str = include_str!("../tests/data/drift/osc-4.0-network-show.json");

    fn retyped(path: &str, old: &[JsonType], new: &[JsonType], added_below: &[&str]) -> Change {
        Change::TypeChanged {
            path: path.into(),
            old: set(old),
            new: set(new),
            added_below: strings(added_below),
            removed_below: vec![],
        }
    }

    /// Case 4: OSC < 4.0 vs >= 4.0 `subnet show -f json` and `network show -f json`.
    #[test]
    fn osc_40_native_json_types() {
        let subnet = diff(
            &shape(&load(OSC3_SUBNET), &[]),
            &shape(&load(OSC4_SUBNET), &[]),
        );
        assert_eq!(
            subnet,
            vec![
                retyped(
                    "allocation_pools",
                    &[Str],
                    &[Array],
                    &["allocation_pools[].end", "allocation_pools[].start"]
                ),
                retyped("dns_nameservers", &[Str], &[Array], &[]),
                retyped("host_routes", &[Str], &[Array], &[]),
                retyped("service_types", &[Str], &[Array], &[]),
                retyped("tags", &[Str], &[Array], &["tags[]"]),
            ]
        );
        let network = diff(
            &shape(&load(OSC3_NETWORK), &[]),
            &shape(&load(OSC4_NETWORK), &[]),
        );
        assert_eq!(
            network,
            vec![
                retyped("admin_state_up", &[Str], &[Bool], &[]),
                retyped("availability_zone_hints", &[Str], &[Array], &[]),
                retyped("availability_zones", &[Str], &[Array], &[]),
                retyped("router:external", &[Str], &[Bool], &[]),
                retyped("subnets", &[Str], &[Array], &["subnets[]"]),
                retyped("tags", &[Str], &[Array], &["tags[]"]),
            ]
        );
        assert_eq!(network[3].to_string(), "~ router:external: string -> bool");
        assert_eq!(
            network[4].to_string(),
            "~ subnets: string -> array (+1 leaf below)"
        );
        assert_eq!(
            subnet[0].to_string(),
            "~ allocation_pools: string -> array (+2 leaves below)"
        );

        // The phase-04 gate's subnet keys (stackgate src/sources/openstack.rs
        // GATE_KEY_PATHS, `subnet show:`): the pools and tags changed type, the rest did
        // not.
        let declared: &[(&str, &[&str])] = &[
            ("network_id", &["P04-POST"]),
            ("cidr", &["P04-POST"]),
            ("gateway_ip", &["P04-POST"]),
            ("enable_dhcp", &["P04-POST"]),
            ("allocation_pools", &["P04-POST"]),
            ("tags", &["P04-POST"]),
        ];
        assert_eq!(
            affected(&subnet, declared),
            BTreeMap::from([(
                "P04-POST".to_string(),
                BTreeSet::from(["allocation_pools".to_string(), "tags".to_string()])
            )])
        );
        let declared_net: &[(&str, &[&str])] = &[
            ("router:external", &["P04-POST"]),
            ("provider:network_type", &["P04-POST"]),
            ("shared", &["P04-POST"]),
        ];
        assert_eq!(
            affected(&network, declared_net)["P04-POST"],
            BTreeSet::from(["router:external".to_string()])
        );
    }

    // `maas <profile> machines read` per MAAS release, composed: one machine, our
    // openstack0 (system_id w7e3kq, Ready; phase00-ready-carved/maas-machines-read.json),
    // cut to its boot interface enp7s0, the br-metal bridge on it and its boot disk vda,
    // nested objects cut to a few keys. Its top-level keys are exactly each release
    // branch's DISPLAYED_MACHINE_FIELDS (canonical/maas src/maasserver/api/machines.py;
    // 3.5 at 051f4f00, 3.6 at 9a064563, 3.7 at 362c9ab8, master at 08f65b9c) plus
    // resource_uri, less `constraints_by_type` (only `allocate` sets it). `pod` is what
    // MachineHandler.pod returns for a machine whose BMC is a pod ({id, name,
    // resource_uri}); the testcloud registers no VM host, so here its libvirt host is
    // the virsh KVM host "jumphost" (pod 1) and openstack0 its VM 1. The 3.8 branch
    // (a90cdf26, 3.8.0b6) has the same machine fields as 3.7.
    const MAAS_35: &str = include_str!("../tests/data/drift/maas-3.5-machines-read.json");
    const MAAS_36: &str = include_str!("../tests/data/drift/maas-3.6-machines-read.json");
    const MAAS_37: &str = include_str!("../tests/data/drift/maas-3.7-machines-read.json");
    const MAAS_MASTER: &str =
        include_str!("../tests/data/drift/maas-master-08f65b9c-machines-read.json");

    fn maas_diff(old: &str, new: &str) -> Vec<Change> {
        diff(
            &shape(&load(old), MAAS_MACHINES_WILDCARDS),
            &shape(&load(new), MAAS_MACHINES_WILDCARDS),
        )
    }

    fn added_leaf(path: &str, types: &[JsonType]) -> Change {
        Change::Added {
            path: path.into(),
            types: set(types),
            leaves: strings(&[path]),
        }
    }

    /// Case 5: MAAS 3.6 added `enable_kernel_crash_dump` (9df35d09, 2024-09-30, "feat:
    /// add ability to deploy machines with kernel crash dump collection enabled", first
    /// tagged 3.6.0), 3.7 added `is_dpu` (6b65bbc1, 2025-03-20, "feat(maasserver): Add
    /// `is_dpu` field to Node class", first tagged 3.7.0-beta1), and master after the 3.8
    /// branch point dropped `pod` and `virtualmachine_id` (08f65b9c, 2026-07-30, "chore:
    /// remove KVM/VM host (pods) support (#511)"; not on the 3.8 branch).
    #[test]
    fn maas_machines_read_fields_by_release() {
        assert_eq!(
            maas_diff(MAAS_35, MAAS_36),
            vec![added_leaf("[].enable_kernel_crash_dump", &[Bool])]
        );
        assert_eq!(
            maas_diff(MAAS_36, MAAS_37),
            vec![added_leaf("[].is_dpu", &[Bool])]
        );
        assert_eq!(
            maas_diff(MAAS_35, MAAS_37),
            vec![
                added_leaf("[].enable_kernel_crash_dump", &[Bool]),
                added_leaf("[].is_dpu", &[Bool])
            ]
        );
        let dropped = maas_diff(MAAS_37, MAAS_MASTER);
        assert_eq!(
            dropped,
            vec![
                Change::Removed {
                    path: "[].pod".into(),
                    types: set(&[Object]),
                    leaves: strings(&["[].pod.id", "[].pod.name", "[].pod.resource_uri"]),
                },
                Change::Removed {
                    path: "[].virtualmachine_id".into(),
                    types: set(&[Number]),
                    leaves: strings(&["[].virtualmachine_id"]),
                },
            ]
        );
        // stackgate's MAAS gates read none of these keys.
        let declared: &[(&str, &[&str])] = &[
            ("[].hostname", &["P00-REENROLL"]),
            ("[].system_id", &["P00-REENROLL"]),
            ("[].status_name", &["P00-REENROLL", "P01-NODES"]),
            ("[].power_state", &["P00-REENROLL"]),
            ("[].tag_names", &["P01-NODES"]),
        ];
        for changes in [&dropped, &maas_diff(MAAS_35, MAAS_37)] {
            assert!(affected(changes, declared).is_empty());
        }
        // A gate reading the pod is.
        let hit = affected(&dropped, &[("[].pod.name", &["X-POD"])]);
        assert_eq!(hit["X-POD"], BTreeSet::from(["[].pod.name".to_string()]));
    }

    // canonical/maas 8bd46208587bdbad79603ae70a6150553796a475 ("Implement remaining
    // changes defined in the 2.0 API spec", 2016-02-23) renamed the machine fields
    // substatus_action, substatus_message, substatus_name to status_action,
    // status_message, status_name, and added macaddress_set and node_type_name
    // (DISPLAYED_MACHINE_FIELDS in src/maasserver/api/machines.py, before and after).
    // One-machine documents with exactly the keys of that commit's parent / of that
    // commit (constraint_map and constraints_by_type left out, allocate-only; plus
    // resource_uri), composed from our openstack0: interface_set entries carry the
    // nested tuple given there, boot_interface is {mac_address} and hostname the FQDN as
    // that era's handlers return them, other nested objects cut to a few keys;
    // substatus_* hold our status_* values.
    const MAAS_20_BEFORE: &str =
        include_str!("../tests/data/drift/maas-2.0-before-8bd46208-machines-read.json");
    const MAAS_20_AFTER: &str =
        include_str!("../tests/data/drift/maas-2.0-8bd46208-machines-read.json");

    /// Case 6: a real rename. Three string keys went and four string keys came under
    /// the same parent, so structure alone cannot pair them; the names do.
    #[test]
    fn maas_20_substatus_renamed_status() {
        let changes = maas_diff(MAAS_20_BEFORE, MAAS_20_AFTER);
        let renamed = |from: &str, to: &str| Change::Renamed {
            from: from.into(),
            to: to.into(),
            types: set(&[Str]),
            leaves: strings(&[to]),
            basis: RenameBasis::StructureAndName,
        };
        assert_eq!(
            changes,
            vec![
                Change::Added {
                    path: "[].macaddress_set".into(),
                    types: set(&[Array]),
                    leaves: strings(&["[].macaddress_set[].mac_address"]),
                },
                added_leaf("[].node_type_name", &[Str]),
                renamed("[].substatus_action", "[].status_action"),
                renamed("[].substatus_message", "[].status_message"),
                renamed("[].substatus_name", "[].status_name"),
            ],
            "{changes:#?}"
        );
        assert_eq!(
            changes[4].to_string(),
            "> [].substatus_name -> [].status_name (string)"
        );
        // A gate declared on the old name is affected; so is one declared on the new.
        let declared: &[(&str, &[&str])] = &[
            ("[].substatus_name", &["OLD"]),
            ("[].status_name", &["NEW"]),
            ("[].hostname", &["H"]),
        ];
        let hit = affected(&changes, declared);
        assert_eq!(hit.keys().collect::<Vec<_>>(), ["NEW", "OLD"]);
    }

    /// The structural rule alone: juju/juju cmd/juju/status/formatted.go at 95f1fea0
    /// (1.25: `unitStatus.AgentStatusInfo` tagged `agent-status`, plus the legacy
    /// `agent-state`, `agent-version`) and at 001fa6d6 (2.x: `JujuStatusInfo` tagged
    /// `juju-status`, and `leader`). A unit object each side, with those tags (values
    /// from our testcloud's keystone/0, phase02-pre-vault/juju-status.json). One object
    /// went and one came with the same structure: a rename, while the legacy strings are
    /// plain removals.
    #[test]
    fn juju_unit_agent_status_renamed_juju_status() {
        let old = json!({"workload-status": {"current": "active", "since": "26 Jun 2026 19:24:00Z"},
            "agent-status": {"current": "idle", "since": "27 Jun 2026 13:58:46Z", "version": "3.6.14"},
            "agent-state": "started", "agent-version": "3.6.14", "machine": "0/lxd/3", "public-address": "10.12.12.104"});
        let new = json!({"workload-status": {"current": "active", "since": "26 Jun 2026 19:24:00Z"},
            "juju-status": {"current": "idle", "since": "27 Jun 2026 13:58:46Z", "version": "3.6.14"},
            "leader": true, "machine": "0/lxd/3", "public-address": "10.12.12.104"});
        let changes = diff(&shape(&old, &[]), &shape(&new, &[]));
        assert_eq!(
            changes,
            vec![
                Change::Removed {
                    path: "agent-state".into(),
                    types: set(&[Str]),
                    leaves: strings(&["agent-state"])
                },
                Change::Renamed {
                    from: "agent-status".into(),
                    to: "juju-status".into(),
                    types: set(&[Object]),
                    leaves: strings(&[
                        "juju-status.current",
                        "juju-status.since",
                        "juju-status.version"
                    ]),
                    basis: RenameBasis::Structure,
                },
                Change::Removed {
                    path: "agent-version".into(),
                    types: set(&[Str]),
                    leaves: strings(&["agent-version"])
                },
                added_leaf("leader", &[Bool]),
            ]
        );
        let declared: &[(&str, &[&str])] = &[
            ("agent-status.current", &["G"]),
            ("workload-status.current", &["W"]),
        ];
        let im = impacts(&changes, declared);
        assert_eq!(im.len(), 1);
        assert_eq!((im[0].change, im[0].relation), (1, Relation::Ancestor));
    }

    /// Case 7: same shape, whatever the order of keys or the names in wildcard maps.
    #[test]
    fn no_drift_without_a_schema_change() {
        let v36 = load(JUJU_36);
        assert!(
            diff(
                &shape(&v36, JUJU_STATUS_WILDCARDS),
                &shape(&v36, JUJU_STATUS_WILDCARDS)
            )
            .is_empty()
        );

        fn reversed(v: &Value) -> Value {
            match v {
                Value::Object(m) => Value::Object(
                    m.iter()
                        .rev()
                        .map(|(k, v)| (k.clone(), reversed(v)))
                        .collect(),
                ),
                Value::Array(a) => Value::Array(a.iter().map(reversed).collect()),
                other => other.clone(),
            }
        }
        let r = reversed(&v36);
        assert_ne!(
            serde_json::to_string(&r).ok(),
            serde_json::to_string(&v36).ok()
        );
        assert!(
            diff(
                &shape(&v36, JUJU_STATUS_WILDCARDS),
                &shape(&r, JUJU_STATUS_WILDCARDS)
            )
            .is_empty()
        );

        // Other application, unit and machine names.
        let renamed = serde_json::to_string(&v36)
            .expect("serialises")
            .replace("keystone", "glance")
            .replace("mysql-innodb-cluster", "percona-cluster")
            .replace("\"0\"", "\"7\"")
            .replace("0/lxd/", "7/lxd/")
            .replace("br-internal", "br-ex")
            .replace("eth0", "enp5s0");
        let renamed = load(&renamed);
        assert_ne!(renamed, v36);
        assert!(
            diff(
                &shape(&v36, JUJU_STATUS_WILDCARDS),
                &shape(&renamed, JUJU_STATUS_WILDCARDS)
            )
            .is_empty()
        );
        // Without the wildcards those names are keys, and they differ.
        assert!(!diff(&shape(&v36, &[]), &shape(&renamed, &[])).is_empty());
    }

    /// Every id- or name-keyed map of the juju documents folds.
    #[test]
    fn juju_wildcards_fold_every_name() {
        for doc in [JUJU_29, JUJU_36, HAND_29, HAND_3X] {
            let s = shape(&load(doc), JUJU_STATUS_WILDCARDS);
            for path in s.paths.keys() {
                for step in parse(path) {
                    if let Step::Key(k) = step {
                        assert!(
                            !k.contains('/')
                                && k.parse::<u64>().is_err()
                                && !k.contains("mysql")
                                && !k.contains("keystone")
                                && !k.starts_with("br-")
                                && !k.starts_with("eth")
                                && !k.starts_with("enp"),
                            "unfolded name {k:?} in {path}"
                        );
                    }
                }
            }
        }
    }

    /// Shapes of several documents merge: a key seen in one is in the union, and a
    /// path with different types in different units holds both.
    #[test]
    fn merged_shapes_and_diff_values() {
        let a = json!({"units": {"u/0": {"leader": true, "x": "s"}}});
        let b = json!({"units": {"u/1": {"x": {"y": 1}}}});
        let w = ["units.<unit>"];
        let merged = Shape::of_all(&[a.clone(), b.clone()], &w);
        assert_eq!(merged.paths["units.<unit>.x"], set(&[Object, Str]));
        assert!(merged.paths.contains_key("units.<unit>.leader"));
        let mut m = shape(&a, &w);
        m.merge(&shape(&b, &w));
        assert_eq!(m, merged);

        let changes = diff_values(&[a], &[b], &w);
        assert_eq!(
            changes,
            vec![
                Change::Removed {
                    path: "units.<unit>.leader".into(),
                    types: set(&[Bool]),
                    leaves: strings(&["units.<unit>.leader"]),
                },
                retyped("units.<unit>.x", &[Str], &[Object], &["units.<unit>.x.y"]),
            ]
        );
        // Across several documents at once: both 2.9 documents against the 3.6 one.
        let many = diff_values(
            &[load(JUJU_29), load(HAND_29)],
            &[load(JUJU_36)],
            JUJU_STATUS_WILDCARDS,
        );
        assert!(many.iter().any(|c| matches!(c, Change::TypeChanged { path, .. } if path == "applications.<app>.relations.<endpoint>[]")));
    }

    #[test]
    fn nullability_only_and_ambiguous_renames() {
        assert!(retyped("x", &[Null], &[Object], &[]).is_nullability_only());
        assert!(retyped("x", &[Str], &[Null, Str], &[]).is_nullability_only());
        assert!(!retyped("x", &[Str], &[Array], &[]).is_nullability_only());
        // Two strings out, two strings in, names unrelated: no rename guessed.
        let old = json!({"alpha": "a", "beta": "b"});
        let new = json!({"gamma": "c", "delta": "d"});
        let changes = diff(&shape(&old, &[]), &shape(&new, &[]));
        assert_eq!(changes.len(), 4);
        assert!(changes.iter().all(|c| !matches!(c, Change::Renamed { .. })));
        // An object out and a string in: different structure, no rename.
        let changes = diff(
            &shape(&json!({"series": "jammy"}), &[]),
            &shape(&json!({"base": {"name": "ubuntu"}}), &[]),
        );
        assert_eq!(changes.len(), 2);
    }

    #[test]
    fn replacement_and_inside_relations() {
        let old = json!({"apps": {"a": {"series": "jammy", "relations": {"db": ["b"]}}}});
        let new = json!({"apps": {"a": {"base": {"name": "ubuntu", "channel": "22.04"}, "relations": {"db": [{"related-application": "b"}]}}}});
        let w = ["apps.<app>", "apps.<app>.relations.<endpoint>"];
        let changes = diff(&shape(&old, &w), &shape(&new, &w));
        let declared: &[(&str, &[&str])] = &[
            ("apps.<x>.series", &["S"]),
            ("apps.<x>.relations.<endpoint>", &["R"]),
        ];
        let im = impacts(&changes, declared);
        let rel: Vec<(&str, &str, Relation)> = im
            .iter()
            .map(|i| (i.gate.as_str(), changes[i.change].path(), i.relation))
            .collect();
        assert_eq!(
            rel,
            [
                ("R", "apps.<app>.relations.<endpoint>[]", Relation::Inside),
                ("S", "apps.<app>.base", Relation::Replacement),
                ("S", "apps.<app>.series", Relation::Exact),
            ]
        );
        assert_eq!(
            affected(&changes, declared).keys().collect::<Vec<_>>(),
            ["S"]
        );
        // Serialised for `--format json`.
        let text = serde_json::to_string(&changes[0]).expect("serialises");
        assert!(
            text.starts_with(
                "{\"change\":\"added\",\"path\":\"apps.<app>.base\",\"types\":[\"object\"]"
            ),
            "{text}"
        );
    }
}

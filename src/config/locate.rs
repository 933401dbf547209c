//! Where things are in a deck's text, so that every error can name the line
//! of the key it is about, and serde's messages can be said in a user's words.
//!
//! [`Locator`] scans the TOML text line by line: table headers (`[system]`,
//! `[output]`, `[[stage]]`), `key = value` assignments and the keys of inline
//! tables (`snapshot = { file = "x", every = 5 }`). Keys are recorded by
//! their dotted path (`neighbor.skin`, `output.snapshot.file`); keys of the
//! k-th `[[stage]]` table are kept per stage. This is a locator, not a
//! parser: the deck is parsed by toml/serde, and a key the scanner cannot
//! place falls back to its table's header line.
//!
//! To add a friendlier wording of a serde message, extend [`friendly`].

use std::collections::BTreeMap;

#[derive(Debug, Default, Clone)]
pub struct Locator {
    /// Dotted key (or table) path → 1-based line.
    keys: BTreeMap<String, usize>,
    /// Per `[[stage]]` table: its header line and its keys.
    stages: Vec<(usize, BTreeMap<String, usize>)>,
    /// The first line after each stage's body (the next header or EOF + 1).
    stage_ends: Vec<usize>,
}

/// The key assigned on a line (`key = value`), if any.
pub fn key_on_line(line: &str) -> Option<&str> {
    let t = line.trim_start();
    if t.starts_with('[') || t.starts_with('#') {
        return None;
    }
    let (k, _) = t.split_once('=')?;
    let k = k.trim().trim_matches('"');
    (!k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))).then_some(k)
}

/// The keys of an inline table on a line: every `name =` inside `{ }`.
fn inline_keys(line: &str) -> Vec<&str> {
    let Some(open) = line.find('{') else { return Vec::new() };
    let body = &line[open + 1..];
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut in_str = false;
    let mut start = 0;
    for (i, c) in body.char_indices() {
        match c {
            '"' => in_str = !in_str,
            '[' | '{' if !in_str => depth += 1,
            ']' | '}' if !in_str => depth -= 1,
            '=' if !in_str && depth == 0 => {
                let k = body[start..i].trim().trim_start_matches(',').trim();
                if !k.is_empty() {
                    out.push(k);
                }
            }
            ',' if !in_str && depth == 0 => start = i + 1,
            _ => {}
        }
        if depth < 0 {
            break;
        }
    }
    out
}

impl Locator {
    pub fn new(text: &str) -> Locator {
        let mut loc = Locator::default();
        let mut prefix = String::new();
        let mut in_stage = false;
        // Keys of a stage's sub-table (`[[stage.fix]]`) are `fix[j].key`.
        let mut stage_prefix = String::new();
        let mut arrays: BTreeMap<String, usize> = BTreeMap::new();
        let mut sub_arrays: BTreeMap<String, usize> = BTreeMap::new();
        for (k, raw) in text.lines().enumerate() {
            let line = k + 1;
            let t = raw.trim();
            if let Some(name) = t.strip_prefix("[[").and_then(|r| r.split("]]").next()) {
                let name = name.trim();
                if let (true, Some(sub)) = (in_stage, name.strip_prefix("stage.")) {
                    let n = sub_arrays.entry(sub.to_string()).or_insert(0);
                    stage_prefix = format!("{}[{}]", sub, n);
                    *n += 1;
                    if let Some((_, m)) = loc.stages.last_mut() {
                        m.entry(stage_prefix.clone()).or_insert(line);
                    }
                    continue;
                }
                if in_stage {
                    loc.stage_ends.push(line);
                }
                in_stage = name == "stage";
                stage_prefix.clear();
                if in_stage {
                    loc.stages.push((line, BTreeMap::new()));
                    sub_arrays.clear();
                    prefix = name.to_string();
                } else {
                    // Other arrays of tables (`[[group]]`): `group[k].key`.
                    let n = arrays.entry(name.to_string()).or_insert(0);
                    prefix = format!("{}[{}]", name, n);
                    *n += 1;
                    loc.keys.entry(prefix.clone()).or_insert(line);
                }
                continue;
            }
            if let Some(name) = t.strip_prefix('[').and_then(|r| r.split(']').next()) {
                if in_stage {
                    loc.stage_ends.push(line);
                }
                in_stage = false;
                prefix = name.trim().to_string();
                loc.keys.entry(prefix.clone()).or_insert(line);
                continue;
            }
            let Some(key) = key_on_line(raw) else { continue };
            let mut found = vec![key.to_string()];
            found.extend(inline_keys(raw.split_once('=').map(|x| x.1).unwrap_or("")).iter().map(|s| format!("{}.{}", key, s)));
            for f in found {
                if in_stage {
                    let f = if stage_prefix.is_empty() { f } else { format!("{}.{}", stage_prefix, f) };
                    if let Some((_, m)) = loc.stages.last_mut() {
                        m.entry(f).or_insert(line);
                    }
                } else {
                    let full = if prefix.is_empty() { f } else { format!("{}.{}", prefix, f) };
                    loc.keys.entry(full).or_insert(line);
                }
            }
        }
        if in_stage {
            loc.stage_ends.push(text.lines().count() + 1);
        }
        loc
    }

    /// Line of a dotted key outside the stages (`neighbor.skin`), else of
    /// the nearest enclosing table or key (`output.snapshot.file` →
    /// `output.snapshot` → `output`).
    pub fn line(&self, key: &str) -> Option<usize> {
        let mut k = key;
        loop {
            if let Some(&l) = self.keys.get(k) {
                return Some(l);
            }
            k = k.rsplit_once('.')?.0;
        }
    }

    /// The dotted key assigned on `line` (outside the stages), or the table
    /// a header line opens.
    pub fn key_at(&self, line: usize) -> Option<&str> {
        self.keys.iter().find(|(_, &l)| l == line).map(|(k, _)| k.as_str())
    }

    /// Line of `key` in stage `index` (0-based), else the stage's header.
    pub fn stage_line(&self, index: usize, key: Option<&str>) -> Option<usize> {
        let (head, keys) = self.stages.get(index)?;
        let mut k = key;
        while let Some(kk) = k {
            if let Some(&l) = keys.get(kk) {
                return Some(l);
            }
            k = kk.rsplit_once('.').map(|x| x.0);
        }
        Some(*head)
    }

    /// The stage (0-based) whose table holds `line`.
    pub fn stage_at(&self, line: usize) -> Option<usize> {
        self.stages.iter().enumerate().position(|(k, (head, _))| line >= *head && self.stage_ends.get(k).is_some_and(|&e| line < e))
    }

    /// Header line and end (exclusive) of stage `index`.
    pub fn stage_span(&self, index: usize) -> Option<(usize, usize)> {
        Some((self.stages.get(index)?.0, *self.stage_ends.get(index)?))
    }

    pub fn stage_count(&self) -> usize {
        self.stages.len()
    }
}

/// What a key wants, in words, for type errors (`expected u64` → `expected a
/// whole number of steps`).
fn wanted(key: &str, ty: &str) -> Option<String> {
    let leaf = key.rsplit('.').next().unwrap_or(key);
    let whole = |what: &str| Some(format!("a whole number of {} (0 or more)", what));
    match (leaf, ty) {
        ("steps" | "every" | "sort_every", _) => whole("steps"),
        ("max_iterations", _) => whole("iterations"),
        ("seed" | "seed_stride", _) => Some("a whole number (0 or more) to seed the random numbers".into()),
        ("count", _) => whole("samples"),
        ("atoms", _) => whole("atoms"),
        ("compression", _) => Some("a whole number 0-9 (the deflate level)".into()),
        ("min_points", _) => whole("points"),
        ("stage", _) => Some("a stage number (1-based)".into()),
        ("replicate" | "cells", _) => Some("three whole numbers [nx, ny, nz]".into()),
        (_, "u64" | "usize" | "u32" | "u8" | "i64" | "i32") => Some("a whole number (0 or more)".into()),
        (_, "f64") => Some("a number".into()),
        (_, "a boolean") => Some("true or false".into()),
        (_, "a string") => Some("a quoted string".into()),
        _ => None,
    }
}

/// Rewrite a serde/toml message about `key` in a user's words: Rust type
/// names become what the key means, untagged enums say which forms they
/// take. Messages it does not recognise pass through.
pub fn friendly(msg: &str, key: Option<&str>) -> String {
    let msg = msg.replace('\n', " ");
    let msg = msg.trim_end_matches('.').trim().to_string();
    let leaf = key.map(|k| k.rsplit('.').next().unwrap_or(k)).unwrap_or("");
    if msg.starts_with("invalid string") || (msg.starts_with("invalid basic string") && msg.contains("expected")) {
        return "expected a value: a number, true or false, or text in quotes".into();
    }
    if msg.contains("untagged enum Target") {
        return "expected a number or a ramp [start, stop]".into();
    }
    // "unknown variant `x`, expected one of `a`, `b`" (a serde enum key).
    if let Some(rest) = msg.strip_prefix("unknown variant `") {
        if let Some((got, expected)) = rest.split_once("`, expected one of ") {
            return format!("unknown value '{}' (expected {})", got, expected.replace('`', ""));
        }
        if let Some((got, expected)) = rest.split_once("`, expected ") {
            return format!("unknown value '{}' (expected {})", got, expected.replace('`', ""));
        }
    }
    if msg.contains("untagged enum Component") {
        return "expected force components [fx, fy, fz]: numbers in eV/A, or \"NULL\" to leave one alone".into();
    }
    if msg.contains("untagged enum PressureSpec") {
        return "expected a pressure in GPa: a number, a ramp [start, stop], or a table { x = .., y = .., z = .. }".into();
    }
    // "invalid type: floating point `1.5`, expected u64"
    // "invalid value: integer `-5`, expected u64"
    if let Some((head, ty)) = msg.rsplit_once(", expected ") {
        let got = head.split_once(": ").map(|x| x.1).unwrap_or(head);
        if let Some(w) = wanted(key.unwrap_or(""), ty.trim()) {
            return format!("expected {}, got {}", w, got);
        }
    }
    if leaf.is_empty() {
        msg
    } else {
        msg.replace("expected u64", "expected a whole number (0 or more)").replace("expected f64", "expected a number")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DECK: &str = "[system]\nread_data = \"x.data\"\n\n[neighbor]\nskin = 1.0\n[output]\nsnapshot = { file = \"t.h5\", every = 10 }\n[[stage]]\nkind = \"velocity\"\ntemperature = 300\n[[stage]]\nkind = \"nve\"\nsteps = 5\n";

    #[test]
    fn finds_keys_tables_and_stages() {
        let l = Locator::new(DECK);
        assert_eq!(l.line("system.read_data"), Some(2));
        assert_eq!(l.line("neighbor.skin"), Some(5));
        assert_eq!(l.line("neighbor.sort_every"), Some(4));
        assert_eq!(l.line("output.snapshot.every"), Some(7));
        assert_eq!(l.stage_count(), 2);
        assert_eq!(l.stage_line(1, Some("steps")), Some(13));
        assert_eq!(l.stage_line(1, Some("timestep")), Some(11));
        assert_eq!(l.stage_at(12), Some(1));
        assert_eq!(l.stage_at(9), Some(0));
        assert_eq!(l.stage_at(3), None);
    }

    #[test]
    fn says_types_in_words() {
        assert_eq!(friendly("invalid type: floating point `1.5`, expected u64", Some("steps")), "expected a whole number of steps (0 or more), got floating point `1.5`");
        assert_eq!(friendly("invalid type: string \"a\", expected f64", Some("skin")), "expected a number, got string \"a\"");
    }
}

//! Deck form of groups (`[[group]]`) — see `crate::system::group`.
//!
//! ```toml
//! [[group]]
//! name = "base"
//! region = { z = [-inf, 5.0] }     # Å; absent axes unbounded
//! [[group]]
//! name = "mobile"
//! not = "base"
//! ```
//!
//! Exactly one selector per group: `types`, `ids`, `region` (a block of
//! per-axis ranges, or a sphere `{ center = [..], radius = .. }`), `not`,
//! `and` or `or` (of groups defined above it, or `all`).

use crate::system::group::{Region, Rule, MAX_GROUPS};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSpec {
    pub name: String,
    /// LAMMPS types (1-based).
    #[serde(default)]
    pub types: Option<Vec<u32>>,
    /// An id range [lo, hi], inclusive.
    #[serde(default)]
    pub ids: Option<[u64; 2]>,
    #[serde(default)]
    pub region: Option<RegionSpec>,
    #[serde(default)]
    pub not: Option<String>,
    #[serde(default)]
    pub and: Option<Vec<String>>,
    #[serde(default)]
    pub or: Option<Vec<String>>,
}

/// A block (`x`, `y`, `z` ranges, Å, `inf`/`-inf` allowed) or a sphere.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionSpec {
    #[serde(default)]
    pub x: Option<[f64; 2]>,
    #[serde(default)]
    pub y: Option<[f64; 2]>,
    #[serde(default)]
    pub z: Option<[f64; 2]>,
    #[serde(default)]
    pub center: Option<[f64; 3]>,
    #[serde(default)]
    pub radius: Option<f64>,
}

/// Group names usable in thermo column names and file names.
fn name_ok(n: &str) -> bool {
    !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Turn the deck's groups into rules, checking every one: (index of the
/// group, key, message) of the first problem. `ntypes` is checked later,
/// when the system is known.
pub fn rules(specs: &[GroupSpec]) -> Result<Vec<(String, Rule)>, (usize, &'static str, String)> {
    let mut out: Vec<(String, Rule)> = Vec::new();
    if specs.len() > MAX_GROUPS {
        return Err((MAX_GROUPS, "name", format!("at most {} groups (besides all), got {}", MAX_GROUPS, specs.len())));
    }
    for (k, g) in specs.iter().enumerate() {
        let err = |key: &'static str, m: String| Err((k, key, m));
        if !name_ok(&g.name) {
            return err("name", format!("group name '{}' must be letters, digits, _ or -", g.name));
        }
        if g.name == "all" {
            return err("name", "'all' is the group of every atom; choose another name".into());
        }
        if out.iter().any(|(n, _)| n == &g.name) {
            return err("name", format!("group '{}' is defined twice", g.name));
        }
        let refer = |key: &'static str, n: &str| -> Result<Option<usize>, (usize, &'static str, String)> {
            if n == "all" {
                return Ok(None);
            }
            match out.iter().position(|(m, _)| m == n) {
                Some(j) => Ok(Some(j)),
                None => {
                    let known: Vec<&str> = std::iter::once("all").chain(out.iter().map(|(m, _)| m.as_str())).collect();
                    Err((k, key, format!("unknown group '{}' (defined above: {})", n, known.join(", "))))
                }
            }
        };
        let given = [g.types.is_some(), g.ids.is_some(), g.region.is_some(), g.not.is_some(), g.and.is_some(), g.or.is_some()];
        if given.iter().filter(|&&x| x).count() != 1 {
            return err("name", format!("group '{}' needs exactly one of types, ids, region, not, and, or", g.name));
        }
        for (key, list) in [("and", &g.and), ("or", &g.or)] {
            if list.as_ref().is_some_and(|a| a.is_empty()) {
                return err(key, "names no group".into());
            }
        }
        let rule = if let Some(t) = &g.types {
            if t.is_empty() || t.contains(&0) {
                return err("types", format!("types must list LAMMPS atom types (1, 2, ...), got {:?}", t));
            }
            Rule::Types(t.iter().map(|&x| x - 1).collect())
        } else if let Some([lo, hi]) = g.ids {
            if lo == 0 || lo > hi {
                return err("ids", format!("ids = [{}, {}] must be an id range [lo, hi] with 1 <= lo <= hi", lo, hi));
            }
            Rule::Ids(lo, hi)
        } else if let Some(r) = &g.region {
            Rule::Region(region(r).map_err(|(key, m)| (k, key, m))?)
        } else if let Some(n) = &g.not {
            Rule::Not(refer("not", n)?)
        } else if let Some(a) = &g.and {
            Rule::And(a.iter().map(|n| refer("and", n)).collect::<Result<_, _>>()?)
        } else if let Some(a) = &g.or {
            Rule::Or(a.iter().map(|n| refer("or", n)).collect::<Result<_, _>>()?)
        } else {
            unreachable!("one selector was checked above")
        };
        out.push((g.name.clone(), rule));
    }
    Ok(out)
}

fn region(r: &RegionSpec) -> Result<Region, (&'static str, String)> {
    let block = r.x.is_some() || r.y.is_some() || r.z.is_some();
    let sphere = r.center.is_some() || r.radius.is_some();
    match (block, sphere) {
        (true, true) => Err(("region", "give per-axis ranges (a block) or center and radius (a sphere), not both".into())),
        (false, false) => Err(("region", "give per-axis ranges { z = [lo, hi] } or a sphere { center = [x, y, z], radius = r }".into())),
        (true, false) => {
            let (mut lo, mut hi) = ([f64::NEG_INFINITY; 3], [f64::INFINITY; 3]);
            for (d, (key, range)) in [("region.x", r.x), ("region.y", r.y), ("region.z", r.z)].into_iter().enumerate() {
                if let Some([a, b]) = range {
                    if a.is_nan() || b.is_nan() {
                        return Err((key, "a range must be numbers (inf and -inf allowed)".into()));
                    }
                    if !(a < b) {
                        return Err((key, format!("the range [{}, {}] is empty: give [lo, hi] with lo < hi", a, b)));
                    }
                    lo[d] = a;
                    hi[d] = b;
                }
            }
            Ok(Region::Block { lo, hi })
        }
        (false, true) => match (r.center, r.radius) {
            (Some(c), Some(rad)) => {
                if c.iter().any(|v| !v.is_finite()) {
                    return Err(("region.center", format!("center {:?} must be finite", c)));
                }
                if !(rad > 0.0 && rad.is_finite()) {
                    return Err(("region.radius", format!("radius must be > 0 A and finite, got {}", rad)));
                }
                Ok(Region::Sphere { center: c, radius: rad })
            }
            _ => Err(("region", "a sphere needs both center = [x, y, z] and radius".into())),
        },
    }
}

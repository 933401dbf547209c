//! Groups: named sets of atoms (LAMMPS `group`).
//!
//! Membership is decided once, when the groups are defined at the start of
//! a run, from each atom's type, id, or position (a [`Region`], in box
//! coordinates of the wrapped position, boundaries included as in LAMMPS
//! `region block`/`sphere` `side in`), or by set operations on groups
//! defined before it. It is stored as one bit per group in the persistent
//! per-atom column `"mask"`, so it follows the atoms through sorting,
//! migration and checkpoints on any rank count (LAMMPS `atom->mask`). The
//! implicit group `all` has no bit.
//!
//! Code that acts on a group takes a [`Sel`] (a bit) and asks
//! [`Members`] per atom. To add a way of selecting atoms: a variant of
//! [`Rule`], its test in [`Groups::define`], and its deck form in
//! `config::group`.

use super::{Atoms, Columns};

/// Name of the per-atom column holding group bits.
pub const MASK_COLUMN: &str = "mask";
/// Most groups a deck may define (bits of the mask; `all` needs none).
pub const MAX_GROUPS: usize = 32;

/// A region of space, Å.
#[derive(Clone, Debug, PartialEq)]
pub enum Region {
    /// Per-axis closed ranges; an axis without bounds is (−∞, ∞).
    Block { lo: [f64; 3], hi: [f64; 3] },
    Sphere { center: [f64; 3], radius: f64 },
}

impl Region {
    /// Is `x` inside (boundary included, as LAMMPS `Region::match`)?
    pub fn contains(&self, x: &[f64; 3]) -> bool {
        match self {
            Region::Block { lo, hi } => (0..3).all(|d| x[d] >= lo[d] && x[d] <= hi[d]),
            Region::Sphere { center, radius } => {
                let r2: f64 = (0..3).map(|d| (x[d] - center[d]).powi(2)).sum();
                r2 <= radius * radius
            }
        }
    }
}

/// How a group selects atoms. Set operations refer to groups by index in
/// definition order (`None`: the group `all`).
#[derive(Clone, Debug)]
pub enum Rule {
    /// 0-based types.
    Types(Vec<u32>),
    /// Ids in `[lo, hi]`.
    Ids(u64, u64),
    Region(Region),
    Not(Option<usize>),
    And(Vec<Option<usize>>),
    Or(Vec<Option<usize>>),
}

/// A group as code uses it: its bit in the mask (0 for `all`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Sel(pub u64);

impl Sel {
    pub const ALL: Sel = Sel(0);
    pub fn is_all(self) -> bool {
        self.0 == 0
    }
}

/// Membership test for owned atoms, borrowed from the columns.
pub struct Members<'a> {
    data: &'a [f64],
    width: usize,
    offset: usize,
    bit: u64,
}

impl<'a> Members<'a> {
    pub fn new(cols: &'a Columns, sel: Sel) -> Members<'a> {
        match (sel.0, cols.find(MASK_COLUMN)) {
            (0, _) | (_, None) => Members { data: &[], width: 0, offset: 0, bit: 0 },
            (bit, Some(c)) => Members { data: &cols.data, width: cols.width(), offset: c.offset, bit },
        }
    }
    #[inline]
    pub fn has(&self, i: usize) -> bool {
        self.bit == 0 || (self.data[i * self.width + self.offset] as u64) & self.bit != 0
    }
}

/// The groups of a run, by name.
#[derive(Clone, Debug, Default)]
pub struct Groups {
    names: Vec<String>,
}

impl Groups {
    /// Define groups on this rank's owned atoms, in order (collective only
    /// in that every rank does the same). Declares the mask column.
    pub fn define(atoms: &mut Atoms, defs: &[(String, Rule)]) -> Groups {
        let g = Groups { names: defs.iter().map(|d| d.0.clone()).collect() };
        if defs.is_empty() {
            return g;
        }
        let col = match atoms.declare_column(MASK_COLUMN, 1, true) {
            Ok(c) => c,
            Err(_) => return g,
        };
        let bit = |k: Option<usize>| k.map_or(0, |k| 1u64 << k);
        for i in 0..atoms.nlocal {
            let mut mask = 0u64;
            let has = |mask: u64, k: Option<usize>| k.is_none() || mask & bit(k) != 0;
            for (k, (_, rule)) in defs.iter().enumerate() {
                let inside = match rule {
                    Rule::Types(t) => t.contains(&atoms.typ[i]),
                    Rule::Ids(lo, hi) => (*lo..=*hi).contains(&atoms.id[i]),
                    Rule::Region(r) => r.contains(&atoms.x[i]),
                    Rule::Not(a) => !has(mask, *a),
                    Rule::And(a) => a.iter().all(|&j| has(mask, j)),
                    Rule::Or(a) => a.iter().any(|&j| has(mask, j)),
                };
                if inside {
                    mask |= 1 << k;
                }
            }
            atoms.col_mut(col, i)[0] = mask as f64;
        }
        g
    }
    /// The groups of a run restarted from a checkpoint: the masks came with
    /// the atoms.
    pub fn attach(names: Vec<String>) -> Groups {
        Groups { names }
    }
    pub fn names(&self) -> &[String] {
        &self.names
    }
    /// The group called `name` (`all` included).
    pub fn sel(&self, name: &str) -> Option<Sel> {
        if name == "all" {
            return Some(Sel::ALL);
        }
        self.names.iter().position(|n| n == name).map(|k| Sel(1 << k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_and_set_operations() {
        let mut a = Atoms::default();
        for k in 0..10u64 {
            a.push_owned(k + 1, (k % 2) as u32, [k as f64, 0.0, 0.0], [0.0; 3], [0; 3]);
        }
        let inf = f64::INFINITY;
        let defs = vec![
            ("low".to_string(), Rule::Region(Region::Block { lo: [-inf, -inf, -inf], hi: [4.0, inf, inf] })),
            ("odd_type".to_string(), Rule::Types(vec![1])),
            ("high".to_string(), Rule::Not(Some(0))),
            ("both".to_string(), Rule::And(vec![Some(0), Some(1)])),
            ("ids".to_string(), Rule::Ids(3, 5)),
            ("ball".to_string(), Rule::Region(Region::Sphere { center: [9.0, 0.0, 0.0], radius: 1.0 })),
        ];
        let g = Groups::define(&mut a, &defs);
        let ids = |name: &str| -> Vec<u64> {
            let m = Members::new(&a.cols, g.sel(name).unwrap());
            (0..a.nlocal).filter(|&i| m.has(i)).map(|i| a.id[i]).collect()
        };
        assert_eq!(ids("low"), vec![1, 2, 3, 4, 5]);
        assert_eq!(ids("high"), vec![6, 7, 8, 9, 10]);
        assert_eq!(ids("both"), vec![2, 4]);
        assert_eq!(ids("ids"), vec![3, 4, 5]);
        assert_eq!(ids("ball"), vec![9, 10]);
        assert_eq!(ids("all").len(), 10);
        assert!(g.sel("nope").is_none());
    }
}

//! Named per-atom columns that follow their atoms (LAMMPS `Atom::add_custom`,
//! the per-atom store of `fix store/state` and `compute msd`).
//!
//! A column is declared by name with a width (values per atom) and whether it
//! *persists*. Every column travels with its atom through spatial sorting
//! ([`crate::system::Atoms::permute`]) and migration between ranks (packed
//! after the atom's fixed fields in `domain::halo`). Persistent columns are
//! also written to checkpoints and restored on any rank count, matched by
//! atom id; scratch columns (a minimiser's search direction) are not.
//!
//! Storage is one row-major block of `width()` values per owned atom, so
//! packing an atom for migration is one slice copy. Ghosts carry no columns.
//!
//! Users today: group masks (`"mask"`, persistent, see `system::group`) and
//! the minimisers' x0/g/h vectors (`"minimize"`, scratch). To add one:
//! `atoms.declare_column(name, width, persistent)` returns a [`Col`] handle;
//! read and write with `atoms.col(c, i)` / `atoms.col_mut(c, i)`.

/// One declared column.
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnSpec {
    pub name: String,
    pub width: usize,
    pub persistent: bool,
    /// First value of this column within an atom's row.
    pub offset: usize,
}

/// Where a column lives in an atom's row (valid until a column is removed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Col {
    pub offset: usize,
    pub width: usize,
}

/// The columns of one rank's owned atoms.
#[derive(Clone, Debug, Default)]
pub struct Columns {
    specs: Vec<ColumnSpec>,
    width: usize,
    /// `rows × width` values, row-major.
    pub(crate) data: Vec<f64>,
}

impl Columns {
    /// Values per atom over all columns.
    pub fn width(&self) -> usize {
        self.width
    }
    pub fn specs(&self) -> &[ColumnSpec] {
        &self.specs
    }
    pub fn find(&self, name: &str) -> Option<Col> {
        self.specs.iter().find(|s| s.name == name).map(|s| Col { offset: s.offset, width: s.width })
    }
    /// Declare a column for `rows` atoms (values zero). Declaring an existing
    /// name with the same width and persistence returns it unchanged (its
    /// values are kept); with another width it is an error.
    pub fn declare(&mut self, name: &str, width: usize, persistent: bool, rows: usize) -> Result<Col, String> {
        if let Some(s) = self.specs.iter().find(|s| s.name == name) {
            if s.width != width || s.persistent != persistent {
                return Err(format!("per-atom column '{}' exists with width {} (persistent: {})", name, s.width, s.persistent));
            }
            return Ok(Col { offset: s.offset, width });
        }
        let (old_w, new_w) = (self.width, self.width + width);
        let old = std::mem::take(&mut self.data);
        self.data.reserve(rows * new_w);
        for r in 0..rows {
            self.data.extend_from_slice(&old[r * old_w..(r + 1) * old_w]);
            self.data.extend(std::iter::repeat_n(0.0, width));
        }
        self.specs.push(ColumnSpec { name: name.to_string(), width, persistent, offset: old_w });
        self.width = new_w;
        Ok(Col { offset: old_w, width })
    }
    /// Remove a column (others keep their values; their offsets shift).
    pub fn remove(&mut self, name: &str, rows: usize) {
        let Some(k) = self.specs.iter().position(|s| s.name == name) else { return };
        let s = self.specs.remove(k);
        let old_w = self.width;
        let old = std::mem::take(&mut self.data);
        for r in 0..rows {
            let row = &old[r * old_w..(r + 1) * old_w];
            self.data.extend_from_slice(&row[..s.offset]);
            self.data.extend_from_slice(&row[s.offset + s.width..]);
        }
        self.width -= s.width;
        for t in &mut self.specs[k..] {
            t.offset -= s.width;
        }
    }
    pub fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.width..(i + 1) * self.width]
    }
    pub fn row_mut(&mut self, i: usize) -> &mut [f64] {
        let w = self.width;
        &mut self.data[i * w..(i + 1) * w]
    }
    pub fn get(&self, c: Col, i: usize) -> &[f64] {
        let s = i * self.width + c.offset;
        &self.data[s..s + c.width]
    }
    pub fn get_mut(&mut self, c: Col, i: usize) -> &mut [f64] {
        let s = i * self.width + c.offset;
        &mut self.data[s..s + c.width]
    }
    /// Names and widths of the persistent columns, in row order.
    pub fn persistent(&self) -> Vec<(String, usize)> {
        self.specs.iter().filter(|s| s.persistent).map(|s| (s.name.clone(), s.width)).collect()
    }
    /// Values per atom of the persistent columns.
    pub fn persistent_width(&self) -> usize {
        self.specs.iter().filter(|s| s.persistent).map(|s| s.width).sum()
    }
    /// Append atom `i`'s persistent values to `out`.
    pub fn save_persistent(&self, i: usize, out: &mut Vec<f64>) {
        let row = self.row(i);
        for s in self.specs.iter().filter(|s| s.persistent) {
            out.extend_from_slice(&row[s.offset..s.offset + s.width]);
        }
    }
    /// Set atom `i`'s persistent values from `vals` (as written by
    /// [`Columns::save_persistent`]).
    pub fn load_persistent(&mut self, i: usize, vals: &[f64]) {
        let w = self.width;
        let mut k = 0;
        for s in self.specs.iter().filter(|s| s.persistent) {
            self.data[i * w + s.offset..i * w + s.offset + s.width].copy_from_slice(&vals[k..k + s.width]);
            k += s.width;
        }
    }
    pub(crate) fn push_zero(&mut self) {
        self.data.extend(std::iter::repeat_n(0.0, self.width));
    }
    pub(crate) fn swap_remove(&mut self, i: usize, rows: usize) {
        let w = self.width;
        if w == 0 {
            return;
        }
        let last = rows - 1;
        if i != last {
            let (a, b) = self.data.split_at_mut(last * w);
            a[i * w..(i + 1) * w].copy_from_slice(&b[..w]);
        }
        self.data.truncate(last * w);
    }
    pub(crate) fn permute(&mut self, perm: &[usize]) {
        let w = self.width;
        if w == 0 {
            return;
        }
        let old = std::mem::take(&mut self.data);
        self.data.extend(perm.iter().flat_map(|&k| old[k * w..(k + 1) * w].iter().copied()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declare_remove_keep_other_values() {
        let mut c = Columns::default();
        let a = c.declare("a", 2, true, 0).unwrap();
        for i in 0..3 {
            c.push_zero();
            c.get_mut(a, i).copy_from_slice(&[i as f64, 10.0 + i as f64]);
        }
        let b = c.declare("b", 3, false, 3).unwrap();
        c.get_mut(b, 1)[2] = 7.0;
        assert_eq!(c.get(a, 2), &[2.0, 12.0]);
        let d = c.declare("d", 1, true, 3).unwrap();
        c.get_mut(d, 0)[0] = 5.0;
        c.remove("b", 3);
        let (a, d) = (c.find("a").unwrap(), c.find("d").unwrap());
        assert_eq!(c.width(), 3);
        assert_eq!(c.get(a, 1), &[1.0, 11.0]);
        assert_eq!(c.get(d, 0), &[5.0]);
        let mut out = Vec::new();
        c.save_persistent(0, &mut out);
        assert_eq!(out, vec![0.0, 10.0, 5.0]);
        c.permute(&[2, 0, 1]);
        assert_eq!(c.get(a, 0), &[2.0, 12.0]);
        c.swap_remove(0, 3);
        assert_eq!(c.get(a, 0), &[1.0, 11.0]);
        assert!(c.declare("a", 3, true, 2).is_err());
    }
}

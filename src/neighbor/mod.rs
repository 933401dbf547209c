//! Cell binning and Verlet neighbor lists with a skin.
//!
//! The list is a *half* list in LAMMPS's `newton on` sense: every pair within
//! `cut + skin` is stored once, on the owned atom `i`, with `j` either an owned
//! atom of higher index or a ghost that lies "above" `i` (greater z, then y,
//! then x; LAMMPS `npair_half_bin_newton`). Ghost pairs are therefore split
//! between the two ranks that see them, by a rule that depends only on
//! coordinates, so no pair is lost or doubled whatever the decomposition.
//! Forces on ghosts are summed back to their owners by reverse communication.
//!
//! Binning uses cells of about half the list cutoff and a stencil of all
//! cells whose nearest corners are closer than the cutoff, walked as rows
//! along x (one contiguous run of binned atoms per row). The list is split
//! into contiguous chunks of owned atoms, one per worker thread; each chunk is
//! independent, so builds and force loops run chunk-parallel under rayon.
//! To add a full list (for a potential that wants gathers only), add a
//! criterion variant here; the chunk layout stays the same.
//!
//! **Compact storage** (`[neighbor] compact = true`): each atom's ascending
//! indices are stored as LEB128 varints — the first as the zigzag of
//! j − i, the rest as gaps j_k − j_{k−1} ≥ 1. Atoms are binned in x-fastest
//! rows and sorted spatially, so most gaps are a few atoms (one byte), a
//! jump to the next stencil row a few hundred (two bytes) and one to the
//! next plane three bytes: ~1.2 bytes a pair instead of 4. Readers call
//! [`ChunkList::get`], which decodes into a caller's buffer; the decoded
//! indices are the plain list's, in its order, so forces are bit-identical.

use rayon::prelude::*;

/// Neighbors of a contiguous range of owned atoms, CSR layout.
#[derive(Clone, Debug, Default)]
pub struct ChunkList {
    pub start: usize,
    pub end: usize,
    /// `offsets[k]..offsets[k+1]` indexes `neigh` (or, compact, `packed`)
    /// for atom `start + k`.
    offsets: Vec<u32>,
    neigh: Vec<u32>,
    /// The compact list's varint bytes (empty for a plain list).
    packed: Vec<u8>,
    compact: bool,
    /// One more than the largest neighbor index stored (0 if none). The
    /// kernels check it once per chunk against the atom count instead of
    /// checking every index they load; the fields are private so that
    /// only `build` writes the indices and this bound.
    bound: usize,
    /// Pairs stored (either layout).
    pub npairs: usize,
}

impl ChunkList {
    /// One more than the largest neighbor index in the chunk (0 if none):
    /// every index `get` or `of` returns is below it.
    pub fn bound(&self) -> usize {
        self.bound
    }

    /// Atom i's neighbors of a plain list (panics on a compact one: use
    /// [`ChunkList::get`]).
    #[inline(always)]
    pub fn of(&self, i: usize) -> &[u32] {
        assert!(!self.compact, "a compact neighbor list is read with ChunkList::get");
        let k = i - self.start;
        &self.neigh[self.offsets[k] as usize..self.offsets[k + 1] as usize]
    }

    /// Atom i's neighbors in either layout: the plain list's slice, or the
    /// compact list decoded into `buf`.
    #[inline(always)]
    pub fn get<'a>(&'a self, i: usize, buf: &'a mut Vec<u32>) -> &'a [u32] {
        let k = i - self.start;
        let (a, b) = (self.offsets[k] as usize, self.offsets[k + 1] as usize);
        if !self.compact {
            return &self.neigh[a..b];
        }
        decode(&self.packed[a..b], i, buf);
        &buf[..]
    }
}

/// Append `v` as an LEB128 varint (7 bits a byte, low first; the high bit
/// says another byte follows).
#[inline(always)]
fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Append atom i's ascending neighbor indices in the compact form.
fn encode(js: &[u32], i: usize, out: &mut Vec<u8>) {
    let mut prev = 0u32;
    for (k, &j) in js.iter().enumerate() {
        if k == 0 {
            let d = j as i64 - i as i64;
            put_varint(out, ((d << 1) ^ (d >> 63)) as u64);
        } else {
            debug_assert!(j > prev);
            put_varint(out, (j - prev) as u64);
        }
        prev = j;
    }
}

/// Decode atom i's compact bytes into `out` (cleared first).
#[inline(always)]
fn decode(bytes: &[u8], i: usize, out: &mut Vec<u32>) {
    out.clear();
    // At most one index per byte.
    out.reserve(bytes.len());
    let dst = out.as_mut_ptr();
    let (mut pos, mut n) = (0usize, 0usize);
    let mut j = 0i64;
    while pos < bytes.len() {
        // SAFETY: pos < len is checked before every byte read.
        let mut b = unsafe { *bytes.get_unchecked(pos) };
        pos += 1;
        let mut v = (b & 0x7f) as u64;
        let mut shift = 7;
        while b & 0x80 != 0 {
            assert!(pos < bytes.len() && shift < 64, "corrupt compact neighbor list");
            b = unsafe { *bytes.get_unchecked(pos) };
            pos += 1;
            v |= ((b & 0x7f) as u64) << shift;
            shift += 7;
        }
        j = if n == 0 { i as i64 + ((v >> 1) as i64 ^ -((v & 1) as i64)) } else { j + v as i64 };
        // SAFETY: n < bytes.len() <= capacity.
        unsafe { dst.add(n).write(j as u32) };
        n += 1;
    }
    unsafe { out.set_len(n) };
}

#[derive(Clone, Debug, Default)]
pub struct NeighborList {
    pub chunks: Vec<ChunkList>,
    /// Number of builds so far.
    pub builds: u64,
}

impl NeighborList {
    pub fn pairs(&self) -> usize {
        self.chunks.iter().map(|c| c.npairs).sum()
    }
}

/// A regular grid of cells over a bounding box, with atoms counting-sorted by cell.
pub struct Bins {
    lo: [f64; 3],
    inv: [f64; 3],
    pub n: [usize; 3],
    size: [f64; 3],
    /// Atoms of cell c are `atoms[start[c]..start[c+1]]`.
    start: Vec<u32>,
    atoms: Vec<u32>,
}

impl Bins {
    /// Bin `x` with cells of about `binsize`.
    pub fn new(x: &[[f64; 3]], binsize: f64) -> Bins {
        let mut lo = [f64::INFINITY; 3];
        let mut hi = [f64::NEG_INFINITY; 3];
        for p in x {
            for d in 0..3 {
                lo[d] = lo[d].min(p[d]);
                hi[d] = hi[d].max(p[d]);
            }
        }
        if x.is_empty() {
            lo = [0.0; 3];
            hi = [0.0; 3];
        }
        let mut n = [1usize; 3];
        let mut size = [binsize; 3];
        let mut inv = [0.0; 3];
        let mut ext = [0.0; 3];
        for d in 0..3 {
            // A rank with no atoms, or all atoms in one plane, still gets
            // cells of a sane size (at least `binsize`).
            ext[d] = (hi[d] - lo[d]).max(binsize).max(1e-12);
            if !ext[d].is_finite() {
                ext[d] = binsize.max(1e-12);
            }
            n[d] = ((ext[d] / binsize).floor() as usize).clamp(1, 1 << 10);
        }
        // Cap the cell count near the atom count, so a sparse extent (a slab
        // with vacuum, a few atoms far apart) cannot exhaust memory: coarser
        // cells only lengthen the distance checks, never miss a pair.
        let cap = (4 * x.len()).max(4096) as f64;
        let total = (n[0] * n[1] * n[2]) as f64;
        if total > cap {
            let shrink = (total / cap).cbrt();
            for k in &mut n {
                *k = ((*k as f64 / shrink).floor() as usize).max(1);
            }
        }
        for d in 0..3 {
            size[d] = ext[d] / n[d] as f64;
            inv[d] = n[d] as f64 / ext[d];
        }
        let mut b = Bins { lo, inv, n, size, start: vec![0; n[0] * n[1] * n[2] + 1], atoms: vec![0; x.len()] };
        let cell: Vec<u32> = x.iter().map(|p| b.cell_of(p) as u32).collect();
        for &c in &cell {
            b.start[c as usize + 1] += 1;
        }
        for c in 0..b.start.len() - 1 {
            b.start[c + 1] += b.start[c];
        }
        let mut fill = b.start.clone();
        for (i, &c) in cell.iter().enumerate() {
            b.atoms[fill[c as usize] as usize] = i as u32;
            fill[c as usize] += 1;
        }
        b
    }
    #[inline]
    fn coord(&self, p: &[f64; 3]) -> [usize; 3] {
        let mut c = [0usize; 3];
        for d in 0..3 {
            let k = ((p[d] - self.lo[d]) * self.inv[d]) as isize;
            c[d] = k.clamp(0, self.n[d] as isize - 1) as usize;
        }
        c
    }
    #[inline]
    pub fn cell_of(&self, p: &[f64; 3]) -> usize {
        let c = self.coord(p);
        (c[2] * self.n[1] + c[1]) * self.n[0] + c[0]
    }
    /// Cells of the 3-D stencil within `cut` of a cell, as coordinate offsets.
    fn stencil(&self, cut: f64) -> Vec<[isize; 3]> {
        // Offsets beyond the grid's own extent reach no cell (bins do not
        // wrap: periodic images are explicit ghosts), so the reach is capped
        // at n − 1 cells; this also keeps a tiny cell from making a huge stencil.
        let s: Vec<isize> = (0..3).map(|d| ((cut / self.size[d]).ceil() as isize).clamp(0, self.n[d] as isize - 1)).collect();
        let mut out = Vec::new();
        for dz in -s[2]..=s[2] {
            for dy in -s[1]..=s[1] {
                for dx in -s[0]..=s[0] {
                    let dist2: f64 = [dx, dy, dz]
                        .iter()
                        .zip(self.size.iter())
                        .map(|(&k, &w)| {
                            let g = (k.abs() - 1).max(0) as f64 * w;
                            g * g
                        })
                        .sum();
                    if dist2 < cut * cut {
                        out.push([dx, dy, dz]);
                    }
                }
            }
        }
        out
    }
}

/// Is ghost `xj` "above" `xi` in LAMMPS's newton-on ordering (z, then y, then x)?
#[inline(always)]
fn ghost_above(xi: &[f64; 3], xj: &[f64; 3]) -> bool {
    if xj[2] != xi[2] {
        return xj[2] > xi[2];
    }
    if xj[1] != xi[1] {
        return xj[1] > xi[1];
    }
    xj[0] >= xi[0]
}

/// Split `0..n` into `k` contiguous nearly equal ranges.
pub fn split_range(n: usize, k: usize) -> Vec<(usize, usize)> {
    let k = k.max(1);
    (0..k).map(|c| (c * n / k, (c + 1) * n / k)).collect()
}

/// Build the half list for owned atoms `0..nlocal` of `x` (owned then ghosts)
/// with list cutoff `cutneigh`, in `nchunks` chunks.
/// `compact`: store it as varint gaps (module docs).
pub fn build_half(x: &[[f64; 3]], nlocal: usize, cutneigh: f64, nchunks: usize, compact: bool, list: &mut NeighborList) {
    build::<false>(x, nlocal, cutneigh, nchunks, compact, list)
}

/// Build a full list: every atom (owned or ghost, periodic images of the
/// atom itself included) within `cut` of each owned atom, for computes
/// that gather over all neighbors (coordination, Voronoi, order
/// parameters).
pub fn build_full(x: &[[f64; 3]], nlocal: usize, cut: f64, nchunks: usize, list: &mut NeighborList) {
    build::<true>(x, nlocal, cut, nchunks, false, list)
}

/// The stencil as rows along x: (dy, dz, reach in x). A row's cells are
/// consecutive in the binned order, so one row is one contiguous run of
/// binned atoms, scanned without a per-cell loop (5× fewer cell visits
/// at half-cutoff cells).
fn stencil_rows(stencil: &[[isize; 3]]) -> Vec<(isize, isize, isize)> {
    let mut rows: Vec<(isize, isize, isize)> = Vec::new();
    for s in stencil {
        match rows.iter_mut().find(|r| r.0 == s[1] && r.1 == s[2]) {
            Some(r) => r.2 = r.2.max(s[0].abs()),
            None => rows.push((s[1], s[2], s[0].abs())),
        }
    }
    rows
}

fn build<const FULL: bool>(x: &[[f64; 3]], nlocal: usize, cutneigh: f64, nchunks: usize, compact: bool, list: &mut NeighborList) {
    let bins = Bins::new(x, 0.5 * cutneigh);
    // The stencil is symmetric and whole in x for each (dy, dz): a cell
    // (dx, dy, dz) is in it iff |dx| is within the row's reach.
    let rows = stencil_rows(&bins.stencil(cutneigh));
    // Positions in binned order: a row's candidates are read in sequence.
    let xs: Vec<[f64; 3]> = bins.atoms.iter().map(|&a| x[a as usize]).collect();
    let [n0, n1, n2] = bins.n.map(|v| v as isize);
    let cutsq = cutneigh * cutneigh;
    let ranges = split_range(nlocal, nchunks);
    list.chunks.resize_with(ranges.len(), ChunkList::default);
    list.chunks.par_iter_mut().zip(ranges.par_iter()).for_each(|(chunk, &(start, end))| {
        chunk.start = start;
        chunk.end = end;
        chunk.offsets.clear();
        chunk.neigh.clear();
        chunk.packed.clear();
        chunk.compact = compact;
        chunk.npairs = 0;
        chunk.bound = 0;
        if compact {
            // The plain list's memory goes back; only the bytes stay.
            chunk.neigh = Vec::new();
        } else {
            chunk.packed = Vec::new();
        }
        chunk.offsets.push(0);
        // A compact list collects one atom's indices here, then packs them.
        let mut one: Vec<u32> = Vec::new();
        for i in start..end {
            let js = if compact { &mut one } else { &mut chunk.neigh };
            let from = if compact { js.clear(); 0 } else { js.len() };
            let xi = x[i];
            let c = bins.coord(&xi).map(|v| v as isize);
            for &(dy, dz, reach) in &rows {
                let (cy, cz) = (c[1] + dy, c[2] + dz);
                if cy < 0 || cy >= n1 || cz < 0 || cz >= n2 {
                    continue;
                }
                let row = (cz * n1 + cy) * n0;
                let first = (row + (c[0] - reach).max(0)) as usize;
                let last = (row + (c[0] + reach).min(n0 - 1)) as usize;
                let (from, to) = (bins.start[first] as usize, bins.start[last + 1] as usize);
                for (&j, xj) in bins.atoms[from..to].iter().zip(&xs[from..to]) {
                    let j = j as usize;
                    let keep = if FULL {
                        j != i
                    } else if j < nlocal {
                        j > i
                    } else {
                        ghost_above(&xi, xj)
                    };
                    if !keep {
                        continue;
                    }
                    let d = [xi[0] - xj[0], xi[1] - xj[1], xi[2] - xj[2]];
                    if d[0] * d[0] + d[1] * d[1] + d[2] * d[2] < cutsq {
                        js.push(j as u32);
                    }
                }
            }
            // Ascending j keeps memory access in the force loop sequential.
            js[from..].sort_unstable();
            chunk.npairs += js.len() - from;
            if let Some(&last) = js[from..].last() {
                chunk.bound = chunk.bound.max(last as usize + 1);
            }
            let end_at = if compact {
                encode(&one, i, &mut chunk.packed);
                chunk.packed.len()
            } else {
                chunk.neigh.len()
            };
            chunk.offsets.push(u32::try_from(end_at).expect("a neighbor-list chunk over 4 GiB: use more threads or ranks"));
        }
    });
    list.builds += 1;
}

/// An order of the owned atoms by spatial cell, for cache locality
/// (LAMMPS `atom_modify sort`). Returns the permutation `new → old`.
pub fn spatial_order(x: &[[f64; 3]], binsize: f64) -> Vec<usize> {
    let bins = Bins::new(x, binsize);
    bins.atoms.iter().map(|&a| a as usize).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Varints of every width, a first neighbor below i (a ghost-free full
    /// list's case) and above it, round-trip to the same indices.
    #[test]
    fn compact_indices_round_trip() {
        let cases: [(usize, Vec<u32>); 4] = [
            (5, vec![0, 1, 4, 6, 7, 200, 20_000, 3_000_000, u32::MAX - 1, u32::MAX]),
            (1_000_000, vec![1_000_001, 1_000_002, 1_000_300]),
            (7, vec![]),
            (u32::MAX as usize, vec![0, 127, 128, 16_383, 16_384]),
        ];
        for (i, js) in cases {
            let mut bytes = Vec::new();
            encode(&js, i, &mut bytes);
            let mut out = vec![99];
            decode(&bytes, i, &mut out);
            assert_eq!(out, js, "i = {i}");
        }
    }

    /// A compact half list holds the plain list's pairs in its order, in
    /// about a third of the bytes, with one chunk or three.
    #[test]
    fn a_compact_list_decodes_to_the_plain_one() {
        // A jittered simple-cubic block of 12³ atoms, 2.5 Å apart, plus a
        // layer of "ghosts" (indices after nlocal) above it.
        let mut x = Vec::new();
        let mut s = 12345u64;
        let mut rnd = || {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        for k in 0..13 {
            for j in 0..12 {
                for i in 0..12 {
                    x.push([2.5 * i as f64 + 0.3 * rnd(), 2.5 * j as f64 + 0.3 * rnd(), 2.5 * k as f64 + 0.3 * rnd()]);
                }
            }
        }
        let nlocal = 12 * 12 * 12;
        for nchunks in [1, 3] {
            let (mut plain, mut packed) = (NeighborList::default(), NeighborList::default());
            build_half(&x, nlocal, 6.5, nchunks, false, &mut plain);
            build_half(&x, nlocal, 6.5, nchunks, true, &mut packed);
            assert_eq!(plain.pairs(), packed.pairs());
            assert!(plain.pairs() > 25 * nlocal, "{}", plain.pairs());
            let mut buf = Vec::new();
            for (c, d) in plain.chunks.iter().zip(&packed.chunks) {
                assert!(d.compact && d.neigh.is_empty() && !c.compact && c.packed.is_empty());
                for i in c.start..c.end {
                    assert_eq!(c.of(i), d.get(i, &mut buf), "atom {i}");
                }
            }
            let per_pair = packed.chunks.iter().map(|c| c.packed.len()).sum::<usize>() as f64 / packed.pairs() as f64;
            assert!(per_pair < 1.6, "{per_pair} bytes a pair");
        }
    }
}

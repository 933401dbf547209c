//! Ghost atoms and migration (LAMMPS `Comm::exchange`, `borders`,
//! `forward_comm`, `reverse_comm`).
//!
//! A [`Halo`] is the list of swaps made at the last reneighboring. Swap k
//! sends the atoms in `send_list` (positions shifted by `pbc` box lengths when the
//! message wraps a periodic axis) to `send_to` and receives `recv_n` ghosts
//! from `recv_from`, stored at `recv_first..`. Later swaps may forward ghosts
//! of earlier swaps (corners, edges, and extra hops for thin subdomains), so
//! forward communication runs the swaps in order and reverse communication
//! in reverse order. Swaps to this rank itself are plain copies.
//!
//! Messages are flat `f64` buffers; integers (ids, types, images) travel as
//! exact small integers in f64. To move a new owned per-atom array with
//! migrating atoms, add it to `pack_atom`/`unpack_atom`.

use super::comm::Comm;
use super::Domain;
use crate::potential::HaloSync;
use crate::system::{Atoms, SimBox};

#[derive(Clone, Debug)]
pub struct Swap {
    pub dim: usize,
    pub send_to: Option<usize>,
    pub recv_from: Option<usize>,
    /// Periodic images to add to sent positions per axis (−1, 0 or +1): the
    /// shift n_x a + n_y b + n_z c is computed from the box at each call,
    /// so it stays right when the box changes shape between reneighborings
    /// (barostats, deformation, tilt).
    pub pbc: [f64; 3],
    pub send_list: Vec<u32>,
    pub recv_first: usize,
    pub recv_n: usize,
}

impl Swap {
    fn to_self(&self, me: usize) -> bool {
        self.send_to == Some(me) && self.recv_from == Some(me)
    }
}

#[derive(Clone, Debug, Default)]
pub struct Halo {
    pub swaps: Vec<Swap>,
}

const TAG_FORWARD: i32 = 1000;
const TAG_REVERSE: i32 = 100_000;
const TAG_EXCHANGE: i32 = 200_000;

impl Halo {
    /// Rebuild ghosts: every atom within `rc[d]` of this subdomain along
    /// each axis d, as owned atoms or periodic images, becomes a ghost.
    /// Positions and `rc` are in decomposition coordinates (fractional for
    /// a triclinic box, where `rc` comes from `SimBox::ghost_cut`). Requires
    /// owned atoms to be inside the subdomain (after `exchange`).
    pub fn borders(atoms: &mut Atoms, dom: &Domain, comm: &dyn Comm, rc: [f64; 3]) -> Halo {
        atoms.clear_ghosts();
        let me = comm.rank();
        let mut swaps = Vec::new();
        for d in 0..3 {
            let p = dom.grid[d];
            // Hops enough for the thinnest slab (balanced cuts differ;
            // every rank computes the same count, so the swaps pair up).
            let width = dom.min_width(d);
            let rc = rc[d];
            let mut need = (rc / width).ceil() as usize;
            if !dom.periodic[d] {
                need = need.min(p - 1);
            }
            if need == 0 {
                continue;
            }
            let base_end = atoms.nall();
            for up in [false, true] {
                let to = dom.neighbor(d, up);
                let from = dom.neighbor(d, !up).map(|(r, _)| r);
                let mut cand = 0..base_end;
                for _hop in 0..need {
                    let mut shift = [0.0; 3];
                    let mut pbc = [0.0; 3];
                    let mut list = Vec::new();
                    if let Some((_, s)) = to {
                        shift[d] = s;
                        pbc[d] = if s > 0.0 { 1.0 } else if s < 0.0 { -1.0 } else { 0.0 };
                        for i in cand.clone() {
                            let xd = atoms.x[i][d];
                            let send = if up { xd >= dom.subhi[d] - rc } else { xd < dom.sublo[d] + rc };
                            if send {
                                list.push(i as u32);
                            }
                        }
                    }
                    let mut buf = Vec::with_capacity(list.len() * 5);
                    for &i in &list {
                        let i = i as usize;
                        let x = atoms.x[i];
                        buf.extend_from_slice(&[x[0] + shift[0], x[1] + shift[1], x[2] + shift[2]]);
                        buf.push(atoms.typ[i] as f64);
                        buf.push(atoms.id[i] as f64);
                    }
                    let sw = Swap {
                        dim: d,
                        send_to: to.map(|(r, _)| r),
                        recv_from: from,
                        pbc,
                        send_list: list,
                        recv_first: atoms.nall(),
                        recv_n: 0,
                    };
                    let recv = if sw.to_self(me) {
                        buf
                    } else {
                        comm.sendrecv(sw.send_to, &buf, sw.recv_from, TAG_FORWARD + swaps.len() as i32)
                    };
                    let first = atoms.nall();
                    for g in recv.chunks_exact(5) {
                        atoms.x.push([g[0], g[1], g[2]]);
                        atoms.typ.push(g[3] as u32);
                        atoms.id.push(g[4] as u64);
                    }
                    let mut sw = sw;
                    sw.recv_n = atoms.nall() - first;
                    swaps.push(sw);
                    cand = first..atoms.nall();
                }
            }
        }
        atoms.f.resize(atoms.nall(), [0.0; 3]);
        Halo { swaps }
    }

    /// Copy owners' values to ghosts, `w` values per atom.
    pub fn forward(&self, comm: &dyn Comm, data: &mut [f64], w: usize) {
        self.forward_impl(comm, data, w, None)
    }

    /// Copy owned positions to ghosts, shifting periodic images by the
    /// current box's edge vectors.
    pub fn forward_positions(&self, comm: &dyn Comm, x: &mut [f64], bx: &SimBox) {
        self.forward_impl(comm, x, 3, Some(bx))
    }

    fn forward_impl(&self, comm: &dyn Comm, data: &mut [f64], w: usize, bx: Option<&SimBox>) {
        let me = comm.rank();
        for (k, sw) in self.swaps.iter().enumerate() {
            let sh = bx.map(|b| b.image_shift(sw.pbc)).unwrap_or([0.0; 3]);
            let shift = |c: usize| if c < 3 { sh[c] } else { 0.0 };
            if sw.to_self(me) {
                for (n, &i) in sw.send_list.iter().enumerate() {
                    let (src, dst) = (i as usize * w, (sw.recv_first + n) * w);
                    for c in 0..w {
                        data[dst + c] = data[src + c] + shift(c);
                    }
                }
                continue;
            }
            let mut buf = Vec::with_capacity(sw.send_list.len() * w);
            for &i in &sw.send_list {
                let src = i as usize * w;
                for c in 0..w {
                    buf.push(data[src + c] + shift(c));
                }
            }
            let got = comm.sendrecv(sw.send_to, &buf, sw.recv_from, TAG_FORWARD + k as i32);
            debug_assert_eq!(got.len(), sw.recv_n * w);
            data[sw.recv_first * w..(sw.recv_first + sw.recv_n) * w].copy_from_slice(&got);
        }
    }

    /// Add ghosts' values onto their owners, `w` values per atom.
    pub fn reverse_sum(&self, comm: &dyn Comm, data: &mut [f64], w: usize) {
        let me = comm.rank();
        for (k, sw) in self.swaps.iter().enumerate().rev() {
            if sw.to_self(me) {
                for (n, &i) in sw.send_list.iter().enumerate() {
                    let (dst, src) = (i as usize * w, (sw.recv_first + n) * w);
                    for c in 0..w {
                        data[dst + c] += data[src + c];
                    }
                }
                continue;
            }
            let buf = data[sw.recv_first * w..(sw.recv_first + sw.recv_n) * w].to_vec();
            let got = comm.sendrecv(sw.recv_from, &buf, sw.send_to, TAG_REVERSE + k as i32);
            debug_assert_eq!(got.len(), sw.send_list.len() * w);
            for (n, &i) in sw.send_list.iter().enumerate() {
                let dst = i as usize * w;
                for c in 0..w {
                    data[dst + c] += got[n * w + c];
                }
            }
        }
    }
}

/// Values per migrating atom before its extra values.
const ATOM_WIDTH: usize = 11;

fn pack_atom(atoms: &Atoms, i: usize, buf: &mut Vec<f64>) {
    let (x, v, im) = (atoms.x[i], atoms.v[i], atoms.image[i]);
    buf.extend_from_slice(&[x[0], x[1], x[2], v[0], v[1], v[2]]);
    buf.extend_from_slice(&[im[0] as f64, im[1] as f64, im[2] as f64, atoms.id[i] as f64, atoms.typ[i] as f64]);
    buf.extend_from_slice(atoms.cols.row(i));
}

fn unpack_atom(atoms: &mut Atoms, g: &[f64]) {
    atoms.push_owned(
        g[9] as u64,
        g[10] as u32,
        [g[0], g[1], g[2]],
        [g[3], g[4], g[5]],
        [g[6] as i32, g[7] as i32, g[8] as i32],
    );
    let i = atoms.nlocal - 1;
    atoms.cols.row_mut(i).copy_from_slice(&g[ATOM_WIDTH..]);
}

/// Move owned atoms that left this subdomain to the rank that owns them
/// (LAMMPS `Comm::exchange`), axis by axis; corner moves take one hop per
/// axis. Positions must already be wrapped into the periodic box, in
/// decomposition coordinates (fractional when the box is triclinic).
///
/// Along an axis of two ranks every leaver belongs to the one neighbor. With
/// more ranks an atom may have to pass several subdomains — after a
/// shrink-wrapped box jumped to the atoms, or through empty subdomains of a
/// slab with vacuum — so leavers travel one rank per round towards their
/// slab (the short way round a periodic axis) until a reduction finds no
/// atom in transit anywhere. In a steady run that is one round and one
/// reduction per axis.
pub fn exchange(atoms: &mut Atoms, dom: &Domain, comm: &dyn Comm) {
    debug_assert_eq!(atoms.nghost(), 0);
    let width = ATOM_WIDTH + atoms.cols.width();
    for d in 0..3 {
        let p = dom.grid[d];
        if p == 1 {
            continue;
        }
        let c = dom.coord[d];
        let down = dom.neighbor(d, false).map(|(r, _)| r);
        let up = dom.neighbor(d, true).map(|(r, _)| r);
        // Does an atom bound for slab `t` go up (else down) the axis?
        let goes_up = |t: usize| {
            if dom.periodic[d] {
                (t + p - c) % p <= p / 2
            } else {
                t > c
            }
        };
        let (mut up_buf, mut down_buf) = (Vec::new(), Vec::new());
        let mut i = 0;
        while i < atoms.nlocal {
            if dom.owns_axis(atoms.x[i][d], d) {
                i += 1;
            } else {
                let t = dom.coord_of(atoms.x[i][d], d);
                pack_atom(atoms, i, if p == 2 || goes_up(t) { &mut up_buf } else { &mut down_buf });
                atoms.swap_remove_owned(i);
            }
        }
        if p == 2 {
            // One neighbor (on both sides when periodic): one message each way.
            let (to, from) = if up.is_some() { (up, up) } else { (down, down) };
            let received = comm.sendrecv(to, &up_buf, from, TAG_EXCHANGE + 2 * d as i32);
            for g in received.chunks_exact(width) {
                unpack_atom(atoms, g);
            }
            continue;
        }
        for round in 0usize.. {
            let tag = TAG_EXCHANGE + 8 * (d as i32 + 1) + 2 * (round as i32 % 2);
            let from_below = comm.sendrecv(up, &up_buf, down, tag);
            let from_above = comm.sendrecv(down, &down_buf, up, tag + 1);
            up_buf.clear();
            down_buf.clear();
            for (received, onward) in [(from_below, &mut up_buf), (from_above, &mut down_buf)] {
                for g in received.chunks_exact(width) {
                    if dom.owns_axis(g[d], d) {
                        unpack_atom(atoms, g);
                    } else {
                        onward.extend_from_slice(g);
                    }
                }
            }
            let in_transit = (up_buf.len() + down_buf.len()) as f64;
            if round + 1 >= p || comm.max_scalar(in_transit) == 0.0 {
                break;
            }
        }
    }
}

/// Move every owned atom to its owner however far away it is (collective):
/// along each axis, atoms step one rank per round towards their slab, for
/// grid − 1 rounds, so any starting distribution settles. Used when atoms
/// arrive in an order unrelated to space (a checkpoint read in equal slices
/// on another rank count); the per-step [`exchange`] moves only one hop.
pub fn redistribute(atoms: &mut Atoms, dom: &Domain, comm: &dyn Comm) {
    debug_assert_eq!(atoms.nghost(), 0);
    let width = ATOM_WIDTH + atoms.cols.width();
    for d in 0..3 {
        let p = dom.grid[d];
        let c = dom.coord[d];
        for round in 0..p.saturating_sub(1) {
            let (mut up_buf, mut down_buf) = (Vec::new(), Vec::new());
            let mut i = 0;
            while i < atoms.nlocal {
                let target = dom.coord_of(atoms.x[i][d], d);
                if target == c {
                    i += 1;
                } else {
                    pack_atom(atoms, i, if target > c { &mut up_buf } else { &mut down_buf });
                    atoms.swap_remove_owned(i);
                }
            }
            // Straight up or down the axis, never around the periodic seam,
            // so the edge ranks send nothing beyond the ends.
            let up = (c + 1 < p).then(|| dom.neighbor(d, true).map(|(r, _)| r)).flatten();
            let down = (c > 0).then(|| dom.neighbor(d, false).map(|(r, _)| r)).flatten();
            let tag = TAG_EXCHANGE + 100 + 4 * (d as i32) + 2 * (round as i32 % 2);
            let mut received = comm.sendrecv(up, &up_buf, down, tag);
            received.extend(comm.sendrecv(down, &down_buf, up, tag + 1));
            for g in received.chunks_exact(width) {
                unpack_atom(atoms, g);
            }
        }
    }
}

/// [`HaloSync`] for a potential: the halo, the communicator and a timer
/// that collects the time spent communicating.
pub struct HaloComm<'a> {
    pub halo: &'a Halo,
    pub comm: &'a dyn Comm,
    pub seconds: &'a mut f64,
}

impl HaloSync for HaloComm<'_> {
    fn forward(&mut self, data: &mut [f64], width: usize) {
        let t = std::time::Instant::now();
        self.halo.forward(self.comm, data, width);
        *self.seconds += t.elapsed().as_secs_f64();
    }
    fn reverse_sum(&mut self, data: &mut [f64], width: usize) {
        let t = std::time::Instant::now();
        self.halo.reverse_sum(self.comm, data, width);
        *self.seconds += t.elapsed().as_secs_f64();
    }
}

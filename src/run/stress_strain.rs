//! The stress–strain report of a `deform` stage: `stress_strain.csv` (one
//! row per thermo row of the stage) and its entry in `results.json`.
//!
//! The loading component is the one with the largest |rate|. Its
//! engineering strain is ε = R t (exactly L/L0 − 1 for a normal axis under
//! `erate`, the shear γ = Δtilt/L0' for a tilt, flips included), the true
//! strain ln(1 + ε). Stresses are σ = −P in GPa (tension positive).
//! Analysis works on magnitudes s = sign·σ, e = sign·ε (sign −1 for
//! compression, stated as `sign` in the results):
//!
//! - `modulus_gpa`: least-squares slope of s against e over
//!   `modulus_strain` (default [0, 0.01]): Young's modulus for a normal
//!   component, the shear modulus for a tilt;
//! - `yield_stress_gpa`, `yield_strain`: the 0.2 %-offset yield point, where
//!   s(e) falls below the line E (e − 0.002) + s0 (s0 the fit's intercept)
//!   for good, interpolated linearly: the last crossing from above, since
//!   thermal noise of a small sample (±0.2 GPa at 4,000 atoms) crosses the
//!   line back and forth while the response is still elastic;
//! - `peak_stress_gpa`, `peak_strain`;
//! - `flow_stress_gpa`: the mean of s over `flow_strain` (default
//!   [0.10, 0.20]); NaN where the stage did not reach the window.

use crate::fix::deform::Motion;
use crate::io::thermo::Thermo;
use crate::units::BAR_PER_GPA;

pub const COLUMNS: &str = "step,time,strain,true_strain,sxx,syy,szz,sxy,sxz,syz,temperature,pe_per_atom,lx,ly,lz,xy,xz,yz";

/// The loading of a running deform stage.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Loading {
    /// Component 0..6: x, y, z, xy, xz, yz.
    pub component: usize,
    /// Its engineering rate, 1/ps.
    pub rate: f64,
    /// Time when the stage began, ps.
    pub t0: f64,
    pub rows: Vec<[f64; 18]>,
    /// For a component that does not follow `erate`: its start value (a
    /// length or a tilt) and the start length that scales it; the strain
    /// is then read from the box, (value − v0)/l0.
    #[serde(default)]
    pub reference: Option<[f64; 2]>,
    /// Record every this many steps instead of at thermo rows (a cyclic
    /// stage samples its loops on its own clock).
    #[serde(default)]
    pub every: Option<u64>,
    /// Atoms of the system (volume per atom of a cycle).
    #[serde(default)]
    pub natoms: u64,
}

impl Loading {
    /// The record of a stage that begins now with these component motions
    /// (x y z xy xz yz), with its first row. The
    /// loading component is the fastest: the largest |rate|, a final
    /// value's mean rate, a waveform's amplitude over a quarter period.
    pub fn start(eng: &crate::engine::Engine, motions: &[Option<Motion>; 6], every: Option<u64>) -> Loading {
        let bx = &eng.bx;
        let l0 = |k: usize| if k < 3 { bx.length(k) } else { bx.length(crate::system::TILTS[k - 3].2) };
        let v0 = |k: usize| if k < 3 { bx.length(k) } else { bx.tilt[k - 3] };
        let rate = |k: usize| match motions[k] {
            None => 0.0,
            Some(Motion::Erate(r)) | Some(Motion::Trate(r)) => r,
            Some(Motion::Final { value, duration }) => (value - v0(k)) / (l0(k) * duration),
            Some(Motion::Wave(w)) => (w.amplitude.abs() + w.mean.abs()) * 4.0 / w.period,
        };
        let component = (0..6).max_by(|&a, &b| rate(a).abs().total_cmp(&rate(b).abs())).unwrap_or(2);
        let reference = match motions[component] {
            Some(Motion::Erate(_)) => None,
            _ => Some([v0(component), l0(component)]),
        };
        let mut l = Loading { component, rate: rate(component), t0: eng.time, rows: Vec::new(), reference, every, natoms: eng.natoms };
        l.record(&eng.thermo(), eng.natoms);
        l
    }

    /// Record a thermo row of the stage.
    pub fn record(&mut self, t: &Thermo, natoms: u64) {
        let e = match self.reference {
            None => self.rate * (t.time - self.t0),
            Some([v0, l0]) => {
                let v = if self.component < 3 { t.lengths[self.component] } else { t.tilt[self.component - 3] };
                (v - v0) / l0
            }
        };
        let s = |k: usize| -t.ptensor[k] / BAR_PER_GPA;
        self.rows.push([
            t.step as f64,
            t.time,
            e,
            (1.0 + e).ln(),
            s(0),
            s(1),
            s(2),
            s(3),
            s(4),
            s(5),
            t.temperature,
            t.pe / natoms.max(1) as f64,
            t.lengths[0],
            t.lengths[1],
            t.lengths[2],
            t.tilt[0],
            t.tilt[1],
            t.tilt[2],
        ]);
    }

    /// Stress of the loading component in a row (thermo tensor order
    /// xx yy zz xy xz yz).
    pub fn stress(&self, r: &[f64; 18]) -> f64 {
        r[4 + self.component]
    }

    /// The analysis above, as (key, value) pairs for results.json.
    pub fn report(&self, modulus_window: [f64; 2], flow_window: [f64; 2]) -> Vec<(&'static str, f64)> {
        let sign = if self.rate < 0.0 { -1.0 } else { 1.0 };
        let pts: Vec<(f64, f64)> = self.rows.iter().map(|r| (sign * r[2], sign * self.stress(r))).collect();
        let within = |w: [f64; 2]| pts.iter().filter(move |(e, _)| *e >= w[0] - 1e-12 && *e <= w[1] + 1e-12);
        // Least-squares slope over the modulus window.
        let (n, se, ss, see, ses) = within(modulus_window).fold((0.0, 0.0, 0.0, 0.0, 0.0), |a, &(e, s)| (a.0 + 1.0, a.1 + e, a.2 + s, a.3 + e * e, a.4 + e * s));
        let modulus = if n >= 2.0 { (n * ses - se * ss) / (n * see - se * se) } else { f64::NAN };
        let intercept = if n >= 2.0 { (ss - modulus * se) / n } else { f64::NAN };
        let (ys, ye) = offset_yield(&pts, modulus, intercept);
        let peak = pts.iter().copied().fold((f64::NAN, f64::NEG_INFINITY), |m, (e, s)| if s > m.1 { (e, s) } else { m });
        let flow: Vec<f64> = within(flow_window).map(|p| p.1).collect();
        let flow = if flow.is_empty() { f64::NAN } else { flow.iter().sum::<f64>() / flow.len() as f64 };
        let last = pts.last().copied().unwrap_or((f64::NAN, f64::NAN));
        vec![
            ("sign", sign),
            ("modulus_gpa", modulus),
            ("yield_stress_gpa", ys),
            ("yield_strain", ye),
            ("peak_stress_gpa", if peak.1.is_finite() { peak.1 } else { f64::NAN }),
            ("peak_strain", peak.0),
            ("flow_stress_gpa", flow),
            ("final_strain", last.0),
            ("final_stress_gpa", last.1),
        ]
    }

    /// The CSV text.
    pub fn csv(&self) -> String {
        let mut s = String::from(COLUMNS);
        s.push('\n');
        for r in &self.rows {
            let v: Vec<String> = r.iter().enumerate().map(|(k, x)| if k == 0 { format!("{}", *x as u64) } else { format!("{:?}", x) }).collect();
            s.push_str(&v.join(","));
            s.push('\n');
        }
        s
    }
}

/// One cycle of a cyclic stage: its strain and stress ranges, its loop
/// area A = ∮σ dε (GPa; trapezoids over the samples in time order, so a
/// loop run clockwise in the (ε, σ) plane — stress leading strain, energy
/// dissipated — is positive), and the state at its end.
#[derive(Clone, Debug)]
pub struct Cycle {
    pub strain: [f64; 2],
    pub stress: [f64; 2],
    pub area_gpa: f64,
    /// Volume per atom at the cycle's start, Å³ (to turn A into eV/atom).
    pub volume_per_atom: f64,
    pub strain_end: f64,
    pub stress_end: f64,
}

/// 1 GPa × 1 Å³ in eV.
const GPA_A3_EV: f64 = 1e-21 / 1.602176634e-19;

/// The per-cycle table.
pub fn cycles_csv(cycles: &[Cycle]) -> String {
    let mut s = String::from("cycle,strain_min,strain_max,stress_min_gpa,stress_max_gpa,loop_area_mj_per_m3,loop_area_ev_per_atom,strain_end,stress_end_gpa\n");
    for (k, c) in cycles.iter().enumerate() {
        s.push_str(&format!(
            "{},{:?},{:?},{:?},{:?},{:?},{:?},{:?},{:?}\n",
            k + 1,
            c.strain[0],
            c.strain[1],
            c.stress[0],
            c.stress[1],
            c.area_gpa * 1e3,
            c.area_gpa * c.volume_per_atom * GPA_A3_EV,
            c.strain_end,
            c.stress_end
        ));
    }
    s
}

/// results.json entries of a cyclic stage: loop areas (MJ/m³, first, last,
/// mean over cycles, and the mean in eV/atom), the residual strain and
/// stress at the end of the last cycle, and the measured half ranges of
/// strain and stress in the last cycle.
pub fn cycles_report(cycles: &[Cycle], l: &Loading) -> Vec<(&'static str, f64)> {
    let n = cycles.len() as f64;
    let mean = |f: &dyn Fn(&Cycle) -> f64| if cycles.is_empty() { f64::NAN } else { cycles.iter().map(f).sum::<f64>() / n };
    let last = cycles.last();
    let end = l.rows.last().map(|r| (r[2], l.stress(r))).unwrap_or((f64::NAN, f64::NAN));
    vec![
        ("cycles", n),
        ("loop_area_first_mj_per_m3", cycles.first().map_or(f64::NAN, |c| c.area_gpa * 1e3)),
        ("loop_area_last_mj_per_m3", last.map_or(f64::NAN, |c| c.area_gpa * 1e3)),
        ("loop_area_mean_mj_per_m3", mean(&|c| c.area_gpa * 1e3)),
        ("loop_area_mean_ev_per_atom", mean(&|c| c.area_gpa * c.volume_per_atom * GPA_A3_EV)),
        ("residual_strain", end.0),
        ("residual_stress_gpa", end.1),
        ("strain_amplitude", last.map_or(f64::NAN, |c| 0.5 * (c.strain[1] - c.strain[0]))),
        ("stress_amplitude_gpa", last.map_or(f64::NAN, |c| 0.5 * (c.stress[1] - c.stress[0]))),
    ]
}

impl Loading {
    /// The loop of each whole cycle of period `period` ps: a sample at a
    /// cycle boundary ends one cycle and starts the next.
    pub fn cycles(&self, period: f64) -> Vec<Cycle> {
        let phase = |r: &[f64; 18]| (r[1] - self.t0) / period;
        let total = self.rows.last().map_or(0.0, phase);
        let ncycles = (total + 1e-6).floor() as usize;
        (0..ncycles)
            .map(|c| {
                let rows: Vec<&[f64; 18]> = self.rows.iter().filter(|r| phase(r) >= c as f64 - 1e-6 && phase(r) <= (c + 1) as f64 + 1e-6).collect();
                let (mut area, mut strain, mut stress) = (0.0, [f64::INFINITY, f64::NEG_INFINITY], [f64::INFINITY, f64::NEG_INFINITY]);
                for w in rows.windows(2) {
                    area += 0.5 * (self.stress(w[0]) + self.stress(w[1])) * (w[1][2] - w[0][2]);
                }
                for r in &rows {
                    strain = [strain[0].min(r[2]), strain[1].max(r[2])];
                    stress = [stress[0].min(self.stress(r)), stress[1].max(self.stress(r))];
                }
                let (first, last) = (rows.first(), rows.last());
                Cycle {
                    strain,
                    stress,
                    area_gpa: area,
                    volume_per_atom: first.map_or(f64::NAN, |r| r[12] * r[13] * r[14] / self.natoms.max(1) as f64),
                    strain_end: last.map_or(f64::NAN, |r| r[2]),
                    stress_end: last.map_or(f64::NAN, |r| self.stress(r)),
                }
            })
            .collect()
    }
}

/// The 0.2 %-offset yield point (stress, strain) of magnitudes `pts`: the
/// last crossing from above to below of s − (E (e − 0.002) + s0) at
/// e ≥ 0.002, after which the curve stays below the line; NaN if the curve
/// is still above the line at its last point or never above it.
fn offset_yield(pts: &[(f64, f64)], modulus: f64, intercept: f64) -> (f64, f64) {
    let offset = |&(e, s): &(f64, f64)| s - (modulus * (e - 0.002) + intercept);
    let Some(j) = pts.iter().rposition(|p| p.0 >= 0.002 && offset(p) > 0.0) else { return (f64::NAN, f64::NAN) };
    let Some(next) = pts.get(j + 1) else { return (f64::NAN, f64::NAN) };
    let (a, b) = (offset(&pts[j]), offset(next));
    let f = a / (a - b);
    (pts[j].1 + f * (next.1 - pts[j].1), pts[j].0 + f * (next.0 - pts[j].0))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Elastic–perfectly plastic (E = 60 GPa, σy = 1.5 GPa) with noise of
    /// ±0.2 GPa: the offset line meets the plateau at e = 0.002 + 1.5/60;
    /// the noise crosses the line many times below 1 % strain.
    #[test]
    fn offset_yield_ignores_elastic_noise() {
        let pts: Vec<(f64, f64)> = (0..1000)
            .map(|k| {
                let e = k as f64 * 1e-4;
                (e, (60.0 * e).min(1.5) + 0.2 * (2.0 * std::f64::consts::PI * e / 0.0017).sin())
            })
            .collect();
        let (ys, ye) = offset_yield(&pts, 60.0, 0.0);
        assert!((ye - 0.027).abs() < 0.2 / 60.0 && (ys - 1.5).abs() < 0.2, "yield ({ys}, {ye})");
        // Never above the line past 0.2 %: no yield point.
        let flat: Vec<(f64, f64)> = (0..100).map(|k| (k as f64 * 1e-3, -1.0)).collect();
        assert!(offset_yield(&flat, 60.0, 0.0).0.is_nan());
        // Noise-free: exact.
        let clean: Vec<(f64, f64)> = (0..1000).map(|k| (k as f64 * 1e-4, (60.0 * k as f64 * 1e-4).min(1.5))).collect();
        let (ys, ye) = offset_yield(&clean, 60.0, 0.0);
        assert!((ye - 0.027).abs() < 1e-12 && (ys - 1.5).abs() < 1e-12, "({ys}, {ye})");
    }
}

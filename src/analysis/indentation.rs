//! Load–depth analysis of an indentation (issue 12): maximum load and
//! depth, the unloading stiffness, contact depth and area, hardness and
//! reduced modulus by the method of Oliver & Pharr, J. Mater. Res. 7, 1564
//! (1992), a second estimate from the atoms in contact, and the first
//! pop-in. Works on plain rows (depth, load, contact radius, phase), so it
//! serves the indent fix at the end of a stage and files read back alike.
//!
//! Oliver–Pharr, as used here:
//! * the unloading branch above `fit_fraction`·P_max is fitted by the power
//!   law P = α (h − h_f)^m (their Eq. 13) with 1 ≤ m ≤ 2, by a
//!   one-dimensional search on m with a linear fit of P^(1/m) against h
//!   inside; an m at a bound of that range means the branch is not the
//!   law's shape (a fast unloading after creep), and the report says so;
//! * the stiffness is its slope at the start of unloading,
//!   S = m α (h_max − h_f)^(m−1);
//! * the contact depth h_c = h_max − ε P_max / S with ε = 0.75 (their
//!   Eq. 16, the paraboloid/sphere value);
//! * the projected area from the tip's area function: a sphere of radius R,
//!   A = π (2 R h_c − h_c²); a cylinder of radius R and length L,
//!   A = 2 L √(2 R h_c − h_c²); a flat plane, the face it presses;
//! * H = P_max / A_c and E_r = (√π / 2) S / √A_c (their Eq. 2).
//!
//! The second estimate takes the contact radius a measured from the atoms
//! the indenter touches at maximum load: A = π a² (sphere), 2 a L
//! (cylinder).
//!
//! Extending: another tip is another [`Tip`] variant with its area
//! function; another quantity, another entry of [`Report::pairs`].

/// 1 eV/Å in nN.
pub const NN_PER_EV_A: f64 = 1.602176634;
/// 1 nN/Å² in GPa.
pub const GPA_PER_NN_A2: f64 = 100.0;
/// ε of Oliver & Pharr for a sphere (paraboloid of revolution).
pub const EPSILON: f64 = 0.75;

/// Loading phases of a row.
pub const LOADING: u8 = 0;
pub const HOLDING: u8 = 1;
pub const UNLOADING: u8 = 2;

#[derive(Clone, Copy, Debug)]
pub enum Tip {
    Sphere { radius: f64 },
    /// Axis lying in the surface, `length` Å long (the box along it).
    Cylinder { radius: f64, length: f64 },
    /// A flat plane: the contact area is the face it presses (Å²).
    Plane { area: f64 },
}

impl Tip {
    /// Projected contact area at contact depth `hc` (Å²).
    pub fn area(&self, hc: f64) -> f64 {
        let hc = hc.max(0.0);
        match *self {
            Tip::Sphere { radius } => std::f64::consts::PI * chord2(radius, hc),
            Tip::Cylinder { radius, length } => 2.0 * length * chord2(radius, hc).sqrt(),
            Tip::Plane { area } => area,
        }
    }
    /// Projected area of a contact of radius (half-width) `a` (Å²).
    pub fn area_of_radius(&self, a: f64) -> f64 {
        match *self {
            Tip::Sphere { .. } => std::f64::consts::PI * a * a,
            Tip::Cylinder { length, .. } => 2.0 * a * length,
            Tip::Plane { area } => area,
        }
    }
}

/// (2 R h − h²), the squared radius of a cap of depth h (R² beyond h = R).
fn chord2(r: f64, h: f64) -> f64 {
    let h = h.min(r);
    2.0 * r * h - h * h
}

/// One recorded point of a curve.
#[derive(Clone, Copy, Debug)]
pub struct Point {
    /// Depth below the surface, Å.
    pub h: f64,
    /// Load, nN.
    pub p: f64,
    /// Contact radius from the atoms touched, Å (NaN where not defined).
    pub a: f64,
    pub phase: u8,
}

#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Fraction of the unloading maximum above which the unloading branch
    /// is fitted.
    pub fit_fraction: f64,
    /// The smallest load drop (nN) that counts as a pop-in; None: 5 % of
    /// the maximum load.
    pub popin_drop: Option<f64>,
}

impl Default for Options {
    fn default() -> Options {
        Options { fit_fraction: 0.5, popin_drop: None }
    }
}

/// P = α (h − h_f)^m fitted to an unloading branch.
#[derive(Clone, Copy, Debug)]
pub struct PowerLaw {
    pub alpha: f64,
    pub hf: f64,
    pub m: f64,
}

impl PowerLaw {
    pub fn slope(&self, h: f64) -> f64 {
        self.m * self.alpha * (h - self.hf).powf(self.m - 1.0)
    }
}

/// Linear least squares y = a + b x: (a, b, sum of squared residuals).
fn linfit(x: &[f64], y: &[f64]) -> (f64, f64, f64) {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let sxx: f64 = x.iter().map(|a| (a - mx) * (a - mx)).sum();
    let b = sxy / sxx;
    let a = my - b * mx;
    let ss = x.iter().zip(y).map(|(xi, yi)| (yi - a - b * xi).powi(2)).sum();
    (a, b, ss)
}

/// Exponents of the unloading law Oliver & Pharr found between a flat
/// punch (1) and a cone (2); a sphere gives 1.5.
pub const M_RANGE: (f64, f64) = (1.0, 2.0);

/// Fit P = α (h − h_f)^m to points (h, P > 0), with m in [`M_RANGE`]:
/// for a given m, P^(1/m) = α^(1/m) (h − h_f) is a straight line in h, so
/// α and h_f come from a linear fit; m is found by golden-section search
/// on the squared load residual. None with fewer than 3 points.
pub fn fit_power_law(h: &[f64], p: &[f64]) -> Option<PowerLaw> {
    let pts: Vec<(f64, f64)> = h.iter().zip(p).filter(|(_, &p)| p > 0.0).map(|(&h, &p)| (h, p)).collect();
    if pts.len() < 3 {
        return None;
    }
    let hs: Vec<f64> = pts.iter().map(|q| q.0).collect();
    let fit = |m: f64| -> Option<(PowerLaw, f64)> {
        let ys: Vec<f64> = pts.iter().map(|q| q.1.powf(1.0 / m)).collect();
        let (a, b, _) = linfit(&hs, &ys);
        if !(b > 0.0) {
            return None;
        }
        let law = PowerLaw { alpha: b.powf(m), hf: -a / b, m };
        let ss = pts.iter().map(|&(h, p)| (p - law.alpha * (h - law.hf).max(0.0).powf(m)).powi(2)).sum();
        Some((law, ss))
    };
    let cost = |m: f64| fit(m).map_or(f64::INFINITY, |f| f.1);
    let (mut a, mut b) = M_RANGE;
    let g = (5f64.sqrt() - 1.0) / 2.0;
    let (mut c, mut d) = (b - g * (b - a), a + g * (b - a));
    let (mut fc, mut fd) = (cost(c), cost(d));
    while b - a > 1e-12 {
        if fc < fd {
            b = d;
            d = c;
            fd = fc;
            c = b - g * (b - a);
            fc = cost(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + g * (b - a);
            fd = cost(d);
        }
    }
    // The bounds themselves may be best (a curve outside the range).
    [M_RANGE.0, 0.5 * (a + b), M_RANGE.1].into_iter().filter_map(fit).min_by(|x, y| x.1.total_cmp(&y.1)).map(|f| f.0)
}

/// The outcome of [`analyse`]; absent values are NaN.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub max_load: f64,
    pub depth_at_max_load: f64,
    pub max_depth: f64,
    pub fit: Option<PowerLaw>,
    pub stiffness: f64,
    pub contact_depth: f64,
    pub contact_area: f64,
    pub hardness: f64,
    pub modulus: f64,
    pub contact_radius_atoms: f64,
    pub contact_area_atoms: f64,
    pub hardness_atoms: f64,
    pub modulus_atoms: f64,
    pub popin: Option<(f64, f64)>,
    /// What makes the numbers doubtful.
    pub warnings: Vec<String>,
}

impl Report {
    /// (key, value) pairs for results.json; units in the names.
    pub fn pairs(&self) -> Vec<(String, f64)> {
        let mut v = vec![
            ("max_load_nN", self.max_load),
            ("max_load_uN", self.max_load * 1e-3),
            ("depth_at_max_load_A", self.depth_at_max_load),
            ("max_depth_A", self.max_depth),
            ("unload_stiffness_nN_per_A", self.stiffness),
            ("contact_depth_A", self.contact_depth),
            ("contact_area_A2", self.contact_area),
            ("hardness_GPa", self.hardness),
            ("reduced_modulus_GPa", self.modulus),
            ("contact_radius_atoms_A", self.contact_radius_atoms),
            ("contact_area_atoms_A2", self.contact_area_atoms),
            ("hardness_atoms_GPa", self.hardness_atoms),
            ("reduced_modulus_atoms_GPa", self.modulus_atoms),
        ];
        if let Some(f) = self.fit {
            v.extend([("unload_fit_m", f.m), ("unload_fit_hf_A", f.hf)]);
        }
        if let Some((h, p)) = self.popin {
            v.extend([("popin_depth_A", h), ("popin_load_nN", p)]);
        }
        v.into_iter().filter(|(_, x)| x.is_finite()).map(|(k, x)| (k.to_string(), x)).collect()
    }
}

/// Analyse a load–depth curve (rows in time order).
pub fn analyse(rows: &[Point], tip: Tip, opt: Options) -> Report {
    let mut r = Report { stiffness: f64::NAN, contact_depth: f64::NAN, contact_area: f64::NAN, hardness: f64::NAN, modulus: f64::NAN, ..Default::default() };
    // The first row with the largest load.
    let Some(imax) = (0..rows.len()).reduce(|a, b| if rows[b].p > rows[a].p { b } else { a }) else {
        return r;
    };
    r.max_load = rows[imax].p;
    r.depth_at_max_load = rows[imax].h;
    r.max_depth = rows.iter().map(|q| q.h).fold(f64::NEG_INFINITY, f64::max);
    // Oliver–Pharr on the unloading branch: from its first point down to
    // where the load first falls below fit_fraction of its maximum.
    let unl: Vec<&Point> = rows.iter().filter(|q| q.phase == UNLOADING).collect();
    let top = unl.iter().map(|q| q.p).fold(f64::NEG_INFINITY, f64::max);
    let n = unl.iter().position(|q| q.p < opt.fit_fraction * top).unwrap_or(unl.len());
    let (hu, pu): (Vec<f64>, Vec<f64>) = unl[..n].iter().map(|q| (q.h, q.p)).unzip();
    r.fit = fit_power_law(&hu, &pu);
    // P_max and h_max of Oliver–Pharr: the start of unloading.
    let (hmax, pmax) = unl.first().map(|q| (q.h, q.p)).unwrap_or((f64::NAN, f64::NAN));
    if let Some(f) = r.fit {
        if f.m <= M_RANGE.0 + 1e-6 || f.m >= M_RANGE.1 - 1e-6 {
            r.warnings.push(format!(
                "the unloading branch fits P = a (h - hf)^m best at the bound m = {} of Oliver-Pharr's range [1, 2]: it is not that law's shape (unloading too fast after a hold that crept, or too few rows above unload_fit = {}), so S, H and E_r are doubtful",
                f.m, opt.fit_fraction
            ));
        }
        r.stiffness = f.slope(hmax);
        r.contact_depth = hmax - EPSILON * pmax / r.stiffness;
        r.contact_area = tip.area(r.contact_depth);
        r.hardness = pmax / r.contact_area * GPA_PER_NN_A2;
        r.modulus = std::f64::consts::PI.sqrt() / 2.0 * r.stiffness / r.contact_area.sqrt() * GPA_PER_NN_A2;
    }
    // From the atoms: the contact radius at the maximum load.
    r.contact_radius_atoms = rows[imax].a;
    r.contact_area_atoms = tip.area_of_radius(r.contact_radius_atoms);
    r.hardness_atoms = r.max_load / r.contact_area_atoms * GPA_PER_NN_A2;
    r.modulus_atoms = std::f64::consts::PI.sqrt() / 2.0 * r.stiffness / r.contact_area_atoms.sqrt() * GPA_PER_NN_A2;
    // First pop-in: during loading, the first load below the running
    // maximum by more than the threshold; reported at that maximum.
    let thr = opt.popin_drop.unwrap_or(0.05 * r.max_load.max(0.0));
    let mut best: Option<&Point> = None;
    for q in rows.iter().filter(|q| q.phase == LOADING) {
        match best {
            Some(b) if q.p < b.p - thr => {
                r.popin = Some((b.h, b.p));
                break;
            }
            Some(b) if q.p <= b.p => {}
            _ => best = Some(q),
        }
    }
    r
}

/// Read an `indent.csv` (the indent fix's file): its points, in order.
pub fn read(path: &std::path::Path) -> crate::error::Result<Vec<Point>> {
    use crate::error::Error;
    let text = std::fs::read_to_string(path).map_err(|e| Error::input(path, format!("cannot read: {}", e)))?;
    let mut lines = text.lines();
    let head: Vec<&str> = lines.next().unwrap_or("").split(',').collect();
    let col = |name: &str| head.iter().position(|h| *h == name).ok_or_else(|| Error::input(path, format!("no '{}' column: not an indent.csv of glassmd (header: {})", name, head.join(","))));
    let (ch, cp, ca, cph) = (col("depth")?, col("load_nN")?, col("contact_radius")?, col("phase")?);
    let mut out = Vec::new();
    for (k, l) in lines.enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let f: Vec<&str> = l.split(',').collect();
        let num = |c: usize| f.get(c).and_then(|v| v.trim().parse::<f64>().ok()).ok_or_else(|| Error::input(path, format!("line {}: column {} is not a number", k + 2, head[c])));
        let phase = match f.get(cph).map(|s| s.trim()) {
            Some("load") => LOADING,
            Some("hold") => HOLDING,
            Some("unload") => UNLOADING,
            other => return Err(Error::input(path, format!("line {}: phase '{}' (expected load, hold or unload)", k + 2, other.unwrap_or("")))),
        };
        out.push(Point { h: num(ch)?, p: num(cp)?, a: num(ca)?, phase });
    }
    if out.is_empty() {
        return Err(Error::input(path, "has no rows"));
    }
    Ok(out)
}

/// `glassmd plot load-depth FILE... --out ld.svg`: overlay the curves
/// (load against depth; µN with `micro`), write `out` atomically, and
/// return a line per curve (maximum load and its depth, first pop-in).
pub fn plot(files: &[std::path::PathBuf], out: &std::path::Path, labels: Option<&str>, micro: bool) -> crate::error::Result<Vec<String>> {
    let curves = files.iter().map(|f| read(f)).collect::<crate::error::Result<Vec<_>>>()?;
    let labels = super::curves::labels_for(files, labels)?;
    let scale = if micro { 1e-3 } else { 1.0 };
    let points: Vec<Vec<(f64, f64)>> = curves.iter().map(|c| c.iter().map(|q| (q.h, q.p * scale)).collect()).collect();
    let series: Vec<(&str, &[(f64, f64)])> = labels.iter().zip(&points).map(|(l, p)| (l.as_str(), p.as_slice())).collect();
    let text = super::curves::overlay_svg("load-depth", "depth h (A below the surface)", if micro { "load P (uN)" } else { "load P (nN)" }, &series, None)
        .map_err(|e| crate::error::Error::runtime(format!("{}: plotting: {}", out.display(), e)))?;
    crate::io::write_atomic(out, |w| w.write_all(text.as_bytes()))?;
    Ok(curves
        .iter()
        .zip(&labels)
        .map(|(c, l)| {
            // The tip's area function is not in the file: only tip-free quantities.
            let r = analyse(c, Tip::Plane { area: f64::NAN }, Options::default());
            let pop = r.popin.map_or("no pop-in".to_string(), |(h, p)| format!("first pop-in at {:.3} A, {:.3} nN", h, p));
            format!("{}: {} rows, max load {:.4} nN at depth {:.3} A, max depth {:.3} A, {}", l, c.len(), r.max_load, r.depth_at_max_load, r.max_depth, pop)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A synthetic curve with a known answer: Hertzian loading
    /// P = C h^1.5 to h_max, then the power-law unloading of Oliver &
    /// Pharr with chosen α, h_f, m. Its stiffness, contact depth, area,
    /// hardness and modulus follow from those numbers by the formulas
    /// alone; the analysis sees only the rows.
    #[test]
    fn oliver_pharr_recovers_a_synthetic_curve() {
        let (r_tip, hmax, hf, m): (f64, f64, f64, f64) = (30.0, 8.0, 3.0, 1.7);
        let pmax = 400.0; // nN
        let alpha = pmax / (hmax - hf).powf(m);
        let c = pmax / hmax.powf(1.5);
        let mut rows = Vec::new();
        for k in 0..=200 {
            let h = hmax * k as f64 / 200.0;
            // A 30 nN pop-in at 5 Å: the load drops, then climbs again.
            let p = if (5.0..5.2).contains(&h) { c * h.powf(1.5) - 30.0 } else { c * h.powf(1.5) };
            rows.push(Point { h, p, a: (2.0 * r_tip * h).sqrt() * 0.9, phase: LOADING });
        }
        let a_of = |h: f64| (2.0 * r_tip * h).sqrt() * 0.9;
        rows.push(Point { h: hmax, p: pmax, a: a_of(hmax), phase: HOLDING });
        for k in 0..=200 {
            let h = hmax - (hmax - hf) * k as f64 / 200.0;
            rows.push(Point { h, p: alpha * (h - hf).powf(m), a: a_of(h), phase: UNLOADING });
        }
        let rep = analyse(&rows, Tip::Sphere { radius: r_tip }, Options { fit_fraction: 0.3, popin_drop: Some(10.0) });
        let f = rep.fit.unwrap();
        assert!((f.m - m).abs() < 1e-6 && (f.hf - hf).abs() < 1e-6, "{:?}", f);
        let s = m * alpha * (hmax - hf).powf(m - 1.0);
        let hc = hmax - 0.75 * pmax / s;
        let a = std::f64::consts::PI * (2.0 * r_tip * hc - hc * hc);
        let (h, e) = (pmax / a * 100.0, std::f64::consts::PI.sqrt() / 2.0 * s / a.sqrt() * 100.0);
        for (got, want, what) in [(rep.stiffness, s, "S"), (rep.contact_depth, hc, "hc"), (rep.contact_area, a, "A"), (rep.hardness, h, "H"), (rep.modulus, e, "Er")] {
            assert!((got / want - 1.0).abs() < 1e-6, "{}: {} vs {}", what, got, want);
        }
        // P_max, and the pop-in at the last point before the drop.
        assert!((rep.max_load - pmax).abs() < 1e-9);
        let (hp, pp) = rep.popin.unwrap();
        assert!(hp < 5.0 && hp > 4.9 && (pp - c * hp.powf(1.5)).abs() < 1e-9, "{:?}", rep.popin);
        // From the atoms: a at P_max is 0.9 √(2 R h_max).
        let aa = 0.9 * (2.0 * r_tip * hmax).sqrt();
        assert!((rep.contact_area_atoms / (std::f64::consts::PI * aa * aa) - 1.0).abs() < 1e-12);
    }

    /// An unloading branch that falls exponentially is no power law of
    /// m in [1, 2]: the fit lands on a bound and the report warns.
    #[test]
    fn a_branch_outside_the_law_is_flagged() {
        let mut rows: Vec<Point> = (0..=50).map(|k| Point { h: 0.1 * k as f64, p: 10.0 * (0.1 * k as f64).powf(1.5), a: 1.0, phase: LOADING }).collect();
        rows.extend((0..=50).map(|k| Point { h: 5.0 - 0.02 * k as f64, p: 111.8 * (-3.0 * 0.02 * k as f64).exp(), a: 1.0, phase: UNLOADING }));
        let rep = analyse(&rows, Tip::Sphere { radius: 20.0 }, Options { fit_fraction: 0.2, popin_drop: None });
        let m = rep.fit.unwrap().m;
        assert!(m == 1.0 || m == 2.0, "m = {}", m);
        assert_eq!(rep.warnings.len(), 1, "{:?}", rep.warnings);
        // A clean law of m = 1.5 gives no warning.
        let clean: Vec<Point> = rows[..51].iter().copied().chain((0..=50).map(|k| {
            let h = 5.0 - 0.04 * k as f64;
            Point { h, p: 111.8 * ((h - 3.0) / 2.0).powf(1.5), a: 1.0, phase: UNLOADING }
        })).collect();
        assert!(analyse(&clean, Tip::Sphere { radius: 20.0 }, Options::default()).warnings.is_empty());
    }

    #[test]
    fn no_popin_on_a_smooth_curve() {
        let rows: Vec<Point> = (0..100).map(|k| Point { h: k as f64 * 0.1, p: (k as f64 * 0.1).powf(1.5), a: 0.0, phase: LOADING }).collect();
        assert!(analyse(&rows, Tip::Sphere { radius: 10.0 }, Options::default()).popin.is_none());
    }
}

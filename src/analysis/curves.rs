//! Stress–strain curves for `glassmd plot stress-strain FILE... --out
//! ss.svg`: read the `stress_strain.csv` of deform and cyclic stages,
//! find the loaded stress component, optionally average many samples on a
//! common strain grid, and draw them as one SVG (plotters), the way papers
//! overlay an as-quenched glass against a rejuvenated one.
//!
//! The loaded component is the one whose box change is the `strain`
//! column: L/L0 − 1 for an axis, (T − T0)/L0' for a tilt (the deform
//! stage's definitions, `run::stress_strain`); `--stress szz` overrides it.
//! A new curve kind (a cycles table, a creep curve from thermo.csv) is one
//! more reader that returns a [`Curve`].

use crate::error::{Error, Result};
use plotters::prelude::*;
use std::path::{Path, PathBuf};

/// Stress columns of stress_strain.csv, in box-component order.
const STRESS: [&str; 6] = ["sxx", "syy", "szz", "sxy", "sxz", "syz"];

/// One curve: strain and stress (GPa) per row.
#[derive(Clone, Debug)]
pub struct Curve {
    pub path: PathBuf,
    /// The stress column plotted.
    pub column: String,
    pub points: Vec<(f64, f64)>,
}

/// Read a stress–strain CSV; `stress` names the column to plot (default:
/// the loaded component), `true_strain` plots ln(1 + ε).
pub fn read(path: &Path, stress: Option<&str>, true_strain: bool) -> Result<Curve> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut lines = text.lines();
    let head: Vec<&str> = lines.next().unwrap_or("").split(',').map(str::trim).collect();
    let col = |n: &str| {
        head.iter()
            .position(|h| *h == n)
            .ok_or_else(|| Error::input(path, format!("no column '{}': not a stress_strain.csv (have {})", n, head.join(","))))
    };
    let mut rows: Vec<Vec<f64>> = Vec::new();
    for (k, l) in lines.enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let v: std::result::Result<Vec<f64>, _> = l.split(',').map(|x| x.trim().parse::<f64>()).collect();
        match v {
            Ok(v) if v.len() == head.len() && v.iter().all(|x| x.is_finite()) => rows.push(v),
            _ => return Err(Error::input(path, format!("line {}: expected {} numbers: '{}'", k + 2, head.len(), l))),
        }
    }
    if rows.len() < 2 {
        return Err(Error::input(path, "fewer than two rows: nothing to plot"));
    }
    let strain_col = col(if true_strain { "true_strain" } else { "strain" })?;
    let column = match stress {
        Some(s) => {
            col(s)?;
            s.to_string()
        }
        None => STRESS[loaded_component(path, &rows, &col)?].to_string(),
    };
    let sc = col(&column)?;
    Ok(Curve {
        path: path.to_path_buf(),
        column,
        points: rows.iter().map(|r| (r[strain_col], r[sc])).collect(),
    })
}

/// The box component whose change since the first row is the `strain`
/// column (least squares over the rows).
fn loaded_component(path: &Path, rows: &[Vec<f64>], col: &dyn Fn(&str) -> Result<usize>) -> Result<usize> {
    let e = col("strain")?;
    let box_cols = ["lx", "ly", "lz", "xy", "xz", "yz"].map(|c| col(c).ok());
    if box_cols.iter().any(|c| c.is_none()) {
        return Err(Error::input(path, "no box columns (lx ... yz): not a stress_strain.csv"));
    }
    let box_cols = box_cols.map(|c| c.unwrap_or(0));
    let mut best = (f64::INFINITY, 2);
    for (c, &bc) in box_cols.iter().enumerate() {
        // A tilt's strain is measured in the length of its second axis.
        let lc = if c < 3 { bc } else { box_cols[crate::system::TILTS[c - 3].2] };
        let (v0, l0) = (rows[0][bc], rows[0][lc]);
        let misfit: f64 = rows.iter().map(|r| if c < 3 { r[bc] / v0 - 1.0 } else { (r[bc] - v0) / l0 } - r[e]).map(|d| d * d).sum();
        if misfit < best.0 {
            best = (misfit, c);
        }
    }
    let scale: f64 = rows.iter().map(|r| r[e] * r[e]).sum();
    if scale == 0.0 || best.0 > 1e-6 * scale {
        return Err(Error::input(
            path,
            "cannot tell which stress is loaded (no box component follows the strain column); name it with --stress",
        ));
    }
    Ok(best.1)
}

/// The mean of monotonic curves on a common strain grid of `n` points
/// over the strains all of them reach, by linear interpolation.
pub fn mean(curves: &[Curve], n: usize) -> Result<Vec<(f64, f64)>> {
    let mut spans = Vec::new();
    for c in curves {
        let sign = if c.points.last().map_or(0.0, |p| p.0) < 0.0 { -1.0 } else { 1.0 };
        if c.points.windows(2).any(|w| sign * (w[1].0 - w[0].0) < 0.0) {
            return Err(Error::input(
                &c.path,
                "--mean needs curves whose strain only grows (or only falls); this one turns back (a cyclic loop?)",
            ));
        }
        spans.push((sign, c.points[0].0 * sign, c.points.last().map_or(0.0, |p| p.0) * sign));
    }
    let sign = spans[0].0;
    if spans.iter().any(|s| s.0 != sign) {
        return Err(Error::input(&curves[0].path, "--mean: the curves load in opposite directions (tension and compression)"));
    }
    let lo = spans.iter().map(|s| s.1).fold(f64::NEG_INFINITY, f64::max);
    let hi = spans.iter().map(|s| s.2).fold(f64::INFINITY, f64::min);
    if !(hi > lo) {
        return Err(Error::input(&curves[0].path, "--mean: the curves share no strain range"));
    }
    Ok((0..n)
        .map(|k| {
            let x = lo + (hi - lo) * k as f64 / (n - 1) as f64;
            let y = curves.iter().map(|c| interpolate(&c.points, sign, x)).sum::<f64>() / curves.len() as f64;
            (sign * x, y)
        })
        .collect())
}

/// σ at strain sign·x on a curve whose sign·ε never decreases.
fn interpolate(p: &[(f64, f64)], sign: f64, x: f64) -> f64 {
    let k = p.partition_point(|q| sign * q.0 < x).clamp(1, p.len() - 1);
    let ((x0, y0), (x1, y1)) = ((sign * p[k - 1].0, p[k - 1].1), (sign * p[k].0, p[k].1));
    if x1 == x0 {
        return y1;
    }
    y0 + (y1 - y0) * (x - x0) / (x1 - x0)
}

/// Render the curves (and their mean, drawn thick in black) as SVG text.
pub fn svg(curves: &[Curve], labels: &[String], mean: Option<&[(f64, f64)]>, true_strain: bool) -> std::result::Result<String, String> {
    let columns: Vec<&str> = curves.iter().map(|c| c.column.as_str()).collect();
    let ylabel = if columns.iter().all(|c| *c == columns[0]) {
        format!("{} (GPa, tension positive)", columns[0])
    } else {
        "stress (GPa, tension positive)".to_string()
    };
    let series: Vec<(&str, &[(f64, f64)])> = curves.iter().zip(labels).map(|(c, l)| (l.as_str(), c.points.as_slice())).collect();
    overlay_svg("stress-strain", if true_strain { "true strain" } else { "engineering strain" }, &ylabel, &series, mean)
}

/// Overlaid x–y curves as SVG text (800 × 560): each labelled series in
/// its own colour, faint under an optional mean drawn thick in black.
/// Shared by the stress–strain and load–depth plots.
pub fn overlay_svg(caption: &str, xdesc: &str, ydesc: &str, series: &[(&str, &[(f64, f64)])], mean: Option<&[(f64, f64)]>) -> std::result::Result<String, String> {
    let (mut x0, mut x1, mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
    for &(x, y) in series.iter().flat_map(|s| s.1.iter()).filter(|p| p.0.is_finite() && p.1.is_finite()) {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if !x0.is_finite() {
        return Err("no finite points to draw".into());
    }
    let pad = |a: f64, b: f64| if b > a { 0.05 * (b - a) } else { 1.0 };
    let (px, py) = (pad(x0, x1), pad(y0, y1));
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, (800, 560)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut c = ChartBuilder::on(&root)
            .caption(caption, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(45)
            .y_label_area_size(65)
            .build_cartesian_2d(x0 - px..x1 + px, y0 - py..y1 + py)
            .map_err(|e| e.to_string())?;
        c.configure_mesh().x_desc(xdesc).y_desc(ydesc).draw().map_err(|e| e.to_string())?;
        let n = series.len();
        for (k, (label, points)) in series.iter().enumerate() {
            // Many samples under a mean are drawn faint; a few curves in
            // distinct colours.
            let col = Palette99::pick(k).to_rgba();
            let style = if mean.is_some() { col.mix(0.35).stroke_width(1) } else { col.stroke_width(2) };
            let s = c.draw_series(LineSeries::new(points.to_vec(), style)).map_err(|e| e.to_string())?;
            if mean.is_none() || n <= 8 {
                s.label(label.to_string()).legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], col.stroke_width(2)));
            }
        }
        if let Some(m) = mean {
            c.draw_series(LineSeries::new(m.to_vec(), BLACK.stroke_width(3)))
                .map_err(|e| e.to_string())?
                .label(format!("mean of {}", n))
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.stroke_width(3)));
        }
        c.configure_series_labels().border_style(BLACK).background_style(WHITE.mix(0.9)).draw().map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(text)
}

/// Legend names from `--labels` (comma-separated, one per file), else
/// the paths.
pub fn labels_for(files: &[PathBuf], labels: Option<&str>) -> Result<Vec<String>> {
    match labels {
        Some(l) => {
            let v: Vec<String> = l.split(',').map(|s| s.trim().to_string()).collect();
            if v.len() != files.len() {
                return Err(Error::input("command line", format!("--labels gives {} names for {} files", v.len(), files.len())));
            }
            Ok(v)
        }
        None => Ok(files.iter().map(|f| f.display().to_string()).collect()),
    }
}

/// `glassmd plot stress-strain`: read, average, draw, write `out`
/// atomically; returns one summary line per curve (peak stress and where).
pub fn plot(files: &[PathBuf], out: &Path, stress: Option<&str>, labels: Option<&str>, with_mean: bool, true_strain: bool) -> Result<Vec<String>> {
    let curves = files.iter().map(|f| read(f, stress, true_strain)).collect::<Result<Vec<_>>>()?;
    let labels = labels_for(files, labels)?;
    let m = if with_mean { Some(mean(&curves, 200)?) } else { None };
    let text = svg(&curves, &labels, m.as_deref(), true_strain).map_err(|e| Error::runtime(format!("{}: plotting: {}", out.display(), e)))?;
    crate::io::write_atomic(out, |w| w.write_all(text.as_bytes()))?;
    Ok(curves
        .iter()
        .zip(&labels)
        .map(|(c, l)| {
            let sign = if c.points.last().map_or(0.0, |p| p.0) < 0.0 { -1.0 } else { 1.0 };
            let peak = c.points.iter().copied().max_by(|a, b| (sign * a.1).total_cmp(&(sign * b.1))).unwrap_or((0.0, 0.0));
            format!("{}: {} rows, {}, peak {:.4} GPa at strain {:.4}", l, c.points.len(), c.column, peak.1, peak.0)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, rows: &[(f64, [f64; 3], f64)]) -> PathBuf {
        // (strain, lengths, szz) with tilts 0; other stresses 0.
        let mut s = String::from(crate::run::stress_strain::COLUMNS);
        s.push('\n');
        for (k, (e, l, szz)) in rows.iter().enumerate() {
            s.push_str(&format!("{},{},{},{},0,0,{},0,0,0,300,-4,{},{},{},0,0,0\n", k, k as f64, e, (1.0 + e).ln(), szz, l[0], l[1], l[2]));
        }
        let p = dir.join(name);
        std::fs::write(&p, s).unwrap();
        p
    }

    #[test]
    fn loaded_component_mean_and_svg() {
        let dir = std::env::temp_dir().join(format!("glassmd_curves_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let a = write(&dir, "a.csv", &[(0.0, [30.0, 30.0, 30.0], 0.0), (0.01, [29.9, 29.9, 30.3], 1.0), (0.02, [29.8, 29.8, 30.6], 1.8)]);
        let b = write(&dir, "b.csv", &[(0.0, [30.0, 30.0, 20.0], 0.0), (0.015, [29.9, 29.9, 20.3], 1.5)]);
        let ca = read(&a, None, false).unwrap();
        assert_eq!(ca.column, "szz", "z follows the strain column");
        let cb = read(&b, None, false).unwrap();
        // Mean on [0, 0.015]: at 0.015, a is 1.0 + 0.5·0.8 = 1.4 and b 1.5.
        let m = mean(&[ca.clone(), cb.clone()], 4).unwrap();
        assert_eq!(m.len(), 4);
        assert!((m[3].0 - 0.015).abs() < 1e-15 && (m[3].1 - 1.45).abs() < 1e-12, "{m:?}");
        assert!((m[1].0 - 0.005).abs() < 1e-15 && (m[1].1 - 0.5).abs() < 1e-12, "{m:?}");
        let text = svg(&[ca, cb], &["a".into(), "b".into()], Some(&m), false).unwrap();
        assert!(text.starts_with("<svg") && text.contains("mean of 2") && text.contains("szz"));
        // A loop cannot be averaged; a file that is not a stress–strain table is named.
        let c = write(&dir, "c.csv", &[(0.0, [30.0, 30.0, 30.0], 0.0), (0.01, [30.0, 30.0, 30.3], 1.0), (0.0, [30.0, 30.0, 30.0], 0.0)]);
        let cc = read(&c, None, false).unwrap();
        assert!(mean(&[cc], 10).unwrap_err().to_string().contains("turns back"));
        std::fs::write(dir.join("d.csv"), "step,temp\n1,2\n2,3\n").unwrap();
        let e = read(&dir.join("d.csv"), None, false).unwrap_err().to_string();
        assert!(e.contains("d.csv") && e.contains("not a stress_strain.csv"), "{e}");
        std::fs::remove_dir_all(&dir).ok();
    }
}

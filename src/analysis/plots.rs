//! Plots of `glassmd analyze` outputs as SVG: g(r) (`rdf.csv`), S(q),
//! MSD and F_s(t) (`dynamics.csv`, against log10 of time), and histograms
//! of Voronoi indices from the JSON summary. Curves from several files
//! overlay (an as-quenched glass against a rejuvenated one).
//!
//! The CSV plots share one reader ([`read_columns`]): the first column is
//! x, the others curves chosen by name or prefix. A new plot of a CSV
//! output is a new call of [`plot_columns`] with its axis names.

use super::curves::{labels_for, overlay_svg};
use crate::error::{Error, Result};
use plotters::prelude::*;
use std::path::{Path, PathBuf};

/// Header and rows of a numeric CSV.
pub fn read_columns(path: &Path) -> Result<(Vec<String>, Vec<Vec<f64>>)> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<String> = lines.next().ok_or_else(|| Error::input(path, "is empty"))?.split(',').map(|s| s.trim().to_string()).collect();
    let mut rows = Vec::new();
    for (k, l) in lines.enumerate() {
        let v: Vec<f64> = l.split(',').map(|t| t.trim().parse::<f64>()).collect::<std::result::Result<_, _>>().map_err(|_| Error::input(path, format!("line {}: not numbers: {}", k + 2, l)))?;
        if v.len() != header.len() {
            return Err(Error::input(path, format!("line {}: {} values for {} columns", k + 2, v.len(), header.len())));
        }
        rows.push(v);
    }
    Ok((header, rows))
}

/// Overlay the columns whose names start with one of `prefixes` from
/// every file against the first column (log10 of it when `logx`); returns
/// one line per curve (its maximum).
pub fn plot_columns(files: &[PathBuf], labels: Option<&str>, prefixes: &[&str], out: &Path, caption: &str, xdesc: &str, ydesc: &str, logx: bool) -> Result<Vec<String>> {
    let names = labels_for(files, labels)?;
    let mut series: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
    for (f, name) in files.iter().zip(&names) {
        let (head, rows) = read_columns(f)?;
        let cols: Vec<usize> = (1..head.len()).filter(|&c| prefixes.iter().any(|p| head[c].starts_with(p))).collect();
        if cols.is_empty() {
            return Err(Error::input(f, format!("has no column starting with {} (columns: {})", prefixes.join(" or "), head.join(","))));
        }
        for c in cols {
            let pts: Vec<(f64, f64)> = rows.iter().filter(|r| !logx || r[0] > 0.0).map(|r| (if logx { r[0].log10() } else { r[0] }, r[c])).collect();
            let label = if files.len() > 1 { format!("{} {}", name, head[c]) } else { head[c].clone() };
            series.push((label, pts));
        }
    }
    let refs: Vec<(&str, &[(f64, f64)])> = series.iter().map(|(l, p)| (l.as_str(), p.as_slice())).collect();
    let svg = overlay_svg(caption, xdesc, ydesc, &refs, None).map_err(|m| Error::input(out, format!("plot: {}", m)))?;
    crate::io::write_atomic(out, |w| w.write_all(svg.as_bytes()))?;
    Ok(series
        .iter()
        .map(|(l, p)| {
            let m = p.iter().copied().filter(|q| q.1.is_finite()).max_by(|a, b| a.1.total_cmp(&b.1)).unwrap_or((f64::NAN, f64::NAN));
            format!("{}: maximum {:.4} at {:.4}", l, m.1, m.0)
        })
        .collect())
}

/// Bars of the most common Voronoi indices (fractions) by centre species,
/// from summaries of `glassmd analyze --compute voronoi` (the JSON line,
/// saved to a file); several files side by side.
pub fn index_histogram(files: &[PathBuf], labels: Option<&str>, species: &str, top: usize, out: &Path) -> Result<Vec<String>> {
    let names = labels_for(files, labels)?;
    let mut sets: Vec<Vec<(String, f64)>> = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(f).map_err(|e| Error::io(f, e))?;
        let line = text.lines().rev().find(|l| l.trim_start().starts_with('{')).ok_or_else(|| Error::input(f, "holds no JSON summary"))?;
        let v: serde_json::Value = serde_json::from_str(line).map_err(|e| Error::input(f, format!("not a JSON summary: {}", e)))?;
        let list = v["voronoi"]["index_fractions"][species].as_array().ok_or_else(|| Error::input(f, format!("has no voronoi index fractions for '{}'", species)))?;
        sets.push(list.iter().map(|e| (e["index"].as_str().unwrap_or("?").to_string(), e["fraction"].as_f64().unwrap_or(0.0))).collect());
    }
    // The union of indices, ordered by the first file's fractions.
    let mut order: Vec<String> = Vec::new();
    for s in &sets {
        for (ix, _) in s {
            if !order.contains(ix) {
                order.push(ix.clone());
            }
        }
    }
    order.truncate(top.max(1));
    let ymax = sets.iter().flatten().map(|p| p.1).fold(0.0, f64::max).max(1e-3) * 1.1;
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, (900, 560)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| Error::input(out, e.to_string()))?;
        let n = order.len();
        let mut c = ChartBuilder::on(&root)
            .caption(format!("Voronoi indices ({})", species), ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(70)
            .y_label_area_size(65)
            .build_cartesian_2d(-0.5f64..n as f64 - 0.5, 0.0..ymax)
            .map_err(|e| Error::input(out, e.to_string()))?;
        let ord = order.clone();
        c.configure_mesh()
            .x_labels(n)
            .x_label_formatter(&move |x| {
                let k = x.round();
                if (x - k).abs() < 1e-6 && k >= 0.0 && (k as usize) < ord.len() {
                    ord[k as usize].clone()
                } else {
                    String::new()
                }
            })
            .y_desc("fraction of centres")
            .disable_x_mesh()
            .draw()
            .map_err(|e| Error::input(out, e.to_string()))?;
        let w = 0.8 / sets.len() as f64;
        for (s, (set, name)) in sets.iter().zip(&names).enumerate() {
            let col = Palette99::pick(s).to_rgba();
            let bars: Vec<Rectangle<(f64, f64)>> = order
                .iter()
                .enumerate()
                .filter_map(|(k, ix)| set.iter().find(|p| &p.0 == ix).map(|p| (k, p.1)))
                .map(|(k, f)| {
                    let x0 = k as f64 - 0.4 + s as f64 * w;
                    Rectangle::new([(x0, 0.0), (x0 + w, f)], col.filled())
                })
                .collect();
            c.draw_series(bars).map_err(|e| Error::input(out, e.to_string()))?.label(name.clone()).legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 15, y + 5)], col.filled()));
        }
        c.configure_series_labels().border_style(BLACK).background_style(WHITE.mix(0.9)).draw().map_err(|e| Error::input(out, e.to_string()))?;
        root.present().map_err(|e| Error::input(out, e.to_string()))?;
    }
    crate::io::write_atomic(out, |w| w.write_all(text.as_bytes()))?;
    Ok(sets.iter().zip(&names).map(|(s, n)| format!("{}: most common {} ({:.4})", n, s.first().map_or("-", |p| p.0.as_str()), s.first().map_or(0.0, |p| p.1))).collect())
}

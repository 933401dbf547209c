//! `glassmd study`: a 2 × 2 grid × 2 samples of a tiny deck
//! (tests/data/study) runs to its table and map; a second call redoes
//! nothing; a study killed midway resumes without redoing finished runs;
//! nonsense in a study file is refused with one line naming it.
mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The shipped test study, its deck made absolute, written into `dir`.
fn study_in(dir: &Path, edit: impl Fn(String) -> String) -> PathBuf {
    let src = root().join("tests/data/study");
    let text = std::fs::read_to_string(src.join("study.toml")).unwrap();
    let text = text.replace("deck = \"deck.toml\"", &format!("deck = \"{}\"", src.join("deck.toml").display()));
    let p = dir.join("study.toml");
    std::fs::write(&p, edit(text)).unwrap();
    p
}

fn results_json(p: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn mtime(p: &Path) -> std::time::SystemTime {
    std::fs::metadata(p).unwrap().modified().unwrap()
}

#[test]
fn a_study_runs_to_its_map_and_is_not_redone() {
    let d = tempdir();
    let study = study_in(d.path(), |t| t);
    let out = ok(&glassmd(1, 1, &["study", study.to_str().unwrap(), "--dir", "runs"], d.path()));
    assert!(out.contains("4 points x 2 samples = 8 tasks"), "{out}");
    let runs = d.path().join("runs");
    let rows = std::fs::read_to_string(runs.join("study.csv")).unwrap();
    let lines: Vec<&str> = rows.lines().collect();
    assert_eq!(lines.len(), 5, "{rows}");
    let head: Vec<&str> = lines[0].split(',').collect();
    assert_eq!(&head[..4], &["point", "t_over_tg", "steps", "temp"]);
    // Each point: the mean and standard error of its two samples' results.
    for (p, l) in lines[1..].iter().enumerate() {
        let f: Vec<&str> = l.split(',').collect();
        let temp: f64 = f[3].parse().unwrap();
        assert_eq!(temp, f[1].parse::<f64>().unwrap() * 700.0, "derived temp");
        let v: Vec<f64> = (0..2)
            .map(|s| results_json(&runs.join(format!("task_{:04}/sample_{:02}/results.json", 2 * p + s, s)))["is"]["delta_pe_per_atom"].as_f64().unwrap())
            .collect();
        let mean = (v[0] + v[1]) / 2.0;
        // Sample standard deviation / √n.
        let se = ((v[0] - mean).powi(2) + (v[1] - mean).powi(2)).sqrt() / 2f64.sqrt();
        let (m, s): (f64, f64) = (f[4].parse().unwrap(), f[5].parse().unwrap());
        assert!((m - mean).abs() <= 1e-15 * mean.abs().max(1e-300) && (s - se).abs() <= 1e-12 * se.max(1e-300), "point {p}: {m} ± {s} vs {mean} ± {se}");
        assert_eq!(f[6], "2");
        // The derived report quantity: each sample's is − start, averaged.
        let col = head.iter().position(|h| *h == "pe_change_mean").unwrap();
        let pe_change: f64 = f[col].parse().unwrap();
        assert!((pe_change - mean).abs() <= 1e-12 * mean.abs(), "point {p}: {pe_change} vs {mean}");
        // The two samples differ (their seeds do).
        assert_ne!(v[0], v[1], "point {p}: samples identical");
        // Each run got its point's variables.
        let vars = results_json(&runs.join(format!("task_{:04}/sample_00/vars.json", 2 * p)));
        assert_eq!(vars["temp"].as_str().unwrap(), f[3]);
        assert_eq!(vars["steps"].as_str().unwrap(), f[2]);
    }
    let svg = std::fs::read_to_string(runs.join("map.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("is.delta_pe_per_atom") && svg.matches("<rect").count() >= 4, "map.svg");
    let json = results_json(&runs.join("study.json"));
    assert_eq!(json["points"].as_array().unwrap().len(), 4);
    assert!(json["missing_tasks"].as_array().unwrap().is_empty());
    // A second call finds every task done and changes no result.
    let before: Vec<_> = (0..8).map(|t| mtime(&runs.join(format!("task_{:04}/sample_{:02}/results.json", t, t % 2)))).collect();
    ok(&glassmd(1, 1, &["study", study.to_str().unwrap(), "--dir", "runs"], d.path()));
    let after: Vec<_> = (0..8).map(|t| mtime(&runs.join(format!("task_{:04}/sample_{:02}/results.json", t, t % 2)))).collect();
    assert_eq!(before, after, "finished runs were redone");
    assert_eq!(std::fs::read_to_string(runs.join("study.csv")).unwrap(), rows);
}

#[test]
fn a_killed_study_resumes_without_redoing_finished_runs() {
    use std::os::unix::process::CommandExt;
    let d = tempdir();
    let study = study_in(d.path(), |t| t);
    let runs = d.path().join("runs");
    let mut child = Command::new(bin()).args(["study", study.to_str().unwrap(), "--dir", "runs"]).current_dir(d.path()).process_group(0).spawn().unwrap();
    // Tasks run in order: once task 3's folder exists, tasks 0-2 are done.
    let first = runs.join("task_0000/sample_00/results.json");
    let third = runs.join("task_0002/sample_00/results.json");
    let t0 = std::time::Instant::now();
    while !runs.join("task_0003").exists() {
        assert!(t0.elapsed().as_secs() < 300, "the study did not reach task 2");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // Kill the study and the run it is in.
    let pg = format!("-{}", child.id());
    Command::new("kill").args(["-KILL", "--", &pg]).status().unwrap();
    child.wait().unwrap();
    assert!(!runs.join("task_0007/sample_01/results.json").exists(), "the study finished before it was killed");
    let (m1, m3) = (mtime(&first), mtime(&third));
    let out = ok(&glassmd(1, 1, &["study", study.to_str().unwrap(), "--dir", "runs"], d.path()));
    assert!(!out.contains("have no results"), "{out}");
    assert_eq!((mtime(&first), mtime(&third)), (m1, m3), "finished runs were redone");
    for t in 0..8 {
        assert!(runs.join(format!("task_{:04}/sample_{:02}/results.json", t, t % 2)).exists(), "task {t}");
    }
}

#[test]
fn nonsense_in_a_study_is_refused() {
    let cases: [(&str, &str, &str); 7] = [
        ("expr = \"t_over_tg * 700\"", "expr = \"t_over_tg * nope\"", "derived 'temp'"),
        ("expr = \"is.pe_per_atom - start.pe_per_atom\"", "expr = \"is.pe_per_atom - pe\"", "report.derived 'pe_change': 'pe' is not a results.json key"),
        ("expr = \"is.pe_per_atom - start.pe_per_atom\"", "expr = \"is.pe_per_atom - (\"", "report.derived 'pe_change'"),
        ("value = \"is.delta_pe_per_atom\"", "value = \"is.pe\"", "map.value"),
        ("samples = 2", "samples = 3", "[samples] count is 2"),
        ("name = \"steps\"", "name = \"stepz\"", "axis 'stepz' is used neither"),
        ("x = \"t_over_tg\"", "x = \"tt\"", "map.x"),
    ];
    for (from, to, what) in cases {
        let d = tempdir();
        let study = study_in(d.path(), |t| t.replacen(from, to, 1));
        let o = glassmd(1, 1, &["study", study.to_str().unwrap()], d.path());
        let msg = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success() && msg.contains("study.toml") && msg.contains(what) && msg.trim().lines().count() == 1, "{to}: {msg}");
    }
}

/// The shipped studies (inputs/studies) load, expand and collect: their
/// decks take every point's variables.
#[test]
fn shipped_studies_load() {
    for (name, tasks) in [("rejuvenation_map", 36), ("pressure_map", 12), ("elastostatic_map", 15)] {
        let d = tempdir();
        let study = root().join("inputs/studies").join(name).join("study.toml");
        let out = ok(&glassmd(1, 1, &["study", study.to_str().unwrap(), "--dir", "runs", "--collect"], d.path()));
        assert!(out.contains(&format!("= {} tasks", tasks)) && out.contains(&format!("{} of {} tasks have no results yet", tasks, tasks)), "{name}: {out}");
        // Every point's variables make a valid deck.
        let s = glassmd::run::study::Study::load(&study).unwrap();
        for p in 0..s.points.len() {
            glassmd::config::Deck::load_with(&s.deck, &s.vars_of(p)).unwrap_or_else(|e| panic!("{name} point {p}: {e}"));
        }
    }
}

/// A map without y is a curve (seed 002's energy change against the held
/// stress): the SVG draws the means with their error bars, and the zero
/// crossing is the linear interpolation between the points whose means
/// change sign.
#[test]
fn a_one_axis_map_is_a_curve_with_its_zero_crossing() {
    let d = tempdir();
    let one_axis = |extra: &str| {
        let extra = extra.to_string();
        move |t: String| {
            let t = t.replace("[[axis]]\nname = \"steps\"\nvalues = [50, 100]\n", "[vars]\nsteps = 50\n").replace("y = \"steps\"\n", "");
            t.replace("[map]", &format!("{extra}[map]"))
        }
    };
    let study = study_in(d.path(), one_axis(""));
    let text = std::fs::read_to_string(&study).unwrap();
    assert!(!text.contains("y = ") && text.contains("steps = 50"), "{text}");
    let out = ok(&glassmd(1, 1, &["study", study.to_str().unwrap(), "--dir", "runs"], d.path()));
    assert!(out.contains("2 points x 2 samples = 4 tasks"), "{out}");
    let runs = d.path().join("runs");
    let svg = std::fs::read_to_string(runs.join("map.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("is.delta_pe_per_atom") && svg.contains("t_over_tg"), "map.svg");
    let json = results_json(&runs.join("study.json"));
    assert!(json["map"]["y"].is_null());
    let means: Vec<f64> = json["points"].as_array().unwrap().iter().map(|p| p["results"]["is.delta_pe_per_atom"]["mean"].as_f64().unwrap()).collect();
    assert_eq!(means.len(), 2);
    assert_ne!(means[0], means[1]);
    // Shift the quantity by a constant between the two means, so that it
    // changes sign between t_over_tg = 0.5 and 1.5; collect again.
    let c = 0.25 * means[0] + 0.75 * means[1];
    let derived = format!("[[report.derived]]\nname = \"shifted\"\nexpr = \"is.pe_per_atom - start.pe_per_atom - ({c:e})\"\n\n");
    let study = study_in(d.path(), one_axis(&derived));
    std::fs::write(&study, std::fs::read_to_string(&study).unwrap().replace("value = \"is.delta_pe_per_atom\"", "value = \"shifted\"")).unwrap();
    let out = ok(&glassmd(1, 1, &["study", study.to_str().unwrap(), "--dir", "runs", "--collect"], d.path()));
    let json = results_json(&runs.join("study.json"));
    let (z0, z1) = (means[0] - c, means[1] - c);
    let want = 0.5 + 1.0 * z0 / (z0 - z1);
    let got = json["map"]["zero_crossings"][0]["t_over_tg"].as_f64().unwrap_or_else(|| panic!("{out}\n{}", json["map"]));
    assert!((got - want).abs() <= 1e-9 && (got - 1.25).abs() <= 1e-6, "crossing at {got}, expected {want}");
    assert!(out.contains("shifted = 0 at t_over_tg = 1.2500"), "{out}");
    let svg = std::fs::read_to_string(runs.join("map.svg")).unwrap();
    assert!(svg.contains("shifted = 0 at t_over_tg = 1.250"), "the crossing is drawn and labelled");
}

/// Preludes (tests/data/study_prelude): Tg measured at each Pa places the
/// grid's temperature (derived temp = t_over_tg × Tg(Pa), Tg exported from
/// the prelude's results), every point of a sample starts from that
/// sample's glass, and a second call reruns neither preludes nor grid.
#[test]
fn preludes_run_once_and_feed_the_grid() {
    let d = tempdir();
    let study = root().join("tests/data/study_prelude/study.toml");
    let out = ok(&glassmd(1, 1, &["study", study.to_str().unwrap(), "--dir", "runs"], d.path()));
    assert!(out.contains("4 points x 2 samples = 8 tasks after 4 prelude task(s)"), "{out}");
    let runs = d.path().join("runs");
    // Tg at each Pa, with its fit windows, in prelude_tg.csv and study.json.
    let tg_of = |k: usize| results_json(&runs.join(format!("prelude_tg/task_{:04}/results.json", k)))["tg"].clone();
    let pcsv = std::fs::read_to_string(runs.join("prelude_tg.csv")).unwrap();
    let head: Vec<&str> = pcsv.lines().next().unwrap().split(',').collect();
    for col in ["pa_gpa", "tg.volume", "tg.volume_glass_from", "tg.volume_glass_to", "tg.volume_liquid_from", "tg.volume_liquid_to"] {
        assert!(head.contains(&col), "{col}: {pcsv}");
    }
    assert_eq!(tg_of(0)["volume_glass_from"].as_f64(), Some(300.0));
    let sj = results_json(&runs.join("study.json"));
    assert_eq!(sj["preludes"]["tg"]["runs"][1]["vars"]["pa_gpa"].as_str(), Some("2"));
    assert_eq!(sj["preludes"]["tg"]["runs"][1]["results"]["tg.volume"].as_f64(), tg_of(1)["volume"].as_f64());
    // The Tg prelude cooled at its own rate (its vars), over the study's.
    for k in 0..2 {
        let v = results_json(&runs.join(format!("prelude_tg/task_{:04}/vars.json", k)));
        assert_eq!(v["rate_k_per_ps"].as_str(), Some("100"), "{v}");
    }
    // The grid: temp from the Tg of its Pa, glass from its sample.
    let rows = std::fs::read_to_string(runs.join("study.csv")).unwrap();
    let lines: Vec<&str> = rows.lines().collect();
    assert_eq!(lines.len(), 5, "{rows}");
    for (p, l) in lines[1..].iter().enumerate() {
        let f: Vec<&str> = l.split(',').collect();
        let (pa, x, temp): (f64, f64, f64) = (f[1].parse().unwrap(), f[2].parse().unwrap(), f[3].parse().unwrap());
        let tg = tg_of(if pa == 0.0 { 0 } else { 1 })["volume"].as_f64().unwrap();
        assert_eq!(temp, x * tg, "point {p}");
        for s in 0..2 {
            let task = runs.join(format!("task_{:04}/sample_{:02}", 2 * p + s, s));
            let vars = results_json(&task.join("vars.json"));
            assert_eq!(vars["temp"].as_str().unwrap(), f[3]);
            let glass = runs.join(format!("prelude_glass/task_{:04}/sample_{:02}", s, s));
            assert_eq!(vars["glass_dir"].as_str().unwrap(), glass.to_str().unwrap());
            // The run starts from the glass: its energy, through glass.data.
            let (e0, eg) = (results_json(&task.join("results.json"))["start"]["pe_per_atom"].as_f64().unwrap(), results_json(&glass.join("results.json"))["glass"]["pe_per_atom"].as_f64().unwrap());
            assert!((e0 - eg).abs() <= 1e-12 * eg.abs(), "point {p} sample {s}: {e0} vs {eg}");
        }
    }
    // The samples' glasses differ; the points of one sample share one.
    let g = |s: usize| results_json(&runs.join(format!("prelude_glass/task_{:04}/sample_{:02}/results.json", s, s)))["glass"]["pe_per_atom"].as_f64();
    assert_ne!(g(0), g(1));
    // Again: nothing is rerun.
    let files: Vec<PathBuf> = ["prelude_tg/task_0001/results.json", "prelude_glass/task_0001/sample_01/results.json", "task_0007/sample_01/results.json"].iter().map(|f| runs.join(f)).collect();
    let before: Vec<_> = files.iter().map(|f| mtime(f)).collect();
    ok(&glassmd(1, 1, &["study", study.to_str().unwrap(), "--dir", "runs"], d.path()));
    assert_eq!(before, files.iter().map(|f| mtime(f)).collect::<Vec<_>>());
}

/// `--jobs 3` runs the preludes side by side, then the grid's tasks, and
/// collects the same table as one run at a time (every task is
/// deterministic and none reads another's folder except the preludes').
#[test]
fn parallel_local_jobs_give_the_sequential_results() {
    let study = root().join("tests/data/study_prelude/study.toml");
    let table = |jobs: &str| {
        let d = tempdir();
        let out = ok(&glassmd(1, 1, &["study", study.to_str().unwrap(), "--dir", "runs", "--jobs", jobs], d.path()));
        assert!(!out.contains("have no results"), "{out}");
        (std::fs::read_to_string(d.path().join("runs/study.csv")).unwrap(), std::fs::read_to_string(d.path().join("runs/prelude_tg.csv")).unwrap())
    };
    let (one, three) = (table("1"), table("3"));
    assert_eq!(one.0.lines().count(), 5, "{}", one.0);
    assert_eq!(one, three);
    let o = glassmd(1, 1, &["study", study.to_str().unwrap(), "--jobs", "0"], &root());
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("--jobs"));
}

/// Before its preludes have run, a study collects what it can: the
/// unmeasured Tg leaves the derived temperature empty, and says so.
#[test]
fn a_study_collected_before_its_preludes_says_what_is_missing() {
    let d = tempdir();
    let study = root().join("tests/data/study_prelude/study.toml");
    let out = ok(&glassmd(1, 1, &["study", study.to_str().unwrap(), "--dir", "runs", "--collect"], d.path()));
    assert!(out.contains("prelude tg task 0 has no results yet") && out.contains("8 of 8 tasks have no results yet"), "{out}");
    let rows = std::fs::read_to_string(d.path().join("runs/study.csv")).unwrap();
    assert!(rows.lines().skip(1).all(|l| l.split(',').nth(3) == Some("")), "{rows}");
}

/// Nonsense in a prelude is refused with one line naming the study file.
#[test]
fn nonsense_in_a_prelude_is_refused() {
    let src = root().join("tests/data/study_prelude");
    let cases: [(&str, &str, &str); 7] = [
        ("vars = { rate_k_per_ps = 100.0 }", "vars = { rate_k_per_ps = 100.0, nope = 1 }", "prelude 'tg': vars.nope, but its deck"),
        ("vars = { rate_k_per_ps = 100.0 }", "vars = { pa_gpa = 1.0 }", "prelude 'tg': vars.pa_gpa: a name is letters, digits and _, and not an axis"),
        ("over = [\"pa_gpa\"]", "over = [\"pa\"]", "over 'pa' is not an axis"),
        ("per_sample = true", "per_sample = true\nexport = { e = \"glass.pe_per_atom\" }", "export needs one run per point"),
        ("export = { tg = \"tg.volume\" }", "export = { tg = \"volume\" }", "name.quantity"),
        ("expr = \"t_over_tg * tg\"", "expr = \"t_over_tg * tgg\"", "derived 'temp'"),
        ("deck = \"tg.toml\"", "deck = \"nope.toml\"", "prelude 'tg': deck: cannot read"),
    ];
    for (from, to, what) in cases {
        let d = tempdir();
        // The decks made absolute, then the edit.
        let abs = |t: &str| t.replace("deck = \"", &format!("deck = \"{}/", src.display()));
        let orig = abs(&std::fs::read_to_string(src.join("study.toml")).unwrap());
        let text = orig.replacen(&abs(from), &abs(to), 1);
        assert_ne!(text, orig, "{from}");
        let study = d.path().join("study.toml");
        std::fs::write(&study, text).unwrap();
        let o = glassmd(1, 1, &["study", study.to_str().unwrap()], d.path());
        let msg = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success() && msg.contains("study.toml") && msg.contains(what) && msg.trim().lines().count() == 1, "{to}: {msg}");
    }
}

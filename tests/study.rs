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
    let cases: [(&str, &str, &str); 5] = [
        ("expr = \"t_over_tg * 700\"", "expr = \"t_over_tg * nope\"", "derived 'temp'"),
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
    for (name, tasks) in [("rejuvenation_map", 36), ("pressure_map", 12)] {
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

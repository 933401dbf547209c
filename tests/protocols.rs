//! Every protocol deck shipped in inputs/ runs under `mpirun` on 1, 2 and 4
//! ranks and writes what it reports. The decks are shrunk for CI (256
//! atoms, 1 ps holds, 20× faster ramps, at least 400 K/ps); the physics checks are the ones a
//! shrunk run can still honour: box relaxations end at their pressures,
//! minimised energies lie below the MD energy they came from, records
//! difference correctly, and samples are reproducible one by one.
mod common;
use common::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Shrink a shipped deck: fewer atoms, shorter holds, faster ramps, and the
/// potential path made absolute.
fn shrink(text: &str) -> String {
    let pot = root().join("inputs/potentials");
    text.lines()
        .map(|l| {
            let (k, v) = match l.split_once('=') {
                Some((k, v)) => (k.trim(), v.split('#').next().unwrap().trim()),
                None => return l.to_string(),
            };
            match k {
                "atoms" => "atoms = 256".to_string(),
                "time_ps" => "time_ps = 1".to_string(),
                // At least 400 K/ps: a deck's 1 K/ps quench (seed 001's D)
                // would otherwise cost minutes per rank count.
                "rate_k_per_ps" => format!("{} = {}", k, (v.parse::<f64>().unwrap() * 20.0).max(400.0)),
                "rate_gpa_per_ps" => format!("{} = {}", k, v.parse::<f64>().unwrap() * 20.0),
                "file" if v.contains("../potentials/") => l.replace("../potentials", pot.to_str().unwrap()),
                _ => l.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The deck `name` shrunk into a fresh folder; returns (folder, deck path).
fn prepare(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempdir();
    let text = std::fs::read_to_string(root().join("inputs").join(name).join("deck.toml")).unwrap();
    let deck = dir.path().join("deck.toml");
    std::fs::write(&deck, shrink(&text)).unwrap();
    (dir, deck)
}

/// glassmd under mpirun with np ranks (also np = 1); its log (stderr).
fn mpirun(np: usize, args: &[&str], dir: &Path) -> String {
    let out = glassmd_mpirun(np, args, dir);
    ok(&out);
    String::from_utf8_lossy(&out.stderr).to_string()
}

type Results = BTreeMap<String, BTreeMap<String, f64>>;

fn results(dir: &Path) -> Results {
    serde_json::from_str(&std::fs::read_to_string(dir.join("results.json")).unwrap()).unwrap()
}

fn assert_at_pressure(r: &BTreeMap<String, f64>, p: f64, what: &str) {
    // Box relaxation zeroes velocities, so the recorded pressure is the
    // virial pressure the relaxation drove to p (ptol 1e-4 GPa).
    assert!((r["pressure_gpa"] - p).abs() <= 1e-4, "{what}: pressure {} GPa, target {p}", r["pressure_gpa"]);
    assert!(r["temperature"] == 0.0, "{what}: temperature {}", r["temperature"]);
}

fn check_delta(r: &Results, name: &str, base: &str) {
    let (a, b) = (&r[name], &r[base]);
    for q in ["pe_per_atom", "density", "volume_per_atom"] {
        let d = a[&format!("delta_{q}")];
        assert!((d - (a[q] - b[q])).abs() <= 1e-12 * a[q].abs(), "{name}.delta_{q}");
    }
    assert!((a["delta_density_rel"] - (a["density"] / b["density"] - 1.0)).abs() < 1e-12);
}

#[test]
fn melt_quench_on_1_2_4_ranks() {
    for np in [1, 2, 4] {
        let (dir, deck) = prepare("melt_quench");
        mpirun(np, &["run", deck.to_str().unwrap()], dir.path());
        assert!(dir.path().join("glass.data").exists());
        let t = read_thermo_csv(&dir.path().join("thermo.csv"));
        let pe = t.last().unwrap()["pe"] / 256.0;
        assert!((-4.5..-4.2).contains(&pe), "np {np}: PE per atom {pe}");
    }
}

#[test]
fn thermal_rejuvenation_on_1_2_4_ranks() {
    for np in [1, 2, 4] {
        let (dir, deck) = prepare("rejuvenation");
        let log = mpirun(np, &["run", deck.to_str().unwrap()], dir.path());
        assert!(log.contains("record rejuvenated") && log.contains("delta_pe_per_atom"), "{log}");
        let r = results(dir.path());
        assert_at_pressure(&r["as_quenched"], 0.0, "as_quenched");
        assert_at_pressure(&r["rejuvenated"], 0.0, "rejuvenated");
        check_delta(&r, "rejuvenated", "as_quenched");
        // The deck's [analysis] of both inherent structures.
        for k in ["analysis_as_quenched", "analysis_rejuvenated"] {
            let f = r[k]["ico_fraction_all"];
            assert!((0.0..0.5).contains(&f) && r[k]["w6_Cu"].is_finite(), "np {np}: {k} {:?}", r[k]);
        }
        // The reheat went above the as-quenched state (Ta = 1.5 Tg = 1312 K
        // from temperature_over_tg; its arithmetic is a unit test in
        // config). Shrunk to 1 ps, the hold (stage 10) is still heating.
        let from = |k: usize| -> f64 {
            let l = log.lines().find(|l| l.contains(&format!("stage {k} (npt) from step"))).unwrap();
            l.rsplit(' ').next().unwrap().parse().unwrap()
        };
        let (a, b) = (from(10), from(11));
        let t = read_thermo_csv(&dir.path().join("thermo.csv"));
        let hold: Vec<f64> = t.iter().filter(|r| r["step"] > a && r["step"] <= b).map(|r| r["temperature"]).collect();
        let mean = hold.iter().sum::<f64>() / hold.len() as f64;
        assert!(!hold.is_empty() && mean > 400.0, "np {np}: hold at {mean} K");
        for f in ["as_quenched.data", "rejuvenated.data"] {
            assert!(dir.path().join(f).exists(), "{f}");
        }
    }
}

#[test]
fn pressure_rejuvenation_d_to_j_on_1_2_4_ranks() {
    for np in [1, 2, 4] {
        let (dir, deck) = prepare("pressure_rejuvenation");
        mpirun(np, &["run", deck.to_str().unwrap()], dir.path());
        let r = results(dir.path());
        assert_at_pressure(&r["D"], 0.0, "D");
        assert_at_pressure(&r["loaded"], 5.0, "loaded");
        assert_at_pressure(&r["J"], 0.0, "J");
        check_delta(&r, "J", "D");
        // Under 5 GPa the glass is denser than at zero pressure.
        assert!(r["loaded"]["delta_density"] > 0.0, "np {np}: loaded glass not denser");
        eprintln!("np {np}: E_J - E_D = {:.5} eV/atom", r["J"]["delta_pe_per_atom"]);
    }
}

#[test]
fn inherent_structures_along_a_quench_on_1_2_4_ranks() {
    for np in [1, 2, 4] {
        let (dir, deck) = prepare("inherent_structures");
        mpirun(np, &["run", deck.to_str().unwrap()], dir.path());
        let rows = read_thermo_csv(&dir.path().join("inherent_structures.csv"));
        // 2000 -> 300 K every 100 K: 18 temperatures, both ends included.
        assert_eq!(rows.len(), 18, "np {np}");
        let targets: Vec<f64> = rows.iter().map(|r| r["target_temperature"]).collect();
        for (k, t) in targets.iter().enumerate() {
            assert!((t - (2000.0 - 100.0 * k as f64)).abs() < 1.0, "np {np}: row {k} at {t} K");
        }
        for r in &rows {
            // Minimisation lowers the energy; releasing the box at P = 0
            // lowers it further (the fixed-box minimum is a start of it).
            assert!(r["e_is_fixed_box_per_atom"] < r["pe_md_per_atom"], "{r:?}");
            assert!(r["e_is_p0_per_atom"] <= r["e_is_fixed_box_per_atom"] + 1e-9, "{r:?}");
            assert!((7.0..8.0).contains(&r["density_p0"]), "{r:?}");
        }
        // The MD carries on from the unminimised state: the quench ends hot
        // enough to have kinetic energy.
        let t = read_thermo_csv(&dir.path().join("thermo.csv"));
        assert!(t.last().unwrap()["temperature"] > 100.0);
    }
}

#[test]
fn tg_deck_on_1_2_4_ranks() {
    for np in [1, 2, 4] {
        let (dir, deck) = prepare("tg");
        let stdout = ok(&glassmd_mpirun(np, &["run", deck.to_str().unwrap()], dir.path()));
        assert!(stdout.contains("Tg = ") && stdout.contains("from volume per atom") && stdout.contains("from pe per atom"), "{stdout}");
        let j: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("tg.json")).unwrap()).unwrap();
        for q in ["volume", "pe"] {
            assert!(j[q]["tg"].as_f64().unwrap().is_finite());
            // The fitted points span at most the deck's windows.
            let w = |line: &str, k: usize| j[q][line]["window"][k].as_f64().unwrap();
            assert!(w("glass", 0) >= 300.0 && w("glass", 1) <= 550.0 && w("liquid", 0) >= 1000.0 && w("liquid", 1) <= 1400.0, "{q}: {}", j[q]);
            assert!(j[q]["glass"]["points"].as_u64().unwrap() >= 2 && j[q]["liquid"]["points"].as_u64().unwrap() >= 2);
        }
        // Fitted against the quench stage's target temperatures.
        assert_eq!(j["stage"].as_u64(), Some(5));
        let pts = j["points"]["rows"].as_array().unwrap();
        let (first, last) = (pts[0][0].as_f64().unwrap(), pts.last().unwrap()[0].as_f64().unwrap());
        assert!((1300.0..1400.0).contains(&first) && last == 300.0, "targets {first} .. {last}");
        assert_eq!(results(dir.path())["tg"]["volume"], j["volume"]["tg"].as_f64().unwrap());
    }
}

#[test]
fn samples_summarise_and_rerun_one_by_one() {
    for np in [1, 2, 4] {
        let (dir, deck) = prepare("samples");
        let log = mpirun(np, &["run", deck.to_str().unwrap()], dir.path());
        assert!(log.contains("sample 2"), "{log}");
        let s: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("samples.json")).unwrap()).unwrap();
        let pe = &s["results"]["glass.pe_per_atom"];
        let values: Vec<f64> = pe["values"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        assert_eq!(values.len(), 3);
        // Different seeds, different glasses.
        assert!(values[0] != values[1] && values[1] != values[2]);
        let mean = values.iter().sum::<f64>() / 3.0;
        let se = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 2.0 / 3.0).sqrt();
        assert!((pe["mean"].as_f64().unwrap() - mean).abs() < 1e-12 && (pe["std_error"].as_f64().unwrap() - se).abs() < 1e-12);
        for (k, v) in values.iter().enumerate() {
            let r = results(&dir.path().join(format!("sample_{k:02}")));
            assert_eq!(r["glass"]["pe_per_atom"], *v);
        }
        // One sample on its own (a Slurm array task) is the same run.
        let again = tempdir();
        std::fs::copy(&deck, again.path().join("deck.toml")).unwrap();
        let d2 = again.path().join("deck.toml");
        mpirun(np, &["run", d2.to_str().unwrap(), "--sample", "1"], again.path());
        let r = results(&again.path().join("sample_01"));
        assert_eq!(r["glass"]["pe_per_atom"], values[1], "np {np}: --sample 1 differs");
        assert!(!again.path().join("sample_00").exists());
        // summarize reports what is there and names what is missing.
        let out = Command::new(bin()).args(["summarize", d2.to_str().unwrap()]).current_dir(again.path()).output().unwrap();
        let text = ok(&out);
        assert!(text.contains("1 of 3 samples") && text.contains("missing [0, 2]"), "{text}");
    }
}

#[test]
fn protocol_input_errors() {
    let cases = [
        ("[samples]\ncount = 0\n", "", "samples.count"),
        ("", "[[stage]]\nkind = \"record\"\nname = \"b\"\nrelative_to = \"a\"\n", "names no earlier record"),
        ("", "[[stage]]\nkind = \"tg\"\n", "earlier MD stage"),
        ("", "[[stage]]\nkind = \"nvt\"\nsteps = 10\ntemperature_over_tg = 1.2\n", "needs [glass] tg"),
        ("[glass]\ntg = 700.0\n", "[[stage]]\nkind = \"nvt\"\nsteps = 10\ntemperature = 5.0\ntemperature_over_tg = 1.2\n", "not both"),
        ("", "[[stage]]\nkind = \"npt\"\ntemperature = 500.0\npressure_gpa = 0.0\nsteps = 10\ninherent_structures = { every_k = 10.0 }\n", "needs a temperature ramp"),
    ];
    for (head, stage, words) in cases {
        let dir = tempdir();
        let text = format!(
            "{head}[system]\nread_data = \"{}\"\n[potential]\nstyle = \"eam/fs\"\nfile = \"{}\"\nelements = [\"Cu\", \"Zr\"]\n{stage}",
            root().join("tests/data/lammps_min/glass300.data").display(),
            potential("CuZr_mm.eam.fs").display()
        );
        std::fs::write(dir.path().join("deck.toml"), text).unwrap();
        let out = glassmd(1, 1, &["run", "deck.toml"], dir.path());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.lines().count() == 1 && err.contains("deck.toml") && err.contains(words), "{words}: {err}");
    }
    // --sample without [samples], and out of range.
    let (dir, deck) = prepare("samples");
    let out = glassmd(1, 1, &["run", deck.to_str().unwrap(), "--sample", "3"], dir.path());
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("out of range"));
}

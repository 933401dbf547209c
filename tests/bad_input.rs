//! Bad input gives one line on stderr naming the file and the problem, a
//! non-zero exit status, and no panic.
mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::Output;

fn fails_with(out: &Output, file: &Path, words: &[&str]) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "expected failure, got success; stderr: {err}");
    assert_ne!(out.status.code(), Some(101), "exit code 101 means a panic: {err}");
    assert!(!err.contains("panicked"), "panic: {err}");
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected exactly one line on stderr, got: {err}");
    let name = file.file_name().unwrap().to_str().unwrap();
    assert!(lines[0].contains(name), "error does not name {name}: {err}");
    for w in words {
        assert!(lines[0].contains(w), "error does not say '{w}': {err}");
    }
}

fn forces_cmd(dir: &Path, data: &Path, pot: &Path, style: &str, els: &[&str], boundary: &str) -> Output {
    let mut args = vec![
        "forces", "--data", data.to_str().unwrap(), "--potential", pot.to_str().unwrap(), "--style", style, "--boundary",
        boundary,
    ];
    if !els.is_empty() {
        args.push("--elements");
        args.extend_from_slice(els);
    }
    glassmd(1, 1, &args, dir)
}

fn ref_data() -> PathBuf {
    reference("cuzr_fs_ppp").join("config.data")
}

#[test]
fn truncated_potential_file() {
    let dir = tempdir();
    let text = std::fs::read_to_string(potential("CuZr_mm.eam.fs")).unwrap();
    let cut: String = text.lines().take(3000).collect::<Vec<_>>().join("\n");
    let pot = dir.path().join("Truncated.eam.fs");
    std::fs::write(&pot, cut).unwrap();
    let out = forces_cmd(dir.path(), &ref_data(), &pot, "eam/fs", &["Cu", "Zr"], "p,p,p");
    fails_with(&out, &pot, &["truncated"]);
    // Truncated in the header as well.
    std::fs::write(&pot, text.lines().take(4).collect::<Vec<_>>().join("\n")).unwrap();
    fails_with(&forces_cmd(dir.path(), &ref_data(), &pot, "eam/fs", &["Cu", "Zr"], "p,p,p"), &pot, &["truncated"]);
    // A funcfl file cut short.
    let text = std::fs::read_to_string(potential("Cu_u3.eam")).unwrap();
    let pot = dir.path().join("Short.eam");
    std::fs::write(&pot, &text[..text.len() / 2]).unwrap();
    let data = reference("cu_funcfl_ppp").join("config.data");
    fails_with(&forces_cmd(dir.path(), &data, &pot, "eam", &[], "p,p,p"), &pot, &["truncated"]);
}

#[test]
fn garbage_in_potential_file() {
    let dir = tempdir();
    let text = std::fs::read_to_string(potential("CuNi.eam.alloy")).unwrap();
    let pot = dir.path().join("Garbage.eam.alloy");
    std::fs::write(&pot, text.replacen("0.1281429334268537E-01", "0.12814x9E-01", 1)).unwrap();
    let data = reference("cuni_setfl_ppp").join("config.data");
    fails_with(&forces_cmd(dir.path(), &data, &pot, "eam/alloy", &["Cu", "Ni"], "p,p,p"), &pot, &["line 5"]);
}

#[test]
fn potential_with_too_few_grid_points() {
    let dir = tempdir();
    let pot = dir.path().join("Tiny.eam");
    std::fs::write(&pot, "tiny\n29 63.55 3.615 FCC\n3 0.1 3 0.1 0.2\n0 0 0\n0 0 0\n0 0 0\n").unwrap();
    let data = reference("cu_funcfl_ppp").join("config.data");
    fails_with(&forces_cmd(dir.path(), &data, &pot, "eam", &[], "p,p,p"), &pot, &["invalid grid"]);
}

#[test]
fn element_not_in_potential() {
    let dir = tempdir();
    let pot = potential("CuZr_mm.eam.fs");
    let out = forces_cmd(dir.path(), &ref_data(), &pot, "eam/fs", &["Cu", "Al"], "p,p,p");
    fails_with(&out, &pot, &["'Al'", "not in this potential"]);
}

#[test]
fn atom_type_without_element() {
    let dir = tempdir();
    let text = std::fs::read_to_string(ref_data()).unwrap().replace("2 atom types", "3 atom types").replace("\n2 91.224\n", "\n2 91.224\n3 26.98\n");
    let data = dir.path().join("three_types.data");
    std::fs::write(&data, text).unwrap();
    let out = forces_cmd(dir.path(), &data, &potential("CuZr_mm.eam.fs"), "eam/fs", &["Cu", "Zr"], "p,p,p");
    fails_with(&out, &data, &["atom type 3 has no element"]);
}

#[test]
fn atom_outside_non_periodic_box() {
    let dir = tempdir();
    let text = std::fs::read_to_string(ref_data()).unwrap();
    let text = text.replacen("\n1 1 0.6007427921790413 ", "\n1 1 40.5 ", 1);
    let data = dir.path().join("outside.data");
    std::fs::write(&data, text).unwrap();
    let out = forces_cmd(dir.path(), &data, &potential("CuZr_mm.eam.fs"), "eam/fs", &["Cu", "Zr"], "f,p,p");
    fails_with(&out, &data, &["atom 1", "outside the non-periodic box"]);
    // The same file is fine when x is periodic: the atom is wrapped.
    let out = forces_cmd(dir.path(), &data, &potential("CuZr_mm.eam.fs"), "eam/fs", &["Cu", "Zr"], "p,p,p");
    assert!(out.status.success());
}

fn deck_with(dir: &Path, stage: &str) -> PathBuf {
    write_deck(dir, &ref_data(), "p,p,p", "eam/fs", "CuZr_mm.eam.fs", &["Cu", "Zr"], stage)
}

fn line_of(deck: &Path, needle: &str) -> usize {
    std::fs::read_to_string(deck).unwrap().lines().position(|l| l.contains(needle)).unwrap() + 1
}

#[test]
fn deck_with_unknown_key() {
    let dir = tempdir();
    let deck = deck_with(dir.path(), "[[stage]]\nkind = \"nve\"\nstepz = 10\n");
    let out = glassmd(1, 1, &["run", deck.to_str().unwrap()], dir.path());
    let line = format!("line {}", line_of(&deck, "stepz"));
    fails_with(&out, &deck, &["stepz", &line]);
    // In a plain section too.
    let deck = deck_with(dir.path(), "[neighbor]\nskin = 1.0\nbinsize = 2.0\n");
    let out = glassmd(1, 1, &["run", deck.to_str().unwrap()], dir.path());
    let line = format!("line {}", line_of(&deck, "binsize"));
    fails_with(&out, &deck, &["binsize", &line]);
}

#[test]
fn deck_with_wrong_type() {
    let dir = tempdir();
    let deck = deck_with(dir.path(), "[[stage]]\nkind = \"nve\"\nsteps = \"many\"\n");
    let out = glassmd(1, 1, &["run", deck.to_str().unwrap()], dir.path());
    let line = format!("line {}", line_of(&deck, "\"many\""));
    fails_with(&out, &deck, &["expected a whole number of steps", &line]);
    let deck = deck_with(dir.path(), "[thermo]\nevery = 1.5\n");
    let out = glassmd(1, 1, &["run", deck.to_str().unwrap()], dir.path());
    let line = format!("line {}", line_of(&deck, "every"));
    fails_with(&out, &deck, &["expected a whole number of steps", &line]);
}

#[test]
fn unknown_stage_kind_and_bad_values() {
    let dir = tempdir();
    let deck = deck_with(dir.path(), "[[stage]]\nkind = \"teleport\"\n");
    fails_with(&glassmd(1, 1, &["run", deck.to_str().unwrap()], dir.path()), &deck, &["teleport"]);
    let deck = deck_with(dir.path(), "[[stage]]\nkind = \"nve\"\nsteps = 10\ntimestep = -0.001\n");
    fails_with(&glassmd(1, 1, &["run", deck.to_str().unwrap()], dir.path()), &deck, &["timestep"]);
}

#[test]
fn missing_data_file() {
    let dir = tempdir();
    let data = dir.path().join("nowhere.data");
    let out = forces_cmd(dir.path(), &data, &potential("CuZr_mm.eam.fs"), "eam/fs", &["Cu", "Zr"], "p,p,p");
    fails_with(&out, &data, &[]);
}

#[test]
fn lost_atoms_stop_the_run_with_the_step() {
    // The periodic liquid put in a box with fixed faces along x: atoms at the
    // faces moving outwards leave it within a few dozen steps.
    let dir = tempdir();
    let deck = write_deck(
        dir.path(),
        &ref_data(),
        "f,p,p",
        "eam/fs",
        "CuZr_mm.eam.fs",
        &["Cu", "Zr"],
        "[neighbor]\nskin = 0.2\n\n[[stage]]\nkind = \"nve\"\nsteps = 500\ntimestep = 0.001\n",
    );
    let out = glassmd(1, 1, &["run", deck.to_str().unwrap()], dir.path());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "run should fail: {err}");
    assert!(!err.contains("panicked"), "{err}");
    let line = err.lines().find(|l| l.contains("lost atoms")).unwrap_or_else(|| panic!("no lost-atoms error: {err}"));
    let step: u64 = line.split("at step ").nth(1).and_then(|r| r.split(':').next()).and_then(|s| s.trim().parse().ok()).expect("step");
    assert!(step > 0 && step <= 500, "{line}");
    assert!(line.contains("of 2048 remain"), "{line}");
}

//! Forces, per-atom energies, per-atom stresses and totals against LAMMPS
//! (tests/data/reference, computed by LAMMPS 29 Sep 2021), for every EAM
//! flavour, on 1, 2 and 4 MPI ranks and on 1 and 2 threads.
mod common;
use common::*;

fn check_case(case: &str, style: &str, pot: &str, boundary: &str, elements: &[&str], np: usize, threads: usize) {
    let dir = tempdir();
    let refdir = reference(case);
    let dump = dir.path().join("out.dump");
    let data = refdir.join("config.data");
    let potp = potential(pot);
    let mut args = vec![
        "forces",
        "--data",
        data.to_str().unwrap(),
        "--potential",
        potp.to_str().unwrap(),
        "--style",
        style,
        "--boundary",
        boundary,
        "--dump",
        dump.to_str().unwrap(),
    ];
    if !elements.is_empty() {
        args.push("--elements");
        args.extend_from_slice(elements);
    }
    let out = ok(&glassmd(np, threads, &args, dir.path()));
    let tag = format!("{case} np={np} threads={threads}");

    // Per-atom: id type fx fy fz pe sxx syy szz sxy sxz syz.
    let want = read_dump(&refdir.join("forces.dump"));
    let got = read_dump(&dump);
    assert_eq!(want.keys().collect::<Vec<_>>(), got.keys().collect::<Vec<_>>(), "{tag}: atom ids differ");
    let smax = want.values().flat_map(|r| r[6..12].iter().map(|v| v.abs())).fold(0.0, f64::max);
    let (mut df, mut de, mut ds) = (0.0f64, 0.0f64, 0.0f64);
    for (id, w) in &want {
        let g = &got[id];
        assert_eq!(w[1], g[1], "{tag}: type of atom {id}");
        for k in 2..5 {
            df = df.max((w[k] - g[k]).abs());
        }
        de = de.max((w[5] - g[5]).abs());
        for k in 6..12 {
            ds = ds.max((w[k] - g[k]).abs() / smax);
        }
    }
    assert!(df <= 1e-8, "{tag}: max force error {df:e} eV/A");
    assert!(de <= 1e-9, "{tag}: max per-atom energy error {de:e} eV");
    assert!(ds <= 1e-9, "{tag}: max per-atom stress error {ds:e} (relative to the largest component)");

    // Totals against the step-0 thermo line of the LAMMPS log.
    let log = read_lammps_log(&refdir.join("ref.log"));
    let t0 = &log[0][0];
    let json = last_json(&out);
    for (ours, theirs) in [
        ("pe", "PotEng"),
        ("ke", "KinEng"),
        ("etotal", "TotEng"),
        ("press", "Press"),
        ("pxx", "Pxx"),
        ("pyy", "Pyy"),
        ("pzz", "Pzz"),
        ("pxy", "Pxy"),
        ("pxz", "Pxz"),
        ("pyz", "Pyz"),
        ("volume", "Volume"),
    ] {
        let g = json[ours].as_f64().unwrap();
        let w = t0[theirs];
        // Off-diagonal pressures are differences of large numbers: compare
        // them relative to the scalar pressure's scale.
        let scale = if ours.starts_with('p') { t0["Press"].abs().max(t0["Pxx"].abs()) } else { w.abs() };
        let rel = (g - w).abs() / scale;
        assert!(rel <= 1e-9, "{tag}: {ours} = {g} vs LAMMPS {w} (rel {rel:e})");
    }
}

#[test]
fn forces_match_lammps_serial() {
    for (case, style, pot, b, els) in CASES {
        check_case(case, style, pot, b, els, 1, 1);
    }
}

#[test]
fn forces_match_lammps_two_threads() {
    for (case, style, pot, b, els) in CASES {
        check_case(case, style, pot, b, els, 1, 2);
    }
}

#[test]
fn forces_match_lammps_two_ranks() {
    for (case, style, pot, b, els) in CASES {
        check_case(case, style, pot, b, els, 2, 1);
    }
}

#[test]
fn forces_match_lammps_four_ranks() {
    for (case, style, pot, b, els) in CASES {
        check_case(case, style, pot, b, els, 4, 1);
    }
}

#[test]
fn forces_match_lammps_two_ranks_two_threads() {
    for (case, style, pot, b, els) in CASES {
        check_case(case, style, pot, b, els, 2, 2);
    }
}

//! The example decks (inputs/cu64zr36_liquid, inputs/melt_quench) run to
//! completion at their shipped size, from a copy of inputs/ so the
//! repository stays clean, and write what they promise. The longer protocol
//! decks run shrunk in tests/protocols.rs.
mod common;
use common::*;

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn shipped_decks_run() {
    let dir = tempdir();
    let inputs = dir.path().join("inputs");
    copy_dir(&root().join("inputs"), &inputs);
    let mut n = 0;
    for e in std::fs::read_dir(&inputs).unwrap() {
        let folder = e.unwrap().path();
        let deck = folder.join("deck.toml");
        let full = ["cu64zr36_liquid", "melt_quench"];
        if !deck.exists() || !full.iter().any(|f| folder.ends_with(f)) {
            continue;
        }
        n += 1;
        // Two MPI ranks: every shipped deck must run decomposed.
        let out = ok(&glassmd(2, 1, &["run", deck.to_str().unwrap()], &folder));
        assert!(out.contains("Loop time"), "{}: no timing summary", deck.display());
        let t = read_thermo_csv(&folder.join("thermo.csv"));
        assert!(t.len() > 2, "{}: thermo lines", deck.display());
        let name = folder.file_name().unwrap().to_str().unwrap().to_string();
        match name.as_str() {
            "cu64zr36_liquid" => {
                // NVE after a velocity stage conserves energy.
                let e0 = t[1]["etotal"];
                for r in &t[1..] {
                    assert!((r["etotal"] - e0).abs() / 2048.0 < 1e-4, "{name}: energy drift");
                }
            }
            "melt_quench" => {
                // A Cu64Zr36 glass: dense, low energy, written out.
                let last = t.last().unwrap();
                let pe = last["pe"] / 1000.0;
                assert!((-4.45..-4.35).contains(&pe), "{name}: PE per atom {pe}");
                assert!((7.3..7.7).contains(&last["density"]), "{name}: density {}", last["density"]);
                assert!(folder.join("glass.data").exists());
                // Its [analysis]: the glass's structure in results.json.
                let r: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(folder.join("results.json")).unwrap()).unwrap();
                let ico = r["analysis_glass"]["ico_fraction_Cu"].as_f64().unwrap();
                assert!((0.0..0.5).contains(&ico), "{name}: Cu-centred icosahedra {ico}");
                assert!((10.0..16.0).contains(&r["analysis_glass"]["cn_all"].as_f64().unwrap()));
            }
            _ => {}
        }
    }
    assert!(n >= 2, "shipped decks found: {n}");
}

#[test]
fn example_deck_output_reads_back() {
    // write_data output is a valid data file for glassmd itself.
    let dir = tempdir();
    let inputs = dir.path().join("inputs");
    copy_dir(&root().join("inputs"), &inputs);
    let deck = inputs.join("cu64zr36_liquid/deck.toml");
    let text = std::fs::read_to_string(&deck).unwrap().replace("steps = 2000", "steps = 50");
    std::fs::write(&deck, text).unwrap();
    ok(&glassmd(2, 1, &["run", deck.to_str().unwrap()], deck.parent().unwrap()));
    let data = inputs.join("cu64zr36_liquid/final.data");
    let pot = potential("CuZr_mm.eam.fs");
    let out = ok(&glassmd(
        1,
        1,
        &["forces", "--data", data.to_str().unwrap(), "--potential", pot.to_str().unwrap(), "--style", "eam/fs", "--elements", "Cu", "Zr"],
        dir.path(),
    ));
    let j = last_json(&out);
    let t = read_thermo_csv(&inputs.join("cu64zr36_liquid/thermo.csv"));
    let last = t.last().unwrap();
    assert!((j["pe"].as_f64().unwrap() - last["pe"]).abs() < 1e-9 * last["pe"].abs(), "pe {} vs {}", j["pe"], last["pe"]);
}

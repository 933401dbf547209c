//! The bad-input corpus (lumol style): every file `tests/bad_input/*.case`
//! is a small input and the exact one-line error it must produce.
//!
//! A case file is a header of `key: value` lines, then the files of the case,
//! each after a line `--- NAME`:
//!
//! ```text
//! # What the case is about (comment lines start with #).
//! args: run deck.toml              the glassmd command line
//! expect: deck.toml: line 9: ...   stderr must be exactly "glassmd: error: " + this
//!                                  (`{*}` matches anything: machine-dependent numbers)
//! status: 1                        exit status (default 1)
//! env: NAME=VALUE                  environment (repeatable)
//! pre: run make.toml               glassmd runs before the case (exit 0 or 75)
//! derive: NEW = OLD | OP           a file made from another (after `pre`):
//!                                  OP is `head N` (lines), `bytes N`,
//!                                  `replace OLD NEW` (first one; `~` is a
//!                                  space), `flip N` (byte N ^= 0xff)
//! mpi: 2                           also under mpirun -np 2: one error line, no hang
//! --- deck.toml
//! ...
//! ```
//!
//! Placeholders in files, args and the expected text: `{POT_FS}`,
//! `{POT_ALLOY}`, `{POT_EAM}` (bundled potentials), `{DATA_FS}`,
//! `{DATA_ALLOY}`, `{DATA_EAM}` (LAMMPS reference configurations),
//! `{HEAD_FS}` (six lines: `[system]` reading `{DATA_FS}` and the eam/fs
//! `[potential]`), `{DIR}` (the case's folder).
//!
//! Every case asserts: the exit status, no panic, exactly one line on
//! stderr (logging is off), that line, and that it begins with the file the
//! problem is in. Cases run with a time limit, so a hang fails instead of
//! stalling CI. `GLASSMD_BLESS=1` rewrites the `expect:` lines with what
//! the program says (review the diff before committing it).

mod common;
use common::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

struct Case {
    path: PathBuf,
    args: String,
    expect: String,
    status: i32,
    env: Vec<(String, String)>,
    pre: Vec<String>,
    derive: Vec<String>,
    mpi: Option<usize>,
    files: Vec<(String, String)>,
}

fn placeholders() -> BTreeMap<&'static str, String> {
    let mut m = BTreeMap::new();
    m.insert("{POT_FS}", potential("CuZr_mm.eam.fs").display().to_string());
    m.insert("{POT_ALLOY}", potential("CuNi.eam.alloy").display().to_string());
    m.insert("{POT_EAM}", potential("Cu_u3.eam").display().to_string());
    m.insert("{DATA_FS}", reference("cuzr_fs_ppp").join("config.data").display().to_string());
    m.insert("{DATA_ALLOY}", reference("cuni_setfl_ppp").join("config.data").display().to_string());
    m.insert("{DATA_EAM}", reference("cu_funcfl_ppp").join("config.data").display().to_string());
    m
}

fn expand(text: &str, dir: &Path) -> String {
    let mut t = text.replace(
        "{HEAD_FS}",
        "[system]\nread_data = \"{DATA_FS}\"\n[potential]\nstyle = \"eam/fs\"\nfile = \"{POT_FS}\"\nelements = [\"Cu\", \"Zr\"]",
    );
    for (k, v) in placeholders() {
        t = t.replace(k, &v);
    }
    t.replace("{DIR}", &dir.display().to_string())
}

fn parse(path: &Path) -> Case {
    let text = std::fs::read_to_string(path).unwrap();
    let mut c = Case { path: path.to_path_buf(), args: String::new(), expect: String::new(), status: 1, env: vec![], pre: vec![], derive: vec![], mpi: None, files: vec![] };
    let mut lines = text.lines().peekable();
    while let Some(l) = lines.peek() {
        if l.starts_with("--- ") {
            break;
        }
        let l = lines.next().unwrap();
        if l.starts_with('#') || l.trim().is_empty() {
            continue;
        }
        let (k, v) = l.split_once(':').unwrap_or_else(|| panic!("{}: header line '{}'", path.display(), l));
        let v = v.trim().to_string();
        match k {
            "args" => c.args = v,
            "expect" => c.expect = v,
            "status" => c.status = v.parse().unwrap(),
            "env" => {
                let (a, b) = v.split_once('=').unwrap();
                c.env.push((a.to_string(), b.to_string()));
            }
            "pre" => c.pre.push(v),
            "derive" => c.derive.push(v),
            "mpi" => c.mpi = Some(v.parse().unwrap()),
            other => panic!("{}: unknown header key '{}'", path.display(), other),
        }
    }
    let mut cur: Option<(String, String)> = None;
    for l in lines {
        if let Some(name) = l.strip_prefix("--- ") {
            if let Some(f) = cur.take() {
                c.files.push(f);
            }
            cur = Some((name.trim().to_string(), String::new()));
        } else if let Some((_, body)) = cur.as_mut() {
            body.push_str(l);
            body.push('\n');
        }
    }
    if let Some(f) = cur.take() {
        c.files.push(f);
    }
    assert!(!c.args.is_empty() && !c.expect.is_empty(), "{}: needs args and expect", path.display());
    c
}

/// Run glassmd with a time limit; (status, stdout, stderr), status None on a hang.
fn run_limited(mut cmd: Command, limit: Duration) -> (Option<i32>, String, String) {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("cannot start glassmd");
    let (mut so, mut se) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut so, &mut s).ok();
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut se, &mut s).ok();
        s
    });
    let t0 = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st.code().or(Some(-1));
        }
        if t0.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (status, out.join().unwrap_or_default(), err.join().unwrap_or_default())
}

/// The command, and under mpirun the guard of its own session folder
/// (`common::mpirun_command`), to hold until the command has ended.
fn glassmd_cmd(args: &[String], dir: &Path, env: &[(String, String)], np: Option<usize>) -> (Command, Option<tempfile::TempDir>) {
    let (mut cmd, session) = match np {
        Some(n) => {
            let (c, s) = common::mpirun_command(n);
            (c, Some(s))
        }
        None => (Command::new(bin()), None),
    };
    cmd.args(args).current_dir(dir).env("RUST_LOG", "off");
    for (k, v) in env {
        cmd.env(k, v);
    }
    (cmd, session)
}

fn derive(dir: &Path, spec: &str) {
    let (new, rest) = spec.split_once('=').unwrap();
    let (old, op) = rest.split_once('|').unwrap();
    let src = expand(old.trim(), dir);
    let src = if Path::new(&src).is_absolute() { PathBuf::from(src) } else { dir.join(src) };
    let bytes = std::fs::read(&src).unwrap_or_else(|e| panic!("derive {}: {}", src.display(), e));
    let op: Vec<&str> = op.trim().splitn(3, ' ').collect();
    let out: Vec<u8> = match op[0] {
        "head" => {
            let n: usize = op[1].parse().unwrap();
            let text = String::from_utf8_lossy(&bytes);
            text.lines().take(n).collect::<Vec<_>>().join("\n").into_bytes()
        }
        "bytes" => bytes[..op[1].parse::<usize>().unwrap()].to_vec(),
        "replace" => {
            // `~` stands for a space in OLD and NEW.
            let (a, b) = (op[1].replace('~', " "), op.get(2).copied().unwrap_or("").replace('~', " "));
            let (a, b) = (a.as_str(), b.as_str());
            String::from_utf8_lossy(&bytes).replacen(a, b, 1).into_bytes()
        }
        "flip" => {
            let mut b = bytes.clone();
            let k: usize = op[1].parse().unwrap();
            b[k] ^= 0xff;
            b
        }
        other => panic!("unknown derive op {}", other),
    };
    std::fs::write(dir.join(new.trim()), out).unwrap();
}

/// The lines glassmd itself printed on stderr (mpirun adds its own).
fn own_lines(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.starts_with("glassmd")).collect()
}

/// Run one case; Err(description) on a failed expectation, Ok(actual line).
fn check(c: &Case, np: Option<usize>) -> Result<String, String> {
    let dir = tempdir();
    let d = dir.path();
    for (name, body) in &c.files {
        let p = d.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(p, expand(body, d)).unwrap();
    }
    for pre in &c.pre {
        let args: Vec<String> = expand(pre, d).split_whitespace().map(|s| s.to_string()).collect();
        let (st, _, err) = run_limited(glassmd_cmd(&args, d, &[], None).0, Duration::from_secs(120));
        if !matches!(st, Some(0) | Some(75)) {
            return Err(format!("pre-command `{}` failed ({:?}): {}", pre, st, err));
        }
    }
    for spec in &c.derive {
        derive(d, spec);
    }
    let args: Vec<String> = expand(&c.args, d).split_whitespace().map(|s| s.to_string()).collect();
    let (cmd, _session) = glassmd_cmd(&args, d, &c.env, np);
    let (st, _out, err) = run_limited(cmd, Duration::from_secs(90));
    let Some(code) = st else {
        return Err("hung: killed after 90 s".into());
    };
    if err.contains("panicked") || code == 101 || code == 134 {
        return Err(format!("panicked (status {}): {}", code, err));
    }
    let lines: Vec<&str> = if np.is_some() { own_lines(&err) } else { err.lines().filter(|l| !l.trim().is_empty()).collect() };
    if lines.len() != 1 {
        return Err(format!("expected one line on stderr, got {}: {}", lines.len(), err));
    }
    let line = lines[0].to_string();
    // Machine paths back to their placeholders, so cases hold no paths.
    let mut actual = line.strip_prefix("glassmd: error: ").or_else(|| line.strip_prefix("glassmd: ")).unwrap_or(&line).replace(&d.display().to_string(), "{DIR}");
    for (k, v) in placeholders() {
        actual = actual.replace(&v, k);
    }
    if np.is_none() && code != c.status {
        return Err(format!("exit status {} (expected {}): {}", code, c.status, line));
    }
    if np.is_some() && code == 0 {
        return Err(format!("exit status 0 under mpirun: {}", line));
    }
    // The line begins with the file the problem is in (or the command line).
    let first = actual.split(": ").next().unwrap_or("");
    let known = first == "command line"
        || first == "launch"
        || c.files.iter().any(|(n, _)| first.ends_with(n.as_str()))
        || expand(&c.args, Path::new("{DIR}")).contains(first)
        || c.derive.iter().any(|s| s.split('=').next().is_some_and(|n| first.ends_with(n.trim())))
        || c.files.iter().any(|(_, body)| expand(body, Path::new("{DIR}")).contains(first.trim_start_matches("./")))
        || placeholders().keys().any(|k| *k == first);
    if first.is_empty() || !known {
        return Err(format!("the error does not begin with a file of the case: {}", line));
    }
    if !matches_glob(&actual, &c.expect) {
        return Err(format!("got      {}\nexpected {}", actual, c.expect));
    }
    Ok(actual)
}

/// Does `text` match `pattern`, where `{*}` stands for any text (for
/// what depends on the machine, such as the memory it has)?
fn matches_glob(text: &str, pattern: &str) -> bool {
    let parts: Vec<&str> = pattern.split("{*}").collect();
    if parts.len() == 1 {
        return text == pattern;
    }
    let mut rest = match text.strip_prefix(parts[0]) {
        Some(r) => r,
        None => return false,
    };
    for (i, p) in parts[1..].iter().enumerate() {
        let last = i == parts.len() - 2;
        if last {
            return rest.ends_with(p);
        }
        match rest.find(p) {
            Some(k) => rest = &rest[k + p.len()..],
            None => return false,
        }
    }
    true
}

fn cases() -> Vec<Case> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(root().join("tests/bad_input")).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "case")).collect();
    paths.sort();
    paths.iter().map(|p| parse(p)).collect()
}

/// Run `cases` on `workers` threads; the failures, by case.
fn run_all(cases: &[Case], np: impl Fn(&Case) -> Option<Option<usize>> + Sync, workers: usize) -> Vec<String> {
    let next = Mutex::new(0usize);
    let failures = Mutex::new(Vec::new());
    let bless = std::env::var("GLASSMD_BLESS").is_ok_and(|v| v == "1");
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let k = {
                    let mut n = next.lock().unwrap();
                    *n += 1;
                    *n - 1
                };
                let Some(c) = cases.get(k) else { break };
                let Some(np) = np(c) else { continue };
                match check(c, np) {
                    Ok(_) => {}
                    Err(e) if bless && np.is_none() && e.starts_with("got ") && !c.expect.contains("{*}") => {
                        let got = e.lines().next().unwrap().trim_start_matches("got").trim().to_string();
                        let text = std::fs::read_to_string(&c.path).unwrap();
                        let text = text.replacen(&format!("expect: {}", c.expect), &format!("expect: {}", got), 1);
                        std::fs::write(&c.path, text).unwrap();
                    }
                    Err(e) => failures.lock().unwrap().push(format!("{}{}: {}", c.path.file_name().unwrap().to_string_lossy(), np.map(|n| format!(" (mpirun -np {})", n)).unwrap_or_default(), e)),
                }
            });
        }
    });
    failures.into_inner().unwrap()
}

#[test]
fn every_bad_input_gets_its_one_line_error() {
    let cases = cases();
    assert!(cases.len() >= 150, "the corpus has {} cases; it must keep at least 150", cases.len());
    let failures = run_all(&cases, |_| Some(None), 2);
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

#[test]
fn a_sample_of_the_corpus_under_mpirun() {
    if Command::new("mpirun").arg("--version").output().is_err() {
        eprintln!("skipping: no mpirun");
        return;
    }
    let cases = cases();
    let sample = cases.iter().filter(|c| c.mpi.is_some()).count();
    assert!(sample >= 10, "only {} cases are marked mpi", sample);
    let failures = run_all(&cases, |c| c.mpi.map(Some), 1);
    assert!(failures.is_empty(), "{} of {} cases failed under mpirun:\n{}", failures.len(), sample, failures.join("\n"));
}

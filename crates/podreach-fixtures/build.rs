//! Embeds tests/fixtures into the crate, so the same corpus runs natively and in a browser.
#![expect(clippy::unwrap_used, clippy::expect_used, reason = "a build script fails loudly on a broken corpus")]
use std::fmt::Write;
use std::path::Path;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures");
    let root = root.canonicalize().expect("tests/fixtures exists");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut cases: Vec<_> = std::fs::read_dir(&root)
        .expect("read tests/fixtures")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("case.json").exists())
        .collect();
    cases.sort();
    let mut out = String::from("&[\n");
    for dir in cases {
        println!("cargo:rerun-if-changed={}", dir.display());
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let mut inputs: Vec<_> = std::fs::read_dir(dir.join("input"))
            .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        inputs.sort();
        let mut snaps: Vec<_> = std::fs::read_dir(dir.join("expected"))
            .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        snaps.sort();
        write!(
            out,
            "  Case {{ name: {name:?}, spec: include_str!({:?}), inputs: &[",
            dir.join("case.json").display().to_string()
        )
        .unwrap();
        for p in &inputs {
            println!("cargo:rerun-if-changed={}", p.display());
            let f = p.file_name().unwrap().to_string_lossy().to_string();
            write!(out, "({f:?}, include_bytes!({:?})), ", p.display().to_string()).unwrap();
        }
        out.push_str("], snapshots: &[");
        for p in &snaps {
            println!("cargo:rerun-if-changed={}", p.display());
            let f = p.file_name().unwrap().to_string_lossy().to_string();
            write!(out, "({f:?}, include_str!({:?})), ", p.display().to_string()).unwrap();
        }
        out.push_str("] },\n");
    }
    out.push(']');
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join("cases.rs");
    std::fs::write(dest, out).unwrap();
}

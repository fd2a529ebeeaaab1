//! `cargo xtask`: the project's automation, in Rust. Orchestration only; nothing depends on it.
//!
//! `cargo xtask ci` runs every check CI runs, in order, installing missing tools first.
#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods,
    reason = "build tooling that is never shipped: failing loudly is right here"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod bench;
mod gen;
mod wasm;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap_or_else(|_| PathBuf::from("."))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(&args[1..]),
        Some("gen-export") => gen::main(&args[1..]),
        Some("bench") => bench::main(&args[1..]),
        Some("web") => web_build(true),
        Some("floor") => bench::floor(&args[1..]),
        Some("inproc") => match args.get(1) {
            Some(t) => bench::inproc(t, &args[2..]),
            None => Err("inproc TARGET FILE...".to_owned()),
        },
        _ => {
            eprintln!(
                "usage: cargo xtask <command>\n  ci [--skip-install]   every check CI runs (fmt, clippy native+wasm, tests native+browser, web build, e2e)\n  web                   build the page into dist/ (release, wasm-opt)\n  gen-export --nodes N [--seed S] [--out DIR]   write a realistic synthetic export\n  bench [--sizes 500,5000] [--runs 3] [--smoke] [--no-page]  measure against the floor and contenders"
            );
            Err("unknown command".to_owned())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs a command in the repository root, echoing it; fails on a non-zero exit.
pub fn run(cmd: &mut Command) -> Result<(), String> {
    let shown = format!("{cmd:?}").replace('"', "");
    eprintln!("\n==> {shown}");
    let started = Instant::now();
    let status = cmd.current_dir(root()).status().map_err(|e| format!("cannot start {shown}: {e}"))?;
    eprintln!("<== {:.1}s", started.elapsed().as_secs_f64());
    if status.success() {
        Ok(())
    } else {
        Err(format!("failed ({status}): {shown}"))
    }
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
}

fn ci(args: &[String]) -> Result<(), String> {
    let started = Instant::now();
    if !args.iter().any(|a| a == "--skip-install") {
        run(Command::new("bash").arg("scripts/install-tools.sh"))?;
    }
    run(cargo().args(["fmt", "--all", "--check"]))?;
    run(cargo().args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]))?;
    run(cargo().args([
        "clippy",
        "-p",
        "podreach-core",
        "-p",
        "podreach-fixtures",
        "-p",
        "podreach-web",
        "--target",
        "wasm32-unknown-unknown",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    run(cargo().args(["test", "--workspace"]))?;
    // The same corpus, and the page's components, in headless Chromium.
    run(cargo()
        .args(["test", "-p", "podreach-core", "-p", "podreach-web", "--target", "wasm32-unknown-unknown"])
        .env("CHROMEDRIVER", "/usr/bin/chromedriver"))?;
    web_build(true)?;
    run(Command::new("node").args(["--test", "--test-concurrency=1", "tests/e2e/"]))?;
    // Licences, bans and sources, offline (the advisory database needs the network).
    run(cargo().args(["deny", "--offline", "check", "licenses", "bans", "sources"]))?;
    fuzz(60)?;
    run(cargo().args(["run", "--quiet", "--package", "xtask", "--", "bench", "--smoke"]))?;
    eprintln!("\nci: all checks passed in {:.0}s", started.elapsed().as_secs_f64());
    Ok(())
}

/// Runs the fuzz target for a bounded time over a copy of the seed corpus (nightly, libFuzzer).
fn fuzz(seconds: u32) -> Result<(), String> {
    let corpus = root().join("target/fuzz-corpus");
    let _ = std::fs::remove_dir_all(&corpus);
    std::fs::create_dir_all(&corpus).map_err(|e| e.to_string())?;
    for entry in std::fs::read_dir(root().join("fuzz/seeds")).map_err(|e| e.to_string())?.flatten() {
        let _ = std::fs::copy(entry.path(), corpus.join(entry.file_name()));
    }
    let mut cmd = Command::new("cargo");
    cmd.args(["+nightly", "fuzz", "run", "--fuzz-dir", "fuzz", "load_and_analyze"])
        .arg(&corpus)
        .args(["--", &format!("-max_total_time={seconds}"), "-max_len=65536", "-rss_limit_mb=2048"])
        .env_remove("CARGO")
        .env_remove("RUSTUP_TOOLCHAIN");
    run(&mut cmd)
}

/// Builds the page with trunk (offline: the tools come from scripts/install-tools.sh).
fn web_build(release: bool) -> Result<(), String> {
    let mut cmd = Command::new("trunk");
    cmd.args(["build", "--offline"]);
    if release {
        cmd.arg("--release");
    }
    run(&mut cmd)?;
    let size = crate::bench::gzipped_dist_size(&root().join("dist"))?;
    eprintln!("web: first load is {size} bytes gzipped (budget 500 KB)");
    if size > 500 * 1024 {
        return Err(format!("the page's first load is {size} bytes gzipped, over the 500 KB budget"));
    }
    if release {
        // The phases of a run stay functions of their own in the worker (core crate docs); a
        // function over this has most likely had a phase inlined into it again.
        let worker = root().join("dist/worker_bg.wasm");
        let bytes = std::fs::read(&worker).map_err(|e| format!("{}: {e}", worker.display()))?;
        let largest = wasm::largest_function(&bytes).map_err(|e| format!("{}: {e}", worker.display()))?;
        eprintln!("web: the worker's largest function is {largest} bytes (budget {WORKER_FUNCTION_BUDGET})");
        if largest > WORKER_FUNCTION_BUDGET {
            return Err(format!(
                "the worker's largest function is {largest} bytes, over the {WORKER_FUNCTION_BUDGET}-byte budget; keep the phases of a run apart (`inline(never)` on wasm32, and wasm-opt's --one-caller-inline-max-function-size in index.html)"
            ));
        }
    }
    Ok(())
}

/// The largest function the worker may have, in bytes: 20,665 in item 40 of BENCHMARKS.md, and
/// 49,645 before it.
const WORKER_FUNCTION_BUDGET: usize = 32 * 1024;

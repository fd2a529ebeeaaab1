//! `cargo xtask bench`: podreach against the floor (a bare serde_json validation pass) and against
//! jq and Python, on generated exports of several sizes, side by side in one run.
//!
//! Wall time and peak memory come from GNU time; the in-process split (load vs. a new query) from
//! `xtask inproc`, which links podreach-core. Medians of `--runs` runs. `--smoke` proves the
//! command works on a tiny export and asserts nothing about speed.

use crate::{root, run};
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

/// The gzipped size of everything the page loads first: the files in `dist/`.
pub fn gzipped_dist_size(dir: &Path) -> Result<u64, String> {
    let mut total = 0u64;
    let rd = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in rd.flatten() {
        let p = entry.path();
        let first_load = matches!(p.extension().and_then(|e| e.to_str()), Some("html" | "js" | "wasm" | "css"));
        if !p.is_file() || !first_load || p.file_name().is_some_and(|n| n.to_string_lossy().contains("worker")) {
            continue;
        }
        let bytes = std::fs::read(&p).map_err(|e| e.to_string())?;
        total += gzip_len(&bytes);
    }
    Ok(total)
}

fn gzip_len(bytes: &[u8]) -> u64 {
    use flate2::write::GzEncoder;
    use std::io::Write;
    let mut e = GzEncoder::new(Vec::new(), flate2::Compression::best());
    let _ = e.write_all(bytes);
    e.finish().map(|v| v.len() as u64).unwrap_or(u64::MAX)
}

struct Measure {
    secs: f64,
    max_rss_kb: u64,
}

/// Runs a command under GNU time, stdout discarded; returns wall seconds and peak RSS.
fn timed(cmd: &[String], stdin_file: Option<&Path>) -> Result<Measure, String> {
    let mut c = Command::new("/usr/bin/time");
    c.args(["-f", "%M", "-o", "/dev/stderr", "--"]).args(cmd).stdout(Stdio::null()).stderr(Stdio::piped());
    if let Some(f) = stdin_file {
        c.stdin(std::fs::File::open(f).map_err(|e| e.to_string())?);
    }
    let started = Instant::now();
    let mut child = c.spawn().map_err(|e| format!("cannot run /usr/bin/time (apt-get install time): {e}"))?;
    let mut err = String::new();
    if let Some(mut s) = child.stderr.take() {
        let _ = s.read_to_string(&mut err);
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    let wall = started.elapsed().as_secs_f64();
    if !status.success() {
        return Err(format!("{} failed: {err}", cmd.join(" ")));
    }
    // GNU time's last line is the peak RSS in KB; the wall time is measured here.
    let rss = err.lines().last().and_then(|l| l.trim().parse().ok()).unwrap_or(0);
    Ok(Measure { secs: wall, max_rss_kb: rss })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

struct Row {
    nodes: u32,
    bytes: u64,
    floor: f64,
    podreach: f64,
    /// The CLI on one thread (`--jobs 1`).
    podreach_1: f64,
    podreach_rss_kb: u64,
    jq: Option<f64>,
    python: Option<f64>,
    load: f64,
    query: f64,
    /// The median of each run's query / load.
    query_ratio: f64,
    sources: u64,
    browser: Option<Page>,
}

/// The page, from choosing the files to the rendered view.
struct Page {
    /// Files chosen once the worker has warmed up, as a user picks them seconds after the page
    /// loads.
    warm: PageSummary,
    /// Files chosen the moment the worker is ready (no warm-up).
    cold: PageSummary,
    /// Files chosen [`LATE_MS`] after the worker is ready, as a user who is quick to pick them:
    /// the warm-up may be under way.
    late: PageSummary,
    /// The median of each run's warm page / one-job CLI.
    warm_ratio_1: f64,
    /// The median time from the worker being ready to the end of its warm-up, ms.
    warm_up_ms: f64,
}

/// The runs of one kind: the median time, the median of each run's page / CLI (against the CLI
/// runs of its own run), and the longest main-thread task and animation frame (task plus style
/// and layout) of any of them, ms.
struct PageSummary {
    secs: f64,
    ratio: f64,
    task_ms: f64,
    frame_ms: f64,
}

impl PageSummary {
    /// Its four table cells.
    fn cells(&self) -> String {
        format!("{:.2} | {:.2} | {:.0} | {:.0}", self.secs, self.ratio, self.task_ms, self.frame_ms)
    }
}

/// When a page run chooses its files: once the worker has warmed up, the moment it is ready, or
/// this many milliseconds after it is ready.
#[derive(Clone, Copy)]
enum Choose {
    Warm,
    Cold,
    After(u32),
}

/// The late page runs choose their files this long after the worker is ready (BENCHMARKS.md item
/// 49: the page by when the files are chosen).
const LATE_MS: u32 = 1000;

/// The page runs of one size: per run, one with files chosen after the worker's warm-up, one
/// cold and one late, each with its ratio to the CLI runs just before it.
#[derive(Default)]
struct PageRuns {
    warm: PageKind,
    cold: PageKind,
    late: PageKind,
    /// The warm runs against the one-job CLI.
    warm_ratio_1: Vec<f64>,
    warm_up: Vec<f64>,
}

/// The runs of one kind (warm, cold or late): times, ratios to their CLI, and the worst task and frame.
#[derive(Default)]
struct PageKind {
    secs: Vec<f64>,
    ratio: Vec<f64>,
    task: f64,
    frame: f64,
}

impl PageKind {
    /// Runs the page once after a pause and records it against the CLI's `cli` seconds.
    fn run(&mut self, dir: &Path, target: &str, choose: Choose, cli: f64) -> Result<serde_json::Value, String> {
        settle();
        let v = page_run(dir, target, choose)?;
        let secs = num(&v, "seconds");
        self.secs.push(secs);
        self.ratio.push(secs / cli);
        self.task = self.task.max(num(&v, "longestTaskMs"));
        self.frame = self.frame.max(num(&v, "longestFrameMs"));
        Ok(v)
    }

    fn summary(self) -> PageSummary {
        PageSummary { secs: median(self.secs), ratio: median(self.ratio), task_ms: self.task, frame_ms: self.frame }
    }
}

impl PageRuns {
    /// A warm run, a cold run and a late run, against the CLI's `cli` and one-job `cli_1`
    /// seconds.
    fn run(&mut self, dir: &Path, target: &str, cli: f64, cli_1: f64) -> Result<(), String> {
        let v = self.warm.run(dir, target, Choose::Warm, cli)?;
        self.warm_ratio_1.push(num(&v, "seconds") / cli_1);
        self.warm_up.push(num(&v, "warmAt") - num(&v, "readyAt"));
        self.cold.run(dir, target, Choose::Cold, cli)?;
        self.late.run(dir, target, Choose::After(LATE_MS), cli)?;
        Ok(())
    }

    fn summary(self) -> Page {
        Page {
            warm: self.warm.summary(),
            cold: self.cold.summary(),
            late: self.late.summary(),
            warm_ratio_1: median(self.warm_ratio_1),
            warm_up_ms: median(self.warm_up),
        }
    }
}

/// A number in page-bench's JSON line (NaN when missing).
fn num(v: &serde_json::Value, k: &str) -> f64 {
    v[k].as_f64().unwrap_or(f64::NAN)
}

/// A pause before a timed run, so that it does not pay for the one before it: a browser goes on
/// exiting after it has closed, and a cold page run right after another page run was slower in
/// four of four pairs by hand (1.13-1.43 s against 0.97-1.38 s after three seconds; BENCHMARKS.md
/// item 40).
fn settle() {
    std::thread::sleep(std::time::Duration::from_secs(2));
}

/// One run of `tests/e2e/bench/page-bench.mjs`: its JSON line.
fn page_run(dir: &Path, target: &str, choose: Choose) -> Result<serde_json::Value, String> {
    let mut cmd = Command::new("node");
    cmd.args(["tests/e2e/bench/page-bench.mjs", &dir.display().to_string(), target, "5432"]);
    match choose {
        Choose::Warm => {}
        Choose::Cold => {
            cmd.arg("--cold");
        }
        Choose::After(ms) => {
            cmd.args(["--after".to_owned(), ms.to_string()]);
        }
    }
    let out = cmd.current_dir(root()).output().map_err(|e| format!("cannot run node: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    serde_json::from_str(text.trim())
        .map_err(|e| format!("page bench printed {text:?} ({e}); stderr: {}", String::from_utf8_lossy(&out.stderr)))
}

const PY: &str = "import json,sys\nd=json.load(open(sys.argv[1]))\nout=[(e['NetworkInterfaceId'],[g['GroupId'] for g in e.get('Groups',[])]) for e in d['NetworkInterfaces']]\nprint(len(out))\n";

pub fn main(args: &[String]) -> Result<(), String> {
    let smoke = args.iter().any(|a| a == "--smoke");
    // The page runs at every size (at 50,000 nodes it reads 952 MB: about ten seconds a run).
    let no_page = args.iter().any(|a| a == "--no-page");
    let mut sizes: Vec<u32> = if smoke { vec![40] } else { vec![500, 5000] };
    let mut runs = if smoke { 1 } else { 3 };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--sizes" => {
                sizes = it
                    .next()
                    .ok_or("--sizes takes a list")?
                    .split(',')
                    .map(|s| s.parse().map_err(|_| format!("bad size `{s}`")))
                    .collect::<Result<_, _>>()?
            }
            "--runs" => runs = it.next().and_then(|v| v.parse().ok()).ok_or("--runs takes a number")?,
            "--smoke" | "--no-page" => {}
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    run(Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())).args([
        "build",
        "--release",
        "--quiet",
        "-p",
        "podreach-cli",
        "-p",
        "xtask",
    ]))?;
    let bin = root().join("target/release");
    let podreach = bin.join("podreach");
    let xtask = bin.join("xtask");
    let have_jq = Command::new("jq").arg("--version").output().is_ok();
    let mut rows = Vec::new();
    for &nodes in &sizes {
        let dir = root().join(format!("target/bench/export-{nodes}-1"));
        let g = crate::gen::generate(nodes, 1, &dir)?;
        let files: Vec<String> = g.files.iter().map(|p| p.display().to_string()).collect();
        let enis = dir.join("enis.json").display().to_string();
        let target = g.rds_enis.first().cloned().ok_or("no rds eni generated")?;
        let mut floor = Vec::new();
        let mut pr = Vec::new();
        let mut pr1 = Vec::new();
        let mut pr_rss = 0;
        let mut jq = Vec::new();
        let mut py = Vec::new();
        let browser = !no_page && root().join("dist/index.html").exists();
        if !browser {
            eprintln!("bench: the browser columns are skipped (--no-page, or no dist/: run `cargo xtask web`)");
        }
        let mut pages = PageRuns::default();
        for _ in 0..runs {
            settle();
            let mut cmd = vec![xtask.display().to_string(), "floor".into()];
            cmd.extend(files.iter().cloned());
            floor.push(timed(&cmd, None)?.secs);
            let mut cmd = vec![podreach.display().to_string(), "analyze".into()];
            cmd.extend(files.iter().cloned());
            cmd.extend([
                "--to".into(),
                target.clone(),
                "--port".into(),
                "5432".into(),
                "--format".into(),
                "json".into(),
            ]);
            let m = timed(&cmd, None)?;
            pr.push(m.secs);
            pr_rss = pr_rss.max(m.max_rss_kb);
            cmd.extend(["--jobs".into(), "1".into()]);
            let one_job = timed(&cmd, None)?.secs;
            pr1.push(one_job);
            // The page right after the CLI runs it is compared with: the machine's speed drifts
            // over a bench, and a page run takes seconds.
            if browser {
                pages.run(&dir, &target, m.secs, one_job)?;
            }
        }
        // jq and Python apart, after the runs above: each holds several hundred MB, and a cold page
        // run right after them was slower in three of four pairs by hand (1.07-1.22 s against
        // 0.94-1.29 s after a pause; BENCHMARKS.md item 40).
        for _ in 0..runs {
            if have_jq {
                let cmd = vec![
                    "jq".into(),
                    "-c".into(),
                    ".NetworkInterfaces[] | [.NetworkInterfaceId, [.Groups[].GroupId]]".into(),
                    enis.clone(),
                ];
                jq.push(timed(&cmd, None)?.secs);
            }
            let script = dir.join("extract.py");
            std::fs::write(&script, PY).map_err(|e| e.to_string())?;
            let cmd = vec!["python3".into(), script.display().to_string(), enis.clone()];
            py.push(timed(&cmd, None)?.secs);
        }
        // In-process: load once, then two different queries; `runs` times, each run's ratio
        // taken in that run (the machine's speed drifts between runs).
        let (mut loads, mut queries, mut ratios, mut sources) = (Vec::new(), Vec::new(), Vec::new(), 0);
        for _ in 0..runs {
            let mut cmd = Command::new(&xtask);
            cmd.arg("inproc").arg(&target).args(&files);
            let out = cmd.output().map_err(|e| e.to_string())?;
            let text = String::from_utf8_lossy(&out.stdout).to_string();
            let nums: Vec<f64> = text.split_whitespace().filter_map(|s| s.parse().ok()).collect();
            match nums.as_slice() {
                [l, _q1, q2, s, ..] => {
                    loads.push(*l);
                    queries.push(*q2);
                    ratios.push(*q2 / *l);
                    sources = *s as u64;
                }
                _ => return Err(format!("inproc printed {text:?}")),
            }
        }
        let (load, query, query_ratio) = (median(loads), median(queries), median(ratios));
        let browser = browser.then(|| pages.summary());
        rows.push(Row {
            nodes,
            bytes: g.bytes,
            floor: median(floor),
            podreach: median(pr),
            podreach_1: median(pr1),
            podreach_rss_kb: pr_rss,
            jq: if jq.is_empty() { None } else { Some(median(jq)) },
            python: Some(median(py)),
            load,
            query,
            query_ratio,
            sources,
            browser,
        });
    }
    print_table(&rows, runs);
    Ok(())
}

fn print_table(rows: &[Row], runs: usize) {
    println!("| nodes | input MB | sources | floor s | podreach s | podreach/floor | 1 job s | 1 job/floor | jq s | python s | peak RSS MB | RSS/input | load s | new query s | query/load | page s | page/cli | page/1-job cli | longest task ms | longest frame ms | cold page s | cold/cli | cold task ms | cold frame ms | 1 s page s | 1 s/cli | 1 s task ms | 1 s frame ms | warm-up ms |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for r in rows {
        let mb = r.bytes as f64 / 1e6;
        let rss = r.podreach_rss_kb as f64 * 1024.0 / 1e6;
        let page = match &r.browser {
            // The warm runs' cells, with their ratio to the one-job CLI after their ratio to the CLI.
            Some(p) => format!(
                "{:.2} | {:.2} | {:.2} | {:.0} | {:.0} | {} | {} | {:.0}",
                p.warm.secs,
                p.warm.ratio,
                p.warm_ratio_1,
                p.warm.task_ms,
                p.warm.frame_ms,
                p.cold.cells(),
                p.late.cells(),
                p.warm_up_ms
            ),
            None => ["n/a"; 14].join(" | "),
        };
        println!(
            "| {} | {:.1} | {} | {:.3} | {:.3} | {:.2} | {:.3} | {:.2} | {} | {} | {:.0} | {:.2} | {:.3} | {:.4} | {:.3} | {page} |",
            r.nodes,
            mb,
            r.sources,
            r.floor,
            r.podreach,
            r.podreach / r.floor,
            r.podreach_1,
            r.podreach_1 / r.floor,
            r.jq.map_or("n/a".into(), |v| format!("{v:.3}")),
            r.python.map_or("n/a".into(), |v| format!("{v:.3}")),
            rss,
            rss / mb,
            r.load,
            r.query,
            r.query_ratio
        );
    }
    for w in rows.windows(2) {
        if let [a, b] = w {
            println!(
                "scaling {} -> {} nodes ({:.1}x): podreach time {:.2}x (one job {:.2}x), floor {:.2}x",
                a.nodes,
                b.nodes,
                f64::from(b.nodes) / f64::from(a.nodes),
                b.podreach / a.podreach,
                b.podreach_1 / a.podreach_1,
                b.floor / a.floor
            );
        }
    }
    println!("(medians of {runs} runs; wall time; peak RSS from GNU time; a 2 s pause before each run and before each page run; the page: in each run, right after the CLI, one run with files chosen after the worker's warm-up, one cold run with files chosen the moment the worker is ready and one with files chosen 1 s after it is ready; medians of their times and of their ratios to that run's CLI; their longest task and frame are the worst of their runs)");
}

/// `xtask floor FILE...`: the floor any JSON tool pays: read and validate every byte.
pub fn floor(files: &[String]) -> Result<(), String> {
    use serde::de::IgnoredAny;
    let mut docs = 0usize;
    for f in files {
        let bytes = std::fs::read(f).map_err(|e| format!("{f}: {e}"))?;
        for v in serde_json::Deserializer::from_slice(&bytes).into_iter::<IgnoredAny>() {
            v.map_err(|e| format!("{f}: {e}"))?;
            docs += 1;
        }
    }
    println!("{docs}");
    Ok(())
}

/// `xtask inproc TARGET FILE...`: seconds to load, to run the first query, to run a second query
/// on the loaded model (another port), and the number of sources.
pub fn inproc(target: &str, files: &[String]) -> Result<(), String> {
    let texts: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|f| std::fs::read(f).map(|b| (f.clone(), b)).map_err(|e| format!("{f}: {e}")))
        .collect::<Result<_, _>>()?;
    let inputs: Vec<podreach_core::Input> =
        texts.iter().map(|(n, b)| podreach_core::Input { name: n, bytes: b }).collect();
    // Loading includes what every query on the loaded data shares (matrix, drift, pod index):
    // the page and the JavaScript API do that once per set of inputs.
    let t0 = Instant::now();
    let parts: Vec<podreach_core::Parsed> = inputs.iter().map(podreach_core::parse).collect();
    let read = t0.elapsed().as_secs_f64();
    let loaded = podreach_core::assemble(parts);
    let parsed = t0.elapsed().as_secs_f64();
    let prepared = podreach_core::report::Prepared::new(&loaded.model, &loaded.diagnostics, &loaded.documents);
    let load = t0.elapsed().as_secs_f64();
    let q1 = podreach_core::make_query(target, "tcp", Some(5432))?;
    let t1 = Instant::now();
    let r1 = prepared.report(&loaded.model, Some(&q1)).map_err(|e| e.0)?;
    let first = t1.elapsed().as_secs_f64();
    let t = Instant::now();
    let a = podreach_core::reach::analyze(&loaded.model, &q1).map_err(|e| e.0)?;
    let eval = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let json = podreach_core::render::json(&r1);
    let render = t.elapsed().as_secs_f64();
    eprintln!(
        "phases: parse {read:.3}s, model {:.3}s, prepare {:.3}s, evaluate {eval:.3}s ({} traces), report rows {:.3}s, json {render:.3}s ({} MB)",
        parsed - read,
        load - parsed,
        a.traces.len(),
        first - eval,
        json.len() / 1_000_000
    );
    let q2 = podreach_core::make_query(target, "tcp", Some(6379))?;
    let t2 = Instant::now();
    let r2 = prepared.report(&loaded.model, Some(&q2)).map_err(|e| e.0)?;
    let second = t2.elapsed().as_secs_f64();
    println!("{load} {first} {second} {} {}", r1.sources.len(), r2.summary.blocked);
    Ok(())
}

//! The `podreach` binary: reads files, runs podreach-core, prints a report, sets the exit code.
//!
//! Exit codes: 0 ok; 1 a `--fail-on` condition holds; 2 unusable input or usage, with one
//! message per problem on stderr and nothing on stdout.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay`: its place in mimalloc 3's `mi_option_e`, which
/// libmimalloc-sys names the options around but not this one (a test checks its default).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Keeps the memory the run frees instead of giving it back to the system a second later (purge
/// delay -1). A run is one process that exits when it is done, so what it frees is only ever
/// reused; given back, it is mapped again page by page on its next use. At 50,000 nodes (1.3 GB)
/// this took a tenth of the run: 1.680 s against 1.819 s and 1.945 s against 2.177 s, two sets of
/// eight rounds in turn (`scripts/alternate.py`, with `MIMALLOC_PURGE_DELAY=-1`); at 5,000 nodes
/// no change, nor in peak memory at either size (BENCHMARKS.md item 60).
fn keep_freed_memory() {
    // SAFETY: sets one of the allocator's integer options; any thread may, at any time.
    #[allow(unsafe_code)]
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1);
    }
}

use clap::{Parser, Subcommand, ValueEnum};
use podreach_core::{render, Input, Join, Loaded, Parsed, Severity};
use std::io::{Read, Write};
use std::process::ExitCode;

const EXPORT_HELP: &str = "\
What to give it (read-only, no credentials leave your machine):
  aws ec2 describe-network-interfaces --output json > enis.json
  aws ec2 describe-security-groups --output json > sgs.json
  aws ec2 describe-network-acls --output json > nacls.json            (optional: nacls)
  aws ec2 describe-subnets --output json > subnets.json                (optional: subnet cidrs for fixes)
  aws ec2 describe-instances --output json > instances.json            (optional: types and names)
  kubectl get pods -A -o json > pods.json                              (optional: pods and workloads)
  kubectl get nodes -o json > nodes.json                               (optional: node names)
Files may hold several documents one after another; each is recognised by its content.";

#[derive(Parser)]
#[command(name = "podreach", version, about = "Which pods on EKS can reach a target, and exactly why not.", after_help = EXPORT_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show the eni x security-group matrix and drift; with --to, the reachability of every source.
    #[command(after_help = EXPORT_HELP)]
    Analyze(Analyze),
}

#[derive(clap::Args)]
struct Analyze {
    /// Export files (JSON as the aws cli and kubectl print it); `-` reads stdin.
    #[arg(value_name = "FILE", required = true)]
    files: Vec<String>,
    /// The target: an eni- id, or an IPv4 address held by an exported eni.
    #[arg(long, value_name = "TARGET")]
    to: Option<String>,
    /// Destination port (needed for tcp and udp; the icmp type for icmp).
    #[arg(long, value_name = "N")]
    port: Option<u16>,
    /// tcp, udp, icmp, all, or an IP protocol number.
    #[arg(long, value_name = "P", default_value = "tcp")]
    protocol: String,
    /// Output format.
    #[arg(long, value_name = "F", value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Comma list of blocked, unknown, drift: exit 1 if any is present (drift: faults, not custom networking).
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    fail_on: Vec<FailOn>,
    /// Threads for reading, parsing and analysing (default: the number of CPUs; 1 runs everything on one thread). The output does not depend on it.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    jobs: Option<u16>,
    /// Print how long each phase took to stderr (read and parse, build the model, analyse, write).
    #[arg(long)]
    timings: bool,
    /// Read files into memory instead of mapping them: for files that another program may rewrite while podreach reads them.
    #[arg(long)]
    no_mmap: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Table,
    Json,
    Markdown,
    Csv,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FailOn {
    Blocked,
    Unknown,
    Drift,
}

fn main() -> ExitCode {
    keep_freed_memory();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match cli.command {
        Command::Analyze(a) => match analyze(&a) {
            Ok(code) => ExitCode::from(code),
            Err(messages) => {
                let mut err = std::io::stderr().lock();
                for m in messages {
                    let _ = writeln!(err, "podreach: {m}");
                }
                ExitCode::from(2)
            }
        },
    }
}

/// Reads and parses every file, largest first, on up to `jobs` threads: each thread reads a file,
/// parses it and drops its bytes before taking the next, so the bytes of at most `jobs` files are
/// held at once. The parts are assembled in the order the files were given, so the result is the
/// same as loading them one by one. Read errors are reported for every file, in order.
fn load_files(files: &[String], jobs: usize, map: bool, clock: &mut Clock) -> Result<Loaded, Vec<String>> {
    let mut errors = Vec::new();
    if files.iter().filter(|f| *f == "-").count() > 1 {
        errors.push("`-` (stdin) is given twice; give it once".to_owned());
    }
    let mut stdin = None;
    if files.iter().any(|f| f == "-") {
        let mut buf = Vec::new();
        match std::io::stdin().lock().read_to_end(&mut buf) {
            Ok(_) => stdin = Some(buf),
            Err(e) => errors.push(format!("-: cannot read stdin: {}", lower(&e.to_string()))),
        }
    }
    // Largest first, so that the last file to finish is a small one.
    let stdin_len = stdin.as_ref().map_or(0, |b| b.len() as u64);
    let first_dash = files.iter().position(|f| f == "-");
    let mut order: Vec<(u64, usize)> = files
        .iter()
        .enumerate()
        .filter(|&(i, f)| f != "-" || first_dash == Some(i))
        .map(|(i, f)| (if f == "-" { stdin_len } else { std::fs::metadata(f).map_or(0, |m| m.len()) }, i))
        .collect();
    order.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    // A file more than twice the size of all the others together would keep one thread busy long
    // after the others are done: its big array is parsed in two halves, the second on a thread of
    // its own. Not otherwise: at 5,000 nodes (ENIs 52 MB, the rest 37 MB) the halves cost as much
    // as they saved (BENCHMARKS.md, item 32).
    let total: u64 = order.iter().map(|(len, _)| len).sum();
    let halve = order.first().filter(|(len, _)| jobs > 1 && *len > 2 * (total - len)).map(|&(_, i)| i);
    let read = |i: usize| -> Result<Parsed, String> {
        let name = files.get(i).map_or("", String::as_str);
        let parse = |bytes: &[u8]| {
            let input = Input { name, bytes };
            if halve == Some(i) {
                podreach_core::parse_with(&input, &Threads)
            } else {
                podreach_core::parse(&input)
            }
        };
        if name == "-" {
            return Ok(parse(stdin.as_deref().unwrap_or_default()));
        }
        let bytes = read_file(name, map)
            .map_err(|e| format!("{name}: cannot read the file: {}; check the path", lower(&e.to_string())))?;
        Ok(parse(&bytes))
    };
    let next = std::sync::atomic::AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(&(_, i)) = order.get(k) else { break };
            done.push((i, read(i)));
        }
        done
    };
    let mut results: Vec<(usize, Result<Parsed, String>)> = std::thread::scope(|s| {
        let helpers: Vec<_> = (1..jobs.clamp(1, order.len().max(1))).map(|_| s.spawn(work)).collect();
        let mut all = work();
        for h in helpers {
            // A helper that panicked has lost its files: parse them here instead.
            all.extend(h.join().unwrap_or_default());
        }
        all
    });
    for i in 0..files.len() {
        if !results.iter().any(|(j, _)| *j == i) {
            results.push((i, read(i)));
        }
    }
    results.sort_by_key(|(i, _)| *i);
    let mut parts = Vec::with_capacity(results.len());
    for (_, r) in results {
        match r {
            Ok(p) => parts.push(p),
            Err(e) => errors.push(e),
        }
    }
    clock.lap(&format!("read and parse ({jobs} job{})", if jobs == 1 { "" } else { "s" }));
    if errors.is_empty() {
        let loaded =
            if jobs > 1 { podreach_core::assemble_with(parts, &Threads) } else { podreach_core::assemble(parts) };
        clock.lap("build the model");
        Ok(loaded)
    } else {
        Err(errors)
    }
}

/// A file's bytes: mapped when the file is a regular, non-empty file, read otherwise (a pipe such
/// as `<(aws ec2 …)`, a device, or a file system that cannot map).
enum FileBytes {
    Mapped(memmap2::Mmap),
    Read(Vec<u8>),
}

impl std::ops::Deref for FileBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            FileBytes::Mapped(m) => m,
            FileBytes::Read(v) => v,
        }
    }
}

fn read_file(name: &str, map: bool) -> std::io::Result<FileBytes> {
    let file = std::fs::File::open(name)?;
    let meta = file.metadata()?;
    if map && meta.is_file() && meta.len() > 0 {
        // SAFETY: the map is read-only and lives only while this one file is parsed. Nothing in
        // this process writes the file. Another program could: truncating it would end this
        // process with SIGBUS, and rewriting it would change bytes the parser holds as immutable
        // (undefined behaviour in Rust's terms; in practice invalid JSON or text that is no
        // longer the UTF-8 that was checked). That is ripgrep's trade too, and `--no-mmap` reads
        // the file instead. Pages are faulted in up front (MAP_POPULATE): the parser reads every
        // byte.
        #[allow(unsafe_code)]
        let mapped = unsafe { memmap2::MmapOptions::new().populate().map(&file) };
        if let Ok(m) = mapped {
            return Ok(FileBytes::Mapped(m));
        }
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    (&file).read_to_end(&mut bytes)?;
    Ok(FileBytes::Read(bytes))
}

/// Runs the core's independent parts on two threads (the second on a scoped thread).
struct Threads;

impl Join for Threads {
    fn join<A, B, RA, RB>(&self, a: A, b: B) -> (RA, RB)
    where
        A: FnOnce() -> RA + Send,
        B: FnOnce() -> RB + Send,
        RA: Send,
        RB: Send,
    {
        std::thread::scope(|s| {
            let other = s.spawn(b);
            let ra = a();
            match other.join() {
                Ok(rb) => (ra, rb),
                // The core does not panic; if it ever did, fail the same way as on one thread.
                Err(e) => std::panic::resume_unwind(e),
            }
        })
    }
}

/// Source rows per block when the JSON is rendered on two threads (256 rows, about 330 KB, stay
/// in cache: at 5,000 nodes the write took 0.035-0.066 s, against 0.052-0.078 s with 2,048-row
/// blocks and 0.044-0.056 s with 64, six runs each).
const ROW_BLOCK: usize = 256;

/// The JSON report, its source rows rendered on two threads: this one renders the even blocks of
/// [`ROW_BLOCK`] rows and writes every block in order; a helper renders the odd blocks into
/// buffers that come back to it once written (so no block touches fresh memory, which made
/// rendering whole halves on two threads no faster: BENCHMARKS.md item 31). Byte for byte what
/// `render::json_to` writes (the core's corpus test writes rows in blocks; the CLI's tests compare
/// `--jobs 1` and `--jobs 2`).
fn json_on_two_threads(report: &podreach_core::report::Report, out: &mut impl Write) -> std::io::Result<()> {
    use std::sync::mpsc;
    render::json_head(report, &mut *out)?;
    let sources = &report.sources;
    let blocks = || (0..sources.len()).step_by(ROW_BLOCK).map(|start| start..start + ROW_BLOCK);
    std::thread::scope(|scope| -> std::io::Result<()> {
        // Rendered blocks on their way to this thread, and written ones on their way back. When
        // this thread stops early (a closed pipe), the channels close and the helper stops too.
        let (to_writer, from_helper) = mpsc::sync_channel::<Vec<u8>>(2);
        let (to_helper, free) = mpsc::channel::<Vec<u8>>();
        for _ in 0..3 {
            let _ = to_helper.send(Vec::new());
        }
        scope.spawn(move || {
            let mut rows = render::JsonRows::default();
            for block in blocks().skip(1).step_by(2) {
                let Ok(mut buffer) = free.recv() else { return };
                buffer.clear();
                if rows.write(sources, block, &mut buffer).is_err() || to_writer.send(buffer).is_err() {
                    return;
                }
            }
        });
        let mut rows = render::JsonRows::default();
        let mut mine = Vec::new();
        for (k, block) in blocks().enumerate() {
            if k % 2 == 0 {
                mine.clear();
                rows.write(sources, block, &mut mine)?;
                out.write_all(&mine)?;
            } else {
                let buffer = from_helper.recv().map_err(std::io::Error::other)?;
                out.write_all(&buffer)?;
                let _ = to_helper.send(buffer);
            }
        }
        Ok(())
    })?;
    render::json_tail(report, out)
}

/// `--timings`: the time each phase took, on stderr.
struct Clock(Option<std::time::Instant>);

impl Clock {
    fn new(on: bool) -> Clock {
        Clock(on.then(std::time::Instant::now))
    }

    fn lap(&mut self, phase: &str) {
        if let Some(t) = &mut self.0 {
            eprintln!("podreach: {phase}: {:.3} s", t.elapsed().as_secs_f64());
            *t = std::time::Instant::now();
        }
    }
}

fn lower(s: &str) -> String {
    let s = s.split(" (os error").next().unwrap_or(s);
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

fn analyze(a: &Analyze) -> Result<u8, Vec<String>> {
    let query = match &a.to {
        Some(to) => Some(podreach_core::make_query(to, &a.protocol, a.port).map_err(|e| vec![e])?),
        None => {
            podreach_core::parse_protocol(&a.protocol).map_err(|e| vec![e])?;
            None
        }
    };
    let jobs = a.jobs.map(usize::from).unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let mut clock = Clock::new(a.timings);
    let loaded = load_files(&a.files, jobs, !a.no_mmap, &mut clock)?;
    let errors: Vec<String> =
        loaded.diagnostics.iter().filter(|d| d.severity == Severity::Error).map(|d| d.message.clone()).collect();
    if !errors.is_empty() {
        return Err(errors);
    }
    let report = if jobs > 1 {
        podreach_core::report::build_on(&loaded, query.as_ref(), &Threads)
    } else {
        podreach_core::report::build(&loaded, query.as_ref())
    }
    .map_err(|e| vec![e.0])?;
    clock.lap("analyse");
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    // A closed pipe (`| head`) is not an error worth a message.
    let _ = match a.format {
        Format::Json if jobs > 1 && report.sources.len() > ROW_BLOCK => json_on_two_threads(&report, &mut out),
        Format::Json => render::json_to(&report, &mut out),
        Format::Table => out.write_all(render::table(&report).as_bytes()),
        Format::Markdown => out.write_all(render::markdown(&report).as_bytes()),
        Format::Csv => out.write_all(render::csv(&report).as_bytes()),
    }
    .and_then(|()| out.flush());
    clock.lap("write");
    let fail = a.fail_on.iter().any(|f| match f {
        FailOn::Blocked => report.summary.blocked > 0,
        FailOn::Unknown => report.summary.unknown > 0,
        FailOn::Drift => report.drift.iter().any(|d| !d.by_design),
    });
    // The process ends here: leave the model and the report to the operating system rather than
    // freeing a whole-account export object by object (about 5% of the run at 5,000 nodes).
    std::mem::forget(report);
    std::mem::forget(loaded);
    Ok(u8::from(fail))
}

#[cfg(test)]
mod tests {
    /// [`super::MI_OPTION_PURGE_DELAY`] is the purge delay: in mimalloc 3 the one option whose
    /// default is 1000 (ms). A mimalloc that moved it fails here rather than having another option
    /// set to -1.
    #[test]
    #[allow(unsafe_code)]
    fn the_option_set_is_the_purge_delay() {
        // SAFETY: reads an integer option.
        let get = || unsafe { libmimalloc_sys::mi_option_get(super::MI_OPTION_PURGE_DELAY) };
        assert_eq!(get(), 1000, "run without MIMALLOC_PURGE_DELAY in the environment");
        super::keep_freed_memory();
        assert_eq!(get(), -1);
    }
}

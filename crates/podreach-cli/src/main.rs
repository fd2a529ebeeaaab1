//! The `podreach` binary: reads files, runs podreach-core, prints a report, sets the exit code.
//!
//! Exit codes: 0 ok; 1 a `--fail-on` condition holds; 2 unusable input or usage, with one
//! message per problem on stderr and nothing on stdout.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand, ValueEnum};
use podreach_core::{render, Input, Severity};
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

fn read_all(files: &[String]) -> Result<Vec<(String, Vec<u8>)>, Vec<String>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let mut stdin_used = false;
    for f in files {
        if f == "-" {
            if stdin_used {
                errors.push("`-` (stdin) is given twice; give it once".to_owned());
                continue;
            }
            stdin_used = true;
            let mut buf = Vec::new();
            match std::io::stdin().lock().read_to_end(&mut buf) {
                Ok(_) => out.push(("-".to_owned(), buf)),
                Err(e) => errors.push(format!("-: cannot read stdin: {}", lower(&e.to_string()))),
            }
            continue;
        }
        match std::fs::read(f) {
            Ok(bytes) => out.push((f.clone(), bytes)),
            Err(e) => errors.push(format!("{f}: cannot read the file: {}; check the path", lower(&e.to_string()))),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
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
    let texts = read_all(&a.files)?;
    let inputs: Vec<Input<'_>> = texts.iter().map(|(n, b)| Input { name: n, bytes: b }).collect();
    let loaded = podreach_core::load(&inputs);
    // The model owns what it needs: the input bytes go before the report is built.
    drop(inputs);
    drop(texts);
    let errors: Vec<String> =
        loaded.diagnostics.iter().filter(|d| d.severity == Severity::Error).map(|d| d.message.clone()).collect();
    if !errors.is_empty() {
        return Err(errors);
    }
    let report = podreach_core::report::build(&loaded, query.as_ref()).map_err(|e| vec![e.0])?;
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    // A closed pipe (`| head`) is not an error worth a message.
    let _ = match a.format {
        Format::Json => render::json_to(&report, &mut out),
        Format::Table => out.write_all(render::table(&report).as_bytes()),
        Format::Markdown => out.write_all(render::markdown(&report).as_bytes()),
        Format::Csv => out.write_all(render::csv(&report).as_bytes()),
    }
    .and_then(|()| out.flush());
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

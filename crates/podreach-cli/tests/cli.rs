//! Runs the built `podreach` binary over the fixture corpus: output, exit codes, stderr.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "test helpers fail loudly")]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

fn podreach(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_podreach")).current_dir(dir).args(args).output().unwrap()
}

/// `podreach` with `input` on its stdin.
fn podreach_stdin(dir: &Path, args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_podreach"))
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

fn input_names(case: &str) -> (PathBuf, Vec<String>) {
    let dir = fixtures().join(case).join("input");
    let mut names: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    (dir, names)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Every query of every accepted case: the CLI's JSON is byte-identical to the core's snapshot.
#[test]
fn json_output_equals_the_corpus_snapshots() {
    let mut checked = 0;
    for case in podreach_fixtures::CASES {
        let spec = case.spec().unwrap();
        if spec.error.is_some() {
            continue;
        }
        let (dir, names) = input_names(case.name);
        for q in &spec.queries {
            let mut args: Vec<String> = vec!["analyze".into()];
            args.extend(names.iter().cloned());
            args.extend([
                "--to".into(),
                q.to.clone(),
                "--protocol".into(),
                q.protocol.clone(),
                "--format".into(),
                "json".into(),
            ]);
            if let Some(p) = q.port {
                args.extend(["--port".into(), p.to_string()]);
            }
            // One thread, and more threads than files, files mapped or read: the same bytes.
            for (jobs, read) in [("1", None), ("9", None), ("9", Some("--no-mmap"))] {
                let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
                args.extend(["--jobs", jobs]);
                args.extend(read);
                let out = podreach(&dir, &args);
                assert_eq!(out.status.code(), Some(0), "{}: {}", case.name, text(&out.stderr));
                assert!(out.stderr.is_empty(), "{}: stderr {}", case.name, text(&out.stderr));
                let snapshot = case.snapshot(&format!("{}.json", q.name)).unwrap();
                assert_eq!(
                    text(&out.stdout),
                    snapshot,
                    "{} {} --jobs {jobs}: cli json differs from the snapshot",
                    case.name,
                    q.name
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 30, "only {checked} queries checked");
}

#[test]
fn rejected_inputs_exit_2_with_the_message_and_no_stdout() {
    let mut checked = 0;
    for case in podreach_fixtures::CASES {
        let spec = case.spec().unwrap();
        let Some(err) = spec.error else { continue };
        let (dir, names) = input_names(case.name);
        let mut args = vec!["analyze"];
        args.extend(names.iter().map(String::as_str));
        let out = podreach(&dir, &args);
        assert_eq!(out.status.code(), Some(2), "{}", case.name);
        assert!(out.stdout.is_empty(), "{}: stdout not empty", case.name);
        let stderr = text(&out.stderr);
        for c in &err.contains {
            assert!(stderr.contains(c.as_str()), "{}: stderr lacks {c:?}: {stderr}", case.name);
        }
        assert!(!stderr.contains("panicked") && !stderr.contains("backtrace"), "{stderr}");
        checked += 1;
    }
    assert!(checked >= 2);
}

const STORY: &str = "story-t3-medium-hand-attached-group";

fn story(args: &[&str]) -> Output {
    let (dir, names) = input_names(STORY);
    let mut all = vec!["analyze"];
    all.extend(names.iter().map(String::as_str));
    all.extend_from_slice(args);
    podreach(&dir, &all)
}

#[test]
fn table_tells_the_story_in_100_columns() {
    let out = story(&["--to", "eni-0rds", "--port", "5432"]);
    assert_eq!(out.status.code(), Some(0));
    let t = text(&out.stdout);
    assert!(t.starts_with("12 of 18 source addresses cannot reach eni-0rds"), "{t}");
    assert!(t.contains("that lack sg-0dbaccess"));
    assert!(t.contains("DRIFT (2)"));
    assert!(t.contains("eth1  eni-0b22220000000000b"));
    assert!(t.contains("authorize-security-group-ingress --group-id sg-0dbaccess"));
    // Prose wraps at 100 columns; only copy-paste commands may run longer.
    for line in t.lines() {
        let cmd = line.trim_start().starts_with("aws ") || line.trim_start().starts_with("fix: aws ");
        assert!(cmd || line.chars().count() <= 100, "line over 100 columns: {line}");
    }
}

#[test]
fn markdown_and_csv() {
    let md = text(&story(&["--to", "eni-0rds", "--port", "5432", "--format", "markdown"]).stdout);
    assert!(md.starts_with("# podreach report"));
    assert!(md.contains("| eth | eni |"));
    let csv = text(&story(&["--to", "10.0.100.20", "--port", "5432", "--format", "csv"]).stdout);
    assert_eq!(csv.lines().count(), 19, "{csv}");
    assert!(csv.starts_with("ip,eni,eth,instance,node,verdict,cause,pods\n"));
}

#[test]
fn fail_on_sets_exit_1() {
    assert_eq!(story(&["--to", "eni-0rds", "--port", "5432", "--fail-on", "blocked"]).status.code(), Some(1));
    assert_eq!(story(&["--to", "eni-0rds", "--port", "5432", "--fail-on", "unknown"]).status.code(), Some(0));
    assert_eq!(story(&["--fail-on", "drift"]).status.code(), Some(1));
    assert_eq!(story(&["--fail-on", "unknown,blocked"]).status.code(), Some(0));
    let bad = story(&["--fail-on", "sometimes"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(bad.stdout.is_empty());
}

#[test]
fn without_a_target_only_matrix_and_drift() {
    let out = story(&["--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["schema"], "podreach/report@1");
    assert!(v["target"].is_null());
    assert_eq!(v["sources"].as_array().unwrap().len(), 0);
    assert_eq!(v["drift"].as_array().unwrap().len(), 2);
}

#[test]
fn usage_errors_exit_2() {
    let cases: &[(&[&str], &str)] = &[
        (&["--to", "eni-0rds"], "needs a destination port"),
        (&["--to", "eni-0nope", "--port", "5432"], "eni-0nope"),
        (&["--to", "10.9.9.9", "--port", "5432"], "no exported network interface holds"),
        (&["--to", "rds", "--port", "5432"], "neither an `eni-` id nor an ipv4 address"),
        (&["--to", "eni-0rds", "--port", "5432", "--protocol", "smtp"], "not a protocol"),
        (&["--to", "eni-0rds", "--port", "99999"], "99999"),
    ];
    for (args, needle) in cases {
        let out = story(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(text(&out.stderr).contains(needle), "{args:?}: {}", text(&out.stderr));
    }
    let missing = podreach(&fixtures(), &["analyze", "no-such-file.json"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).starts_with("podreach: no-such-file.json: cannot read the file"));
    // Files are read on several threads; the messages still come in the order of the arguments.
    let (dir, names) = input_names("01-secondary-ip-sg-reference");
    let mut args = vec!["analyze", "zz-missing.json"];
    args.extend(names.iter().map(String::as_str));
    args.push("aa-missing.json");
    let both = podreach(&dir, &args);
    assert_eq!(both.status.code(), Some(2));
    assert!(both.stdout.is_empty());
    let lines: Vec<String> = text(&both.stderr).lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0].starts_with("podreach: zz-missing.json: cannot read the file"), "{lines:?}");
    assert!(lines[1].starts_with("podreach: aa-missing.json: cannot read the file"), "{lines:?}");
    assert_eq!(podreach(&fixtures(), &["analyze", "x.json", "--jobs", "0"]).status.code(), Some(2));
    assert_eq!(podreach(&fixtures(), &["analyze"]).status.code(), Some(2));
    assert_eq!(podreach(&fixtures(), &["--help"]).status.code(), Some(0));
}

#[test]
fn stdin_is_read_with_a_dash() {
    let (dir, _) = input_names("01-secondary-ip-sg-reference");
    let mut all = std::fs::read(dir.join("enis.json")).unwrap();
    all.extend(std::fs::read(dir.join("sgs.json")).unwrap());
    let out = podreach_stdin(&dir, &["analyze", "-", "--to", "eni-0rds", "--port", "5432", "--format", "json"], &all);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["summary"]["reachable"], 3);
}

/// An ENI export of more than 1 MB, most of the input: read in two halves with two jobs
/// (mapped from a file, or from stdin), and its 3,000 source rows written as JSON on two threads
/// (12 blocks); the output is the same as with one job.
#[test]
fn a_large_file_read_in_halves_gives_the_same_report() {
    let (dir, _) = input_names("01-secondary-ip-sg-reference");
    let enis: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("enis.json")).unwrap()).unwrap();
    let template = enis["NetworkInterfaces"].as_array().unwrap().clone();
    let mut many = Vec::new();
    for i in 0..1500 {
        for (k, e) in template.iter().enumerate() {
            let mut e = e.clone();
            let id = format!("{}-{i}", e["NetworkInterfaceId"].as_str().unwrap());
            e["NetworkInterfaceId"] = id.into();
            if e["Description"] != "RDSNetworkInterface" {
                e["PrivateIpAddress"] = format!("10.1.{}.{}", (i * 3 + k) / 250, (i * 3 + k) % 250 + 1).into();
                e["PrivateIpAddresses"] =
                    serde_json::json!([{"Primary": true, "PrivateIpAddress": e["PrivateIpAddress"]}]);
            } else if i > 0 {
                continue;
            }
            many.push(e);
        }
    }
    let big = serde_json::to_vec_pretty(&serde_json::json!({ "NetworkInterfaces": many })).unwrap();
    assert!(big.len() > 1 << 20, "{} bytes", big.len());
    let tmp = std::env::temp_dir().join(format!("podreach-halves-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    std::fs::write(tmp.join("enis.json"), &big).unwrap();
    std::fs::copy(dir.join("sgs.json"), tmp.join("sgs.json")).unwrap();
    let target = "eni-0rds-0";
    let run = |jobs: &str| {
        podreach(
            &tmp,
            &["analyze", "enis.json", "sgs.json", "--to", target, "--port", "5432", "--format", "json", "--jobs", jobs],
        )
    };
    let (one, two) = (run("1"), run("2"));
    assert_eq!(one.status.code(), Some(0), "{}", text(&one.stderr));
    assert_eq!(text(&one.stdout), text(&two.stdout));
    let v: serde_json::Value = serde_json::from_slice(&two.stdout).unwrap();
    assert_eq!(v["summary"]["reachable"], 3000, "{}", v["summary"]);
    let piped = |jobs: &str| {
        let args = ["analyze", "-", "sgs.json", "--to", target, "--port", "5432", "--format", "json", "--jobs", jobs];
        let out = podreach_stdin(&tmp, &args, &big);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        out.stdout
    };
    let (one, two) = (piped("1"), piped("2"));
    assert_eq!(text(&one), text(&two));
    let v: serde_json::Value = serde_json::from_slice(&two).unwrap();
    assert_eq!(v["summary"]["reachable"], 3000, "{}", v["summary"]);
    std::fs::remove_dir_all(&tmp).unwrap();
}

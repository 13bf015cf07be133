//! Project automation: `cargo xtask ci` runs exactly what CI runs; `cargo xtask bench` prints
//! the benchmark figures; `cargo xtask tidy` checks the architecture's dependency rules.

mod tidy;

use std::process::Command;

use anyhow::{Context, Result, bail};

const USAGE: &str = "usage: cargo xtask <ci | bench | codegen | mutants [PATH] | tidy>
  ci       fmt check, clippy -D warnings, all tests (including the check that docs/openapi.json
           is current), cargo deny (bans licenses sources), tidy
  codegen  rewrite docs/openapi.json from the code
  bench    run the benchmarks and print their figures (policy; store look-ups at 1k and 1M
           shares; the API's write path on SQLite and PostgreSQL; the client page
           under 64 connections against a static route; mail from the outbox
           to a local SMTP server; a one-minute soak with live streams and a guesser)
  mutants  mutation testing (cargo-mutants) of portico-core's policy/, or of PATH (a file or a
           folder under crates/<crate>/src): prints the score; fails on a missed mutant
  tidy     check that portico-core's dependencies stay on its allow-list";

fn main() -> Result<()> {
    let task = std::env::args().nth(1);
    match task.as_deref() {
        Some("ci") => ci(),
        Some("bench") => bench(),
        Some("tidy") => tidy::check(),
        Some("codegen") => codegen(),
        Some("mutants") => mutants(std::env::args().nth(2).as_deref()),
        _ => {
            eprintln!("{USAGE}");
            bail!("unknown or missing task")
        }
    }
}

fn cargo(args: &[&str]) -> Result<()> {
    cargo_with_env(args, &[])
}

fn ci() -> Result<()> {
    cargo(&["fmt", "--all", "--", "--check"])?;
    cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--all-features",
        "--locked",
        "--",
        "-D",
        "warnings",
    ])?;
    // Tests that cannot find a tool they need (outside CI) list themselves here.
    std::fs::create_dir_all("target").context("could not create target/")?;
    let skipped_log = std::fs::canonicalize("target")?.join("ci-skipped-checks.txt");
    let _ = std::fs::remove_file(&skipped_log);
    let tests = cargo_with_env(
        &["test", "--workspace", "--all-features", "--locked"],
        &[("PORTICO_SKIPPED_CHECKS", skipped_log.as_os_str())],
    );
    let skipped = std::fs::read_to_string(&skipped_log).unwrap_or_default();
    report_skipped(&skipped);
    tests?;
    tidy::check()?;
    // cargo-deny reads the metadata of every package, other platforms' too: fetch them first.
    cargo(&["fetch", "--locked"])?;
    cargo(&[
        "deny",
        "--offline",
        "--all-features",
        "check",
        "bans",
        "licenses",
        "sources",
    ])
    .context("cargo-deny is needed: cargo install cargo-deny --locked")?;
    report_skipped(&skipped);
    if skipped.trim().is_empty() {
        eprintln!("ci: all checks passed");
    } else {
        eprintln!("ci: the checks that ran passed; the skipped ones above did not run");
    }
    Ok(())
}

/// Prints which checks did not run for want of a tool (a skip is never a pass).
fn report_skipped(log: &str) {
    let mut lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
    lines.sort_unstable();
    lines.dedup();
    if lines.is_empty() {
        eprintln!("ci: no check was skipped");
    } else {
        eprintln!(
            "ci: SKIPPED {} check(s) for want of a tool (bash .ci/run installs them):",
            lines.len()
        );
        for line in lines {
            eprintln!("  - {line}");
        }
    }
}

fn cargo_with_env(args: &[&str], env: &[(&str, &std::ffi::OsStr)]) -> Result<()> {
    eprintln!("$ cargo {}", args.join(" "));
    let status = Command::new(env!("CARGO"))
        .args(args)
        .envs(env.iter().copied())
        .status()
        .with_context(|| format!("could not run cargo {}", args.join(" ")))?;
    if !status.success() {
        bail!("cargo {} failed ({status})", args.join(" "));
    }
    Ok(())
}

/// Mutation testing: every mutant cargo-mutants makes of the code under `path` must make a test
/// of its crate fail. Prints the score and where the details are.
fn mutants(path: Option<&str>) -> Result<()> {
    let path = path
        .unwrap_or("crates/portico-core/src/policy")
        .trim_end_matches('/');
    let package = path
        .strip_prefix("crates/")
        .and_then(|rest| rest.split('/').next())
        .filter(|p| !p.is_empty() && path.contains("/src"))
        .with_context(|| format!("{path}: give a file or folder under crates/<crate>/src"))?;
    if !std::path::Path::new(path).exists() {
        bail!("{path} does not exist");
    }
    let filter = if std::path::Path::new(path).is_dir() {
        format!("{path}/**")
    } else {
        path.to_owned()
    };
    let output = "target/mutants";
    let args = [
        "mutants",
        "--package",
        package,
        "--file",
        &filter,
        "--output",
        output,
        "--timeout",
        "300",
    ];
    eprintln!("$ cargo {}", args.join(" "));
    let status = Command::new(env!("CARGO"))
        .args(args)
        .status()
        .context("could not run cargo mutants")?;
    let out = std::path::Path::new(output).join("mutants.out");
    let count = |name: &str| -> usize {
        std::fs::read_to_string(out.join(name))
            .map_or(0, |s| s.lines().filter(|l| !l.trim().is_empty()).count())
    };
    let (caught, missed, timeout, unviable) = (
        count("caught.txt"),
        count("missed.txt"),
        count("timeout.txt"),
        count("unviable.txt"),
    );
    let viable = caught + missed + timeout;
    if viable == 0 {
        bail!(
            "cargo mutants made no viable mutant of {path} ({status}); is it installed? \
             cargo install cargo-mutants --locked"
        );
    }
    eprintln!(
        "mutants: {path}: {caught} of {viable} viable mutants caught, {missed} missed, \
         {timeout} timed out ({unviable} did not build); details in {}",
        out.display()
    );
    if missed + timeout > 0 {
        for name in ["missed.txt", "timeout.txt"] {
            eprint!(
                "{}",
                std::fs::read_to_string(out.join(name)).unwrap_or_default()
            );
        }
        bail!("{} mutant(s) of {path} survived", missed + timeout);
    }
    Ok(())
}

/// Rewrites the generated files; the tests that check them run with the update switch on.
fn codegen() -> Result<()> {
    eprintln!("$ PORTICO_UPDATE_OPENAPI=1 cargo test -p portico-http openapi");
    let status = Command::new(env!("CARGO"))
        .args([
            "test",
            "--locked",
            "--package",
            "portico-http",
            "--test",
            "it",
            "openapi",
        ])
        .env("PORTICO_UPDATE_OPENAPI", "1")
        .status()
        .context("could not run cargo test")?;
    if !status.success() {
        bail!("writing docs/openapi.json failed ({status})");
    }
    Ok(())
}

fn bench() -> Result<()> {
    cargo(&[
        "bench",
        "--locked",
        "--package",
        "portico-core",
        "--features",
        "testing",
        "--bench",
        "policy",
    ])?;
    for (package, bench) in [
        // Needs PostgreSQL for its PostgreSQL rows (PORTICO_BENCH_POSTGRES_URL); see its docs.
        ("portico-store", "lookup"),
        // Starts the real binary on SQLite and on PostgreSQL (PORTICO_BENCH_POSTGRES_URL).
        ("portico-server", "write_path"),
        // The client page under 64 connections, cached and not, beside a static route of the
        // same server, on SQLite and on PostgreSQL (PORTICO_BENCH_POSTGRES_URL).
        ("portico-server", "pages"),
        // The portal home of a client with 200 records, and password sign-ins per second.
        ("portico-server", "portal"),
        // Messages per second from the outbox to a local SMTP server, one dispatcher and two.
        ("portico-server", "mail"),
        // Webhook deliveries per second to a local receiver, one dispatcher.
        ("portico-server", "webhooks"),
        // A minute of mixed load with 500 live streams and a guesser rotating addresses.
        ("portico-server", "soak"),
    ] {
        cargo(&["bench", "--locked", "--package", package, "--bench", bench])?;
    }
    Ok(())
}

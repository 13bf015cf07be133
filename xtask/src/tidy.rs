//! Architecture rules that a compiler does not check: `portico-core` stays free of databases,
//! HTTP, SMTP and runtimes, and depends only on an allow-list of small crates.

use std::process::Command;

use anyhow::{Context, Result, bail};

/// The crates `portico-core` may depend on directly (normal dependencies).
const CORE_ALLOWED: &[&str] = &[
    "async-trait",
    "base64",
    "hmac",
    "jiff",
    "rust_decimal",
    "serde",
    "sha2",
    "thiserror",
    "time",
    "uuid",
];

/// Crates that must never appear anywhere in `portico-core`'s normal dependency tree.
const CORE_BANNED: &[&str] = &[
    "sea-orm",
    "sea-query",
    "sqlx",
    "sqlx-core",
    "poem",
    "poem-openapi",
    "hyper",
    "mail-send",
    "mail-builder",
    "tokio",
    "reqwest",
];

fn tree(depth: Option<u32>) -> Result<Vec<String>> {
    let mut cmd = Command::new(env!("CARGO"));
    cmd.args([
        "tree",
        "--package",
        "portico-core",
        "--edges",
        "normal",
        "--prefix",
        "none",
    ]);
    if let Some(depth) = depth {
        cmd.args(["--depth", &depth.to_string()]);
    }
    let out = cmd.output().context("could not run cargo tree")?;
    if !out.status.success() {
        bail!(
            "cargo tree failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8(out.stdout)?
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect())
}

/// Lists the rule breaks, empty when the tree is tidy.
fn problems(direct: &[String], all: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    for name in direct.iter().filter(|n| n.as_str() != "portico-core") {
        if !CORE_ALLOWED.contains(&name.as_str()) {
            found.push(format!(
                "portico-core depends on {name}, which is not on its allow-list"
            ));
        }
    }
    for name in all {
        if CORE_BANNED.contains(&name.as_str()) || name.starts_with("sqlx") {
            found.push(format!("{name} is in portico-core's dependency tree"));
        }
    }
    found.sort();
    found.dedup();
    found
}

/// Checks the rules; an error lists every break.
pub(crate) fn check() -> Result<()> {
    let found = problems(&tree(Some(1))?, &tree(None)?);
    if found.is_empty() {
        eprintln!("tidy: portico-core's dependencies are on the allow-list");
        Ok(())
    } else {
        bail!("tidy:\n  {}", found.join("\n  "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_dependencies_stay_on_the_allow_list() {
        check().unwrap();
    }

    #[test]
    fn tidy_reports_unlisted_and_banned_crates() {
        let direct = vec![
            "portico-core".to_owned(),
            "serde".to_owned(),
            "reqwest".to_owned(),
        ];
        let all = vec![
            "sqlx-postgres".to_owned(),
            "tokio".to_owned(),
            "serde".to_owned(),
        ];
        let found = problems(&direct, &all);
        assert_eq!(
            found,
            vec![
                "portico-core depends on reqwest, which is not on its allow-list",
                "sqlx-postgres is in portico-core's dependency tree",
                "tokio is in portico-core's dependency tree",
            ]
        );
    }
}

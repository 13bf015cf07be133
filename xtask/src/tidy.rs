//! Rules that a compiler does not check: `portico-core` stays free of databases, HTTP, SMTP and
//! runtimes, and depends only on an allow-list of small crates; and every requirement id a test
//! name, comment or document cites is one `docs/REQUIREMENTS.md` lists.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The crates `portico-core` may depend on directly (normal dependencies).
const CORE_ALLOWED: &[&str] = &[
    "async-trait",
    "base64",
    // Runtime-free combinators: the webhook round posts several deliveries at once.
    "futures-util",
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

/// The ids `docs/REQUIREMENTS.md` lists: each on a line of its own as `- S7 …`.
fn listed_ids(requirements: &str) -> BTreeSet<String> {
    requirements
        .lines()
        .filter_map(|l| l.strip_prefix("- "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|id| is_id(id, None))
        .map(str::to_owned)
        .collect()
}

/// Whether `word` is an id: one capital letter (of `families`, when given) and one or two digits.
fn is_id(word: &str, families: Option<&BTreeSet<char>>) -> bool {
    let mut chars = word.chars();
    let Some(letter) = chars.next() else {
        return false;
    };
    let digits = chars.as_str();
    letter.is_ascii_uppercase()
        && families.is_none_or(|f| f.contains(&letter))
        && (1..=2).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
}

/// The ids `text` cites: words of an id's shape whose letter is one of `families`.
fn cited_in_text(text: &str, families: &BTreeSet<char>) -> Vec<String> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| is_id(w, Some(families)))
        .map(str::to_owned)
        .collect()
}

/// The ids a test or function name starts with: `v5_v9_a_quotes_last_day…` cites V5 and V9.
fn cited_in_name(name: &str, families: &BTreeSet<char>) -> Vec<String> {
    name.split('_')
        .map(str::to_ascii_uppercase)
        .take_while(|w| is_id(w, Some(families)))
        .collect()
}

/// The ids one Rust source cites, in function names and comments, with their line numbers.
fn cited_in_rust(source: &str, families: &BTreeSet<char>) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (n, line) in source.lines().enumerate() {
        if let Some((_, comment)) = line.split_once("//") {
            found.extend(
                cited_in_text(comment, families)
                    .into_iter()
                    .map(|id| (n + 1, id)),
            );
        }
        if let Some((_, rest)) = line.split_once("fn ") {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            found.extend(
                cited_in_name(&name, families)
                    .into_iter()
                    .map(|id| (n + 1, id)),
            );
        }
    }
    found
}

/// The project's own Rust sources and documents (not `target/`, not dependencies).
fn project_files(root: &Path) -> Result<Vec<PathBuf>> {
    let mut files = vec![root.join("README.md")];
    let mut dirs = vec![root.join("crates"), root.join("docs"), root.join("xtask")];
    while let Some(dir) = dirs.pop() {
        for entry in
            std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))?
        {
            let path = entry?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if path.is_dir() {
                if !matches!(name, "target" | "node_modules") && !name.starts_with('.') {
                    dirs.push(path);
                }
            } else if path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("rs") || e.eq_ignore_ascii_case("md"))
            {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Every citation of an id `docs/REQUIREMENTS.md` lacks, as `path:line: id`.
fn unlisted_ids(root: &Path) -> Result<Vec<String>> {
    let requirements = std::fs::read_to_string(root.join("docs/REQUIREMENTS.md"))
        .context("docs/REQUIREMENTS.md lists the requirement ids; it is missing")?;
    let listed = listed_ids(&requirements);
    let families: BTreeSet<char> = listed.iter().filter_map(|id| id.chars().next()).collect();
    let mut found = Vec::new();
    for path in project_files(root)? {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let cited = if path.extension().is_some_and(|e| e == "rs") {
            cited_in_rust(&text, &families)
        } else {
            text.lines()
                .enumerate()
                .flat_map(|(n, l)| {
                    cited_in_text(l, &families)
                        .into_iter()
                        .map(move |id| (n + 1, id))
                })
                .collect()
        };
        let shown = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .display()
            .to_string();
        found.extend(
            cited
                .into_iter()
                .filter(|(_, id)| !listed.contains(id))
                .map(|(line, id)| format!("{shown}:{line}: {id} is not in docs/REQUIREMENTS.md")),
        );
    }
    Ok(found)
}

/// The workspace's root (xtask runs from it through `cargo xtask`, its tests from `xtask/`).
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Checks the rules; an error lists every break.
pub(crate) fn check() -> Result<()> {
    let mut found = problems(&tree(Some(1))?, &tree(None)?);
    let deps_ok = found.is_empty();
    found.extend(unlisted_ids(&workspace_root())?);
    if found.is_empty() {
        eprintln!(
            "tidy: portico-core's dependencies are on the allow-list; every requirement id cited \
             is in docs/REQUIREMENTS.md"
        );
        Ok(())
    } else {
        if deps_ok {
            eprintln!("tidy: portico-core's dependencies are on the allow-list");
        }
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
    fn every_requirement_id_cited_is_listed() {
        let found = unlisted_ids(&workspace_root()).unwrap();
        assert!(found.is_empty(), "{}", found.join("\n"));
    }

    #[test]
    fn tidy_finds_ids_in_test_names_comments_and_text() {
        let listed = listed_ids("# R\n- S1 one\n- V9 two\n- not an id\n- C12 three\n");
        assert_eq!(listed.iter().collect::<Vec<_>>(), ["C12", "S1", "V9"]);
        let families: BTreeSet<char> = ['S', 'V', 'C'].into();
        // In two halves, so that this file does not itself cite an unlisted id.
        let source = concat!(
            "f",
            "n s1_v10_x_c2() {}\nlet t0 = T0; // S9, not T0 or S123 or ASCII S2x\nfn test() {}"
        );
        assert_eq!(
            cited_in_rust(source, &families),
            [
                (1, "S1".to_owned()),
                (1, "V10".to_owned()),
                (2, "S9".to_owned())
            ]
        );
        assert_eq!(
            cited_in_text("(S7) and C3, V4.", &families),
            ["S7", "C3", "V4"]
        );
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

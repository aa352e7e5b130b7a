//! The appendix "Using this in your own project" (`book/src/own-project.md`)
//! tells a reader which crates to add, at which versions and with which
//! features. This check holds every `cargo add` line and every dependency
//! line of its toml blocks to the workspace's own `[workspace.dependencies]`,
//! so the page cannot drift from what the book is built with. It runs as a
//! test, so `cargo test --workspace` (and `cargo xtask test`) runs it.
//!
//! The rules, for each crate the page names:
//! - it is in `[workspace.dependencies]` (or, as a `path`/`git` dependency,
//!   it is one of the book's own packages);
//! - same version requirement, ignoring a leading `=` (`0.33.1` on the page
//!   equals `=0.33.1` in the workspace);
//! - `default-features = false` (`--no-default-features`) exactly where the
//!   workspace has it;
//! - every feature the workspace enables, and no feature that no manifest of
//!   the workspace enables for that crate (a member may add features to a
//!   workspace dependency, e.g. tokio's `net`; the page may show those);
//! - the `cargo add` line and the toml line of a crate say the same thing,
//!   and neither exists without the other.

#![cfg(test)]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

/// One dependency as the page states it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Dep {
    /// `dependencies`, `dev-dependencies`, `build-dependencies`, or
    /// `target.<cfg>.<one of those>`.
    section: String,
    /// The name in the manifest (the key, or the crate of `cargo add`).
    name: String,
    /// The version requirement without a leading `=`.
    version: Option<String>,
    default_features: bool,
    features: BTreeSet<String>,
    /// `path` or `git`: one of the book's own crates, not a registry crate.
    local: bool,
    /// `package = "..."`, for a renamed dependency.
    package: Option<String>,
    /// Where the page says it, for the error message.
    at: String,
}

impl Dep {
    fn key(&self) -> (String, String) {
        (self.section.clone(), self.name.clone())
    }
}

/// What the page's `cargo add` line or toml line must match.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Spec {
    version: String,
    default_features: bool,
    features: BTreeSet<String>,
}

impl fmt::Display for Spec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "version {}", self.version)?;
        if !self.default_features {
            write!(f, ", default-features = false")?;
        }
        let features: Vec<&str> = self.features.iter().map(String::as_str).collect();
        write!(f, ", features [{}]", features.join(", "))
    }
}

/// The parts of the workspace's manifests the page is checked against.
#[derive(Debug, Default)]
struct Workspace {
    /// `[workspace.dependencies]`, by name.
    deps: BTreeMap<String, Spec>,
    /// Names in `[workspace.dependencies]` that are `path` dependencies (the
    /// book's own crates).
    local: BTreeSet<String>,
    /// Features that some member adds to a workspace dependency
    /// (`tokio = { workspace = true, features = ["net"] }`).
    added_features: BTreeMap<String, BTreeSet<String>>,
    /// Package names of the workspace's members (the root package included).
    packages: BTreeSet<String>,
}

impl Workspace {
    /// Reads `<root>/Cargo.toml` and the manifests of its members (`crates/*`).
    fn read(root: &Path) -> Result<Self, String> {
        let read = |path: &Path| {
            std::fs::read_to_string(path)
                .map_err(|e| format!("{}: {e}", path.display()))
        };
        let root_manifest = read(&root.join("Cargo.toml"))?;
        let mut members = Vec::new();
        let dir = root.join("crates");
        let entries = std::fs::read_dir(&dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?;
        for entry in entries {
            let manifest =
                entry.map_err(|e| e.to_string())?.path().join("Cargo.toml");
            if manifest.is_file() {
                members.push(read(&manifest)?);
            }
        }
        Self::from_manifests(&root_manifest, &members)
    }

    fn from_manifests(root: &str, members: &[String]) -> Result<Self, String> {
        let root: toml::Table = root
            .parse()
            .map_err(|e| format!("Cargo.toml does not parse: {e}"))?;
        let mut ws = Workspace::default();
        let table = root
            .get("workspace")
            .and_then(|w| w.get("dependencies"))
            .and_then(toml::Value::as_table)
            .ok_or("Cargo.toml has no [workspace.dependencies]")?;
        for (name, value) in table {
            let dep =
                dependency("Cargo.toml", "workspace.dependencies", name, value)?;
            if dep.local {
                ws.local.insert(name.clone());
                continue;
            }
            let version = dep.version.ok_or_else(|| {
                format!("[workspace.dependencies] {name} has no version")
            })?;
            ws.deps.insert(
                name.clone(),
                Spec {
                    version,
                    default_features: dep.default_features,
                    features: dep.features,
                },
            );
        }
        let mut manifests = vec![root];
        for text in members {
            manifests.push(text.parse().map_err(|e| {
                format!("a member's Cargo.toml does not parse: {e}")
            })?);
        }
        for manifest in &manifests {
            if let Some(name) = manifest
                .get("package")
                .and_then(|p| p.get("name"))
                .and_then(toml::Value::as_str)
            {
                ws.packages.insert(name.to_owned());
            }
            for (_, table) in dependency_tables(manifest) {
                for (name, value) in table {
                    let inherits =
                        value.get("workspace").and_then(toml::Value::as_bool);
                    if inherits != Some(true) {
                        continue;
                    }
                    let features = strings(value.get("features"));
                    ws.added_features
                        .entry(name.clone())
                        .or_default()
                        .extend(features);
                }
            }
        }
        Ok(ws)
    }
}

/// Every dependency table of a manifest, with its section name.
fn dependency_tables(manifest: &toml::Table) -> Vec<(String, &toml::Table)> {
    const KINDS: [&str; 3] =
        ["dependencies", "dev-dependencies", "build-dependencies"];
    let mut tables = Vec::new();
    for kind in KINDS {
        if let Some(t) = manifest.get(kind).and_then(toml::Value::as_table) {
            tables.push((kind.to_owned(), t));
        }
    }
    if let Some(targets) = manifest.get("target").and_then(toml::Value::as_table) {
        for (cfg, target) in targets {
            for kind in KINDS {
                if let Some(t) = target.get(kind).and_then(toml::Value::as_table) {
                    tables.push((format!("target.{cfg}.{kind}"), t));
                }
            }
        }
    }
    tables
}

fn strings(value: Option<&toml::Value>) -> BTreeSet<String> {
    value
        .and_then(toml::Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(toml::Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn requirement(version: &str) -> String {
    version.trim().trim_start_matches('=').trim().to_owned()
}

/// One manifest entry (`name = "1.0"` or `name = { ... }`).
fn dependency(
    at: &str,
    section: &str,
    name: &str,
    value: &toml::Value,
) -> Result<Dep, String> {
    let mut dep = Dep {
        section: section.to_owned(),
        name: name.to_owned(),
        version: None,
        default_features: true,
        features: BTreeSet::new(),
        local: false,
        package: None,
        at: at.to_owned(),
    };
    match value {
        toml::Value::String(v) => dep.version = Some(requirement(v)),
        toml::Value::Table(t) => {
            for key in t.keys() {
                let known = [
                    "version",
                    "features",
                    "default-features",
                    "path",
                    "git",
                    "rev",
                    "tag",
                    "branch",
                    "package",
                    "optional",
                    "workspace",
                ];
                if !known.contains(&key.as_str()) {
                    return Err(format!(
                        "{at}: [{section}] {name}: unknown key `{key}`"
                    ));
                }
            }
            dep.version = t
                .get("version")
                .and_then(toml::Value::as_str)
                .map(requirement);
            dep.default_features = t
                .get("default-features")
                .and_then(toml::Value::as_bool)
                .unwrap_or(true);
            dep.features = strings(t.get("features"));
            dep.local = t.contains_key("path") || t.contains_key("git");
            dep.package = t
                .get("package")
                .and_then(toml::Value::as_str)
                .map(str::to_owned);
        }
        other => {
            return Err(format!(
                "{at}: [{section}] {name}: expected a string or a table, found {other}"
            ));
        }
    }
    Ok(dep)
}

/// Splits a command line into words: whitespace separates, single and
/// double quotes group (`--target 'cfg(loom)'`).
fn words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote = None;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        return Err(format!("unclosed quote in `{line}`"));
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// The arguments of one `cargo add` (the words after `cargo add`).
fn cargo_add(at: &str, args: &[String]) -> Result<Dep, String> {
    let mut kind = "dependencies";
    let mut target = None;
    let mut crates = Vec::new();
    let mut dep = Dep {
        section: String::new(),
        name: String::new(),
        version: None,
        default_features: true,
        features: BTreeSet::new(),
        local: false,
        package: None,
        at: at.to_owned(),
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_owned())),
            _ => (arg.as_str(), None),
        };
        let mut value = |flag: &str| {
            inline
                .clone()
                .or_else(|| args.next().cloned())
                .ok_or_else(|| format!("{at}: `cargo add {flag}` needs a value"))
        };
        match flag {
            "--dev" => kind = "dev-dependencies",
            "--build" => kind = "build-dependencies",
            "--target" => target = Some(value(flag)?),
            "--no-default-features" => dep.default_features = false,
            "--default-features" => dep.default_features = true,
            "--features" | "-F" => dep.features.extend(
                value(flag)?
                    .split([',', ' '])
                    .filter(|f| !f.is_empty())
                    .map(str::to_owned),
            ),
            "--rename" => dep.package = Some(value(flag)?),
            "--optional" | "--no-optional" | "--quiet" | "-q" | "--offline" => {}
            f if f.starts_with('-') => {
                return Err(format!(
                    "{at}: `cargo add` option `{f}` is not understood"
                ));
            }
            krate => crates.push(krate.to_owned()),
        }
    }
    let [krate] = crates.as_slice() else {
        return Err(format!(
            "{at}: one crate per `cargo add` line, found {crates:?}"
        ));
    };
    let (name, version) = match krate.split_once('@') {
        Some((n, v)) => (n.to_owned(), Some(requirement(v))),
        None => (krate.clone(), None),
    };
    // `--rename NEW` puts the crate under NEW, with `package = "crate"`.
    match dep.package.take() {
        Some(new) => {
            dep.name = new;
            dep.package = Some(name);
        }
        None => dep.name = name,
    }
    dep.version = version;
    dep.section = match target {
        Some(cfg) => format!("target.{cfg}.{kind}"),
        None => kind.to_owned(),
    };
    Ok(dep)
}

/// What the page states: its `cargo add` lines and its toml dependency lines.
#[derive(Debug, Default)]
struct Page {
    cargo_add: Vec<Dep>,
    toml: Vec<Dep>,
}

fn parse_page(file: &str, text: &str) -> Result<Page, String> {
    let mut page = Page::default();
    let mut fence: Option<(String, usize, String)> = None; // (info, first line, body)
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix("```") {
            match fence.take() {
                None => {
                    fence = Some((rest.trim().to_owned(), n, String::new()));
                    continue;
                }
                Some((info, start, body)) => {
                    if info.split(',').next() == Some("toml") {
                        let table: toml::Table = body.parse().map_err(|e| {
                            format!(
                                "{file}:{start}: the toml block does not parse: {e}"
                            )
                        })?;
                        for (section, deps) in dependency_tables(&table) {
                            for (name, value) in deps {
                                let at = format!("{file}:{start} (toml block)");
                                page.toml
                                    .push(dependency(&at, &section, name, value)?);
                            }
                        }
                    }
                    continue;
                }
            }
        }
        if let Some((_, _, body)) = fence.as_mut() {
            body.push_str(line);
            body.push('\n');
        }
        // `cargo add ...` in a console block or in inline code; a mention of
        // the command without arguments (prose about "cargo add lines") is not one.
        let mut rest = line;
        while let Some(pos) = rest.find("cargo add") {
            let after = &rest[pos + "cargo add".len()..];
            let end = after.find('`').unwrap_or(after.len());
            let args = words(&after[..end])?;
            if !args.is_empty() {
                page.cargo_add
                    .push(cargo_add(&format!("{file}:{n}"), &args)?);
            }
            rest = &after[end..];
        }
    }
    if let Some((_, start, _)) = fence {
        return Err(format!("{file}:{start}: a code block is never closed"));
    }
    Ok(page)
}

/// Everything on the page that disagrees with the workspace, or with itself.
fn check(page: &Page, ws: &Workspace) -> Vec<String> {
    let mut errors = Vec::new();
    if page.cargo_add.is_empty() || page.toml.is_empty() {
        errors.push(format!(
            "the page should have `cargo add` lines and a toml [dependencies] table; found {} and {}",
            page.cargo_add.len(),
            page.toml.len()
        ));
    }
    for dep in page.cargo_add.iter().chain(&page.toml) {
        check_one(dep, ws, &mut errors);
    }
    // The two forms agree with each other, crate by crate.
    let by_key = |deps: &[Dep], errors: &mut Vec<String>| {
        let mut map: BTreeMap<(String, String), Dep> = BTreeMap::new();
        for dep in deps.iter().filter(|d| !d.local) {
            if let Some(before) = map.get(&dep.key()) {
                if !same(before, dep) {
                    errors.push(format!(
                        "{}: [{}] {} is stated twice, differently (also at {})",
                        dep.at, dep.section, dep.name, before.at
                    ));
                }
            } else {
                map.insert(dep.key(), dep.clone());
            }
        }
        map
    };
    let added = by_key(&page.cargo_add, &mut errors);
    let table = by_key(&page.toml, &mut errors);
    for (key, dep) in &added {
        match table.get(key) {
            None => errors.push(format!(
                "{}: `cargo add` for [{}] {} has no line in a toml block",
                dep.at, key.0, key.1
            )),
            Some(t) if !same(dep, t) => errors.push(format!(
                "{}: `cargo add` for [{}] {} says {}, the toml block at {} says {}",
                dep.at,
                key.0,
                key.1,
                describe(dep),
                t.at,
                describe(t)
            )),
            Some(_) => {}
        }
    }
    for (key, dep) in &table {
        if !added.contains_key(key) {
            errors.push(format!(
                "{}: [{}] {} has no `cargo add` line",
                dep.at, key.0, key.1
            ));
        }
    }
    errors
}

fn same(a: &Dep, b: &Dep) -> bool {
    (&a.version, a.default_features, &a.features, &a.package)
        == (&b.version, b.default_features, &b.features, &b.package)
}

fn describe(dep: &Dep) -> String {
    match &dep.version {
        Some(version) => Spec {
            version: version.clone(),
            default_features: dep.default_features,
            features: dep.features.clone(),
        }
        .to_string(),
        None => "no version".to_owned(),
    }
}

fn check_one(dep: &Dep, ws: &Workspace, errors: &mut Vec<String>) {
    let what = format!("{}: [{}] {}", dep.at, dep.section, dep.name);
    let krate = dep.package.as_deref().unwrap_or(&dep.name);
    if dep.local {
        if !ws.packages.contains(krate) {
            errors.push(format!(
                "{what}: `{krate}` is not a package of the book's workspace"
            ));
        }
        return;
    }
    if ws.local.contains(krate) || ws.packages.contains(krate) {
        errors.push(format!(
            "{what}: `{krate}` is one of the book's own crates, not on crates.io; show it as a path or git dependency"
        ));
        return;
    }
    let Some(want) = ws.deps.get(krate) else {
        errors.push(format!(
            "{what}: `{krate}` is not in the workspace's [workspace.dependencies]"
        ));
        return;
    };
    match &dep.version {
        None => errors.push(format!(
            "{what}: no version (the workspace has {})",
            want.version
        )),
        Some(v) if *v != want.version => errors.push(format!(
            "{what}: version {v}, but the workspace has ={}",
            want.version
        )),
        Some(_) => {}
    }
    match (want.default_features, dep.default_features) {
        (false, true) => errors.push(format!(
            "{what}: the workspace has default-features = false; the page must say so"
        )),
        (true, false) => errors.push(format!(
            "{what}: default-features = false, but the workspace keeps the default features"
        )),
        _ => {}
    }
    for missing in want.features.difference(&dep.features) {
        errors.push(format!(
            "{what}: feature `{missing}` is missing (the workspace enables it)"
        ));
    }
    let added = ws.added_features.get(krate);
    for extra in dep.features.difference(&want.features) {
        if !added.is_some_and(|a| a.contains(extra)) {
            errors.push(format!(
                "{what}: feature `{extra}` is enabled nowhere in the workspace for {krate}"
            ));
        }
    }
}

#[test]
fn the_own_project_page_matches_the_workspace() {
    let root = crate::repo_root();
    let file = "book/src/own-project.md";
    let text = std::fs::read_to_string(root.join(file))
        .expect("read book/src/own-project.md");
    let page = parse_page(file, &text).unwrap_or_else(|e| panic!("{e}"));
    let ws = Workspace::read(&root).unwrap_or_else(|e| panic!("{e}"));
    let errors = check(&page, &ws);
    assert!(
        errors.is_empty(),
        "{file} disagrees with Cargo.toml:\n  {}",
        errors.join("\n  ")
    );
}

mod tests {
    use super::*;

    const ROOT: &str = r#"
[workspace.dependencies]
opentelemetry = { version = "=0.33.1", default-features = false, features = ["trace", "metrics"] }
tokio = { version = "=1.54.1", features = ["rt", "macros"] }
span-queue = { path = "crates/span-queue" }

[package]
name = "otlp-csp"
"#;
    const MEMBER: &str = r#"
[package]
name = "otlp-csp-telemetry"

[dependencies]
tokio = { workspace = true, features = ["net"] }
"#;

    fn ws() -> Workspace {
        Workspace::from_manifests(ROOT, &[MEMBER.to_owned()]).unwrap()
    }

    fn errors(page: &str) -> Vec<String> {
        check(&parse_page("page.md", page).unwrap(), &ws())
    }

    const GOOD: &str = r#"
```console
$ cargo add opentelemetry@0.33.1 --no-default-features --features trace,metrics
$ cargo add tokio@1.54.1 --features rt,macros,net
```

Or with `cargo add tokio@1.54.1 -F "rt macros net"`; the `cargo add` lines above.

```toml
[dependencies]
opentelemetry = { version = "0.33.1", default-features = false, features = ["trace", "metrics"] }
tokio = { version = "=1.54.1", features = ["rt", "macros", "net"] }
telemetry = { git = "https://example.org/book", package = "otlp-csp-telemetry" }
```
"#;

    #[test]
    fn a_page_that_agrees_passes() {
        let page = parse_page("page.md", GOOD).unwrap();
        assert_eq!(page.cargo_add.len(), 3);
        assert_eq!(page.toml.len(), 3);
        assert_eq!(errors(GOOD), Vec::<String>::new());
    }

    #[test]
    fn a_wrong_version_and_a_wrong_feature_are_both_reported() {
        let bad = GOOD
            .replace(
                "$ cargo add tokio@1.54.1 --features rt,macros,net",
                "$ cargo add tokio@1.50.0 --features rt,macros,net",
            )
            .replace(
                r#"features = ["trace", "metrics"] }"#,
                r#"features = ["trace", "metrics", "logs"] }"#,
            );
        let errors = errors(&bad);
        let has = |needle: &str| errors.iter().any(|e| e.contains(needle));
        assert!(
            has(
                "page.md:4: [dependencies] tokio: version 1.50.0, but the workspace has =1.54.1"
            ),
            "{errors:#?}"
        );
        assert!(
            has("opentelemetry: feature `logs` is enabled nowhere in the workspace"),
            "{errors:#?}"
        );
        // And the two forms of each crate no longer agree.
        assert!(has(
            "`cargo add` for [dependencies] tokio says version 1.50.0"
        ));
        assert!(has("`cargo add` for [dependencies] opentelemetry says"));
    }

    #[test]
    fn default_features_missing_features_and_unknown_crates_are_reported() {
        let page = "```console\n\
            $ cargo add opentelemetry@0.33.1 --features trace\n\
            $ cargo add --dev serde@1.0.0\n\
            $ cargo add span-queue@0.1.0\n\
            ```\n\
            ```toml\n\
            [dependencies]\n\
            opentelemetry = { version = \"0.33.1\", features = [\"trace\"] }\n\
            span-queue = \"0.1.0\"\n\
            [dev-dependencies]\n\
            serde = \"1.0.0\"\n\
            [target.'cfg(loom)'.dependencies]\n\
            tokio = { path = \"../tokio\", package = \"not-a-book-crate\" }\n\
            ```\n";
        let errors = errors(page);
        let has = |needle: &str| errors.iter().any(|e| e.contains(needle));
        assert!(has(
            "opentelemetry: the workspace has default-features = false"
        ));
        assert!(has("opentelemetry: feature `metrics` is missing"));
        assert!(has(
            "[dev-dependencies] serde: `serde` is not in the workspace"
        ));
        assert!(has(
            "span-queue: `span-queue` is one of the book's own crates"
        ));
        assert!(has(
            "`not-a-book-crate` is not a package of the book's workspace"
        ));
    }

    #[test]
    fn cargo_add_options_are_read_like_cargo_reads_them() {
        let dep = cargo_add(
            "x",
            &words("--dev --target 'cfg(loom)' loom@=0.7.3 -F a,b --features=c")
                .unwrap(),
        )
        .unwrap();
        assert_eq!(dep.section, "target.cfg(loom).dev-dependencies");
        assert_eq!(dep.name, "loom");
        assert_eq!(dep.version.as_deref(), Some("0.7.3"));
        assert_eq!(dep.features, ["a", "b", "c"].map(String::from).into());
        let renamed = cargo_add(
            "x",
            &words("otlp-csp-telemetry --rename telemetry").unwrap(),
        )
        .unwrap();
        assert_eq!(renamed.name, "telemetry");
        assert_eq!(renamed.package.as_deref(), Some("otlp-csp-telemetry"));
        assert!(cargo_add("x", &words("a@1 b@2").unwrap()).is_err());
        assert!(cargo_add("x", &words("a@1 --locked-typo").unwrap()).is_err());
    }
}

//! Running SANY, the TLA+ parser and semantic checker in `tla2tools.jar`,
//! and reading what it reports.
//!
//! SANY (`tla2sany.SANY`) exits with 1 or more only when a module cannot be
//! parsed or found; the version in the jar this book uses exits with 0 even
//! when semantic checking finds errors (an operator used but never
//! defined, say). So the outcome is read from what it prints, and output
//! that shows neither errors nor the module's semantic processing is an
//! error of the reader, not a clean result.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail, ensure};

/// What SANY made of one module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Parsed and checked without an error.
    Clean,
    /// Parsed, but semantic checking found errors: each is
    /// `line L, col C to line L2, col C2: message`.
    SemanticErrors(Vec<String>),
    /// SANY gave up (parse error, missing module): its messages.
    Fatal(String),
}

/// Runs `java -cp JAR tla2sany.SANY module.tla` in `dir`.
pub fn run(jar: &Path, dir: &Path, module: &str) -> Result<Outcome> {
    let out = Command::new("java")
        .arg("-cp")
        .arg(jar)
        .arg("tla2sany.SANY")
        .arg(format!("{module}.tla"))
        .current_dir(dir)
        .output()
        .context("starting java (SANY needs Java 11 or later)")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let code = out.status.code().unwrap_or(-1);
    parse(&text, code, module)
        .with_context(|| format!("SANY on {module} exited with {code}:\n{text}"))
}

/// Reads SANY's standard output for `module`.
pub fn parse(text: &str, exit_code: i32, module: &str) -> Result<Outcome> {
    if exit_code != 0 {
        let from = text
            .find("***")
            .or_else(|| text.find("Cannot find"))
            .context("SANY failed without an error message")?;
        return Ok(Outcome::Fatal(text[from..].trim().to_owned()));
    }
    let Some((_, rest)) = text.split_once("*** Errors: ") else {
        ensure!(
            text.contains(&format!("Semantic processing of module {module}\n")),
            "SANY reported no errors but never checked module {module}"
        );
        return Ok(Outcome::Clean);
    };
    let (count, body) = rest.split_once('\n').context("truncated error list")?;
    let count: usize = count.trim().parse().context("error count")?;
    let mut errors: Vec<String> = Vec::new();
    let suffix = format!(" of module {module}");
    for line in body.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(at) = line.strip_prefix("line ")
            && let Some(at) = at.strip_suffix(&suffix)
        {
            errors.push(format!("line {at}:"));
        } else if let Some(last) = errors.last_mut() {
            last.push(' ');
            last.push_str(line);
        } else {
            bail!("an error message without a location: {line}");
        }
    }
    ensure!(
        errors.len() == count,
        "SANY announced {count} errors, {} read",
        errors.len()
    );
    Ok(Outcome::SemanticErrors(errors))
}

#[cfg(test)]
mod tests {
    use super::*;

    const UNKNOWN: &str = "\
Semantic processing of module M
Semantic errors:

*** Errors: 2

line 3, col 9 to line 3, col 11 of module M

Unknown operator: `Foo'.


line 5, col 1 to line 5, col 3 of module M

Unknown operator: `Bar'.


";

    #[test]
    fn reads_semantic_errors_despite_exit_zero() {
        assert_eq!(
            parse(UNKNOWN, 0, "M").unwrap(),
            Outcome::SemanticErrors(vec![
                "line 3, col 9 to line 3, col 11: Unknown operator: `Foo'.".into(),
                "line 5, col 1 to line 5, col 3: Unknown operator: `Bar'.".into(),
            ])
        );
    }

    #[test]
    fn clean_only_when_the_module_was_checked() {
        let ok = "Parsing file M.tla\nSemantic processing of module M\n";
        assert_eq!(parse(ok, 0, "M").unwrap(), Outcome::Clean);
        // The same output for another module, or nothing at all, is not a
        // clean result.
        assert!(parse(ok, 0, "N").is_err());
        assert!(parse("", 0, "M").is_err());
    }

    #[test]
    fn a_miscounted_error_list_is_an_error() {
        let one_missing = UNKNOWN.replace("*** Errors: 2", "*** Errors: 3");
        assert!(parse(&one_missing, 0, "M").is_err());
    }

    #[test]
    fn a_parse_error_is_fatal() {
        let text = "Parsing file M.tla\n***Parse Error***\nEncountered \"====\"\n";
        assert_eq!(
            parse(text, 255, "M").unwrap(),
            Outcome::Fatal("***Parse Error***\nEncountered \"====\"".into())
        );
    }
}

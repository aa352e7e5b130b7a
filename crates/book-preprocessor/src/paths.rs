//! Paths as shown in messages: short and free of `..`, so an author can
//! open them from the book root.

use std::path::{Component, Path, PathBuf};

/// `path` with `.` and `..` resolved lexically. Only for display: the file
/// system, not this, decides what a path with symbolic links points at.
pub fn normalised(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !matches!(
                    out.components().next_back(),
                    Some(Component::Normal(_))
                ) {
                    out.push("..");
                } else {
                    out.pop();
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// `path` relative to `root` when it lies inside it, else in full; always normalised.
pub fn shown(path: &Path, root: &Path) -> String {
    let path = normalised(path);
    let root = normalised(root);
    match path.strip_prefix(&root) {
        Ok(relative) if !relative.as_os_str().is_empty() => {
            relative.display().to_string()
        }
        _ => path.display().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_dots_lexically() {
        assert_eq!(
            normalised(Path::new("/b/book/src/../../listings/./a.rs")),
            PathBuf::from("/b/listings/a.rs")
        );
        assert_eq!(normalised(Path::new("../x/../y")), PathBuf::from("../y"));
        assert_eq!(normalised(Path::new("a/../../y")), PathBuf::from("../y"));
    }

    #[test]
    fn shows_paths_inside_the_root_relative_to_it() {
        let root = Path::new("/b/./");
        assert_eq!(
            shown(Path::new("/b/book/src/../../listings/a.rs"), root),
            "listings/a.rs"
        );
        assert_eq!(shown(Path::new("/elsewhere/a.rs"), root), "/elsewhere/a.rs");
        assert_eq!(shown(Path::new("/b"), root), "/b");
    }
}

//! Versioned URLs for the public assets.

use std::path::Path;

use sha2::{Digest, Sha256};

/// A fingerprint of everything under the static directory, computed at
/// start-up. Pages link to `/static/style.css?v=<fingerprint>`: browsers may
/// keep `/static` files for an hour, and a new fingerprint after a deploy
/// makes them fetch the new files at once.
#[derive(Debug, Clone)]
pub struct AssetVersion(String);

impl AssetVersion {
    /// Hashes the names and contents of every file below `dir`.
    pub fn of_dir(dir: &Path) -> std::io::Result<Self> {
        let mut files = Vec::new();
        collect(dir, dir, &mut files)?;
        files.sort();
        let mut hasher = Sha256::new();
        for relative in &files {
            hasher.update(relative.as_bytes());
            hasher.update([0]);
            hasher.update(std::fs::read(dir.join(relative))?);
        }
        let digest = hasher.finalize();
        Ok(Self(
            digest[..5].iter().map(|b| format!("{b:02x}")).collect(),
        ))
    }

    /// The fingerprint: ten hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<String>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(root, &path, files)?;
        } else if let Ok(relative) = path.strip_prefix(root) {
            files.push(relative.to_string_lossy().into_owned());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::AssetVersion;

    #[test]
    fn the_fingerprint_follows_the_contents() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("css")).unwrap();
        std::fs::write(dir.path().join("css/site.css"), "a {}").unwrap();
        let before = AssetVersion::of_dir(dir.path()).unwrap();
        assert_eq!(before.as_str().len(), 10);
        assert_eq!(
            AssetVersion::of_dir(dir.path()).unwrap().as_str(),
            before.as_str()
        );
        std::fs::write(dir.path().join("css/site.css"), "a { color: red }").unwrap();
        assert_ne!(
            AssetVersion::of_dir(dir.path()).unwrap().as_str(),
            before.as_str()
        );
    }
}

//! Keys kept outside the database (the trust model of `architecture.md`): whoever administers
//! the database must not learn what they protect. Each key is a file of its own, so that each
//! can be held by whom it concerns; a missing one is created on first start, mode 600.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::config::Config;
use crate::domain::secret_ballot::VoteKey;

/// The server's ballot key (R-SECRET-BALLOT): every vote's decryption key is derived from it
/// and the item, so no decryption key is ever stored.
pub struct BallotKey(Zeroizing<[u8; 32]>);

impl BallotKey {
    /// The key pair of one secret vote.
    pub fn vote_key(&self, item_id: Uuid) -> VoteKey {
        VoteKey::derive(&self.0, item_id)
    }

    /// For tests and benchmarks that need no file.
    pub fn from_bytes(bytes: [u8; 32]) -> BallotKey {
        BallotKey(Zeroizing::new(bytes))
    }
}

/// The keys a server instance works with.
pub struct Keys {
    pub ballot: BallotKey,
}

impl Keys {
    /// Reads the key files the configuration names, creating those that do not exist yet.
    pub fn load_or_create(config: &Config) -> anyhow::Result<Keys> {
        let ballot = load_or_create(
            &config.ballot_key_file,
            "yishi ballot key: decrypts the totals of secret ballots (R-SECRET-BALLOT).\n\
             # Back it up apart from the database's backups: without it, votes still open cannot\n\
             # be counted; with the database, it lets its holder decrypt single ballots.",
        )?;
        Ok(Keys {
            ballot: BallotKey(ballot),
        })
    }

    /// Reads the ballot key without creating it (commands that only check).
    pub fn read_ballot_key(config: &Config) -> anyhow::Result<Option<BallotKey>> {
        match std::fs::metadata(&config.ballot_key_file) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            _ => Ok(Some(BallotKey(read(&config.ballot_key_file)?))),
        }
    }
}

/// The default place of a key: `<data dir>/keys/<name>`.
pub fn default_path(data_dir: &Path, name: &str) -> PathBuf {
    data_dir.join("keys").join(name)
}

fn load_or_create(path: &Path, comment: &str) -> anyhow::Result<Zeroizing<[u8; 32]>> {
    if !path.exists() {
        create(path, comment)?;
    }
    read(path)
}

/// Writes a new random key. It is written to a temporary file first and then linked into
/// place, so a second instance starting at the same moment reads a whole key or makes none.
fn create(path: &Path, comment: &str) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .with_context(|| format!("key file {} has no directory", path.display()))?;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("create the key directory {}", dir.display()))?;
    let mut key = Zeroizing::new([0u8; 32]);
    getrandom::fill(key.as_mut())
        .map_err(|e| anyhow::anyhow!("the operating system's random generator failed: {e}"))?;
    let text = Zeroizing::new(format!("# {comment}\n{}\n", hex::encode(key.as_ref())));
    let temp = path.with_extension(format!("tmp-{}", crate::random::hex(8)));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temp)
        .with_context(|| format!("create {}", temp.display()))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("write {}", temp.display()))?;
    let linked = std::fs::hard_link(&temp, path);
    let _ = std::fs::remove_file(&temp);
    match linked {
        Ok(()) => {
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
            tracing::warn!(key = %path.display(), "created a new key file: back it up");
            Ok(())
        }
        // Another instance made it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e).with_context(|| format!("create {}", path.display())),
    }
}

/// Reads a key file: comment lines, then the key as 64 hex digits. A key that others than its
/// owner may read is refused, as ssh refuses such a private key.
fn read(path: &Path) -> anyhow::Result<Zeroizing<[u8; 32]>> {
    let meta = std::fs::metadata(path).with_context(|| format!("read {}", path.display()))?;
    if meta.permissions().mode() & 0o077 != 0 {
        bail!(
            "the key file {} may be read by others (mode {:o}): chmod 600 it",
            path.display(),
            meta.permissions().mode() & 0o777
        );
    }
    let text = Zeroizing::new(
        std::fs::read_to_string(path).with_context(|| format!("read {}", path.display()))?,
    );
    let mut lines = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'));
    let mut key = Zeroizing::new([0u8; 32]);
    match (lines.next(), lines.next()) {
        (Some(line), None) if hex::decode_to_slice(line, key.as_mut()).is_ok() => Ok(key),
        _ => bail!(
            "the key file {} does not hold one key of 64 hex digits",
            path.display()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_key_is_private_and_read_back_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys").join("ballot.key");
        let first = load_or_create(&path, "test").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let dir_mode = std::fs::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(dir_mode, 0o700);
        assert_eq!(*load_or_create(&path, "test").unwrap(), *first);
    }

    #[test]
    fn a_key_others_may_read_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ballot.key");
        load_or_create(&path, "test").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = read(&path).unwrap_err().to_string();
        assert!(err.contains("chmod 600"), "{err}");
    }

    #[test]
    fn a_damaged_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ballot.key");
        std::fs::write(&path, "# comment\nnot-a-key\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(read(&path).is_err());
    }
}

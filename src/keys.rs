//! Keys kept outside the database (the trust model of `architecture.md`): whoever administers
//! the database must not learn what they protect. Each key is a file of its own, so that each
//! can be held by whom it concerns; a missing one is created on first start, mode 600.
//!
//! A key file is comment lines, an `algorithm:` line (for the audit keys) and the key as 64 hex
//! digits. The algorithm lines record the deployment's suite (`YISHI_CRYPTO_SUITE` at the first
//! start), so later starts and verification read which was used.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use crate::domain::ids::ItemId;
use anyhow::{Context, bail};
use zeroize::Zeroizing;

use crate::audit::suite::{AuditKeys, Suite};
use crate::config::Config;
use crate::domain::secret_ballot::VoteKey;

/// The server's ballot key (R-SECRET-BALLOT): every vote's decryption key is derived from it
/// and the item, so no decryption key is ever stored.
pub struct BallotKey(Zeroizing<[u8; 32]>);

impl BallotKey {
    /// The key pair of one secret vote.
    pub fn vote_key(&self, item_id: ItemId) -> VoteKey {
        VoteKey::derive(&self.0, item_id)
    }
}

/// The keys a server instance works with.
pub struct Keys {
    pub ballot: BallotKey,
    pub audit: AuditKeys,
}

const BALLOT_COMMENT: &str = "yishi ballot key: decrypts the totals of secret ballots (R-SECRET-BALLOT).\n\
# Back it up apart from the database's backups: without it, votes still open cannot\n\
# be counted; with the database, it lets its holder decrypt single ballots.";
const MAC_COMMENT: &str = "yishi audit key: the keyed hash chaining the audit log (R-AUDIT).\n\
# Back it up apart from the database's backups: without it the log cannot be verified\n\
# or extended; with the database, its holder could rewrite the log's entries.";
const SIGNING_COMMENT: &str = "yishi checkpoint key: signs checkpoints of the audit chains (R-AUDIT).\n\
# Back it up apart from the database's backups: without it no new checkpoint can be\n\
# signed (old ones still verify with its public key, which every checkpoint carries).";

impl Keys {
    /// Reads the key files the configuration names, creating those that do not exist yet.
    pub fn load_or_create(config: &Config) -> anyhow::Result<Keys> {
        let ballot = load_or_create(&config.ballot_key_file, BALLOT_COMMENT, None, |_| true)?;
        Ok(Keys {
            ballot: BallotKey(ballot.1),
            audit: audit_keys(config, true)?,
        })
    }

    /// Reads the ballot key without creating it (commands that only check).
    pub fn read_ballot_key(config: &Config) -> anyhow::Result<Option<BallotKey>> {
        match std::fs::metadata(&config.ballot_key_file) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            _ => Ok(Some(BallotKey(read(&config.ballot_key_file)?.1))),
        }
    }

    /// Reads the audit keys without creating them (`yishi audit verify`).
    pub fn read_audit_keys(config: &Config) -> anyhow::Result<AuditKeys> {
        audit_keys(config, false)
    }
}

/// The audit keys: the suite comes from the files when they exist (and must agree with
/// `YISHI_CRYPTO_SUITE` when that is set), otherwise from the setting (default `standard`).
fn audit_keys(config: &Config, create: bool) -> anyhow::Result<AuditKeys> {
    let exists = config.audit_key_file.exists() || config.checkpoint_key_file.exists();
    if !exists && !create {
        bail!(
            "the audit keys {} and {} do not exist: run with the server's configuration",
            config.audit_key_file.display(),
            config.checkpoint_key_file.display()
        );
    }
    let wanted = config.crypto_suite.unwrap_or(Suite::Standard);
    let (mac_algorithm, mac_key) = load_or_create(
        &config.audit_key_file,
        MAC_COMMENT,
        Some(wanted.mac_name()),
        |_| true,
    )?;
    let (signing_algorithm, signing_secret) = load_or_create(
        &config.checkpoint_key_file,
        SIGNING_COMMENT,
        Some(wanted.signature_name()),
        |secret| AuditKeys::valid_signing_secret(wanted, secret),
    )?;
    let (mac_algorithm, signing_algorithm) = (
        mac_algorithm.unwrap_or_default(),
        signing_algorithm.unwrap_or_default(),
    );
    let Some(suite) = Suite::of(&mac_algorithm, &signing_algorithm) else {
        bail!(
            "the audit keys name the algorithms {mac_algorithm:?} and {signing_algorithm:?}, \
             which are not one suite (hmac-sha256 with ed25519, or hmac-sm3 with sm2)"
        );
    };
    if let Some(setting) = config.crypto_suite
        && setting != suite
    {
        bail!(
            "YISHI_CRYPTO_SUITE={} but this deployment's keys are of the suite {}: the suite is \
             chosen at the first start and cannot change",
            setting.as_str(),
            suite.as_str()
        );
    }
    AuditKeys::new(suite, *mac_key, &signing_secret).with_context(|| {
        format!(
            "the checkpoint key {} is not a valid {} key",
            config.checkpoint_key_file.display(),
            suite.signature_name()
        )
    })
}

type KeyFile = (Option<String>, Zeroizing<[u8; 32]>);

fn load_or_create(
    path: &Path,
    comment: &str,
    algorithm: Option<&str>,
    valid: impl Fn(&[u8; 32]) -> bool,
) -> anyhow::Result<KeyFile> {
    if !path.exists() {
        create(path, comment, algorithm, valid)?;
    }
    read(path)
}

/// Writes a new random key. It is written to a temporary file first and then linked into
/// place, so a second instance starting at the same moment reads a whole key or makes none.
fn create(
    path: &Path,
    comment: &str,
    algorithm: Option<&str>,
    valid: impl Fn(&[u8; 32]) -> bool,
) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .with_context(|| format!("key file {} has no directory", path.display()))?;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("create the key directory {}", dir.display()))?;
    let mut key = Zeroizing::new([0u8; 32]);
    loop {
        getrandom::fill(key.as_mut())
            .map_err(|e| anyhow::anyhow!("the operating system's random generator failed: {e}"))?;
        if valid(&key) {
            break;
        }
    }
    let algorithm = algorithm.map_or(String::new(), |a| format!("algorithm: {a}\n"));
    let text = Zeroizing::new(format!(
        "# {comment}\n{algorithm}{}\n",
        hex::encode(key.as_ref())
    ));
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

/// Reads a key file: comment lines, an optional `algorithm:` line, then the key as 64 hex
/// digits. A key that others than its owner may read is refused, as ssh refuses such a
/// private key.
fn read(path: &Path) -> anyhow::Result<KeyFile> {
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
    let mut algorithm = None;
    let mut lines = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line.strip_prefix("algorithm:") {
            Some(a) => algorithm = Some(a.trim().to_owned()),
            None => lines.push(line),
        }
    }
    let mut key = Zeroizing::new([0u8; 32]);
    match lines[..] {
        [line] if hex::decode_to_slice(line, key.as_mut()).is_ok() => Ok((algorithm, key)),
        _ => bail!(
            "the key file {} does not hold one key of 64 hex digits",
            path.display()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(dir: &Path, suite: Option<&str>) -> Config {
        let dir = dir.display().to_string();
        let suite = suite.map(str::to_owned);
        Config::from_lookup(|name| match name {
            "YISHI_DATA_DIR" => Some(dir.clone()),
            "YISHI_CRYPTO_SUITE" => suite.clone(),
            _ => None,
        })
        .unwrap()
    }

    #[test]
    fn a_new_key_is_private_and_read_back_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys").join("ballot.key");
        let first = load_or_create(&path, "test", None, |_| true).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let dir_mode = std::fs::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(dir_mode, 0o700);
        assert_eq!(
            *load_or_create(&path, "test", None, |_| true).unwrap().1,
            *first.1
        );
    }

    #[test]
    fn a_key_others_may_read_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ballot.key");
        load_or_create(&path, "test", None, |_| true).unwrap();
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

    #[test]
    fn the_suite_is_chosen_at_the_first_start_and_read_back_later() {
        let dir = tempfile::tempdir().unwrap();
        let keys = Keys::load_or_create(&config(dir.path(), Some("gm"))).unwrap();
        assert_eq!(keys.audit.suite(), Suite::Gm);
        let text = std::fs::read_to_string(dir.path().join("keys/audit-mac.key")).unwrap();
        assert!(text.contains("algorithm: hmac-sm3"), "{text}");
        // Later starts read it from the files; the setting may not change it.
        let again = Keys::load_or_create(&config(dir.path(), None)).unwrap();
        assert_eq!(again.audit.suite(), Suite::Gm);
        assert_eq!(again.audit.public_key(), keys.audit.public_key());
        let err = Keys::load_or_create(&config(dir.path(), Some("standard")))
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("cannot change"), "{err}");
    }

    #[test]
    fn the_default_suite_is_sha256_with_ed25519() {
        let dir = tempfile::tempdir().unwrap();
        let keys = Keys::load_or_create(&config(dir.path(), None)).unwrap();
        assert_eq!(keys.audit.suite(), Suite::Standard);
        assert_eq!(keys.audit.public_key().len(), 32);
    }
}

//! One typed configuration read from the environment and validated at start, so a mistake is a
//! clear message and a non-zero exit rather than a failure later.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// A secret string that never appears in `Debug` output or logs.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: String) -> Self {
        Secret(s)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    /// `YISHI_BIND`, default `127.0.0.1:8080`.
    pub bind: SocketAddr,
    /// `DATABASE_URL`; when unset, a private cluster is started under `data_dir`.
    pub database_url: Option<Secret>,
    /// `YISHI_DATA_DIR`, default `./data`.
    pub data_dir: PathBuf,
    /// `YISHI_PG_BINDIR`: where `initdb` and `pg_ctl` are, when not found by themselves.
    pub pg_bindir: Option<PathBuf>,
    /// `INITIAL_ADMIN_PASSWORD`: the first admin's password on an empty database.
    pub initial_admin_password: Option<Secret>,
    /// `YISHI_SESSION_IDLE_MINUTES` (default 30) and `YISHI_SESSION_MAX_HOURS` (default 12).
    pub session_idle: Duration,
    pub session_max: Duration,
    /// `YISHI_SECURE_COOKIES`: mark cookies `Secure` (set it when served over TLS; requests
    /// arriving with `X-Forwarded-Proto: https` get `Secure` cookies regardless).
    pub secure_cookies: bool,
    /// `YISHI_LOG_FORMAT`: `text` (default) or `json`.
    pub log_json: bool,
    /// `YISHI_UPLOAD_LIMIT_MIB` (default 20): the largest material file accepted.
    pub upload_limit_bytes: usize,
    /// `YISHI_BALLOT_KEY_FILE`, default `<data dir>/keys/ballot.key`: the key every secret
    /// vote's decryption key is derived from (R-SECRET-BALLOT), kept outside the database.
    pub ballot_key_file: PathBuf,
    /// `YISHI_AUDIT_KEY_FILE`, default `<data dir>/keys/audit-mac.key`: the audit chain's
    /// keyed-hash key (R-AUDIT).
    pub audit_key_file: PathBuf,
    /// `YISHI_CHECKPOINT_KEY_FILE`, default `<data dir>/keys/checkpoint-signing.key`: signs
    /// checkpoints of the audit chains.
    pub checkpoint_key_file: PathBuf,
    /// `YISHI_CRYPTO_SUITE`: `standard` (HMAC-SHA256, Ed25519; the default) or `gm` (HMAC-SM3,
    /// SM2), taken when the audit keys are created; afterwards it may only repeat their suite.
    pub crypto_suite: Option<crate::audit::suite::Suite>,
    /// `YISHI_CHECKPOINT_FILE`, default `<data dir>/audit-checkpoint.json`: the latest signed
    /// checkpoint, kept outside the database.
    pub checkpoint_file: PathBuf,
    /// `YISHI_CHECKPOINT_SECONDS` (default 60): how often a checkpoint is signed while the log
    /// grows.
    pub checkpoint_interval: Duration,
    /// `YISHI_REMINDER_SECONDS` (default 3600): how often the server looks for 督办 reminders
    /// owed today (three days before a task's due date and on the day).
    pub reminder_interval: Duration,
    /// `YISHI_MIGRATION_DATABASE_URL`: the tables' owner, for migrations; the server itself
    /// then runs as `DATABASE_URL`'s role, which owns nothing.
    pub migration_database_url: Option<Secret>,
    /// `YISHI_TRUSTED_PROXIES`: addresses or CIDR blocks of reverse proxies whose
    /// `X-Forwarded-For` and `X-Forwarded-Proto` are believed; from anyone else they are ignored.
    pub trusted_proxies: Vec<IpBlock>,
    /// Notifications also by e-mail, when `YISHI_SMTP_URL` is set.
    pub mail: Option<MailConfig>,
}

/// Where and how notifications go by mail.
#[derive(Debug, Clone)]
pub struct MailConfig {
    /// `YISHI_SMTP_URL`: `smtp://host:25` (plain, inside the bureau's network),
    /// `smtp://user:password@host:587?tls=required` (STARTTLS) or `smtps://…:465` (TLS).
    pub smtp_url: Secret,
    /// `YISHI_MAIL_FROM`, required with the URL: `议事系统 <yishi@example.gov.cn>`.
    pub from: String,
    /// `YISHI_PUBLIC_URL` (optional): the server's address as people open it, for the link.
    pub public_url: Option<String>,
    /// `YISHI_MAIL_SECONDS` (default 15): how often waiting notifications are mailed.
    pub interval: Duration,
}

/// An address block such as `10.0.0.0/8` or `::1` (a single address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpBlock {
    network: std::net::IpAddr,
    prefix: u8,
}

impl IpBlock {
    pub fn parse(s: &str) -> Option<IpBlock> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let network: std::net::IpAddr = addr.trim().parse().ok()?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.trim().parse().ok().filter(|p| *p <= max)?,
            None => max,
        };
        Some(IpBlock { network, prefix })
    }

    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        use std::net::IpAddr::{V4, V6};
        let bits = |a: &[u8]| a.iter().fold(0u128, |acc, b| (acc << 8) | u128::from(*b));
        let (net, addr, width) = match (self.network, ip) {
            (V4(n), V4(a)) => (bits(&n.octets()), bits(&a.octets()), 32),
            (V6(n), V6(a)) => (bits(&n.octets()), bits(&a.octets()), 128),
            _ => return false,
        };
        // A /0 block holds every address of its family (a shift by 128 would overflow).
        let shift = width - u32::from(self.prefix);
        shift >= width || (net >> shift) == (addr >> shift)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {name}={value:?}: {problem}")]
pub struct ConfigError {
    pub name: &'static str,
    pub value: String,
    pub problem: String,
}

impl Config {
    pub fn from_env() -> Result<Config, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Builds the configuration from any variable lookup (the environment, or a map in tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let fail = |name: &'static str, value: &str, problem: &str| ConfigError {
            name,
            value: value.to_owned(),
            problem: problem.to_owned(),
        };
        let non_empty = |name: &str| get(name).filter(|v| !v.trim().is_empty());

        let bind_raw = non_empty("YISHI_BIND").unwrap_or_else(|| "127.0.0.1:8080".into());
        let bind = bind_raw.parse().map_err(|_| {
            fail(
                "YISHI_BIND",
                &bind_raw,
                "expected an address and port such as 127.0.0.1:8080",
            )
        })?;

        let database_url = match non_empty("DATABASE_URL") {
            Some(url) => {
                if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                    // The value may hold a password: name the problem, not the value.
                    return Err(fail(
                        "DATABASE_URL",
                        "(hidden)",
                        "expected a postgres:// or postgresql:// URL",
                    ));
                }
                Some(Secret::new(url))
            }
            None => None,
        };

        // A whole number within 1..=max, or the default when unset.
        let minutes = |name: &'static str, default: u64, max: u64| -> Result<u64, ConfigError> {
            match non_empty(name) {
                None => Ok(default),
                Some(v) => v
                    .trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|n| (1..=max).contains(n))
                    .ok_or_else(|| fail(name, &v, &format!("expected a whole number 1–{max}"))),
            }
        };
        let session_idle =
            Duration::from_secs(60 * minutes("YISHI_SESSION_IDLE_MINUTES", 30, 1440)?);
        let session_max = Duration::from_secs(3600 * minutes("YISHI_SESSION_MAX_HOURS", 12, 720)?);

        let flag = |name: &'static str| -> Result<bool, ConfigError> {
            match non_empty(name).as_deref() {
                None | Some("0" | "false" | "no") => Ok(false),
                Some("1" | "true" | "yes") => Ok(true),
                Some(v) => Err(fail(name, v, "expected true or false")),
            }
        };
        let upload_limit_bytes = 1024 * 1024 * minutes("YISHI_UPLOAD_LIMIT_MIB", 20, 100)? as usize;
        let log_json = match non_empty("YISHI_LOG_FORMAT").as_deref() {
            None | Some("text") => false,
            Some("json") => true,
            Some(v) => return Err(fail("YISHI_LOG_FORMAT", v, "expected text or json")),
        };

        let data_dir = non_empty("YISHI_DATA_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("data"));
        let key_file = |name: &str, file: &str| {
            non_empty(name)
                .map(PathBuf::from)
                // The default place of a key: `<data dir>/keys/<name>`.
                .unwrap_or_else(|| data_dir.join("keys").join(file))
        };
        let ballot_key_file = key_file("YISHI_BALLOT_KEY_FILE", "ballot.key");
        let audit_key_file = key_file("YISHI_AUDIT_KEY_FILE", "audit-mac.key");
        let checkpoint_key_file = key_file("YISHI_CHECKPOINT_KEY_FILE", "checkpoint-signing.key");
        let checkpoint_file = non_empty("YISHI_CHECKPOINT_FILE")
            .map(PathBuf::from)
            .unwrap_or_else(|| data_dir.join("audit-checkpoint.json"));
        let crypto_suite = match non_empty("YISHI_CRYPTO_SUITE") {
            None => None,
            Some(v) => Some(
                crate::audit::suite::Suite::parse(v.trim())
                    .ok_or_else(|| fail("YISHI_CRYPTO_SUITE", &v, "expected standard or gm"))?,
            ),
        };
        let trusted_proxies = match non_empty("YISHI_TRUSTED_PROXIES") {
            None => Vec::new(),
            Some(v) => v
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(|p| {
                    IpBlock::parse(p).ok_or_else(|| {
                        fail(
                            "YISHI_TRUSTED_PROXIES",
                            &v,
                            "expected addresses or CIDR blocks separated by commas",
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
        };
        let checkpoint_interval =
            Duration::from_secs(minutes("YISHI_CHECKPOINT_SECONDS", 60, 3600)?);
        let reminder_interval =
            Duration::from_secs(minutes("YISHI_REMINDER_SECONDS", 3600, 86400)?);
        let migration_database_url = match non_empty("YISHI_MIGRATION_DATABASE_URL") {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Some(Secret::new(url))
            }
            Some(_) => {
                return Err(fail(
                    "YISHI_MIGRATION_DATABASE_URL",
                    "(hidden)",
                    "expected a postgres:// or postgresql:// URL",
                ));
            }
            None => None,
        };

        let mail = match non_empty("YISHI_SMTP_URL") {
            None => None,
            Some(url) => {
                if !(url.starts_with("smtp://") || url.starts_with("smtps://")) {
                    return Err(fail(
                        "YISHI_SMTP_URL",
                        "(hidden)",
                        "expected an smtp:// or smtps:// URL",
                    ));
                }
                let from = non_empty("YISHI_MAIL_FROM")
                    .ok_or_else(|| fail("YISHI_MAIL_FROM", "", "required with YISHI_SMTP_URL"))?;
                if from.parse::<lettre::message::Mailbox>().is_err() {
                    return Err(fail(
                        "YISHI_MAIL_FROM",
                        &from,
                        "expected an address such as 议事系统 <yishi@example.gov.cn>",
                    ));
                }
                let public_url = non_empty("YISHI_PUBLIC_URL");
                if let Some(u) = &public_url
                    && !(u.starts_with("https://") || u.starts_with("http://"))
                {
                    return Err(fail(
                        "YISHI_PUBLIC_URL",
                        u,
                        "expected an http(s):// address",
                    ));
                }
                Some(MailConfig {
                    smtp_url: Secret::new(url),
                    from,
                    public_url,
                    interval: Duration::from_secs(minutes("YISHI_MAIL_SECONDS", 15, 3600)?),
                })
            }
        };

        Ok(Config {
            bind,
            database_url,
            data_dir,
            pg_bindir: non_empty("YISHI_PG_BINDIR").map(PathBuf::from),
            initial_admin_password: non_empty("INITIAL_ADMIN_PASSWORD").map(Secret::new),
            session_idle,
            session_max,
            secure_cookies: flag("YISHI_SECURE_COOKIES")?,
            log_json,
            upload_limit_bytes,
            ballot_key_file,
            audit_key_file,
            checkpoint_key_file,
            crypto_suite,
            checkpoint_file,
            checkpoint_interval,
            reminder_interval,
            migration_database_url,
            trusted_proxies,
            mail,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults() {
        let c = config(&[]).unwrap();
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
        assert!(c.database_url.is_none());
        assert_eq!(c.data_dir, PathBuf::from("data"));
        assert_eq!(c.session_idle, Duration::from_secs(1800));
        assert!(!c.secure_cookies);
        assert_eq!(c.ballot_key_file, PathBuf::from("data/keys/ballot.key"));
    }

    #[test]
    fn bad_values_are_named() {
        assert_eq!(
            config(&[("YISHI_BIND", "localhost")]).unwrap_err().name,
            "YISHI_BIND"
        );
        let err = config(&[("DATABASE_URL", "mysql://u:pw@h/db")]).unwrap_err();
        assert_eq!(err.name, "DATABASE_URL");
        assert!(!err.to_string().contains("pw"), "the URL's password leaked");
        assert!(config(&[("YISHI_SESSION_IDLE_MINUTES", "0")]).is_err());
        assert!(config(&[("YISHI_SECURE_COOKIES", "maybe")]).is_err());
        assert_eq!(
            config(&[("YISHI_CRYPTO_SUITE", "sm9")]).unwrap_err().name,
            "YISHI_CRYPTO_SUITE"
        );
    }

    #[test]
    fn mail_is_off_unless_an_smtp_url_and_a_sender_are_given() {
        assert!(config(&[]).unwrap().mail.is_none());
        let smtp = (
            "YISHI_SMTP_URL",
            "smtp://u:secret@mail.example.gov.cn:587?tls=required",
        );
        let err = config(&[smtp]).unwrap_err();
        assert_eq!(err.name, "YISHI_MAIL_FROM");
        let from = ("YISHI_MAIL_FROM", "议事系统 <yishi@example.gov.cn>");
        let mail = config(&[smtp, from]).unwrap().mail.unwrap();
        assert_eq!(mail.interval, Duration::from_secs(15));
        assert!(
            !format!("{mail:?}").contains("secret"),
            "the SMTP password leaked"
        );
        let err = config(&[("YISHI_SMTP_URL", "http://u:secret@h"), from]).unwrap_err();
        assert_eq!(err.name, "YISHI_SMTP_URL");
        assert!(!err.to_string().contains("secret"));
        assert!(config(&[smtp, ("YISHI_MAIL_FROM", "not an address")]).is_err());
        assert!(config(&[smtp, from, ("YISHI_PUBLIC_URL", "yishi.example")]).is_err());
    }

    #[test]
    fn trusted_proxies_are_addresses_and_blocks() {
        let c = config(&[("YISHI_TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1,::1")]).unwrap();
        let ip = |s: &str| s.parse().unwrap();
        assert!(c.trusted_proxies[0].contains(ip("10.200.3.4")));
        assert!(!c.trusted_proxies[0].contains(ip("11.0.0.1")));
        assert!(c.trusted_proxies[1].contains(ip("127.0.0.1")));
        assert!(!c.trusted_proxies[1].contains(ip("127.0.0.2")));
        assert!(c.trusted_proxies[2].contains(ip("::1")));
        assert!(!c.trusted_proxies[2].contains(ip("127.0.0.1")));
        assert!(IpBlock::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        assert!(config(&[("YISHI_TRUSTED_PROXIES", "10.0.0.0/33")]).is_err());
        assert!(config(&[("YISHI_TRUSTED_PROXIES", "proxy.example")]).is_err());
    }

    #[test]
    fn secrets_are_not_debug_printed() {
        let c = config(&[
            ("DATABASE_URL", "postgres://u:hunter2@h/db"),
            ("INITIAL_ADMIN_PASSWORD", "hunter3"),
        ])
        .unwrap();
        let printed = format!("{c:?}");
        assert!(!printed.contains("hunter2") && !printed.contains("hunter3"));
    }
}

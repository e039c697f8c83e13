//! The private PostgreSQL cluster used when no `DATABASE_URL` is given: created with the system's
//! `initdb`, started and stopped with `pg_ctl`, listening on loopback only with a generated
//! password. As root, PostgreSQL refuses to run, so the commands run as the `postgres` user
//! through `runuser`; when that user cannot reach the data directory (a checkout under `/root`,
//! mode 700) the cluster lives in `/var/lib/yishi/<hash of the data directory>` instead, and the
//! file `pg-location` in the data directory says where.

use std::fs;
use std::io::Write;
use std::net::TcpListener;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sha2::{Digest, Sha256};

/// The superuser the cluster is created with.
const SUPERUSER: &str = "yishi";
/// The unprivileged account PostgreSQL runs as when we are root.
const SYSTEM_USER: &str = "postgres";
/// Where clusters go when the data directory is out of the system user's reach.
const FALLBACK_ROOT: &str = "/var/lib/yishi";

#[derive(Debug, Clone)]
pub struct EmbeddedOptions {
    pub data_dir: PathBuf,
    /// Where `initdb` and `pg_ctl` are; searched for when `None`.
    pub bindir: Option<PathBuf>,
    /// `false` only for throwaway test clusters: turns off fsync.
    pub durable: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error(
        "PostgreSQL server binaries (initdb, pg_ctl) were not found ({searched}).\n\
         Install them with `apt-get install postgresql`, or set DATABASE_URL to an existing \
         database, or run the product with `docker compose up`."
    )]
    MissingBinaries { searched: String },
    #[error(
        "running as root, the private PostgreSQL cluster needs the unprivileged user `postgres` \
         (created by `apt-get install postgresql`), or set DATABASE_URL"
    )]
    NoSystemUser,
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("{what} failed ({status}): {output}")]
    Command {
        what: &'static str,
        status: String,
        output: String,
    },
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> EmbeddedError {
    let what = what.into();
    move |source| EmbeddedError::Io { what, source }
}

/// A running cluster. [`EmbeddedPg::stop`] stops it if this process started it.
#[derive(Debug)]
pub struct EmbeddedPg {
    cluster_dir: PathBuf,
    bindir: PathBuf,
    run_as: Option<&'static str>,
    port: u16,
    password: String,
    started_here: bool,
}

impl EmbeddedPg {
    /// Creates the cluster if needed and starts it (or attaches to it when its postmaster is
    /// already running), waiting until it accepts connections.
    pub fn start(opts: &EmbeddedOptions) -> Result<EmbeddedPg, EmbeddedError> {
        let bindir = find_bindir(opts.bindir.as_deref())?;
        // SAFETY: geteuid has no preconditions and cannot fail.
        let run_as = if unsafe { libc::geteuid() } == 0 {
            if passwd_ids(SYSTEM_USER).is_none() {
                return Err(EmbeddedError::NoSystemUser);
            }
            Some(SYSTEM_USER)
        } else {
            None
        };

        fs::create_dir_all(&opts.data_dir).map_err(io(format!(
            "create data directory {}",
            opts.data_dir.display()
        )))?;
        let data_dir = opts
            .data_dir
            .canonicalize()
            .map_err(io("resolve data directory"))?;
        let cluster_dir = cluster_dir(&data_dir, run_as)?;
        let password_file = data_dir.join("pg-password");

        let mut pg = EmbeddedPg {
            cluster_dir,
            bindir,
            run_as,
            port: 0,
            password: String::new(),
            started_here: false,
        };

        if pg.cluster_dir.join("PG_VERSION").exists() {
            pg.password = fs::read_to_string(&password_file)
                .map_err(io(format!(
                    "read the cluster password {}",
                    password_file.display()
                )))?
                .trim()
                .to_owned();
        } else {
            pg.password = crate::random::hex(24);
            write_private(&password_file, &pg.password)?;
            pg.initdb()?;
        }

        if let Some(port) = pg.running_postmaster_port() {
            pg.port = port;
            return Ok(pg);
        }
        pg.port = free_port()?;
        let durability = if opts.durable {
            ""
        } else {
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        };
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=200{durability}",
            pg.port
        );
        let log = pg.cluster_dir.join("server.log");
        pg.run(
            "pg_ctl start",
            &pg.bin("pg_ctl"),
            &[
                "-D".as_ref(),
                pg.cluster_dir.as_os_str(),
                "-l".as_ref(),
                log.as_os_str(),
                "-w".as_ref(),
                "-t".as_ref(),
                "60".as_ref(),
                "-o".as_ref(),
                options.as_ref(),
                "start".as_ref(),
            ],
        )?;
        pg.started_here = true;
        Ok(pg)
    }

    /// A throwaway cluster for tests and benchmarks: fsync off, in `dir`, which is opened to
    /// the postgres user (a fresh temporary directory is mode 700).
    pub fn start_throwaway(dir: &Path) -> Result<EmbeddedPg, EmbeddedError> {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o755))
            .map_err(io(format!("open {} to the postgres user", dir.display())))?;
        EmbeddedPg::start(&EmbeddedOptions {
            data_dir: dir.to_owned(),
            bindir: std::env::var_os("YISHI_PG_BINDIR").map(PathBuf::from),
            durable: false,
        })
    }

    /// A connection URL for `database` on this cluster.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://{SUPERUSER}:{}@127.0.0.1:{}/{database}",
            self.password, self.port
        )
    }

    pub fn cluster_dir(&self) -> &Path {
        &self.cluster_dir
    }

    /// Stops the cluster if this process started it; `fast` ends sessions cleanly, otherwise
    /// the stop is immediate (for throwaway test clusters).
    pub fn stop(&self, fast: bool) -> Result<(), EmbeddedError> {
        if !self.started_here {
            return Ok(());
        }
        let mode = if fast { "fast" } else { "immediate" };
        self.run(
            "pg_ctl stop",
            &self.bin("pg_ctl"),
            &[
                "-D".as_ref(),
                self.cluster_dir.as_os_str(),
                "-m".as_ref(),
                mode.as_ref(),
                "-w".as_ref(),
                "stop".as_ref(),
            ],
        )
        .map(drop)
    }

    fn initdb(&self) -> Result<(), EmbeddedError> {
        // initdb reads the superuser's password from a file the system user can read.
        let pwfile = std::env::temp_dir().join(format!("yishi-initdb-{}", crate::random::hex(8)));
        write_private(&pwfile, &self.password)?;
        self.give_to_system_user(&pwfile)?;
        let result = self.run(
            "initdb",
            &self.bin("initdb"),
            &[
                "-D".as_ref(),
                self.cluster_dir.as_os_str(),
                "-U".as_ref(),
                SUPERUSER.as_ref(),
                "--pwfile".as_ref(),
                pwfile.as_os_str(),
                "--auth=scram-sha-256".as_ref(),
                "--encoding=UTF8".as_ref(),
                "--locale=C.UTF-8".as_ref(),
            ],
        );
        let _ = fs::remove_file(&pwfile);
        result.map(drop)
    }

    /// The port of a postmaster already serving this cluster, after clearing a stale
    /// `postmaster.pid` (its process gone, or the pid reused by another program).
    fn running_postmaster_port(&self) -> Option<u16> {
        let pid_file = self.cluster_dir.join("postmaster.pid");
        let content = fs::read_to_string(&pid_file).ok()?;
        let mut lines = content.lines();
        let pid: i32 = lines.next()?.trim().parse().ok()?;
        let port: Option<u16> = lines.nth(2).and_then(|l| l.trim().parse().ok());
        let comm = fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if let (true, Some(port)) = (pid > 0 && comm.trim() == "postgres", port) {
            return Some(port);
        }
        tracing::warn!(pid, "removing stale postmaster.pid");
        let _ = fs::remove_file(&pid_file);
        None
    }

    fn bin(&self, name: &str) -> PathBuf {
        self.bindir.join(name)
    }

    fn give_to_system_user(&self, path: &Path) -> Result<(), EmbeddedError> {
        if let Some(user) = self.run_as {
            chown_to(path, user)?;
        }
        Ok(())
    }

    fn run(
        &self,
        what: &'static str,
        program: &Path,
        args: &[&std::ffi::OsStr],
    ) -> Result<Output, EmbeddedError> {
        run_as(self.run_as, what, program, args)
    }
}

fn run_as(
    user: Option<&str>,
    what: &'static str,
    program: &Path,
    args: &[&std::ffi::OsStr],
) -> Result<Output, EmbeddedError> {
    let mut cmd = match user {
        Some(user) => {
            let mut c = Command::new("runuser");
            c.args(["-u", user, "--"]).arg(program);
            c
        }
        None => Command::new(program),
    };
    cmd.args(args).env("LC_ALL", "C.UTF-8").current_dir("/");
    let out = cmd.output().map_err(io(format!("run {what}")))?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(EmbeddedError::Command {
            what,
            status: out.status.to_string(),
            output: format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
            .trim()
            .to_owned(),
        })
    }
}

/// Chooses the directory for the cluster and makes sure the system user owns it.
fn cluster_dir(data_dir: &Path, run_as: Option<&str>) -> Result<PathBuf, EmbeddedError> {
    let location_file = data_dir.join("pg-location");
    if let Ok(location) = fs::read_to_string(&location_file) {
        return Ok(PathBuf::from(location.trim()));
    }
    let preferred = data_dir.join("pg");
    let Some(user) = run_as else {
        fs::create_dir_all(&preferred).map_err(io("create cluster directory"))?;
        return Ok(preferred);
    };
    let fresh = !preferred.exists();
    fs::create_dir_all(&preferred).map_err(io("create cluster directory"))?;
    chown_to(&preferred, user)?;
    let reachable = Command::new("runuser")
        .args(["-u", user, "--", "test", "-w"])
        .arg(&preferred)
        .status()
        .map_err(io("run runuser"))?
        .success();
    if reachable {
        return Ok(preferred);
    }
    if fresh {
        let _ = fs::remove_dir(&preferred);
    }
    let digest = hex::encode(Sha256::digest(data_dir.as_os_str().as_encoded_bytes()));
    let fallback = Path::new(FALLBACK_ROOT).join(&digest[..16]);
    fs::create_dir_all(&fallback).map_err(io(format!("create {}", fallback.display())))?;
    fs::set_permissions(FALLBACK_ROOT, fs::Permissions::from_mode(0o755))
        .map_err(io(format!("set permissions of {FALLBACK_ROOT}")))?;
    chown_to(&fallback, user)?;
    fs::write(&location_file, format!("{}\n", fallback.display()))
        .map_err(io("write pg-location"))?;
    tracing::info!(
        cluster = %fallback.display(),
        "the data directory is out of reach of the postgres user; the cluster lives elsewhere"
    );
    Ok(fallback)
}

/// The directory holding `initdb` and `pg_ctl`: the given one, else `pg_config --bindir`, else
/// the newest `/usr/lib/postgresql/*/bin`.
pub fn find_bindir(given: Option<&Path>) -> Result<PathBuf, EmbeddedError> {
    let has_server = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(dir) = given {
        return if has_server(dir) {
            Ok(dir.to_owned())
        } else {
            Err(EmbeddedError::MissingBinaries {
                searched: format!("YISHI_PG_BINDIR={}", dir.display()),
            })
        };
    }
    let mut candidates = Vec::new();
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        if !dir.is_empty() {
            candidates.push(PathBuf::from(dir));
        }
    }
    let mut versioned: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            Some((version, e.path().join("bin")))
        })
        .collect();
    versioned.sort_by_key(|v| std::cmp::Reverse(v.0));
    candidates.extend(versioned.into_iter().map(|(_, p)| p));
    candidates
        .into_iter()
        .find(|d| has_server(d))
        .ok_or_else(|| EmbeddedError::MissingBinaries {
            searched: "pg_config --bindir and /usr/lib/postgresql/*/bin".into(),
        })
}

fn passwd_ids(user: &str) -> Option<(u32, u32)> {
    let name = std::ffi::CString::new(user).ok()?;
    // SAFETY: getpwnam returns a pointer to static storage or null; we copy the ids at once.
    let pw = unsafe { libc::getpwnam(name.as_ptr()) };
    if pw.is_null() {
        return None;
    }
    unsafe { Some(((*pw).pw_uid, (*pw).pw_gid)) }
}

fn chown_to(path: &Path, user: &str) -> Result<(), EmbeddedError> {
    let (uid, gid) = passwd_ids(user).ok_or(EmbeddedError::NoSystemUser)?;
    std::os::unix::fs::chown(path, Some(uid), Some(gid))
        .map_err(io(format!("give {} to {user}", path.display())))
}

fn write_private(path: &Path, content: &str) -> Result<(), EmbeddedError> {
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(io(format!("write {}", path.display())))?;
    f.write_all(content.as_bytes())
        .map_err(io(format!("write {}", path.display())))
}

fn free_port() -> Result<u16, EmbeddedError> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(io("find a free port"))?;
    Ok(listener
        .local_addr()
        .map_err(io("find a free port"))?
        .port())
}

//! Throwaway PostgreSQL clusters for the tests: Debian's PostgreSQL 15 server programs, run as
//! the `postgres` user when the tests run as root (PostgreSQL refuses root), in a temporary
//! folder, on a free loopback port. A cluster stops and its folder goes when it is dropped,
//! also when a test fails. Missing programs fail the test with a line naming what to install.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};

/// Where the server programs are (`RONGTOOK_PG_BIN` overrides).
pub fn bin_dir() -> PathBuf {
    std::env::var_os("RONGTOOK_PG_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/lib/postgresql/15/bin"))
}

/// The role the tests' logs belong to (not a superuser, so revoked rights hold).
pub const ROLE: &str = "rongtook";

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A command run as the `postgres` user when we are root.
fn as_postgres(program: &Path) -> Command {
    if running_as_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn run(mut c: Command, what: &str) {
    let out = c
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A running throwaway cluster.
pub struct PgCluster {
    dir: PathBuf,
    data: PathBuf,
    pub port: u16,
    stopped: bool,
}

impl PgCluster {
    /// Initialises and starts a cluster; creates the non-superuser role [`ROLE`].
    pub fn start() -> PgCluster {
        Self::start_with(&[])
    }

    /// Like [`start`](PgCluster::start), with extra server settings (`name=value`).
    pub fn start_with(settings: &[&str]) -> PgCluster {
        let bin = bin_dir();
        assert!(
            bin.join("initdb").exists() && bin.join("pg_ctl").exists(),
            "PostgreSQL 15 server programs are not in {}: install Debian's `postgresql-15` \
             package (apt-get install postgresql-15), or set RONGTOOK_PG_BIN to the folder \
             holding initdb and pg_ctl",
            bin.display()
        );
        static N: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "rongtook-pg-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the cluster folder");
        if running_as_root() {
            run(
                {
                    let mut c = Command::new("chown");
                    c.arg("postgres:").arg(&dir);
                    c
                },
                "chown the cluster folder",
            );
        }
        let data = dir.join("data");
        let mut init = as_postgres(&bin.join("initdb"));
        init.args([
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
            "-D",
        ])
        .arg(&data);
        run(init, "initdb");
        let mut cluster = PgCluster {
            dir,
            data,
            port: 0,
            stopped: true,
        };
        cluster.launch(settings);
        cluster.admin(&format!("CREATE ROLE {ROLE} LOGIN"));
        cluster
    }

    /// Starts the server on the cluster's data folder, on a free port.
    fn launch(&mut self, settings: &[&str]) {
        // A port found free may be taken before the server binds it: try a few.
        let mut last = String::new();
        for _ in 0..5 {
            let port = free_port();
            let mut opts = format!(
                "-p {port} -k {} -c listen_addresses=127.0.0.1 -c max_connections=300",
                self.dir.display()
            );
            for s in settings {
                opts.push_str(&format!(" -c {s}"));
            }
            let mut start = as_postgres(&bin_dir().join("pg_ctl"));
            start
                .arg("-D")
                .arg(&self.data)
                .args(["-w", "-t", "60", "-l"])
                .arg(self.dir.join("server.log"))
                .args(["-o", &opts, "start"]);
            let out = start.stdin(Stdio::null()).output().expect("run pg_ctl");
            if out.status.success() {
                self.port = port;
                self.stopped = false;
                return;
            }
            last = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
            );
        }
        panic!("pg_ctl start failed:\n{last}");
    }

    /// A hot standby of this cluster: a base backup streamed with `pg_basebackup -R`, started
    /// with `cluster_name = name` (the name the primary's `synchronous_standby_names` uses).
    pub fn standby(&self, name: &str) -> PgCluster {
        static N: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "rongtook-pg-standby-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the standby folder");
        if running_as_root() {
            let mut c = Command::new("chown");
            c.arg("postgres:").arg(&dir);
            run(c, "chown the standby folder");
        }
        let data = dir.join("data");
        let mut backup = as_postgres(&bin_dir().join("pg_basebackup"));
        backup
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
            ])
            .args(["-R", "-X", "stream", "-c", "fast", "-D"])
            .arg(&data);
        run(backup, "pg_basebackup");
        let mut standby = PgCluster {
            dir,
            data,
            port: 0,
            stopped: true,
        };
        standby.launch(&[&format!("cluster_name={name}"), "hot_standby=on"]);
        standby
    }

    /// Promotes a standby to a primary and waits until it takes writes.
    pub fn promote(&self) {
        let mut c = as_postgres(&bin_dir().join("pg_ctl"));
        c.arg("-D")
            .arg(&self.data)
            .args(["-w", "-t", "60", "promote"]);
        run(c, "pg_ctl promote");
    }

    /// Runs SQL as the superuser on the `postgres` database.
    pub fn admin(&self, sql: &str) {
        let mut c = postgres::Client::connect(
            &format!(
                "host=127.0.0.1 port={} user=postgres dbname=postgres",
                self.port
            ),
            postgres::NoTls,
        )
        .expect("connect as the superuser");
        c.batch_execute(sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// A new, empty database owned by [`ROLE`]; returns its connection URI.
    pub fn create_db(&self, name: &str) -> String {
        self.admin(&format!("CREATE DATABASE {name} OWNER {ROLE}"));
        self.uri(name)
    }

    /// The connection URI of a database, as [`ROLE`].
    pub fn uri(&self, db: &str) -> String {
        format!("postgres://{ROLE}@127.0.0.1:{}/{db}", self.port)
    }

    /// The superuser's connection URI of a database.
    pub fn superuser_uri(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// The cluster's data folder.
    pub fn data(&self) -> &Path {
        &self.data
    }

    /// Stops the server at once (as a crash would).
    pub fn stop_immediately(&mut self) {
        if !self.stopped {
            let mut stop = as_postgres(&bin_dir().join("pg_ctl"));
            stop.arg("-D")
                .arg(&self.data)
                .args(["-m", "immediate", "-w", "stop"]);
            let _ = stop.stdin(Stdio::null()).output();
            self.stopped = true;
        }
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        self.stop_immediately();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

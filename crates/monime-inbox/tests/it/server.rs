//! A throwaway PostgreSQL server for tests: `initdb` into a temporary folder, `pg_ctl start` on
//! a free loopback port, stopped and deleted on drop.
//!
//! PostgreSQL refuses to run as root. When the tests run as root (CI containers do), the
//! folder is given to the unprivileged user `nobody` and every PostgreSQL command runs through
//! `runuser -u nobody --`. The binaries come from `$MONIME_PG_BIN`, else
//! `/usr/lib/postgresql/15/bin` (Debian's PostgreSQL 15), else `pg_config --bindir`. A missing
//! PostgreSQL fails the test with what to install; nothing is skipped.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct PgServer {
    bin: PathBuf,
    dir: PathBuf,
    pub port: u16,
    as_root: bool,
}

fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("MONIME_PG_BIN") {
        return PathBuf::from(dir);
    }
    let debian = PathBuf::from("/usr/lib/postgresql/15/bin");
    if debian.join("initdb").exists() {
        return debian;
    }
    let from_config = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    match from_config {
        Some(dir) if dir.join("initdb").exists() => dir,
        _ => panic!(
            "PostgreSQL 15 server binaries not found: install postgresql-15 (Debian/Ubuntu) or \
             set MONIME_PG_BIN to the folder holding initdb and pg_ctl"
        ),
    }
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl PgServer {
    /// A fresh cluster, started and accepting connections.
    pub fn start() -> PgServer {
        let dir = std::env::temp_dir().join(format!(
            "monime-inbox-pg-{}-{}",
            std::process::id(),
            Instant::now().elapsed().as_nanos() ^ u128::from(fastrand::u64(..))
        ));
        std::fs::create_dir_all(&dir).expect("temporary folder");
        let server = PgServer {
            bin: bin_dir(),
            dir,
            port: free_port(),
            as_root: running_as_root(),
        };
        if server.as_root {
            server.check(
                Command::new("chown").arg("nobody").arg(&server.dir),
                "chown the folder to nobody",
            );
        }
        let data = server.data_dir();
        server.check(
            server
                .pg("initdb")
                .args([
                    "-A",
                    "trust",
                    "-U",
                    "postgres",
                    "--no-sync",
                    "-E",
                    "UTF8",
                    "-D",
                ])
                .arg(&data),
            "initdb",
        );
        server.pg_ctl_start();
        server
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// A PostgreSQL command, run as `nobody` when the tests run as root.
    fn pg(&self, tool: &str) -> Command {
        let program = self.bin.join(tool);
        if self.as_root {
            let mut command = Command::new("runuser");
            command.args(["-u", "nobody", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        }
    }

    fn check(&self, command: &mut Command, what: &str) -> Output {
        let output = command
            .output()
            .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
        assert!(
            output.status.success(),
            "{what} failed: {}\n{}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    fn pg_ctl_start(&self) {
        let options = format!(
            "-p {} -h 127.0.0.1 -k {} -c fsync=off -c max_connections=40",
            self.port,
            self.dir.display()
        );
        self.check(
            self.pg("pg_ctl")
                .arg("-D")
                .arg(self.data_dir())
                .args(["-o", &options, "-l"])
                .arg(self.dir.join("server.log"))
                .args(["-w", "-t", "60", "start"]),
            "pg_ctl start",
        );
    }

    /// Stops the server (fast shutdown: open connections are cut) and starts it again.
    pub fn restart(&self) {
        self.stop("fast");
        self.pg_ctl_start();
    }

    fn stop(&self, mode: &str) {
        self.check(
            self.pg("pg_ctl")
                .arg("-D")
                .arg(self.data_dir())
                .args(["-m", mode, "-w", "-t", "60", "stop"]),
            "pg_ctl stop",
        );
    }

    pub fn config(&self) -> tokio_postgres::Config {
        self.config_on(self.port)
    }

    /// The server's settings, reached through `port` (a proxy in front of it, say).
    pub fn config_on(&self, port: u16) -> tokio_postgres::Config {
        PgServer::config_for(port)
    }

    /// The settings of a test server listening on `port`.
    pub fn config_for(port: u16) -> tokio_postgres::Config {
        let mut config = tokio_postgres::Config::new();
        config
            .host("127.0.0.1")
            .port(port)
            .user("postgres")
            .dbname("postgres")
            .connect_timeout(Duration::from_secs(5));
        config
    }

    /// A connection whose driver task runs on the current runtime.
    pub async fn connect(&self) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
        let (client, connection) = self.config().connect(tokio_postgres::NoTls).await?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(client)
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let _ = self
            .pg("pg_ctl")
            .arg("-D")
            .arg(self.data_dir())
            .args(["-m", "immediate", "-w", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

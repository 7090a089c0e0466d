//! The real `assiette-server` process: started on a database, killed with SIGKILL (no graceful
//! shutdown, nothing flushed beyond what was committed), restarted on the same database.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::client::{ADMIN_EMAIL, ADMIN_PASSWORD};

pub struct ServerProcess {
    pub child: Child,
    /// `http://127.0.0.1:PORT`, as the server printed it.
    pub base: String,
    /// The lines the server prints on stdout after its URL.
    pub lines: mpsc::Receiver<String>,
}

/// The server binary: `ASSIETTE_SERVER_BIN`, else `assiette-server` beside the running program
/// (cargo puts both in `target/<profile>/`).
pub fn default_server_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("ASSIETTE_SERVER_BIN").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().unwrap_or_default();
    exe.with_file_name(format!("assiette-server{}", std::env::consts::EXE_SUFFIX))
}

impl ServerProcess {
    /// Starts `bin serve` on `database_url` (port chosen by the system, the administrator of
    /// [`ADMIN_EMAIL`] created if missing, warnings appended to `log`) and waits for its URL.
    pub fn start(bin: &Path, database_url: &str, static_dir: &Path, log: &Path, env: &[(&str, &str)]) -> Result<ServerProcess, String> {
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|e| format!("journal du serveur {} : {e}", log.display()))?;
        let mut cmd = Command::new(bin);
        cmd.arg("serve")
            .env("DATABASE_URL", database_url)
            .env("ASSIETTE_PORT", "0")
            .env("ASSIETTE_STATIC_DIR", static_dir)
            .env("ASSIETTE_ADMIN_EMAIL", ADMIN_EMAIL)
            .env("ASSIETTE_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(stderr);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().map_err(|e| format!("lancement de {} impossible : {e}", bin.display()))?;
        let out = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut printed = Vec::new();
        let base = loop {
            match rx.recv_timeout(Duration::from_secs(60)) {
                Ok(line) => {
                    if let Some(rest) = line.split("ouvrez ").nth(1) {
                        break rest.split_whitespace().next().unwrap_or_default().trim_end_matches('/').to_owned();
                    }
                    printed.push(line);
                }
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let log_tail = std::fs::read_to_string(log).unwrap_or_default();
                    let tail: Vec<&str> = log_tail.lines().rev().take(20).collect();
                    return Err(format!(
                        "le serveur n'a pas donné son adresse (sortie : {printed:?} ; fin du journal {} : {:?})",
                        log.display(),
                        tail.into_iter().rev().collect::<Vec<_>>()
                    ));
                }
            }
        };
        Ok(ServerProcess { child, base, lines: rx })
    }

    /// SIGKILL, then reaps the process.
    pub fn kill(mut self) {
        self.reap();
    }

    fn reap(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM (a graceful stop); returns whether it exited with success.
    pub fn terminate(mut self) -> (bool, Vec<String>) {
        let sent = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status().is_ok_and(|s| s.success());
        let exit = self.child.wait().map(|s| s.success()).unwrap_or(false);
        (sent && exit, self.lines.iter().collect())
    }
}

/// A server is never left running behind a failed run or test (a reaped one is not signalled).
impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.reap();
    }
}

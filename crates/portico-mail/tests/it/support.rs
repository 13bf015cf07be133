//! A real SMTP server (aiosmtpd, `tests/support/smtp_server.py`) per test, and a small world
//! whose outbox holds a link email.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use portico_core::model::{Email, Record, RecordKind, RecordRef, Role};
use portico_core::service::EnableShare;
use portico_core::testing::fixtures::{self, T0};
use portico_core::testing::{ManualClock, MemoryBlobs, MemoryStore, SeededRandomness};
use portico_core::token::{KeyId, TokenKeys};
use portico_core::{Portico, Ports, ServiceConfig};
use portico_mail::SmtpConfig;

pub struct SmtpServer {
    child: Child,
    pub port: u16,
    pub dir: PathBuf,
    temp: tempfile::TempDir,
}

impl SmtpServer {
    /// Starts the server; `None` (with a notice) where Python's aiosmtpd is missing, except
    /// under CI, where that fails the test.
    pub fn start(args: &[&str]) -> Option<Self> {
        let temp = tempfile::tempdir().unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Self::start_at(port, temp, args)
    }

    fn start_at(port: u16, temp: tempfile::TempDir, args: &[&str]) -> Option<Self> {
        let dir = temp.path().join("inbox");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_server.py");
        let spawned = Command::new("python3")
            .arg(script)
            .args(["--port", &port.to_string(), "--dir"])
            .arg(&dir)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        let mut child = match spawned {
            Ok(child) => child,
            Err(e) => return skip(&format!("python3 cannot start: {e}")),
        };
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        if line.trim() != "ready" {
            let _ = child.kill();
            let mut err = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
            return skip(&format!("the SMTP test server did not start: {err}"));
        }
        Some(Self {
            child,
            port,
            dir,
            temp,
        })
    }

    pub fn config(&self) -> SmtpConfig {
        SmtpConfig::from_url(&format!(
            "smtp://127.0.0.1:{}?tls=none&timeout=5",
            self.port
        ))
        .unwrap()
    }

    /// The messages received so far.
    pub fn received(&self) -> Vec<String> {
        let mut files: Vec<_> = std::fs::read_dir(&self.dir)
            .map(|d| d.map(|e| e.unwrap().path()).collect())
            .unwrap_or_default();
        files.retain(|p: &PathBuf| p.extension().is_some_and(|x| x == "eml"));
        files.sort();
        files
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect()
    }

    /// Stops the server, keeping its inbox; `restart` brings it back on the same port.
    pub fn stop(mut self) -> (u16, tempfile::TempDir) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let temp = std::mem::replace(&mut self.temp, tempfile::tempdir().unwrap());
        (self.port, temp)
    }

    pub fn restart(port: u16, temp: tempfile::TempDir) -> Self {
        Self::start_at(port, temp, &[]).unwrap()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn skip<T>(why: &str) -> Option<T> {
    assert!(std::env::var_os("CI").is_none(), "required in CI: {why}");
    eprintln!("skipping an SMTP test: {why}");
    None
}

pub fn sender() -> Email {
    Email::parse("notifications@portico.example").unwrap()
}

pub struct World {
    pub portico: Portico,
    pub store: MemoryStore,
    pub clock: Arc<ManualClock>,
}

/// An org, a client and a work order shared once: one link email in the outbox.
pub async fn world() -> World {
    let store = MemoryStore::new();
    let clock = Arc::new(ManualClock::new(T0));
    let ports = Ports {
        store: Arc::new(store.clone()),
        clock: clock.clone(),
        random: Arc::new(SeededRandomness::new(5)),
        blobs: Arc::new(MemoryBlobs::default()),
    };
    let keys = TokenKeys::new(KeyId(1), &[9; 32]).unwrap();
    let config = ServiceConfig {
        public_url: "https://share.example".into(),
        ..ServiceConfig::default()
    };
    let portico = Portico::new(ports, keys, config);
    let org = fixtures::org("org1");
    let owner = fixtures::staff(&org.id, "owner", Role::Owner);
    let client = fixtures::client(&org.id, "c1");
    let wo = fixtures::work_order(&org.id, "wo1", Some(&client.id), None);
    portico.put_org(&org).await.unwrap();
    portico.put_staff(&owner).await.unwrap();
    portico.put_client(&client).await.unwrap();
    portico
        .upsert_record(&owner.id, &Record::WorkOrder(wo.clone()))
        .await
        .unwrap();
    let reference = RecordRef {
        kind: RecordKind::WorkOrder,
        id: wo.id,
    };
    portico
        .enable_share(&owner.id, &org.id, &reference, &EnableShare::default())
        .await
        .unwrap();
    World {
        portico,
        store,
        clock,
    }
}

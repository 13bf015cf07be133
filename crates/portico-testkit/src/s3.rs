//! An S3-compatible server for tests: moto's standalone server (`moto[server]` from `PyPI`),
//! on a free port, with a bucket of the test's own. Stopped when dropped.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running moto server with one bucket.
#[derive(Debug)]
pub struct TestS3 {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// The bucket created for the test.
    pub bucket: String,
}

impl TestS3 {
    /// Starts one and creates a bucket; `Err` says why it could not.
    pub fn start() -> Result<Self, String> {
        let port = crate::binary::free_port();
        let child = Command::new("python3")
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("python3 cannot start: {e}"))?;
        let mut s3 = Self {
            child,
            port,
            bucket: format!("portico-{}", uuid::Uuid::new_v4().simple()),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(status)) = s3.child.try_wait() {
                return Err(format!(
                    "moto's server exited ({status}): python3 -m pip install 'moto[server]'"
                ));
            }
            let made = ureq::put(&format!("{}/{}", s3.endpoint(), s3.bucket)).send_empty();
            match made {
                Ok(resp) if resp.status().is_success() => return Ok(s3),
                _ if Instant::now() > deadline => {
                    return Err("moto's server did not answer in 20 s".into());
                }
                _ => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    /// [`TestS3::start`], or `None` with a notice where moto is missing — except under CI,
    /// where that fails the test rather than skipping it.
    pub fn for_test() -> Option<Self> {
        match Self::start() {
            Ok(s3) => Some(s3),
            Err(why) => {
                portico_core::testing::skip_check("an object-storage test against moto", &why);
                None
            }
        }
    }

    /// The endpoint URL (`http://127.0.0.1:PORT`).
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for TestS3 {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

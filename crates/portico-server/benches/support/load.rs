//! Load on one route: keep-alive connections driven for a few seconds, with the request rate,
//! p50 and p99. Included by path (`#[path = …]`) in the benchmarks that measure pages.

// Reason: each benchmark uses a part of it.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use tokio::net::TcpStream;

use super::server::request;

pub(crate) struct Figures {
    pub(crate) rate: f64,
    pub(crate) p50: Duration,
    pub(crate) p99: Duration,
}

/// Drives `connections` keep-alive connections at `path` for `seconds`, each request with the
/// extra header lines `headers` (each ending in `\r\n`; empty for none).
pub(crate) fn load(
    port: u16,
    path: &str,
    headers: &str,
    connections: u64,
    seconds: u64,
) -> Figures {
    load_each(port, &[path.to_owned()], headers, connections, seconds)
}

/// [`load`] over several paths: each connection asks for them in turn, starting at its own.
pub(crate) fn load_each(
    port: u16,
    paths: &[String],
    headers: &str,
    connections: u64,
    seconds: u64,
) -> Figures {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let gets: Vec<Vec<u8>> = paths
            .iter()
            .map(|path| {
                format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{headers}\r\n")
                    .into_bytes()
            })
            .collect();
        let stop = Instant::now() + Duration::from_secs(seconds);
        let warm = Instant::now() + Duration::from_millis(500);
        let tasks: Vec<_> = (0..connections)
            .map(|connection| {
                let gets = gets.clone();
                let mut next = usize::try_from(connection).unwrap_or(0);
                tokio::spawn(async move {
                    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
                    stream.set_nodelay(true).unwrap();
                    let mut buf = Vec::with_capacity(16 * 1024);
                    let mut chunk = vec![0u8; 16 * 1024];
                    let mut latencies = Vec::new();
                    loop {
                        let t = Instant::now();
                        if t >= stop {
                            break;
                        }
                        let get = &gets[next % gets.len()];
                        next += 1;
                        let status = request(&mut stream, get, &mut buf, &mut chunk).await;
                        assert_eq!(status, Some(200));
                        if t >= warm {
                            latencies.push(t.elapsed());
                        }
                    }
                    latencies
                })
            })
            .collect();
        let mut all = Vec::new();
        for task in tasks {
            all.extend(task.await.unwrap());
        }
        all.sort();
        let measured = Duration::from_secs(seconds)
            .checked_sub(Duration::from_millis(500))
            .unwrap_or(Duration::from_secs(1));
        Figures {
            // Reason: a rate for printing.
            rate: {
                #[allow(clippy::cast_precision_loss)]
                let n = all.len() as f64;
                n / measured.as_secs_f64()
            },
            p50: all[all.len() / 2],
            p99: all[all.len() * 99 / 100],
        }
    })
}

pub(crate) fn print(label: &str, f: &Figures) {
    println!(
        "{label:<34} {:>9.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms",
        f.rate,
        f.p50.as_secs_f64() * 1e3,
        f.p99.as_secs_f64() * 1e3
    );
}

//! Benchmark: webhook deliveries per second from the store to a local receiver, one
//! dispatcher, on SQLite. Each delivery is claimed, signed the Standard Webhooks way, posted
//! through `HttpWebhookSender` over a kept-alive connection and settled, as `portico serve`
//! does. The receiver is a minimal HTTP/1.1 server started here that answers 204 at once, so
//! the figure is Portico's side.
//!
//! `PORTICO_BENCH_WEBHOOKS` (default 2000) sets the count.

// Reason: a benchmark stops at the first broken step; there is nobody to report an error to.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use portico_core::model::{
    DeliveryId, Role, WebhookDelivery, WebhookEvent, WebhookState, WebhookValue,
};
use portico_core::ports::{Store, WebhookOutbox};
use portico_core::service::WebhookConfig;
use portico_core::testing::fixtures::{self, T0};
use portico_core::testing::{ManualClock, MemoryBlobs, SeededRandomness};
use portico_core::token::{KeyId, TokenKeys};
use portico_core::{Portico, Ports, ServiceConfig};
use portico_store::SeaOrmStore;
use portico_webhooks::{HttpWebhookSender, SenderConfig};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

/// Answers every request on every connection with 204, keeping connections open.
async fn receiver() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let (socket, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut read = BufReader::new(read);
                loop {
                    let mut length = 0usize;
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if read.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        if line == "\r\n" {
                            break;
                        }
                        let lower = line.to_ascii_lowercase();
                        if let Some(v) = lower.strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0; length];
                    if read.read_exact(&mut body).await.is_err() {
                        return;
                    }
                    if write
                        .write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    port
}

fn main() {
    let count: u32 = std::env::var("PORTICO_BENCH_WEBHOOKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let temp = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let port = receiver().await;
        let url = format!(
            "sqlite://{}?mode=rwc",
            temp.path().join("bench.db").display()
        );
        let store = SeaOrmStore::connect(&url).await.unwrap();
        let sender = Arc::new(
            HttpWebhookSender::new(SenderConfig {
                allow_private: true,
                allow_http: true,
                timeout: Duration::from_secs(10),
            })
            .unwrap(),
        );
        let ports = Ports {
            store: Arc::new(store.clone()),
            clock: Arc::new(ManualClock::new(T0)),
            random: Arc::new(SeededRandomness::new(1)),
            blobs: Arc::new(MemoryBlobs::default()),
            links: Arc::new(portico_core::testing::BaseLinks(
                "http://127.0.0.1:8080".into(),
            )),
        };
        let portico = Portico::new(
            ports,
            TokenKeys::new(KeyId(1), &[5; 32]).unwrap(),
            ServiceConfig::default(),
        )
        .with_webhooks(sender.clone());
        let org = fixtures::org("bench");
        let owner = fixtures::staff(&org.id, "owner", Role::Owner);
        portico.put_org(&org).await.unwrap();
        portico.put_staff(&owner).await.unwrap();
        let endpoint = portico
            .register_webhook(
                &owner.id,
                &org.id,
                &format!("http://127.0.0.1:{port}/hooks"),
                &["invoice.paid".to_owned()],
            )
            .await
            .unwrap()
            .endpoint;
        let mut tx = store.begin().await.unwrap();
        for i in 0..count {
            let delivery = WebhookDelivery {
                id: DeliveryId(uuid::Uuid::from_u128(u128::from(i) + 1)),
                org_id: org.id.clone(),
                endpoint: endpoint.id,
                event: WebhookEvent {
                    event_type: "invoice.paid".into(),
                    at: T0,
                    data: vec![
                        ("seq".into(), WebhookValue::Number(i64::from(i))),
                        ("invoice_id".into(), WebhookValue::Text("inv-1".into())),
                        ("amount".into(), WebhookValue::Text("512.63".into())),
                        ("currency".into(), WebhookValue::Text("USD".into())),
                    ],
                },
                created_at: T0,
                due_at: T0,
                attempts: 0,
                state: WebhookState::Pending,
                last_failure: None,
            };
            tx.enqueue_webhook(&delivery).await.unwrap();
        }
        tx.commit().await.unwrap();

        let config = WebhookConfig::default();
        let started = Instant::now();
        let mut delivered = 0;
        loop {
            let report = portico
                .deliver_webhooks_once(&store, sender.as_ref(), &config)
                .await
                .unwrap();
            if report.claimed == 0 {
                break;
            }
            assert_eq!(report.delivered, report.claimed, "{report:?}");
            delivered += report.delivered;
        }
        let seconds = started.elapsed().as_secs_f64();
        assert_eq!(delivered, count as usize);
        assert_eq!(store.webhook_counts().await.unwrap(), (0, 0));
        // Reason: a rate for printing.
        #[allow(clippy::cast_precision_loss)]
        let rate = delivered as f64 / seconds;
        println!("Webhook deliveries to a local receiver on SQLite, one dispatcher");
        println!("1 dispatcher: {delivered} deliveries in {seconds:.2} s = {rate:.0} deliveries/s");
    });
}

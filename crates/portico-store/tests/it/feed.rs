//! S5, V7: changes between servers on one PostgreSQL database. A unit of work's announcement
//! reaches the other servers' feeds when it commits and never when it does not; a feed whose
//! connection drops says so and listens again.

use std::sync::Arc;
use std::time::Duration;

use portico_core::model::{OrgId, RecordId, RecordKind, RecordRef};
use portico_core::ports::{Change, Changes, Store};
use portico_store::{ChangeFeed, FeedSettings, SeaOrmStore};
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};
use tokio::sync::mpsc;

/// What a feed told its relay.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Heard {
    Changed(Change),
    Interrupted,
    Resumed,
}

struct Relay(mpsc::UnboundedSender<Heard>);

impl Changes for Relay {
    fn changed(&self, change: &Change) {
        let _ = self.0.send(Heard::Changed(change.clone()));
    }
    fn interrupted(&self) {
        let _ = self.0.send(Heard::Interrupted);
    }
    fn resumed(&self) {
        let _ = self.0.send(Heard::Resumed);
    }
}

fn change(org: &str, record: Option<&str>) -> Change {
    Change {
        org: OrgId::new(org).unwrap(),
        record: record.map(|id| RecordRef {
            kind: RecordKind::WorkOrder,
            id: RecordId::new(id).unwrap(),
        }),
    }
}

async fn announce(store: &SeaOrmStore, change: &Change, commit: bool) {
    let mut tx = store.begin().await.unwrap();
    tx.announce(change).await.unwrap();
    if commit {
        tx.commit().await.unwrap();
    }
}

async fn next(heard: &mut mpsc::UnboundedReceiver<Heard>) -> Heard {
    tokio::time::timeout(Duration::from_secs(10), heard.recv())
        .await
        .expect("the feed said nothing within 10 s")
        .expect("the feed stopped")
}

/// A store's feed running with `settings` until `stop`, telling `heard` what it hears.
struct Listening {
    heard: mpsc::UnboundedReceiver<Heard>,
    catch_up: Arc<portico_store::Markers>,
    stop: tokio::sync::oneshot::Sender<()>,
    running: tokio::task::JoinHandle<()>,
}

/// Runs `store`'s feed with `settings`; returns once it listens.
async fn listen(store: &SeaOrmStore, settings: FeedSettings) -> Listening {
    let (tell, mut heard) = mpsc::unbounded_channel();
    let feed = store
        .change_feed()
        .expect("PostgreSQL has a feed")
        .with_settings(settings);
    let catch_up = feed.catch_up();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(feed.run(Arc::new(Relay(tell)), async {
        let _ = stopped.await;
    }));
    assert_eq!(next(&mut heard).await, Heard::Resumed);
    Listening {
        heard,
        catch_up,
        stop,
        running,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s5_v7_other_servers_hear_committed_changes_once_and_a_dropped_feed_says_so() {
    let Some((a, b, schema)) = crate::support::postgres_pair().await else {
        return;
    };
    let Listening {
        mut heard,
        stop,
        running,
        ..
    } = listen(
        &b,
        FeedSettings {
            heartbeat: Duration::from_millis(200),
            retry: Duration::from_millis(100),
        },
    )
    .await;

    // Committed: heard. Rolled back: never heard, so the next thing heard is the commit after.
    announce(&a, &change("org-a", Some("wo-1")), true).await;
    assert_eq!(
        next(&mut heard).await,
        Heard::Changed(change("org-a", Some("wo-1")))
    );
    announce(&a, &change("org-a", Some("rolled-back")), false).await;
    // B's own change: its listeners were told at commit, so its feed does not repeat it.
    announce(&b, &change("org-b", None), true).await;
    announce(&a, &change("org-a", None), true).await;
    assert_eq!(
        next(&mut heard).await,
        Heard::Changed(change("org-a", None))
    );

    // The listening connection is killed: the feed says changes may go unheard, then listens
    // again, and hears what commits next.
    let name = ChangeFeed::application_name(&schema.name);
    a.connection()
        .execute_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
            [name.into()],
        ))
        .await
        .unwrap();
    assert_eq!(next(&mut heard).await, Heard::Interrupted);
    assert_eq!(next(&mut heard).await, Heard::Resumed);
    announce(&a, &change("org-a", Some("wo-2")), true).await;
    assert_eq!(
        next(&mut heard).await,
        Heard::Changed(change("org-a", Some("wo-2")))
    );

    // Stopping ends the feed, interrupted.
    stop.send(()).unwrap();
    running.await.unwrap();
    assert_eq!(next(&mut heard).await, Heard::Interrupted);
}

/// S5, S8: once a feed says it has caught up, it has heard every change committed anywhere
/// before the question — each of 20 changes committed by another server is already with the
/// relay when `caught_up` answers, without waiting for it. Questions asked at once share
/// markers, and with the feed stopped the answer is `false` within its patience.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s5_s8_a_feed_that_has_caught_up_has_heard_every_earlier_commit() {
    use portico_core::ports::CatchUp;

    let Some((a, b, _schema)) = crate::support::postgres_pair().await else {
        return;
    };
    let Listening {
        mut heard,
        catch_up,
        stop,
        running,
    } = listen(&b, FeedSettings::default()).await;

    for n in 0..20 {
        let record = format!("wo-{n}");
        announce(&a, &change("org-a", Some(&record)), true).await;
        assert!(catch_up.caught_up().await, "change {n}");
        assert_eq!(
            heard.try_recv().ok(),
            Some(Heard::Changed(change("org-a", Some(&record)))),
            "change {n} was heard before the feed said it had caught up"
        );
    }
    let together: Vec<_> = (0..50)
        .map(|_| {
            let catch_up = catch_up.clone();
            tokio::spawn(async move { catch_up.caught_up().await })
        })
        .collect();
    for asked in together {
        assert!(asked.await.unwrap());
    }

    stop.send(()).unwrap();
    running.await.unwrap();
    assert!(!catch_up.caught_up().await, "a stopped feed cannot tell");
}

#[tokio::test]
async fn sqlite_has_no_feed_because_one_process_serves_it() {
    let (store, _dir) = crate::support::sqlite_file().await.unwrap();
    assert!(store.change_feed().is_none());
}

/// A TCP relay to PostgreSQL that can fall silent: while `silent`, bytes are read and dropped
/// in neither direction, and nothing is closed — a network fault that sends no FIN.
struct SilentLink {
    port: u16,
    silent: Arc<std::sync::atomic::AtomicBool>,
}

impl SilentLink {
    async fn to(upstream: &str) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let silent = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let upstream = upstream.to_owned();
        let gate = silent.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = tokio::net::TcpStream::connect(&upstream).await else {
                    continue;
                };
                let (client_read, client_write) = client.into_split();
                let (server_read, server_write) = server.into_split();
                tokio::spawn(Self::pipe(client_read, server_write, gate.clone()));
                tokio::spawn(Self::pipe(server_read, client_write, gate.clone()));
            }
        });
        Self { port, silent }
    }

    /// Copies `from` to `to`, holding every byte back while the link is silent.
    async fn pipe(
        mut from: tokio::net::tcp::OwnedReadHalf,
        mut to: tokio::net::tcp::OwnedWriteHalf,
        silent: Arc<std::sync::atomic::AtomicBool>,
    ) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let Ok(n) = from.read(&mut buf).await else {
                return;
            };
            if n == 0 {
                return;
            }
            while silent.load(std::sync::atomic::Ordering::SeqCst) {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            if to.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s5_a_feed_whose_connection_falls_silent_says_so_within_its_heartbeats() {
    let Some((_store, schema)) = crate::support::postgres().await else {
        return;
    };
    // The store reaches PostgreSQL through the link, so its feed does too.
    let upstream = schema
        .url
        .split('@')
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap()
        .to_owned();
    let link = SilentLink::to(&upstream).await;
    let through = schema
        .url
        .replace(&upstream, &format!("127.0.0.1:{}", link.port));
    let b = SeaOrmStore::connect_in_schema(&through, Some(&schema.name))
        .await
        .unwrap();
    let heartbeat = Duration::from_millis(200);
    let Listening {
        mut heard,
        stop,
        running,
        ..
    } = listen(
        &b,
        FeedSettings {
            heartbeat,
            retry: Duration::from_millis(100),
        },
    )
    .await;

    link.silent.store(true, std::sync::atomic::Ordering::SeqCst);
    let fell = std::time::Instant::now();
    assert_eq!(next(&mut heard).await, Heard::Interrupted);
    let noticed = fell.elapsed();
    assert!(
        noticed < heartbeat * 8,
        "a silent connection was noticed after {noticed:?}"
    );
    eprintln!("a silent connection noticed after {noticed:?}");
    link.silent
        .store(false, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(next(&mut heard).await, Heard::Resumed);
    stop.send(()).unwrap();
    running.await.unwrap();
}

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s5_v7_other_servers_hear_committed_changes_once_and_a_dropped_feed_says_so() {
    let Some((a, schema)) = crate::support::postgres().await else {
        return;
    };
    let b = SeaOrmStore::connect_in_schema(&schema.url, Some(&schema.name))
        .await
        .unwrap();
    let (tell, mut heard) = mpsc::unbounded_channel();
    let feed = b
        .change_feed()
        .expect("PostgreSQL has a feed")
        .with_settings(FeedSettings {
            heartbeat: Duration::from_millis(200),
            retry: Duration::from_millis(100),
        });
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(feed.run(Arc::new(Relay(tell)), async {
        let _ = stopped.await;
    }));
    assert_eq!(next(&mut heard).await, Heard::Resumed);

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

#[tokio::test]
async fn sqlite_has_no_feed_because_one_process_serves_it() {
    let (store, _dir) = crate::support::sqlite_file().await.unwrap();
    assert!(store.change_feed().is_none());
}

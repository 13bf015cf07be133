//! What a client does behind a link beyond opening it: files only while the view shows them,
//! "Get help" (V2), and the change feed that keeps client pages fresh (V7, S5).

use std::sync::{Arc, Mutex};

use portico_core::model::{NotificationKind, Role, Section, Sections};
use portico_core::ports::{Blob, BlobKey, Blobs, Change, Changes};
use portico_core::service::{
    ChangeRelay, ClientError, EnableShare, HelpRequest, Opened, ShareChange,
};
use portico_core::testing::fixtures;

use crate::support::{World, owner, token};

fn put_blob(w: &World, id: &str) {
    let key = BlobKey {
        org: w.org.clone(),
        file: fixtures::file_id(id),
    };
    let blob = Blob {
        content_type: "image/png".into(),
        bytes: id.as_bytes().to_vec(),
    };
    w.block_on(w.blobs.put(&key, blob)).unwrap();
}

#[test]
fn v3_files_are_served_only_while_the_view_shows_them() {
    let w = World::new();
    for id in ["f1", "f2", "logo", "photo-technician", "elsewhere"] {
        put_blob(&w, id);
    }
    let share = w.enable(&w.wo);
    let link = share.link.clone().unwrap();
    let file = |id: &str| {
        w.block_on(w.portico.file_of_link(token(&link), &fixtures::file_id(id)))
            .unwrap()
            .map(|b| b.bytes)
    };
    // Shared photo, logo, technician's photo: yes. Unshared photo, a file of nothing: no.
    assert_eq!(file("f1"), Some(b"f1".to_vec()));
    assert_eq!(file("logo"), Some(b"logo".to_vec()));
    assert_eq!(file("photo-technician"), Some(b"photo-technician".to_vec()));
    assert_eq!(file("f2"), None);
    assert_eq!(file("elsewhere"), None);

    // With the photos section off, the shared photo goes too; with the link revoked, all go.
    let change = ShareChange {
        recipient: None,
        sections: Some(Sections::ALL.with(Section::PhotosFiles, false)),
    };
    w.block_on(w.portico.change_share(&owner(), &w.org, share.id, &change))
        .unwrap();
    assert_eq!(file("f1"), None);
    assert!(file("logo").is_some());
    w.block_on(w.portico.revoke_share(&owner(), &w.org, share.id))
        .unwrap();
    assert_eq!(file("logo"), None);
    assert_eq!(
        w.block_on(
            w.portico
                .file_of_link("not-a-token", &fixtures::file_id("f1"))
        )
        .unwrap(),
        None
    );
}

#[test]
fn v2_get_help_reaches_the_business_and_checks_its_input() {
    let w = World::new();
    let link = w.enable(&w.wo).link.unwrap();
    let before = w.outbox().len();
    let help = |name: &str, phone: Option<&str>, message: &str| {
        w.block_on(w.portico.ask_for_help(
            token(&link),
            &HelpRequest {
                name: name.into(),
                phone: phone.map(str::to_owned),
                message: message.into(),
            },
        ))
    };
    for (name, phone, message) in [
        ("", None, "hello"),
        ("Jordan", None, "   "),
        ("Jordan", Some("call me <script>"), "hello"),
        ("J".repeat(201).as_str(), None, "hello"),
    ] {
        let refused = help(name, phone, message);
        assert!(
            matches!(refused, Err(ClientError::Invalid(_))),
            "{refused:?}"
        );
    }
    assert_eq!(w.outbox().len(), before, "nothing refused was queued");

    help(
        "  Jordan Lee ",
        Some("+1 (555) 0142"),
        "The breaker trips\u{7} again.",
    )
    .unwrap();
    let outbox = w.outbox();
    let mail = outbox.last().unwrap();
    assert_eq!(mail.to.as_str(), "office@brightspark.example");
    assert_eq!(
        mail.kind,
        NotificationKind::HelpRequested {
            name: "Jordan Lee".into(),
            phone: Some("+1 (555) 0142".into()),
            message: "The breaker trips again.".into(),
        }
    );
    // A dead link cannot ask.
    assert!(matches!(
        w.block_on(w.portico.ask_for_help(
            "unknown",
            &HelpRequest {
                name: "x".into(),
                phone: None,
                message: "y".into()
            }
        )),
        Err(ClientError::LinkInactive)
    ));
}

#[derive(Default)]
struct Recorder(Mutex<Vec<Change>>, Mutex<Vec<&'static str>>);

impl Changes for Recorder {
    fn changed(&self, change: &Change) {
        self.0.lock().unwrap().push(change.clone());
    }

    fn interrupted(&self) {
        self.1.lock().unwrap().push("interrupted");
    }

    fn resumed(&self) {
        self.1.lock().unwrap().push("resumed");
    }
}

#[test]
fn s5_v7_a_change_is_announced_to_other_servers_only_by_the_unit_that_commits_it() {
    let w = World::new();
    let recorder = Arc::new(Recorder::default());
    let portico = w.portico.clone().with_changes(recorder.clone());
    let before = w.store.announced().len();

    let share = w
        .block_on(portico.enable_share(&owner(), &w.org, &w.wo, &EnableShare::default()))
        .unwrap();
    w.block_on(portico.revoke_share(&owner(), &w.org, share.id))
        .unwrap();
    let mut org = fixtures::org("org1");
    org.settings.client_sharing = false;
    w.block_on(portico.put_org(&org)).unwrap();
    // Refused, so nothing commits and nothing is announced.
    let refused = w.block_on(portico.enable_share(
        &crate::support::staff_id(Role::Technician),
        &w.org,
        &w.quote,
        &EnableShare::default(),
    ));
    assert!(refused.is_err());
    // Revoking again changes nothing, so nothing is announced.
    w.block_on(portico.revoke_share(&owner(), &w.org, share.id))
        .unwrap();

    let announced = w.store.announced()[before..].to_vec();
    let published = recorder.0.lock().unwrap().clone();
    assert_eq!(announced, published, "this server hears what others hear");
    assert_eq!(
        announced,
        vec![
            Change {
                org: w.org.clone(),
                record: Some(w.wo.clone())
            },
            Change {
                org: w.org.clone(),
                record: Some(w.wo.clone())
            },
            Change {
                org: w.org.clone(),
                record: None
            },
        ]
    );
}

#[test]
fn s5_v7_the_relay_forwards_other_servers_changes_and_says_while_it_cannot_hear_them() {
    let w = World::new();
    let relay = Arc::new(ChangeRelay::new());
    let early = Arc::new(Recorder::default());
    let late = Arc::new(Recorder::default());
    // A listener given before the feed and one after: both are attached, and both learn that
    // changes go unheard until the feed listens.
    let portico = w.portico.clone().with_changes(early.clone());
    let portico = portico.with_feed(relay.clone()).with_changes(late.clone());
    assert!(!relay.hearing());
    for listener in [&early, &late] {
        assert_eq!(*listener.1.lock().unwrap(), ["interrupted"]);
    }

    relay.resumed();
    assert!(relay.hearing());
    let theirs = Change {
        org: w.org.clone(),
        record: Some(w.quote.clone()),
    };
    relay.changed(&theirs);
    relay.interrupted();
    for listener in [&early, &late] {
        assert_eq!(
            *listener.1.lock().unwrap(),
            ["interrupted", "resumed", "interrupted"]
        );
        assert_eq!(*listener.0.lock().unwrap(), std::slice::from_ref(&theirs));
    }
    // This server's own changes reach its listeners directly, not through the relay.
    w.block_on(portico.enable_share(&owner(), &w.org, &w.wo, &EnableShare::default()))
        .unwrap();
    assert_eq!(late.0.lock().unwrap().len(), 2);
    assert_eq!(early.0.lock().unwrap().len(), 2);
}

#[test]
fn s5_v7_every_change_a_page_could_show_is_published_after_commit() {
    let w = World::new();
    let recorder = Arc::new(Recorder::default());
    let portico = w.portico.clone().with_changes(recorder.clone());
    let seen = || std::mem::take(&mut *recorder.0.lock().unwrap());

    let share = w
        .block_on(portico.enable_share(&owner(), &w.org, &w.wo, &EnableShare::default()))
        .unwrap();
    assert_eq!(
        seen(),
        vec![Change {
            org: w.org.clone(),
            record: Some(w.wo.clone())
        }]
    );

    let mut wo = w.work_order();
    wo.status = portico_core::model::WorkStatus::InProgress;
    w.block_on(portico.upsert_record(&owner(), &portico_core::model::Record::WorkOrder(wo)))
        .unwrap();
    assert_eq!(seen().len(), 1);

    w.block_on(portico.revoke_share(&owner(), &w.org, share.id))
        .unwrap();
    assert_eq!(seen()[0].record, Some(w.wo.clone()));

    let mut org = fixtures::org("org1");
    org.settings.client_sharing = false;
    w.block_on(portico.put_org(&org)).unwrap();
    assert_eq!(
        seen(),
        vec![Change {
            org: w.org.clone(),
            record: None
        }]
    );

    // A refused change publishes nothing.
    let refused = w.block_on(portico.enable_share(
        &crate::support::staff_id(Role::Technician),
        &w.org,
        &w.wo,
        &EnableShare::default(),
    ));
    assert!(refused.is_err());
    assert!(seen().is_empty());

    // S11: viewing does not record an opening; opening does.
    let w = World::new();
    let share = w.enable(&w.quote);
    let link = share.link.unwrap();
    let token = link.rsplit('/').next().unwrap();
    let first_opened = || {
        w.block_on(w.portico.get_share(&w.org, share.id))
            .unwrap()
            .first_opened_at
    };
    assert!(matches!(
        w.block_on(w.portico.view_link(token)).unwrap(),
        Opened::View { .. }
    ));
    assert_eq!(first_opened(), None, "viewing records nothing");
    w.block_on(w.portico.open_link(token)).unwrap();
    assert!(first_opened().is_some(), "opening is recorded");
}

/// S5, S10: a revoked link costs what an unknown one costs — one look-up by hash, no unit of
/// work, no org read — so the cost of a failure does not tell that a link once existed.
#[test]
fn s5_s10_a_revoked_link_fails_with_the_work_of_an_unknown_one() {
    let w = World::new();
    let share = w.enable(&w.wo);
    let link = share.link.clone().unwrap();
    w.block_on(w.portico.revoke_share(&owner(), &w.org, share.id))
        .unwrap();
    let fresh = w.enable(&w.wo).link.unwrap();
    let counting = Arc::new(portico_core::testing::CountingStore::new(w.store.clone()));
    let portico = portico_core::Portico::new(
        portico_core::Ports {
            store: counting.clone(),
            clock: w.clock.clone(),
            random: Arc::new(portico_core::testing::SeededRandomness::new(1)),
            blobs: w.blobs.clone(),
            links: Arc::new(portico_core::testing::BaseLinks(
                "https://share.example".into(),
            )),
        },
        portico_core::token::TokenKeys::new(portico_core::token::KeyId(1), crate::support::SECRET)
            .unwrap(),
        portico_core::ServiceConfig::default(),
    );
    let units = |raw: &str| {
        let before = counting.units();
        let opened = w.block_on(portico.view_link(raw)).unwrap();
        (
            counting.units() - before,
            matches!(opened, Opened::NotFound),
        )
    };
    let unknown = "A".repeat(token(&link).len());
    assert_eq!(units(token(&link)), (0, true), "revoked");
    assert_eq!(units(&unknown), (0, true), "unknown");
    let (opened_units, not_found) = units(token(&fresh));
    assert!(opened_units >= 1 && !not_found, "a valid link opens");
}

//! Use-case scenarios that properties do not cover well: quote decisions (V5), host data
//! validation, key rotation and forged rows (S3), opening times (S11), photo defaults (V3).

use std::sync::Arc;

use rust_decimal::Decimal;
use time::Duration;

use portico_core::model::{
    Actor, AuditAction, DecisionKind, NotificationKind, Record, Role, Task, Topic,
};
use portico_core::policy::permissions::ActorDenied;
use portico_core::policy::quote::{ClientDecision, DecisionDenied};
use portico_core::ports::Store;
use portico_core::service::{
    ClientError, EnableShare, HostEvent, NewFile, Opened, RecordError, ShareError,
};
use portico_core::testing::fixtures::{self, T0};
use portico_core::testing::{MemoryBlobs, SeededRandomness};
use portico_core::token::{KeyId, Nonce, ShareToken, TokenKeys};
use portico_core::view::ViewBody;
use portico_core::{Portico, Ports, ServiceConfig};

use crate::support::{Answer, SECRET, World, answer, owner, staff_id, token};

#[test]
fn v5_a_decision_locks_the_quote_notifies_the_business_and_is_audited() {
    let w = World::new();
    let link = w.enable(&w.quote).link.unwrap();
    let view = w
        .block_on(
            w.portico
                .decide_quote(token(&link), &ClientDecision::Approve),
        )
        .unwrap();
    let ViewBody::Quote(q) = view.body else {
        panic!("quote")
    };
    assert_eq!(q.decision.unwrap().kind, DecisionKind::Approved);
    assert!(!q.can_decide);
    assert_eq!(view.status, "approved");

    let again = w.block_on(
        w.portico
            .decide_quote(token(&link), &ClientDecision::Decline { message: None }),
    );
    assert!(
        matches!(
            again,
            Err(ClientError::Decision(DecisionDenied::AlreadyDecided(
                DecisionKind::Approved
            )))
        ),
        "{again:?}"
    );

    let business: Vec<_> = w
        .outbox()
        .into_iter()
        .filter(|n| n.kind.topic() == Topic::QuoteDecided)
        .collect();
    assert_eq!(business.len(), 1);
    assert_eq!(business[0].to.as_str(), "office@brightspark.example");
    let log = w.block_on(w.portico.audit_log(&w.org, &w.quote)).unwrap();
    let last = log.last().unwrap();
    assert_eq!(
        (last.actor.clone(), last.action.clone()),
        (
            Actor::Client,
            AuditAction::QuoteDecided {
                decision: DecisionKind::Approved
            }
        )
    );

    // The host can no longer change an approved quote's content.
    let mut quote = fixtures::quote(&w.org, "q1", Some(&w.client));
    quote.items[0].unit_price = Decimal::new(1, 0);
    let locked = w.block_on(
        w.portico
            .upsert_record(&owner(), &Record::Quote(quote.clone())),
    );
    assert!(
        matches!(locked, Err(RecordError::Locked(DecisionKind::Approved))),
        "{locked:?}"
    );
    // An unchanged upsert keeps the decision.
    let same = fixtures::quote(&w.org, "q1", Some(&w.client));
    w.block_on(w.portico.upsert_record(&owner(), &Record::Quote(same)))
        .unwrap();
    let Opened::View { view, .. } = w.open(&link) else {
        panic!("opens")
    };
    assert_eq!(view.status, "approved");
}

#[test]
fn v5_changes_requested_then_a_revision_reopens_the_decision() {
    let w = World::new();
    let link = w.enable(&w.quote).link.unwrap();
    let empty = w.block_on(w.portico.decide_quote(
        token(&link),
        &ClientDecision::RequestChanges {
            message: "  ".into(),
        },
    ));
    assert!(matches!(
        empty,
        Err(ClientError::Decision(DecisionDenied::MessageRequired))
    ));
    let long = "x".repeat(5000);
    let too_long = w.block_on(w.portico.decide_quote(
        token(&link),
        &ClientDecision::RequestChanges { message: long },
    ));
    assert!(matches!(
        too_long,
        Err(ClientError::Decision(DecisionDenied::MessageTooLong))
    ));
    w.block_on(w.portico.decide_quote(
        token(&link),
        &ClientDecision::RequestChanges {
            message: "White sockets please".into(),
        },
    ))
    .unwrap();
    let mut revised = fixtures::quote(&w.org, "q1", Some(&w.client));
    revised.items[1].description = "White socket".into();
    w.block_on(w.portico.upsert_record(&owner(), &Record::Quote(revised)))
        .unwrap();
    let Opened::View { view, .. } = w.open(&link) else {
        panic!("opens")
    };
    let ViewBody::Quote(q) = view.body else {
        panic!("quote")
    };
    assert!(
        q.decision.is_none() && q.can_decide,
        "a revision can be decided again"
    );
    let declined = w
        .block_on(w.portico.decide_quote(
            token(&link),
            &ClientDecision::Decline {
                message: Some("Too dear".into()),
            },
        ))
        .unwrap();
    assert_eq!(declined.status, "declined");
}

#[test]
fn v5_expired_quotes_and_dead_links_cannot_be_decided() {
    let w = World::new();
    let link = w.enable(&w.quote).link.unwrap();
    w.clock.advance(Duration::days(60)); // past valid_until
    let late = w.block_on(
        w.portico
            .decide_quote(token(&link), &ClientDecision::Approve),
    );
    assert!(
        matches!(late, Err(ClientError::Decision(DecisionDenied::Expired(_)))),
        "{late:?}"
    );
    let wo_link = w.enable(&w.wo).link.unwrap();
    let not_quote = w.block_on(
        w.portico
            .decide_quote(token(&wo_link), &ClientDecision::Approve),
    );
    assert!(matches!(not_quote, Err(ClientError::NotAQuote)));
    let unknown = w.block_on(w.portico.decide_quote("nope", &ClientDecision::Approve));
    assert!(matches!(unknown, Err(ClientError::LinkInactive)));
}

/// V9: a quote valid until April 1st can be decided through all of April 1st on the org's
/// clock, and not a minute after, whatever the date is in UTC.
#[test]
fn v5_v9_a_quotes_last_day_is_the_orgs_date() {
    for (zone, now, decidable) in [
        // 22:00 on April 1st in Los Angeles (already the 2nd in UTC): still the last day.
        (
            "America/Los_Angeles",
            time::macros::datetime!(2026-04-02 05:00 UTC),
            true,
        ),
        // 00:30 on April 2nd in Sydney (still the 1st in UTC): too late.
        (
            "Australia/Sydney",
            time::macros::datetime!(2026-04-01 13:30 UTC),
            false,
        ),
        // The last minute of April 1st in UTC.
        ("UTC", time::macros::datetime!(2026-04-01 23:59 UTC), true),
    ] {
        let w = World::new();
        let mut org = fixtures::org("org1");
        org.settings.time_zone = zone.into();
        w.block_on(w.portico.put_org(&org)).unwrap();
        let link = w.enable(&w.quote).link.unwrap();
        w.clock.set(now);
        let answer = w.block_on(
            w.portico
                .decide_quote(token(&link), &ClientDecision::Approve),
        );
        if decidable {
            assert!(answer.is_ok(), "{zone}: {answer:?}");
        } else {
            assert!(
                matches!(
                    answer,
                    Err(ClientError::Decision(DecisionDenied::Expired(_)))
                ),
                "{zone}: {answer:?}"
            );
        }
    }
}

#[test]
fn s3_a_row_forged_in_the_database_does_not_open() {
    let w = World::new();
    // Someone with write access to the database plants a share whose hash matches a token of
    // their choosing; without the server key the token does not derive from the row's nonce.
    let chosen = ShareToken::parse(&"A".repeat(43)).unwrap();
    let real = w.enable(&w.wo);
    w.block_on(w.portico.revoke_share(&owner(), &w.org, real.id))
        .unwrap();
    w.block_on(async {
        let mut tx = w.store.begin().await.unwrap();
        let mut share = tx.share(real.id).await.unwrap().unwrap().value;
        share.id = portico_core::model::ShareId(uuid::Uuid::from_bytes([7; 16]));
        share.state = portico_core::model::ShareState::Active;
        share.token_hash = chosen.hash();
        share.nonce = Nonce([1; 32]);
        tx.insert_share(&share).await.unwrap();
        tx.commit().await.unwrap();
    });
    assert_eq!(w.open(chosen.expose()), Opened::NotFound);
}

#[test]
fn s3_rotating_the_key_keeps_old_links_and_mints_new_ones_under_the_new_key() {
    let w = World::new();
    let old = w.enable(&w.wo).link.unwrap();
    let rotated = TokenKeys::new(KeyId(2), b"another-secret-of-at-least-32-bytes!!")
        .unwrap()
        .with_previous(KeyId(1), SECRET)
        .unwrap();
    let ports = Ports {
        store: Arc::new(w.store.clone()),
        clock: w.clock.clone(),
        random: Arc::new(SeededRandomness::new(99)),
        blobs: Arc::new(MemoryBlobs::default()),
        links: Arc::new(portico_core::testing::BaseLinks(
            "https://share.example".into(),
        )),
    };
    let portico = Portico::new(ports.clone(), rotated, ServiceConfig::default());
    assert!(matches!(
        w.block_on(portico.open_link(token(&old))).unwrap(),
        Opened::View { .. }
    ));
    let fresh = w
        .block_on(portico.enable_share(&owner(), &w.org, &w.quote, &EnableShare::default()))
        .unwrap()
        .link
        .unwrap();
    assert_ne!(fresh, old);
    // Without the old key, the old link no longer opens; the new one does.
    let only_new = TokenKeys::new(KeyId(2), b"another-secret-of-at-least-32-bytes!!").unwrap();
    let portico = Portico::new(ports, only_new, ServiceConfig::default());
    assert_eq!(
        w.block_on(portico.open_link(token(&old))).unwrap(),
        Opened::NotFound
    );
    assert!(matches!(
        w.block_on(portico.open_link(token(&fresh))).unwrap(),
        Opened::View { .. }
    ));
    assert!(
        TokenKeys::new(KeyId(3), b"short").is_err(),
        "short keys are refused"
    );
}

#[test]
fn s11_opening_records_first_and_last_time_and_mails_nobody() {
    let w = World::new();
    let share = w.enable(&w.wo);
    let link = share.link.clone().unwrap();
    let before = w.outbox().len();
    w.open(&link);
    w.clock.advance(Duration::hours(3));
    w.open(&link);
    let info = w.block_on(w.portico.get_share(&w.org, share.id)).unwrap();
    assert_eq!(info.first_opened_at, Some(T0));
    assert_eq!(info.last_opened_at, Some(T0 + Duration::hours(3)));
    assert_eq!(w.outbox().len(), before);
}

#[test]
fn v3_new_photos_follow_the_org_default_unless_told() {
    let w = World::new();
    w.put_org(|o| o.settings.photos_shared_by_default = true);
    let file = |id: &str, shared| NewFile {
        id: fixtures::file_id(id),
        name: format!("{id}.jpg"),
        content_type: "image/jpeg".into(),
        caption: None,
        shared,
        taken_at: None,
        stage: None,
    };
    for (id, shared) in [("p1", None), ("p2", Some(false))] {
        w.block_on(w.portico.apply_event(
            &owner(),
            &w.org,
            &w.wo.id,
            &HostEvent::FileAdded {
                file: file(id, shared),
            },
        ))
        .unwrap();
    }
    let wo = w.work_order();
    let flag = |id: &str| {
        wo.files
            .iter()
            .find(|f| f.id.as_str() == id)
            .unwrap()
            .shared
    };
    assert!(flag("p1") && !flag("p2"));
    // A technician's photo under the org's sharing default shows: the owner chose so (S1, V3).
    w.block_on(w.portico.apply_event(
        &staff_id(Role::Technician),
        &w.org,
        &w.wo.id,
        &HostEvent::FileAdded {
            file: file("p3", None),
        },
    ))
    .unwrap();
    assert!(
        w.work_order()
            .files
            .iter()
            .any(|f| f.id.as_str() == "p3" && f.shared)
    );
    w.block_on(w.portico.apply_event(
        &owner(),
        &w.org,
        &w.wo.id,
        &HostEvent::FileRemoved {
            file: fixtures::file_id("p1"),
        },
    ))
    .unwrap();
    assert!(w.work_order().files.iter().all(|f| f.id.as_str() != "p1"));
}

#[test]
fn i2_hostile_host_data_gets_clear_errors_and_changes_nothing() {
    let w = World::new();
    let before = w.work_order();
    let mut dup = before.clone();
    dup.tasks.push(Task {
        id: fixtures::task_id("t1"),
        title: "again".into(),
        done: false,
        internal: false,
    });
    assert!(
        matches!(w.upsert_wo(&owner(), dup), Err(RecordError::Invalid(m)) if m.message.contains("repeated"))
    );
    let mut huge = before.clone();
    huge.description = "x".repeat(30_000);
    assert!(matches!(
        w.upsert_wo(&owner(), huge),
        Err(RecordError::Invalid(_))
    ));
    let mut negative = fixtures::invoice(&w.org, "inv1", Some(&w.client), None);
    negative.amount_paid = Decimal::new(-5, 0);
    assert!(matches!(
        w.block_on(
            w.portico
                .upsert_record(&owner(), &Record::Invoice(negative))
        ),
        Err(RecordError::Invalid(_))
    ));
    let mut other_org = before.clone();
    other_org.org_id = "org-elsewhere".to_owned().try_into().unwrap();
    assert!(matches!(
        w.upsert_wo(&owner(), other_org),
        Err(RecordError::UnknownOrg)
    ));
    let unknown_actor = w.upsert_wo(&"ghost".to_owned().try_into().unwrap(), before.clone());
    assert!(matches!(
        unknown_actor,
        Err(RecordError::Actor(ActorDenied::Unknown))
    ));
    let mut inactive = fixtures::staff(&w.org, "gone", Role::Owner);
    inactive.active = false;
    w.block_on(w.portico.put_staff(&inactive)).unwrap();
    assert!(matches!(
        w.upsert_wo(&inactive.id, before.clone()),
        Err(RecordError::Actor(ActorDenied::Inactive))
    ));
    let missing = w.block_on(w.portico.apply_event(
        &owner(),
        &w.org,
        &"nope".to_owned().try_into().unwrap(),
        &HostEvent::PaymentRecorded { paid: true },
    ));
    assert!(matches!(missing, Err(RecordError::NotFound)));
    assert_eq!(w.work_order(), before, "nothing stored changed");
    let mut bad_org = fixtures::org("org1");
    bad_org.settings.link_expiry_days = 0;
    assert!(matches!(
        w.block_on(w.portico.put_org(&bad_org)),
        Err(RecordError::Invalid(_))
    ));
}

#[test]
fn s5_share_actions_on_other_orgs_or_unknown_ids_are_not_found() {
    let w = World::new();
    let share = w.enable(&w.wo);
    let other = fixtures::org("org2");
    w.block_on(w.portico.put_org(&other)).unwrap();
    w.block_on(
        w.portico
            .put_staff(&fixtures::staff(&other.id, "owner", Role::Owner)),
    )
    .unwrap();
    let got = w.block_on(w.portico.revoke_share(&owner(), &other.id, share.id));
    assert!(matches!(got, Err(ShareError::ShareNotFound)), "{got:?}");
    let missing = w.block_on(w.portico.enable_share(
        &owner(),
        &w.org,
        &portico_core::model::RecordRef {
            kind: portico_core::model::RecordKind::Quote,
            id: "zzz".to_owned().try_into().unwrap(),
        },
        &EnableShare::default(),
    ));
    assert!(matches!(missing, Err(ShareError::RecordNotFound)));
    assert_eq!(answer(&w.open(share.link.as_ref().unwrap())), Answer::View);
}

#[test]
fn s7_an_expired_link_shows_the_companys_contact_and_closing_mails_one_status() {
    let w = World::new();
    let link = w.enable(&w.wo).link.unwrap();
    w.block_on(w.portico.apply_event(
        &owner(),
        &w.org,
        &w.wo.id,
        &HostEvent::StatusChanged {
            status: portico_core::model::WorkStatus::Completed,
        },
    ))
    .unwrap();
    w.block_on(w.portico.apply_event(
        &owner(),
        &w.org,
        &w.wo.id,
        &HostEvent::PaymentRecorded { paid: true },
    ))
    .unwrap();
    w.clock.advance(Duration::days(30));
    let Opened::Expired(company) = w.open(&link) else {
        panic!("expired")
    };
    assert_eq!(company.phone.as_deref(), Some("+1 555 0100"));
    assert_eq!(
        company.email.unwrap().as_str(),
        "office@brightspark.example"
    );
    let statuses = w
        .outbox()
        .iter()
        .filter(|n| matches!(n.kind, NotificationKind::StatusChanged { .. }))
        .count();
    assert_eq!(statuses, 1);
}

#[test]
fn i1_api_keys_authenticate_their_org_until_revoked() {
    let w = World::new();
    let (id, key) = w
        .block_on(w.portico.create_api_key(&w.org, "host app"))
        .unwrap();
    assert!(key.expose().starts_with("pk_") && key.expose().len() == 46);
    assert!(
        !format!("{key:?}").contains(key.expose()),
        "Debug never prints a key"
    );
    let found = w.block_on(w.portico.authenticate(key.expose())).unwrap();
    assert_eq!(found, Some(w.org.clone()));
    for wrong in [
        "",
        "pk_",
        "Bearer x",
        &key.expose()[..45],
        &key.expose().replace("pk_", "sk_"),
    ] {
        assert_eq!(
            w.block_on(w.portico.authenticate(wrong)).unwrap(),
            None,
            "{wrong:?}"
        );
    }
    let nowhere = "org-nowhere".to_owned().try_into().unwrap();
    let unknown = w.block_on(w.portico.create_api_key(&nowhere, "x"));
    assert!(
        matches!(unknown, Err(RecordError::UnknownOrg)),
        "{unknown:?}"
    );
    w.block_on(w.portico.revoke_api_key(&w.org, id)).unwrap();
    assert_eq!(
        w.block_on(w.portico.authenticate(key.expose())).unwrap(),
        None
    );
}

#[test]
fn i1_a_key_the_caller_made_is_added_once_and_then_found() {
    let w = World::new();
    let key = portico_core::token::ApiKey::from_random([42; 32]);
    let first = w
        .block_on(w.portico.ensure_api_key(&w.org, "demo", &key))
        .unwrap();
    let again = w
        .block_on(w.portico.ensure_api_key(&w.org, "demo", &key))
        .unwrap();
    assert_eq!(first, again, "the same key keeps its id");
    let found = w.block_on(w.portico.authenticate(key.expose())).unwrap();
    assert_eq!(found, Some(w.org.clone()));
    let listed = w.block_on(w.store.api_keys_of_org(&w.org)).unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    let other: portico_core::model::OrgId = "org-2".to_owned().try_into().unwrap();
    w.block_on(w.portico.put_org(&fixtures::org("org-2")))
        .unwrap();
    let taken = w.block_on(w.portico.ensure_api_key(&other, "demo", &key));
    assert!(matches!(taken, Err(RecordError::Conflict(_))), "{taken:?}");
    w.block_on(w.portico.revoke_api_key(&w.org, first)).unwrap();
    let revoked = w.block_on(w.portico.ensure_api_key(&w.org, "demo", &key));
    assert!(
        matches!(revoked, Err(RecordError::Conflict(_))),
        "{revoked:?}"
    );
    let nowhere = "org-nowhere".to_owned().try_into().unwrap();
    let unknown = w.block_on(w.portico.ensure_api_key(&nowhere, "demo", &key));
    assert!(
        matches!(unknown, Err(RecordError::UnknownOrg)),
        "{unknown:?}"
    );
}

#[test]
fn i1_the_orgs_own_keys_are_listed_and_revoked_by_org_managers_only() {
    let w = World::new();
    let (id, key) = w
        .block_on(w.portico.create_api_key(&w.org, "host app"))
        .unwrap();
    let listed = w.block_on(w.portico.api_keys(&w.org)).unwrap();
    assert_eq!(listed.iter().map(|k| k.id).collect::<Vec<_>>(), vec![id]);
    for role in [Role::Supervisor, Role::Technician, Role::Apprentice] {
        let refused = w.block_on(w.portico.revoke_own_api_key(&staff_id(role), &w.org, id));
        assert!(
            matches!(refused, Err(RecordError::NotOrgManager { role: r }) if r == role),
            "{role:?}: {refused:?}"
        );
    }
    let still = w.block_on(w.portico.authenticate(key.expose())).unwrap();
    assert_eq!(
        still,
        Some(w.org.clone()),
        "a refused revoke changes nothing"
    );
    let unknown = uuid::Uuid::from_u128(1);
    let revoked = w.block_on(w.portico.revoke_own_api_key(&owner(), &w.org, unknown));
    assert!(matches!(revoked, Ok(false)), "an unknown key: {revoked:?}");
    let revoked = w.block_on(
        w.portico
            .revoke_own_api_key(&staff_id(Role::Admin), &w.org, id),
    );
    assert!(matches!(revoked, Ok(true)), "{revoked:?}");
    let gone = w.block_on(w.portico.authenticate(key.expose())).unwrap();
    assert_eq!(gone, None);
}

#[test]
fn v5_the_host_reads_the_clients_decision_once_made() {
    let w = World::new();
    let quote_id = w.quote.id.clone();
    let undecided = w
        .block_on(w.portico.quote_decision(&w.org, &quote_id))
        .unwrap();
    assert_eq!(undecided, None);
    let link = w.enable(&w.quote).link.unwrap();
    let message = "Cheaper sockets".to_owned();
    w.block_on(w.portico.decide_quote(
        token(&link),
        &ClientDecision::RequestChanges {
            message: message.clone(),
        },
    ))
    .unwrap();
    let decided = w
        .block_on(w.portico.quote_decision(&w.org, &quote_id))
        .unwrap();
    let decided = decided.expect("decided");
    assert_eq!(
        (decided.kind, decided.message),
        (DecisionKind::ChangesRequested, Some(message))
    );
    let not_a_quote = w.block_on(w.portico.quote_decision(&w.org, &w.wo.id));
    assert!(
        matches!(not_a_quote, Err(RecordError::NotFound)),
        "{not_a_quote:?}"
    );
}

#[test]
fn s4_s6_enabling_again_changes_only_what_it_says() {
    let w = World::new();
    let first = w.enable(&w.wo);
    let enable = |request: &EnableShare| {
        w.block_on(w.portico.enable_share(&owner(), &w.org, &w.wo, request))
            .unwrap()
    };
    let audit = || {
        w.block_on(w.portico.audit_log(&w.org, &w.wo))
            .unwrap()
            .len()
    };
    let entries = audit();
    let again = enable(&EnableShare::default());
    assert_eq!(again, first, "nothing said: the same share, unchanged (S4)");
    assert_eq!(audit(), entries, "and nothing audited");
    let hidden =
        portico_core::model::Sections::ALL.with(portico_core::model::Section::Updates, false);
    let sections_only = enable(&EnableShare {
        recipient: None,
        sections: Some(hidden),
    });
    assert_eq!(
        (
            sections_only.link.as_ref(),
            sections_only.sections,
            &sections_only.recipient
        ),
        (first.link.as_ref(), hidden, &first.recipient),
        "sections said: only they change, on the same link (S6)"
    );
    let recipient_only = enable(&EnableShare {
        recipient: Some("pat@client.example".into()),
        sections: None,
    });
    assert_eq!(
        (recipient_only.recipient.as_str(), recipient_only.sections),
        ("pat@client.example", hidden),
        "recipient said: only it changes"
    );
    assert_eq!(audit(), entries + 2, "each change audited once");
}

#[test]
fn o5_the_defaults_are_the_documented_ones() {
    // The README's configuration table promises these.
    let service = ServiceConfig::default();
    assert_eq!(service.max_file_bytes, 26_214_400);
    assert_eq!(service.burst_window, Duration::seconds(120));
    let dispatch = portico_core::service::DispatchConfig::default();
    assert_eq!(
        (
            dispatch.first_backoff,
            dispatch.max_backoff,
            dispatch.give_up_after,
            dispatch.lease,
        ),
        (
            Duration::seconds(30),
            Duration::hours(1),
            Duration::hours(72),
            Duration::seconds(300),
        )
    );
}

fn refused<T: std::fmt::Debug>(result: Result<T, RecordError>, field: &str) {
    match result {
        Err(RecordError::Invalid(m)) => assert!(
            m.field.contains(field) && m.message.contains(field),
            "{m} names {field} ({})",
            m.field
        ),
        other => panic!("expected Invalid naming {field}, got {other:?}"),
    }
}

/// I6: a NUL anywhere in host text, or an amount beyond what the store keeps, is refused with
/// the field named; nothing stored changes.
#[test]
fn i6_nul_characters_and_out_of_range_amounts_are_refused_naming_the_field() {
    let w = World::new();
    let before = w.work_order();
    let mut wo = before.clone();
    wo.tasks[0].title = "Isolate\0circuit".into();
    refused(w.upsert_wo(&owner(), wo), "task title");
    let mut wo = before.clone();
    wo.internal_notes = "\0".into();
    refused(w.upsert_wo(&owner(), wo), "internal_notes");
    let mut wo = before.clone();
    wo.costs[0].amount = Decimal::new(10_i64.pow(16), 0);
    refused(w.upsert_wo(&owner(), wo), "costs amount");
    let mut quote = fixtures::quote(&w.org, "q1", Some(&w.client));
    quote.items[0].unit_price = Decimal::new(10_i64.pow(13), 0);
    refused(
        w.block_on(w.portico.upsert_record(&owner(), &Record::Quote(quote))),
        "unit_price",
    );
    // Each within bounds, the total beyond the store's column.
    let mut quote = fixtures::quote(&w.org, "q1", Some(&w.client));
    quote.items[0].unit_price = Decimal::new(10_i64.pow(12), 0);
    quote.items[0].quantity = Decimal::new(10_000, 0);
    refused(
        w.block_on(w.portico.upsert_record(&owner(), &Record::Quote(quote))),
        "total",
    );
    let mut client = fixtures::client(&w.org, "c1");
    client.address = Some("12 Elm\0Street".into());
    refused(w.block_on(w.portico.put_client(&client)), "client address");
    let mut staff = fixtures::staff(&w.org, "owner", Role::Owner);
    staff.name = "Ow\0ner".into();
    refused(w.block_on(w.portico.put_staff(&staff)), "staff name");
    let mut org = fixtures::org("org1");
    org.name = "Bright\0Spark".into();
    refused(w.block_on(w.portico.put_org(&org)), "org name");
    assert_eq!(w.work_order(), before, "nothing stored changed");
}

/// V3: an upsert that does not say whether a file is shared keeps the flag the file has; the
/// org's default decides for new files only.
#[test]
fn v3_an_upsert_without_share_flags_keeps_existing_files_private() {
    let w = World::new();
    w.put_org(|o| o.settings.photos_shared_by_default = true);
    let mut wo = w.work_order();
    assert!(!wo.files[1].shared, "f2 is private");
    let mut added = wo.files[1].clone();
    added.id = fixtures::file_id("f-new");
    wo.files.push(added);
    let unsaid = wo.files.iter().map(|f| f.id.clone()).collect();
    let upsert = portico_core::service::Upsert {
        record: Record::WorkOrder(wo),
        files_without_share_flag: unsaid,
    };
    w.block_on(w.portico.upsert(&owner(), &upsert)).unwrap();
    let flags: Vec<(String, bool)> = w
        .work_order()
        .files
        .iter()
        .map(|f| (f.id.to_string(), f.shared))
        .collect();
    assert_eq!(
        flags,
        vec![
            ("f1".into(), true),
            ("f2".into(), false),
            ("f-new".into(), true)
        ]
    );
}

/// A record moved to another client ends its share: the old recipient's link stops, staff are
/// told in the answer, the audit log says why, and nothing of the new client reaches the link.
#[test]
fn v4_a_record_moved_to_another_client_ends_its_share() {
    let w = World::new();
    let share = w.enable(&w.wo);
    let link = share.link.clone().unwrap();
    assert_eq!(answer(&w.open(&link)), Answer::View);
    let other = fixtures::client(&w.org, "c2");
    w.block_on(w.portico.put_client(&other)).unwrap();
    let mut wo = w.work_order();
    wo.client_id = Some(other.id.clone());
    let change = w.upsert_wo(&owner(), wo).unwrap();
    assert_eq!(change.ended_shares, vec![share.id]);
    assert_eq!(answer(&w.open(&link)), Answer::NotFound);
    let log = w.block_on(w.portico.audit_log(&w.org, &w.wo)).unwrap();
    assert_eq!(
        log.last().unwrap().action,
        portico_core::model::AuditAction::ShareEndedClientChanged
    );
    // Sharing again sends the new client a fresh link; the old one stays dead.
    let again = w.enable(&w.wo);
    assert_ne!(again.link, share.link);
    assert_eq!(answer(&w.open(&link)), Answer::NotFound);
    // A write that keeps the client keeps the share.
    let same = w.upsert_wo(&owner(), w.work_order()).unwrap();
    assert!(same.ended_shares.is_empty());
}

/// S1: a technician may post internal updates and add photos, but not change what the client
/// already sees: editing, hiding or removing a shared update or photo is refused.
#[test]
fn s1_a_technician_cannot_change_what_the_client_already_sees() {
    let w = World::new();
    let tech = staff_id(Role::Technician);
    let before = w.work_order();
    let refused = |wo: portico_core::model::WorkOrder, what: &str| {
        let result = w.upsert_wo(&tech, wo);
        assert!(
            matches!(
                result,
                Err(RecordError::Actor(ActorDenied::NotPermitted {
                    role: Role::Technician
                }))
            ),
            "{what}: {result:?}"
        );
    };
    // u1 and f1 are shared in the fixture.
    let mut edited = before.clone();
    edited.updates[0].body = "Arriving at noon instead.".into();
    refused(edited, "edit a shared update");
    let mut hidden = before.clone();
    hidden.updates[0].shared = false;
    refused(hidden, "hide a shared update");
    let mut removed = before.clone();
    removed.files.retain(|f| f.id.as_str() != "f1");
    refused(removed, "remove a shared photo");
    let mut recaptioned = before.clone();
    recaptioned.files[0].caption = Some("Something else".into());
    refused(recaptioned, "re-caption a shared photo");
    let mut event = before.updates[0].clone();
    event.body = "Rewritten".into();
    let id = w.wo.id.clone();
    assert!(matches!(
        w.block_on(w.portico.apply_event(
            &tech,
            &w.org,
            &id,
            &HostEvent::UpdatePosted { update: event }
        )),
        Err(RecordError::Actor(ActorDenied::NotPermitted { .. }))
    ));
    assert_eq!(w.work_order(), before, "nothing changed");
    // What stays internal is theirs to write.
    let mut internal = before.clone();
    internal.updates[1].body = "Dog is friendly after all.".into();
    internal.tasks[0].done = true;
    w.upsert_wo(&tech, internal).unwrap();
    let mut edited = w.work_order();
    edited.updates[0].body = "Arriving at noon instead.".into();
    w.upsert_wo(&owner(), edited).unwrap();
}

/// S7: a work order imported already completed and paid carries the host's times, and its
/// link's days count from the later of them, not from the import; one the host leaves out is
/// stamped when Portico sees it; a time in the future is refused naming the field.
#[test]
fn s7_the_hosts_completion_and_payment_times_start_the_clock() {
    let w = World::new();
    let mut wo = w.work_order();
    wo.status = portico_core::model::WorkStatus::Completed;
    wo.paid = true;
    wo.completed_at = Some(T0 - Duration::days(10));
    wo.paid_at = Some(T0 - Duration::days(4));
    let change = w.upsert_wo(&owner(), wo.clone()).unwrap();
    assert_eq!(change.expires_at, None, "not shared yet");
    let share = w.enable(&w.wo);
    assert_eq!(share.expires_at, Some(T0 + Duration::days(26)));
    let stored = w.work_order();
    assert_eq!(stored.completed_at, Some(T0 - Duration::days(10)));
    assert_eq!(stored.paid_at, Some(T0 - Duration::days(4)));

    // A later upsert that says nothing keeps them.
    w.clock.advance(Duration::days(1));
    let mut silent = wo.clone();
    silent.completed_at = None;
    silent.paid_at = None;
    let change = w.upsert_wo(&owner(), silent).unwrap();
    assert_eq!(change.expires_at, Some(T0 + Duration::days(26)));

    // Paid long ago: the link is already past its days, so sharing it again is refused.
    let mut old = wo.clone();
    old.paid_at = Some(T0 - Duration::days(40));
    old.completed_at = Some(T0 - Duration::days(45));
    let w2 = World::new();
    w2.upsert_wo(&owner(), old).unwrap();
    let refused =
        w2.block_on(
            w2.portico
                .enable_share(&owner(), &w2.org, &w2.wo, &EnableShare::default()),
        );
    assert!(
        matches!(refused, Err(ShareError::RecordExpired(at)) if at == T0 - Duration::days(10)),
        "{refused:?}"
    );

    // Left out: stamped now.
    let w3 = World::new();
    let mut unsaid = w3.work_order();
    unsaid.status = portico_core::model::WorkStatus::Completed;
    unsaid.paid = true;
    w3.upsert_wo(&owner(), unsaid.clone()).unwrap();
    assert_eq!(w3.work_order().completed_at, Some(T0));
    assert_eq!(w3.work_order().paid_at, Some(T0));

    // In the future: refused, naming the field; a few minutes of clock skew count as now.
    unsaid.paid_at = Some(T0 + Duration::hours(1));
    let err = w3.upsert_wo(&owner(), unsaid.clone()).unwrap_err();
    assert!(err.to_string().contains("paid_at"), "{err}");
    unsaid.paid_at = Some(T0 + Duration::minutes(2));
    w3.upsert_wo(&owner(), unsaid).unwrap();
    assert_eq!(w3.work_order().paid_at, Some(T0));
}

/// S7 (decision): a new link lifetime applies at once to every link whose expiry is still
/// ahead, and shows in the share's `expires_at` and `expires_on`; a link it puts in the past is
/// expired from then on, and one already expired stays so when the lifetime grows again.
#[test]
fn s7_a_new_link_lifetime_moves_every_expiry_still_ahead_at_once() {
    let w = World::new();
    let closed = |mut wo: portico_core::model::WorkOrder, at| {
        wo.status = portico_core::model::WorkStatus::Completed;
        wo.paid = true;
        wo.completed_at = Some(at);
        wo.paid_at = Some(at);
        wo
    };
    w.upsert_wo(&owner(), closed(w.work_order(), T0)).unwrap();
    let recent = w.enable(&w.wo);
    let mut older = closed(w.work_order(), T0 - Duration::days(20));
    older.id = portico_core::model::RecordId::new("wo-older").unwrap();
    w.upsert_wo(&owner(), older.clone()).unwrap();
    let older_ref = portico_core::model::RecordRef {
        kind: portico_core::model::RecordKind::WorkOrder,
        id: older.id.clone(),
    };
    let older_share = w.enable(&older_ref);
    assert_eq!(recent.expires_at, Some(T0 + Duration::days(30)));
    assert_eq!(older_share.expires_at, Some(T0 + Duration::days(10)));

    w.clock.advance(Duration::days(5));
    w.put_org(|o| o.settings.link_expiry_days = 10);
    let info = |id| w.block_on(w.portico.get_share(&w.org, id)).unwrap();
    assert_eq!(info(recent.id).expires_at, Some(T0 + Duration::days(10)));
    assert_eq!(
        info(older_share.id).expires_at,
        Some(T0 - Duration::days(10))
    );
    assert_eq!(
        answer(&w.open(older_share.link.as_ref().unwrap())),
        Answer::Expired
    );
    assert_eq!(answer(&w.open(recent.link.as_ref().unwrap())), Answer::View);

    // Longer again, through the owner's own change: the live link moves, the dead one stays.
    w.block_on(w.portico.change_org(&owner(), &w.org, |o| {
        o.settings.link_expiry_days = 60;
        o.settings.time_zone = "Pacific/Auckland".into();
        Ok(())
    }))
    .unwrap();
    let moved = info(recent.id);
    assert_eq!(moved.expires_at, Some(T0 + Duration::days(60)));
    // 09:00 UTC is 22:00 in Auckland (NZDT, +13) on the same date.
    assert_eq!(moved.expires_on, Some((T0 + Duration::days(60)).date()));
    assert_eq!(
        info(older_share.id).expires_at,
        Some(T0 - Duration::days(10))
    );
    assert_eq!(
        answer(&w.open(older_share.link.as_ref().unwrap())),
        Answer::Expired
    );
}

/// V9: the expiry date staff see is the org's date of the expiry moment, not UTC's.
#[test]
fn v9_the_expiry_date_staff_see_is_the_orgs_date() {
    let w = World::new();
    // 09:00 UTC + 30 days is 20:00 in Sydney (AEDT) on the same day, but 16:00 UTC is 03:00
    // the next day there.
    let mut wo = w.work_order();
    wo.status = portico_core::model::WorkStatus::Completed;
    wo.paid = true;
    wo.completed_at = Some(T0 + Duration::hours(7));
    wo.paid_at = Some(T0 + Duration::hours(7));
    w.clock.advance(Duration::hours(8));
    w.upsert_wo(&owner(), wo).unwrap();
    w.put_org(|o| o.settings.time_zone = "Australia/Sydney".into());
    let share = w.enable(&w.wo);
    let at = T0 + Duration::hours(7) + Duration::days(30);
    assert_eq!(share.expires_at, Some(at));
    assert_eq!(share.expires_on, Some(at.date().next_day().unwrap()));
}

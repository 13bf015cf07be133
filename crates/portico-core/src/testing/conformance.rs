//! The storage conformance suite: one check per contract of [`Store`], [`UnitOfWork`] and
//! [`Outbox`], run against the in-memory fake here and against every store adapter. Adapters run
//! it with [`store_conformance_tests!`](crate::store_conformance_tests), which makes one
//! `#[tokio::test]` per check from an expression that yields a fresh, empty store.

use time::Duration;

use super::fixtures::{self, T0};
use crate::model::{
    Actor, AuditAction, AuditEntry, AuditId, ClientId, DecisionKind, Delivery, Email, GrantEnd,
    GrantPurpose, Invoice, LinkReason, Notification, NotificationId, NotificationKind, OrgId,
    PortalAccount, PortalSession, Quote, QuoteDecision, Record, RecordRef, Role, Sections,
    SessionHash, Share, ShareId, ShareState, SignInGrant, Signature, StaffId, Topic, WorkOrder,
};
use crate::model::{
    Author, FeedEvent, FeedEventKind, Message, MessageId, RequestState, ServiceRequest,
    ServiceRequestId, Thread,
};
use crate::ports::{Blob, BlobKey, Blobs, Outbox, Store, StoreError};
use crate::token::{ApiKey, KeyId, Nonce, TokenHash};

/// Makes one `#[tokio::test]` per check. `$make` is an expression whose future yields
/// `Option<(store, guard)>`: a fresh, empty store and whatever must live as long as the test
/// (a temporary database, say); `None` skips the test (the maker says why).
///
/// `store_conformance_tests!(serialized_writers …)` leaves out the one check that needs two
/// writing units of work open at once, which a store that admits one writer at a time
/// cannot offer; it still runs the check of writers racing.
#[macro_export]
macro_rules! store_conformance_tests {
    ($make:expr) => {
        $crate::store_conformance_tests!(@each $make; interleaved_writers_conflict);
        $crate::store_conformance_tests!(serialized_writers $make);
    };
    (serialized_writers $make:expr) => {
        $crate::store_conformance_tests!(@each $make;
            org_staff_and_client_round_trip,
            records_read_back_with_every_optional_field_empty_or_set,
            record_versions_are_checked,
            files_in_use_are_those_something_points_at,
            dropped_unit_of_work_stores_nothing,
            racing_writers_never_lose_an_update,
            one_active_share_per_record_and_token_look_up,
            share_versions_and_opened_times,
            outbox_claims_lease_and_settle,
            outbox_stats_count_pending_dead_and_the_oldest_due,
            bursts_merge_only_while_unclaimed,
            audit_and_invoice_queries,
            record_page_is_what_a_unit_of_work_reads,
            api_keys_are_found_by_hash_until_revoked,
            concurrent_claims_are_disjoint,
            portal_accounts_and_clients_by_email,
            portal_grants_by_hash_and_by_client,
            portal_sessions_end_by_org_client_and_except,
            portal_mail_without_a_record_reads_back,
            record_summaries_are_those_of_the_records,
            messages_read_back_in_the_order_written,
            service_requests_filter_by_state_and_read_back,
            events_are_numbered_per_org_in_commit_order_without_gaps,
            agreements_and_appointments_read_back_per_client,
            signed_contract_versions_never_change,
            payments_and_provider_events_read_back_and_apply_once,
            webhook_deliveries_queue_claim_and_settle
        );
    };
    (@each $make:expr; $($check:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let Some((store, _guard)) = $make.await else { return };
                $crate::testing::conformance::$check(store).await;
            }
        )*
    };
}

fn org_id() -> OrgId {
    OrgId::new("org-conf").unwrap()
}

async fn seed<S: Store>(store: &S) -> (OrgId, Record) {
    let org = fixtures::org("org-conf");
    let client = fixtures::client(&org.id, "c1");
    let tech = fixtures::staff(&org.id, "tech", Role::Technician);
    let wo = fixtures::work_order(&org.id, "wo1", Some(&client.id), Some(&tech.id));
    let mut tx = store.begin().await.unwrap();
    tx.put_org(&org).await.unwrap();
    tx.put_staff(&tech).await.unwrap();
    tx.put_client(&client).await.unwrap();
    tx.put_record(&Record::WorkOrder(wo.clone()), None)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    (org.id, Record::WorkOrder(wo))
}

fn share_of(record: &RecordRef, n: u8) -> Share {
    Share {
        id: ShareId(uuid::Uuid::from_bytes([n; 16])),
        org_id: org_id(),
        record: record.clone(),
        recipient: Email::parse("jordan@client.example").unwrap(),
        sections: Sections::ALL.with(crate::model::Section::Updates, false),
        state: ShareState::Active,
        key_id: KeyId(1),
        nonce: Nonce([n; 32]),
        token_hash: TokenHash([n; 32]),
        expires_at: None,
        created_at: T0 + Duration::seconds(i64::from(n)),
        created_by: StaffId::new("owner").unwrap(),
        first_opened_at: None,
        last_opened_at: None,
    }
}

fn notification(
    n: u8,
    share: Option<ShareId>,
    kind: NotificationKind,
    due: time::OffsetDateTime,
) -> Notification {
    Notification {
        id: NotificationId(uuid::Uuid::from_bytes([n; 16])),
        org_id: org_id(),
        share_id: share,
        record: Some(RecordRef {
            kind: crate::model::RecordKind::WorkOrder,
            id: crate::model::RecordId::new("wo1").unwrap(),
        }),
        to: Email::parse("jordan@client.example").unwrap(),
        kind,
        created_at: T0,
        due_at: due,
        delivery: Delivery::Pending,
        attempts: 0,
        last_failure: None,
    }
}

/// A link email due at `T0`, numbered `n`.
fn link_mail(n: u8) -> Notification {
    let kind = NotificationKind::LinkShared {
        reason: LinkReason::Enabled,
    };
    notification(n, None, kind, T0)
}

fn client_email() -> Email {
    Email::parse("jordan@client.example").unwrap()
}

fn is_conflict<T: std::fmt::Debug>(r: &Result<T, StoreError>) -> bool {
    matches!(r, Err(StoreError::Conflict(_)))
}

/// Orgs, staff and clients read back as written; staff and clients need their org.
pub async fn org_staff_and_client_round_trip<S: Store>(store: S) {
    let (org, _) = seed(&store).await;
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.org(&org).await.unwrap(), Some(fixtures::org("org-conf")));
    let tech = fixtures::staff(&org, "tech", Role::Technician);
    assert_eq!(tx.staff(&org, &tech.id).await.unwrap(), Some(tech.clone()));
    let client = fixtures::client(&org, "c1");
    assert_eq!(tx.client(&org, &client.id).await.unwrap(), Some(client));
    let other = OrgId::new("org-other").unwrap();
    assert_eq!(
        tx.staff(&other, &tech.id).await.unwrap(),
        None,
        "staff are per org"
    );
    drop(tx);
    let orphan = fixtures::staff(&other, "x", Role::Owner);
    let mut tx = store.begin().await.unwrap();
    assert!(
        is_conflict(&tx.put_staff(&orphan).await),
        "staff need an existing org"
    );
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    let mut renamed = fixtures::org("org-conf");
    renamed.name = "Renamed Ltd".into();
    tx.put_org(&renamed).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.org(&org).await.unwrap().unwrap().name, "Renamed Ltd");
}

/// Every record kind reads back exactly as written, with its optional fields all empty, all
/// set, and each one empty on its own (a quote without `valid_until` once stored unreadable).
pub async fn records_read_back_with_every_optional_field_empty_or_set<S: Store>(store: S) {
    let (org, _) = seed(&store).await;
    let client = fixtures::client(&org, "c1");
    let tech = StaffId::new("tech").unwrap();
    let mut records = Vec::new();
    for (n, variant) in optional_field_variants(&org, &client.id, &tech)
        .into_iter()
        .enumerate()
    {
        let record = match variant {
            Record::WorkOrder(mut r) => {
                r.id = fixtures::record_id(&format!("wo-opt-{n}"));
                Record::WorkOrder(r)
            }
            Record::Quote(mut r) => {
                r.id = fixtures::record_id(&format!("q-opt-{n}"));
                Record::Quote(r)
            }
            Record::Invoice(mut r) => {
                r.id = fixtures::record_id(&format!("inv-opt-{n}"));
                Record::Invoice(r)
            }
        };
        records.push(record);
    }
    let mut tx = store.begin().await.unwrap();
    for record in &records {
        tx.put_record(record, None).await.unwrap();
    }
    tx.commit().await.unwrap();
    let mut tx = store.begin_read().await.unwrap();
    for record in &records {
        let stored = tx.record(&org, &record.reference()).await.unwrap();
        assert_eq!(
            stored.map(|s| s.value).as_ref(),
            Some(record),
            "{} reads back as written",
            record.reference()
        );
    }
}

/// The fixtures with every optional field set, then each emptied alone, then all emptied.
fn optional_field_variants(org: &OrgId, client: &ClientId, tech: &StaffId) -> Vec<Record> {
    type Clear<T> = fn(&mut T);
    let mut full_wo = fixtures::work_order(org, "wo", Some(client), Some(tech));
    full_wo.signature = Some(Signature {
        signed_by: "Ada".into(),
        signed_at: T0,
        image: Some(fixtures::file_id("sig")),
    });
    full_wo.completed_at = Some(T0);
    full_wo.paid_at = Some(T0 + Duration::hours(1));
    let wo_clears: [Clear<WorkOrder>; 14] = [
        |r| r.client_id = None,
        |r| r.schedule.start = None,
        |r| r.schedule.end = None,
        |r| r.schedule.technician = None,
        |r| r.signature = None,
        |r| {
            if let Some(s) = &mut r.signature {
                s.image = None;
            }
        },
        |r| r.completed_at = None,
        |r| r.paid_at = None,
        |r| r.files.iter_mut().for_each(|f| f.caption = None),
        |r| r.parts.iter_mut().for_each(|p| p.unit_cost = None),
        |r| r.updates.iter_mut().for_each(|u| u.author = None),
        |r| r.activity_log.iter_mut().for_each(|a| a.actor = None),
        |r| {
            r.tasks.clear();
            r.files.clear();
            r.parts.clear();
            r.updates.clear();
        },
        |r| {
            r.activity_log.clear();
            r.time_entries.clear();
            r.costs.clear();
            r.description.clear();
            r.internal_notes.clear();
        },
    ];
    let mut full_quote = fixtures::quote(org, "q", Some(client));
    full_quote.decision = Some(QuoteDecision {
        kind: DecisionKind::ChangesRequested,
        message: Some("Cheaper sockets?".into()),
        at: T0,
    });
    let quote_clears: [Clear<Quote>; 7] = [
        |r| r.client_id = None,
        |r| r.valid_until = None,
        |r| r.client_message = None,
        |r| r.decision = None,
        |r| {
            if let Some(d) = &mut r.decision {
                d.message = None;
            }
        },
        |r| r.items.iter_mut().for_each(|i| i.unit_cost = None),
        |r| {
            r.items.clear();
            r.taxes.clear();
        },
    ];
    let full_invoice =
        fixtures::invoice(org, "inv", Some(client), Some(&fixtures::record_id("wo")));
    let invoice_clears: [Clear<Invoice>; 5] = [
        |r| r.client_id = None,
        |r| r.work_order_id = None,
        |r| r.due_date = None,
        |r| r.items.iter_mut().for_each(|i| i.unit_cost = None),
        |r| {
            r.items.clear();
            r.taxes.clear();
        },
    ];
    let mut out = Vec::new();
    variants(&full_wo, &wo_clears, &mut out, Record::WorkOrder);
    variants(&full_quote, &quote_clears, &mut out, Record::Quote);
    variants(&full_invoice, &invoice_clears, &mut out, Record::Invoice);
    out
}

fn variants<T: Clone>(
    full: &T,
    clears: &[fn(&mut T)],
    out: &mut Vec<Record>,
    wrap: fn(T) -> Record,
) {
    out.push(wrap(full.clone()));
    let mut empty = full.clone();
    for clear in clears {
        let mut one = full.clone();
        clear(&mut one);
        out.push(wrap(one));
        clear(&mut empty);
    }
    out.push(wrap(empty));
}

/// `file_in_use`: a work order's attachment or signature image, the org's logo and a staff
/// photo are in use; a file no longer pointed at, or another org's, is not.
pub async fn files_in_use_are_those_something_points_at<S: Store>(store: S) {
    let (org, record) = seed(&store).await;
    let Record::WorkOrder(mut wo) = record else {
        unreachable!("seed writes a work order")
    };
    let file = |raw: &str| fixtures::file_id(raw);
    let in_use = |raw: &'static str| {
        let store = &store;
        let org = org.clone();
        async move {
            let mut tx = store.begin_read().await.unwrap();
            tx.file_in_use(&org, &fixtures::file_id(raw)).await.unwrap()
        }
    };
    assert!(in_use("f1").await && in_use("f2").await, "attachments");
    assert!(in_use("logo").await, "the org's logo");
    assert!(in_use("photo-tech").await, "a staff photo");
    assert!(!in_use("sig").await && !in_use("new-logo").await && !in_use("face").await);
    wo.files.retain(|f| f.id != file("f2"));
    wo.signature = Some(Signature {
        signed_by: "Ada".into(),
        signed_at: T0,
        image: Some(file("sig")),
    });
    let mut org_row = fixtures::org("org-conf");
    org_row.logo = Some(file("new-logo"));
    let mut tech = fixtures::staff(&org, "tech", Role::Technician);
    tech.photo = Some(file("face"));
    let mut tx = store.begin().await.unwrap();
    tx.put_record(&Record::WorkOrder(wo.clone()), Some(1))
        .await
        .unwrap();
    tx.put_org(&org_row).await.unwrap();
    tx.put_staff(&tech).await.unwrap();
    tx.commit().await.unwrap();
    assert!(!in_use("f2").await, "a file the work order dropped");
    assert!(
        in_use("f1").await && in_use("sig").await,
        "attachment and signature"
    );
    assert!(
        in_use("new-logo").await && in_use("face").await,
        "logo and staff photo"
    );
    assert!(
        !in_use("logo").await && !in_use("photo-tech").await,
        "a replaced logo and photo"
    );
    let other = OrgId::new("org-other").unwrap();
    {
        let mut tx = store.begin_read().await.unwrap();
        assert!(
            !tx.file_in_use(&other, &file("f1")).await.unwrap(),
            "per org"
        );
    }
    rewritten_as_read(&store, &org, &wo).await;
    assert!(
        in_use("f1").await && in_use("sig").await,
        "kept by a write that kept them"
    );
    let mut tx = store.begin().await.unwrap();
    let read = tx
        .record(&org, &Record::WorkOrder(wo.clone()).reference())
        .await;
    let version = read.unwrap().unwrap().version;
    wo.title = "Twice in one unit".into();
    let next = tx
        .put_record(&Record::WorkOrder(wo.clone()), Some(version))
        .await
        .unwrap();
    wo.files.clear();
    tx.put_record(&Record::WorkOrder(wo.clone()), Some(next))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(!in_use("f1").await, "dropped by the unit's second write");
    assert!(in_use("sig").await, "the signature stays");
}

/// Reads `wo` and writes it back with another title, its files unchanged, in one unit.
async fn rewritten_as_read<S: Store>(store: &S, org: &OrgId, wo: &WorkOrder) {
    let mut tx = store.begin().await.unwrap();
    let reference = Record::WorkOrder(wo.clone()).reference();
    let read = tx.record(org, &reference).await.unwrap().unwrap();
    let Record::WorkOrder(mut same) = read.value else {
        unreachable!("a work order reads back as one")
    };
    same.title = "Renamed, same files".into();
    tx.put_record(&Record::WorkOrder(same), Some(read.version))
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

/// `put_record` compares versions and writes nothing on a mismatch.
pub async fn record_versions_are_checked<S: Store>(store: S) {
    let (org, record) = seed(&store).await;
    let reference = record.reference();
    let mut tx = store.begin().await.unwrap();
    let stored = tx.record(&org, &reference).await.unwrap().unwrap();
    assert_eq!(stored.version, 1);
    assert_eq!(
        stored.value, record,
        "a record reads back exactly as written"
    );
    assert!(
        is_conflict(&tx.put_record(&record, None).await),
        "insert over an existing record"
    );
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.put_record(&record, Some(1)).await.unwrap(), 2);
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert!(
        is_conflict(&tx.put_record(&record, Some(1)).await),
        "stale version"
    );
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    assert_eq!(
        tx.record(&org, &reference).await.unwrap().unwrap().version,
        2
    );
}

/// N5: a unit of work dropped before commit leaves neither the change nor its notification.
pub async fn dropped_unit_of_work_stores_nothing<S: Store + Outbox>(store: S) {
    let (org, record) = seed(&store).await;
    let Record::WorkOrder(mut wo) = record.clone() else {
        unreachable!()
    };
    wo.title = "Changed".into();
    {
        let mut tx = store.begin().await.unwrap();
        tx.put_record(&Record::WorkOrder(wo), Some(1))
            .await
            .unwrap();
        let n = link_mail(1);
        tx.enqueue(&n).await.unwrap();
        tx.append_audit(&AuditEntry {
            id: AuditId(uuid::Uuid::from_bytes([1; 16])),
            org_id: org.clone(),
            record: record.reference(),
            share_id: None,
            actor: Actor::Client,
            action: AuditAction::ShareEnabled,
            at: T0,
        })
        .await
        .unwrap();
        // dropped here, uncommitted
    }
    let mut tx = store.begin().await.unwrap();
    let stored = tx.record(&org, &record.reference()).await.unwrap().unwrap();
    assert_eq!((stored.version, stored.value), (1, record.clone()));
    assert!(
        tx.audit_of_record(&org, &record.reference())
            .await
            .unwrap()
            .is_empty()
    );
    drop(tx);
    assert!(store.notifications_of_org(&org).await.unwrap().is_empty());
}

/// Two units of work that read the same version: the second write conflicts, at its write or
/// at its commit, and the first one's change stands.
pub async fn interleaved_writers_conflict<S: Store>(store: S) {
    let (org, record) = seed(&store).await;
    let Record::WorkOrder(wo) = record.clone() else {
        unreachable!()
    };
    let mut first = store.begin().await.unwrap();
    let mut second = store.begin().await.unwrap();
    let v1 = first
        .record(&org, &record.reference())
        .await
        .unwrap()
        .unwrap()
        .version;
    let v2 = second
        .record(&org, &record.reference())
        .await
        .unwrap()
        .unwrap()
        .version;
    let mut a = wo.clone();
    a.title = "First".into();
    first
        .put_record(&Record::WorkOrder(a), Some(v1))
        .await
        .unwrap();
    first.commit().await.unwrap();
    let mut b = wo;
    b.title = "Second".into();
    let outcome = match second.put_record(&Record::WorkOrder(b), Some(v2)).await {
        Ok(_) => second.commit().await,
        Err(e) => Err(e),
    };
    assert!(
        is_conflict(&outcome),
        "the second writer must conflict: {outcome:?}"
    );
    let mut tx = store.begin().await.unwrap();
    assert_eq!(
        tx.record(&org, &record.reference())
            .await
            .unwrap()
            .unwrap()
            .value
            .title(),
        "First"
    );
}

/// Two writers race to change the same record, each retrying on `Conflict` from a fresh read
/// as the core does: both changes land, one after the other.
pub async fn racing_writers_never_lose_an_update<S: Store + Clone + 'static>(store: S) {
    let (org, record) = seed(&store).await;
    let reference = record.reference();
    let append = |mark: &'static str| {
        let (store, org, reference) = (store.clone(), org.clone(), reference.clone());
        async move {
            for _ in 0..20 {
                let mut tx = store.begin().await.unwrap();
                let stored = tx.record(&org, &reference).await.unwrap().unwrap();
                let Record::WorkOrder(mut wo) = stored.value else {
                    unreachable!()
                };
                wo.description.push_str(mark);
                let written = tx
                    .put_record(&Record::WorkOrder(wo), Some(stored.version))
                    .await;
                let outcome = match written {
                    Ok(_) => tx.commit().await,
                    Err(e) => Err(e),
                };
                match outcome {
                    Ok(()) => return,
                    Err(StoreError::Conflict(_)) => {}
                    Err(e) => panic!("unexpected {e:?}"),
                }
            }
            panic!("{mark} never landed");
        }
    };
    futures_join(append("[a]"), append("[b]")).await;
    let mut tx = store.begin().await.unwrap();
    let stored = tx.record(&org, &reference).await.unwrap().unwrap();
    let Record::WorkOrder(wo) = stored.value else {
        unreachable!()
    };
    assert_eq!(stored.version, 3, "two writes after the first");
    assert!(
        wo.description.contains("[a]") && wo.description.contains("[b]"),
        "{}",
        wo.description
    );
}

/// At most one active share per record; ids and token hashes are unique; look-up by hash.
pub async fn one_active_share_per_record_and_token_look_up<S: Store>(store: S) {
    let (org, record) = seed(&store).await;
    let reference = record.reference();
    let first = share_of(&reference, 1);
    let mut tx = store.begin().await.unwrap();
    tx.insert_share(&first).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert!(
        is_conflict(&tx.insert_share(&share_of(&reference, 2)).await),
        "second active share"
    );
    drop(tx);
    let mut revoked = first.clone();
    revoked.state = ShareState::Revoked {
        at: T0,
        by: StaffId::new("owner").unwrap(),
    };
    let mut tx = store.begin().await.unwrap();
    tx.update_share(&revoked, 1).await.unwrap();
    let second = share_of(&reference, 2);
    tx.insert_share(&second).await.unwrap();
    tx.commit().await.unwrap();
    let mut same_hash = share_of(&reference, 3);
    same_hash.state = revoked.state.clone();
    same_hash.token_hash = second.token_hash;
    let mut tx = store.begin().await.unwrap();
    assert!(
        is_conflict(&tx.insert_share(&same_hash).await),
        "token hash taken"
    );
    drop(tx);
    assert_eq!(
        store.share_by_token_hash(&second.token_hash).await.unwrap(),
        Some(second.clone())
    );
    assert_eq!(
        store.share_by_token_hash(&first.token_hash).await.unwrap(),
        Some(revoked.clone())
    );
    assert_eq!(
        store
            .share_by_token_hash(&TokenHash([9; 32]))
            .await
            .unwrap(),
        None
    );
    let mut tx = store.begin().await.unwrap();
    let all: Vec<Share> = tx
        .shares_of_record(&org, &reference)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.value)
        .collect();
    assert_eq!(all, vec![revoked, second], "oldest first");
}

/// Share versions are checked; opening times belong to `record_opened` and the first opening's
/// claim (once, in a unit of work), and survive updates.
// Reason: one scenario (versions, openings, the first opening's claim, expiry), read top to
// bottom, is the contract.
#[allow(clippy::too_many_lines)]
pub async fn share_versions_and_opened_times<S: Store>(store: S) {
    let (org, record) = seed(&store).await;
    let share = share_of(&record.reference(), 1);
    let mut tx = store.begin().await.unwrap();
    tx.insert_share(&share).await.unwrap();
    tx.commit().await.unwrap();
    assert!(
        store
            .record_opened(share.id, T0 + Duration::hours(2))
            .await
            .unwrap(),
        "the first opening is still to claim"
    );
    assert!(
        store
            .record_opened(share.id, T0 + Duration::hours(1))
            .await
            .unwrap()
    );
    assert!(
        !store
            .record_opened(ShareId(uuid::Uuid::nil()), T0)
            .await
            .unwrap(),
        "an unknown share has nothing to claim"
    );
    // The first opening is claimed once, in a unit of work; a dropped unit claims nothing.
    let mut tx = store.begin().await.unwrap();
    assert!(
        tx.claim_first_opening(share.id, T0)
            .await
            .unwrap()
            .is_some()
    );
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    let claimed = tx
        .claim_first_opening(share.id, T0 + Duration::hours(2))
        .await
        .unwrap()
        .expect("still unclaimed");
    assert_eq!(claimed.first_opened_at, Some(T0 + Duration::hours(2)));
    assert_eq!(claimed.record, share.record);
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert_eq!(
        tx.claim_first_opening(share.id, T0 + Duration::hours(3))
            .await
            .unwrap(),
        None,
        "claimed once"
    );
    assert_eq!(
        tx.claim_first_opening(ShareId(uuid::Uuid::nil()), T0)
            .await
            .unwrap(),
        None
    );
    drop(tx);
    assert!(
        !store
            .record_opened(share.id, T0 + Duration::hours(1))
            .await
            .unwrap(),
        "nothing left to claim"
    );
    let mut tx = store.begin().await.unwrap();
    let stored = tx.share(share.id).await.unwrap().unwrap();
    assert_eq!(stored.version, 1, "opening does not bump the version");
    assert_eq!(stored.value.first_opened_at, Some(T0 + Duration::hours(2)));
    assert_eq!(stored.value.last_opened_at, Some(T0 + Duration::hours(2)));
    let mut changed = stored.value.clone();
    changed.recipient = Email::parse("new@client.example").unwrap();
    changed.first_opened_at = None;
    changed.expires_at = Some(T0 + Duration::days(30));
    assert_eq!(tx.update_share(&changed, 1).await.unwrap(), 2);
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert!(
        is_conflict(&tx.update_share(&changed, 1).await),
        "stale share version"
    );
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    let stored = tx.share(share.id).await.unwrap().unwrap().value;
    assert_eq!(stored.recipient.as_str(), "new@client.example");
    assert_eq!(stored.expires_at, Some(T0 + Duration::days(30)));
    assert_eq!(
        stored.first_opened_at,
        Some(T0 + Duration::hours(2)),
        "kept from record_opened"
    );
    drop(tx);
    // S7: the active shares whose expiry is still ahead, and no others.
    let expiring = |at| {
        let store = &store;
        let org = org.clone();
        async move {
            let mut tx = store.begin_read().await.unwrap();
            tx.shares_expiring_after(&org, at)
                .await
                .unwrap()
                .into_iter()
                .map(|s| s.value.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(expiring(T0).await, vec![share.id]);
    assert_eq!(
        expiring(T0 + Duration::days(30)).await,
        Vec::new(),
        "expired"
    );
    let mut tx = store.begin_read().await.unwrap();
    let other = OrgId::new("someone-else").unwrap();
    assert!(
        tx.shares_expiring_after(&other, T0)
            .await
            .unwrap()
            .is_empty()
    );
    drop(tx);
    let mut revoked = stored;
    revoked.state = ShareState::Revoked {
        at: T0,
        by: StaffId::new("owner").unwrap(),
    };
    let mut tx = store.begin().await.unwrap();
    tx.update_share(&revoked, 2).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(expiring(T0).await, Vec::new(), "revoked");
}

/// Claims take due notifications once per lease; sent and dead ones never come back.
pub async fn outbox_claims_lease_and_settle<S: Store + Outbox>(store: S) {
    let (org, _) = seed(&store).await;
    let link = NotificationKind::LinkShared {
        reason: LinkReason::Enabled,
    };
    let mut tx = store.begin().await.unwrap();
    for (n, due) in [
        (1, T0),
        (2, T0 + Duration::minutes(1)),
        (3, T0 + Duration::hours(1)),
    ] {
        let queued = notification(n, None, link.clone(), due);
        tx.enqueue(&queued).await.unwrap();
    }
    tx.commit().await.unwrap();
    assert_eq!(store.pending_count().await.unwrap(), 3);
    let lease = Duration::minutes(5);
    let now = T0 + Duration::minutes(2);
    let claimed = store.claim_due(now, 10, lease).await.unwrap();
    let ids: Vec<u8> = claimed.iter().map(|n| n.id.0.as_bytes()[0]).collect();
    assert_eq!(ids, vec![1, 2], "due ones, oldest due first");
    assert!(
        claimed
            .iter()
            .all(|n| n.attempts == 1 && n.due_at == now + lease)
    );
    assert!(
        store.claim_due(now, 10, lease).await.unwrap().is_empty(),
        "leased"
    );
    store.mark_sent(claimed[0].id, now).await.unwrap();
    store
        .retry_at(claimed[1].id, now + Duration::minutes(1), "421 try later")
        .await
        .unwrap();
    let later = now + Duration::minutes(10);
    let again = store.claim_due(later, 10, lease).await.unwrap();
    let ids: Vec<u8> = again.iter().map(|n| n.id.0.as_bytes()[0]).collect();
    assert_eq!(
        ids,
        vec![2],
        "the retried one, not the sent or the future one"
    );
    assert_eq!(again[0].attempts, 2);
    assert_eq!(again[0].last_failure.as_deref(), Some("421 try later"));
    store
        .mark_dead(again[0].id, later, "550 no such user")
        .await
        .unwrap();
    assert_eq!(
        store.pending_count().await.unwrap(),
        1,
        "one sent, one dead, one pending"
    );
    let all = store.notifications_of_org(&org).await.unwrap();
    assert!(matches!(all[0].delivery, Delivery::Sent { .. }));
    assert!(
        matches!(&all[1].delivery, Delivery::Dead { reason, .. } if reason == "550 no such user")
    );
    assert_eq!(all[2].delivery, Delivery::Pending);
    let last = store
        .claim_due(T0 + Duration::days(1), 10, lease)
        .await
        .unwrap();
    assert!(last.iter().all(|n| n.id == all[2].id));
    let dead_before = store.stats(T0).await.unwrap().dead;
    store
        .mark_dropped(
            all[2].id,
            T0 + Duration::days(1),
            "the checklist section is hidden",
        )
        .await
        .unwrap();
    let all = store.notifications_of_org(&org).await.unwrap();
    assert!(
        matches!(&all[2].delivery, Delivery::Dropped { reason, .. } if reason == "the checklist section is hidden"),
        "dropped with its reason: {:?}",
        all[2].delivery
    );
    assert_eq!(store.pending_count().await.unwrap(), 0);
    assert_eq!(
        store.stats(T0).await.unwrap().dead,
        dead_before,
        "a dropped notification is not a dead one"
    );
    assert!(
        store
            .claim_due(T0 + Duration::days(9), 10, lease)
            .await
            .unwrap()
            .is_empty(),
        "never claimed again"
    );
}

/// N6: a burst merges into a pending, unattempted, not-yet-due notification of the same share and
/// topic, and never into a claimed one.
pub async fn bursts_merge_only_while_unclaimed<S: Store + Outbox>(store: S) {
    let (org, record) = seed(&store).await;
    let share = share_of(&record.reference(), 1);
    let tasks = |t: &[&str]| NotificationKind::TasksCompleted {
        tasks: t.iter().map(|s| (*s).to_owned()).collect(),
        task_ids: t.iter().map(|s| fixtures::task_id(s)).collect(),
    };
    let due = T0 + Duration::minutes(2);
    let mut tx = store.begin().await.unwrap();
    tx.insert_share(&share).await.unwrap();
    tx.enqueue(&notification(1, Some(share.id), tasks(&["a"]), due))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert!(
        tx.open_burst(share.id, Topic::UpdatesShared, &client_email(), T0)
            .await
            .unwrap()
            .is_none(),
        "other topic"
    );
    let other = Email::parse("partner@client.example").unwrap();
    assert!(
        tx.open_burst(share.id, Topic::TasksCompleted, &other, T0)
            .await
            .unwrap()
            .is_none(),
        "another recipient's burst"
    );
    assert!(
        tx.open_burst(share.id, Topic::TasksCompleted, &client_email(), due)
            .await
            .unwrap()
            .is_none(),
        "already due"
    );
    let mut open = tx
        .open_burst(share.id, Topic::TasksCompleted, &client_email(), T0)
        .await
        .unwrap()
        .unwrap();
    open.kind = tasks(&["a", "b"]);
    tx.merge_into(&open).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        store.notifications_of_org(&org).await.unwrap()[0].kind,
        tasks(&["a", "b"])
    );
    let mut tx = store.begin().await.unwrap();
    let mut open = tx
        .open_burst(share.id, Topic::TasksCompleted, &client_email(), T0)
        .await
        .unwrap()
        .unwrap();
    drop(tx);
    assert_eq!(
        store
            .claim_due(due, 10, Duration::minutes(5))
            .await
            .unwrap()
            .len(),
        1
    );
    // The copy read before the claim must no longer merge.
    let mut tx = store.begin().await.unwrap();
    open.kind = tasks(&["a", "b", "c"]);
    let merged = match tx.merge_into(&open).await {
        Ok(()) => tx.commit().await,
        Err(e) => {
            drop(tx);
            Err(e)
        }
    };
    assert!(
        is_conflict(&merged),
        "merging into a claimed notification must conflict"
    );
    assert_eq!(
        store.notifications_of_org(&org).await.unwrap()[0].kind,
        tasks(&["a", "b"])
    );
}

/// Audit entries come back in order, per record; a work order's invoices are found.
pub async fn audit_and_invoice_queries<S: Store>(store: S) {
    let (org, record) = seed(&store).await;
    let reference = record.reference();
    let client = fixtures::client(&org, "c1");
    let inv = fixtures::invoice(&org, "inv1", Some(&client.id), Some(record.id()));
    let other = fixtures::invoice(&org, "inv2", Some(&client.id), None);
    let mut tx = store.begin().await.unwrap();
    tx.put_record(&Record::Invoice(inv.clone()), None)
        .await
        .unwrap();
    tx.put_record(&Record::Invoice(other), None).await.unwrap();
    let actions = [
        AuditAction::ShareEnabled,
        AuditAction::ShareRevoked,
        AuditAction::ShareReshared,
    ];
    for (i, action) in actions.iter().enumerate() {
        tx.append_audit(&AuditEntry {
            id: AuditId(uuid::Uuid::from_bytes([i as u8 + 1; 16])),
            org_id: org.clone(),
            record: reference.clone(),
            share_id: None,
            actor: Actor::Staff(StaffId::new("owner").unwrap()),
            action: action.clone(),
            at: T0 + Duration::seconds(i64::from(i as u8)),
        })
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    let log: Vec<AuditAction> = tx
        .audit_of_record(&org, &reference)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(log, actions.to_vec());
    assert_eq!(
        tx.invoices_of_work_order(&org, record.id()).await.unwrap(),
        vec![inv]
    );
}

/// V1–V6, S5: the one read behind an uncached page gives what a unit of work reads: the org,
/// the record with its version, its client, a work order's invoices in id order (not another
/// work order's, nor another org's); nothing for an unknown org or record. By token, an active
/// share comes with that page and a revoked one without. `staff_among` gives the named staff in
/// id order, skipping unknown ids and other orgs' staff.
pub async fn record_page_is_what_a_unit_of_work_reads<S: Store>(store: S) {
    let (org, record) = seed(&store).await;
    let client = fixtures::client(&org, "c1");
    let inv_b = fixtures::invoice(&org, "inv-b", Some(&client.id), Some(record.id()));
    let inv_a = fixtures::invoice(&org, "inv-a", None, Some(record.id()));
    let elsewhere = fixtures::invoice(&org, "inv-c", Some(&client.id), None);
    let other_org = fixtures::org("org-other");
    let other_tech = fixtures::staff(&other_org.id, "tech", Role::Technician);
    let foreign = fixtures::invoice(&other_org.id, "inv-0", None, Some(record.id()));
    let quote = fixtures::quote(&org, "q1", None);
    let mut tx = store.begin().await.unwrap();
    for invoice in [&inv_b, &inv_a, &elsewhere] {
        tx.put_record(&Record::Invoice(invoice.clone()), None)
            .await
            .unwrap();
    }
    tx.put_record(&Record::Quote(quote.clone()), None)
        .await
        .unwrap();
    tx.put_org(&other_org).await.unwrap();
    tx.put_staff(&other_tech).await.unwrap();
    tx.put_record(&Record::Invoice(foreign), None)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let page = store
        .record_page(&org, &record.reference())
        .await
        .unwrap()
        .expect("the work order's page");
    // Read, then the unit dropped: a store with one connection serves one at a time.
    let (stored_org, stored_record) = {
        let mut tx = store.begin_read().await.unwrap();
        let stored_org = tx.org(&org).await.unwrap().unwrap();
        (
            stored_org,
            tx.record(&org, &record.reference()).await.unwrap(),
        )
    };
    assert_eq!(page.org, stored_org);
    assert_eq!(Some(page.record.clone()), stored_record);
    assert_eq!(page.client, Some(client));
    assert_eq!(page.invoices, vec![inv_a, inv_b]);
    assert_eq!(
        page.staff,
        Some(vec![fixtures::staff(&org, "tech", Role::Technician)]),
        "the staff the record mentions"
    );

    // A quote without a client: no client, no invoices.
    let quote_page = store
        .record_page(&org, &Record::Quote(quote.clone()).reference())
        .await
        .unwrap()
        .expect("the quote's page");
    assert_eq!(quote_page.record.value, Record::Quote(quote));
    assert_eq!((quote_page.client, quote_page.invoices), (None, vec![]));

    let unknown = RecordRef {
        kind: crate::model::RecordKind::WorkOrder,
        id: crate::model::RecordId::new("nope").unwrap(),
    };
    assert_eq!(store.record_page(&org, &unknown).await.unwrap(), None);
    assert_eq!(
        store
            .record_page(&OrgId::new("org-none").unwrap(), &record.reference())
            .await
            .unwrap(),
        None
    );

    // By token: an active share comes with its page, a revoked one alone.
    let active = share_of(&record.reference(), 1);
    let mut revoked = share_of(&quote_page.record.value.reference(), 2);
    revoked.state = ShareState::Revoked {
        at: T0,
        by: StaffId::new("owner").unwrap(),
    };
    let mut tx = store.begin().await.unwrap();
    tx.insert_share(&active).await.unwrap();
    tx.insert_share(&revoked).await.unwrap();
    tx.commit().await.unwrap();
    let (share, by_token) = store
        .page_by_token_hash(&active.token_hash)
        .await
        .unwrap()
        .expect("the active share");
    assert_eq!((share, by_token), (active, Some(page)));
    assert_eq!(
        store.page_by_token_hash(&revoked.token_hash).await.unwrap(),
        Some((revoked, None))
    );
    assert_eq!(
        store
            .page_by_token_hash(&TokenHash([77; 32]))
            .await
            .unwrap(),
        None
    );

    staff_among_skips_unknown_ids(&store, &org).await;
}

/// `staff_among` (after `seed`): the named staff of the org in id order, each once.
async fn staff_among_skips_unknown_ids<S: Store>(store: &S, org: &OrgId) {
    let tech = fixtures::staff(org, "tech", Role::Technician);
    let owner = fixtures::staff(org, "boss", Role::Owner);
    let mut tx = store.begin().await.unwrap();
    tx.put_staff(&owner).await.unwrap();
    tx.commit().await.unwrap();
    let ids = ["tech", "ghost", "boss", "tech"].map(|id| StaffId::new(id).unwrap());
    assert_eq!(
        store.staff_among(org, &ids).await.unwrap(),
        vec![owner, tech]
    );
    assert_eq!(store.staff_among(org, &[]).await.unwrap(), vec![]);
}

/// I1: API keys are found by hash, per org, until revoked; the key itself is never needed.
pub async fn api_keys_are_found_by_hash_until_revoked<S: Store>(store: S) {
    let (org, _) = seed(&store).await;
    let key = ApiKey::from_random([9; 32]);
    let id = uuid::Uuid::from_bytes([5; 16]);
    store
        .insert_api_key(id, &org, &key.hash(), "host app", T0)
        .await
        .unwrap();
    assert_eq!(
        store.org_of_api_key(&key.hash()).await.unwrap(),
        Some(org.clone())
    );
    let other = ApiKey::from_random([8; 32]);
    assert_eq!(store.org_of_api_key(&other.hash()).await.unwrap(), None);
    let twice = store
        .insert_api_key(
            uuid::Uuid::from_bytes([6; 16]),
            &org,
            &key.hash(),
            "dup",
            T0,
        )
        .await;
    assert!(is_conflict(&twice), "a hash is stored once: {twice:?}");
    let nowhere = OrgId::new("org-nowhere").unwrap();
    let orphan = store
        .insert_api_key(
            uuid::Uuid::from_bytes([7; 16]),
            &nowhere,
            &other.hash(),
            "x",
            T0,
        )
        .await;
    assert!(
        is_conflict(&orphan),
        "keys need an existing org: {orphan:?}"
    );
    store.revoke_api_key(&nowhere, id, T0).await.unwrap();
    assert!(
        store.org_of_api_key(&key.hash()).await.unwrap().is_some(),
        "another org cannot revoke it"
    );
    let later = T0 + Duration::minutes(5);
    store.revoke_api_key(&org, id, later).await.unwrap();
    assert_eq!(store.org_of_api_key(&key.hash()).await.unwrap(), None);
    let listed = store.api_keys_of_org(&org).await.unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(
        (
            listed[0].id,
            listed[0].label.as_str(),
            listed[0].created_at,
            listed[0].revoked_at
        ),
        (id, "host app", T0, Some(later))
    );
    store
        .revoke_api_key(&org, id, later + Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(
        store.api_keys_of_org(&org).await.unwrap()[0].revoked_at,
        Some(later),
        "revoking again keeps the first time"
    );
    assert!(store.api_keys_of_org(&nowhere).await.unwrap().is_empty());
}

/// Two dispatchers claiming at once never get the same notification.
pub async fn concurrent_claims_are_disjoint<S: Store + Outbox + Clone + 'static>(store: S) {
    let (_, _) = seed(&store).await;
    let mut tx = store.begin().await.unwrap();
    for i in 0..100u8 {
        let n = link_mail(i);
        tx.enqueue(&n).await.unwrap();
    }
    tx.commit().await.unwrap();
    let now = T0 + Duration::minutes(1);
    let claim = |s: S| async move {
        let mut mine = Vec::new();
        loop {
            let batch = s.claim_due(now, 7, Duration::minutes(5)).await.unwrap();
            if batch.is_empty() {
                break mine;
            }
            mine.extend(batch.into_iter().map(|n| n.id));
        }
    };
    let (a, b) = futures_join(claim(store.clone()), claim(store.clone())).await;
    let mut all: Vec<NotificationId> = a.iter().chain(&b).copied().collect();
    assert_eq!(all.len(), 100, "every notification claimed");
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 100, "no notification claimed twice");
}

/// Polls two futures concurrently on the current task (the core has no runtime dependency).
async fn futures_join<A: std::future::Future, B: std::future::Future>(
    a: A,
    b: B,
) -> (A::Output, B::Output) {
    use std::pin::pin;
    use std::task::Poll;
    let (mut a, mut b) = (pin!(a), pin!(b));
    let (mut ra, mut rb) = (None, None);
    std::future::poll_fn(|cx| {
        if ra.is_none()
            && let Poll::Ready(v) = a.as_mut().poll(cx)
        {
            ra = Some(v);
        }
        if rb.is_none()
            && let Poll::Ready(v) = b.as_mut().poll(cx)
        {
            rb = Some(v);
        }
        if ra.is_some() && rb.is_some() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
    (ra.unwrap(), rb.unwrap())
}

/// `Outbox::stats`: pending and dead counts, and the earliest due time among due pending ones.
pub async fn outbox_stats_count_pending_dead_and_the_oldest_due<S: Store + Outbox>(store: S) {
    seed(&store).await;
    let link = NotificationKind::LinkShared {
        reason: LinkReason::Enabled,
    };
    let empty = store.stats(T0).await.unwrap();
    assert_eq!((empty.pending, empty.dead, empty.oldest_due), (0, 0, None));
    let mut tx = store.begin().await.unwrap();
    for (n, due) in [
        (1, T0),
        (2, T0 + Duration::minutes(1)),
        (3, T0 + Duration::hours(1)),
    ] {
        tx.enqueue(&notification(n, None, link.clone(), due))
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    let now = T0 + Duration::minutes(10);
    let stats = store.stats(now).await.unwrap();
    assert_eq!(
        (stats.pending, stats.dead, stats.oldest_due),
        (3, 0, Some(T0))
    );
    let first = notification(1, None, link, T0).id;
    store
        .mark_dead(first, now, "550 no such user")
        .await
        .unwrap();
    let stats = store.stats(now).await.unwrap();
    assert_eq!(
        (stats.pending, stats.dead, stats.oldest_due),
        (2, 1, Some(T0 + Duration::minutes(1)))
    );
}

/// The [`Blobs`] contract: bytes and type read back whole, `head` agrees without the bytes,
/// replacing swaps the whole blob, orgs never see each other's files, deleting is idempotent,
/// and ids that look like paths stay plain names.
pub async fn blobs_contract(blobs: &dyn Blobs) {
    use crate::model::FileId;

    let key = |org: &str, file: &str| BlobKey {
        org: OrgId::new(org).unwrap(),
        file: FileId::new(file).unwrap(),
    };
    let photo = Blob {
        content_type: "image/png".into(),
        bytes: vec![0x89, b'P', b'N', b'G', 0, 1, 2, 3],
    };
    let a = key("org-a", "photo-1");
    assert_eq!(blobs.get(&a).await.unwrap(), None);
    assert_eq!(blobs.head(&a).await.unwrap(), None);

    blobs.put(&a, photo.clone()).await.unwrap();
    assert_eq!(blobs.get(&a).await.unwrap(), Some(photo.clone()));
    let meta = blobs.head(&a).await.unwrap().unwrap();
    assert_eq!((meta.content_type.as_str(), meta.size), ("image/png", 8));

    // Another org's file of the same id is another file.
    assert_eq!(blobs.get(&key("org-b", "photo-1")).await.unwrap(), None);

    let pdf = Blob {
        content_type: "application/pdf".into(),
        bytes: b"%PDF-1.7 replaced".to_vec(),
    };
    blobs.put(&a, pdf.clone()).await.unwrap();
    assert_eq!(blobs.get(&a).await.unwrap(), Some(pdf));

    // Ids may hold dots; `..` must not climb out of the org's files.
    let dots = key("org-a", "..");
    blobs.put(&dots, photo.clone()).await.unwrap();
    assert_eq!(blobs.get(&dots).await.unwrap(), Some(photo.clone()));
    assert!(blobs.get(&a).await.unwrap().is_some());
    let b = key("org-b", "x");
    assert_eq!(blobs.get(&b).await.unwrap(), None);

    blobs.delete(&a).await.unwrap();
    assert_eq!(blobs.get(&a).await.unwrap(), None);
    assert_eq!(blobs.head(&a).await.unwrap(), None);
    blobs.delete(&a).await.unwrap();
    assert_eq!(blobs.get(&dots).await.unwrap(), Some(photo));
}

fn grant_of(client: &ClientId, n: u8, created: time::OffsetDateTime) -> SignInGrant {
    SignInGrant {
        id: uuid::Uuid::from_bytes([n; 16]),
        org_id: org_id(),
        client_id: client.clone(),
        purpose: GrantPurpose::SignIn,
        key_id: KeyId(1),
        nonce: Nonce([n; 32]),
        token_hash: TokenHash([n; 32]),
        created_at: created,
        expires_at: created + Duration::minutes(15),
        ended: None,
        code_failures: 0,
    }
}

fn session_of(client: &ClientId, n: u8) -> PortalSession {
    PortalSession {
        hash: SessionHash([n; 32]),
        org_id: org_id(),
        client_id: client.clone(),
        created_at: T0,
        last_seen_at: T0,
        ended_at: None,
    }
}

/// C1–C3: the org's portal settings and a portal account read back as written, needs its client, and clients are found by
/// their email whatever its case; a client's records are listed whatever their kind.
pub async fn portal_accounts_and_clients_by_email<S: Store>(store: S) {
    let (org, record) = seed(&store).await;
    let client = fixtures::client(&org, "c1");
    let mut twin = fixtures::client(&org, "c2");
    twin.email = Some(Email::parse("JORDAN@Client.example").unwrap());
    let mut account = PortalAccount::new(org.clone(), client.id.clone());
    account.invited_at = Some(T0);
    account.password_hash = Some(crate::model::PasswordHash("$argon2id$v=19$x".into()));
    account.password_changed_at = Some(T0);
    account.last_sign_in_at = Some(T0 + Duration::seconds(1));
    account.failed_passwords = 3;
    account.last_failed_at = Some(T0 + Duration::seconds(2));
    let mut with_portal = fixtures::org("org-conf");
    with_portal.settings.portal = crate::model::PortalSettings {
        enabled: false,
        welcome: Some("Welcome, \u{e9}t\u{e9} clients!".into()),
        sections: vec![
            crate::model::PortalSection::Jobs,
            crate::model::PortalSection::ServiceRequests,
        ],
    };
    let mut tx = store.begin().await.unwrap();
    tx.put_org(&with_portal).await.unwrap();
    tx.put_client(&twin).await.unwrap();
    tx.put_portal_account(&account).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert_eq!(
        tx.org(&org).await.unwrap(),
        Some(with_portal),
        "C1 settings"
    );
    assert_eq!(
        tx.portal_account(&org, &client.id).await.unwrap(),
        Some(account.clone())
    );
    assert_eq!(tx.portal_account(&org, &twin.id).await.unwrap(), None);
    let bare = PortalAccount::new(org.clone(), twin.id.clone());
    tx.put_portal_account(&bare).await.unwrap();
    assert_eq!(tx.portal_account(&org, &twin.id).await.unwrap(), Some(bare));
    let found = tx
        .clients_with_email(&org, &Email::parse("Jordan@CLIENT.example").unwrap())
        .await
        .unwrap();
    let ids: Vec<_> = found.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["c1", "c2"], "case does not matter; ordered by id");
    let other = OrgId::new("org-other").unwrap();
    assert!(
        tx.clients_with_email(&other, &client_email())
            .await
            .unwrap()
            .is_empty(),
        "clients are per org"
    );
    let records = tx
        .record_summaries_of_client(&org, &client.id)
        .await
        .unwrap();
    assert_eq!(records, vec![crate::model::RecordSummary::of(&record)]);
    assert!(
        tx.record_summaries_of_client(&org, &twin.id)
            .await
            .unwrap()
            .is_empty()
    );
    let orphan = PortalAccount::new(org.clone(), ClientId::new("nobody").unwrap());
    assert!(
        is_conflict(&tx.put_portal_account(&orphan).await),
        "an account needs its client"
    );
}

/// C3: grants are found by token hash and by client (newest first, from a time on), replaced
/// by id, and a token hash is never shared by two grants.
pub async fn portal_grants_by_hash_and_by_client<S: Store>(store: S) {
    let (org, _) = seed(&store).await;
    let client = fixtures::client(&org, "c1");
    let first = grant_of(&client.id, 1, T0);
    let mut second = grant_of(&client.id, 2, T0 + Duration::minutes(5));
    second.purpose = GrantPurpose::Reset;
    let mut tx = store.begin().await.unwrap();
    tx.put_grant(&first).await.unwrap();
    tx.put_grant(&second).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert_eq!(
        tx.grant_by_token_hash(&TokenHash([1; 32])).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(tx.grant(second.id).await.unwrap(), Some(second.clone()));
    assert_eq!(
        tx.grant_by_token_hash(&TokenHash([9; 32])).await.unwrap(),
        None
    );
    let all = tx.grants_of_client(&org, &client.id, T0).await.unwrap();
    assert_eq!(all, vec![second.clone(), first.clone()], "newest first");
    let recent = tx
        .grants_of_client(&org, &client.id, T0 + Duration::minutes(1))
        .await
        .unwrap();
    assert_eq!(recent, vec![second.clone()]);
    let mut used = first.clone();
    used.ended = Some((T0 + Duration::minutes(1), GrantEnd::Used));
    used.code_failures = 2;
    tx.put_grant(&used).await.unwrap();
    assert_eq!(tx.grant(first.id).await.unwrap(), Some(used));
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    let mut clash = grant_of(&client.id, 3, T0);
    clash.token_hash = TokenHash([2; 32]);
    assert!(
        is_conflict(&tx.put_grant(&clash).await),
        "a token hash belongs to one grant"
    );
}

/// C5, C2, C8: sessions read back by hash; ending them ends every open one of the org, or of
/// one client, except the one named, and leaves ended ones as they were.
pub async fn portal_sessions_end_by_org_client_and_except<S: Store>(store: S) {
    let (org, _) = seed(&store).await;
    let client = fixtures::client(&org, "c1");
    let twin = fixtures::client(&org, "c2");
    let mut tx = store.begin().await.unwrap();
    tx.put_client(&twin).await.unwrap();
    let mut old = session_of(&client.id, 1);
    old.ended_at = Some(T0);
    for session in [
        old.clone(),
        session_of(&client.id, 2),
        session_of(&client.id, 3),
        session_of(&twin.id, 4),
    ] {
        tx.put_session(&session).await.unwrap();
    }
    tx.commit().await.unwrap();
    let later = T0 + Duration::hours(1);
    let mut tx = store.begin().await.unwrap();
    let mut touched = session_of(&client.id, 2);
    touched.last_seen_at = T0 + Duration::minutes(3);
    tx.put_session(&touched).await.unwrap();
    assert_eq!(
        tx.portal_session(&SessionHash([2; 32])).await.unwrap(),
        Some(touched)
    );
    let ended = tx
        .end_sessions(&org, Some(&client.id), Some(&SessionHash([3; 32])), later)
        .await
        .unwrap();
    assert_eq!(ended, 1, "the client's one open session but the one kept");
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    let mut states = Vec::new();
    for n in 1..=4u8 {
        let stored = tx.portal_session(&SessionHash([n; 32])).await.unwrap();
        states.push(stored.unwrap().ended_at);
    }
    assert_eq!(states, vec![Some(T0), Some(later), None, None]);
    let all = tx.end_sessions(&org, None, None, later).await.unwrap();
    assert_eq!(all, 2, "every open session of the org");
    let other = OrgId::new("org-other").unwrap();
    assert_eq!(tx.end_sessions(&other, None, None, later).await.unwrap(), 0);
    assert_eq!(
        tx.portal_session(&SessionHash([9; 32])).await.unwrap(),
        None
    );
}

/// C2: a portal mail is about no record and reads back so.
pub async fn portal_mail_without_a_record_reads_back<S: Store + Outbox>(store: S) {
    let (org, _) = seed(&store).await;
    let client = fixtures::client(&org, "c1");
    let mut mail = notification(
        7,
        None,
        NotificationKind::PortalSignIn {
            client: client.id.clone(),
            grant: uuid::Uuid::from_bytes([7; 16]),
        },
        T0,
    );
    mail.record = None;
    let mut changed = notification(
        8,
        None,
        NotificationKind::PasswordChanged {
            client: client.id.clone(),
        },
        T0,
    );
    changed.record = None;
    let mut tx = store.begin().await.unwrap();
    tx.enqueue(&mail).await.unwrap();
    tx.enqueue(&changed).await.unwrap();
    tx.commit().await.unwrap();
    let stored = store.notifications_of_org(&org).await.unwrap();
    assert_eq!(stored, vec![mail, changed]);
}

/// C7: a client's record summaries are exactly [`crate::model::RecordSummary::of`] each stored
/// record of theirs — every kind, drafts, void, decided, with and without dates — and no one
/// else's.
pub async fn record_summaries_are_those_of_the_records<S: Store>(store: S) {
    let (org, wo) = seed(&store).await;
    let client = fixtures::client(&org, "c1");
    let mut records = vec![wo];
    let mut unscheduled = fixtures::work_order(&org, "wo2", Some(&client.id), None);
    unscheduled.schedule = crate::model::Schedule::default();
    unscheduled.completed_at = Some(T0 + Duration::hours(30));
    let mut bare = fixtures::work_order(&org, "wo3", Some(&client.id), None);
    bare.schedule = crate::model::Schedule::default();
    bare.status = crate::model::WorkStatus::Cancelled;
    records.extend([Record::WorkOrder(unscheduled), Record::WorkOrder(bare)]);
    let mut draft = fixtures::quote(&org, "q2", Some(&client.id));
    draft.status = crate::model::QuoteStatus::Draft;
    draft.valid_until = None;
    let mut decided = fixtures::quote(&org, "q3", Some(&client.id));
    decided.decision = Some(QuoteDecision {
        kind: DecisionKind::Declined,
        message: None,
        at: T0,
    });
    records.extend([
        Record::Quote(fixtures::quote(&org, "q1", Some(&client.id))),
        Record::Quote(draft),
        Record::Quote(decided),
    ]);
    let mut void = fixtures::invoice(&org, "inv2", Some(&client.id), None);
    void.status = crate::model::InvoiceStatus::Void;
    void.due_date = None;
    records.extend([
        Record::Invoice(fixtures::invoice(&org, "inv1", Some(&client.id), None)),
        Record::Invoice(void),
        Record::Invoice(fixtures::invoice(&org, "inv3", None, None)),
    ]);
    let mut tx = store.begin().await.unwrap();
    for record in records.iter().skip(1) {
        tx.put_record(record, None).await.unwrap();
    }
    tx.commit().await.unwrap();
    let mut expected: Vec<_> = records
        .iter()
        .filter(|r| r.client_id() == Some(&client.id))
        .map(crate::model::RecordSummary::of)
        .collect();
    expected.sort_by_key(|s| (s.reference.kind.as_str(), s.reference.id.clone()));
    let mut tx = store.begin().await.unwrap();
    let mut found = tx
        .record_summaries_of_client(&org, &client.id)
        .await
        .unwrap();
    found.sort_by_key(|s| (s.reference.kind.as_str(), s.reference.id.clone()));
    assert_eq!(found, expected);
}

fn message_of(client: &ClientId, n: u8, thread: Thread, author: Author) -> Message {
    Message {
        id: MessageId(uuid::Uuid::from_bytes([n; 16])),
        org_id: org_id(),
        client_id: client.clone(),
        thread,
        author,
        body: format!("message {n}\nwith a second line"),
        // One second for all: the order written, not the time, orders them.
        at: T0,
        read_at: None,
    }
}

/// C7: messages read back whole, per client, in the order they were written; marking one read
/// changes only that; a message of an unknown client is refused.
pub async fn messages_read_back_in_the_order_written<S: Store>(store: S) {
    let (org, _) = seed(&store).await;
    let client = fixtures::client(&org, "c1");
    let twin = fixtures::client(&org, "c2");
    let staff = Author::Staff {
        staff: StaffId::new("tech").unwrap(),
        name: "Sam".into(),
    };
    let job = Thread::Job(crate::model::RecordId::new("wo1").unwrap());
    // Ids in falling order, so an order by id would show.
    let written = vec![
        message_of(&client.id, 9, Thread::General, Author::Client),
        message_of(&client.id, 5, job.clone(), staff.clone()),
        message_of(&client.id, 1, Thread::General, staff),
    ];
    let mut tx = store.begin().await.unwrap();
    tx.put_client(&twin).await.unwrap();
    for m in &written {
        tx.put_message(m).await.unwrap();
    }
    tx.put_message(&message_of(&twin.id, 7, Thread::General, Author::Client))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert_eq!(
        tx.messages_of_client(&org, &client.id).await.unwrap(),
        written
    );
    let mut read = written[1].clone();
    read.read_at = Some(T0 + Duration::minutes(5));
    tx.put_message(&read).await.unwrap();
    let again = tx.messages_of_client(&org, &client.id).await.unwrap();
    assert_eq!(again, vec![written[0].clone(), read, written[2].clone()]);
    let stranger = message_of(
        &ClientId::new("nobody").unwrap(),
        3,
        Thread::General,
        Author::Client,
    );
    assert!(matches!(
        tx.put_message(&stranger).await,
        Err(StoreError::Conflict(_))
    ));
    drop(tx);
    let mut tx = store.begin_read().await.unwrap();
    let other = OrgId::new("org-other").unwrap();
    assert!(
        tx.messages_of_client(&other, &client.id)
            .await
            .unwrap()
            .is_empty()
    );
}

fn request_of(client: &ClientId, n: u8, state: RequestState) -> ServiceRequest {
    ServiceRequest {
        id: ServiceRequestId(uuid::Uuid::from_bytes([n; 16])),
        org_id: org_id(),
        client_id: client.clone(),
        name: "Jordan Lee".into(),
        email: n
            .is_multiple_of(2)
            .then(|| Email::parse("jordan@client.example").unwrap()),
        phone: n.is_multiple_of(2).then(|| "+1 555 0142".into()),
        address: n
            .is_multiple_of(2)
            .then(|| "12 Elm Street\nSpringfield".into()),
        description: "The porch light flickers.".into(),
        preferred_dates: if n.is_multiple_of(2) {
            vec![
                time::macros::date!(2026 - 03 - 05),
                time::macros::date!(2026 - 03 - 02),
            ]
        } else {
            Vec::new()
        },
        photos: if n.is_multiple_of(2) {
            vec![
                uuid::Uuid::from_bytes([n; 16]),
                uuid::Uuid::from_bytes([n + 1; 16]),
            ]
        } else {
            Vec::new()
        },
        state,
        created_at: T0 + Duration::seconds(i64::from(n)),
        updated_at: T0 + Duration::seconds(i64::from(n)),
    }
}

/// C7: service requests read back whole (every optional field empty or set), filtered by
/// state, oldest first, limited; a state change is kept; another org's id finds nothing.
pub async fn service_requests_filter_by_state_and_read_back<S: Store>(store: S) {
    let (org, _) = seed(&store).await;
    let client = fixtures::client(&org, "c1");
    let requests = [
        request_of(&client.id, 3, RequestState::New),
        request_of(&client.id, 1, RequestState::Seen),
        request_of(&client.id, 2, RequestState::New),
    ];
    let mut tx = store.begin().await.unwrap();
    for r in &requests {
        tx.put_service_request(r).await.unwrap();
    }
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    let new = tx
        .service_requests(&org, Some(RequestState::New), 10)
        .await
        .unwrap();
    assert_eq!(new, vec![requests[2].clone(), requests[0].clone()]);
    let first = tx.service_requests(&org, None, 1).await.unwrap();
    assert_eq!(first, vec![requests[1].clone()]);
    let mut converted = requests[0].clone();
    converted.state = RequestState::Converted;
    converted.updated_at = T0 + Duration::hours(1);
    tx.put_service_request(&converted).await.unwrap();
    assert_eq!(
        tx.service_request(&org, converted.id).await.unwrap(),
        Some(converted.clone())
    );
    let other = OrgId::new("org-other").unwrap();
    assert_eq!(
        tx.service_request(&other, converted.id).await.unwrap(),
        None
    );
    assert!(
        tx.service_requests(&other, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let stranger = request_of(&ClientId::new("nobody").unwrap(), 8, RequestState::New);
    assert!(matches!(
        tx.put_service_request(&stranger).await,
        Err(StoreError::Conflict(_))
    ));
}

fn event_of(org: &OrgId, n: u8) -> FeedEvent {
    FeedEvent {
        org_id: org.clone(),
        seq: 0,
        id: uuid::Uuid::from_bytes([n; 16]),
        at: T0,
        client_id: n.is_multiple_of(2).then(|| ClientId::new("c1").unwrap()),
        kind: match n % 3 {
            0 => FeedEventKind::QuoteDecided {
                quote: crate::model::RecordId::new("q1").unwrap(),
                decision: DecisionKind::Declined,
            },
            1 => FeedEventKind::MessageReceived {
                message: MessageId(uuid::Uuid::from_bytes([n; 16])),
                job: n
                    .is_multiple_of(2)
                    .then(|| crate::model::RecordId::new("wo1").unwrap()),
            },
            _ => FeedEventKind::ServiceRequested {
                request: ServiceRequestId(uuid::Uuid::from_bytes([n; 16])),
            },
        },
    }
}

/// C7: each org's events are numbered 1, 2, 3 … in commit order: a dropped unit leaves no gap,
/// two racing writers get every number once, orgs count apart, and a read after
/// `n` pages in order.
pub async fn events_are_numbered_per_org_in_commit_order_without_gaps<S: Store + Clone>(store: S) {
    let (org, _) = seed(&store).await;
    let other = fixtures::org("org-other");
    let mut tx = store.begin().await.unwrap();
    tx.put_org(&other).await.unwrap();
    tx.append_event(&event_of(&org, 1)).await.unwrap();
    tx.append_event(&event_of(&other.id, 2)).await.unwrap();
    tx.commit().await.unwrap();
    let mut dropped = store.begin().await.unwrap();
    dropped.append_event(&event_of(&org, 3)).await.unwrap();
    drop(dropped);
    let writer = |first: u8| {
        let store = store.clone();
        let org = org.clone();
        async move {
            for n in first..first + 6 {
                let event = event_of(&org, n);
                // Contention is a conflict to retry, never a lost or doubled number.
                loop {
                    let mut tx = store.begin().await.unwrap();
                    let done = match tx.append_event(&event).await {
                        Ok(_) => tx.commit().await,
                        Err(e) => Err(e),
                    };
                    match done {
                        Ok(()) => break,
                        Err(StoreError::Conflict(_)) => {}
                        Err(e) => panic!("{e}"),
                    }
                }
            }
        }
    };
    futures_join(writer(10), writer(20)).await;
    let mut tx = store.begin_read().await.unwrap();
    let all = tx.events_after(&org, 0, 100).await.unwrap();
    let seqs: Vec<u64> = all.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=13).collect::<Vec<u64>>());
    assert_eq!(
        all[0],
        FeedEvent {
            seq: 1,
            ..event_of(&org, 1)
        }
    );
    let mut ids: Vec<uuid::Uuid> = all.iter().map(|e| e.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 13, "every event once");
    assert!(
        !ids.contains(&uuid::Uuid::from_bytes([3; 16])),
        "the dropped one is not there"
    );
    let page = tx.events_after(&org, 4, 3).await.unwrap();
    assert_eq!(
        page.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![5, 6, 7]
    );
    for e in &all {
        let expected = FeedEvent {
            seq: e.seq,
            ..event_of(&org, e.id.as_bytes()[0])
        };
        assert_eq!(e, &expected, "read back whole");
    }
    let theirs = tx.events_after(&other.id, 0, 100).await.unwrap();
    assert_eq!(
        theirs,
        vec![FeedEvent {
            seq: 1,
            ..event_of(&other.id, 2)
        }]
    );
    assert!(tx.events_after(&org, 13, 100).await.unwrap().is_empty());
}

/// C7: agreements and appointments read back whole (every optional field empty or set), per
/// client, replaced by id; appointments by start time; an unknown client is refused; another
/// org's ids find nothing.
pub async fn agreements_and_appointments_read_back_per_client<S: Store>(store: S) {
    let (org, _) = seed(&store).await;
    let client = fixtures::client(&org, "c1");
    let twin = fixtures::client(&org, "c2");
    let full = fixtures::agreement(&org, "a2", &client.id);
    let bare = crate::model::Agreement {
        ends_on: None,
        visits: Vec::new(),
        cost: None,
        margin_percent: None,
        internal_notes: String::new(),
        status: crate::model::AgreementStatus::OnHold,
        ..fixtures::agreement(&org, "a1", &client.id)
    };
    let later = fixtures::appointment(&org, "p1", &client.id, T0 + Duration::days(3));
    let sooner = crate::model::Appointment {
        job: Some(crate::model::RecordId::new("wo1").unwrap()),
        ends_at: None,
        technician: None,
        status: crate::model::AppointmentStatus::OnTheWay,
        ..fixtures::appointment(&org, "p2", &client.id, T0 + Duration::days(1))
    };
    let mut tx = store.begin().await.unwrap();
    tx.put_client(&twin).await.unwrap();
    for a in [&full, &bare] {
        tx.put_agreement(a).await.unwrap();
    }
    tx.put_agreement(&fixtures::agreement(&org, "a3", &twin.id))
        .await
        .unwrap();
    for a in [&later, &sooner] {
        tx.put_appointment(a).await.unwrap();
    }
    tx.commit().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    assert_eq!(
        tx.agreements_of_client(&org, &client.id).await.unwrap(),
        vec![bare.clone(), full.clone()]
    );
    assert_eq!(
        tx.agreement(&org, &full.id).await.unwrap().as_ref(),
        Some(&full)
    );
    assert_eq!(
        tx.appointments_of_client(&org, &client.id).await.unwrap(),
        vec![sooner.clone(), later.clone()]
    );
    let moved = crate::model::Appointment {
        starts_at: T0,
        status: crate::model::AppointmentStatus::Done,
        ..later.clone()
    };
    tx.put_appointment(&moved).await.unwrap();
    assert_eq!(
        tx.appointments_of_client(&org, &client.id).await.unwrap(),
        vec![moved.clone(), sooner.clone()]
    );
    let stranger = fixtures::agreement(&org, "a9", &ClientId::new("nobody").unwrap());
    assert!(matches!(
        tx.put_agreement(&stranger).await,
        Err(StoreError::Conflict(_))
    ));
    drop(tx);
    let mut tx = store.begin_read().await.unwrap();
    let other = OrgId::new("org-other").unwrap();
    assert_eq!(tx.agreement(&other, &full.id).await.unwrap(), None);
    assert_eq!(tx.appointment(&other, &later.id).await.unwrap(), None);
    assert_eq!(
        tx.appointment(&org, &sooner.id).await.unwrap().as_ref(),
        Some(&sooner)
    );
}

/// C7: every version of a contract reads back, oldest first; an unsigned version may change;
/// a version stored signed never does (writing it is `Conflict`, and it reads back as signed).
pub async fn signed_contract_versions_never_change<S: Store>(store: S) {
    let (org, _) = seed(&store).await;
    let client = fixtures::client(&org, "c1");
    let v1 = fixtures::contract(&org, "k1", &client.id);
    let signed = crate::model::Contract {
        status: crate::model::ContractStatus::Signed,
        signature: Some(crate::model::ContractSignature {
            name: "Jordan Lee".into(),
            drawn: Some(uuid::Uuid::from_bytes([7; 16])),
            at: T0 + Duration::hours(1),
            ip: Some("203.0.113.9".into()),
            user_agent: Some("Mozilla/5.0 (X11)".into()),
            content: v1.content_digest(),
        }),
        ..v1.clone()
    };
    let v2 = crate::model::Contract {
        version: 2,
        body: "Changed terms.".into(),
        ..v1.clone()
    };
    let other = fixtures::contract(&org, "k0", &client.id);
    let mut tx = store.begin().await.unwrap();
    tx.put_contract(&v1).await.unwrap();
    tx.put_contract(&other).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    tx.put_contract(&signed).await.unwrap();
    tx.put_contract(&v2).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    assert_eq!(
        tx.contract_versions(&org, &v1.id).await.unwrap(),
        vec![signed.clone(), v2.clone()]
    );
    let tampered = crate::model::Contract {
        body: "Something else.".into(),
        ..signed.clone()
    };
    assert!(matches!(
        tx.put_contract(&tampered).await,
        Err(StoreError::Conflict(_))
    ));
    let unsigned_again = v1.clone();
    assert!(matches!(
        tx.put_contract(&unsigned_again).await,
        Err(StoreError::Conflict(_))
    ));
    drop(tx);
    let mut tx = store.begin_read().await.unwrap();
    assert_eq!(
        tx.contracts_of_client(&org, &client.id).await.unwrap(),
        vec![other, signed, v2]
    );
    let elsewhere = OrgId::new("org-other").unwrap();
    assert!(
        tx.contract_versions(&elsewhere, &v1.id)
            .await
            .unwrap()
            .is_empty()
    );
}

/// I5: the org's payment account, its invoices' payment attempts (by the provider's id, oldest
/// first), and provider events claimed once even by racing units.
pub async fn payments_and_provider_events_read_back_and_apply_once<S: Store + Clone>(store: S) {
    use crate::model::{IntentId, Money, Payment, PaymentAccount, PaymentState, RecordId};
    let (org, _) = seed(&store).await;
    let account = PaymentAccount::new("acct_1Conf").unwrap();
    let invoice = RecordId::new("inv1").unwrap();
    let attempt = |n: u32, state| Payment {
        intent: IntentId::new(&format!("pi_conf{n}")).unwrap(),
        org_id: org.clone(),
        invoice: invoice.clone(),
        account: account.clone(),
        amount: Money::new(
            rust_decimal::Decimal::new(12_345 + i64::from(n), 2),
            crate::model::Currency::USD,
        ),
        client_secret: format!("pi_conf{n}_secret_x"),
        state,
        created_at: T0 + Duration::seconds(i64::from(n)),
        updated_at: T0 + Duration::seconds(i64::from(n)),
    };
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.payment_account(&org).await.unwrap(), None);
    tx.put_payment_account(&org, Some(&account)).await.unwrap();
    tx.put_payment(&attempt(2, PaymentState::Open))
        .await
        .unwrap();
    tx.put_payment(&attempt(1, PaymentState::Canceled))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    assert_eq!(
        tx.payment_account(&org).await.unwrap(),
        Some(account.clone())
    );
    let moved = Payment {
        state: PaymentState::Processing,
        updated_at: T0 + Duration::hours(1),
        ..attempt(2, PaymentState::Open)
    };
    tx.put_payment(&moved).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.begin_read().await.unwrap();
    assert_eq!(
        tx.payments_of_invoice(&org, &invoice).await.unwrap(),
        vec![attempt(1, PaymentState::Canceled), moved.clone()],
        "oldest first, the second replaced in place"
    );
    assert_eq!(
        tx.payment(&moved.intent).await.unwrap(),
        Some(moved.clone())
    );
    assert_eq!(
        tx.payment(&IntentId::new("pi_unknown").unwrap())
            .await
            .unwrap(),
        None
    );
    let elsewhere = OrgId::new("org-other").unwrap();
    assert!(
        tx.payments_of_invoice(&elsewhere, &invoice)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(tx.payment_account(&elsewhere).await.unwrap(), None);
    drop(tx);

    let mut tx = store.begin().await.unwrap();
    tx.put_payment_account(&org, None).await.unwrap();
    assert!(tx.claim_provider_event("evt_1", T0).await.unwrap());
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.payment_account(&org).await.unwrap(), None);
    assert!(!tx.claim_provider_event("evt_1", T0).await.unwrap());
    drop(tx);
    // A unit dropped without commit claims nothing.
    let mut tx = store.begin().await.unwrap();
    assert!(tx.claim_provider_event("evt_2", T0).await.unwrap());
    drop(tx);

    // Two units racing for one event: one claims it.
    let race = |store: S| async move {
        let mut tx = store.begin().await?;
        let claimed = tx.claim_provider_event("evt_2", T0).await?;
        tx.commit().await?;
        Ok::<_, StoreError>(claimed)
    };
    let (a, b) = futures_join(race(store.clone()), race(store.clone())).await;
    let claimed = [a, b].into_iter().filter(|r| matches!(r, Ok(true))).count();
    assert_eq!(claimed, 1);
}

/// Webhook endpoints and deliveries (I4): endpoints read back per org, oldest first, and need
/// their org; deliveries queue with the unit of work, read back newest first by state, are
/// claimed oldest due first (the try counted, the due time leased ahead), come back after the
/// lease, settle once, and two dispatchers never claim one twice.
// Reason: one scenario, read top to bottom, is the contract.
#[allow(clippy::too_many_lines)]
pub async fn webhook_deliveries_queue_claim_and_settle<
    S: Store + crate::ports::WebhookOutbox + Clone,
>(
    store: S,
) {
    use crate::model::{
        DeliveryId, EndpointId, WebhookDelivery, WebhookEndpoint, WebhookEvent, WebhookState,
        WebhookValue,
    };
    use crate::ports::WebhookSettle;
    let (org, _) = seed(&store).await;
    let endpoint = |n: u8| WebhookEndpoint {
        id: EndpointId(uuid::Uuid::from_bytes([n; 16])),
        org_id: org.clone(),
        url: format!("https://hooks{n}.example/in"),
        events: vec!["invoice.paid".into(), "quote.decided".into()],
        key: vec![n; 24],
        enabled: true,
        disabled_reason: None,
        created_at: T0 + Duration::seconds(i64::from(n)),
    };
    let delivery = |n: u8, to: u8| WebhookDelivery {
        id: DeliveryId(uuid::Uuid::from_bytes([n; 16])),
        org_id: org.clone(),
        endpoint: EndpointId(uuid::Uuid::from_bytes([to; 16])),
        event: WebhookEvent {
            event_type: "invoice.paid".into(),
            at: T0,
            data: vec![
                ("invoice_id".into(), WebhookValue::Text(format!("inv{n}"))),
                ("seq".into(), WebhookValue::Number(i64::from(n))),
            ],
        },
        created_at: T0,
        due_at: T0 + Duration::seconds(i64::from(n)),
        attempts: 0,
        state: WebhookState::Pending,
        last_failure: None,
    };

    let mut tx = store.begin().await.unwrap();
    tx.put_endpoint(&endpoint(2)).await.unwrap();
    tx.put_endpoint(&endpoint(1)).await.unwrap();
    for n in 10..13 {
        tx.enqueue_webhook(&delivery(n, 1)).await.unwrap();
    }
    tx.enqueue_webhook(&delivery(13, 2)).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    let stranger = WebhookEndpoint {
        org_id: OrgId::new("org-none").unwrap(),
        ..endpoint(3)
    };
    assert!(
        matches!(
            tx.put_endpoint(&stranger).await,
            Err(StoreError::Conflict(_))
        ),
        "an endpoint needs its org"
    );
    drop(tx);
    // A unit dropped without commit queues nothing.
    let mut tx = store.begin().await.unwrap();
    tx.enqueue_webhook(&delivery(14, 1)).await.unwrap();
    drop(tx);

    let mut tx = store.begin_read().await.unwrap();
    assert_eq!(
        tx.endpoints_of_org(&org).await.unwrap(),
        vec![endpoint(1), endpoint(2)],
        "oldest first"
    );
    let all = tx.webhook_deliveries_of_org(&org, None, 10).await.unwrap();
    let ids: Vec<DeliveryId> = all.iter().map(|d| d.id).collect();
    assert_eq!(
        ids,
        [13, 12, 11, 10].map(|n| delivery(n, 1).id).to_vec(),
        "newest first"
    );
    assert_eq!(all[3], delivery(10, 1), "read back whole");
    assert_eq!(
        tx.webhook_deliveries_of_org(&org, Some("pending"), 2)
            .await
            .unwrap()
            .len(),
        2
    );
    assert!(
        tx.webhook_deliveries_of_org(&org, Some("dead"), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        tx.webhook_deliveries_of_org(&OrgId::new("org-other").unwrap(), None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    drop(tx);

    // Claimed oldest due first, with the endpoint; the try counted and the due time leased.
    let now = T0 + Duration::minutes(1);
    let lease = Duration::minutes(5);
    let first = store.claim_webhooks(now, 2, lease).await.unwrap();
    let claimed: Vec<DeliveryId> = first.iter().map(|(d, _)| d.id).collect();
    assert_eq!(claimed, vec![delivery(10, 1).id, delivery(11, 1).id]);
    assert_eq!(first[0].0.attempts, 1);
    assert_eq!(first[0].0.due_at, now + lease);
    assert_eq!(first[0].1, Some(endpoint(1)));
    let rest = store.claim_webhooks(now, 10, lease).await.unwrap();
    assert_eq!(rest.len(), 2);
    assert!(
        store
            .claim_webhooks(now, 10, lease)
            .await
            .unwrap()
            .is_empty()
    );
    // After the lease (a dispatcher crashed), they come back, counted again.
    let again = store.claim_webhooks(now + lease, 10, lease).await.unwrap();
    assert_eq!(again.len(), 4);
    assert!(again.iter().all(|(d, _)| d.attempts == 2));

    let later = now + Duration::hours(1);
    store
        .settle_webhook(delivery(10, 1).id, &WebhookSettle::Delivered { at: later })
        .await
        .unwrap();
    store
        .settle_webhook(
            delivery(11, 1).id,
            &WebhookSettle::Retry {
                at: later,
                failure: "HTTP 503".into(),
            },
        )
        .await
        .unwrap();
    store
        .settle_webhook(
            delivery(12, 1).id,
            &WebhookSettle::Dead {
                at: later,
                reason: "gave up".into(),
            },
        )
        .await
        .unwrap();
    // Settled once: a late settle of a delivered one changes nothing.
    store
        .settle_webhook(
            delivery(10, 1).id,
            &WebhookSettle::Dead {
                at: later,
                reason: "late".into(),
            },
        )
        .await
        .unwrap();
    store
        .disable_endpoint(&org, endpoint(2).id, "HTTP 410 Gone")
        .await
        .unwrap();
    assert_eq!(store.webhook_counts().await.unwrap(), (2, 1));

    let mut tx = store.begin_read().await.unwrap();
    let by_id = |all: &[WebhookDelivery], n: u8| {
        all.iter()
            .find(|d| d.id == delivery(n, 1).id)
            .cloned()
            .unwrap()
    };
    let all = tx.webhook_deliveries_of_org(&org, None, 10).await.unwrap();
    assert_eq!(by_id(&all, 10).state, WebhookState::Delivered { at: later });
    let retried = by_id(&all, 11);
    assert_eq!(
        (
            retried.state,
            retried.due_at,
            retried.last_failure.as_deref()
        ),
        (WebhookState::Pending, later, Some("HTTP 503"))
    );
    assert_eq!(
        by_id(&all, 12).state,
        WebhookState::Dead {
            at: later,
            reason: "gave up".into()
        }
    );
    let endpoints = tx.endpoints_of_org(&org).await.unwrap();
    assert!(!endpoints[1].enabled);
    assert_eq!(
        endpoints[1].disabled_reason.as_deref(),
        Some("HTTP 410 Gone")
    );
    drop(tx);

    // A deleted endpoint's deliveries are claimed without it (the dispatcher gives them up).
    let mut tx = store.begin().await.unwrap();
    assert!(tx.delete_endpoint(&org, endpoint(1).id).await.unwrap());
    assert!(!tx.delete_endpoint(&org, endpoint(1).id).await.unwrap());
    tx.commit().await.unwrap();
    let orphan = store.claim_webhooks(later, 10, lease).await.unwrap();
    let ends: Vec<(DeliveryId, Option<EndpointId>)> = orphan
        .iter()
        .map(|(d, e)| (d.id, e.as_ref().map(|e| e.id)))
        .collect();
    assert_eq!(
        ends,
        vec![
            (delivery(13, 2).id, Some(endpoint(2).id)),
            (delivery(11, 1).id, None)
        ],
        "oldest due first; the deleted endpoint's delivery comes without it"
    );

    // Two dispatchers claiming at once never take one delivery twice.
    let mut tx = store.begin().await.unwrap();
    for n in 100..160u8 {
        tx.enqueue_webhook(&delivery(n, 2)).await.unwrap();
    }
    tx.commit().await.unwrap();
    let far = later + Duration::days(1);
    let claim = |s: S| async move {
        let mut mine = Vec::new();
        loop {
            let batch = s.claim_webhooks(far, 7, Duration::hours(1)).await.unwrap();
            if batch.is_empty() {
                break mine;
            }
            mine.extend(batch.into_iter().map(|(d, _)| d.id));
        }
    };
    let (a, b) = futures_join(claim(store.clone()), claim(store.clone())).await;
    let mut all: Vec<DeliveryId> = a.iter().chain(&b).copied().collect();
    let claimed = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), claimed, "no delivery claimed twice");
    assert_eq!(
        claimed, 62,
        "the 60 new ones, the retried one and the orphan"
    );
}

//! The JSON documents this store has written, frozen as fixtures under `tests/fixtures/stored/`:
//! every one must keep reading back as the value it was written from. A renamed or retyped
//! field of a stored core type fails here first, before any database holds a row it can no
//! longer read; such a change needs a migration of the stored documents.

use time::macros::datetime;

use portico_core::model::{
    Actor, AuditAction, DecisionKind, Email, LinkReason, NotificationKind, QuoteDecision, Record,
    Section, Sections, Signature,
};
use portico_core::testing::fixtures;

fn read(name: &str) -> serde_json::Value {
    let path = format!(
        "{}/tests/fixtures/stored/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).expect("the fixture is checked in");
    serde_json::from_str(&text).expect("the fixture is JSON")
}

/// The records the fixtures were written from: every optional field set.
fn records() -> Vec<(&'static str, Record)> {
    let org = fixtures::org("o1").id;
    let client = fixtures::client(&org, "c1").id;
    let tech = fixtures::staff(&org, "tech", portico_core::model::Role::Technician).id;
    let mut wo = fixtures::work_order(&org, "wo1", Some(&client), Some(&tech));
    wo.signature = Some(Signature {
        signed_by: "Jordan Lee".into(),
        signed_at: datetime!(2026-03-04 15:30 UTC),
        image: Some(fixtures::file_id("sig")),
    });
    wo.completed_at = Some(datetime!(2026-03-04 15:31 UTC));
    wo.paid_at = Some(datetime!(2026-03-05 10:00 UTC));
    wo.paid = true;
    wo.status = portico_core::model::WorkStatus::Completed;
    let mut quote = fixtures::quote(&org, "q1", Some(&client));
    quote.decision = Some(QuoteDecision {
        kind: DecisionKind::ChangesRequested,
        message: Some("Cheaper sockets, please.".into()),
        at: datetime!(2026-03-03 12:00 UTC),
    });
    let invoice = fixtures::invoice(&org, "i1", Some(&client), Some(&wo.id));
    // Written before Portico kept completion and payment times: they read as unknown.
    let before_stamps = portico_core::model::WorkOrder {
        completed_at: None,
        paid_at: None,
        ..wo.clone()
    };
    // Photos with the day taken and a before/after stage (C7 galleries).
    let mut gallery = wo.clone();
    gallery.files[0].taken_at = Some(datetime!(2026-03-04 09:00 UTC));
    gallery.files[0].stage = Some(portico_core::model::PhotoStage::Before);
    gallery.files[1].stage = Some(portico_core::model::PhotoStage::After);
    vec![
        ("work_order_before_stamps", Record::WorkOrder(before_stamps)),
        ("work_order", Record::WorkOrder(wo)),
        ("work_order_with_gallery", Record::WorkOrder(gallery)),
        ("quote", Record::Quote(quote)),
        ("invoice", Record::Invoice(invoice)),
    ]
}

// Reason: one table of every stored shape reads best whole.
#[allow(clippy::too_many_lines)]
fn notification_kinds() -> Vec<(&'static str, NotificationKind)> {
    let client = || portico_core::model::ClientId::new("c1").unwrap();
    let grant = uuid::Uuid::parse_str("0f0f0f0f-0f0f-4f0f-8f0f-0f0f0f0f0f0f").unwrap();
    vec![
        (
            "portal_invite",
            NotificationKind::PortalInvite {
                client: client(),
                grant,
            },
        ),
        (
            "portal_sign_in",
            NotificationKind::PortalSignIn {
                client: client(),
                grant,
            },
        ),
        (
            "password_reset",
            NotificationKind::PasswordReset {
                client: client(),
                grant,
            },
        ),
        (
            "password_changed",
            NotificationKind::PasswordChanged { client: client() },
        ),
        (
            "link_shared",
            NotificationKind::LinkShared {
                reason: LinkReason::Enabled,
            },
        ),
        (
            "status_changed",
            NotificationKind::StatusChanged {
                from: "scheduled".into(),
                to: "in_progress".into(),
            },
        ),
        (
            "tasks_completed",
            NotificationKind::TasksCompleted {
                tasks: vec!["Isolate circuit".into()],
                task_ids: vec![fixtures::task_id("t1")],
            },
        ),
        // Queued before notifications kept task and update ids (matched by text at send time).
        (
            "tasks_completed_before_ids",
            NotificationKind::TasksCompleted {
                tasks: vec!["Isolate circuit".into()],
                task_ids: vec![],
            },
        ),
        (
            "updates_shared_before_ids",
            NotificationKind::UpdatesShared {
                updates: vec!["On our way.".into()],
                update_ids: vec![],
            },
        ),
        (
            "updates_shared",
            NotificationKind::UpdatesShared {
                updates: vec!["On our way.".into()],
                update_ids: vec![fixtures::update_id("u1")],
            },
        ),
        (
            "quote_decided",
            NotificationKind::QuoteDecided {
                decision: DecisionKind::Declined,
                message: Some("Too dear.".into()),
            },
        ),
        (
            "help_requested",
            NotificationKind::HelpRequested {
                name: "Jordan".into(),
                phone: Some("+1 555 0142".into()),
                message: "When do you arrive?".into(),
            },
        ),
        (
            "message_from_staff",
            NotificationKind::MessageFromStaff {
                client: client(),
                author: "Sam".into(),
                body: "We come on Tuesday.".into(),
            },
        ),
        (
            "message_from_client",
            NotificationKind::MessageFromClient {
                name: "Jordan".into(),
                body: "Thanks!".into(),
                job: Some("Rewire kitchen".into()),
            },
        ),
        (
            "service_requested",
            NotificationKind::ServiceRequested {
                name: "Jordan".into(),
                email: Some(Email::parse("jordan@client.example").expect("valid")),
                phone: Some("+1 555 0142".into()),
                address: Some("12 Elm Street".into()),
                description: "The porch light flickers.".into(),
                preferred_dates: vec![time::macros::date!(2026 - 03 - 05)],
                // Stored before requests carried photos: reads as none.
                photos: 0,
            },
        ),
        (
            "contract_signed",
            NotificationKind::ContractSigned {
                name: "Jordan Lee".into(),
                title: "Service terms".into(),
                version: 2,
                digest: "ab".repeat(32),
            },
        ),
        (
            "payment_to_client",
            NotificationKind::PaymentToClient {
                outcome: portico_core::model::PaymentOutcome::Received,
                number: "INV-2001".into(),
                amount: portico_core::model::Money::new(
                    rust_decimal::Decimal::new(73_425, 2),
                    portico_core::model::Currency::USD,
                ),
            },
        ),
        (
            "payment_to_business",
            NotificationKind::PaymentToBusiness {
                outcome: portico_core::model::PaymentOutcome::Failed,
                number: "INV-2001".into(),
                amount: portico_core::model::Money::new(
                    rust_decimal::Decimal::new(73_425, 2),
                    portico_core::model::Currency::USD,
                ),
                client: "Jordan Lee".into(),
            },
        ),
    ]
}

fn audit_actors() -> Vec<(&'static str, Actor)> {
    vec![
        (
            "staff",
            Actor::Staff(
                fixtures::staff(
                    &fixtures::org("o1").id,
                    "ann",
                    portico_core::model::Role::Owner,
                )
                .id,
            ),
        ),
        ("client", Actor::Client),
    ]
}

fn audit_actions() -> Vec<(&'static str, AuditAction)> {
    let email = |raw| Email::parse(raw).expect("valid");
    vec![
        ("share_enabled", AuditAction::ShareEnabled),
        ("share_reshared", AuditAction::ShareReshared),
        (
            "recipient_changed",
            AuditAction::RecipientChanged {
                from: email("a@x.example"),
                to: email("b@x.example"),
            },
        ),
        (
            "sections_changed",
            AuditAction::SectionsChanged {
                from: Sections::ALL,
                to: Sections::ALL.with(Section::Updates, false),
            },
        ),
        ("share_revoked", AuditAction::ShareRevoked),
        (
            "share_ended_client_changed",
            AuditAction::ShareEndedClientChanged,
        ),
        (
            "quote_decided",
            AuditAction::QuoteDecided {
                decision: DecisionKind::Approved,
            },
        ),
    ]
}

/// Reads `file`'s entries (an object of fixture name → document) with the store's `read`,
/// each checked against the value it was written from.
fn check<T>(
    file: &str,
    expected: Vec<(&'static str, T)>,
    read_with: fn(serde_json::Value) -> Result<T, portico_core::ports::StoreError>,
) where
    T: PartialEq + std::fmt::Debug,
{
    let stored = read(file);
    let stored = stored.as_object().expect("an object of named documents");
    assert_eq!(
        stored.len(),
        expected.len(),
        "{file}: one document per shape"
    );
    for (name, value) in expected {
        let document = stored
            .get(name)
            .unwrap_or_else(|| panic!("{file}: no {name}"));
        let read: T = read_with(document.clone())
            .unwrap_or_else(|e| panic!("{file}: {name} no longer reads ({e}); migrate it"));
        assert_eq!(read, value, "{file}: {name}");
    }
}

#[test]
fn i2_every_stored_record_shape_still_reads() {
    let stored = read("records-v1.json");
    let stored = stored.as_object().expect("an object of named documents");
    let expected = records();
    assert_eq!(
        stored.len(),
        expected.len(),
        "one document per stored shape"
    );
    for (name, record) in expected {
        let body = stored
            .get(name)
            .unwrap_or_else(|| panic!("no {name}"))
            .clone();
        // The text a client page reads reads the same.
        let from_text = crate::document::from_text(&body.to_string())
            .unwrap_or_else(|e| panic!("{name} no longer reads as text ({e}); migrate it"));
        assert_eq!(from_text, record, "{name} as text");
        // Through the store's own read path, beside columns as a row would hold them.
        let row = crate::entity::records::Model {
            org_id: record.org_id().as_str().to_owned(),
            kind: name.to_owned(),
            id: record.id().as_str().to_owned(),
            client_id: None,
            work_order_id: None,
            title: String::new(),
            status: String::new(),
            currency: "USD".into(),
            total: None,
            amount_due: None,
            body,
            version: 3,
            staff_ids: None,
        };
        let read = crate::convert::record_from_row(row)
            .unwrap_or_else(|e| panic!("{name} no longer reads ({e}); migrate it"));
        assert_eq!((read.value, read.version), (record, 3), "{name}");
    }
}

#[test]
fn n5_every_stored_notification_kind_still_reads() {
    check(
        "notification-kinds-v1.json",
        notification_kinds(),
        crate::document::kind_from_json,
    );
    for (name, kind) in notification_kinds() {
        let json = crate::document::kind_to_json(&kind).unwrap();
        assert_eq!(
            crate::document::kind_from_json(json).unwrap(),
            kind,
            "{name}"
        );
    }
}

#[test]
fn s12_every_stored_audit_actor_and_action_still_reads() {
    check(
        "audit-actors-v1.json",
        audit_actors(),
        crate::document::actor_from_json,
    );
    check(
        "audit-actions-v1.json",
        audit_actions(),
        crate::document::action_from_json,
    );
    for ((_, actor), (name, action)) in audit_actors().into_iter().cycle().zip(audit_actions()) {
        let (a, b) = crate::document::audit_to_json(&actor, &action).unwrap();
        let read = (
            crate::document::actor_from_json(a).unwrap(),
            crate::document::action_from_json(b).unwrap(),
        );
        assert_eq!(read, (actor, action), "{name}");
    }
}

#[test]
fn i2_a_record_is_written_as_the_current_version_and_a_newer_one_is_refused() {
    for (name, record) in records() {
        let body = crate::document::to_body(&record).unwrap();
        assert_eq!(
            body.get("schema_version")
                .and_then(serde_json::Value::as_u64),
            Some(crate::document::SCHEMA_VERSION),
            "{name}"
        );
        assert_eq!(
            crate::document::from_text(&body.to_string()).unwrap(),
            record,
            "{name} as text"
        );
        assert_eq!(crate::document::from_body(body).unwrap(), record, "{name}");
    }
    let mut newer = crate::document::to_body(&records().remove(0).1).unwrap();
    newer["schema_version"] = 2.into();
    let refused = crate::document::from_text(&newer.to_string()).unwrap_err();
    assert!(refused.to_string().contains("newer Portico"), "{refused}");
    let refused = crate::document::from_body(newer).unwrap_err();
    assert!(refused.to_string().contains("newer Portico"), "{refused}");
    let mut bad_time = crate::document::to_body(&records().remove(1).1).unwrap();
    bad_time["completed_at"] = "yesterday".into();
    let refused = crate::document::from_text(&bad_time.to_string()).unwrap_err();
    assert!(
        matches!(refused, portico_core::ports::StoreError::Corrupt { .. }),
        "{refused:?}"
    );
    let refused = crate::document::from_body(bad_time).unwrap_err();
    assert!(
        matches!(refused, portico_core::ports::StoreError::Corrupt { .. }),
        "{refused:?}"
    );
    for odd in [
        "",
        "[]",
        "{}",
        r#"{"kind":"memo"}"#,
        r#"{"kind":"quote","schema_version":"1"}"#,
    ] {
        let refused = crate::document::from_text(odd).unwrap_err();
        assert!(
            matches!(refused, portico_core::ports::StoreError::Corrupt { .. }),
            "{odd}: {refused:?}"
        );
    }
}

#[test]
fn i2_a_moment_rfc_3339_cannot_write_is_refused_rather_than_stored_unreadable() {
    let mut record = records().remove(1).1;
    let Record::WorkOrder(wo) = &mut record else {
        panic!("the second record is a work order")
    };
    let odd = time::UtcOffset::from_hms(1, 0, 30).unwrap();
    wo.updates[0].posted_at = wo.updates[0].posted_at.to_offset(odd);
    let refused = crate::document::to_body(&record);
    assert!(
        matches!(refused, Err(portico_core::ports::StoreError::Backend(_))),
        "{refused:?}"
    );
}

#[test]
fn i2_the_enum_columns_keep_their_spelling() {
    use portico_core::model::{Plan, RecordKind, Role};
    let kinds = [
        RecordKind::WorkOrder,
        RecordKind::Quote,
        RecordKind::Invoice,
    ]
    .map(crate::convert::kind_str);
    assert_eq!(kinds, ["work_order", "quote", "invoice"]);
    let plans = [Plan::Starter, Plan::Pro, Plan::Business].map(crate::convert::plan_str);
    assert_eq!(plans, ["starter", "pro", "business"]);
    let roles = Role::ALL.map(crate::convert::role_str);
    assert_eq!(
        roles,
        [
            "owner",
            "admin",
            "supervisor",
            "sole_trader",
            "technician",
            "apprentice"
        ]
    );
    for kind in kinds {
        assert_eq!(
            crate::convert::kind_str(crate::convert::kind_from(kind).unwrap()),
            kind
        );
    }
    assert!(crate::convert::kind_from("job").is_err());
}

//! Snapshots of every email kind (text and HTML), and escaping.

use portico_core::model::{
    DecisionKind, Email, LinkReason, Notification, NotificationId, NotificationKind, RecordKind,
    RecordRef,
};
use portico_core::ports::{Composer, MailContext, Visit};
use portico_core::testing::fixtures::{self, T0};
use portico_mail::TemplateComposer;
use time::macros::datetime;

fn notification(kind: NotificationKind) -> Notification {
    let to_business = kind.to_business();
    Notification {
        id: NotificationId(uuid::Uuid::from_u128(0x5eed)),
        org_id: fixtures::org("org1").id,
        share_id: None,
        record: Some(RecordRef {
            kind: RecordKind::WorkOrder,
            id: portico_core::model::RecordId::new("wo1").unwrap(),
        }),
        to: Email::parse(if to_business {
            "office@brightspark.example"
        } else {
            "jordan@client.example"
        })
        .unwrap(),
        kind,
        created_at: T0,
        due_at: T0,
        delivery: portico_core::model::Delivery::Pending,
        attempts: 0,
        last_failure: None,
    }
}

#[test]
fn n2_n3_n4_every_kind_of_email_as_text_and_html() {
    let org = fixtures::org("org1");
    let context = MailContext {
        org: &org,
        title: "Rewire kitchen",
        link: Some("https://share.example/s/TOKEN"),
        visit: None,
        code: None,
        portal: None,
    };
    let kinds = [
        (
            "link_shared",
            NotificationKind::LinkShared {
                reason: LinkReason::Enabled,
            },
        ),
        (
            "link_reshared",
            NotificationKind::LinkShared {
                reason: LinkReason::Reshared,
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
                tasks: vec!["Isolate circuit".into(), "Run new cable".into()],
                task_ids: Vec::new(),
            },
        ),
        (
            "updates_shared",
            NotificationKind::UpdatesShared {
                updates: vec!["We will arrive between 8 and 9.".into()],
                update_ids: Vec::new(),
            },
        ),
        (
            "quote_decided",
            NotificationKind::QuoteDecided {
                decision: DecisionKind::ChangesRequested,
                message: Some("Can we use white sockets?".into()),
            },
        ),
        (
            "help_requested",
            NotificationKind::HelpRequested {
                name: "Jordan Lee".into(),
                phone: Some("+1 555 0142".into()),
                message: "The breaker trips again.".into(),
            },
        ),
    ];
    for (name, kind) in kinds {
        let n = notification(kind);
        let email = TemplateComposer.compose(&n, &context);
        assert_eq!(email.message_id, format!("{}@portico", n.id.0));
        assert_eq!(email.from_name, "Bright Spark Electrical");
        if n.kind.to_business() {
            assert!(
                !email.text.contains("share.example"),
                "no client link to the business"
            );
        } else {
            assert!(
                email.text.contains("https://share.example/s/TOKEN"),
                "{name}"
            );
            assert!(
                email.html.contains("https://share.example/s/TOKEN"),
                "{name}"
            );
        }
        insta::assert_snapshot!(
            format!("{name}_text"),
            format!("Subject: {}\n\n{}", email.subject, email.text)
        );
        insta::assert_snapshot!(format!("{name}_html"), email.html);
    }
}

#[test]
fn n3_html_escapes_what_clients_and_hosts_wrote() {
    let org = fixtures::org("org1");
    let context = MailContext {
        org: &org,
        title: "<b>Job</b>",
        link: None,
        visit: None,
        code: None,
        portal: None,
    };
    let n = notification(NotificationKind::HelpRequested {
        name: "<script>alert(1)</script>".into(),
        phone: None,
        message: "\"quoted\" & <img src=x onerror=alert(1)>".into(),
    });
    let email = TemplateComposer.compose(&n, &context);
    assert!(
        !email.html.contains("<script>") && !email.html.contains("<img src=x"),
        "{}",
        email.html
    );
    assert!(email.html.contains("&#60;script&#62;"), "{}", email.html);
    assert!(
        email.text.contains("<script>alert(1)</script>"),
        "text is text"
    );
}

/// V9: a status email with the planned visit, and a business email with the moment the client
/// acted, in an org far east of UTC and one west of it: times on the org's clock with its zone,
/// dates in its locale.
#[test]
fn v9_emails_show_times_on_the_orgs_clock_in_its_locale() {
    let visit = Visit {
        start: datetime!(2026-03-02 21:00 UTC),
        end: Some(datetime!(2026-03-03 05:30 UTC)),
    };
    for (name, zone, locale) in [
        ("sydney_en_au", "Australia/Sydney", "en-AU"),
        ("los_angeles_en_us", "America/Los_Angeles", "en-US"),
    ] {
        let mut org = fixtures::org("org1");
        org.settings.time_zone = zone.into();
        org.settings.locale = locale.into();
        let context = MailContext {
            org: &org,
            title: "Rewire kitchen",
            link: Some("https://share.example/s/TOKEN"),
            visit: Some(visit),
            code: None,
            portal: None,
        };
        let status = TemplateComposer.compose(
            &notification(NotificationKind::StatusChanged {
                from: "unscheduled".into(),
                to: "scheduled".into(),
            }),
            &context,
        );
        insta::assert_snapshot!(
            format!("status_with_visit_{name}"),
            format!("Subject: {}\n\n{}", status.subject, status.text)
        );
        let decided = TemplateComposer.compose(
            &notification(NotificationKind::QuoteDecided {
                decision: DecisionKind::Approved,
                message: None,
            }),
            &MailContext {
                visit: None,
                link: None,
                ..context
            },
        );
        insta::assert_snapshot!(
            format!("quote_decided_{name}"),
            format!("Subject: {}\n\n{}", decided.subject, decided.text)
        );
        assert!(
            status.html.contains("Planned visit:"),
            "the HTML says it too: {}",
            status.html
        );
    }
}

/// C2–C4: the portal's mails: the invitation and the sign-in mail carry the link and the code,
/// the reset mail the link only, the notice neither; every one names the portal's address.
#[test]
fn c2_c3_c4_portal_mails_as_text_and_html() {
    let org = fixtures::org("org1");
    let client = portico_core::model::ClientId::new("c1").unwrap();
    let grant = uuid::Uuid::from_u128(7);
    let portal = "https://share.example/portal/org1";
    for (name, kind, link) in [
        (
            "portal_invite",
            NotificationKind::PortalInvite {
                client: client.clone(),
                grant,
            },
            true,
        ),
        (
            "portal_sign_in",
            NotificationKind::PortalSignIn {
                client: client.clone(),
                grant,
            },
            true,
        ),
        (
            "password_reset",
            NotificationKind::PasswordReset {
                client: client.clone(),
                grant,
            },
            true,
        ),
        (
            "password_changed",
            NotificationKind::PasswordChanged {
                client: client.clone(),
            },
            false,
        ),
    ] {
        let context = MailContext {
            org: &org,
            title: &org.name,
            link: link.then_some("https://share.example/portal/org1/link/TOKEN"),
            visit: None,
            code: link
                .then_some("12345678")
                .filter(|_| name != "password_reset"),
            portal: Some(portal),
        };
        let mut n = notification(kind);
        n.record = None;
        let email = TemplateComposer.compose(&n, &context);
        assert!(
            email.text.contains(portal) && email.html.contains(portal),
            "{name}"
        );
        assert_eq!(
            email.text.contains("1234 5678"),
            link && name != "password_reset"
        );
        insta::assert_snapshot!(
            format!("{name}_text"),
            format!("Subject: {}\n\n{}", email.subject, email.text)
        );
        insta::assert_snapshot!(format!("{name}_html"), email.html);
    }
}

#[test]
fn c7_portal_messages_service_requests_and_signatures_as_text_and_html() {
    let org = fixtures::org("org1");
    let portal = "https://share.example/portal/org1";
    for (name, kind) in [
        (
            "message_from_staff",
            NotificationKind::MessageFromStaff {
                client: portico_core::model::ClientId::new("c1").unwrap(),
                author: "Sam".into(),
                body: "We come on Tuesday <between 8 & 10>.\nPlease leave the gate open.".into(),
            },
        ),
        (
            "message_from_client",
            NotificationKind::MessageFromClient {
                name: "Jordan <Lee>".into(),
                body: "Thanks!\nSee you then.".into(),
                job: Some("Rewire kitchen".into()),
            },
        ),
        (
            "service_requested",
            NotificationKind::ServiceRequested {
                name: "Jordan Lee".into(),
                email: Some(Email::parse("jordan@client.example").unwrap()),
                phone: Some("+1 555 0142".into()),
                address: Some("12 Elm Street".into()),
                description: "The porch light flickers <sometimes>.".into(),
                preferred_dates: vec![
                    time::macros::date!(2026 - 03 - 05),
                    time::macros::date!(2026 - 03 - 06),
                ],
                photos: 2,
            },
        ),
        (
            "contract_signed",
            NotificationKind::ContractSigned {
                name: "Jordan <Lee>".into(),
                title: "Service terms <2026>".into(),
                version: 2,
                digest: "ab".repeat(32),
            },
        ),
    ] {
        let context = MailContext {
            org: &org,
            title: "",
            link: None,
            visit: None,
            code: None,
            portal: Some(portal),
        };
        let mut n = notification(kind);
        n.record = None;
        let email = TemplateComposer.compose(&n, &context);
        assert!(!email.html.contains("<between"), "{name}: escaped");
        assert!(!email.html.contains("<sometimes>"), "{name}: escaped");
        assert!(!email.html.contains("<Lee>"), "{name}: escaped");
        assert!(!email.html.contains("<2026>"), "{name}: escaped");
        insta::assert_snapshot!(
            format!("{name}_text"),
            format!("Subject: {}\n\n{}", email.subject, email.text)
        );
        insta::assert_snapshot!(format!("{name}_html"), email.html);
    }
}

#[test]
fn i5_payment_receipts_failures_and_notices_as_text_and_html() {
    use portico_core::model::{Currency, Money, PaymentOutcome};
    let org = fixtures::org("org1");
    let amount = Money::new(rust_decimal::Decimal::new(73_425, 2), Currency::USD);
    for (name, kind, says) in [
        (
            "payment_receipt",
            NotificationKind::PaymentToClient {
                outcome: PaymentOutcome::Received,
                number: "INV-2001".into(),
                amount,
            },
            "receipt",
        ),
        (
            "payment_failed_to_client",
            NotificationKind::PaymentToClient {
                outcome: PaymentOutcome::Failed,
                number: "INV-2001".into(),
                amount,
            },
            "nothing was taken",
        ),
        (
            "payment_received_to_business",
            NotificationKind::PaymentToBusiness {
                outcome: PaymentOutcome::Received,
                number: "INV-2001".into(),
                amount,
                client: "Jordan <Lee>".into(),
            },
            "paid $734.25 online",
        ),
        (
            "payment_failed_to_business",
            NotificationKind::PaymentToBusiness {
                outcome: PaymentOutcome::Failed,
                number: "INV-2001".into(),
                amount,
                client: "Jordan <Lee>".into(),
            },
            "due again",
        ),
    ] {
        let context = MailContext {
            org: &org,
            title: "Kitchen rewire",
            link: Some("https://share.example/s/TOKEN"),
            visit: None,
            code: None,
            portal: None,
        };
        let email = TemplateComposer.compose(&notification(kind), &context);
        assert!(email.text.contains(says), "{name}: {}", email.text);
        assert!(
            email.text.contains("$734.25"),
            "{name}: the amount in the org's locale"
        );
        assert!(!email.html.contains("<Lee>"), "{name}: escaped");
        insta::assert_snapshot!(
            format!("{name}_text"),
            format!("Subject: {}\n\n{}", email.subject, email.text)
        );
        insta::assert_snapshot!(format!("{name}_html"), email.html);
    }
}

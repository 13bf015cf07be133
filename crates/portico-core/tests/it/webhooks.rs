//! I4, I5: webhook signatures both ways, and the addresses Portico refuses to call.

use std::net::IpAddr;

use portico_core::policy::webhooks::{
    AddressRefused, BadSecret, STRIPE_TOLERANCE_SECONDS, SignatureRefused, public_address,
    secret_key, secret_of, sign_standard, verify_stripe,
};
use proptest::prelude::*;

const STRIPE_SECRET: &str = "whsec_test_secret";
const STRIPE_BODY: &[u8] = br#"{"id":"evt_1","type":"payment_intent.succeeded"}"#;
/// HMAC-SHA256 of `1700000000.` and the body with the secret, computed independently
/// (Python's `hmac`).
const STRIPE_V1: &str = "22d8dc182f5c588077683bd378368e29765bfe5df2560112b4f28fef120f0e31";

fn stripe_header(t: i64, v1: &str) -> String {
    format!("t={t},v1={v1}")
}

#[test]
fn i5_a_stripe_signature_is_checked_over_the_raw_body_within_five_minutes() {
    let t = 1_700_000_000;
    let check = |header: &str, body: &[u8], now: i64| {
        verify_stripe(header, body, STRIPE_SECRET, now, STRIPE_TOLERANCE_SECONDS)
    };
    assert_eq!(
        check(&stripe_header(t, STRIPE_V1), STRIPE_BODY, t + 10),
        Ok(())
    );
    // Several v1 while a secret rolls: one matching is enough; other schemes are ignored.
    let rolled = format!("t={t},v0=abc,v1={},v1={STRIPE_V1}", "00".repeat(32));
    assert_eq!(check(&rolled, STRIPE_BODY, t), Ok(()));
    let mut altered = STRIPE_BODY.to_vec();
    altered[10] ^= 1;
    for (header, body, now, refused) in [
        (
            stripe_header(t, STRIPE_V1),
            &altered[..],
            t,
            SignatureRefused::Mismatch,
        ),
        (
            stripe_header(t, &"ab".repeat(32)),
            STRIPE_BODY,
            t,
            SignatureRefused::Mismatch,
        ),
        (
            stripe_header(t, STRIPE_V1),
            STRIPE_BODY,
            t + 301,
            SignatureRefused::OutsideTolerance,
        ),
        (
            stripe_header(t, STRIPE_V1),
            STRIPE_BODY,
            t - 301,
            SignatureRefused::OutsideTolerance,
        ),
        (
            format!("v1={STRIPE_V1}"),
            STRIPE_BODY,
            t,
            SignatureRefused::Malformed,
        ),
        (
            format!("t={t}"),
            STRIPE_BODY,
            t,
            SignatureRefused::Malformed,
        ),
        (
            format!("t=soon,v1={STRIPE_V1}"),
            STRIPE_BODY,
            t,
            SignatureRefused::Malformed,
        ),
        (
            format!("t={t},v1=zz"),
            STRIPE_BODY,
            t,
            SignatureRefused::Malformed,
        ),
        (String::new(), STRIPE_BODY, t, SignatureRefused::Malformed),
    ] {
        assert_eq!(check(&header, body, now), Err(refused), "{header}");
    }
    assert_eq!(
        verify_stripe(
            &stripe_header(t, STRIPE_V1),
            STRIPE_BODY,
            "whsec_other",
            t,
            300
        ),
        Err(SignatureRefused::Mismatch)
    );
}

#[test]
fn i4_host_webhooks_are_signed_the_standard_webhooks_way() {
    // The Standard Webhooks reference vector (checked against its Python library).
    let key = secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    assert_eq!(
        sign_standard(
            &key,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            br#"{"test": 2432232314}"#
        ),
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    );
    assert_eq!(secret_key(&secret_of(&[7; 32])), Ok(vec![7; 32]));
    for bad in [
        "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "whsec_!!!",
        "whsec_AAAA",
        "",
    ] {
        assert_eq!(secret_key(bad), Err(BadSecret), "{bad}");
    }
}

#[test]
fn i4_endpoints_on_loopback_private_link_local_or_metadata_addresses_are_refused() {
    let refused = |raw: &str| public_address(raw.parse::<IpAddr>().unwrap()).err();
    for (raw, why) in [
        ("127.0.0.1", AddressRefused::Loopback),
        ("127.8.9.10", AddressRefused::Loopback),
        ("::1", AddressRefused::Loopback),
        ("::ffff:127.0.0.1", AddressRefused::Loopback),
        ("10.0.0.1", AddressRefused::Private),
        ("172.16.5.4", AddressRefused::Private),
        ("192.168.1.1", AddressRefused::Private),
        ("100.64.0.1", AddressRefused::Private),
        ("::ffff:10.0.0.1", AddressRefused::Private),
        ("fd00:ec2::254", AddressRefused::Private),
        ("169.254.169.254", AddressRefused::LinkLocal),
        ("fe80::1", AddressRefused::LinkLocal),
        ("0.0.0.0", AddressRefused::NotPublic),
        ("::", AddressRefused::NotPublic),
        ("255.255.255.255", AddressRefused::NotPublic),
        ("224.0.0.1", AddressRefused::NotPublic),
        ("ff02::1", AddressRefused::NotPublic),
        ("192.0.2.10", AddressRefused::NotPublic),
        ("2001:db8::1", AddressRefused::NotPublic),
        ("64:ff9b::7f00:1", AddressRefused::NotPublic),
    ] {
        assert_eq!(refused(raw), Some(why), "{raw}");
    }
    for public in [
        "8.8.8.8",
        "203.0.114.7",
        "2606:4700::1111",
        "::ffff:1.1.1.1",
    ] {
        assert_eq!(refused(public), None, "{public}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// I5: a body signed with the secret at a time within the tolerance verifies; the same
    /// header over a body changed in any one byte never does.
    #[test]
    fn i5_a_signature_verifies_its_body_and_no_body_changed_by_one_byte(
        body in proptest::collection::vec(any::<u8>(), 1..300),
        secret in "whsec_[A-Za-z0-9]{8,40}",
        at in 1_600_000_000i64..1_900_000_000,
        skew in -300i64..=300,
        flip in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        use hmac::Mac as _;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{at}.").as_bytes());
        mac.update(&body);
        let v1 = portico_core::model::Sha256Digest(mac.finalize().into_bytes().into()).to_hex();
        let header = stripe_header(at, &v1);
        prop_assert_eq!(verify_stripe(&header, &body, &secret, at + skew, 300), Ok(()));
        let mut changed = body.clone();
        changed[flip.index(body.len())] ^= 1 << bit;
        prop_assert_eq!(
            verify_stripe(&header, &changed, &secret, at + skew, 300),
            Err(SignatureRefused::Mismatch)
        );
    }
}

mod delivery {
    //! I4: endpoints, and deliveries queued with the change that caused them.

    use portico_core::model::{
        IntentId, PaymentAccount, ProviderEvent, ProviderEventKind, Role, WebhookState,
        WebhookValue,
    };
    use portico_core::service::{WebhookConfig, WebhookError};
    use time::Duration;

    use crate::support::{World, owner, staff_id, token};

    /// A world whose org takes payments, with its invoice shared; the link's token.
    fn world() -> (World, String) {
        let w = World::new();
        let account = PaymentAccount::new("acct_1Hooks").unwrap();
        w.block_on(w.portico.connect_payments(&owner(), &w.org, Some(&account)))
            .unwrap();
        let link = w.enable(&w.invoice).link.unwrap();
        (w, token(&link).to_owned())
    }

    fn register(w: &World, url: &str, events: &[&str]) -> portico_core::model::WebhookEndpoint {
        let events: Vec<String> = events.iter().map(|e| (*e).to_owned()).collect();
        w.block_on(w.portico.register_webhook(&owner(), &w.org, url, &events))
            .unwrap()
            .endpoint
    }

    /// Pays the shared invoice through a provider event; the event's intent.
    fn pay(w: &World, token: &str, event_id: &str) -> IntentId {
        let page = w.block_on(w.portico.pay_by_link(token)).unwrap();
        let minor = {
            use rust_decimal::prelude::ToPrimitive;
            (page.amount.amount * rust_decimal::Decimal::ONE_HUNDRED)
                .to_i64()
                .unwrap()
        };
        let event = ProviderEvent {
            id: event_id.into(),
            kind: ProviderEventKind::Succeeded,
            intent: page.intent.clone(),
            account: None,
            amount_minor: minor,
            currency: "usd".into(),
        };
        w.block_on(w.portico.payment_event(&event)).unwrap();
        page.intent
    }

    fn deliver(w: &World) -> portico_core::service::WebhookReport {
        w.block_on(w.portico.deliver_webhooks_once(
            &w.store,
            w.webhooks.as_ref(),
            &WebhookConfig::default(),
        ))
        .unwrap()
    }

    #[test]
    fn i4_an_event_is_queued_with_its_change_for_each_endpoint_that_wants_it_and_sent_once() {
        let (w, token) = world();
        let paid = register(&w, "https://host.example/hooks/paid", &["invoice.paid"]);
        let quotes = register(&w, "https://host.example/hooks/quotes", &["quote.decided"]);
        let intent = pay(&w, &token, "evt_1");

        let queued = w
            .block_on(w.portico.webhook_deliveries(&w.org, Some("pending"), 10))
            .unwrap();
        assert_eq!(queued.len(), 1, "only the endpoint that wants invoice.paid");
        assert_eq!(queued[0].endpoint, paid.id);
        assert_ne!(queued[0].endpoint, quotes.id);
        let event = &queued[0].event;
        assert_eq!(event.event_type, "invoice.paid");
        assert!(event.data.contains(&(
            "payment_id".to_owned(),
            WebhookValue::Text(intent.to_string())
        )));
        assert!(
            event
                .data
                .iter()
                .any(|(k, v)| k == "seq" && *v != WebhookValue::Number(0)),
            "the event's number in the org's log: {event:?}"
        );

        let report = deliver(&w);
        assert_eq!((report.claimed, report.delivered), (1, 1));
        let sent = w.webhooks.sent();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].url, paid.url);
        assert_eq!(sent[0].id, queued[0].id.header());
        assert!(sent[0].id.starts_with("msg_"));
        assert_eq!(sent[0].key, paid.key);
        assert_eq!(deliver(&w).claimed, 0, "delivered once");
        let delivered = w
            .block_on(w.portico.webhook_deliveries(&w.org, Some("delivered"), 10))
            .unwrap();
        assert!(matches!(delivered[0].state, WebhookState::Delivered { .. }));
    }

    #[test]
    fn i4_a_failing_endpoint_is_retried_under_the_same_id_then_given_up_and_410_disables_it() {
        let (w, token) = world();
        let endpoint = register(
            &w,
            "https://host.example/hooks",
            &["invoice.paid", "quote.decided"],
        );
        pay(&w, &token, "evt_1");
        w.webhooks
            .answer([Ok(500), Err("connection refused".to_owned())]);
        assert_eq!(deliver(&w).retried, 1);
        assert_eq!(deliver(&w).claimed, 0, "not due before its back-off");
        w.clock.advance(Duration::minutes(2));
        assert_eq!(deliver(&w).retried, 1);
        w.clock.advance(Duration::minutes(5));
        assert_eq!(deliver(&w).delivered, 1, "the receiver is back");
        let sent = w.webhooks.sent();
        assert_eq!(sent.len(), 3);
        assert!(
            sent.iter().all(|s| s.id == sent[0].id),
            "the same webhook-id on every try"
        );
        assert!(sent[2].timestamp > sent[0].timestamp, "each try's own time");

        // Past the give-up time, a delivery is dead and says why.
        w.block_on(w.portico.test_webhook(&owner(), &w.org, endpoint.id))
            .unwrap();
        w.webhooks.answer(std::iter::repeat_n(Ok(503), 40));
        for _ in 0..40 {
            deliver(&w);
            w.clock.advance(Duration::hours(4));
        }
        let dead = w
            .block_on(w.portico.webhook_deliveries(&w.org, Some("dead"), 10))
            .unwrap();
        assert_eq!(dead.len(), 1);
        assert!(
            matches!(&dead[0].state, WebhookState::Dead { reason, .. } if reason.contains("503")),
            "{dead:?}"
        );

        // 410 Gone disables the endpoint; nothing more is queued for it.
        w.webhooks.clear_answers();
        w.block_on(w.portico.test_webhook(&owner(), &w.org, endpoint.id))
            .unwrap();
        w.webhooks.answer([Ok(410)]);
        assert_eq!(deliver(&w).disabled, 1);
        let listed = w.block_on(w.portico.webhooks(&w.org)).unwrap();
        assert!(!listed[0].enabled);
        assert!(
            listed[0]
                .disabled_reason
                .as_deref()
                .unwrap()
                .contains("410")
        );
        let quote = w.enable(&w.quote).link.unwrap();
        w.block_on(w.portico.decide_quote(
            crate::support::token(&quote),
            &portico_core::policy::quote::ClientDecision::Approve,
        ))
        .unwrap();
        let pending = w
            .block_on(w.portico.webhook_deliveries(&w.org, Some("pending"), 10))
            .unwrap();
        assert!(
            pending.is_empty(),
            "a disabled endpoint gets nothing: {pending:?}"
        );
    }

    #[test]
    fn i4_an_endpoint_that_is_down_is_tried_once_a_round_and_never_holds_up_another() {
        let (w, _) = world();
        let down = register(&w, "https://down.example/hooks", &["quote.decided"]);
        let up = register(&w, "https://up.example/hooks", &["quote.decided"]);
        w.webhooks.down(&down.url);
        let quote = w.enable(&w.quote).link.unwrap();
        w.block_on(w.portico.decide_quote(
            token(&quote),
            &portico_core::policy::quote::ClientDecision::Approve,
        ))
        .unwrap();
        // Four more events for both: test events.
        for _ in 0..4 {
            w.block_on(w.portico.test_webhook(&owner(), &w.org, down.id))
                .unwrap();
            w.block_on(w.portico.test_webhook(&owner(), &w.org, up.id))
                .unwrap();
        }
        let report = deliver(&w);
        assert_eq!(report.claimed, 10);
        assert_eq!(report.delivered, 5, "{report:?}");
        assert_eq!(report.retried, 5, "{report:?}");
        let tried_down = w
            .webhooks
            .sent()
            .iter()
            .filter(|s| s.url == down.url)
            .count();
        assert_eq!(
            tried_down, 1,
            "the endpoint that is down was posted to once"
        );
        let waiting = w
            .block_on(w.portico.webhook_deliveries(&w.org, Some("pending"), 20))
            .unwrap();
        assert_eq!(waiting.len(), 5);
        assert!(
            waiting.iter().all(|d| d.endpoint == down.id
                && d.last_failure.as_deref().is_some_and(|f| !f.is_empty()))
        );
    }

    #[test]
    fn i4_a_crash_between_send_and_mark_resends_under_the_same_id_after_the_lease() {
        let (w, token) = world();
        register(&w, "https://host.example/hooks", &["invoice.paid"]);
        pay(&w, &token, "evt_1");
        // A dispatcher claims it, sends it, and dies before settling it.
        let claimed = w
            .block_on(portico_core::ports::WebhookOutbox::claim_webhooks(
                &w.store,
                w.portico.now(),
                10,
                Duration::minutes(2),
            ))
            .unwrap();
        assert_eq!(claimed.len(), 1);
        assert_eq!(deliver(&w).claimed, 0, "held by the lease");
        w.clock.advance(Duration::minutes(3));
        assert_eq!(deliver(&w).delivered, 1);
        assert_eq!(w.webhooks.sent()[0].id, claimed[0].0.id.header());
    }

    #[test]
    fn i4_endpoints_are_registered_by_managers_with_known_events_at_vetted_addresses() {
        let (w, _) = world();
        let events = vec!["invoice.paid".to_owned()];
        let as_tech = w.block_on(w.portico.register_webhook(
            &staff_id(Role::Technician),
            &w.org,
            "https://host.example/hooks",
            &events,
        ));
        assert!(
            matches!(as_tech, Err(WebhookError::Record(_))),
            "{as_tech:?}"
        );
        for bad in [vec![], vec!["invoice.deleted".to_owned()]] {
            let refused = w.block_on(w.portico.register_webhook(
                &owner(),
                &w.org,
                "https://host.example/hooks",
                &bad,
            ));
            assert!(matches!(refused, Err(WebhookError::Refused(_))), "{bad:?}");
        }
        for url in [
            "http://host.example/hooks",
            "https://localhost/hooks",
            "https://10.0.0.1/",
        ] {
            let refused = w.block_on(w.portico.register_webhook(&owner(), &w.org, url, &events));
            assert!(matches!(refused, Err(WebhookError::Refused(_))), "{url}");
        }
        let registered = w
            .block_on(w.portico.register_webhook(
                &owner(),
                &w.org,
                "https://host.example/hooks",
                &[
                    "invoice.paid".to_owned(),
                    "quote.decided".to_owned(),
                    "invoice.paid".to_owned(),
                ],
            ))
            .unwrap();
        assert!(registered.secret.starts_with("whsec_"));
        assert_eq!(
            portico_core::policy::webhooks::secret_key(&registered.secret).unwrap(),
            registered.endpoint.key
        );
        assert_eq!(
            registered.endpoint.events,
            ["quote.decided", "invoice.paid"]
        );
        let id = registered.endpoint.id;
        w.block_on(w.portico.delete_webhook(&owner(), &w.org, id))
            .unwrap();
        assert!(w.block_on(w.portico.webhooks(&w.org)).unwrap().is_empty());
        assert!(matches!(
            w.block_on(w.portico.delete_webhook(&owner(), &w.org, id)),
            Err(WebhookError::NotFound)
        ));
    }
}

mod every_type {
    //! I4: each kind of event the org's log records reaches an endpoint that wants it, once.

    use portico_core::model::{
        ContractId, IntentId, PaymentAccount, ProviderEvent, ProviderEventKind, Thread,
        WEBHOOK_EVENT_TYPES,
    };
    use portico_core::policy::inbox::RequestForm;
    use portico_core::policy::plans::SignForm;
    use portico_core::policy::quote::ClientDecision;
    use portico_core::service::{ContractDraft, WebhookConfig};
    use time::macros::date;

    use crate::support::{World, owner, token};

    fn event(w: &World, id: &str, kind: ProviderEventKind, intent: &IntentId) {
        let payments = w
            .block_on(w.portico.payments_of_invoice(&w.org, &w.invoice.id))
            .unwrap();
        let opened = payments.iter().find(|p| &p.intent == intent).unwrap();
        let minor = {
            use rust_decimal::prelude::ToPrimitive;
            (opened.amount.amount * rust_decimal::Decimal::ONE_HUNDRED)
                .to_i64()
                .unwrap()
        };
        let event = ProviderEvent {
            id: id.into(),
            kind,
            intent: intent.clone(),
            account: None,
            amount_minor: minor,
            currency: "usd".into(),
        };
        w.block_on(w.portico.payment_event(&event)).unwrap();
    }

    /// The client signs contract `k1` in the portal.
    fn sign_a_contract(w: &World, session: &str) {
        let draft = ContractDraft {
            org_id: w.org.clone(),
            id: ContractId::new("k1").unwrap(),
            client_id: w.client.clone(),
            title: "Service terms".into(),
            body: "We arrive within the window.".into(),
            document: None,
            void: false,
        };
        let sent = w
            .block_on(w.portico.put_contract(&owner(), &draft))
            .unwrap();
        let form = SignForm {
            version: 1,
            digest: portico_core::model::content_digest(
                "Service terms",
                "We arrive within the window.",
                None,
            )
            .to_hex(),
            name: "Jordan Lee".into(),
            confirmed: true,
            drawn: None,
        };
        w.block_on(
            w.portico
                .portal_sign_contract(&w.org, session, &sent[0].id, form, None, None),
        )
        .unwrap();
    }

    /// An online payment of the shared invoice fails, then another succeeds.
    fn pay_once_failing_then_succeeding(w: &World) {
        let account = PaymentAccount::new("acct_1Every").unwrap();
        w.block_on(w.portico.connect_payments(&owner(), &w.org, Some(&account)))
            .unwrap();
        let invoice = w.enable(&w.invoice).link.unwrap();
        let first = w.block_on(w.portico.pay_by_link(token(&invoice))).unwrap();
        event(w, "evt_failed", ProviderEventKind::Failed, &first.intent);
        let second = w.block_on(w.portico.pay_by_link(token(&invoice))).unwrap();
        event(w, "evt_paid", ProviderEventKind::Succeeded, &second.intent);
    }

    #[test]
    fn i4_every_event_type_reaches_an_endpoint_that_wants_them_all_once() {
        let w = World::new();
        let all: Vec<String> = WEBHOOK_EVENT_TYPES
            .iter()
            .map(|t| (*t).to_owned())
            .collect();
        w.block_on(
            w.portico
                .register_webhook(&owner(), &w.org, "https://host.example/all", &all),
        )
        .unwrap();
        // The client's first sign-in (a second is no event).
        w.invite();
        w.deliver();
        let session = w.sign_in().session.expose().to_owned();
        w.invite();
        w.deliver();
        w.sign_in();

        // A link opened, twice; a quote decided on its page.
        let quote = w.enable(&w.quote).link.unwrap();
        w.block_on(w.portico.open_link(token(&quote))).unwrap();
        w.clock.advance(time::Duration::minutes(1));
        w.block_on(w.portico.open_link(token(&quote))).unwrap();
        w.block_on(
            w.portico
                .decide_quote(token(&quote), &ClientDecision::Approve),
        )
        .unwrap();
        // A message and a service request from the portal.
        w.block_on(
            w.portico
                .portal_send_message(&w.org, &session, &Thread::General, "Hello"),
        )
        .unwrap();
        let form = RequestForm {
            name: "Jordan Lee".into(),
            email: "jordan@client.example".into(),
            phone: "+1 555 0142".into(),
            address: "12 Elm Street".into(),
            description: "The porch light flickers.".into(),
            preferred_dates: vec![date!(2026 - 03 - 05)],
        };
        w.block_on(
            w.portico
                .portal_send_request(&w.org, &session, &form, vec![]),
        )
        .unwrap();
        sign_a_contract(&w, &session);
        pay_once_failing_then_succeeding(&w);

        for _ in 0..3 {
            w.block_on(w.portico.deliver_webhooks_once(
                &w.store,
                w.webhooks.as_ref(),
                &WebhookConfig::default(),
            ))
            .unwrap();
        }
        let mut types: Vec<String> = w
            .webhooks
            .sent()
            .into_iter()
            .map(|s| s.event.event_type)
            .collect();
        types.sort();
        let mut expected = all.clone();
        expected.sort();
        assert_eq!(types, expected, "each type once");
        let sent = w.webhooks.sent();
        let opened = sent
            .iter()
            .find(|s| s.event.event_type == "link.first_opened")
            .unwrap();
        let field = |name: &str| {
            opened
                .event
                .data
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(
            field("record_id"),
            Some(portico_core::model::WebhookValue::Text(
                w.quote.id.to_string()
            ))
        );
        assert_eq!(
            field("record_kind"),
            Some(portico_core::model::WebhookValue::Text("quote".into()))
        );
        assert_eq!(
            field("client_id"),
            Some(portico_core::model::WebhookValue::Text(
                w.client.to_string()
            ))
        );
    }
}

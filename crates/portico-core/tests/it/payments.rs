//! I5: Pay now pays the invoice's amount due through the payment port; only the provider's
//! verified events move a payment, each once.

use portico_core::model::{
    FeedEventKind, IntentId, Invoice, NotificationKind, PaymentAccount, PaymentOutcome,
    PaymentState, ProviderEvent, ProviderEventKind, Record, WorkStatus,
};
use portico_core::ports::Store;
use portico_core::service::{EventOutcome, PayError};
use proptest::prelude::*;
use rust_decimal::Decimal;
use time::Duration;

use crate::support::{World, owner, staff_id, token};

fn account() -> PaymentAccount {
    PaymentAccount::new("acct_1Plumbing").unwrap()
}

/// A world whose org took its Stripe account in, with the invoice shared; the link's token.
fn paying() -> (World, String) {
    let w = World::new();
    w.block_on(
        w.portico
            .connect_payments(&owner(), &w.org, Some(&account())),
    )
    .unwrap();
    let link = w.enable(&w.invoice).link.unwrap();
    (w, token(&link).to_owned())
}

fn invoice(w: &World) -> Invoice {
    w.block_on(async {
        let mut tx = w.store.begin().await.unwrap();
        match tx.record(&w.org, &w.invoice).await.unwrap().unwrap().value {
            Record::Invoice(inv) => inv,
            other => panic!("not an invoice: {other:?}"),
        }
    })
}

fn event(id: &str, kind: ProviderEventKind, intent: &IntentId, minor: i64) -> ProviderEvent {
    ProviderEvent {
        id: id.into(),
        kind,
        intent: intent.clone(),
        account: Some(account()),
        amount_minor: minor,
        currency: "usd".into(),
    }
}

fn minor(amount: Decimal) -> i64 {
    use rust_decimal::prelude::ToPrimitive;
    (amount * Decimal::ONE_HUNDRED).to_i64().unwrap()
}

fn feed(w: &World) -> Vec<FeedEventKind> {
    w.block_on(w.portico.events(&w.org, 0, 100))
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect()
}

#[test]
fn i5_pay_now_opens_one_intent_for_the_amount_due_on_the_orgs_account_and_reuses_it() {
    let (w, token) = paying();
    let due = invoice(&w).amount_due();
    assert!(due > Decimal::ZERO);
    let options = w
        .block_on(w.portico.pay_options(&w.org, &w.invoice.id))
        .unwrap();
    assert!(options.online && !options.processing);

    let page = w.block_on(w.portico.pay_by_link(&token)).unwrap();
    assert_eq!(page.amount.amount, due);
    assert_eq!(page.number, "INV-2001");
    assert!(
        page.bank_account,
        "a USD invoice may be paid from a US bank account"
    );
    let again = w.block_on(w.portico.pay_by_link(&token)).unwrap();
    assert_eq!(
        again.intent, page.intent,
        "an open intent for the same amount is reused"
    );
    assert_eq!(w.payments.opened(), 1);
    let request = &w.payments.requests()[0];
    assert_eq!(request.account, account());
    assert_eq!(request.amount.amount, due);
    assert!(request.idempotency_key.contains(&due.to_string()));
    let stored = w
        .block_on(w.portico.payments_of_invoice(&w.org, &w.invoice.id))
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].state, PaymentState::Open);
}

#[test]
fn i5_an_org_without_an_account_offers_no_pay_now_and_says_so() {
    let w = World::new();
    let link = w.enable(&w.invoice).link.unwrap();
    let options = w
        .block_on(w.portico.pay_options(&w.org, &w.invoice.id))
        .unwrap();
    assert!(!options.online);
    let refused = w.block_on(w.portico.pay_by_link(token(&link))).unwrap_err();
    assert!(matches!(refused, PayError::NotOffered), "{refused:?}");
    assert_eq!(w.payments.opened(), 0);
    // A role that may not manage the org cannot connect one.
    let denied = w.block_on(w.portico.connect_payments(
        &staff_id(portico_core::model::Role::Technician),
        &w.org,
        Some(&account()),
    ));
    assert!(denied.is_err());
    // Only `acct_…` ids are taken.
    for bad in ["", "acct_", "pi_123", "acct_1/../2", "acct_ 1"] {
        assert!(PaymentAccount::new(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn i5_pay_now_is_refused_for_a_quote_link_a_paid_invoice_and_a_provider_that_is_down() {
    let (w, token) = paying();
    let quote_link = w.enable(&w.quote).link.unwrap();
    let refused = w
        .block_on(w.portico.pay_by_link(crate::support::token(&quote_link)))
        .unwrap_err();
    assert!(matches!(refused, PayError::NotFound), "{refused:?}");
    assert!(matches!(
        w.block_on(w.portico.pay_by_link("not-a-token"))
            .unwrap_err(),
        PayError::NotFound
    ));

    w.payments.fail_next();
    let down = w.block_on(w.portico.pay_by_link(&token)).unwrap_err();
    assert!(matches!(down, PayError::Provider(_)), "{down:?}");
    assert!(
        w.block_on(w.portico.payments_of_invoice(&w.org, &w.invoice.id))
            .unwrap()
            .is_empty(),
        "nothing is kept of a failed call"
    );

    let mut paid = invoice(&w);
    paid.amount_paid = paid.totals().total.amount;
    w.block_on(w.portico.upsert_record(&owner(), &Record::Invoice(paid)))
        .unwrap();
    let nothing = w.block_on(w.portico.pay_by_link(&token)).unwrap_err();
    assert!(matches!(nothing, PayError::NothingDue), "{nothing:?}");
}

#[test]
fn i5_a_changed_amount_due_withdraws_the_open_intent_and_opens_one_for_the_new_amount() {
    let (w, token) = paying();
    let first = w.block_on(w.portico.pay_by_link(&token)).unwrap();
    // The host records a cheque for part of it.
    let mut inv = invoice(&w);
    inv.amount_paid += Decimal::new(5000, 2);
    w.block_on(
        w.portico
            .upsert_record(&owner(), &Record::Invoice(inv.clone())),
    )
    .unwrap();
    let second = w.block_on(w.portico.pay_by_link(&token)).unwrap();
    assert_ne!(second.intent, first.intent);
    assert_eq!(second.amount.amount, inv.amount_due());
    assert_eq!(w.payments.canceled(), vec![first.intent.clone()]);
    let stored = w
        .block_on(w.portico.payments_of_invoice(&w.org, &w.invoice.id))
        .unwrap();
    let states: Vec<_> = stored.iter().map(|p| p.state).collect();
    assert_eq!(states, [PaymentState::Canceled, PaymentState::Open]);
}

#[test]
fn i5_a_succeeded_event_records_the_payment_once_mails_both_and_logs_invoice_paid() {
    let (w, token) = paying();
    let page = w.block_on(w.portico.pay_by_link(&token)).unwrap();
    let due = page.amount.amount;
    let before = invoice(&w).amount_paid;
    let e = event(
        "evt_1",
        ProviderEventKind::Succeeded,
        &page.intent,
        minor(due),
    );
    assert_eq!(
        w.block_on(w.portico.payment_event(&e)).unwrap(),
        EventOutcome::Applied
    );
    let after = invoice(&w);
    assert_eq!(after.amount_paid, before + due);
    assert!(after.amount_due().is_zero());
    let outbox = w.outbox();
    let receipts: Vec<_> = outbox
        .iter()
        .filter_map(|n| match &n.kind {
            NotificationKind::PaymentToClient {
                outcome, amount, ..
            } => Some((n.to.as_str().to_owned(), *outcome, amount.amount)),
            _ => None,
        })
        .collect();
    assert_eq!(
        receipts,
        [(
            "jordan@client.example".to_owned(),
            PaymentOutcome::Received,
            due
        )]
    );
    assert!(outbox.iter().any(|n| matches!(
        n.kind,
        NotificationKind::PaymentToBusiness {
            outcome: PaymentOutcome::Received,
            ..
        }
    )));
    assert!(feed(&w).iter().any(|k| matches!(
        k,
        FeedEventKind::InvoicePaid { amount, intent, .. } if amount.amount == due && intent == &page.intent
    )));

    // The same event again, or a late failure, changes nothing.
    let mails = w.outbox().len();
    assert_eq!(
        w.block_on(w.portico.payment_event(&e)).unwrap(),
        EventOutcome::Repeat
    );
    let late = event("evt_2", ProviderEventKind::Failed, &page.intent, minor(due));
    assert!(matches!(
        w.block_on(w.portico.payment_event(&late)).unwrap(),
        EventOutcome::Ignored(_)
    ));
    assert_eq!(invoice(&w).amount_paid, before + due);
    assert_eq!(w.outbox().len(), mails);
    // Nothing is due: no page offers Pay now.
    let options = w
        .block_on(w.portico.pay_options(&w.org, &w.invoice.id))
        .unwrap();
    assert!(!options.online);
}

#[test]
fn i5_a_bank_payment_shows_processing_then_succeeds_or_fails_back_to_due() {
    let (w, token) = paying();
    let page = w.block_on(w.portico.pay_by_link(&token)).unwrap();
    let due = minor(page.amount.amount);
    let processing = event("evt_p", ProviderEventKind::Processing, &page.intent, due);
    w.block_on(w.portico.payment_event(&processing)).unwrap();
    let options = w
        .block_on(w.portico.pay_options(&w.org, &w.invoice.id))
        .unwrap();
    assert!(options.processing && !options.online);
    assert!(matches!(
        w.block_on(w.portico.pay_by_link(&token)).unwrap_err(),
        PayError::Processing
    ));

    let failed = event("evt_f", ProviderEventKind::Failed, &page.intent, due);
    w.block_on(w.portico.payment_event(&failed)).unwrap();
    let options = w
        .block_on(w.portico.pay_options(&w.org, &w.invoice.id))
        .unwrap();
    assert!(options.online && !options.processing, "due again");
    assert!(!invoice(&w).amount_due().is_zero());
    assert!(w.outbox().iter().any(|n| matches!(
        n.kind,
        NotificationKind::PaymentToClient {
            outcome: PaymentOutcome::Failed,
            ..
        }
    )));
    assert!(
        feed(&w)
            .iter()
            .any(|k| matches!(k, FeedEventKind::PaymentFailed { .. }))
    );
    // The failed attempt may be tried again: the same intent comes back.
    let retry = w.block_on(w.portico.pay_by_link(&token)).unwrap();
    assert_eq!(retry.intent, page.intent);

    let processing = event("evt_p2", ProviderEventKind::Processing, &page.intent, due);
    let succeeded = event("evt_s2", ProviderEventKind::Succeeded, &page.intent, due);
    w.block_on(w.portico.payment_event(&processing)).unwrap();
    w.block_on(w.portico.payment_event(&succeeded)).unwrap();
    assert!(invoice(&w).amount_due().is_zero());
}

#[test]
fn i5_events_about_other_intents_accounts_or_currencies_change_nothing() {
    let (w, token) = paying();
    let page = w.block_on(w.portico.pay_by_link(&token)).unwrap();
    let due = minor(page.amount.amount);
    let before = invoice(&w);
    let stranger = IntentId::new("pi_not_ours").unwrap();
    let mut other_account = event("evt_a", ProviderEventKind::Succeeded, &page.intent, due);
    other_account.account = Some(PaymentAccount::new("acct_2Other").unwrap());
    let mut other_currency = event("evt_c", ProviderEventKind::Succeeded, &page.intent, due);
    other_currency.currency = "eur".into();
    for e in [
        event("evt_u", ProviderEventKind::Succeeded, &stranger, due),
        other_account,
        other_currency,
    ] {
        let outcome = w.block_on(w.portico.payment_event(&e)).unwrap();
        assert!(
            matches!(outcome, EventOutcome::Ignored(_)),
            "{e:?}: {outcome:?}"
        );
    }
    assert_eq!(invoice(&w), before);
    assert!(w.outbox().iter().all(|n| !matches!(
        n.kind,
        NotificationKind::PaymentToClient { .. } | NotificationKind::PaymentToBusiness { .. }
    )));
}

#[test]
fn i5_s7_paying_the_last_invoice_of_a_completed_job_starts_its_links_expiry_clock() {
    let (w, token) = paying();
    let wo_link = w.enable(&w.wo);
    assert!(wo_link.expires_at.is_none());
    let mut wo = w.work_order();
    wo.status = WorkStatus::Completed;
    w.upsert_wo(&owner(), wo).unwrap();
    assert!(!w.work_order().paid);

    w.clock.advance(Duration::hours(2));
    let page = w.block_on(w.portico.pay_by_link(&token)).unwrap();
    let e = event(
        "evt_s",
        ProviderEventKind::Succeeded,
        &page.intent,
        minor(page.amount.amount),
    );
    w.block_on(w.portico.payment_event(&e)).unwrap();
    let wo = w.work_order();
    assert!(wo.paid);
    assert_eq!(wo.paid_at, Some(w.portico.now()));
    let share = w.block_on(w.portico.get_share(&w.org, wo_link.id)).unwrap();
    assert_eq!(
        share.expires_at,
        Some(w.portico.now() + Duration::days(30)),
        "S7: thirty days after the later of completion and payment"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Whatever the provider sends, in any order and however often, a payment is recorded on
    /// the invoice at most once, and exactly when a `succeeded` event came.
    #[test]
    fn i5_any_order_and_repetition_of_events_records_a_payment_at_most_once(
        sequence in prop::collection::vec((0usize..4, 0usize..3), 1..12)
    ) {
        let (w, token) = paying();
        let page = w.block_on(w.portico.pay_by_link(&token)).unwrap();
        let due = page.amount.amount;
        let before = invoice(&w).amount_paid;
        let kinds = [
            ProviderEventKind::Processing,
            ProviderEventKind::Succeeded,
            ProviderEventKind::Failed,
        ];
        for (id, kind) in &sequence {
            let e = event(&format!("evt_{id}_{kind}"), kinds[*kind], &page.intent, minor(due));
            w.block_on(w.portico.payment_event(&e)).unwrap();
        }
        let succeeded = sequence.iter().any(|(_, k)| kinds[*k] == ProviderEventKind::Succeeded);
        let paid = invoice(&w).amount_paid;
        prop_assert_eq!(paid, if succeeded { before + due } else { before });
        let receipts = w.outbox().iter().filter(|n| matches!(
            n.kind,
            NotificationKind::PaymentToClient { outcome: PaymentOutcome::Received, .. }
        )).count();
        prop_assert_eq!(receipts, usize::from(succeeded));
    }
}

//! I5: paying an invoice online. The client's page asks for an attempt (a provider intent) for
//! the invoice's amount due as it stands at that moment; only the provider's signed event says
//! the money arrived, and each such event is applied once.

use time::OffsetDateTime;

use super::{Portico, RecordError, retry_on_conflict};
use crate::model::{
    Currency, FeedEventKind, IntentId, Invoice, InvoiceStatus, Money, Notification, NotificationId,
    NotificationKind, Org, OrgId, Payment, PaymentAccount, PaymentOutcome, PaymentState,
    ProviderEvent, ProviderEventKind, Record, RecordId, RecordKind, RecordRef, StaffId,
};
use crate::policy::{expiry, permissions};
use crate::ports::{BackendError, Change, IntentRequest, StoreError, UnitOfWork};

/// Why Pay now cannot start. The words are for the client.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PayError {
    /// Not an invoice this client may open (the same answer as any unknown page).
    #[error("not found")]
    NotFound,
    /// The business takes no online payments (no provider, or no connected account).
    #[error("this business does not take payments online; please pay them directly")]
    NotOffered,
    /// Nothing is due.
    #[error("nothing is due on this invoice")]
    NothingDue,
    /// A bank payment is on its way; another may not start meanwhile.
    #[error("a payment of this invoice is processing")]
    Processing,
    /// The amount due changed while the payment was being prepared.
    #[error("the amount due just changed; please look at the invoice again")]
    AmountChanged,
    /// The payment provider did not answer as it should.
    #[error("the payment service is not available right now; please try again shortly")]
    Provider(#[source] BackendError),
    /// Someone else changed the same thing at the same time, and retrying did not help.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Storage failed.
    #[error("storage failed")]
    Backend(#[source] BackendError),
}

impl From<StoreError> for PayError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(what) => Self::Conflict(what),
            other => Self::Backend(Box::new(other)),
        }
    }
}

impl super::error::Retryable for PayError {
    fn is_conflict(&self) -> bool {
        matches!(self, Self::Conflict(_))
    }
}

/// What the payment page needs: the attempt to confirm and what it pays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayPage {
    /// The org being paid (its name, contact and presentation).
    pub org: Org,
    /// The invoice's number.
    pub number: String,
    /// The invoice's title.
    pub title: String,
    /// The amount due, which the attempt pays.
    pub amount: Money,
    /// The provider's attempt.
    pub intent: IntentId,
    /// The org's account it was opened on (the provider's script needs it too).
    pub account: PaymentAccount,
    /// What the provider's script needs to confirm it.
    pub client_secret: String,
    /// Whether a US bank account may pay, beside cards.
    pub bank_account: bool,
}

/// What an invoice's page may offer about paying it online.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PayOptions {
    /// Pay now is offered: the business takes payments online and something is due.
    pub online: bool,
    /// A bank payment is on its way.
    pub processing: bool,
    /// Something is due (an issued invoice with an amount left to pay).
    pub due: bool,
}

/// What became of a provider's event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventOutcome {
    /// It moved a payment.
    Applied,
    /// It was applied before (the provider sent it again).
    Repeat,
    /// It concerns nothing Portico opened, or changes nothing; `why` says which.
    Ignored(&'static str),
}

/// Whether the currency may be paid from a US bank account (ACH debits are in US dollars).
pub fn bank_account_allowed(currency: Currency) -> bool {
    currency.code() == "USD"
}

impl Portico {
    /// I5: connects (`Some`) or disconnects (`None`) the org's own account with the payment
    /// provider, on behalf of `actor` (an owner, admin or sole trader). Pages offer Pay now at
    /// once.
    pub async fn connect_payments(
        &self,
        actor: &StaffId,
        org: &OrgId,
        account: Option<&PaymentAccount>,
    ) -> Result<(), RecordError> {
        let mut tx = self.ports.store.begin().await?;
        tx.org(org).await?.ok_or(RecordError::UnknownOrg)?;
        let role = permissions::active(tx.staff(org, actor).await?.as_ref())?.role;
        if !permissions::can_manage_org(role) {
            return Err(RecordError::NotOrgManager { role });
        }
        tx.put_payment_account(org, account).await?;
        self.commit_and_publish(tx, org, None).await?;
        Ok(())
    }

    /// The org's connected payment account, if any.
    pub async fn payment_account(
        &self,
        org: &OrgId,
    ) -> Result<Option<PaymentAccount>, RecordError> {
        let mut tx = self.ports.store.begin_read().await?;
        tx.org(org).await?.ok_or(RecordError::UnknownOrg)?;
        Ok(tx.payment_account(org).await?)
    }

    /// The payment attempts of one of the org's invoices, oldest first (for the host).
    pub async fn payments_of_invoice(
        &self,
        org: &OrgId,
        invoice: &RecordId,
    ) -> Result<Vec<Payment>, RecordError> {
        let mut tx = self.ports.store.begin_read().await?;
        tx.org(org).await?.ok_or(RecordError::UnknownOrg)?;
        Ok(tx.payments_of_invoice(org, invoice).await?)
    }

    /// What an invoice's page may offer: Pay now, or "payment processing". For pages that
    /// already showed the invoice to this client.
    pub async fn pay_options(
        &self,
        org: &OrgId,
        invoice: &RecordId,
    ) -> Result<PayOptions, StoreError> {
        let mut tx = self.ports.store.begin_read().await?;
        let reference = invoice_ref(invoice);
        let Some(Record::Invoice(inv)) = tx.record(org, &reference).await?.map(|r| r.value) else {
            return Ok(PayOptions::default());
        };
        let payments = tx.payments_of_invoice(org, invoice).await?;
        let processing = payments.iter().any(|p| p.state == PaymentState::Processing);
        let offered = self.payments.is_some() && tx.payment_account(org).await?.is_some();
        Ok(PayOptions {
            online: offered && !processing && payable(&inv),
            processing,
            due: payable(&inv),
        })
    }

    /// I5: Pay now from a share link of an invoice.
    pub async fn pay_by_link(&self, raw_token: &str) -> Result<PayPage, PayError> {
        let (org, invoice) = {
            let Ok((found, _tx)) = self.resolve_record(raw_token, false).await? else {
                return Err(PayError::NotFound);
            };
            match found.record.value {
                Record::Invoice(inv) => (found.org.id, inv.id),
                _ => return Err(PayError::NotFound),
            }
        };
        self.open_intent(&org, &invoice).await
    }

    /// I5: Pay now from the portal, for one of the signed-in client's invoices.
    pub async fn portal_pay(
        &self,
        org: &OrgId,
        session: &str,
        invoice: &RecordId,
    ) -> Result<Result<PayPage, PayError>, super::PortalError> {
        let signed = self.signed(org, session).await?;
        let mut tx = self.ports.store.begin_read().await?;
        let own = self
            .own_record(tx.as_mut(), &signed, &invoice_ref(invoice))
            .await?;
        drop(tx);
        if own.is_none() {
            return Ok(Err(PayError::NotFound));
        }
        Ok(self.open_intent(org, invoice).await)
    }

    /// Opens (or finds again) the attempt for the invoice's amount due as it stands now: an
    /// open attempt for the same amount is reused; one for another amount is withdrawn first,
    /// so an old page can never pay a stale amount as well.
    async fn open_intent(&self, org_id: &OrgId, invoice: &RecordId) -> Result<PayPage, PayError> {
        let provider = self.payments.as_ref().ok_or(PayError::NotOffered)?;
        let mut tx = self.ports.store.begin_read().await?;
        let org = tx.org(org_id).await?.ok_or(PayError::NotFound)?;
        let inv = issued_invoice(tx.as_mut(), org_id, invoice).await?;
        let account = tx
            .payment_account(org_id)
            .await?
            .ok_or(PayError::NotOffered)?;
        let attempts = tx.payments_of_invoice(org_id, invoice).await?;
        drop(tx);
        if attempts.iter().any(|p| p.state == PaymentState::Processing) {
            return Err(PayError::Processing);
        }
        if !payable(&inv) {
            return Err(PayError::NothingDue);
        }
        let amount = Money::new(inv.amount_due(), inv.currency);
        if let Some(open) = attempts
            .iter()
            .rev()
            .find(|p| p.state.payable() && p.amount == amount && p.account == account)
        {
            return Ok(page(org, &inv, open));
        }
        for stale in attempts.iter().filter(|p| p.state.payable()) {
            provider
                .cancel_intent(&stale.account, &stale.intent)
                .await
                .map_err(PayError::Provider)?;
            self.settle_canceled(stale).await?;
        }
        let request = IntentRequest {
            account: account.clone(),
            org: org_id.clone(),
            invoice: invoice.clone(),
            number: inv.number.clone(),
            amount,
            bank_account: bank_account_allowed(inv.currency),
            idempotency_key: format!(
                "portico:{org_id}:{invoice}:{}:{}:{}",
                amount.amount,
                amount.currency,
                attempts.len()
            ),
        };
        let intent = provider
            .create_intent(&request)
            .await
            .map_err(PayError::Provider)?;
        let now = self.now();
        let payment = Payment {
            intent: intent.id,
            org_id: org_id.clone(),
            invoice: invoice.clone(),
            account,
            amount,
            client_secret: intent.client_secret,
            state: PaymentState::Open,
            created_at: now,
            updated_at: now,
        };
        // Kept only if the amount due is still the one asked: a host change meanwhile
        // withdraws the new attempt instead.
        let mut tx = self.ports.store.begin().await?;
        let current = issued_invoice(tx.as_mut(), org_id, invoice).await?;
        if current.amount_due() != amount.amount || current.currency != amount.currency {
            drop(tx);
            provider
                .cancel_intent(&payment.account, &payment.intent)
                .await
                .map_err(PayError::Provider)?;
            return Err(PayError::AmountChanged);
        }
        tx.put_payment(&payment).await?;
        tx.commit().await?;
        Ok(page(org, &current, &payment))
    }

    async fn settle_canceled(&self, stale: &Payment) -> Result<(), PayError> {
        retry_on_conflict!(
            async {
                let mut tx = self.ports.store.begin().await?;
                if let Some(mut p) = tx.payment(&stale.intent).await?
                    && p.state.payable()
                {
                    p.state = PaymentState::Canceled;
                    p.updated_at = self.now();
                    tx.put_payment(&p).await?;
                    tx.commit().await?;
                }
                Ok::<_, PayError>(())
            }
            .await
        )
    }

    /// I5: applies a provider's event the adapter verified (signature and time). Each event id
    /// is applied once; an event about an attempt Portico did not open, or on another account,
    /// changes nothing. `succeeded` records the payment on the invoice (and, once every invoice
    /// of its work order is settled, the work order's payment, which starts S7's clock), mails
    /// a receipt to the client and a notice to the business; `payment_failed` makes the
    /// invoice due again and tells both; `processing` shows the payment as on its way.
    pub async fn payment_event(&self, event: &ProviderEvent) -> Result<EventOutcome, PayError> {
        let outcome = retry_on_conflict!(self.try_payment_event(event).await)?;
        Ok(outcome)
    }

    async fn try_payment_event(&self, event: &ProviderEvent) -> Result<EventOutcome, PayError> {
        let now = self.now();
        let mut tx = self.ports.store.begin().await?;
        if !tx.claim_provider_event(&event.id, now).await? {
            return Ok(EventOutcome::Repeat);
        }
        let mut touched = Vec::new();
        let outcome = match tx.payment(&event.intent).await? {
            None => EventOutcome::Ignored("no payment of Portico's has this intent"),
            Some(p) if event.account.as_ref().is_some_and(|a| a != &p.account) => {
                EventOutcome::Ignored("the event is from another account than the payment's")
            }
            Some(p)
                if !event
                    .currency
                    .eq_ignore_ascii_case(p.amount.currency.code()) =>
            {
                EventOutcome::Ignored("the event's currency is not the payment's")
            }
            Some(mut p) => {
                self.move_payment(tx.as_mut(), &mut p, event, now, &mut touched)
                    .await?
            }
        };
        let changes: Vec<Change> = touched
            .into_iter()
            .map(|(org, record)| Change {
                org,
                record: Some(record),
            })
            .collect();
        self.commit_and_publish_all(tx, &changes).await?;
        Ok(outcome)
    }

    async fn move_payment(
        &self,
        tx: &mut dyn UnitOfWork,
        payment: &mut Payment,
        event: &ProviderEvent,
        now: OffsetDateTime,
        touched: &mut Vec<(OrgId, RecordRef)>,
    ) -> Result<EventOutcome, PayError> {
        let next = match (event.kind, payment.state) {
            (_, PaymentState::Succeeded) => return Ok(EventOutcome::Ignored("already paid")),
            (ProviderEventKind::Processing, PaymentState::Processing) => {
                return Ok(EventOutcome::Ignored("already processing"));
            }
            (ProviderEventKind::Failed, PaymentState::Failed) => {
                return Ok(EventOutcome::Ignored("already failed"));
            }
            (ProviderEventKind::Processing, _) => PaymentState::Processing,
            (ProviderEventKind::Succeeded, _) => PaymentState::Succeeded,
            (ProviderEventKind::Failed, _) => PaymentState::Failed,
        };
        payment.state = next;
        payment.updated_at = now;
        tx.put_payment(payment).await?;
        let Some(org) = tx.org(&payment.org_id).await? else {
            return Ok(EventOutcome::Applied);
        };
        let reference = invoice_ref(&payment.invoice);
        touched.push((org.id.clone(), reference.clone()));
        let Some(stored) = tx.record(&org.id, &reference).await? else {
            return Ok(EventOutcome::Applied);
        };
        let Record::Invoice(mut invoice) = stored.value else {
            return Ok(EventOutcome::Applied);
        };
        let outcome = match next {
            PaymentState::Succeeded => {
                let arrived = Money::new(event.amount_in(invoice.currency), invoice.currency);
                invoice.amount_paid += arrived.amount;
                tx.put_record(&Record::Invoice(invoice.clone()), Some(stored.version))
                    .await?;
                if let Some(wo) = self.settle_work_order(tx, &org, &invoice, now).await? {
                    touched.push((org.id.clone(), wo));
                }
                self.log_event(
                    tx,
                    &org.id,
                    invoice.client_id.as_ref(),
                    FeedEventKind::InvoicePaid {
                        invoice: invoice.id.clone(),
                        amount: arrived,
                        intent: payment.intent.clone(),
                    },
                    now,
                )
                .await?;
                Some((PaymentOutcome::Received, arrived))
            }
            PaymentState::Failed => {
                self.log_event(
                    tx,
                    &org.id,
                    invoice.client_id.as_ref(),
                    FeedEventKind::PaymentFailed {
                        invoice: invoice.id.clone(),
                        amount: payment.amount,
                        intent: payment.intent.clone(),
                    },
                    now,
                )
                .await?;
                Some((PaymentOutcome::Failed, payment.amount))
            }
            _ => None,
        };
        if let Some((outcome, amount)) = outcome {
            self.tell_both(tx, &org, &invoice, outcome, amount, now)
                .await?;
        }
        Ok(EventOutcome::Applied)
    }

    /// S7: an invoice paid in full may settle its work order: once every issued invoice of the
    /// work order has nothing due, the work order is paid (stamped now), and its link's expiry
    /// clock starts if it is also completed. Returns the work order it settled.
    async fn settle_work_order(
        &self,
        tx: &mut dyn UnitOfWork,
        org: &Org,
        invoice: &Invoice,
        now: OffsetDateTime,
    ) -> Result<Option<RecordRef>, StoreError> {
        let Some(wo_id) = &invoice.work_order_id else {
            return Ok(None);
        };
        let reference = RecordRef {
            kind: RecordKind::WorkOrder,
            id: wo_id.clone(),
        };
        let Some(stored) = tx.record(&org.id, &reference).await? else {
            return Ok(None);
        };
        let Record::WorkOrder(old) = &stored.value else {
            return Ok(None);
        };
        let invoices = tx.invoices_of_work_order(&org.id, wo_id).await?;
        let settled = invoices
            .iter()
            .filter(|i| i.status == InvoiceStatus::Issued)
            .all(|i| i.amount_due().is_zero());
        if old.paid || !settled {
            return Ok(None);
        }
        let mut wo = old.clone();
        wo.paid = true;
        wo.paid_at = None;
        if expiry::stamp_transitions(Some(old), &mut wo, now).is_err() {
            return Ok(None);
        }
        let record = Record::WorkOrder(wo);
        tx.put_record(&record, Some(stored.version)).await?;
        for share in tx.shares_of_record(&org.id, &reference).await? {
            if !share.value.is_active() {
                continue;
            }
            let mut next = share.value.clone();
            next.expires_at = expiry::expiry(next.expires_at, &record, org, now);
            if next.expires_at != share.value.expires_at {
                tx.update_share(&next, share.version).await?;
            }
        }
        Ok(Some(reference))
    }

    /// Queues the client's receipt (or failure notice) and the business's notice.
    async fn tell_both(
        &self,
        tx: &mut dyn UnitOfWork,
        org: &Org,
        invoice: &Invoice,
        outcome: PaymentOutcome,
        amount: Money,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let reference = invoice_ref(&invoice.id);
        let share = tx
            .shares_of_record(&org.id, &reference)
            .await?
            .into_iter()
            .map(|s| s.value)
            .find(crate::model::Share::is_active);
        let client = match &invoice.client_id {
            Some(id) => tx.client(&org.id, id).await?,
            None => None,
        };
        let to_client = share
            .as_ref()
            .map(|s| s.recipient.clone())
            .or_else(|| client.as_ref().and_then(|c| c.email.clone()));
        if let Some(to) = to_client {
            let kind = NotificationKind::PaymentToClient {
                outcome,
                number: invoice.number.clone(),
                amount,
            };
            tx.enqueue(&Notification {
                id: NotificationId(self.ports.random.uuid()),
                org_id: org.id.clone(),
                share_id: share.as_ref().map(|s| s.id),
                record: Some(reference.clone()),
                to,
                kind,
                created_at: now,
                due_at: now,
                delivery: crate::model::Delivery::Pending,
                attempts: 0,
                last_failure: None,
            })
            .await?;
        }
        if let Some(to) = org.contact.email.clone() {
            let kind = NotificationKind::PaymentToBusiness {
                outcome,
                number: invoice.number.clone(),
                amount,
                client: client.map_or_else(|| "A client".to_owned(), |c| c.name),
            };
            self.mail_now(tx, &org.id, Some(&reference), to, kind, now)
                .await?;
        }
        Ok(())
    }
}

fn invoice_ref(id: &RecordId) -> RecordRef {
    RecordRef {
        kind: RecordKind::Invoice,
        id: id.clone(),
    }
}

/// Whether an invoice can be paid now: issued, with something due.
fn payable(invoice: &Invoice) -> bool {
    invoice.status == InvoiceStatus::Issued && !invoice.amount_due().is_zero()
}

async fn issued_invoice(
    tx: &mut dyn UnitOfWork,
    org: &OrgId,
    id: &RecordId,
) -> Result<Invoice, PayError> {
    match tx.record(org, &invoice_ref(id)).await?.map(|r| r.value) {
        Some(Record::Invoice(inv)) if inv.status != InvoiceStatus::Draft => Ok(inv),
        _ => Err(PayError::NotFound),
    }
}

fn page(org: Org, invoice: &Invoice, payment: &Payment) -> PayPage {
    PayPage {
        org,
        number: invoice.number.clone(),
        title: invoice.title.clone(),
        amount: payment.amount,
        intent: payment.intent.clone(),
        account: payment.account.clone(),
        client_secret: payment.client_secret.clone(),
        bank_account: bank_account_allowed(payment.amount.currency),
    }
}

//! I5's host side: the org's connected Stripe account, and each invoice's online payments.

use poem_openapi::OpenApi;
use poem_openapi::param::{Header, Path};
use poem_openapi::payload::Json;
use portico_core::model as m;

use super::{Answer, ApiTags, OrgKey, staff_id};
use crate::dto::{self, PaymentAccountBody, PaymentAccountDto, PaymentDto};
use crate::error::ApiError;

/// The I5 routes of the integration API.
pub(crate) struct PaymentsApi {
    pub(crate) state: std::sync::Arc<crate::State>,
}

#[OpenApi]
impl PaymentsApi {
    /// Connects the org's own Stripe account (Stripe Connect), on behalf of an owner, admin or
    /// sole trader named in `X-Portico-Staff`. Invoice pages offer Pay now from the next
    /// request on.
    #[oai(
        path = "/payments/account",
        method = "put",
        tag = "ApiTags::Payments",
        operation_id = "connect_payment_account"
    )]
    async fn connect(
        &self,
        auth: OrgKey,
        #[oai(name = "X-Portico-Staff")] staff: Header<String>,
        body: Json<PaymentAccountBody>,
    ) -> Answer<PaymentAccountDto> {
        let actor = staff_id(staff)?;
        let account: m::PaymentAccount = dto::id("stripe_account", body.0.stripe_account)?;
        self.state
            .portico
            .connect_payments(&actor, &auth.0, Some(&account))
            .await?;
        Ok(Json(PaymentAccountDto {
            stripe_account: Some(account.to_string()),
        }))
    }

    /// Disconnects the org's Stripe account: no page offers Pay now any more. Payments already
    /// under way still settle through Stripe's webhook.
    #[oai(
        path = "/payments/account",
        method = "delete",
        tag = "ApiTags::Payments",
        operation_id = "disconnect_payment_account"
    )]
    async fn disconnect(
        &self,
        auth: OrgKey,
        #[oai(name = "X-Portico-Staff")] staff: Header<String>,
    ) -> Result<(), ApiError> {
        let actor = staff_id(staff)?;
        self.state
            .portico
            .connect_payments(&actor, &auth.0, None)
            .await?;
        Ok(())
    }

    /// The org's payment set-up.
    #[oai(
        path = "/payments/account",
        method = "get",
        tag = "ApiTags::Payments",
        operation_id = "get_payment_account"
    )]
    async fn account(&self, auth: OrgKey) -> Answer<PaymentAccountDto> {
        let account = self.state.portico.payment_account(&auth.0).await?;
        Ok(Json(PaymentAccountDto {
            stripe_account: account.map(|a| a.to_string()),
        }))
    }

    /// An invoice's online payment attempts, oldest first. The invoice's own `amount_paid`
    /// includes those that succeeded (Portico records them when Stripe confirms).
    #[oai(
        path = "/invoices/:id/payments",
        method = "get",
        tag = "ApiTags::Payments",
        operation_id = "list_invoice_payments"
    )]
    async fn payments(&self, auth: OrgKey, id: Path<String>) -> Answer<Vec<PaymentDto>> {
        let invoice: m::RecordId = dto::id("id", id.0)?;
        let found = self
            .state
            .portico
            .payments_of_invoice(&auth.0, &invoice)
            .await?;
        Ok(Json(found.into_iter().map(Into::into).collect()))
    }
}

//! I4's host side: the org's webhook endpoints, test events, and the deliveries' log.

use poem_openapi::OpenApi;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use portico_core::model::EndpointId;
use portico_core::service::WebhookError;

use super::{Answer, ApiTags, OrgKey, staff_id};
use crate::dto::{
    WebhookBody, WebhookCreated, WebhookDeliveryDto, WebhookDto, WebhookStateDto, WebhookTestQueued,
};
use crate::error::ApiError;

/// The I4 routes of the integration API.
pub(crate) struct WebhooksApi {
    pub(crate) state: std::sync::Arc<crate::State>,
}

fn endpoint_id(raw: &str) -> Result<EndpointId, ApiError> {
    raw.parse()
        .map(EndpointId)
        .map_err(|_| ApiError::not_found("webhook endpoint"))
}

impl From<WebhookError> for ApiError {
    fn from(e: WebhookError) -> Self {
        let message = e.to_string();
        match e {
            WebhookError::Refused(_) => {
                Self::BadRequest(Self::body("invalid_endpoint", message, None))
            }
            WebhookError::TooMany => {
                Self::Conflict(Self::body("too_many_endpoints", message, None))
            }
            WebhookError::NotConfigured => {
                Self::Conflict(Self::body("webhooks_disabled", message, None))
            }
            WebhookError::NotFound => Self::not_found("webhook endpoint"),
            WebhookError::Record(inner) => inner.into(),
            ref other => Self::internal(other),
        }
    }
}

#[OpenApi]
impl WebhooksApi {
    /// Registers an endpoint for some event types, on behalf of an owner, admin or sole trader
    /// named in `X-Portico-Staff`. The answer holds the signing secret, shown this once.
    /// Deliveries are JSON `{type, timestamp, data}` signed the Standard Webhooks way
    /// (`webhook-id`, `webhook-timestamp`, `webhook-signature`).
    #[oai(
        path = "/webhooks",
        method = "post",
        tag = "ApiTags::Webhooks",
        operation_id = "create_webhook"
    )]
    async fn create(
        &self,
        auth: OrgKey,
        #[oai(name = "X-Portico-Staff")] staff: Header<String>,
        body: Json<WebhookBody>,
    ) -> Answer<WebhookCreated> {
        let actor = staff_id(staff)?;
        let made = self
            .state
            .portico
            .register_webhook(&actor, &auth.0, &body.0.url, &body.0.events)
            .await?;
        Ok(Json(WebhookCreated {
            endpoint: made.endpoint.into(),
            secret: made.secret,
        }))
    }

    /// The org's endpoints, oldest first (never their secrets).
    #[oai(
        path = "/webhooks",
        method = "get",
        tag = "ApiTags::Webhooks",
        operation_id = "list_webhooks"
    )]
    async fn list(&self, auth: OrgKey) -> Answer<Vec<WebhookDto>> {
        let found = self.state.portico.webhooks(&auth.0).await?;
        Ok(Json(found.into_iter().map(Into::into).collect()))
    }

    /// Removes an endpoint. Its deliveries still waiting are given up.
    #[oai(
        path = "/webhooks/:id",
        method = "delete",
        tag = "ApiTags::Webhooks",
        operation_id = "delete_webhook"
    )]
    async fn delete(
        &self,
        auth: OrgKey,
        #[oai(name = "X-Portico-Staff")] staff: Header<String>,
        id: Path<String>,
    ) -> Result<(), ApiError> {
        let actor = staff_id(staff)?;
        self.state
            .portico
            .delete_webhook(&actor, &auth.0, endpoint_id(&id.0)?)
            .await?;
        Ok(())
    }

    /// Queues a `webhook.test` delivery to the endpoint, enabling it again if it was disabled.
    #[oai(
        path = "/webhooks/:id/test",
        method = "post",
        tag = "ApiTags::Webhooks",
        operation_id = "test_webhook"
    )]
    async fn test(
        &self,
        auth: OrgKey,
        #[oai(name = "X-Portico-Staff")] staff: Header<String>,
        id: Path<String>,
    ) -> Answer<WebhookTestQueued> {
        let actor = staff_id(staff)?;
        let queued = self
            .state
            .portico
            .test_webhook(&actor, &auth.0, endpoint_id(&id.0)?)
            .await?;
        Ok(Json(WebhookTestQueued {
            delivery_id: queued.header(),
        }))
    }

    /// The org's deliveries, newest first (at most 500): waiting, delivered, or given up with
    /// the reason (`state=dead`).
    #[oai(
        path = "/webhooks/deliveries",
        method = "get",
        tag = "ApiTags::Webhooks",
        operation_id = "list_webhook_deliveries"
    )]
    async fn deliveries(
        &self,
        auth: OrgKey,
        state: Query<Option<WebhookStateDto>>,
        limit: Query<Option<u32>>,
    ) -> Answer<Vec<WebhookDeliveryDto>> {
        let limit = limit.0.unwrap_or(100).clamp(1, 500);
        let found = self
            .state
            .portico
            .webhook_deliveries(&auth.0, state.0.map(WebhookStateDto::as_str), limit)
            .await?;
        Ok(Json(found.into_iter().map(Into::into).collect()))
    }
}

//! I5: `POST /webhooks/stripe`, where the payment provider reports what became of a payment.
//! The raw body is checked against the `Stripe-Signature` header before anything is read;
//! a refused request changes nothing. Each event id is applied once by the core; an event of a
//! type Portico does not act on is answered 2xx (so the provider stops sending it), and a
//! storage failure answers 500 so the provider sends it again later.

use std::sync::Arc;

use poem::error::ResponseError as _;
use poem::http::StatusCode;
use poem::web::{Data, Json};
use poem::{Body, IntoResponse, Request, Response, handler};
use portico_core::Portico;
use portico_core::ports::{ProviderWebhooks, WebhookRefused};
use portico_core::service::{EventOutcome, PayError};

use crate::error::ApiError;

/// What the webhook handler needs.
pub(crate) struct Webhooks {
    pub(crate) portico: Portico,
    /// None: the server takes no payments, and the route answers 404.
    pub(crate) checker: Option<Arc<dyn ProviderWebhooks>>,
}

#[handler]
pub(crate) async fn stripe_webhook(
    req: &Request,
    body: Body,
    Data(hooks): Data<&Arc<Webhooks>>,
) -> Response {
    let Some(checker) = &hooks.checker else {
        return ApiError::not_found("route").into_response();
    };
    let signature = req
        .headers()
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    // The body limit in front of every route bounds this read.
    let payload = match body.into_bytes().await {
        Ok(bytes) => bytes,
        Err(e) => return ApiError::from_status(e.status(), e.to_string()).into_response(),
    };
    let event = match checker.read(signature, &payload, hooks.portico.now()) {
        Ok(Some(event)) => event,
        Ok(None) => return answer("ignored", Some("an event type Portico does not act on")),
        Err(refused) => {
            metrics::counter!("portico_payment_webhooks_refused_total").increment(1);
            let code = match refused {
                WebhookRefused::Signature(_) => "bad_signature",
                _ => "unreadable_event",
            };
            return ApiError::BadRequest(ApiError::body(code, refused.to_string(), None))
                .into_response();
        }
    };
    match hooks.portico.payment_event(&event).await {
        Ok(EventOutcome::Applied) => answer("applied", None),
        Ok(EventOutcome::Repeat) => answer("repeat", Some("this event was applied before")),
        Ok(EventOutcome::Ignored(why)) => answer("ignored", Some(why)),
        Err(PayError::Conflict(_)) => {
            // Busy: the provider sends it again.
            ApiError::from_status(StatusCode::CONFLICT, "busy; send it again".into())
                .into_response()
        }
        Err(e) => ApiError::internal(&e).into_response(),
    }
}

fn answer(outcome: &'static str, why: Option<&'static str>) -> Response {
    metrics::counter!("portico_payment_webhooks_total", "outcome" => outcome).increment(1);
    Json(serde_json::json!({ "received": true, "outcome": outcome, "detail": why })).into_response()
}

//! I5: Pay now. The invoice's page links to a payment page (`/s/{token}/pay`, or the portal's
//! `/portal/{org}/r/invoice/{id}/pay`) that asks the core for an intent for the amount due as it
//! stands, and hands its client secret to Stripe.js. That page alone admits the script's origin
//! in its Content-Security-Policy. The invoice becomes paid only from the provider's signed
//! webhook (`crate::payments`).

use std::sync::Arc;

use askama::Template;
use poem::http::{HeaderValue, StatusCode, header};
use poem::web::{Data, Path};
use poem::{Request, Response, handler};
use portico_core::model::{OrgId, RecordId, RecordKind, RecordRef};
use portico_core::service::{PayError, PayPage};

use super::view::{Company, PayBox};
use super::{Pages, html, internal};
use crate::PaymentsConfig;

#[derive(Template)]
#[template(path = "pay.html")]
struct PayTemplate {
    company: Company,
    number: String,
    title: String,
    amount: String,
    script_url: String,
    publishable_key: String,
    account: String,
    client_secret: String,
    return_url: String,
    bank_account: bool,
}

/// The payment page's policy: the pages' own, plus the script's origin (and, for Stripe's own
/// script, the origins Stripe documents for its frames and API calls).
pub(crate) fn policy(config: &PaymentsConfig) -> String {
    let origin = config.script_url.origin().ascii_serialization();
    let (connect, frame, img) = if origin == "https://js.stripe.com" {
        (
            "https://api.stripe.com https://js.stripe.com",
            "https://js.stripe.com https://hooks.stripe.com",
            "https://*.stripe.com",
        )
    } else {
        (origin.as_str(), origin.as_str(), origin.as_str())
    };
    format!(
        "default-src 'none'; img-src 'self' {img}; style-src 'self'; script-src 'self' {origin}; connect-src 'self' {connect}; frame-src {frame}; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
}

impl Pages {
    /// The payment box of an invoice's page (I5): Pay now when the business takes payments
    /// online and something is due; otherwise how else to pay, or that a payment is on its way.
    pub(crate) async fn pay_box(
        &self,
        org: &OrgId,
        record: &RecordRef,
        base_url: &str,
        sent: bool,
    ) -> Option<PayBox> {
        if record.kind != RecordKind::Invoice {
            return None;
        }
        let options = match self.portico.pay_options(org, &record.id).await {
            Ok(options) => options,
            Err(e) => {
                // The page still shows the invoice; only Pay now is missing.
                tracing::error!(error = %e, "payment options could not be read");
                portico_core::service::PayOptions::default()
            }
        };
        let online = options.online && self.payments.is_some();
        Some(PayBox {
            url: online.then(|| format!("{base_url}/pay")),
            due: options.due,
            processing: options.processing,
            sent,
        })
    }

    /// The answer to Pay now: the payment page, or the reason it cannot be paid online.
    fn pay_answer(&self, result: Result<PayPage, PayError>, back: &str) -> Response {
        let Some(config) = &self.payments else {
            return super::not_found();
        };
        match result {
            Ok(page) => pay_page(config, &page, back),
            Err(PayError::NotFound) => super::not_found(),
            Err(
                e @ (PayError::NotOffered
                | PayError::NothingDue
                | PayError::Processing
                | PayError::AmountChanged),
            ) => refused(&e, back, StatusCode::CONFLICT),
            Err(e @ PayError::Provider(_)) => {
                tracing::warn!(error = ?e, "the payment provider failed");
                refused(&e, back, StatusCode::SERVICE_UNAVAILABLE)
            }
            Err(e) => internal(&e),
        }
    }
}

fn pay_page(config: &PaymentsConfig, page: &PayPage, back: &str) -> Response {
    let show = portico_core::locale::Presentation::of(&page.org);
    let card = portico_core::view::CompanyCard {
        name: page.org.name.clone(),
        logo: None,
        phone: page.org.contact.phone.clone(),
        email: page.org.contact.email.clone(),
    };
    let body = PayTemplate {
        company: Company::new(&card, None),
        number: page.number.clone(),
        title: page.title.clone(),
        amount: show.money(&page.amount),
        script_url: config.script_url.to_string(),
        publishable_key: config.publishable_key.clone(),
        account: page.account.to_string(),
        client_secret: page.client_secret.clone(),
        return_url: back.to_owned(),
        bank_account: page.bank_account,
    }
    .render();
    match body {
        Ok(body) => {
            let mut resp = html(StatusCode::OK, body);
            if let Ok(value) = HeaderValue::from_str(&policy(config)) {
                resp.headers_mut()
                    .insert(header::CONTENT_SECURITY_POLICY, value);
            }
            resp
        }
        Err(e) => internal(&e),
    }
}

fn refused(e: &PayError, back: &str, status: StatusCode) -> Response {
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    html(
        status,
        format!(
            "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Payment not available</title><link rel=\"stylesheet\" href=\"/assets/portico.css\"><main><h1>Payment not available</h1><p>{}</p><p><a href=\"{}\">Back to the invoice</a></p></main></html>",
            escape(&super::sentence(&e.to_string())),
            escape(back)
        ),
    )
}

/// `GET /s/{token}/pay`.
#[handler]
pub(crate) async fn pay_by_link(
    req: &Request,
    Path(token): Path<String>,
    Data(pages): Data<&Arc<Pages>>,
) -> Response {
    if pages.payments.is_none() {
        return super::closed(
            pages,
            super::client_ip(pages, req),
            &portico_core::service::Opened::NotFound,
        );
    }
    let result = pages.portico.pay_by_link(&token).await;
    if matches!(result, Err(PayError::NotFound)) {
        return super::closed(
            pages,
            super::client_ip(pages, req),
            &portico_core::service::Opened::NotFound,
        );
    }
    pages.pay_answer(result, &format!("/s/{token}"))
}

/// The portal's Pay now, for one of the signed-in client's invoices.
pub(crate) async fn portal_pay(
    pages: &Pages,
    org: &OrgId,
    session: &str,
    invoice: &RecordId,
    back: &str,
) -> Result<Response, portico_core::service::PortalError> {
    if pages.payments.is_none() {
        return Ok(super::not_found());
    }
    let result = pages.portico.portal_pay(org, session, invoice).await?;
    Ok(pages.pay_answer(result, back))
}

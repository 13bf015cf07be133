//! C7's host side: agreements, appointments and contracts, pushed in by the host's id and read
//! back; a signed contract's drawn signature and its printable signed copy.

use poem_openapi::param::{Header, Path};
use poem_openapi::payload::{Binary, Html, Json};
use poem_openapi::{ApiResponse, OpenApi};
use portico_core::model as m;
use portico_core::service::RecordError;

use super::{Answer, ApiTags, OrgKey, staff_id};
use crate::dto::{
    self, AgreementBody, AgreementDto, AppointmentBody, AppointmentDto, ContractBody, ContractDto,
};
use crate::error::ApiError;
use crate::pages::contract_copy;

/// The C7 routes of the integration API.
pub(crate) struct PlansApi {
    pub(crate) state: std::sync::Arc<crate::State>,
}

/// `RecordError::NotFound` named for what was looked for.
fn missing(what: &'static str) -> impl Fn(RecordError) -> ApiError {
    move |e| match e {
        RecordError::NotFound => ApiError::not_found(what),
        other => other.into(),
    }
}

/// A contract's PDF, as Portico keeps it.
#[derive(ApiResponse)]
enum ContractPdf {
    /// The PDF.
    #[oai(status = 200, content_type = "application/pdf")]
    Pdf(Binary<Vec<u8>>),
}

/// A drawn signature, as stored (a PNG checked when it was drawn).
#[derive(ApiResponse)]
enum SignatureImage {
    /// The PNG.
    #[oai(status = 200, content_type = "image/png")]
    Png(Binary<Vec<u8>>),
}

#[OpenApi]
impl PlansApi {
    /// Creates or replaces a client's service agreement (C7). Needs a role that may share: the
    /// client sees it in the portal at once (cost, margin and notes never).
    #[oai(
        path = "/agreements/:id",
        method = "put",
        tag = "ApiTags::Plans",
        operation_id = "put_agreement"
    )]
    async fn put_agreement(
        &self,
        auth: OrgKey,
        #[oai(name = "X-Portico-Staff")] staff: Header<String>,
        id: Path<String>,
        body: Json<AgreementBody>,
    ) -> Answer<AgreementDto> {
        let actor = staff_id(staff)?;
        let agreement = body.0.into_model(auth.0, dto::id("id", id.0)?)?;
        let stored = self.state.portico.put_agreement(&actor, &agreement).await?;
        Ok(Json(stored.into()))
    }

    /// An agreement as stored.
    #[oai(
        path = "/agreements/:id",
        method = "get",
        tag = "ApiTags::Plans",
        operation_id = "get_agreement"
    )]
    async fn get_agreement(&self, auth: OrgKey, id: Path<String>) -> Answer<AgreementDto> {
        let id: m::AgreementId = dto::id("id", id.0)?;
        let found = self
            .state
            .portico
            .agreement(&auth.0, &id)
            .await
            .map_err(missing("agreement"))?;
        Ok(Json(found.into()))
    }

    /// Creates or replaces an appointment (C7). Needs a role that may share. The technician
    /// must be staff of the org (the client sees their first name), the job a work order of
    /// the same client.
    #[oai(
        path = "/appointments/:id",
        method = "put",
        tag = "ApiTags::Plans",
        operation_id = "put_appointment"
    )]
    async fn put_appointment(
        &self,
        auth: OrgKey,
        #[oai(name = "X-Portico-Staff")] staff: Header<String>,
        id: Path<String>,
        body: Json<AppointmentBody>,
    ) -> Answer<AppointmentDto> {
        let actor = staff_id(staff)?;
        let appointment = body.0.into_model(auth.0, dto::id("id", id.0)?)?;
        let stored = self
            .state
            .portico
            .put_appointment(&actor, &appointment)
            .await?;
        Ok(Json(stored.into()))
    }

    /// An appointment as stored.
    #[oai(
        path = "/appointments/:id",
        method = "get",
        tag = "ApiTags::Plans",
        operation_id = "get_appointment"
    )]
    async fn get_appointment(&self, auth: OrgKey, id: Path<String>) -> Answer<AppointmentDto> {
        let id: m::AppointmentId = dto::id("id", id.0)?;
        let found = self
            .state
            .portico
            .appointment(&auth.0, &id)
            .await
            .map_err(missing("appointment"))?;
        Ok(Json(found.into()))
    }

    /// Sends a contract for the client to sign in the portal (C7). The same title and text
    /// again change nothing; a changed one makes a new version (only the latest is signed);
    /// `void` withdraws the latest unsigned version. A signed latest version cannot be
    /// withdrawn (409 `signed`). Needs a role that may share. Answers every version.
    #[oai(
        path = "/contracts/:id",
        method = "put",
        tag = "ApiTags::Plans",
        operation_id = "put_contract"
    )]
    async fn put_contract(
        &self,
        auth: OrgKey,
        #[oai(name = "X-Portico-Staff")] staff: Header<String>,
        id: Path<String>,
        body: Json<ContractBody>,
    ) -> Answer<ContractDto> {
        let actor = staff_id(staff)?;
        let draft = body.0.into_model(auth.0, dto::id("id", id.0)?)?;
        let versions = self.state.portico.put_contract(&actor, &draft).await?;
        Ok(Json(ContractDto::of(versions)))
    }

    /// A contract with every version and each signature: name, time, address, browser and
    /// the SHA-256 of the content signed.
    #[oai(
        path = "/contracts/:id",
        method = "get",
        tag = "ApiTags::Plans",
        operation_id = "get_contract"
    )]
    async fn get_contract(&self, auth: OrgKey, id: Path<String>) -> Answer<ContractDto> {
        let id: m::ContractId = dto::id("id", id.0)?;
        let versions = self
            .state
            .portico
            .contract_versions(&auth.0, &id)
            .await
            .map_err(missing("contract"))?;
        Ok(Json(ContractDto::of(versions)))
    }

    /// The PDF a version carries, as sent (Portico's copy); 404 for a version without one.
    #[oai(
        path = "/contracts/:id/versions/:version/document",
        method = "get",
        tag = "ApiTags::Plans",
        operation_id = "get_contract_document"
    )]
    async fn get_contract_document(
        &self,
        auth: OrgKey,
        id: Path<String>,
        version: Path<u32>,
    ) -> Result<ContractPdf, ApiError> {
        let id: m::ContractId = dto::id("id", id.0)?;
        let pdf = self
            .state
            .portico
            .contract_document_bytes(&auth.0, &id, version.0)
            .await
            .map_err(missing("contract document"))?;
        Ok(ContractPdf::Pdf(Binary(pdf.bytes)))
    }

    /// The drawn signature of a signed version (PNG); 404 when it was signed by name alone.
    #[oai(
        path = "/contracts/:id/versions/:version/signature",
        method = "get",
        tag = "ApiTags::Plans",
        operation_id = "get_contract_signature"
    )]
    async fn get_contract_signature(
        &self,
        auth: OrgKey,
        id: Path<String>,
        version: Path<u32>,
    ) -> Result<SignatureImage, ApiError> {
        let id: m::ContractId = dto::id("id", id.0)?;
        let image = self
            .state
            .portico
            .contract_signature_image(&auth.0, &id, version.0)
            .await
            .map_err(missing("contract"))?
            .ok_or_else(|| ApiError::not_found("drawn signature"))?;
        Ok(SignatureImage::Png(Binary(image.bytes)))
    }

    /// The printable signed copy of a version (HTML): the text, the signature and the audit
    /// line. The drawn signature is embedded, so the page stands alone.
    #[oai(
        path = "/contracts/:id/versions/:version/copy",
        method = "get",
        tag = "ApiTags::Plans",
        operation_id = "get_contract_copy"
    )]
    async fn get_contract_copy(
        &self,
        auth: OrgKey,
        id: Path<String>,
        version: Path<u32>,
    ) -> Result<Html<String>, ApiError> {
        let id: m::ContractId = dto::id("id", id.0)?;
        let copy = self
            .state
            .portico
            .signed_copy(&auth.0, &id, version.0)
            .await
            .map_err(missing("signed version"))?;
        let page = contract_copy(&copy).map_err(|e| ApiError::internal(&e))?;
        Ok(Html(page))
    }
}

//! The integration API (I1–I3): what a host app calls. Every mutating call names the acting
//! staff member in `X-Portico-Staff`; the core checks their role (S1).

use std::sync::Arc;

use poem::Request;
use poem_openapi::auth::Bearer;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::{Binary, Json};
use poem_openapi::{OpenApi, SecurityScheme, Tags};
use portico_core::model::{self as m, OrgId, RecordId, RecordKind, RecordRef, StaffId};
use portico_core::service::{EnableShare, ShareChange};
use sha2::{Digest, Sha256};

use crate::State;
use crate::dto::{
    self, ApiKeyBody, ApiKeyCreated, ApiKeyDto, AuditEntryDto, ClientBody, DeliveryStateDto,
    EnableShareBody, EventBody, EventPage, FileDto, InvoiceBody, MarkedRead, MessageBody,
    MessageDto, NotificationDto, OrgBody, OrgDto, OrgPatchBody, PortalAccessBody, PortalAccountDto,
    QuoteBody, QuoteDecisionDto, RecordChangeDto, RecordKindDto, RequestStateBody, RequestStateDto,
    ServiceRequestDto, ShareChangeBody, ShareDto, StaffBody, WorkOrderBody,
};
use crate::error::ApiError;

mod payments;
mod plans;
mod webhooks;

pub(crate) use payments::PaymentsApi;
pub(crate) use plans::PlansApi;
pub(crate) use webhooks::WebhooksApi;

/// The operations' groups in the API document.
#[derive(Tags)]
enum ApiTags {
    /// Orgs and their keys; needs the admin token.
    Admin,
    /// The host's records: orgs, staff, clients, work orders, quotes, invoices.
    Records,
    /// Share links (I3).
    Shares,
    /// Photo and file bytes: uploaded by the host, served to clients only through a share's link.
    Files,
    /// The client portal (C2): invitations and each client's login.
    Portal,
    /// What clients send from the portal (C7): messages, service requests, the event log.
    Inbox,
    /// What the host pushes in for the portal (C7): agreements, appointments, contracts to sign.
    Plans,
    /// Online payments (I5): the org's Stripe account, and each invoice's payments.
    Payments,
    /// Webhooks to the host app (I4): endpoints, test events and the deliveries' log.
    Webhooks,
}

/// A client's photo, in the type detected from its bytes when it was uploaded.
#[derive(poem_openapi::ApiResponse)]
enum Photo {
    /// JPEG.
    #[oai(status = 200, content_type = "image/jpeg")]
    Jpeg(Binary<Vec<u8>>),
    /// PNG.
    #[oai(status = 200, content_type = "image/png")]
    Png(Binary<Vec<u8>>),
    /// GIF.
    #[oai(status = 200, content_type = "image/gif")]
    Gif(Binary<Vec<u8>>),
    /// WebP.
    #[oai(status = 200, content_type = "image/webp")]
    Webp(Binary<Vec<u8>>),
    /// HEIC or HEIF.
    #[oai(status = 200, content_type = "image/heic")]
    Heic(Binary<Vec<u8>>),
    /// AVIF.
    #[oai(status = 200, content_type = "image/avif")]
    Avif(Binary<Vec<u8>>),
}

impl Photo {
    fn of(blob: portico_core::ports::Blob) -> Self {
        let bytes = Binary(blob.bytes);
        match blob.content_type.as_str() {
            "image/png" => Self::Png(bytes),
            "image/gif" => Self::Gif(bytes),
            "image/webp" => Self::Webp(bytes),
            "image/heic" | "image/heif" => Self::Heic(bytes),
            "image/avif" => Self::Avif(bytes),
            _ => Self::Jpeg(bytes),
        }
    }
}

/// An org's API key: `Authorization: Bearer pk_…`.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "pk_…", checker = "org_of_key")]
pub(crate) struct OrgKey(OrgId);

async fn org_of_key(req: &Request, bearer: Bearer) -> Option<OrgId> {
    let state = req.data::<Arc<State>>()?;
    match state.portico.authenticate(&bearer.token).await {
        Ok(org) => org,
        Err(e) => {
            tracing::error!(error = %e, "API key look-up failed");
            None
        }
    }
}

/// The admin token from the service's configuration: `Authorization: Bearer …`.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", checker = "admin_token")]
pub(crate) struct AdminToken(());

// Reason: poem-openapi awaits every checker, so it must be async even with nothing to await.
#[allow(clippy::unused_async)]
async fn admin_token(req: &Request, bearer: Bearer) -> Option<()> {
    let expected = req.data::<Arc<State>>()?.admin_token_hash?;
    // Compare hashes, so the comparison's time says nothing about the token.
    let presented: [u8; 32] = Sha256::digest(bearer.token.as_bytes()).into();
    (presented == expected).then_some(())
}

fn staff_id(header: Header<String>) -> Result<StaffId, ApiError> {
    dto::id("X-Portico-Staff", header.0)
}

fn record_ref(kind: RecordKind, raw: String) -> Result<RecordRef, ApiError> {
    Ok(RecordRef {
        kind,
        id: dto::id::<RecordId>("record id", raw)?,
    })
}

fn key_uuid(raw: &str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(raw).map_err(|_| ApiError::not_found("api key"))
}

fn share_id(raw: &str) -> Result<m::ShareId, ApiError> {
    uuid::Uuid::parse_str(raw)
        .map(m::ShareId)
        .map_err(|_| ApiError::not_found("share"))
}

pub(crate) struct IntegrationApi {
    pub(crate) state: Arc<State>,
}

type Answer<T> = Result<Json<T>, ApiError>;

#[OpenApi]
impl IntegrationApi {
    /// Creates or replaces an org.
    #[oai(
        path = "/admin/orgs/:org_id",
        method = "put",
        tag = "ApiTags::Admin",
        operation_id = "put_org"
    )]
    async fn put_org(
        &self,
        _auth: AdminToken,
        org_id: Path<String>,
        body: Json<OrgBody>,
    ) -> Answer<OrgDto> {
        let org = body.0.into_model(dto::id("org_id", org_id.0)?)?;
        self.state.portico.put_org(&org).await?;
        Ok(Json(org.into()))
    }

    /// An org with every value in effect.
    #[oai(
        path = "/admin/orgs/:org_id",
        method = "get",
        tag = "ApiTags::Admin",
        operation_id = "get_org"
    )]
    async fn get_org(&self, _auth: AdminToken, org_id: Path<String>) -> Answer<OrgDto> {
        let org: OrgId = dto::id("org_id", org_id.0)?;
        Ok(Json(self.state.portico.org(&org).await?.into()))
    }

    /// Creates an API key for an org. The key is in this answer only.
    #[oai(
        path = "/admin/orgs/:org_id/api-keys",
        method = "post",
        tag = "ApiTags::Admin",
        operation_id = "create_api_key"
    )]
    async fn create_api_key(
        &self,
        _auth: AdminToken,
        org_id: Path<String>,
        body: Json<ApiKeyBody>,
    ) -> Answer<ApiKeyCreated> {
        let org: OrgId = dto::id("org_id", org_id.0)?;
        let (id, key) = self
            .state
            .portico
            .create_api_key(&org, &body.0.label)
            .await?;
        Ok(Json(ApiKeyCreated {
            id,
            key: key.expose().to_owned(),
        }))
    }

    /// An org's API keys, live and revoked, oldest first (never a key).
    #[oai(
        path = "/admin/orgs/:org_id/api-keys",
        method = "get",
        tag = "ApiTags::Admin",
        operation_id = "list_org_api_keys"
    )]
    async fn list_org_api_keys(
        &self,
        _auth: AdminToken,
        org_id: Path<String>,
    ) -> Answer<Vec<ApiKeyDto>> {
        let org: OrgId = dto::id("org_id", org_id.0)?;
        let keys = self.state.portico.api_keys(&org).await?;
        Ok(Json(keys.into_iter().map(Into::into).collect()))
    }

    /// Revokes an org's API key: refused from the next request on.
    #[oai(
        path = "/admin/orgs/:org_id/api-keys/:key_id",
        method = "delete",
        tag = "ApiTags::Admin",
        operation_id = "revoke_org_api_key"
    )]
    async fn revoke_org_api_key(
        &self,
        _auth: AdminToken,
        org_id: Path<String>,
        key_id: Path<String>,
    ) -> Result<(), ApiError> {
        let org: OrgId = dto::id("org_id", org_id.0)?;
        let id = key_uuid(&key_id.0)?;
        if self.state.portico.revoke_api_key(&org, id).await? {
            Ok(())
        } else {
            Err(ApiError::not_found("api key"))
        }
    }

    /// The calling org's API keys, live and revoked, oldest first (never a key).
    #[oai(
        path = "/api-keys",
        method = "get",
        tag = "ApiTags::Records",
        operation_id = "list_own_api_keys"
    )]
    async fn list_own_api_keys(&self, auth: OrgKey) -> Answer<Vec<ApiKeyDto>> {
        let keys = self.state.portico.api_keys(&auth.0).await?;
        Ok(Json(keys.into_iter().map(Into::into).collect()))
    }

    /// Revokes one of the calling org's API keys (this one too), on behalf of an owner, admin or
    /// sole trader named in `X-Portico-Staff`: refused from the next request on.
    #[oai(
        path = "/api-keys/:key_id",
        method = "delete",
        tag = "ApiTags::Records",
        operation_id = "revoke_own_api_key"
    )]
    async fn revoke_own_api_key(
        &self,
        auth: OrgKey,
        #[oai(name = "X-Portico-Staff")] staff: Header<String>,
        key_id: Path<String>,
    ) -> Result<(), ApiError> {
        let actor = staff_id(staff)?;
        let id = key_uuid(&key_id.0)?;
        if self
            .state
            .portico
            .revoke_own_api_key(&actor, &auth.0, id)
            .await?
        {
            Ok(())
        } else {
            Err(ApiError::not_found("api key"))
        }
    }

    /// Replaces the calling org's details and settings, on behalf of an owner, admin or sole
    /// trader named in `X-Portico-Staff`. What the body leaves out takes its default; the plan
    /// is the operator's and must stay as it is (403 `plan_set_by_operator`).
    #[oai(
        path = "/org",
        method = "put",
        tag = "ApiTags::Records",
        operation_id = "put_own_org"
    )]
    async fn put_own_org(
        &self,
        auth: OrgKey,
        #[oai(name = "X-Portico-Staff")] staff: Header<String>,
        body: Json<OrgBody>,
    ) -> Answer<OrgDto> {
        let actor = staff_id(staff)?;
        let replacement = body.0.into_model(auth.0.clone())?;
        let org = self
            .state
            .portico
            .change_org(&actor, &auth.0, |org| {
                *org = replacement.clone();
                Ok(())
            })
            .await?;
        Ok(Json(org.into()))
    }

    /// The calling org, with every value in effect.
    #[oai(
        path = "/org",
        method = "get",
        tag = "ApiTags::Records",
        operation_id = "get_own_org"
    )]
    async fn get_own_org(&self, auth: OrgKey) -> Answer<OrgDto> {
        Ok(Json(self.state.portico.org(&auth.0).await?.into()))
    }

    /// Changes some of the calling org's details and settings, on behalf of an owner, admin or
    /// sole trader named in `X-Portico-Staff`: what the body leaves out stays as it is. The plan
    /// is not among them (the operator sets it). Answers the org with every value in effect.
    #[oai(
        path = "/org",
        method = "patch",
        tag = "ApiTags::Records",
        operation_id = "patch_own_org"
    )]
    async fn patch_own_org(
        &self,
        auth: OrgKey,
        #[oai(name = "X-Portico-Staff")] staff: Header<String>,
        body: Json<OrgPatchBody>,
    ) -> Answer<OrgDto> {
        let actor = staff_id(staff)?;
        let change = body.0.into_change()?;
        let org = self
            .state
            .portico
            .change_org(&actor, &auth.0, |org| {
                change.apply(org);
                Ok(())
            })
            .await?;
        Ok(Json(org.into()))
    }

    /// Creates or replaces a staff member (host sync).
    #[oai(
        path = "/staff/:staff_id",
        method = "put",
        tag = "ApiTags::Records",
        operation_id = "put_staff"
    )]
    async fn put_staff(
        &self,
        auth: OrgKey,
        staff_id: Path<String>,
        body: Json<StaffBody>,
    ) -> Answer<StaffBody> {
        let staff = body
            .0
            .clone()
            .into_model(auth.0, dto::id("staff_id", staff_id.0)?)?;
        self.state.portico.put_staff(&staff).await?;
        Ok(body)
    }

    /// Creates or replaces a client (host sync).
    #[oai(
        path = "/clients/:client_id",
        method = "put",
        tag = "ApiTags::Records",
        operation_id = "put_client"
    )]
    async fn put_client(
        &self,
        auth: OrgKey,
        client_id: Path<String>,
        body: Json<ClientBody>,
    ) -> Answer<ClientBody> {
        let client = body
            .0
            .clone()
            .into_model(auth.0, dto::id("client_id", client_id.0)?)?;
        self.state.portico.put_client(&client).await?;
        Ok(body)
    }

    /// Creates or replaces a work order (full upsert, I2). The answer carries `share_prompt`
    /// when staff should be asked "share with client?" (P1).
    #[oai(
        path = "/work-orders/:id",
        method = "put",
        tag = "ApiTags::Records",
        operation_id = "put_work_order"
    )]
    async fn put_work_order(
        &self,
        auth: OrgKey,
        #[oai(name = "X-Portico-Staff")] staff: Header<String>,
        id: Path<String>,
        body: Json<WorkOrderBody>,
    ) -> Answer<RecordChangeDto> {
        let actor = staff_id(staff)?;
        let upsert = body.0.into_model(auth.0, dto::id("id", id.0)?)?;
        let change = self.state.portico.upsert(&actor, &upsert).await?;
        Ok(Json(change.into()))
    }

    /// Reports an event on a work order (I2): status change, task done, update posted, file
    /// added or removed, payment recorded, reopen.
    #[oai(
        path = "/work-orders/:id/events",
        method = "post",
        tag = "ApiTags::Records",
        operation_id = "work_order_event"
    )]
    async fn work_order_event(
        &self,
        auth: OrgKey,
        #[oai(name = "X-Portico-Staff")] staff: Header<String>,
        id: Path<String>,
        body: Json<EventBody>,
    ) -> Answer<RecordChangeDto> {
        let actor = staff_id(staff)?;
        let event = body.0.into_model()?;
        let wo: RecordId = dto::id("id", id.0)?;
        let change = self
            .state
            .portico
            .apply_event(&actor, &auth.0, &wo, &event)
            .await?;
        Ok(Json(change.into()))
    }

    /// Creates or replaces a quote (full upsert). A client's decision is kept; an approved or
    /// declined quote can no longer change (409 `locked`).
    #[oai(
        path = "/quotes/:id",
        method = "put",
        tag = "ApiTags::Records",
        operation_id = "put_quote"
    )]
    async fn put_quote(
        &self,
        auth: OrgKey,
        #[oai(name = "X-Portico-Staff")] staff: Header<String>,
        id: Path<String>,
        body: Json<QuoteBody>,
    ) -> Answer<RecordChangeDto> {
        let actor = staff_id(staff)?;
        let quote = body.0.into_model(auth.0, dto::id("id", id.0)?)?;
        let change = self
            .state
            .portico
            .upsert_record(&actor, &m::Record::Quote(quote))
            .await?;
        Ok(Json(change.into()))
    }

    /// Creates or replaces an invoice (full upsert).
    #[oai(
        path = "/invoices/:id",
        method = "put",
        tag = "ApiTags::Records",
        operation_id = "put_invoice"
    )]
    async fn put_invoice(
        &self,
        auth: OrgKey,
        #[oai(name = "X-Portico-Staff")] staff: Header<String>,
        id: Path<String>,
        body: Json<InvoiceBody>,
    ) -> Answer<RecordChangeDto> {
        let actor = staff_id(staff)?;
        let invoice = body.0.into_model(auth.0, dto::id("id", id.0)?)?;
        let change = self
            .state
            .portico
            .upsert_record(&actor, &m::Record::Invoice(invoice))
            .await?;
        Ok(Json(change.into()))
    }

    /// Enables sharing of a record and returns its link (S1–S4). Enabling again while the share
    /// is active returns the same link.
    #[oai(
        path = "/records/:kind/:id/share",
        method = "post",
        tag = "ApiTags::Shares",
        operation_id = "enable_share"
    )]
    async fn enable_share(
        &self,
        auth: OrgKey,
        #[oai(name = "X-Portico-Staff")] staff: Header<String>,
        kind: Path<RecordKindDto>,
        id: Path<String>,
        body: Json<EnableShareBody>,
    ) -> Answer<ShareDto> {
        let actor = staff_id(staff)?;
        let record = record_ref(kind.0.into(), id.0)?;
        let request = EnableShare {
            recipient: body.0.recipient,
            sections: dto::sections(body.0.sections),
        };
        let share = self
            .state
            .portico
            .enable_share(&actor, &auth.0, &record, &request)
            .await?;
        Ok(Json(share.into()))
    }

    /// Every share (each token generation) of a record, oldest first.
    #[oai(
        path = "/records/:kind/:id/shares",
        method = "get",
        tag = "ApiTags::Shares",
        operation_id = "list_shares"
    )]
    async fn list_shares(
        &self,
        auth: OrgKey,
        kind: Path<RecordKindDto>,
        id: Path<String>,
    ) -> Answer<Vec<ShareDto>> {
        let record = record_ref(kind.0.into(), id.0)?;
        let shares = self.state.portico.list_shares(&auth.0, &record).await?;
        Ok(Json(shares.into_iter().map(Into::into).collect()))
    }

    /// The record's audit log (S12), oldest first: every share action and the client's decisions.
    #[oai(
        path = "/records/:kind/:id/audit",
        method = "get",
        tag = "ApiTags::Shares",
        operation_id = "audit_log"
    )]
    async fn audit_log(
        &self,
        auth: OrgKey,
        kind: Path<RecordKindDto>,
        id: Path<String>,
    ) -> Answer<Vec<AuditEntryDto>> {
        let record = record_ref(kind.0.into(), id.0)?;
        let entries = self.state.portico.audit_log(&auth.0, &record).await?;
        Ok(Json(entries.into_iter().map(Into::into).collect()))
    }

    /// The client's decision on a quote (V5): approved, changes requested (with the message) or
    /// declined. 404 `not_found` with `details.decided = false` while undecided.
    #[oai(
        path = "/quotes/:id/decision",
        method = "get",
        tag = "ApiTags::Records",
        operation_id = "get_quote_decision"
    )]
    async fn quote_decision(&self, auth: OrgKey, id: Path<String>) -> Answer<QuoteDecisionDto> {
        let quote: RecordId = dto::id("id", id.0)?;
        match self.state.portico.quote_decision(&auth.0, &quote).await? {
            Some(d) => Ok(Json(QuoteDecisionDto {
                decision: d.kind.as_str().to_owned(),
                message: d.message,
                at: d.at,
            })),
            None => Err(ApiError::undecided()),
        }
    }

    /// The org's emails, newest first (at most 500): what left, what is waiting, and what was
    /// given up on with the reason (`state=dead`).
    #[oai(
        path = "/notifications",
        method = "get",
        tag = "ApiTags::Shares",
        operation_id = "list_notifications"
    )]
    async fn list_notifications(
        &self,
        auth: OrgKey,
        state: Query<Option<DeliveryStateDto>>,
        limit: Query<Option<u32>>,
    ) -> Answer<Vec<NotificationDto>> {
        let limit = limit.0.unwrap_or(100).clamp(1, 500) as usize;
        let listed = self
            .state
            .portico
            .notifications(&auth.0, state.0.map(Into::into), limit)
            .await
            .map_err(|e| ApiError::internal(&e))?
            .ok_or_else(|| ApiError::not_found("notification list"))?;
        Ok(Json(listed.into_iter().map(Into::into).collect()))
    }

    /// One share: link, recipient, sections, expiry, first and last opened.
    #[oai(
        path = "/shares/:share_id",
        method = "get",
        tag = "ApiTags::Shares",
        operation_id = "get_share"
    )]
    async fn get_share(&self, auth: OrgKey, share_id: Path<String>) -> Answer<ShareDto> {
        let share = self
            .state
            .portico
            .get_share(&auth.0, self::share_id(&share_id.0)?)
            .await?;
        Ok(Json(share.into()))
    }

    /// Changes a share's recipient or sections (S6); the link stays the same.
    #[oai(
        path = "/shares/:share_id",
        method = "patch",
        tag = "ApiTags::Shares",
        operation_id = "change_share"
    )]
    async fn change_share(
        &self,
        auth: OrgKey,
        #[oai(name = "X-Portico-Staff")] staff: Header<String>,
        share_id: Path<String>,
        body: Json<ShareChangeBody>,
    ) -> Answer<ShareDto> {
        let actor = staff_id(staff)?;
        let change = ShareChange {
            recipient: body.0.recipient,
            sections: dto::sections(body.0.sections),
        };
        let id = self::share_id(&share_id.0)?;
        let share = self
            .state
            .portico
            .change_share(&actor, &auth.0, id, &change)
            .await?;
        Ok(Json(share.into()))
    }

    /// Revokes a share (S5): its link stops on the very next request.
    #[oai(
        path = "/shares/:share_id/revoke",
        method = "post",
        tag = "ApiTags::Shares",
        operation_id = "revoke_share"
    )]
    async fn revoke_share(
        &self,
        auth: OrgKey,
        #[oai(name = "X-Portico-Staff")] staff: Header<String>,
        share_id: Path<String>,
    ) -> Answer<ShareDto> {
        let actor = staff_id(staff)?;
        let id = self::share_id(&share_id.0)?;
        let share = self.state.portico.revoke_share(&actor, &auth.0, id).await?;
        Ok(Json(share.into()))
    }

    /// Uploads or replaces the bytes of a photo or file (a work order's attachment, a
    /// technician's photo, a signature, the org's logo), then referenced by its id. The type is
    /// detected from the bytes, never from a name or header: photos (JPEG, PNG, GIF, WebP, HEIC,
    /// AVIF) and PDF only.
    #[oai(
        path = "/files/:file_id",
        method = "put",
        tag = "ApiTags::Files",
        operation_id = "put_file"
    )]
    async fn put_file(
        &self,
        auth: OrgKey,
        #[oai(name = "X-Portico-Staff")] staff: Header<String>,
        file_id: Path<String>,
        body: Binary<Vec<u8>>,
    ) -> Answer<FileDto> {
        let actor = staff_id(staff)?;
        let file: m::FileId = dto::id("file_id", file_id.0)?;
        let detected = infer::get(&body.0).map_or("application/octet-stream", |t| t.mime_type());
        let meta = self
            .state
            .portico
            .put_file(&actor, &auth.0, &file, detected, body.0)
            .await?;
        Ok(Json(FileDto {
            file_id: file.to_string(),
            content_type: meta.content_type,
            size: meta.size,
        }))
    }

    /// The checked type and size of an uploaded file (never its bytes).
    #[oai(
        path = "/files/:file_id",
        method = "get",
        tag = "ApiTags::Files",
        operation_id = "get_file"
    )]
    async fn get_file(&self, auth: OrgKey, file_id: Path<String>) -> Answer<FileDto> {
        let file: m::FileId = dto::id("file_id", file_id.0)?;
        let meta = self.state.portico.file_meta(&auth.0, &file).await?;
        Ok(Json(FileDto {
            file_id: file.to_string(),
            content_type: meta.content_type,
            size: meta.size,
        }))
    }

    /// Deletes the bytes of a file. Removing a file from a work order (event `file_removed` or
    /// an upsert without it) deletes its bytes too.
    #[oai(
        path = "/files/:file_id",
        method = "delete",
        tag = "ApiTags::Files",
        operation_id = "delete_file"
    )]
    async fn delete_file(
        &self,
        auth: OrgKey,
        #[oai(name = "X-Portico-Staff")] staff: Header<String>,
        file_id: Path<String>,
    ) -> Result<(), ApiError> {
        let actor = staff_id(staff)?;
        let file: m::FileId = dto::id("file_id", file_id.0)?;
        self.state
            .portico
            .delete_file(&actor, &auth.0, &file)
            .await?;
        Ok(())
    }

    /// Invites a client to the portal (C2): queues an email with the portal's address and a
    /// link that signs them in (once, within 7 days) and offers to set a password. Inviting
    /// again sends a new link (the older one stops working) and switches a disabled login on.
    /// Needs a role that may share.
    #[oai(
        path = "/clients/:client_id/portal/invite",
        method = "post",
        tag = "ApiTags::Portal",
        operation_id = "invite_to_portal"
    )]
    async fn invite_to_portal(
        &self,
        auth: OrgKey,
        #[oai(name = "X-Portico-Staff")] staff: Header<String>,
        client_id: Path<String>,
    ) -> Answer<PortalAccountDto> {
        let actor = staff_id(staff)?;
        let client: m::ClientId = dto::id("client_id", client_id.0)?;
        let account = self
            .state
            .portico
            .invite_to_portal(&auth.0, &actor, &client)
            .await?;
        Ok(Json(PortalAccountDto::of(&client, Some(account))))
    }

    /// Switches a client's portal login on or off (C2). Off ends every session of the client
    /// at once; on again does not revive them (the client signs in again). Needs a role that
    /// may share.
    #[oai(
        path = "/clients/:client_id/portal",
        method = "put",
        tag = "ApiTags::Portal",
        operation_id = "set_portal_access"
    )]
    async fn set_portal_access(
        &self,
        auth: OrgKey,
        #[oai(name = "X-Portico-Staff")] staff: Header<String>,
        client_id: Path<String>,
        body: Json<PortalAccessBody>,
    ) -> Answer<PortalAccountDto> {
        let actor = staff_id(staff)?;
        let client: m::ClientId = dto::id("client_id", client_id.0)?;
        let account = self
            .state
            .portico
            .set_portal_login(&auth.0, &actor, &client, body.0.enabled)
            .await?;
        Ok(Json(PortalAccountDto::of(&client, Some(account))))
    }

    /// A client's portal state (C2): invited, login on, password set, last sign-in.
    #[oai(
        path = "/clients/:client_id/portal",
        method = "get",
        tag = "ApiTags::Portal",
        operation_id = "get_portal_access"
    )]
    async fn get_portal_access(
        &self,
        auth: OrgKey,
        client_id: Path<String>,
    ) -> Answer<PortalAccountDto> {
        let client: m::ClientId = dto::id("client_id", client_id.0)?;
        let account = self.state.portico.portal_account(&auth.0, &client).await?;
        Ok(Json(PortalAccountDto::of(&client, account)))
    }

    /// Every message of a client's threads (C7), oldest first: the general thread and one per
    /// job. `from` says who wrote each; `read_at` when the other side read it.
    #[oai(
        path = "/clients/:client_id/messages",
        method = "get",
        tag = "ApiTags::Inbox",
        operation_id = "list_client_messages"
    )]
    async fn list_client_messages(
        &self,
        auth: OrgKey,
        client_id: Path<String>,
    ) -> Answer<Vec<MessageDto>> {
        let client: m::ClientId = dto::id("client_id", client_id.0)?;
        let messages = self.state.portico.client_messages(&auth.0, &client).await?;
        Ok(Json(messages.into_iter().map(Into::into).collect()))
    }

    /// Answers a client (C7), in their general thread or the one about `job_id` (a work order
    /// of theirs). The client reads it in the portal and is emailed; the client must have portal
    /// access (`not_in_portal` otherwise) and the portal must be on. The client sees the staff
    /// member's first name.
    #[oai(
        path = "/clients/:client_id/messages",
        method = "post",
        tag = "ApiTags::Inbox",
        operation_id = "send_client_message"
    )]
    async fn send_client_message(
        &self,
        auth: OrgKey,
        #[oai(name = "X-Portico-Staff")] staff: Header<String>,
        client_id: Path<String>,
        body: Json<MessageBody>,
    ) -> Answer<MessageDto> {
        let actor = staff_id(staff)?;
        let client: m::ClientId = dto::id("client_id", client_id.0)?;
        let job: Option<m::RecordId> = body.0.job_id.map(|j| dto::id("job_id", j)).transpose()?;
        let message = self
            .state
            .portico
            .send_client_message(&auth.0, &actor, &client, job.as_ref(), &body.0.body)
            .await?;
        Ok(Json(message.into()))
    }

    /// Marks every message the client wrote as read by the business.
    #[oai(
        path = "/clients/:client_id/messages/read",
        method = "post",
        tag = "ApiTags::Inbox",
        operation_id = "mark_client_messages_read"
    )]
    async fn mark_client_messages_read(
        &self,
        auth: OrgKey,
        #[oai(name = "X-Portico-Staff")] staff: Header<String>,
        client_id: Path<String>,
    ) -> Answer<MarkedRead> {
        let actor = staff_id(staff)?;
        let client: m::ClientId = dto::id("client_id", client_id.0)?;
        let marked = self
            .state
            .portico
            .mark_client_messages_read(&auth.0, &actor, &client)
            .await?;
        Ok(Json(MarkedRead {
            marked: u64::try_from(marked).unwrap_or(u64::MAX),
        }))
    }

    /// The org's service requests (C7), oldest first, in `state` when given (`state=new`: the
    /// ones nobody has looked at yet); at most `limit` (default 100, at most 500).
    #[oai(
        path = "/service-requests",
        method = "get",
        tag = "ApiTags::Inbox",
        operation_id = "list_service_requests"
    )]
    async fn list_service_requests(
        &self,
        auth: OrgKey,
        state: Query<Option<RequestStateDto>>,
        limit: Query<Option<u32>>,
    ) -> Answer<Vec<ServiceRequestDto>> {
        let limit = limit.0.unwrap_or(100).clamp(1, 500);
        let listed = self
            .state
            .portico
            .service_requests(&auth.0, state.0.map(Into::into), limit)
            .await?;
        Ok(Json(listed.into_iter().map(Into::into).collect()))
    }

    /// Moves a service request: seen, converted (into a job or quote in the host app), or back.
    #[oai(
        path = "/service-requests/:service_request_id/state",
        method = "post",
        tag = "ApiTags::Inbox",
        operation_id = "set_service_request_state"
    )]
    async fn set_service_request_state(
        &self,
        auth: OrgKey,
        #[oai(name = "X-Portico-Staff")] staff: Header<String>,
        service_request_id: Path<String>,
        body: Json<RequestStateBody>,
    ) -> Answer<ServiceRequestDto> {
        let actor = staff_id(staff)?;
        let id = uuid::Uuid::parse_str(&service_request_id.0)
            .map(m::ServiceRequestId)
            .map_err(|_| ApiError::not_found("service request"))?;
        let request = self
            .state
            .portico
            .set_service_request_state(&auth.0, &actor, id, body.0.state.into())
            .await?;
        Ok(Json(request.into()))
    }

    /// A photo the client attached to a service request, as uploaded (its type checked from
    /// its bytes).
    #[oai(
        path = "/service-requests/:service_request_id/photos/:photo_id",
        method = "get",
        tag = "ApiTags::Inbox",
        operation_id = "get_service_request_photo"
    )]
    async fn get_service_request_photo(
        &self,
        auth: OrgKey,
        service_request_id: Path<String>,
        photo_id: Path<String>,
    ) -> Result<Photo, ApiError> {
        let id = uuid::Uuid::parse_str(&service_request_id.0)
            .map(m::ServiceRequestId)
            .map_err(|_| ApiError::not_found("service request"))?;
        let photo = uuid::Uuid::parse_str(&photo_id.0).map_err(|_| ApiError::not_found("photo"))?;
        let blob = self
            .state
            .portico
            .service_request_photo(&auth.0, id, photo)
            .await?;
        Ok(Photo::of(blob))
    }

    /// The org's event log (C7): what clients did, numbered 1, 2, 3 … in commit order with no
    /// gaps. Read the events after the last number seen (`after`, 0 at first) and keep
    /// `next_after` for the next read; a poller that does so never misses an event nor sees one
    /// twice. At most `limit` per read (default 100, at most 500).
    #[oai(
        path = "/events",
        method = "get",
        tag = "ApiTags::Inbox",
        operation_id = "list_events"
    )]
    async fn list_events(
        &self,
        auth: OrgKey,
        after: Query<Option<u64>>,
        limit: Query<Option<u32>>,
    ) -> Answer<EventPage> {
        let after = after.0.unwrap_or(0);
        let limit = limit.0.unwrap_or(100).clamp(1, 500);
        // One more than asked, to tell whether more follow.
        let mut events = self.state.portico.events(&auth.0, after, limit + 1).await?;
        let more = events.len() > limit as usize;
        events.truncate(limit as usize);
        let next_after = events.last().map_or(after, |e| e.seq);
        Ok(Json(EventPage {
            events: events.into_iter().map(Into::into).collect(),
            next_after,
            more,
        }))
    }
}

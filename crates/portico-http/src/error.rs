//! The one error shape of the API (I6): `{code, message, details?}` with a stable,
//! machine-readable `code` and the right status. Domain errors map here; anything internal is
//! logged with its detail and answered with a bare `internal` that leaks nothing.

use poem::http::StatusCode;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object};
use portico_core::policy::access::SharingBlocked;
use portico_core::policy::permissions::ActorDenied;
use portico_core::service::{
    ClientError, FileError, PortalError, RecordError, ShareError, StaffError,
};

/// The body of every error answer.
#[derive(Debug, Clone, PartialEq, Eq, Object)]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `not_permitted`, `plan_required`, `validation`.
    pub code: String,
    /// A human message.
    pub message: String,
    /// More about the error, when there is more to say (the plan required, the role refused …).
    #[oai(skip_serializing_if_is_none)]
    pub details: Option<serde_json::Value>,
}

/// Every error answer of the API.
#[derive(Debug, ApiResponse)]
pub enum ApiError {
    /// The request is malformed or a value is invalid (`bad_request`, `validation`,
    /// `invalid_email`, `no_client`, `no_recipient`).
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// No valid API key or admin token (`unauthorized`).
    #[oai(status = 401)]
    Unauthorized(Json<ErrorBody>),
    /// The acting staff member may not do this, or the org's plan or settings forbid it
    /// (`not_permitted`, `plan_required`, `sharing_disabled`, `unknown_staff`, `inactive_staff`).
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
    /// No such org, record or share (`not_found`).
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// The request body did not arrive in time (`request_timeout`).
    #[oai(status = 408)]
    RequestTimeout(Json<ErrorBody>),
    /// The route does not take this method (`method_not_allowed`).
    #[oai(status = 405)]
    MethodNotAllowed(Json<ErrorBody>),
    /// The change conflicts with the stored state (`conflict`, `locked`, `revoked`, `expired`).
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
    /// The body is larger than the limit (`payload_too_large`).
    #[oai(status = 413)]
    PayloadTooLarge(Json<ErrorBody>),
    /// The body is not of an accepted type (`unsupported_media_type`, `unsupported_file_type`).
    #[oai(status = 415)]
    UnsupportedMediaType(Json<ErrorBody>),
    /// Something failed inside Portico (`internal`); the detail is in the server's log.
    #[oai(status = 500)]
    Internal(Json<ErrorBody>),
}

impl ApiError {
    pub(crate) fn body(
        code: &str,
        message: impl Into<String>,
        details: Option<serde_json::Value>,
    ) -> Json<ErrorBody> {
        Json(ErrorBody {
            code: code.to_owned(),
            message: message.into(),
            details,
        })
    }

    /// A 400 `validation` error.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::BadRequest(Self::body("validation", message, None))
    }

    /// A 404 `not_found` error.
    pub fn not_found(what: &str) -> Self {
        Self::NotFound(Self::body("not_found", format!("{what} not found"), None))
    }

    /// A 404 for a quote not decided yet.
    pub fn undecided() -> Self {
        Self::NotFound(Self::body(
            "not_found",
            "the client has not decided on this quote yet",
            Some(serde_json::json!({ "decided": false })),
        ))
    }

    /// A 403 `not_permitted` naming the refused role.
    fn not_permitted(role: portico_core::model::Role, message: String) -> Self {
        Self::Forbidden(Self::body(
            "not_permitted",
            message,
            Some(serde_json::json!({ "role": role.as_str() })),
        ))
    }

    /// A 409 `conflict`: someone else changed the same thing meanwhile.
    fn changed_meanwhile() -> Self {
        Self::Conflict(Self::body("conflict", "changed meanwhile; try again", None))
    }

    /// A 401 `unauthorized` error.
    pub fn unauthorized() -> Self {
        Self::Unauthorized(Self::body(
            "unauthorized",
            "a valid API key is required: Authorization: Bearer pk_…",
            None,
        ))
    }

    /// A 500 that says nothing; `detail` goes to the log only.
    pub fn internal(detail: &dyn std::error::Error) -> Self {
        tracing::error!(error = %detail, source = ?detail.source(), "internal error");
        Self::Internal(Self::body("internal", "internal error", None))
    }

    /// The error for any status poem or poem-openapi answered before a handler ran.
    pub fn from_status(status: StatusCode, message: String) -> Self {
        match status {
            StatusCode::UNAUTHORIZED => Self::unauthorized(),
            StatusCode::NOT_FOUND => Self::NotFound(Self::body("not_found", "no such route", None)),
            StatusCode::REQUEST_TIMEOUT => {
                Self::RequestTimeout(Self::body("request_timeout", message, None))
            }
            StatusCode::METHOD_NOT_ALLOWED => Self::MethodNotAllowed(Self::body(
                "method_not_allowed",
                "this route does not take that method",
                None,
            )),
            StatusCode::PAYLOAD_TOO_LARGE => {
                Self::PayloadTooLarge(Self::body("payload_too_large", message, None))
            }
            s if s.is_server_error() => {
                tracing::error!(%status, %message, "internal error");
                Self::Internal(Self::body("internal", "internal error", None))
            }
            s => {
                if s == StatusCode::UNSUPPORTED_MEDIA_TYPE {
                    return Self::UnsupportedMediaType(Self::body(
                        "unsupported_media_type",
                        message,
                        None,
                    ));
                }
                Self::BadRequest(Self::body("bad_request", message, None))
            }
        }
    }
}

impl From<ActorDenied> for ApiError {
    fn from(e: ActorDenied) -> Self {
        let message = e.to_string();
        match e {
            ActorDenied::Unknown => Self::Forbidden(Self::body("unknown_staff", message, None)),
            ActorDenied::Inactive => Self::Forbidden(Self::body("inactive_staff", message, None)),
            ActorDenied::NotPermitted { role } => Self::not_permitted(role, message),
            _ => Self::Forbidden(Self::body("forbidden", message, None)),
        }
    }
}

impl From<SharingBlocked> for ApiError {
    fn from(e: SharingBlocked) -> Self {
        let message = e.to_string();
        match e {
            SharingBlocked::PlanRequired { plan, required } => Self::Forbidden(Self::body(
                "plan_required",
                message,
                Some(serde_json::json!({ "plan": plan, "required": required })),
            )),
            SharingBlocked::SwitchedOff => {
                Self::Forbidden(Self::body("sharing_disabled", message, None))
            }
            _ => Self::Forbidden(Self::body("forbidden", message, None)),
        }
    }
}

impl From<ShareError> for ApiError {
    fn from(e: ShareError) -> Self {
        let message = e.to_string();
        match e {
            ShareError::Actor(denied) => denied.into(),
            ShareError::Blocked(blocked) => blocked.into(),
            ShareError::UnknownOrg => Self::not_found("org"),
            ShareError::RecordNotFound => Self::not_found("record"),
            ShareError::ShareNotFound => Self::not_found("share"),
            ShareError::NoClient => Self::BadRequest(Self::body("no_client", message, None)),
            ShareError::NoRecipient => Self::BadRequest(Self::body("no_recipient", message, None)),
            ShareError::InvalidEmail(_) => {
                Self::BadRequest(Self::body("invalid_email", message, None))
            }
            ShareError::RecordExpired(_) => Self::Conflict(Self::body("expired", message, None)),
            ShareError::Revoked => Self::Conflict(Self::body("revoked", message, None)),
            ShareError::Conflict(_) => Self::changed_meanwhile(),
            ShareError::Key(ref inner) => Self::internal(inner),
            ShareError::Backend(ref inner) => Self::internal(inner.as_ref()),
            ref other => Self::internal(other),
        }
    }
}

impl From<RecordError> for ApiError {
    fn from(e: RecordError) -> Self {
        let message = e.to_string();
        match e {
            RecordError::Actor(denied) => denied.into(),
            RecordError::UnknownOrg => Self::not_found("org"),
            RecordError::NotFound => Self::not_found("record"),
            RecordError::UnknownTask(ref task) => Self::NotFound(Self::body(
                "not_found",
                message,
                Some(serde_json::json!({ "task_id": task.as_str() })),
            )),
            RecordError::NotOrgManager { role } => Self::not_permitted(role, message),
            RecordError::PlanSetByOperator => {
                Self::Forbidden(Self::body("plan_set_by_operator", message, None))
            }
            RecordError::Invalid(invalid) => Self::BadRequest(Self::body(
                "validation",
                invalid.message,
                Some(serde_json::json!({ "field": invalid.field })),
            )),
            RecordError::Locked(_) => Self::Conflict(Self::body("locked", message, None)),
            RecordError::Signed(version) => Self::Conflict(Self::body(
                "signed",
                message,
                Some(serde_json::json!({ "version": version })),
            )),
            RecordError::Conflict(_) => Self::changed_meanwhile(),
            RecordError::Backend(ref inner) => Self::internal(inner.as_ref()),
            ref other => Self::internal(other),
        }
    }
}

impl From<FileError> for ApiError {
    fn from(e: FileError) -> Self {
        let message = e.to_string();
        match e {
            FileError::Actor(denied) => denied.into(),
            FileError::UnknownOrg => Self::not_found("org"),
            FileError::NotFound => Self::not_found("file"),
            FileError::Empty => Self::validation(message),
            FileError::TooLarge { max } => Self::PayloadTooLarge(Self::body(
                "payload_too_large",
                message,
                Some(serde_json::json!({ "max_bytes": max })),
            )),
            FileError::UnsupportedType(ref found) => Self::UnsupportedMediaType(Self::body(
                "unsupported_file_type",
                message.clone(),
                Some(serde_json::json!({
                    "detected": found,
                    "accepted": portico_core::service::ALLOWED_FILE_TYPES,
                })),
            )),
            FileError::InUse => Self::Conflict(Self::body("file_in_use", message, None)),
            FileError::Conflict(_) => Self::changed_meanwhile(),
            FileError::Backend(ref inner) => Self::internal(inner.as_ref()),
            ref other => Self::internal(other),
        }
    }
}

impl From<ClientError> for ApiError {
    fn from(e: ClientError) -> Self {
        let message = e.to_string();
        match e {
            ClientError::LinkInactive => Self::not_found("link"),
            ClientError::NotAQuote => Self::BadRequest(Self::body("not_a_quote", message, None)),
            ClientError::Invalid(_) => Self::validation(message),
            ClientError::NoBusinessEmail => {
                Self::Conflict(Self::body("no_business_email", message, None))
            }
            ClientError::Decision(_) => {
                Self::Conflict(Self::body("decision_refused", message, None))
            }
            ClientError::Conflict(_) => Self::changed_meanwhile(),
            ClientError::Backend(ref inner) => Self::internal(inner.as_ref()),
            ref other => Self::internal(other),
        }
    }
}

impl From<StaffError> for ApiError {
    fn from(e: StaffError) -> Self {
        let message = e.to_string();
        match e {
            StaffError::Actor(denied) => denied.into(),
            StaffError::UnknownOrg => Self::not_found("org"),
            StaffError::NotFound(what) => Self::not_found(what),
            StaffError::Writing(_) => Self::validation(message),
            StaffError::PortalOff => Self::Conflict(Self::body("portal_disabled", message, None)),
            StaffError::NotInPortal => Self::Conflict(Self::body("not_in_portal", message, None)),
            StaffError::Conflict(_) => Self::changed_meanwhile(),
            StaffError::Backend(ref inner) => Self::internal(inner.as_ref()),
            ref other => Self::internal(other),
        }
    }
}

impl From<PortalError> for ApiError {
    fn from(e: PortalError) -> Self {
        let message = e.to_string();
        match e {
            PortalError::Actor(denied) => denied.into(),
            PortalError::UnknownOrg => Self::not_found("org"),
            PortalError::NotFound => Self::not_found("client"),
            PortalError::PlanLacksPortal => {
                Self::Forbidden(Self::body("plan_required", message, None))
            }
            PortalError::PortalOff => Self::Conflict(Self::body("portal_disabled", message, None)),
            PortalError::NoEmail => Self::BadRequest(Self::body("no_email", message, None)),
            PortalError::Conflict(_) => Self::changed_meanwhile(),
            PortalError::Key(ref inner) => Self::internal(inner),
            PortalError::Backend(ref inner) => Self::internal(inner.as_ref()),
            ref other => Self::internal(other),
        }
    }
}

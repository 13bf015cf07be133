//! Identifiers. Entities the host app owns (orgs, staff, clients, records and their parts) are
//! named by the host's own ids, so a `PUT` by id is idempotent; entities Portico creates (shares,
//! notifications, audit entries) get UUIDs.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The longest host id Portico accepts.
pub const MAX_HOST_ID_LEN: usize = 100;

/// Why a host id was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The id was empty.
    #[error("an id must not be empty")]
    Empty,
    /// The id was longer than [`MAX_HOST_ID_LEN`].
    #[error("an id must be at most {MAX_HOST_ID_LEN} characters")]
    TooLong,
    /// The id held a character outside `A-Z a-z 0-9 _ - . :`.
    #[error("an id may hold only letters, digits and _ - . :")]
    BadCharacter,
}

fn check_host_id(raw: &str) -> Result<(), IdError> {
    if raw.is_empty() {
        return Err(IdError::Empty);
    }
    if raw.len() > MAX_HOST_ID_LEN {
        return Err(IdError::TooLong);
    }
    if !raw
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'))
    {
        return Err(IdError::BadCharacter);
    }
    Ok(())
}

macro_rules! host_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Checks `raw` and wraps it.
            pub fn new(raw: impl Into<String>) -> Result<Self, IdError> {
                let raw = raw.into();
                check_host_id(&raw)?;
                Ok(Self(raw))
            }

            /// The id as the host wrote it.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(raw: String) -> Result<Self, IdError> {
                Self::new(raw)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

host_id!(
    /// One business (tenant).
    OrgId
);
host_id!(
    /// A staff member of an org.
    StaffId
);
host_id!(
    /// A customer of an org.
    ClientId
);
host_id!(
    /// A work order, quote or invoice; unique per org and [`RecordKind`](super::RecordKind).
    RecordId
);
host_id!(
    /// A checklist task of a work order.
    TaskId
);
host_id!(
    /// An update (activity post) of a work order.
    UpdateId
);
host_id!(
    /// A photo or file (its bytes live behind the blob port).
    FileId
);
host_id!(
    /// A service agreement (maintenance plan) of a client.
    AgreementId
);
host_id!(
    /// An appointment (a visit booked with a client).
    AppointmentId
);
host_id!(
    /// A contract a client is asked to sign; its versions share the id.
    ContractId
);

impl FileId {
    /// The blob of a contract's drawn signature: Portico's own, under a name no host id can
    /// take (host ids never hold `~`), so no upload can replace it.
    pub fn signature_image(image: Uuid) -> Self {
        Self(format!("~signature:{image}"))
    }

    /// The blob of a photo a client attached to a service request: Portico's own, like
    /// [`FileId::signature_image`].
    pub fn request_photo(photo: Uuid) -> Self {
        Self(format!("~request:{photo}"))
    }

    /// The blob of a contract's PDF as signed, named by the SHA-256 of its bytes (hex): the
    /// same bytes always have the same name, and nothing else can take it.
    pub fn contract_document(sha256_hex: &str) -> Self {
        Self(format!("~contract:{sha256_hex}"))
    }
}
uuid_id!(
    /// One share: one token generation for one record.
    ShareId
);
uuid_id!(
    /// One queued email.
    NotificationId
);
uuid_id!(
    /// One audit-log entry.
    AuditId
);

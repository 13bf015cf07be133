//! Rows ⇄ the core's model. A row that no longer parses is `StoreError::Corrupt` with the
//! table and the reason, never a panic.

use portico_core::model::{
    AuditEntry, AuditId, Client, Contact, Delivery, Email, GrantEnd, GrantPurpose, Notification,
    NotificationId, Org, OrgSettings, PasswordHash, Plan, PortalAccount, PortalSection,
    PortalSession, PortalSettings, Record, RecordKind, RecordRef, RecordSummary, Role, Sections,
    SessionHash, Share, ShareId, ShareState, SignInGrant, Staff, Versioned,
};
use portico_core::ports::StoreError;
use portico_core::token::{KeyId, Nonce, TokenHash};
use sea_orm::ActiveValue::{NotSet, Set};

use crate::columns::{Amount, Instant};
use crate::entity::{
    audit, clients, orgs, outbox, portal_accounts, portal_grants, portal_sessions, records, shares,
    staff,
};

pub(crate) fn corrupt(what: &'static str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        what,
        detail: detail.to_string(),
    }
}

pub(crate) fn host_id<T: TryFrom<String>>(what: &'static str, raw: String) -> Result<T, StoreError>
where
    T::Error: std::fmt::Display,
{
    T::try_from(raw).map_err(|e| corrupt(what, e))
}

fn email(what: &'static str, raw: Option<String>) -> Result<Option<Email>, StoreError> {
    raw.map(|r| Email::parse(&r).map_err(|e| corrupt(what, e)))
        .transpose()
}

// The store's own spelling of the enum columns, fixed here rather than taken from the core's
// names, which may change; `stored_shapes.rs` pins every one.

pub(crate) fn section_str(section: PortalSection) -> &'static str {
    match section {
        PortalSection::Jobs => "jobs",
        PortalSection::Estimates => "estimates",
        PortalSection::Agreements => "agreements",
        PortalSection::Appointments => "appointments",
        PortalSection::Contracts => "contracts",
        PortalSection::Messages => "messages",
        PortalSection::ServiceRequests => "service_requests",
    }
}

const GRANT_PURPOSES: [GrantPurpose; 3] = [
    GrantPurpose::SignIn,
    GrantPurpose::Invite,
    GrantPurpose::Reset,
];

pub(crate) fn purpose_str(purpose: GrantPurpose) -> &'static str {
    match purpose {
        GrantPurpose::SignIn => "sign_in",
        GrantPurpose::Invite => "invite",
        GrantPurpose::Reset => "reset",
    }
}

const GRANT_ENDS: [GrantEnd; 3] = [GrantEnd::Used, GrantEnd::Superseded, GrantEnd::TooManyCodes];

pub(crate) fn end_str(end: GrantEnd) -> &'static str {
    match end {
        GrantEnd::Used => "used",
        GrantEnd::Superseded => "superseded",
        GrantEnd::TooManyCodes => "too_many_codes",
    }
}

pub(crate) fn kind_str(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::WorkOrder => "work_order",
        RecordKind::Quote => "quote",
        RecordKind::Invoice => "invoice",
    }
}

pub(crate) fn plan_str(plan: Plan) -> &'static str {
    match plan {
        Plan::Starter => "starter",
        Plan::Pro => "pro",
        Plan::Business => "business",
    }
}

pub(crate) fn role_str(role: Role) -> &'static str {
    match role {
        Role::Owner => "owner",
        Role::Admin => "admin",
        Role::Supervisor => "supervisor",
        Role::SoleTrader => "sole_trader",
        Role::Technician => "technician",
        Role::Apprentice => "apprentice",
    }
}

/// The value of `all` that `spell` writes as `raw`.
fn spelled<T: Copy>(
    what: &'static str,
    all: &[T],
    spell: fn(T) -> &'static str,
    raw: &str,
) -> Result<T, StoreError> {
    all.iter()
        .copied()
        .find(|v| spell(*v) == raw)
        .ok_or_else(|| corrupt(what, format!("{raw:?} is not a known value")))
}

pub(crate) fn kind_from(raw: &str) -> Result<RecordKind, StoreError> {
    let all = [
        RecordKind::WorkOrder,
        RecordKind::Quote,
        RecordKind::Invoice,
    ];
    spelled("record kind", &all, kind_str, raw)
}

pub(crate) fn org_to_row(org: &Org) -> orgs::ActiveModel {
    orgs::ActiveModel {
        id: Set(org.id.as_str().to_owned()),
        name: Set(org.name.clone()),
        plan: Set(plan_str(org.plan).to_owned()),
        client_sharing: Set(org.settings.client_sharing),
        link_expiry_days: Set(i32::from(org.settings.link_expiry_days)),
        photos_shared_by_default: Set(org.settings.photos_shared_by_default),
        time_zone: Set(org.settings.time_zone.clone()),
        locale: Set(org.settings.locale.clone()),
        contact_phone: Set(org.contact.phone.clone()),
        contact_email: Set(org.contact.email.as_ref().map(|e| e.as_str().to_owned())),
        logo: Set(org.logo.as_ref().map(|l| l.as_str().to_owned())),
        portal_enabled: Set(org.settings.portal.enabled),
        portal_welcome: Set(org.settings.portal.welcome.clone()),
        portal_sections: Set(org
            .settings
            .portal
            .sections
            .iter()
            .map(|s| section_str(*s))
            .collect::<Vec<_>>()
            .join(",")),
    }
}

pub(crate) fn org_from_row(row: orgs::Model) -> Result<Org, StoreError> {
    Ok(Org {
        id: host_id("org id", row.id)?,
        name: row.name,
        contact: Contact {
            phone: row.contact_phone,
            email: email("org email", row.contact_email)?,
        },
        logo: row.logo.map(|l| host_id("org logo", l)).transpose()?,
        plan: spelled(
            "org plan",
            &[Plan::Starter, Plan::Pro, Plan::Business],
            plan_str,
            &row.plan,
        )?,
        settings: OrgSettings {
            client_sharing: row.client_sharing,
            link_expiry_days: u16::try_from(row.link_expiry_days)
                .map_err(|e| corrupt("org expiry days", e))?,
            photos_shared_by_default: row.photos_shared_by_default,
            time_zone: row.time_zone,
            locale: row.locale,
            portal: PortalSettings {
                enabled: row.portal_enabled,
                welcome: row.portal_welcome,
                sections: row
                    .portal_sections
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(|s| spelled("org portal section", &PortalSection::ALL, section_str, s))
                    .collect::<Result<_, _>>()?,
            },
        },
    })
}

pub(crate) fn staff_to_row(s: &Staff) -> staff::ActiveModel {
    staff::ActiveModel {
        org_id: Set(s.org_id.as_str().to_owned()),
        id: Set(s.id.as_str().to_owned()),
        name: Set(s.name.clone()),
        role: Set(role_str(s.role).to_owned()),
        active: Set(s.active),
        email: Set(s.email.as_ref().map(|e| e.as_str().to_owned())),
        phone: Set(s.phone.clone()),
        photo: Set(s.photo.as_ref().map(|p| p.as_str().to_owned())),
    }
}

pub(crate) fn staff_from_row(row: staff::Model) -> Result<Staff, StoreError> {
    Ok(Staff {
        id: host_id("staff id", row.id)?,
        org_id: host_id("staff org", row.org_id)?,
        name: row.name,
        role: spelled("staff role", &Role::ALL, role_str, &row.role)?,
        active: row.active,
        email: email("staff email", row.email)?,
        phone: row.phone,
        photo: row.photo.map(|p| host_id("staff photo", p)).transpose()?,
    })
}

pub(crate) fn client_to_row(c: &Client) -> clients::ActiveModel {
    clients::ActiveModel {
        org_id: Set(c.org_id.as_str().to_owned()),
        id: Set(c.id.as_str().to_owned()),
        name: Set(c.name.clone()),
        email: Set(c.email.as_ref().map(|e| e.as_str().to_owned())),
        phone: Set(c.phone.clone()),
        address: Set(c.address.clone()),
    }
}

pub(crate) fn client_from_row(row: clients::Model) -> Result<Client, StoreError> {
    Ok(Client {
        id: host_id("client id", row.id)?,
        org_id: host_id("client org", row.org_id)?,
        name: row.name,
        email: email("client email", row.email)?,
        phone: row.phone,
        address: row.address,
    })
}

pub(crate) fn record_to_row(
    record: &Record,
    version: u64,
) -> Result<records::ActiveModel, StoreError> {
    let body = crate::document::to_body(record)?;
    let (currency, total, due, work_order) = match record {
        Record::WorkOrder(wo) => (wo.currency, None, None, None),
        Record::Quote(q) => (
            q.currency,
            Some(
                portico_core::model::totals(&q.items, &q.taxes, q.currency)
                    .total
                    .amount,
            ),
            None,
            None,
        ),
        Record::Invoice(i) => (
            i.currency,
            Some(i.totals().total.amount),
            Some(i.amount_due()),
            i.work_order_id.as_ref().map(|w| w.as_str().to_owned()),
        ),
    };
    Ok(records::ActiveModel {
        org_id: Set(record.org_id().as_str().to_owned()),
        kind: Set(kind_str(record.kind()).to_owned()),
        id: Set(record.id().as_str().to_owned()),
        client_id: Set(record.client_id().map(|c| c.as_str().to_owned())),
        work_order_id: Set(work_order),
        title: Set(record.title().to_owned()),
        status: Set(record.status_label().to_owned()),
        currency: Set(currency.code().to_owned()),
        total: Set(total.map(Amount)),
        amount_due: Set(due.map(Amount)),
        body: Set(body),
        version: Set(i64::try_from(version).map_err(|e| corrupt("record version", e))?),
        staff_ids: Set(Some(serde_json::Value::from(
            record
                .staff_mentioned()
                .iter()
                .map(portico_core::model::StaffId::as_str)
                .collect::<Vec<_>>(),
        ))),
    })
}

pub(crate) fn record_from_row(row: records::Model) -> Result<Versioned<Record>, StoreError> {
    let value = crate::document::from_body(row.body)?;
    Ok(Versioned {
        value,
        version: u64::try_from(row.version).map_err(|e| corrupt("record version", e))?,
    })
}

fn bytes32(what: &'static str, raw: &[u8]) -> Result<[u8; 32], StoreError> {
    raw.try_into()
        .map_err(|_| corrupt(what, format!("expected 32 bytes, found {}", raw.len())))
}

pub(crate) fn share_to_row(share: &Share, version: u64) -> Result<shares::ActiveModel, StoreError> {
    let (state, revoked_at, revoked_by) = match &share.state {
        ShareState::Active => ("active", None, None),
        ShareState::Revoked { at, by } => (
            "revoked",
            Some(Instant::new(*at)),
            Some(by.as_str().to_owned()),
        ),
    };
    Ok(shares::ActiveModel {
        seq: NotSet,
        id: Set(share.id.0),
        org_id: Set(share.org_id.as_str().to_owned()),
        record_kind: Set(kind_str(share.record.kind).to_owned()),
        record_id: Set(share.record.id.as_str().to_owned()),
        recipient: Set(share.recipient.as_str().to_owned()),
        sections: Set(i32::from(share.sections.bits())),
        state: Set(state.to_owned()),
        revoked_at: Set(revoked_at),
        revoked_by: Set(revoked_by),
        key_id: Set(i64::from(share.key_id.0)),
        nonce: Set(share.nonce.0.to_vec()),
        token_hash: Set(share.token_hash.0.to_vec()),
        expires_at: Set(share.expires_at.map(Instant::new)),
        created_at: Set(Instant::new(share.created_at)),
        created_by: Set(share.created_by.as_str().to_owned()),
        first_opened_at: Set(share.first_opened_at.map(Instant::new)),
        last_opened_at: Set(share.last_opened_at.map(Instant::new)),
        version: Set(i64::try_from(version).map_err(|e| corrupt("share version", e))?),
    })
}

pub(crate) fn share_from_row(row: shares::Model) -> Result<Share, StoreError> {
    Ok(versioned_share(row)?.value)
}

pub(crate) fn versioned_share(row: shares::Model) -> Result<Versioned<Share>, StoreError> {
    let state = match (row.state.as_str(), row.revoked_at, row.revoked_by) {
        ("active", _, _) => ShareState::Active,
        ("revoked", Some(at), Some(by)) => ShareState::Revoked {
            at: at.0,
            by: host_id("share revoked_by", by)?,
        },
        (other, _, _) => return Err(corrupt("share state", format!("{other:?}"))),
    };
    let share = Share {
        id: ShareId(row.id),
        org_id: host_id("share org", row.org_id)?,
        record: RecordRef {
            kind: kind_from(&row.record_kind)?,
            id: host_id("share record", row.record_id)?,
        },
        recipient: Email::parse(&row.recipient).map_err(|e| corrupt("share recipient", e))?,
        sections: Sections::from_bits(
            u16::try_from(row.sections).map_err(|e| corrupt("share sections", e))?,
        ),
        state,
        key_id: KeyId(u32::try_from(row.key_id).map_err(|e| corrupt("share key id", e))?),
        nonce: Nonce(bytes32("share nonce", &row.nonce)?),
        token_hash: TokenHash(bytes32("share token hash", &row.token_hash)?),
        expires_at: row.expires_at.map(|i| i.0),
        created_at: row.created_at.0,
        created_by: host_id("share created_by", row.created_by)?,
        first_opened_at: row.first_opened_at.map(|i| i.0),
        last_opened_at: row.last_opened_at.map(|i| i.0),
    };
    Ok(Versioned {
        value: share,
        version: u64::try_from(row.version).map_err(|e| corrupt("share version", e))?,
    })
}

pub(crate) fn notification_to_row(n: &Notification) -> Result<outbox::ActiveModel, StoreError> {
    let (state, settled_at, reason) = match &n.delivery {
        Delivery::Pending => ("pending", None, n.last_failure.clone()),
        Delivery::Sent { at } => ("sent", Some(Instant::new(*at)), None),
        Delivery::Dead { at, reason } => ("dead", Some(Instant::new(*at)), Some(reason.clone())),
        Delivery::Dropped { at, reason } => {
            ("dropped", Some(Instant::new(*at)), Some(reason.clone()))
        }
    };
    Ok(outbox::ActiveModel {
        seq: NotSet,
        id: Set(n.id.0),
        org_id: Set(n.org_id.as_str().to_owned()),
        share_id: Set(n.share_id.map(|s| s.0)),
        // A mail about no record (the portal's) keeps both record columns empty.
        record_kind: Set(n
            .record
            .as_ref()
            .map_or("", |r| kind_str(r.kind))
            .to_owned()),
        record_id: Set(n
            .record
            .as_ref()
            .map_or(String::new(), |r| r.id.as_str().to_owned())),
        recipient: Set(n.to.as_str().to_owned()),
        topic: Set(n.kind.topic().as_str().to_owned()),
        kind: Set(crate::document::kind_to_json(&n.kind)?),
        created_at: Set(Instant::new(n.created_at)),
        due_at: Set(Instant::new(n.due_at)),
        state: Set(state.to_owned()),
        settled_at: Set(settled_at),
        reason: Set(reason),
        attempts: Set(i32::try_from(n.attempts).unwrap_or(i32::MAX)),
    })
}

pub(crate) fn notification_from_row(row: outbox::Model) -> Result<Notification, StoreError> {
    let delivery = match (row.state.as_str(), row.settled_at) {
        ("pending", _) => Delivery::Pending,
        ("sent", Some(at)) => Delivery::Sent { at: at.0 },
        ("dead", Some(at)) => Delivery::Dead {
            at: at.0,
            reason: row.reason.clone().unwrap_or_default(),
        },
        ("dropped", Some(at)) => Delivery::Dropped {
            at: at.0,
            reason: row.reason.clone().unwrap_or_default(),
        },
        (other, _) => return Err(corrupt("notification state", format!("{other:?}"))),
    };
    Ok(Notification {
        id: NotificationId(row.id),
        org_id: host_id("notification org", row.org_id)?,
        share_id: row.share_id.map(ShareId),
        record: if row.record_kind.is_empty() && row.record_id.is_empty() {
            None
        } else {
            Some(RecordRef {
                kind: kind_from(&row.record_kind)?,
                id: host_id("notification record", row.record_id)?,
            })
        },
        to: Email::parse(&row.recipient).map_err(|e| corrupt("notification recipient", e))?,
        kind: crate::document::kind_from_json(row.kind)?,
        created_at: row.created_at.0,
        due_at: row.due_at.0,
        last_failure: row.reason.filter(|_| delivery == Delivery::Pending),
        delivery,
        attempts: u32::try_from(row.attempts).map_err(|e| corrupt("notification attempts", e))?,
    })
}

pub(crate) fn audit_to_row(e: &AuditEntry) -> Result<audit::ActiveModel, StoreError> {
    let (actor, action) = crate::document::audit_to_json(&e.actor, &e.action)?;
    Ok(audit::ActiveModel {
        seq: NotSet,
        id: Set(e.id.0),
        org_id: Set(e.org_id.as_str().to_owned()),
        record_kind: Set(kind_str(e.record.kind).to_owned()),
        record_id: Set(e.record.id.as_str().to_owned()),
        share_id: Set(e.share_id.map(|s| s.0)),
        actor: Set(actor),
        action: Set(action),
        at: Set(Instant::new(e.at)),
    })
}

pub(crate) fn audit_from_row(row: audit::Model) -> Result<AuditEntry, StoreError> {
    Ok(AuditEntry {
        id: AuditId(row.id),
        org_id: host_id("audit org", row.org_id)?,
        record: RecordRef {
            kind: kind_from(&row.record_kind)?,
            id: host_id("audit record", row.record_id)?,
        },
        share_id: row.share_id.map(ShareId),
        actor: crate::document::actor_from_json(row.actor)?,
        action: crate::document::action_from_json(row.action)?,
        at: row.at.0,
    })
}

pub(crate) fn account_to_row(a: &PortalAccount) -> portal_accounts::ActiveModel {
    portal_accounts::ActiveModel {
        org_id: Set(a.org_id.as_str().to_owned()),
        client_id: Set(a.client_id.as_str().to_owned()),
        invited_at: Set(a.invited_at.map(Instant::new)),
        enabled: Set(a.enabled),
        password_hash: Set(a.password_hash.as_ref().map(|h| h.0.clone())),
        password_changed_at: Set(a.password_changed_at.map(Instant::new)),
        last_sign_in_at: Set(a.last_sign_in_at.map(Instant::new)),
        failed_passwords: Set(i32::try_from(a.failed_passwords).unwrap_or(i32::MAX)),
        last_failed_at: Set(a.last_failed_at.map(Instant::new)),
    }
}

pub(crate) fn account_from_row(row: portal_accounts::Model) -> Result<PortalAccount, StoreError> {
    Ok(PortalAccount {
        org_id: host_id("portal account org", row.org_id)?,
        client_id: host_id("portal account client", row.client_id)?,
        invited_at: row.invited_at.map(|t| t.0),
        enabled: row.enabled,
        password_hash: row.password_hash.map(PasswordHash),
        password_changed_at: row.password_changed_at.map(|t| t.0),
        last_sign_in_at: row.last_sign_in_at.map(|t| t.0),
        failed_passwords: u32::try_from(row.failed_passwords)
            .map_err(|e| corrupt("portal account failures", e))?,
        last_failed_at: row.last_failed_at.map(|t| t.0),
    })
}

pub(crate) fn grant_to_row(g: &SignInGrant) -> portal_grants::ActiveModel {
    portal_grants::ActiveModel {
        id: Set(g.id),
        org_id: Set(g.org_id.as_str().to_owned()),
        client_id: Set(g.client_id.as_str().to_owned()),
        purpose: Set(purpose_str(g.purpose).to_owned()),
        key_id: Set(i64::from(g.key_id.0)),
        nonce: Set(g.nonce.0.to_vec()),
        token_hash: Set(g.token_hash.0.to_vec()),
        created_at: Set(Instant::new(g.created_at)),
        expires_at: Set(Instant::new(g.expires_at)),
        ended_at: Set(g.ended.map(|(at, _)| Instant::new(at))),
        ended_how: Set(g.ended.map(|(_, how)| end_str(how).to_owned())),
        code_failures: Set(i32::try_from(g.code_failures).unwrap_or(i32::MAX)),
    }
}

pub(crate) fn grant_from_row(row: portal_grants::Model) -> Result<SignInGrant, StoreError> {
    let bytes = |what: &'static str, v: Vec<u8>| -> Result<[u8; 32], StoreError> {
        v.try_into().map_err(|_| corrupt(what, "not 32 bytes"))
    };
    let ended = match (row.ended_at, row.ended_how) {
        (Some(at), Some(how)) => Some((at.0, spelled("grant end", &GRANT_ENDS, end_str, &how)?)),
        (None, None) => None,
        _ => return Err(corrupt("grant end", "time and reason disagree")),
    };
    Ok(SignInGrant {
        id: row.id,
        org_id: host_id("grant org", row.org_id)?,
        client_id: host_id("grant client", row.client_id)?,
        purpose: spelled("grant purpose", &GRANT_PURPOSES, purpose_str, &row.purpose)?,
        key_id: KeyId(u32::try_from(row.key_id).map_err(|e| corrupt("grant key id", e))?),
        nonce: Nonce(bytes("grant nonce", row.nonce)?),
        token_hash: TokenHash(bytes("grant token hash", row.token_hash)?),
        created_at: row.created_at.0,
        expires_at: row.expires_at.0,
        ended,
        code_failures: u32::try_from(row.code_failures)
            .map_err(|e| corrupt("grant code failures", e))?,
    })
}

pub(crate) fn session_to_row(s: &PortalSession) -> portal_sessions::ActiveModel {
    portal_sessions::ActiveModel {
        hash: Set(s.hash.0.to_vec()),
        org_id: Set(s.org_id.as_str().to_owned()),
        client_id: Set(s.client_id.as_str().to_owned()),
        created_at: Set(Instant::new(s.created_at)),
        last_seen_at: Set(Instant::new(s.last_seen_at)),
        ended_at: Set(s.ended_at.map(Instant::new)),
    }
}

pub(crate) fn session_from_row(row: portal_sessions::Model) -> Result<PortalSession, StoreError> {
    Ok(PortalSession {
        hash: SessionHash(
            row.hash
                .try_into()
                .map_err(|_| corrupt("session hash", "not 32 bytes"))?,
        ),
        org_id: host_id("session org", row.org_id)?,
        client_id: host_id("session client", row.client_id)?,
        created_at: row.created_at.0,
        last_seen_at: row.last_seen_at.0,
        ended_at: row.ended_at.map(|t| t.0),
    })
}

/// A record's list columns and the few body fields a list needs (see `record_summaries_of_client`).
#[derive(Debug, sea_orm::FromQueryResult)]
pub(crate) struct SummaryRow {
    kind: String,
    id: String,
    client_id: Option<String>,
    title: String,
    status: String,
    currency: String,
    total: Option<Amount>,
    amount_due: Option<Amount>,
    /// `[number, due_date, valid_until, schedule.start, completed_at]` of the body, as JSON.
    fields: String,
}

pub(crate) fn summary_from_row(row: SummaryRow) -> Result<RecordSummary, StoreError> {
    let kind = kind_from(&row.kind)?;
    let currency = portico_core::model::Currency::new(&row.currency)
        .map_err(|e| corrupt("record currency", e))?;
    let money = |a: Option<Amount>| {
        a.map(|a| portico_core::model::Money {
            amount: a.0,
            currency,
        })
    };
    let day = |raw: Option<String>| {
        raw.map(|r| {
            time::Date::parse(&r, &time::format_description::well_known::Iso8601::DATE)
                .map_err(|e| corrupt("record date", e))
        })
        .transpose()
    };
    let moment = |raw: Option<String>| {
        raw.map(|r| {
            time::OffsetDateTime::parse(&r, &time::format_description::well_known::Rfc3339)
                .map(|t| t.to_offset(time::UtcOffset::UTC).date())
                .map_err(|e| corrupt("record moment", e))
        })
        .transpose()
    };
    let [number, due_date, valid_until, start, completed_at]: [Option<String>; 5] =
        serde_json::from_str(&row.fields).map_err(|e| corrupt("record list fields", e))?;
    let (number, date, amount_due) = match kind {
        RecordKind::Invoice => (number, day(due_date)?, money(row.amount_due)),
        RecordKind::Quote => (number, day(valid_until)?, None),
        RecordKind::WorkOrder => {
            let start = moment(start)?;
            (None, start.or(moment(completed_at)?), None)
        }
    };
    Ok(RecordSummary {
        reference: RecordRef {
            kind,
            id: host_id("record id", row.id)?,
        },
        client_id: row
            .client_id
            .map(|c| host_id("record client", c))
            .transpose()?,
        title: row.title,
        number,
        status: row.status,
        total: money(row.total),
        amount_due,
        date,
    })
}

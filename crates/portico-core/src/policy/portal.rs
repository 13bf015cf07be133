//! C1–C6, C8: who may sign in to the portal, what a grant and a session are worth at a given
//! moment, how wrong passwords are slowed down, and which records a signed-in client sees.
//! Every time rule takes `now` and a [`PortalConfig`]; nothing here reads a clock.

use std::cmp::Reverse;

use time::{Duration, OffsetDateTime};

use crate::model::{
    Client, ClientId, Email, GrantEnd, GrantPurpose, Org, PortalAccount, PortalSection,
    PortalSession, PortalSettings, RecordKind, RecordSummary, SignInGrant,
};

/// The portal's time and rate rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalConfig {
    /// How long a sign-in link and its code work (C3).
    pub sign_in_ttl: Duration,
    /// How long an invitation's link works (C2): invitations are read later than sign-in mails.
    pub invite_ttl: Duration,
    /// How long a password-reset link works (C4).
    pub reset_ttl: Duration,
    /// A session unused this long ends (C5).
    pub idle_timeout: Duration,
    /// A session ends this long after sign-in, however busy (C5).
    pub absolute_timeout: Duration,
    /// Sign-in and reset emails sent at most to one client per hour (C3).
    pub mails_per_hour: u32,
    /// Wrong codes tried against one grant before it stops working.
    pub code_attempts: u32,
    /// Wrong passwords in a row before each further try must wait (C4).
    pub free_password_failures: u32,
    /// The longest wait between password tries; waits double up to it, and never lock out.
    pub max_password_wait: Duration,
    /// How stale a session's last-seen time may get before a request writes it again.
    pub touch_every: Duration,
}

impl Default for PortalConfig {
    fn default() -> Self {
        Self {
            sign_in_ttl: Duration::minutes(15),
            invite_ttl: Duration::days(7),
            reset_ttl: Duration::minutes(15),
            idle_timeout: Duration::minutes(30),
            absolute_timeout: Duration::hours(12),
            mails_per_hour: 5,
            code_attempts: 5,
            free_password_failures: 3,
            max_password_wait: Duration::minutes(15),
            touch_every: Duration::minutes(1),
        }
    }
}

impl PortalConfig {
    /// How long a grant for `purpose` works.
    pub fn ttl(&self, purpose: GrantPurpose) -> Duration {
        match purpose {
            GrantPurpose::SignIn => self.sign_in_ttl,
            GrantPurpose::Invite => self.invite_ttl,
            GrantPurpose::Reset => self.reset_ttl,
        }
    }
}

/// Whether `presented` is the address on file: trimmed, compared without regard to case.
pub fn email_matches(on_file: &Email, presented: &str) -> bool {
    on_file.as_str().to_lowercase() == presented.trim().to_lowercase()
}

/// Why a client may not sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignInRefused {
    /// The org's portal is switched off (C8).
    #[error("the portal is switched off")]
    PortalOff,
    /// The client was never invited (C2).
    #[error("the client was not invited to the portal")]
    NotInvited,
    /// Staff switched the client's login off (C2).
    #[error("the client's portal login is switched off")]
    Disabled,
    /// The email is not the one on the client's record.
    #[error("the email is not the client's")]
    EmailMismatch,
}

/// C1–C3: `client` may sign in with `presented` when the org's portal is on, the client was
/// invited and is not disabled, and `presented` is the email on the client's record. Nothing else
/// decides.
pub fn may_sign_in(
    org: &Org,
    client: &Client,
    account: Option<&PortalAccount>,
    presented: &str,
) -> Result<(), SignInRefused> {
    if !org.settings.portal.enabled {
        return Err(SignInRefused::PortalOff);
    }
    let Some(account) = account.filter(|a| a.invited_at.is_some()) else {
        return Err(SignInRefused::NotInvited);
    };
    if !account.enabled {
        return Err(SignInRefused::Disabled);
    }
    match &client.email {
        Some(email) if client.org_id == org.id && email_matches(email, presented) => Ok(()),
        _ => Err(SignInRefused::EmailMismatch),
    }
}

/// What a grant is worth at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantState {
    /// It may still sign its client in, once.
    Usable,
    /// Its time ran out.
    Expired,
    /// It ended early: used, replaced by a newer one, or worn out by wrong codes.
    Ended(GrantEnd),
}

/// C3: a grant works once, before its expiry, unless a newer one replaced it or too many wrong
/// codes were tried. An end is final: nothing makes an ended or expired grant usable again.
pub fn grant_state(grant: &SignInGrant, now: OffsetDateTime) -> GrantState {
    if let Some((_, end)) = grant.ended {
        GrantState::Ended(end)
    } else if now >= grant.expires_at {
        GrantState::Expired
    } else {
        GrantState::Usable
    }
}

/// C3: whether another sign-in or reset email may go to a client who was sent `sent_last_hour`
/// in the hour before now (per email; the pages also limit per address).
pub fn may_mail(sent_last_hour: usize, config: &PortalConfig) -> bool {
    sent_last_hour < usize::try_from(config.mails_per_hour).unwrap_or(usize::MAX)
}

/// Why a session no longer works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEnd {
    /// It was ended: sign-out, the client disabled, the portal switched off, a password
    /// changed or reset.
    Ended,
    /// Unused longer than the idle timeout.
    Idle,
    /// Older than the absolute timeout.
    TooOld,
    /// The org's portal is off (C8).
    PortalOff,
    /// The client's login is off, or the account is gone (C2).
    Disabled,
}

/// What a session is worth at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    /// It works; `touch` says its last-seen time is stale enough to write again.
    Live {
        /// Write `last_seen_at = now`.
        touch: bool,
    },
    /// It no longer works.
    Ended(SessionEnd),
}

/// C5, C2, C8: a session works while it was not ended, has been used within the idle timeout,
/// is younger than the absolute timeout, the org's portal is on, and the client's login is on.
/// Each is checked on every request, so any of them ends it on the very next one.
pub fn session_state(
    session: &PortalSession,
    org: &Org,
    account: Option<&PortalAccount>,
    now: OffsetDateTime,
    config: &PortalConfig,
) -> SessionState {
    let end = if session.ended_at.is_some() {
        Some(SessionEnd::Ended)
    } else if session.org_id != org.id || !org.settings.portal.enabled {
        Some(SessionEnd::PortalOff)
    } else if !account
        .is_some_and(|a| a.enabled && a.invited_at.is_some() && a.client_id == session.client_id)
    {
        Some(SessionEnd::Disabled)
    } else if now - session.created_at >= config.absolute_timeout {
        Some(SessionEnd::TooOld)
    } else if now - session.last_seen_at >= config.idle_timeout {
        Some(SessionEnd::Idle)
    } else {
        None
    };
    match end {
        Some(end) => SessionState::Ended(end),
        None => SessionState::Live {
            touch: now - session.last_seen_at >= config.touch_every,
        },
    }
}

/// C4: how long the next password try for `account` must still wait, if at all. The first
/// `free_password_failures` wrong passwords cost nothing; each further one doubles the wait
/// (1 s, 2 s, 4 s …) up to `max_password_wait`. A wait always ends: a stranger can slow a
/// customer's password down, never lock them out (and the emailed link always works).
pub fn password_wait(
    account: &PortalAccount,
    now: OffsetDateTime,
    config: &PortalConfig,
) -> Option<Duration> {
    let over = account
        .failed_passwords
        .checked_sub(config.free_password_failures)?;
    let last = account.last_failed_at?;
    let wait = Duration::seconds(1i64 << over.min(20)).min(config.max_password_wait);
    let left = last + wait - now;
    left.is_positive().then_some(left)
}

/// Why a new password was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PasswordRefused {
    /// Shorter than [`MIN_PASSWORD`] characters.
    #[error("use at least 10 characters")]
    TooShort,
    /// Longer than [`MAX_PASSWORD`] characters.
    #[error("use at most 128 characters")]
    TooLong,
    /// The password is the email address.
    #[error("do not use your email address as your password")]
    IsEmail,
}

/// The shortest password accepted, in characters.
pub const MIN_PASSWORD: usize = 10;
/// The longest password accepted, in characters (hashing cost stays bounded).
pub const MAX_PASSWORD: usize = 128;

/// C4: a new password is 10 to 128 characters and not the email address. No rules on
/// character classes: length is what makes a password strong.
pub fn password_acceptable(password: &str, email: Option<&Email>) -> Result<(), PasswordRefused> {
    let length = password.chars().count();
    if length < MIN_PASSWORD {
        Err(PasswordRefused::TooShort)
    } else if length > MAX_PASSWORD {
        Err(PasswordRefused::TooLong)
    } else if email.is_some_and(|e| email_matches(e, password)) {
        Err(PasswordRefused::IsEmail)
    } else {
        Ok(())
    }
}

/// Where a record of the portal stands for its client: what they must act on comes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Standing {
    /// Something is open: an invoice with money due, a quote to decide, a job not finished.
    Open,
    /// Settled: paid, decided, finished.
    Closed,
    /// Void or cancelled: listed last, and marked so.
    Void,
}

/// C6, C1: whether the portal of `client` shows the record `summary` sums up: the client's own
/// (the caller read it from the client's org), issued (never a draft quote or invoice), of a
/// section the org shows (invoices always). A void invoice or a cancelled job is shown, marked
/// void or cancelled, so the client's history is whole.
pub fn shown(summary: &RecordSummary, client: &ClientId, settings: &PortalSettings) -> bool {
    let issued = summary.status != "draft";
    let section = match summary.reference.kind {
        RecordKind::Invoice => true,
        RecordKind::Quote => settings.shows(PortalSection::Estimates),
        RecordKind::WorkOrder => settings.shows(PortalSection::Jobs),
    };
    summary.client_id.as_ref() == Some(client) && issued && section
}

/// The standing of a record for its client, from its kind and status label.
pub fn standing(summary: &RecordSummary) -> Standing {
    match (summary.reference.kind, summary.status.as_str()) {
        (RecordKind::Invoice, "void") | (RecordKind::WorkOrder, "cancelled") => Standing::Void,
        (RecordKind::Invoice, "paid")
        | (RecordKind::WorkOrder, "completed")
        | (RecordKind::Quote, "approved" | "changes_requested" | "declined") => Standing::Closed,
        _ => Standing::Open,
    }
}

/// Sorts a client's records the way a customer looks for them: open before settled before void,
/// then newest first (by [`RecordSummary::date`], undated last), then by id, largest first.
pub fn sort_for_client(records: &mut [RecordSummary]) {
    let key = |r: &RecordSummary| {
        (
            standing(r),
            Reverse(r.date.is_some()),
            Reverse(r.date),
            Reverse(r.reference.id.clone()),
        )
    };
    records.sort_by_cached_key(key);
}

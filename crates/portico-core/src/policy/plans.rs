//! C7: what a client sees of their agreements, appointments and contracts (V4: never the
//! business's cost, margin or notes), and what makes a signature acceptable.

use time::{Date, OffsetDateTime};

use super::inbox::clean;
use crate::model::{
    Agreement, AgreementId, AgreementStatus, Appointment, AppointmentId, AppointmentStatus,
    Billing, Contract, ContractStatus, Money, RecordId, Sha256Digest, Visit,
};

/// An agreement as its client sees it: the terms, price and visit schedule with its progress,
/// none of the business's figures or notes (V4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgreementView {
    /// The host's id.
    pub id: AgreementId,
    /// Its name.
    pub title: String,
    /// The terms.
    pub terms: String,
    /// Where it stands.
    pub status: AgreementStatus,
    /// The first day covered.
    pub starts_on: Date,
    /// The last day covered, if any.
    pub ends_on: Option<Date>,
    /// What the client pays each period.
    pub price: Money,
    /// How often.
    pub billing: Billing,
    /// The visits, in date order.
    pub visits: Vec<Visit>,
    /// How many visits are done.
    pub done: usize,
    /// The last visit done, if any.
    pub last_visit: Option<Date>,
    /// The first visit not done, from today on, if any.
    pub next_visit: Option<Date>,
}

/// What the client sees of `agreement` on `today` (in the org's zone).
pub fn agreement_view(agreement: &Agreement, today: Date) -> AgreementView {
    let mut visits = agreement.visits.clone();
    visits.sort();
    AgreementView {
        id: agreement.id.clone(),
        title: agreement.title.clone(),
        terms: agreement.terms.clone(),
        status: agreement.status,
        starts_on: agreement.starts_on,
        ends_on: agreement.ends_on,
        price: agreement.price,
        billing: agreement.billing,
        done: visits.iter().filter(|v| v.done).count(),
        last_visit: visits.iter().filter(|v| v.done).map(|v| v.on).max(),
        next_visit: (agreement.status == AgreementStatus::Active)
            .then(|| {
                visits
                    .iter()
                    .find(|v| !v.done && v.on >= today)
                    .map(|v| v.on)
            })
            .flatten(),
        visits,
    }
}

/// A visit schedule as it is kept: in date order, one visit per day (done if any was).
pub fn visit_schedule(mut visits: Vec<Visit>) -> Vec<Visit> {
    visits.sort_by(|a, b| a.on.cmp(&b.on).then(b.done.cmp(&a.done)));
    visits.dedup_by_key(|v| v.on);
    visits
}

/// An appointment as its client sees it (V4: no notes; the technician by first name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppointmentView {
    /// The host's id.
    pub id: AppointmentId,
    /// What it is for.
    pub title: String,
    /// When it starts.
    pub starts_at: OffsetDateTime,
    /// When it ends, if a window was given.
    pub ends_at: Option<OffsetDateTime>,
    /// The technician's first name, if one is assigned.
    pub technician: Option<String>,
    /// Where.
    pub address: String,
    /// Where it stands.
    pub status: AppointmentStatus,
    /// The job it is for, while the client sees that job: its id and title.
    pub job: Option<(RecordId, String)>,
}

/// What the client sees of `appointment`: `technician` is the assigned staff member's full
/// name (only its first word is shown), `job` the linked job when the client sees it.
pub fn appointment_view(
    appointment: &Appointment,
    technician: Option<&str>,
    job: Option<(RecordId, String)>,
) -> AppointmentView {
    AppointmentView {
        id: appointment.id.clone(),
        title: appointment.title.clone(),
        starts_at: appointment.starts_at,
        ends_at: appointment.ends_at,
        technician: technician
            .and_then(|n| n.split_whitespace().next())
            .map(str::to_owned),
        address: appointment.address.clone(),
        status: appointment.status,
        job,
    }
}

/// Whether an appointment is still ahead at `now`: open, and its window not yet closed.
pub fn is_upcoming(appointment: &AppointmentView, now: OffsetDateTime) -> bool {
    appointment.status.is_open() && appointment.ends_at.unwrap_or(appointment.starts_at) >= now
}

/// Splits appointments into upcoming (soonest first) and past (latest first).
pub fn upcoming_and_past(
    mut all: Vec<AppointmentView>,
    now: OffsetDateTime,
) -> (Vec<AppointmentView>, Vec<AppointmentView>) {
    all.sort_by(|a, b| (a.starts_at, &a.id).cmp(&(b.starts_at, &b.id)));
    let (upcoming, mut past): (Vec<_>, Vec<_>) = all.into_iter().partition(|a| is_upcoming(a, now));
    past.reverse();
    (upcoming, past)
}

/// The versions of one contract its client may open: every signed version, and the latest
/// version unless it was withdrawn. Oldest first.
pub fn shown_versions(versions: &[Contract]) -> Vec<&Contract> {
    let latest = versions.iter().map(|c| c.version).max();
    versions
        .iter()
        .filter(|c| {
            c.status == ContractStatus::Signed
                || (Some(c.version) == latest && c.status != ContractStatus::Void)
        })
        .collect()
}

/// Why a signature was refused, in words for the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SigningRefused {
    /// No name, or one without a letter or over 200 characters.
    #[error("please type your full name (up to 200 characters)")]
    Name,
    /// The box saying the typed name is a signature was not ticked.
    #[error("please tick the box to confirm you are signing")]
    NotConfirmed,
    /// The contract changed since the client opened it.
    #[error("this contract has changed since you opened it; please read the new version")]
    Changed,
    /// The version was signed already or withdrawn.
    #[error("this contract can no longer be signed")]
    NotOpen,
    /// The drawing is not a PNG image of a sensible size.
    #[error("the drawn signature could not be read; please draw it again or sign by name")]
    Drawing,
}

/// A signature as the client made it in the portal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignForm {
    /// The version the client read.
    pub version: u32,
    /// The digest of the content the client was shown, in hex.
    pub digest: String,
    /// The full name typed.
    pub name: String,
    /// The box "this typed name is my signature" was ticked.
    pub confirmed: bool,
    /// The drawn signature, PNG bytes, if drawn.
    pub drawn: Option<Vec<u8>>,
}

/// The largest drawn signature accepted, in bytes.
pub const MAX_DRAWING_BYTES: usize = 512 * 1024;
/// The widest and tallest drawn signature accepted, in pixels.
pub const MAX_DRAWING_SIDE: u32 = 4000;

/// A signature that may be kept: the cleaned name and the drawing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedSignature {
    /// The typed name, cleaned.
    pub name: String,
    /// The drawing's PNG bytes, if one was drawn.
    pub drawn: Option<Vec<u8>>,
    /// The digest of the signed content.
    pub content: Sha256Digest,
}

/// Checks `form` against `versions` (every version of the contract, oldest first): only the
/// latest version, still waiting, with the digest of exactly what it says, is signed.
pub fn check_signature(
    versions: &[Contract],
    form: SignForm,
) -> Result<CheckedSignature, SigningRefused> {
    let latest = versions
        .iter()
        .max_by_key(|c| c.version)
        .ok_or(SigningRefused::NotOpen)?;
    let content = latest.content_digest();
    if form.version != latest.version || Sha256Digest::parse(&form.digest) != Some(content) {
        return Err(SigningRefused::Changed);
    }
    if latest.status != ContractStatus::Sent {
        return Err(SigningRefused::NotOpen);
    }
    let name = clean(&form.name.replace(['\r', '\n'], " "));
    if name.chars().count() > 200 || !name.chars().any(char::is_alphabetic) {
        return Err(SigningRefused::Name);
    }
    if !form.confirmed {
        return Err(SigningRefused::NotConfirmed);
    }
    let drawn = form.drawn.filter(|d| !d.is_empty());
    if let Some(png) = &drawn {
        check_png(png)?;
    }
    Ok(CheckedSignature {
        name,
        drawn,
        content,
    })
}

/// A drawing is kept only as a PNG of bounded size: its signature bytes, then an `IHDR` chunk
/// with a width and height from 1 to [`MAX_DRAWING_SIDE`].
fn check_png(png: &[u8]) -> Result<(), SigningRefused> {
    const MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";
    if png.len() > MAX_DRAWING_BYTES || png.len() < 33 || !png.starts_with(MAGIC) {
        return Err(SigningRefused::Drawing);
    }
    if &png[12..16] != b"IHDR" {
        return Err(SigningRefused::Drawing);
    }
    let side = |at: usize| u32::from_be_bytes([png[at], png[at + 1], png[at + 2], png[at + 3]]);
    let (width, height) = (side(16), side(20));
    if !(1..=MAX_DRAWING_SIDE).contains(&width) || !(1..=MAX_DRAWING_SIDE).contains(&height) {
        return Err(SigningRefused::Drawing);
    }
    Ok(())
}

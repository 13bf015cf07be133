//! C7: what a client may write to the business — a message, a service request — checked and
//! cleaned the same way whoever writes it; and how a client's threads are summed up.

use std::cmp::Reverse;
use std::collections::BTreeMap;

use time::{Date, OffsetDateTime};

use crate::model::{Email, Message, ServiceRequest, Thread};

/// Why something written was refused, in words for the one who wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WritingRefused {
    /// An empty message, or one over 5,000 characters.
    #[error("please write a message (up to 5,000 characters)")]
    Message,
    /// No name, or a name over 200 characters.
    #[error("please give your name (up to 200 characters)")]
    Name,
    /// An email address that does not parse.
    #[error("that email address does not look right")]
    Email,
    /// A phone number over 40 characters, or with other characters than digits, spaces and
    /// `+ ( ) - .`.
    #[error("a phone number has digits, spaces and + ( ) - . only")]
    Phone,
    /// An address over 500 characters.
    #[error("the address is too long (up to 500 characters)")]
    Address,
    /// An empty description, or one over 5,000 characters.
    #[error("please say what you need (up to 5,000 characters)")]
    Description,
    /// More than three days, a day in the past, or one more than a year ahead.
    #[error("choose up to three days, from today to a year ahead")]
    Dates,
    /// More than three photos, an empty or too large one, or a file that is not a photo.
    #[error(
        "attach up to three photos (JPEG, PNG, GIF, WebP, HEIC or AVIF), each within the size limit"
    )]
    Photos,
}

/// The media types a client may attach as photos: the images Portico keeps.
pub const PHOTO_TYPES: &[&str] = &[
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "image/heic",
    "image/heif",
    "image/avif",
];

/// A photo as the client attached it: the media type detected from its bytes, and the bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachedPhoto {
    /// Detected from the bytes, never from a name.
    pub content_type: String,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// The photos that may be kept: up to three, none empty, each at most `max_bytes` and of a
/// photo type. Empty file fields (a form sent without a choice) are left out first.
pub fn photos(
    attached: Vec<AttachedPhoto>,
    max_bytes: u64,
) -> Result<Vec<AttachedPhoto>, WritingRefused> {
    let kept: Vec<AttachedPhoto> = attached
        .into_iter()
        .filter(|p| !p.bytes.is_empty())
        .collect();
    let acceptable = |p: &AttachedPhoto| {
        PHOTO_TYPES.contains(&p.content_type.as_str()) && p.bytes.len() as u64 <= max_bytes
    };
    if kept.len() > ServiceRequest::MAX_PHOTOS || !kept.iter().all(acceptable) {
        return Err(WritingRefused::Photos);
    }
    Ok(kept)
}

/// The longest name accepted, in characters.
pub const MAX_NAME: usize = 200;
/// The longest address accepted, in characters.
pub const MAX_ADDRESS: usize = 500;

/// Text as it is kept: line ends made `\n`, control characters other than line ends and tabs
/// dropped, surrounding space trimmed.
pub fn clean(raw: &str) -> String {
    raw.replace("\r\n", "\n")
        .replace('\r', "\n")
        .chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect::<String>()
        .trim()
        .to_owned()
}

/// One line of text as it is kept: like [`clean`], with line ends turned into spaces.
fn clean_line(raw: &str) -> String {
    clean(&raw.replace(['\r', '\n'], " "))
}

/// A message's body as it is kept, or why it is refused.
pub fn message_body(raw: &str) -> Result<String, WritingRefused> {
    let body = clean(raw);
    let length = body.chars().count();
    if length == 0 || length > Message::MAX_BODY {
        return Err(WritingRefused::Message);
    }
    Ok(body)
}

/// A service request as the client filled in the form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestForm {
    /// The name to ask for.
    pub name: String,
    /// Where to write back (may be empty).
    pub email: String,
    /// Where to call back (may be empty).
    pub phone: String,
    /// Where the work is (may be empty).
    pub address: String,
    /// What they need.
    pub description: String,
    /// Days that suit them.
    pub preferred_dates: Vec<Date>,
}

/// A request's fields once checked and cleaned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedRequest {
    /// The name to ask for.
    pub name: String,
    /// Where to write back.
    pub email: Option<Email>,
    /// Where to call back.
    pub phone: Option<String>,
    /// Where the work is.
    pub address: Option<String>,
    /// What they need.
    pub description: String,
    /// Days that suit them, without repeats, in the order given.
    pub preferred_dates: Vec<Date>,
}

/// A service request's fields as they are kept, or the first reason to refuse them. `today` is
/// the day in the org's time zone.
pub fn request(form: &RequestForm, today: Date) -> Result<CheckedRequest, WritingRefused> {
    let name = clean_line(&form.name);
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(WritingRefused::Name);
    }
    let email = match clean_line(&form.email) {
        e if e.is_empty() => None,
        e => Some(Email::parse(&e).map_err(|_| WritingRefused::Email)?),
    };
    let phone = match clean_line(&form.phone) {
        p if p.is_empty() => None,
        p if p.len() > 40
            || !p
                .chars()
                .all(|c| c.is_ascii_digit() || " +()-.".contains(c)) =>
        {
            return Err(WritingRefused::Phone);
        }
        p => Some(p),
    };
    let address = match clean(&form.address) {
        a if a.is_empty() => None,
        a if a.chars().count() > MAX_ADDRESS => return Err(WritingRefused::Address),
        a => Some(a),
    };
    let description = clean(&form.description);
    let length = description.chars().count();
    if length == 0 || length > ServiceRequest::MAX_DESCRIPTION {
        return Err(WritingRefused::Description);
    }
    let mut dates: Vec<Date> = Vec::new();
    for day in &form.preferred_dates {
        if !dates.contains(day) {
            dates.push(*day);
        }
    }
    let last = today.saturating_add(time::Duration::days(366));
    if dates.len() > ServiceRequest::MAX_DATES || dates.iter().any(|d| *d < today || *d > last) {
        return Err(WritingRefused::Dates);
    }
    Ok(CheckedRequest {
        name,
        email,
        phone,
        address,
        description,
        preferred_dates: dates,
    })
}

/// One of a client's threads, summed up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadSummary {
    /// Which thread.
    pub thread: Thread,
    /// How many messages it holds.
    pub count: usize,
    /// How many the business wrote that the client has not read.
    pub unread: usize,
    /// When the last message was written.
    pub last_at: OffsetDateTime,
}

/// The client's threads that hold a message: the general one first, then the others by their
/// last message, newest first.
pub fn threads(messages: &[Message]) -> Vec<ThreadSummary> {
    let mut by_thread: BTreeMap<&Thread, ThreadSummary> = BTreeMap::new();
    for m in messages {
        let summary = by_thread.entry(&m.thread).or_insert_with(|| ThreadSummary {
            thread: m.thread.clone(),
            count: 0,
            unread: 0,
            last_at: m.at,
        });
        summary.count += 1;
        summary.last_at = summary.last_at.max(m.at);
        if unread_by_client(m) {
            summary.unread += 1;
        }
    }
    let mut list: Vec<ThreadSummary> = by_thread.into_values().collect();
    list.sort_by_key(|s| (s.thread != Thread::General, Reverse(s.last_at)));
    list
}

/// Whether the client has yet to read `message`: the business wrote it and it is unread.
pub fn unread_by_client(message: &Message) -> bool {
    !message.from_client() && message.read_at.is_none()
}

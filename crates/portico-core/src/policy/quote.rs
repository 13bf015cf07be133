//! V5: a client's decision on a quote, and how a decision locks it.

use time::{Date, OffsetDateTime};

use crate::model::{DecisionKind, Quote, QuoteDecision, QuoteStatus};

/// The longest message a client may attach to a decision.
pub const MAX_MESSAGE_CHARS: usize = 4000;

/// What the client chose on the quote page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientDecision {
    /// Approve as it stands.
    Approve,
    /// Ask for a revision; the message says what.
    RequestChanges {
        /// What to change.
        message: String,
    },
    /// Decline, optionally saying why.
    Decline {
        /// Why.
        message: Option<String>,
    },
}

/// Why a decision was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecisionDenied {
    /// The quote was already decided (a decision locks it).
    #[error("this quote was already {}", .0.as_str())]
    AlreadyDecided(DecisionKind),
    /// The quote is still a draft.
    #[error("this quote has not been sent yet")]
    NotSent,
    /// Past `valid_until`.
    #[error("this quote was valid until {0}")]
    Expired(Date),
    /// A change request needs a message.
    #[error("say what should change")]
    MessageRequired,
    /// The message is too long.
    #[error("the message is longer than {MAX_MESSAGE_CHARS} characters")]
    MessageTooLong,
}

/// Whether the quote can be decided on `today`.
pub fn decidable(quote: &Quote, today: Date) -> Result<(), DecisionDenied> {
    if let Some(d) = &quote.decision {
        return Err(DecisionDenied::AlreadyDecided(d.kind));
    }
    if quote.status == QuoteStatus::Draft {
        return Err(DecisionDenied::NotSent);
    }
    match quote.valid_until {
        Some(until) if until < today => Err(DecisionDenied::Expired(until)),
        _ => Ok(()),
    }
}

/// V5: the decision the client's choice records at `now`, on the org's date `today` (V9: a
/// quote valid until the 3rd can be decided all through the 3rd on the org's clock).
pub fn decide(
    quote: &Quote,
    choice: ClientDecision,
    now: OffsetDateTime,
    today: Date,
) -> Result<QuoteDecision, DecisionDenied> {
    decidable(quote, today)?;
    // What a client typed keeps its line breaks; other control characters (NUL among them,
    // which no database keeps as text) are dropped (I6).
    let clean = |m: String| {
        let m: String = m
            .trim()
            .chars()
            .filter(|c| !c.is_control() || *c == '\n')
            .collect();
        if m.chars().count() > MAX_MESSAGE_CHARS {
            Err(DecisionDenied::MessageTooLong)
        } else {
            Ok((!m.is_empty()).then_some(m))
        }
    };
    let (kind, message) = match choice {
        ClientDecision::Approve => (DecisionKind::Approved, None),
        ClientDecision::RequestChanges { message } => (
            DecisionKind::ChangesRequested,
            Some(clean(message)?.ok_or(DecisionDenied::MessageRequired)?),
        ),
        ClientDecision::Decline { message } => (
            DecisionKind::Declined,
            message.map(clean).transpose()?.flatten(),
        ),
    };
    Ok(QuoteDecision {
        kind,
        message,
        at: now,
    })
}

/// A host upsert of a quote the client has decided.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the client {} this quote; it can no longer change", .0.as_str())]
pub struct QuoteLocked(pub DecisionKind);

/// Applies a host revision of `old` to `new`: the decision is Portico's and is carried over.
/// Approved or declined quotes are locked: a change of their content is refused. A revision
/// of a quote with changes requested clears the request, so the client can decide again.
pub fn revise(old: &Quote, new: &mut Quote) -> Result<(), QuoteLocked> {
    let content_changed = old.items != new.items
        || old.taxes != new.taxes
        || old.currency != new.currency
        || old.valid_until != new.valid_until
        || old.client_message != new.client_message
        || old.title != new.title;
    new.decision = match &old.decision {
        Some(d) if d.kind == DecisionKind::ChangesRequested && content_changed => None,
        Some(d) if d.kind != DecisionKind::ChangesRequested && content_changed => {
            return Err(QuoteLocked(d.kind));
        }
        other => other.clone(),
    };
    Ok(())
}

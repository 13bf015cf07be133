//! Portico's mail adapter: the core's [`Mailer`] port.
//!
//! [`EmlFolder`] is the embedded default: each message is written as an RFC 5322 `.eml` file
//! named after its Message-ID, so a resend of the same notification replaces the same file
//! rather than adding a copy. Messages are built with mail-builder: From = the org's name with
//! the configured sending address, Reply-To = the org's email, a stable Message-ID, text and
//! HTML parts, `Auto-Submitted: auto-generated`.

mod smtp;
mod templates;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use mail_send::mail_builder::MessageBuilder;
use mail_send::mail_builder::headers::raw::Raw;
use portico_core::model::Email;
use portico_core::ports::{MailError, Mailer, OutgoingEmail};

pub use smtp::{Security, SmtpConfig, SmtpMailer, SmtpUrlError};
pub use templates::TemplateComposer;

/// Builds the RFC 5322 bytes of `email`, sent from `sender` under the org's name.
pub fn build_message(email: &OutgoingEmail, sender: &Email) -> Result<Vec<u8>, MailError> {
    let mut builder = MessageBuilder::new()
        .from((email.from_name.as_str(), sender.as_str()))
        .to(email.to.as_str())
        .subject(email.subject.as_str())
        .message_id(email.message_id.as_str())
        .header("Auto-Submitted", Raw::new("auto-generated"))
        .text_body(email.text.as_str())
        .html_body(email.html.as_str());
    if let Some(reply_to) = &email.reply_to {
        builder = builder.reply_to((email.from_name.as_str(), reply_to.as_str()));
    }
    builder
        .write_to_vec()
        .map_err(|e| MailError::Permanent(format!("the message could not be built: {e}")))
}

/// Writes each message as a `.eml` file in a folder.
#[derive(Debug)]
pub struct EmlFolder {
    dir: PathBuf,
    sender: Email,
    next_temp: AtomicU64,
}

impl EmlFolder {
    /// Messages from `sender` into `dir`, created when missing.
    pub async fn open(dir: impl Into<PathBuf>, sender: Email) -> std::io::Result<Self> {
        let dir = dir.into();
        tokio::fs::create_dir_all(&dir).await?;
        Ok(Self {
            dir,
            sender,
            next_temp: AtomicU64::new(0),
        })
    }

    /// The file a message with `message_id` is written to.
    pub fn path_of(&self, message_id: &str) -> PathBuf {
        let name: String = message_id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '@') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.dir.join(format!("{name}.eml"))
    }
}

#[async_trait]
impl Mailer for EmlFolder {
    async fn send(&self, email: &OutgoingEmail) -> Result<(), MailError> {
        let bytes = build_message(email, &self.sender)?;
        let n = self.next_temp.fetch_add(1, Ordering::Relaxed);
        let temp = self.dir.join(format!(".tmp-{}-{n}", std::process::id()));
        let written = async {
            tokio::fs::write(&temp, &bytes).await?;
            tokio::fs::rename(&temp, self.path_of(&email.message_id)).await
        }
        .await;
        if let Err(e) = written {
            let _ = tokio::fs::remove_file(&temp).await;
            // A full disk or a missing folder may clear up: try again later.
            return Err(MailError::Temporary(format!(
                "cannot write the message: {e}"
            )));
        }
        Ok(())
    }
}

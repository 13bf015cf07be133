//! The mail port over SMTP (mail-send): implicit TLS, STARTTLS or (for local test servers)
//! plain, with authentication, one reused connection, and timeouts. Replies map onto the port's
//! contract: a 4xx or a lost connection is temporary, a 5xx is permanent.

use std::time::Duration;

use async_trait::async_trait;
use mail_send::{SmtpClient, SmtpClientBuilder};
use portico_core::model::Email;
use portico_core::ports::{MailError, Mailer, OutgoingEmail};
use tokio::net::TcpStream;
use tokio::sync::Mutex;
use tokio_rustls::client::TlsStream;

use crate::build_message;

/// How the connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// TLS from the first byte (`smtps://`, port 465).
    Implicit,
    /// Plain, upgraded with STARTTLS, which the server must offer (port 587).
    StartTls,
    /// No TLS at all: only for a server on the same machine (tests, a local relay).
    None,
}

/// Where and how to send, from `SMTP_URL`.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    /// The server's host name.
    pub host: String,
    /// Its port.
    pub port: u16,
    /// TLS mode.
    pub security: Security,
    /// User name and password, when the server wants them.
    pub credentials: Option<(String, String)>,
    /// How long a connection or a command may take.
    pub timeout: Duration,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("user", &self.credentials.as_ref().map(|(u, _)| u))
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Why an SMTP URL was refused; the password is never part of it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SmtpUrlError {
    /// Not a URL at all.
    #[error("not a URL ({0})")]
    NotAUrl(String),
    /// A scheme other than `smtp` or `smtps`.
    #[error("the scheme must be smtp or smtps, not {0:?}")]
    Scheme(String),
    /// No host.
    #[error("a host is required")]
    NoHost,
    /// A `tls` value other than `starttls`, `implicit` or `none`.
    #[error("tls must be starttls, implicit or none, not {0:?}")]
    Tls(String),
    /// A `timeout` that is not 1 to 600 seconds.
    #[error("timeout must be 1 to 600 seconds")]
    Timeout,
    /// A query option it does not know.
    #[error("unknown option {0:?}")]
    UnknownOption(String),
}

impl SmtpConfig {
    /// Reads `smtp://user:pass@host:587?tls=starttls` (`tls` is `starttls`, the default for
    /// `smtp://`, or `none`; `smtps://` means implicit TLS, port 465 by default) and an optional
    /// `timeout` in seconds (default 30). The error names what is wrong, never the password.
    pub fn from_url(raw: &str) -> Result<Self, SmtpUrlError> {
        let url = url::Url::parse(raw).map_err(|e| SmtpUrlError::NotAUrl(e.to_string()))?;
        let (default_port, mut security) = match url.scheme() {
            "smtp" => (587, Security::StartTls),
            "smtps" => (465, Security::Implicit),
            other => return Err(SmtpUrlError::Scheme(other.to_owned())),
        };
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or(SmtpUrlError::NoHost)?
            .to_owned();
        let mut timeout = Duration::from_secs(30);
        for (key, value) in url.query_pairs() {
            match (key.as_ref(), value.as_ref()) {
                ("tls", "starttls") if security != Security::Implicit => {
                    security = Security::StartTls;
                }
                ("tls", "none") if security != Security::Implicit => security = Security::None,
                ("tls", "implicit") => security = Security::Implicit,
                ("tls", other) => {
                    return Err(SmtpUrlError::Tls(other.to_owned()));
                }
                ("timeout", secs) => {
                    let secs: u64 = secs
                        .parse()
                        .ok()
                        .filter(|s| (1..=600).contains(s))
                        .ok_or(SmtpUrlError::Timeout)?;
                    timeout = Duration::from_secs(secs);
                }
                (other, _) => return Err(SmtpUrlError::UnknownOption(other.to_owned())),
            }
        }
        let decode = |s: &str| {
            url::form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        let credentials = (!url.username().is_empty()).then(|| {
            (
                decode(url.username()),
                decode(url.password().unwrap_or_default()),
            )
        });
        Ok(Self {
            host,
            port: url.port().unwrap_or(default_port),
            security,
            credentials,
            timeout,
        })
    }
}

enum Connection {
    Tls(Box<SmtpClient<TlsStream<TcpStream>>>),
    Plain(SmtpClient<TcpStream>),
}

/// Sends mail through one SMTP server, reusing its connection.
pub struct SmtpMailer {
    config: SmtpConfig,
    sender: Email,
    connection: Mutex<Option<Connection>>,
}

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("config", &self.config)
            .field("sender", &self.sender)
            .finish_non_exhaustive()
    }
}

/// Whether an error means the connection is unusable (reconnect and try once more).
fn connection_lost(e: &mail_send::Error) -> bool {
    matches!(
        e,
        mail_send::Error::Io(_)
            | mail_send::Error::Timeout
            | mail_send::Error::UnparseableReply
            | mail_send::Error::Tls(_)
    )
}

fn classify(e: &mail_send::Error) -> MailError {
    match e {
        mail_send::Error::UnexpectedReply(reply)
        | mail_send::Error::AuthenticationFailed(reply)
            if reply.code() >= 500 =>
        {
            MailError::Permanent(format!("the server refused: {reply}"))
        }
        other => MailError::Temporary(other.to_string()),
    }
}

impl SmtpMailer {
    /// A mailer for `config`, sending from `sender`. Connects on the first message.
    pub fn new(config: SmtpConfig, sender: Email) -> Self {
        Self {
            config,
            sender,
            connection: Mutex::new(None),
        }
    }

    async fn connect(&self) -> Result<Connection, mail_send::Error> {
        let c = &self.config;
        let mut builder = SmtpClientBuilder::new(c.host.clone(), c.port)
            .map_err(|e| mail_send::Error::Io(std::io::Error::other(e)))?
            .implicit_tls(c.security == Security::Implicit)
            .timeout(c.timeout)
            .helo_host("portico");
        if let Some((user, password)) = &c.credentials {
            builder = builder.credentials((user.clone(), password.clone()));
        }
        // Commands are small writes answered one by one: without TCP_NODELAY each waits for a
        // delayed acknowledgement (some 40 ms a message).
        Ok(match c.security {
            Security::None => {
                let client = builder.connect_plain().await?;
                client
                    .stream
                    .set_nodelay(true)
                    .map_err(mail_send::Error::Io)?;
                Connection::Plain(client)
            }
            Security::Implicit | Security::StartTls => {
                let client = builder.connect().await?;
                client
                    .stream
                    .get_ref()
                    .0
                    .set_nodelay(true)
                    .map_err(mail_send::Error::Io)?;
                Connection::Tls(Box::new(client))
            }
        })
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, email: &OutgoingEmail) -> Result<(), MailError> {
        let bytes = build_message(email, &self.sender)?;
        let message = mail_send::smtp::message::Message::new(
            self.sender.as_str(),
            [email.to.as_str()],
            bytes.as_slice(),
        );
        let mut slot = self.connection.lock().await;
        for attempt in 0..2 {
            let mut connection = match slot.take() {
                Some(open) => open,
                None => self.connect().await.map_err(|e| classify(&e))?,
            };
            let sent = match &mut connection {
                Connection::Tls(client) => client.send(message.clone()).await,
                Connection::Plain(client) => client.send(message.clone()).await,
            };
            match sent {
                Ok(_) => {
                    *slot = Some(connection);
                    return Ok(());
                }
                // A reused connection the server closed meanwhile: once more, on a fresh one.
                Err(e) if connection_lost(&e) && attempt == 0 => {}
                Err(e) => {
                    if !connection_lost(&e) {
                        // The connection is fine; the server refused this message.
                        let reset = match &mut connection {
                            Connection::Tls(client) => client.rset().await,
                            Connection::Plain(client) => client.rset().await,
                        };
                        if reset.is_ok() {
                            *slot = Some(connection);
                        }
                    }
                    return Err(classify(&e));
                }
            }
        }
        Err(MailError::Temporary(
            "the SMTP connection was lost twice".into(),
        ))
    }
}

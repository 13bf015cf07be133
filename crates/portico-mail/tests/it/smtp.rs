//! SMTP against a real server: headers and parts arrive; an outage loses nothing; a 4xx then a
//! 2xx gives exactly one copy; a 5xx goes dead; `SMTP_URL` is read strictly.

use portico_core::ports::{MailError, Mailer, Outbox};
use portico_core::service::{DispatchConfig, retry_delay};
use portico_mail::{Security, SmtpConfig, SmtpMailer, SmtpUrlError};
use time::Duration;

use crate::support::{TestSmtp, config_of, sender, world};

#[test]
fn o3_smtp_urls_are_read_strictly_and_never_echo_the_password() {
    let c = SmtpConfig::from_url("smtp://mailer:p%40ss@mail.example:2525?tls=starttls&timeout=9")
        .unwrap();
    assert_eq!(
        (c.host.as_str(), c.port, c.security),
        ("mail.example", 2525, Security::StartTls)
    );
    assert_eq!(c.credentials, Some(("mailer".into(), "p@ss".into())));
    assert_eq!(c.timeout, std::time::Duration::from_secs(9));
    let implicit = SmtpConfig::from_url("smtps://mail.example").unwrap();
    assert_eq!(
        (implicit.port, implicit.security),
        (465, Security::Implicit)
    );
    assert_eq!(SmtpConfig::from_url("smtp://h").unwrap().port, 587);
    for (bad, why) in [
        ("http://mail.example", SmtpUrlError::Scheme("http".into())),
        ("smtp://", SmtpUrlError::NoHost),
        ("smtp://h?tls=maybe", SmtpUrlError::Tls("maybe".into())),
        ("smtp://h?timeout=0", SmtpUrlError::Timeout),
        (
            "smtp://h?colour=blue",
            SmtpUrlError::UnknownOption("colour".into()),
        ),
    ] {
        assert_eq!(SmtpConfig::from_url(bad).map(|_| ()), Err(why), "{bad}");
    }
    let not_a_url = SmtpConfig::from_url("not a url");
    assert!(
        matches!(not_a_url, Err(SmtpUrlError::NotAUrl(_))),
        "{not_a_url:?}"
    );
    let with_password = SmtpConfig::from_url("smtp://u:s3cret@h?tls=no").unwrap_err();
    assert!(
        !with_password.to_string().contains("s3cret"),
        "{with_password}"
    );
    let debug = format!("{c:?}");
    assert!(
        !debug.contains("p@ss") && !debug.contains("p%40ss"),
        "{debug}"
    );
}

#[tokio::test]
async fn n4_a_message_arrives_with_its_headers_and_both_parts() {
    let Some(server) = TestSmtp::for_test(&[]) else {
        return;
    };
    let w = world().await;
    let mailer = SmtpMailer::new(config_of(&server), sender());
    let report = w
        .portico
        .dispatch_once(&w.store, &mailer, &DispatchConfig::default())
        .await
        .unwrap();
    assert_eq!(report.sent, 1);
    let received = server.messages();
    assert_eq!(received.len(), 1);
    let mail = &received[0];
    for needle in [
        "From: \"Bright Spark Electrical\" <notifications@portico.example>",
        "Reply-To: \"Bright Spark Electrical\" <office@brightspark.example>",
        "To: <jordan@client.example>",
        "Auto-Submitted: auto-generated",
        "Message-ID: <",
        "text/plain",
        "text/html",
        "https://share.example/s/",
    ] {
        assert!(mail.contains(needle), "{needle} missing:\n{mail}");
    }
    // The connection is reused for the next message.
    let outbox = w
        .store
        .notifications_of_org(&portico_core::model::OrgId::new("org1").unwrap())
        .await
        .unwrap();
    let mut again = portico_core::ports::OutgoingEmail {
        message_id: "second@portico".into(),
        from_name: "Bright Spark Electrical".into(),
        reply_to: None,
        to: outbox[0].to.clone(),
        subject: "Second".into(),
        text: "Two".into(),
        html: "<p>Two</p>".into(),
    };
    mailer.send(&again).await.unwrap();
    again.message_id = "third@portico".into();
    mailer.send(&again).await.unwrap();
    assert_eq!(server.messages().len(), 3);
}

#[tokio::test]
async fn n5_with_the_server_down_nothing_is_lost_and_it_arrives_once_back() {
    let Some(mut server) = TestSmtp::for_test(&[]) else {
        return;
    };
    let config = config_of(&server);
    server.stop();
    let w = world().await;
    let mailer = SmtpMailer::new(config, sender());
    let dispatch = DispatchConfig::default();
    let report = w
        .portico
        .dispatch_once(&w.store, &mailer, &dispatch)
        .await
        .unwrap();
    assert_eq!((report.sent, report.retried), (0, 1));
    assert_eq!(w.store.pending_count().await.unwrap(), 1, "kept");

    server.start_again().unwrap();
    w.clock
        .advance(retry_delay(&dispatch, 1) * 5 / 4 + Duration::seconds(1));
    let report = w
        .portico
        .dispatch_once(&w.store, &mailer, &dispatch)
        .await
        .unwrap();
    assert_eq!(report.sent, 1);
    assert_eq!(server.messages().len(), 1);
    assert_eq!(w.store.pending_count().await.unwrap(), 0);
}

#[tokio::test]
async fn n5_a_4xx_then_a_2xx_delivers_exactly_one_copy() {
    let Some(server) = TestSmtp::for_test(&["--fail-first", "1"]) else {
        return;
    };
    let w = world().await;
    let mailer = SmtpMailer::new(config_of(&server), sender());
    let dispatch = DispatchConfig::default();
    let first = w
        .portico
        .dispatch_once(&w.store, &mailer, &dispatch)
        .await
        .unwrap();
    assert_eq!(first.retried, 1);
    assert!(server.messages().is_empty());
    w.clock
        .advance(retry_delay(&dispatch, 1) * 5 / 4 + Duration::seconds(1));
    let second = w
        .portico
        .dispatch_once(&w.store, &mailer, &dispatch)
        .await
        .unwrap();
    assert_eq!(second.sent, 1);
    w.clock.advance(Duration::hours(2));
    let third = w
        .portico
        .dispatch_once(&w.store, &mailer, &dispatch)
        .await
        .unwrap();
    assert_eq!(third.sent, 0);
    assert_eq!(server.messages().len(), 1, "exactly one copy");
}

#[tokio::test]
async fn n5_a_5xx_is_permanent() {
    let Some(server) = TestSmtp::for_test(&["--reject"]) else {
        return;
    };
    let w = world().await;
    let mailer = SmtpMailer::new(config_of(&server), sender());
    let outbox = w
        .store
        .notifications_of_org(&portico_core::model::OrgId::new("org1").unwrap())
        .await
        .unwrap();
    let email = portico_core::ports::OutgoingEmail {
        message_id: "x@portico".into(),
        from_name: "Org".into(),
        reply_to: None,
        to: outbox[0].to.clone(),
        subject: "s".into(),
        text: "t".into(),
        html: "<p>t</p>".into(),
    };
    let refused = mailer.send(&email).await;
    assert!(
        matches!(refused, Err(MailError::Permanent(_))),
        "{refused:?}"
    );
    let report = w
        .portico
        .dispatch_once(&w.store, &mailer, &DispatchConfig::default())
        .await
        .unwrap();
    assert_eq!(report.dead, 1);
}

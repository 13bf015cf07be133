//! The `.eml` folder writer.

use portico_core::model::Email;
use portico_core::ports::{Mailer, OutgoingEmail};
use portico_mail::EmlFolder;

fn email(id: &str) -> OutgoingEmail {
    OutgoingEmail {
        message_id: format!("{id}@portico"),
        from_name: "Bright Spark Electrical".into(),
        reply_to: Some(Email::parse("office@brightspark.example").unwrap()),
        to: Email::parse("jordan@client.example").unwrap(),
        subject: "Rewire kitchen: in progress".into(),
        text: "The status is now: in progress.\n\nOpen it here: https://share.example/s/abc\n".into(),
        html: "<p>The status is now: in progress.</p><p><a href=\"https://share.example/s/abc\">Open it here</a></p>".into(),
    }
}

#[tokio::test]
async fn n4_n5_messages_are_written_once_per_message_id_under_the_company_name() {
    let dir = tempfile::tempdir().unwrap();
    let sender = Email::parse("notifications@portico.example").unwrap();
    let folder = EmlFolder::open(dir.path().join("mail"), sender)
        .await
        .unwrap();
    let message = email("6f1c0a52-0000-4000-8000-000000000001");
    folder.send(&message).await.unwrap();
    // A resend of the same notification replaces the file: one copy.
    folder.send(&message).await.unwrap();
    folder.send(&email("second")).await.unwrap();
    let files: Vec<_> = std::fs::read_dir(dir.path().join("mail"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 2, "{files:?}");

    let text = std::fs::read_to_string(folder.path_of(&message.message_id)).unwrap();
    for header in [
        "From: \"Bright Spark Electrical\" <notifications@portico.example>",
        "Reply-To: \"Bright Spark Electrical\" <office@brightspark.example>",
        "To: <jordan@client.example>",
        "Subject: Rewire kitchen: in progress",
        "Message-ID: <6f1c0a52-0000-4000-8000-000000000001@portico>",
        "Auto-Submitted: auto-generated",
        "multipart/alternative",
        "text/plain",
        "text/html",
    ] {
        assert!(text.contains(header), "{header} missing in:\n{text}");
    }
    assert!(text.contains("https://share.example/s/abc"));
}

#[tokio::test]
async fn n5_an_unwritable_folder_is_a_temporary_failure() {
    let dir = tempfile::tempdir().unwrap();
    let sender = Email::parse("notifications@portico.example").unwrap();
    let folder = EmlFolder::open(dir.path().join("mail"), sender)
        .await
        .unwrap();
    std::fs::remove_dir_all(dir.path().join("mail")).unwrap();
    let failed = folder.send(&email("x")).await;
    assert!(
        matches!(failed, Err(portico_core::ports::MailError::Temporary(_))),
        "{failed:?}"
    );
}

//! C7: messages between a client and the business, service requests, and the org's event log.

use portico_core::model::{
    Author, ClientId, DecisionKind, FeedEventKind, NotificationKind, PortalSection, RequestState,
    Role, Thread,
};
use portico_core::policy::inbox::{self, RequestForm, WritingRefused};
use portico_core::policy::quote::ClientDecision;
use portico_core::service::{Paging, PortalError, StaffError};
use portico_core::testing::fixtures;
use proptest::prelude::*;
use time::macros::date;

use crate::support::{World, owner, staff_id};

fn job_thread(w: &World) -> Thread {
    Thread::Job(w.wo.id.clone())
}

/// A world whose client is invited and signed in; the session id.
fn signed_in() -> (World, String) {
    let w = World::new();
    w.invite();
    w.deliver();
    let session = w.sign_in().session.expose().to_owned();
    (w, session)
}

fn form() -> RequestForm {
    RequestForm {
        name: "Jordan Lee".into(),
        email: "jordan@client.example".into(),
        phone: "+1 555 0142".into(),
        address: "12 Elm Street".into(),
        description: "The porch light flickers.".into(),
        preferred_dates: vec![date!(2026 - 03 - 05)],
    }
}

#[test]
fn c7_a_client_message_is_stored_logged_and_mailed_to_the_business() {
    let (w, session) = signed_in();
    let sent = w
        .block_on(w.portico.portal_send_message(
            &w.org,
            &session,
            &job_thread(&w),
            "  When will you\r\ncome?\u{7}  ",
        ))
        .unwrap();
    assert_eq!(sent.body, "When will you\ncome?", "cleaned and trimmed");
    assert_eq!(sent.author, Author::Client);
    let notice = w.outbox().pop().unwrap();
    assert_eq!(notice.to.as_str(), "office@brightspark.example");
    assert!(matches!(
        &notice.kind,
        NotificationKind::MessageFromClient { body, job: Some(title), .. }
            if body == "When will you\ncome?" && !title.is_empty()
    ));
    let events = w.block_on(w.portico.events(&w.org, 0, 100)).unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(
        events[0].kind,
        FeedEventKind::PortalFirstSignIn,
        "the client's first sign-in came first"
    );
    assert_eq!(events[1].seq, 2);
    assert_eq!(events[1].client_id.as_ref(), Some(&w.client));
    assert_eq!(
        events[1].kind,
        FeedEventKind::MessageReceived {
            message: sent.id,
            job: Some(w.wo.id.clone())
        }
    );
    let listed = w
        .block_on(w.portico.client_messages(&w.org, &w.client))
        .unwrap();
    assert_eq!(listed, vec![sent]);
}

#[test]
fn c7_a_staff_answer_is_mailed_counted_unread_and_read_once_the_thread_is_opened() {
    let (w, session) = signed_in();
    let answer = w
        .block_on(w.portico.send_client_message(
            &w.org,
            &staff_id(Role::Technician),
            &w.client,
            None,
            "We come on Tuesday.",
        ))
        .unwrap();
    assert!(
        matches!(&answer.author, Author::Staff { name, .. } if name == "Sam"),
        "the client sees a first name: {:?}",
        answer.author
    );
    let mail = w.deliver().pop().unwrap();
    assert_eq!(mail.to.as_str(), "jordan@client.example");
    assert!(mail.text.contains("We come on Tuesday."), "{}", mail.text);
    assert!(mail.text.contains("/portal/org1"), "{}", mail.text);
    let home = w
        .block_on(w.portico.portal_home(&w.org, &session, Paging::default()))
        .unwrap();
    assert_eq!(home.unread_messages, Some(1));
    let threads = w
        .block_on(w.portico.portal_threads(&w.org, &session))
        .unwrap();
    assert_eq!(threads.threads.len(), 1);
    assert_eq!(threads.threads[0].summary.unread, 1);
    assert_eq!(
        threads.jobs[0].0, w.wo.id,
        "the client's job may get a thread"
    );
    let read = w
        .block_on(
            w.portico
                .portal_conversation(&w.org, &session, &Thread::General),
        )
        .unwrap();
    assert_eq!(read.messages.len(), 1);
    let home = w
        .block_on(w.portico.portal_home(&w.org, &session, Paging::default()))
        .unwrap();
    assert_eq!(home.unread_messages, Some(0));
    // Staff reading the client's messages marks them read, once.
    w.block_on(
        w.portico
            .portal_send_message(&w.org, &session, &Thread::General, "Thanks!"),
    )
    .unwrap();
    let marked = |w: &World| {
        w.block_on(
            w.portico
                .mark_client_messages_read(&w.org, &owner(), &w.client),
        )
        .unwrap()
    };
    assert_eq!(marked(&w), 1);
    assert_eq!(marked(&w), 0);
}

#[test]
fn c7_staff_answer_only_clients_in_the_portal_and_only_about_their_own_jobs() {
    let w = World::new();
    let send = |job: Option<&portico_core::model::RecordId>| {
        w.block_on(
            w.portico
                .send_client_message(&w.org, &owner(), &w.client, job, "Hello"),
        )
    };
    assert!(matches!(send(None), Err(StaffError::NotInPortal)));
    w.invite();
    assert!(send(None).is_ok());
    assert!(send(Some(&w.wo.id)).is_ok());
    let other = fixtures::work_order(
        &w.org,
        "wo-other",
        Some(&ClientId::new("c2").unwrap()),
        None,
    );
    w.block_on(async {
        w.portico
            .put_client(&fixtures::client(&w.org, "c2"))
            .await
            .unwrap();
        w.portico
            .upsert_record(&owner(), &portico_core::model::Record::WorkOrder(other))
            .await
            .unwrap();
    });
    let other_id = portico_core::model::RecordId::new("wo-other").unwrap();
    assert!(matches!(
        send(Some(&other_id)),
        Err(StaffError::NotFound("job"))
    ));
    assert!(matches!(
        w.block_on(w.portico.send_client_message(
            &w.org,
            &staff_id(Role::Technician),
            &ClientId::new("nobody").unwrap(),
            None,
            "Hi"
        )),
        Err(StaffError::NotFound("client"))
    ));
    assert!(matches!(
        w.block_on(w.portico.send_client_message(
            &w.org,
            &portico_core::model::StaffId::new("ghost").unwrap(),
            &w.client,
            None,
            "Hi"
        )),
        Err(StaffError::Actor(_))
    ));
    assert!(matches!(
        w.block_on(
            w.portico
                .send_client_message(&w.org, &owner(), &w.client, None, " \n ")
        ),
        Err(StaffError::Writing(WritingRefused::Message))
    ));
    w.put_org(|o| o.settings.portal.enabled = false);
    assert!(matches!(send(None), Err(StaffError::PortalOff)));
}

#[test]
fn c1_c7_hidden_messages_and_request_sections_answer_not_found() {
    let (w, session) = signed_in();
    w.put_org(|o| {
        o.settings
            .portal
            .sections
            .retain(|s| !matches!(s, PortalSection::Messages | PortalSection::ServiceRequests));
    });
    let p = &w.portico;
    assert!(matches!(
        w.block_on(p.portal_threads(&w.org, &session)),
        Err(PortalError::NotFound)
    ));
    assert!(matches!(
        w.block_on(p.portal_conversation(&w.org, &session, &Thread::General)),
        Err(PortalError::NotFound)
    ));
    assert!(matches!(
        w.block_on(p.portal_send_message(&w.org, &session, &Thread::General, "Hi")),
        Err(PortalError::NotFound)
    ));
    assert!(matches!(
        w.block_on(p.portal_request_form(&w.org, &session)),
        Err(PortalError::NotFound)
    ));
    assert!(matches!(
        w.block_on(p.portal_send_request(&w.org, &session, &form(), Vec::new())),
        Err(PortalError::NotFound)
    ));
    let home = w.home_of(&session);
    assert_eq!(home.unread_messages, None);
    assert!(!home.service_requests);
    assert!(
        w.block_on(p.events(&w.org, 0, 10))
            .unwrap()
            .iter()
            .all(|e| e.kind == FeedEventKind::PortalFirstSignIn),
        "nothing was logged but the sign-in"
    );
}

#[test]
fn c7_a_job_thread_is_there_only_while_the_job_is_the_clients_and_shown() {
    let (w, session) = signed_in();
    let p = &w.portico;
    w.block_on(p.portal_send_message(&w.org, &session, &job_thread(&w), "About the job"))
        .unwrap();
    assert_eq!(
        w.block_on(p.portal_threads(&w.org, &session))
            .unwrap()
            .threads
            .len(),
        1
    );
    w.put_org(|o| {
        o.settings
            .portal
            .sections
            .retain(|s| *s != PortalSection::Jobs);
    });
    assert!(matches!(
        w.block_on(p.portal_conversation(&w.org, &session, &job_thread(&w))),
        Err(PortalError::NotFound)
    ));
    let threads = w.block_on(p.portal_threads(&w.org, &session)).unwrap();
    assert!(
        threads.threads.is_empty(),
        "the hidden job's thread is hidden too"
    );
    assert!(threads.jobs.is_empty());
    let unknown = Thread::Job(portico_core::model::RecordId::new("nope").unwrap());
    assert!(matches!(
        w.block_on(p.portal_send_message(&w.org, &session, &unknown, "Hi")),
        Err(PortalError::NotFound)
    ));
}

#[test]
fn c7_a_service_request_is_prefilled_checked_logged_mailed_and_moved_by_staff() {
    let (w, session) = signed_in();
    let p = &w.portico;
    let prefill = w.block_on(p.portal_request_form(&w.org, &session)).unwrap();
    assert_eq!(prefill.form.name, "Jordan Lee");
    assert_eq!(prefill.form.email, "jordan@client.example");
    assert_eq!(prefill.form.phone, "+1 555 0142");
    assert_eq!(prefill.form.address, "12 Elm Street, Springfield");
    assert!(prefill.form.description.is_empty());
    let past = RequestForm {
        preferred_dates: vec![prefill.today.previous_day().unwrap()],
        ..form()
    };
    assert!(matches!(
        w.block_on(p.portal_send_request(&w.org, &session, &past, Vec::new())),
        Err(PortalError::Writing(WritingRefused::Dates))
    ));
    let good = RequestForm {
        preferred_dates: vec![prefill.today, prefill.today],
        ..form()
    };
    let request = w
        .block_on(p.portal_send_request(&w.org, &session, &good, Vec::new()))
        .unwrap();
    assert_eq!(
        request.preferred_dates,
        vec![prefill.today],
        "repeats dropped"
    );
    assert_eq!(request.state, RequestState::New);
    let notice = w.outbox().pop().unwrap();
    assert_eq!(notice.to.as_str(), "office@brightspark.example");
    let mail = w.deliver().pop().unwrap();
    assert!(
        mail.text.contains("The porch light flickers."),
        "{}",
        mail.text
    );
    assert!(mail.text.contains("Phone: +1 555 0142"), "{}", mail.text);
    let events = w.block_on(p.events(&w.org, 0, 10)).unwrap();
    assert_eq!(
        events.last().unwrap().kind,
        FeedEventKind::ServiceRequested {
            request: request.id
        }
    );
    let new = w
        .block_on(p.service_requests(&w.org, Some(RequestState::New), 10))
        .unwrap();
    assert_eq!(new, vec![request.clone()]);
    let seen = w
        .block_on(p.set_service_request_state(&w.org, &owner(), request.id, RequestState::Seen))
        .unwrap();
    assert_eq!(seen.state, RequestState::Seen);
    assert!(
        w.block_on(p.service_requests(&w.org, Some(RequestState::New), 10))
            .unwrap()
            .is_empty()
    );
    let org2 = fixtures::org("org2");
    w.block_on(p.put_org(&org2)).unwrap();
    assert!(matches!(
        w.block_on(p.set_service_request_state(&org2.id, &owner(), request.id, RequestState::Seen)),
        Err(StaffError::Actor(_) | StaffError::NotFound(_))
    ));
}

#[test]
fn c7_the_event_log_numbers_decisions_and_messages_in_order_and_pages_after_a_cursor() {
    let (w, session) = signed_in();
    let p = &w.portico;
    w.block_on(p.portal_decide_quote(&w.org, &session, &w.quote.id, &ClientDecision::Approve))
        .unwrap();
    for i in 0..4 {
        w.block_on(p.portal_send_message(&w.org, &session, &Thread::General, &format!("m{i}")))
            .unwrap();
    }
    let all = w.block_on(p.events(&w.org, 0, 100)).unwrap();
    let seqs: Vec<u64> = all.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, vec![1, 2, 3, 4, 5, 6]);
    assert_eq!(all[0].kind, FeedEventKind::PortalFirstSignIn);
    assert_eq!(
        all[1].kind,
        FeedEventKind::QuoteDecided {
            quote: w.quote.id.clone(),
            decision: DecisionKind::Approved
        }
    );
    let page = w.block_on(p.events(&w.org, 2, 2)).unwrap();
    assert_eq!(page.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![3, 4]);
    assert!(w.block_on(p.events(&w.org, 6, 10)).unwrap().is_empty());
    assert!(matches!(
        w.block_on(p.events(&portico_core::model::OrgId::new("nope").unwrap(), 0, 10)),
        Err(StaffError::UnknownOrg)
    ));
}

impl World {
    fn home_of(&self, session: &str) -> portico_core::service::PortalHome {
        self.block_on(
            self.portico
                .portal_home(&self.org, session, Paging::default()),
        )
        .unwrap()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// C7: whatever is typed, a kept message is trimmed, non-empty, at most 5,000 characters,
    /// without control characters other than line ends and tabs, and keeping it again changes
    /// nothing.
    #[test]
    fn c7_a_kept_message_is_clean_bounded_and_stable(raw in "(?s).{0,40}|[\\PC\\r\\n\\t\\x00-\\x1f]{0,6000}") {
        match inbox::message_body(&raw) {
            Ok(body) => {
                prop_assert!(!body.is_empty());
                prop_assert!(body.chars().count() <= 5000);
                prop_assert_eq!(body.trim(), body.as_str());
                prop_assert!(body.chars().all(|c| !c.is_control() || c == '\n' || c == '\t'));
                prop_assert_eq!(inbox::message_body(&body), Ok(body.clone()));
            }
            Err(e) => prop_assert_eq!(e, WritingRefused::Message),
        }
    }

    /// C6, C7: two clients of one org, each signed in, writing in arbitrary threads: each reads
    /// only their own messages, and each thread holds exactly what was written to it.
    #[test]
    fn c6_c7_a_client_reads_and_writes_only_their_own_threads(
        writes in proptest::collection::vec((any::<bool>(), any::<bool>()), 1..10)
    ) {
        let w = World::new();
        let c2 = fixtures::client(&w.org, "c2");
        let mut wo2 = fixtures::work_order(&w.org, "wo2", Some(&c2.id), None);
        wo2.title = "Second client's job".into();
        w.block_on(async {
            w.portico.put_client(&c2).await.unwrap();
            w.portico.upsert_record(&owner(), &portico_core::model::Record::WorkOrder(wo2)).await.unwrap();
            w.portico.invite_to_portal(&w.org, &owner(), &c2.id).await.unwrap();
        });
        w.invite();
        w.deliver();
        // Both clients share an email; the newest grant signs in the client it was for.
        let first = w.sign_in().session.expose().to_owned();
        let s1 = w.block_on(w.portico.portal_whoami(&w.org, &first)).map(|(_, n, _)| n);
        prop_assert!(s1.is_ok());
        let jobs = [job_thread(&w), Thread::Job(portico_core::model::RecordId::new("wo2").unwrap())];
        let mut written = 0usize;
        for (general, other_job) in &writes {
            let thread = if *general { Thread::General } else { jobs[usize::from(*other_job)].clone() };
            let sent = w.block_on(w.portico.portal_send_message(&w.org, &first, &thread, "hello"));
            // The session belongs to one client: the other client's job is never theirs.
            let mine = w.block_on(w.portico.portal_whoami(&w.org, &first)).is_ok();
            prop_assert!(mine);
            match (&thread, sent) {
                (Thread::Job(id), Err(PortalError::NotFound)) => {
                    let own = w.block_on(w.portico.portal_threads(&w.org, &first)).unwrap();
                    prop_assert!(!own.jobs.iter().any(|(j, _)| j == id));
                }
                (_, Ok(m)) => { written += 1; prop_assert_eq!(&m.thread, &thread); }
                (_, Err(e)) => prop_assert!(false, "{e}"),
            }
        }
        let a = w.block_on(w.portico.client_messages(&w.org, &w.client)).unwrap();
        let b = w.block_on(w.portico.client_messages(&w.org, &c2.id)).unwrap();
        prop_assert_eq!(a.len(), written, "the session is the first client's");
        prop_assert!(b.is_empty(), "nothing reaches the other client's threads");
        for m in a.iter().chain(b.iter()) {
            if let Thread::Job(id) = &m.thread {
                let owner = if id.as_str() == "wo2" { &c2.id } else { &w.client };
                prop_assert_eq!(&m.client_id, owner);
            }
        }
    }
}

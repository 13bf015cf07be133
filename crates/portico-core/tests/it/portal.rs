//! The client portal (C1–C6, C8): invitations, sign-in links and codes, passwords, sessions and
//! what a signed-in client sees.

use portico_core::model::{
    ClientId, GrantPurpose, InvoiceStatus, NotificationKind, OrgId, PortalSection, QuoteStatus,
    Record, RecordKind, RecordRef, Role, WorkStatus,
};
use portico_core::policy::quote::ClientDecision;
use portico_core::service::{DispatchConfig, GrantLook, Paging, PortalError, SignedIn};
use portico_core::testing::{MemoryMailer, fixtures};
use proptest::prelude::*;
use time::Duration;

use crate::support::{World, owner, staff_id};

fn email() -> &'static str {
    "jordan@client.example"
}

impl World {
    pub(crate) fn invite(&self) {
        self.block_on(
            self.portico
                .invite_to_portal(&self.org, &owner(), &self.client),
        )
        .unwrap();
    }

    /// Sends what is due and returns the emails handed to the mailer.
    pub(crate) fn deliver(&self) -> Vec<portico_core::ports::OutgoingEmail> {
        let mailer = MemoryMailer::default();
        self.block_on(
            self.portico
                .dispatch_once(&self.store, &mailer, &DispatchConfig::default()),
        )
        .unwrap();
        mailer.sent()
    }

    /// Asks for a sign-in (or reset) mail to the client's address.
    fn ask(&self, purpose: GrantPurpose) {
        self.block_on(self.portico.request_sign_in(&self.org, email(), purpose))
            .unwrap();
    }

    /// The one-time code of the newest sign-in mail sent.
    fn mailed_code(&self) -> String {
        let mail = self.deliver().pop().expect("a mail went out");
        let code: String = mail
            .text
            .split("code: ")
            .nth(1)
            .expect("a code")
            .chars()
            .take(8)
            .collect();
        assert!(code.chars().all(|c| c.is_ascii_digit()), "{code}");
        code
    }

    /// The token of the newest sign-in link mailed.
    fn mailed_token(&self) -> String {
        let sent = self.deliver();
        let text = &sent.last().expect("a mail went out").text;
        let link = text
            .split_whitespace()
            .find(|w| w.contains("/link/"))
            .expect("a sign-in link");
        link.rsplit('/').next().unwrap().to_owned()
    }

    pub(crate) fn sign_in(&self) -> SignedIn {
        self.ask(GrantPurpose::SignIn);
        let token = self.mailed_token();
        self.block_on(self.portico.use_grant(&self.org, &token, None))
            .unwrap()
    }

    pub(crate) fn home(
        &self,
        signed: &SignedIn,
    ) -> Result<portico_core::service::PortalHome, PortalError> {
        self.block_on(self.portico.portal_home(
            &self.org,
            signed.session.expose(),
            Paging::default(),
        ))
    }

    fn portal_mails(&self) -> usize {
        self.outbox()
            .iter()
            .filter(|n| n.kind.portal_client().is_some())
            .count()
    }
}

#[test]
fn c2_an_invitation_mails_a_link_that_signs_in_and_offers_a_password() {
    let w = World::new();
    w.invite();
    let outbox = w.outbox();
    let invite = outbox.last().unwrap();
    assert!(matches!(invite.kind, NotificationKind::PortalInvite { .. }));
    assert_eq!(invite.record, None);
    assert_eq!(
        invite.due_at,
        fixtures::T0,
        "portal mails leave at once (not N6)"
    );
    let token = w.mailed_token();
    let signed = w
        .block_on(w.portico.use_grant(&w.org, &token, None))
        .unwrap();
    assert_eq!(signed.purpose, Some(GrantPurpose::Invite));
    assert!(!w.home(&signed).unwrap().has_password);
    let account = w
        .block_on(w.portico.portal_account(&w.org, &w.client))
        .unwrap()
        .unwrap();
    assert_eq!(account.last_sign_in_at, Some(fixtures::T0));
}

#[test]
fn c2_only_sharing_roles_invite_and_only_clients_with_an_email() {
    let w = World::new();
    for role in [Role::Technician, Role::Apprentice] {
        let refused = w.block_on(
            w.portico
                .invite_to_portal(&w.org, &staff_id(role), &w.client),
        );
        assert!(matches!(refused, Err(PortalError::Actor(_))), "{role}");
    }
    let mut silent = fixtures::client(&w.org, "c-no-mail");
    silent.email = None;
    w.block_on(w.portico.put_client(&silent)).unwrap();
    let refused = w.block_on(w.portico.invite_to_portal(&w.org, &owner(), &silent.id));
    assert!(matches!(refused, Err(PortalError::NoEmail)));
    let unknown = ClientId::new("nobody").unwrap();
    let refused = w.block_on(w.portico.invite_to_portal(&w.org, &owner(), &unknown));
    assert!(matches!(refused, Err(PortalError::NotFound)));
    assert_eq!(w.portal_mails(), 0);
}

#[test]
fn c3_only_an_invited_enabled_client_with_that_email_is_mailed_and_the_answer_never_differs() {
    let w = World::new();
    let ask = |address: &str| {
        w.block_on(
            w.portico
                .request_sign_in(&w.org, address, GrantPurpose::SignIn),
        )
    };
    // Not invited yet: nothing goes out, and the answer is the same.
    assert!(ask(email()).is_ok());
    assert!(ask("stranger@nowhere.example").is_ok());
    assert!(ask("not an email").is_ok());
    assert_eq!(w.portal_mails(), 0);
    w.invite();
    w.deliver();
    assert!(ask("  JORDAN@Client.Example ").is_ok());
    assert_eq!(w.portal_mails(), 2, "the invitation, then the sign-in link");
    w.block_on(
        w.portico
            .set_portal_login(&w.org, &owner(), &w.client, false),
    )
    .unwrap();
    assert!(ask(email()).is_ok());
    assert_eq!(w.portal_mails(), 2, "a disabled login is not mailed");
}

#[test]
fn c3_opening_a_link_changes_nothing_and_it_signs_in_once() {
    let w = World::new();
    w.invite();
    w.deliver();
    w.ask(GrantPurpose::SignIn);
    let token = w.mailed_token();
    for _ in 0..5 {
        let look = w.block_on(w.portico.peek_grant(&w.org, &token)).unwrap();
        assert!(matches!(
            look,
            GrantLook::Usable {
                purpose: GrantPurpose::SignIn,
                ..
            }
        ));
    }
    let signed = w.block_on(w.portico.use_grant(&w.org, &token, None));
    assert!(signed.is_ok());
    let again = w.block_on(w.portico.use_grant(&w.org, &token, None));
    assert!(matches!(again, Err(PortalError::LinkSpent)));
    let look = w.block_on(w.portico.peek_grant(&w.org, &token)).unwrap();
    assert!(matches!(look, GrantLook::Spent { .. }));
    let other_org = OrgId::new("org-other").unwrap();
    let look = w
        .block_on(w.portico.peek_grant(&other_org, &token))
        .unwrap();
    assert_eq!(
        look,
        GrantLook::NotFound,
        "a link belongs to its org's portal"
    );
}

#[test]
fn c3_a_link_expires_after_fifteen_minutes_and_a_newer_one_replaces_it() {
    let w = World::new();
    w.invite();
    let invite_token = w.mailed_token();
    w.ask(GrantPurpose::SignIn);
    let first = w.mailed_token();
    let replaced = w.block_on(w.portico.use_grant(&w.org, &invite_token, None));
    assert!(
        matches!(replaced, Err(PortalError::LinkSpent)),
        "the invitation's link was replaced by the newer sign-in link"
    );
    w.clock.advance(Duration::minutes(15));
    let late = w.block_on(w.portico.use_grant(&w.org, &first, None));
    assert!(matches!(late, Err(PortalError::LinkSpent)));
    w.ask(GrantPurpose::SignIn);
    let second = w.mailed_token();
    w.clock
        .advance(Duration::minutes(15) - Duration::seconds(1));
    assert!(
        w.block_on(w.portico.use_grant(&w.org, &second, None))
            .is_ok()
    );
}

#[test]
fn c3_the_code_signs_in_once_and_wrong_codes_wear_the_link_out() {
    let w = World::new();
    w.invite();
    w.deliver();
    w.ask(GrantPurpose::SignIn);
    let code = w.mailed_code();
    let with = |c: &str| w.block_on(w.portico.sign_in_with_code(&w.org, email(), c));
    assert!(matches!(with("00000000x"), Err(PortalError::Refused)));
    let spaced = format!("{} {}", &code[..4], &code[4..]);
    assert!(with(&spaced).is_ok(), "spaces in a typed code are ignored");
    assert!(
        matches!(with(&code), Err(PortalError::Refused)),
        "once only"
    );

    w.ask(GrantPurpose::SignIn);
    let code = w.mailed_code();
    let wrong = if code == "11111111" {
        "22222222"
    } else {
        "11111111"
    };
    for _ in 0..5 {
        assert!(matches!(with(wrong), Err(PortalError::Refused)));
    }
    assert!(
        matches!(with(&code), Err(PortalError::Refused)),
        "five wrong codes end the grant"
    );
}

#[test]
fn c3_sign_in_mails_are_limited_per_email_per_hour() {
    let w = World::new();
    w.invite();
    for _ in 0..8 {
        w.ask(GrantPurpose::SignIn);
    }
    assert_eq!(
        w.portal_mails(),
        1 + 5,
        "the invitation and five sign-in mails"
    );
    w.clock.advance(Duration::hours(1));
    w.ask(GrantPurpose::SignIn);
    assert_eq!(w.portal_mails(), 6, "the hour is not over yet");
    w.clock.advance(Duration::seconds(1));
    w.ask(GrantPurpose::SignIn);
    assert_eq!(w.portal_mails(), 7, "past the hour another may go");
}

#[test]
fn c3_a_sign_in_mail_whose_link_was_used_before_it_left_is_dropped() {
    let w = World::new();
    w.invite();
    w.deliver();
    w.ask(GrantPurpose::SignIn);
    // A second request replaces the first link before the first mail leaves.
    w.ask(GrantPurpose::SignIn);
    let sent = w.deliver();
    assert_eq!(sent.len(), 1, "only the newest link goes out");
}

#[test]
fn c3_a_sign_in_mail_goes_only_to_the_address_still_on_file() {
    let w = World::new();
    w.invite();
    w.deliver();
    w.ask(GrantPurpose::SignIn);
    let mut moved = fixtures::client(&w.org, "c1");
    moved.email = Some(portico_core::model::Email::parse("new@client.example").unwrap());
    w.block_on(w.portico.put_client(&moved)).unwrap();
    assert!(
        w.deliver().is_empty(),
        "the business replaced the address: the old one gets no link"
    );
}

#[test]
fn c4_a_password_is_set_once_signed_in_then_signs_in_and_wrong_ones_slow_down_without_lockout() {
    let w = World::new();
    w.invite();
    let token = w.mailed_token();
    let signed = w
        .block_on(w.portico.use_grant(&w.org, &token, None))
        .unwrap();
    let set = |current: Option<&str>, new: &str| {
        w.block_on(
            w.portico
                .set_portal_password(&w.org, signed.session.expose(), current, new),
        )
    };
    assert!(matches!(set(None, "short"), Err(PortalError::Password(_))));
    assert!(matches!(set(None, email()), Err(PortalError::Password(_))));
    set(None, "correct horse battery").unwrap();
    assert!(
        matches!(set(None, "another long one"), Err(PortalError::Refused)),
        "a change needs the current password"
    );
    let with = |password: &str| {
        w.block_on(
            w.portico
                .sign_in_with_password(&w.org, "Jordan@client.example", password),
        )
    };
    assert!(with("correct horse battery").is_ok());
    for _ in 0..3 {
        assert!(matches!(with("wrong password!"), Err(PortalError::Refused)));
    }
    assert!(
        matches!(with("correct horse battery"), Err(PortalError::Refused)),
        "after three wrong passwords the next try must wait, refused like a wrong one"
    );
    w.clock.advance(Duration::milliseconds(999));
    assert!(
        matches!(with("correct horse battery"), Err(PortalError::Refused)),
        "the first wait is one second, and tries during it do not lengthen it"
    );
    w.clock.advance(Duration::milliseconds(1));
    assert!(
        with("correct horse battery").is_ok(),
        "after the wait the right password works: no lock-out"
    );
    let unknown = w.block_on(w.portico.sign_in_with_password(
        &w.org,
        "stranger@nowhere.example",
        "correct horse battery",
    ));
    assert!(matches!(unknown, Err(PortalError::Refused)));
}

#[test]
fn c4_a_reset_sets_the_password_ends_every_session_and_mails_a_notice() {
    let w = World::new();
    w.invite();
    w.deliver();
    let phone = w.sign_in();
    let laptop = w.sign_in();
    w.ask(GrantPurpose::Reset);
    let token = w.mailed_token();
    let look = w.block_on(w.portico.peek_grant(&w.org, &token)).unwrap();
    assert!(matches!(
        look,
        GrantLook::Usable {
            purpose: GrantPurpose::Reset,
            ..
        }
    ));
    let needs = w.block_on(w.portico.use_grant(&w.org, &token, None));
    assert!(matches!(needs, Err(PortalError::PasswordNeeded)));
    let fresh = w
        .block_on(
            w.portico
                .use_grant(&w.org, &token, Some("a brand new passphrase")),
        )
        .unwrap();
    assert!(w.home(&fresh).is_ok());
    for old in [&phone, &laptop] {
        assert!(matches!(w.home(old), Err(PortalError::NotSignedIn)));
    }
    let last = w.outbox().pop().unwrap();
    assert!(matches!(
        last.kind,
        NotificationKind::PasswordChanged { .. }
    ));
    assert!(
        w.block_on(
            w.portico
                .sign_in_with_password(&w.org, email(), "a brand new passphrase")
        )
        .is_ok()
    );
}

#[test]
fn c4_only_a_reset_link_sets_a_password() {
    let w = World::new();
    w.invite();
    let token = w.mailed_token();
    let signed = w
        .block_on(
            w.portico
                .use_grant(&w.org, &token, Some("a password by the back door")),
        )
        .unwrap();
    assert!(!w.home(&signed).unwrap().has_password);
    let none = w.block_on(w.portico.sign_in_with_password(
        &w.org,
        email(),
        "a password by the back door",
    ));
    assert!(matches!(none, Err(PortalError::Refused)));
}

#[test]
fn c4_changing_the_password_ends_every_other_session_but_this_one() {
    let w = World::new();
    w.invite();
    w.deliver();
    let phone = w.sign_in();
    let laptop = w.sign_in();
    w.block_on(w.portico.set_portal_password(
        &w.org,
        laptop.session.expose(),
        None,
        "correct horse battery",
    ))
    .unwrap();
    assert!(w.home(&laptop).is_ok());
    assert!(matches!(w.home(&phone), Err(PortalError::NotSignedIn)));
}

#[test]
fn c5_a_session_ends_when_idle_when_too_old_and_on_sign_out() {
    let w = World::new();
    w.invite();
    w.deliver();
    let idle = w.sign_in();
    w.clock.advance(Duration::minutes(29));
    assert!(w.home(&idle).is_ok(), "used within the idle timeout");
    w.clock.advance(Duration::minutes(29));
    assert!(w.home(&idle).is_ok(), "each use moves the idle clock");
    w.clock.advance(Duration::minutes(30));
    assert!(matches!(w.home(&idle), Err(PortalError::NotSignedIn)));

    let busy = w.sign_in();
    for _ in 0..(12 * 3 - 1) {
        w.clock.advance(Duration::minutes(20));
        assert!(w.home(&busy).is_ok());
    }
    w.clock.advance(Duration::minutes(20));
    assert!(
        matches!(w.home(&busy), Err(PortalError::NotSignedIn)),
        "twelve hours after sign-in, however busy"
    );

    let out = w.sign_in();
    w.block_on(w.portico.sign_out(&w.org, out.session.expose()))
        .unwrap();
    assert!(matches!(w.home(&out), Err(PortalError::NotSignedIn)));
    assert!(matches!(
        w.block_on(w.portico.portal_home(&w.org, "forged", Paging::default())),
        Err(PortalError::NotSignedIn)
    ));
}

#[test]
fn c2_disabling_a_client_ends_their_session_at_once_and_enabling_does_not_revive_it() {
    let w = World::new();
    w.invite();
    w.deliver();
    let signed = w.sign_in();
    let switch = |on| {
        w.block_on(w.portico.set_portal_login(&w.org, &owner(), &w.client, on))
            .unwrap()
    };
    assert!(!switch(false).enabled);
    assert!(matches!(w.home(&signed), Err(PortalError::NotSignedIn)));
    assert!(switch(true).enabled);
    assert!(matches!(w.home(&signed), Err(PortalError::NotSignedIn)));
    assert!(w.home(&w.sign_in()).is_ok(), "signing in again works");
}

#[test]
fn c8_switching_the_portal_off_ends_sessions_and_sign_in_keeps_data_and_on_restores_it() {
    let w = World::new();
    w.invite();
    w.deliver();
    let signed = w.sign_in();
    w.put_org(|o| o.settings.portal.enabled = false);
    assert!(matches!(w.home(&signed), Err(PortalError::NotSignedIn)));
    w.ask(GrantPurpose::SignIn);
    assert!(w.deliver().is_empty(), "nobody is mailed a link while off");
    let entry = w.block_on(w.portico.portal_entry(&w.org)).unwrap().unwrap();
    assert!(!entry.enabled);
    w.put_org(|o| o.settings.portal.enabled = true);
    assert!(matches!(w.home(&signed), Err(PortalError::NotSignedIn)));
    let again = w.sign_in();
    assert_eq!(w.home(&again).unwrap().invoices.total, 1, "the data stayed");
}

#[test]
fn c1_hidden_sections_hide_their_lists_and_records_and_invoices_always_show() {
    let w = World::new();
    w.invite();
    w.deliver();
    let signed = w.sign_in();
    let home = w.home(&signed).unwrap();
    assert_eq!(
        (
            home.invoices.total,
            home.estimates.as_ref().map(|l| l.total),
            home.jobs.as_ref().map(|l| l.total)
        ),
        (1, Some(1), Some(1))
    );
    w.put_org(|o| {
        o.settings.portal.sections = vec![PortalSection::Messages];
        o.settings.portal.welcome = Some("  Welcome to Bright Spark!  ".into());
    });
    let signed = w.sign_in();
    let home = w.home(&signed).unwrap();
    assert_eq!(home.welcome.as_deref(), Some("Welcome to Bright Spark!"));
    assert_eq!(home.invoices.total, 1, "invoices cannot be hidden");
    assert!(home.estimates.is_none() && home.jobs.is_none());
    for hidden in [&w.quote, &w.wo] {
        let view = w.block_on(
            w.portico
                .portal_record(&w.org, signed.session.expose(), hidden),
        );
        assert_eq!(view.unwrap(), None, "{hidden}");
    }
    let invoice = w.block_on(
        w.portico
            .portal_record(&w.org, signed.session.expose(), &w.invoice),
    );
    assert!(invoice.unwrap().is_some());
}

#[test]
fn c7_drafts_are_never_listed_void_invoices_are_marked_and_open_ones_come_first() {
    let w = World::new();
    let mut draft_quote = fixtures::quote(&w.org, "q-draft", Some(&w.client));
    draft_quote.status = QuoteStatus::Draft;
    let mut draft_invoice = fixtures::invoice(&w.org, "inv-draft", Some(&w.client), None);
    draft_invoice.status = InvoiceStatus::Draft;
    let mut void = fixtures::invoice(&w.org, "inv-void", Some(&w.client), None);
    void.status = InvoiceStatus::Void;
    let mut paid = fixtures::invoice(&w.org, "inv-paid", Some(&w.client), None);
    paid.amount_paid = rust_decimal::Decimal::from(1_000_000);
    let mut done = fixtures::work_order(&w.org, "wo-done", Some(&w.client), None);
    done.status = WorkStatus::Completed;
    for record in [
        Record::Quote(draft_quote),
        Record::Invoice(draft_invoice),
        Record::Invoice(void),
        Record::Invoice(paid),
        Record::WorkOrder(done),
    ] {
        w.block_on(w.portico.upsert_record(&owner(), &record))
            .unwrap();
    }
    w.invite();
    w.deliver();
    let home = w.home(&w.sign_in()).unwrap();
    let ids = |list: &portico_core::service::PortalList| {
        list.items
            .iter()
            .map(|i| (i.reference.id.to_string(), i.status.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(&home.invoices),
        [
            ("inv1".to_owned(), "partially_paid".to_owned()),
            ("inv-paid".to_owned(), "paid".to_owned()),
            ("inv-void".to_owned(), "void".to_owned()),
        ]
    );
    assert_eq!(
        ids(home.estimates.as_ref().unwrap()),
        [("q1".to_owned(), "awaiting_decision".to_owned())]
    );
    assert_eq!(
        ids(home.jobs.as_ref().unwrap()),
        [
            ("wo1".to_owned(), "scheduled".to_owned()),
            ("wo-done".to_owned(), "completed".to_owned()),
        ]
    );
}

#[test]
fn c7_lists_are_paginated() {
    let w = World::new();
    for i in 0..120 {
        let invoice = fixtures::invoice(&w.org, &format!("inv-{i:03}"), Some(&w.client), None);
        w.block_on(w.portico.upsert_record(&owner(), &Record::Invoice(invoice)))
            .unwrap();
    }
    w.invite();
    w.deliver();
    let signed = w.sign_in();
    let page = |n| {
        w.block_on(w.portico.portal_home(
            &w.org,
            signed.session.expose(),
            Paging {
                page: n,
                per_page: 50,
            },
        ))
        .unwrap()
        .invoices
    };
    let (first, third, past) = (page(1), page(3), page(4));
    assert_eq!((first.total, first.items.len()), (121, 50));
    assert_eq!(third.items.len(), 21);
    assert!(past.items.is_empty());
}

#[test]
fn c7_a_quote_decided_in_the_portal_locks_it_is_audited_and_tells_the_business() {
    let w = World::new();
    w.invite();
    w.deliver();
    let signed = w.sign_in();
    let view = w
        .block_on(w.portico.portal_decide_quote(
            &w.org,
            signed.session.expose(),
            &w.quote.id,
            &ClientDecision::Approve,
        ))
        .unwrap();
    assert_eq!(view.status, "approved");
    let again = w.block_on(w.portico.portal_decide_quote(
        &w.org,
        signed.session.expose(),
        &w.quote.id,
        &ClientDecision::Decline { message: None },
    ));
    assert!(matches!(again, Err(PortalError::Decision(_))));
    let told = w.outbox().pop().unwrap();
    assert!(matches!(told.kind, NotificationKind::QuoteDecided { .. }));
    assert_eq!(told.to.as_str(), "office@brightspark.example");
    let audit = w.block_on(w.portico.audit_log(&w.org, &w.quote)).unwrap();
    assert!(audit.iter().any(|e| e.share_id.is_none()));
}

/// How a generated record is placed.
#[derive(Debug, Clone)]
struct Placed {
    org: usize,
    client: Option<usize>,
    kind: RecordKind,
    draft: bool,
}

fn placed() -> impl Strategy<Value = Placed> {
    (
        0..2usize,
        proptest::option::of(0..2usize),
        prop_oneof![
            Just(RecordKind::WorkOrder),
            Just(RecordKind::Quote),
            Just(RecordKind::Invoice)
        ],
        any::<bool>(),
    )
        .prop_map(|(org, client, kind, draft)| Placed {
            org,
            client,
            kind,
            draft,
        })
}

fn build(org: &OrgId, id: &str, client: Option<&ClientId>, p: &Placed) -> Record {
    match p.kind {
        RecordKind::WorkOrder => Record::WorkOrder(fixtures::work_order(org, id, client, None)),
        RecordKind::Quote => {
            let mut q = fixtures::quote(org, id, client);
            if p.draft {
                q.status = QuoteStatus::Draft;
            }
            Record::Quote(q)
        }
        RecordKind::Invoice => {
            let mut i = fixtures::invoice(org, id, client, None);
            if p.draft {
                i.status = InvoiceStatus::Draft;
            }
            Record::Invoice(i)
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// C6: for arbitrary orgs, clients and records, a session of client A in org 1 yields a view,
    /// file or decision only on A's own issued records of org 1 — never anything of client B,
    /// of no client, or of another org, through either org's portal.
    #[test]
    fn c6_a_session_never_reaches_another_clients_or_another_orgs_records(
        records in proptest::collection::vec(placed(), 1..12)
    ) {
        let w = World::new();
        let org2 = fixtures::org("org2");
        let orgs = [w.org.clone(), org2.id.clone()];
        let clients = [w.client.clone(), ClientId::new("c2").unwrap()];
        let mut refs = Vec::new();
        w.block_on(async {
            w.portico.put_org(&org2).await.unwrap();
            w.portico.put_staff(&fixtures::staff(&org2.id, "owner", Role::Owner)).await.unwrap();
            for org in &orgs {
                for client in &clients {
                    // Every client of both orgs has the same email, to tempt a mix-up.
                    w.portico.put_client(&fixtures::client(org, client.as_str())).await.unwrap();
                }
            }
            for (i, p) in records.iter().enumerate() {
                let org = &orgs[p.org];
                let client = p.client.map(|c| &clients[c]);
                let record = build(org, &format!("r{i}"), client, p);
                w.portico.upsert_record(&owner(), &record).await.unwrap();
                refs.push((p.clone(), RecordRef { kind: p.kind, id: record.id().clone() }));
            }
        });
        w.invite();
        w.deliver();
        let signed = w.sign_in();
        let session = signed.session.expose();
        let home = w.home(&signed).unwrap();
        let listed: Vec<_> = std::iter::once(&home.invoices)
            .chain(home.estimates.iter())
            .chain(home.jobs.iter())
            .flat_map(|l| l.items.iter().map(|i| i.reference.clone()))
            .collect();
        for (p, reference) in &refs {
            let own = p.org == 0
                && p.client == Some(0)
                && (!p.draft || p.kind == RecordKind::WorkOrder);
            for (o, org) in orgs.iter().enumerate() {
                let view = w.block_on(w.portico.portal_record(org, session, reference));
                let file = w.block_on(w.portico.portal_file(
                    org, session, reference, &portico_core::model::FileId::new("logo").unwrap(),
                ));
                if o == 0 {
                    prop_assert_eq!(view.unwrap().is_some(), own, "{:?}", p);
                    prop_assert_eq!(listed.contains(reference), own, "{:?}", p);
                    if !own {
                        prop_assert!(file.unwrap().is_none());
                    }
                } else {
                    prop_assert!(matches!(view, Err(PortalError::NotFound)));
                    prop_assert!(matches!(file, Err(PortalError::NotFound)));
                }
            }
            if p.kind == RecordKind::Quote && !own {
                let decided = w.block_on(w.portico.portal_decide_quote(
                    &orgs[0], session, &reference.id, &ClientDecision::Approve,
                ));
                prop_assert!(matches!(decided, Err(PortalError::NotFound)), "{:?}", decided);
            }
        }
        // And the fixture's own records of client A are reachable.
        prop_assert!(listed.contains(&w.invoice));
    }

    /// C5: a session is live exactly while it was not ended, was used within the idle timeout,
    /// and is younger than the absolute timeout (with the portal on and the login enabled).
    #[test]
    fn c5_session_state_follows_both_timeouts(
        age_min in 0i64..1000, idle_min in 0i64..100, ended in any::<bool>(),
        portal_on in any::<bool>(), enabled in any::<bool>(),
    ) {
        use portico_core::policy::portal::{PortalConfig, SessionState, session_state};
        let config = PortalConfig::default();
        let mut org = fixtures::org("org1");
        org.settings.portal.enabled = portal_on;
        let now = fixtures::T0 + Duration::days(1);
        let client = ClientId::new("c1").unwrap();
        let session = portico_core::model::PortalSession {
            hash: portico_core::model::SessionHash([1; 32]),
            org_id: org.id.clone(),
            client_id: client.clone(),
            created_at: now - Duration::minutes(age_min),
            last_seen_at: now - Duration::minutes(idle_min.min(age_min)),
            ended_at: ended.then_some(now),
        };
        let mut account = portico_core::model::PortalAccount::new(org.id.clone(), client);
        account.invited_at = Some(fixtures::T0);
        account.enabled = enabled;
        let live = matches!(
            session_state(&session, &org, Some(&account), now, &config),
            SessionState::Live { .. }
        );
        let expected = !ended && portal_on && enabled
            && age_min < 12 * 60 && idle_min.min(age_min) < 30;
        prop_assert_eq!(live, expected);
    }
}

#[test]
fn c5_a_session_id_is_fresh_at_every_sign_in_and_stored_only_as_a_hash() {
    let w = World::new();
    w.invite();
    w.deliver();
    let a = w.sign_in();
    let b = w.sign_in();
    assert_ne!(a.session, b.session);
    assert_eq!(a.session.expose().len(), 43, "256 bits, URL-safe");
    w.block_on(async {
        let mut tx = portico_core::ports::Store::begin(&w.store).await.unwrap();
        let stored = tx.portal_session(&a.session.hash()).await.unwrap().unwrap();
        assert_eq!(stored.client_id, w.client);
        assert!(!format!("{stored:?}").contains(a.session.expose()));
    });
}

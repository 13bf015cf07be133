//! The pure policy as tables: one `check(row, input, expect)` line per case, each naming what it
//! pins. The properties in `spec.rs` say what holds for every input; these rows fix the
//! boundaries and try each condition on its own, so a condition turned around or dropped fails
//! a row that says which.

// Reason: a row reads best as values (`Ok(..)`, `Some(..)`), which the checks only compare.
#![allow(clippy::needless_pass_by_value)]

use rust_decimal::Decimal;
use time::macros::date;
use time::{Duration, OffsetDateTime};

use portico_core::model::Role;
use portico_core::model::{
    Attachment, Client, Currency, DecisionKind, Email, Invoice, InvoiceStatus, LinkReason,
    NotificationKind, Org, Plan, Quote, QuoteDecision, QuoteStatus, Record, Section, Sections,
    Share, ShareState, Signature, Task, TaxRate, Update, WorkOrder, WorkStatus,
};
use portico_core::policy::access::{
    Access, ShareDenied, SharingBlocked, access, share_preconditions,
};
use portico_core::policy::expiry::{HOST_CLOCK_SKEW, InFuture, expiry, stamp_transitions};
use portico_core::policy::notify::{Stale, at_send_time, client_events};
use portico_core::policy::permissions::{can_manage_org, can_share, changes_what_clients_see};
use portico_core::policy::project::due;
use portico_core::policy::prompt::{SharePrompt, changed_sections, share_prompt};
use portico_core::policy::quote::{
    ClientDecision, DecisionDenied, MAX_MESSAGE_CHARS, QuoteLocked, decidable, decide, revise,
};
use portico_core::policy::retry::{self, Backoff, Next};
use portico_core::testing::fixtures::{self, T0};
use portico_core::view::Due;

/// The moment every row is judged at.
const NOW: OffsetDateTime = T0;

fn org() -> Org {
    fixtures::org("o1")
}

fn org_with(edit: impl FnOnce(&mut Org)) -> Org {
    let mut org = org();
    edit(&mut org);
    org
}

fn client() -> Client {
    fixtures::client(&org().id, "c1")
}

fn work_order() -> WorkOrder {
    let o = org();
    let c = client();
    fixtures::work_order(&o.id, "wo1", Some(&c.id), None)
}

fn edited(edit: impl FnOnce(&mut WorkOrder)) -> WorkOrder {
    let mut wo = work_order();
    edit(&mut wo);
    wo
}

fn share_with(edit: impl FnOnce(&mut Share)) -> Share {
    let wo = Record::WorkOrder(work_order());
    let mut share = fixtures::share(&org().id, wo.reference());
    edit(&mut share);
    share
}

fn revoked_at(at: OffsetDateTime) -> ShareState {
    ShareState::Revoked {
        at,
        by: fixtures::staff(&org().id, "owner", Role::Owner).id,
    }
}

// ---------------------------------------------------------------------------------------------
// S5, S7, S8: what opening a link gets

fn check_access(row: &str, share: Option<Share>, org: &Org, expect: Access) {
    assert_eq!(access(share.as_ref(), org, NOW), expect, "row: {row}");
}

#[test]
fn s5_s7_s8_what_opening_a_link_gets_table() {
    let on = org();
    let second = Duration::seconds(1);
    check_access("no share: unknown token", None, &on, Access::NotFound);
    check_access(
        "active, no expiry",
        Some(share_with(|_| {})),
        &on,
        Access::Granted,
    );
    check_access(
        "active, expires a second from now",
        Some(share_with(|s| s.expires_at = Some(NOW + second))),
        &on,
        Access::Granted,
    );
    check_access(
        "active, expires this very moment",
        Some(share_with(|s| s.expires_at = Some(NOW))),
        &on,
        Access::Expired,
    );
    check_access(
        "revoked while it still worked",
        Some(share_with(|s| s.state = revoked_at(NOW - second))),
        &on,
        Access::NotFound,
    );
    check_access(
        "revoked a second before the expiry that has since passed",
        Some(share_with(|s| {
            s.expires_at = Some(NOW - second);
            s.state = revoked_at(NOW - second * 2);
        })),
        &on,
        Access::NotFound,
    );
    check_access(
        "closed at the moment it expired (sharing again after expiry)",
        Some(share_with(|s| {
            s.expires_at = Some(NOW - second);
            s.state = revoked_at(NOW - second);
        })),
        &on,
        Access::Expired,
    );
    let off = org_with(|o| o.settings.client_sharing = false);
    check_access(
        "sharing switched off",
        Some(share_with(|_| {})),
        &off,
        Access::Unavailable,
    );
    let lapsed = org_with(|o| o.plan = Plan::Pro);
    check_access(
        "plan without sharing",
        Some(share_with(|_| {})),
        &lapsed,
        Access::Unavailable,
    );
    check_access(
        "switched off and revoked: unknown tells nothing about the org",
        Some(share_with(|s| s.state = revoked_at(NOW - second))),
        &off,
        Access::NotFound,
    );
    check_access(
        "switched off and expired: unavailable comes first",
        Some(share_with(|s| s.expires_at = Some(NOW - second))),
        &off,
        Access::Unavailable,
    );
}

// ---------------------------------------------------------------------------------------------
// S2: what sharing a record needs

fn check_share(
    row: &str,
    org: &Org,
    record: &Record,
    client: Option<&Client>,
    requested: Option<&str>,
    expect: Result<&str, ShareDenied>,
) {
    let got = share_preconditions(org, record, client, requested);
    let expect = expect.map(|raw| Email::parse(raw).expect("the row's email is valid"));
    assert_eq!(got, expect, "row: {row}");
}

#[test]
fn s2_what_sharing_a_record_needs_table() {
    let (on, c) = (org(), client());
    let wo = Record::WorkOrder(work_order());
    let on_file = "jordan@client.example";
    check_share(
        "recipient from the client's file",
        &on,
        &wo,
        Some(&c),
        None,
        Ok(on_file),
    );
    check_share(
        "recipient given",
        &on,
        &wo,
        Some(&c),
        Some("pat@x.example"),
        Ok("pat@x.example"),
    );
    let bad = Email::parse("not an email").expect_err("invalid");
    check_share(
        "recipient not an email",
        &on,
        &wo,
        Some(&c),
        Some("not an email"),
        Err(bad.into()),
    );
    let unattached = Record::WorkOrder(edited(|w| w.client_id = None));
    check_share(
        "no client on the record",
        &on,
        &unattached,
        Some(&c),
        None,
        Err(ShareDenied::NoClient),
    );
    check_share(
        "the client is not found",
        &on,
        &wo,
        None,
        None,
        Err(ShareDenied::NoClient),
    );
    let other = fixtures::client(&on.id, "c2");
    check_share(
        "the client found is not the record's",
        &on,
        &wo,
        Some(&other),
        None,
        Err(ShareDenied::NoClient),
    );
    let no_email = Client {
        email: None,
        ..c.clone()
    };
    check_share(
        "no email on file",
        &on,
        &wo,
        Some(&no_email),
        None,
        Err(ShareDenied::NoRecipient),
    );
    check_share(
        "no email on file, one given",
        &on,
        &wo,
        Some(&no_email),
        Some(on_file),
        Ok(on_file),
    );
    let off = org_with(|o| o.settings.client_sharing = false);
    check_share(
        "sharing off",
        &off,
        &wo,
        Some(&c),
        None,
        Err(SharingBlocked::SwitchedOff.into()),
    );
    let starter = org_with(|o| o.plan = Plan::Starter);
    let needs = SharingBlocked::PlanRequired {
        plan: Plan::Starter,
        required: Plan::Business,
    };
    check_share(
        "plan without sharing",
        &starter,
        &wo,
        Some(&c),
        None,
        Err(needs.into()),
    );
}

// ---------------------------------------------------------------------------------------------
// N2, N3: which host changes mail the client

fn check_events(
    row: &str,
    old: &Record,
    new: &Record,
    sections: Sections,
    expect: &[NotificationKind],
) {
    assert_eq!(client_events(old, new, sections), expect, "row: {row}");
}

fn status(from: &str, to: &str) -> NotificationKind {
    NotificationKind::StatusChanged {
        from: from.into(),
        to: to.into(),
    }
}

fn ticked(title: &str, id: &str) -> NotificationKind {
    NotificationKind::TasksCompleted {
        tasks: vec![title.into()],
        task_ids: vec![fixtures::task_id(id)],
    }
}

fn shared(body: &str, id: &str) -> NotificationKind {
    NotificationKind::UpdatesShared {
        updates: vec![body.into()],
        update_ids: vec![fixtures::update_id(id)],
    }
}

/// A row whose `old` is the fixture work order and whose `new` is it after `edit`.
fn check_edit(
    row: &str,
    edit: fn(&mut WorkOrder),
    sections: Sections,
    expect: &[NotificationKind],
) {
    let old = Record::WorkOrder(work_order());
    check_events(
        row,
        &old,
        &Record::WorkOrder(edited(edit)),
        sections,
        expect,
    );
}

#[test]
fn n2_which_status_and_checklist_changes_mail_the_client_table() {
    let all = Sections::ALL;
    let started = [status("scheduled", "in_progress")];
    check_edit("nothing changed", |_| {}, all, &[]);
    check_edit(
        "status",
        |w| w.status = WorkStatus::InProgress,
        all,
        &started,
    );
    check_edit(
        "status, every section hidden",
        |w| w.status = WorkStatus::InProgress,
        Sections::NONE,
        &started,
    );
    let tick: fn(&mut WorkOrder) = |w| w.tasks[0].done = true;
    check_edit(
        "a visible task ticked",
        tick,
        all,
        &[ticked("Isolate circuit", "t1")],
    );
    check_edit(
        "a task ticked, checklist hidden",
        tick,
        all.with(Section::Checklist, false),
        &[],
    );
    check_edit(
        "an internal task ticked",
        |w| w.tasks[1].done = true,
        all,
        &[],
    );
    let (old, ticked_wo) = (
        Record::WorkOrder(work_order()),
        Record::WorkOrder(edited(tick)),
    );
    check_events("a done task stays done", &ticked_wo, &ticked_wo, all, &[]);
    check_events("a task un-ticked", &ticked_wo, &old, all, &[]);
    let add_done: fn(&mut WorkOrder) = |w| {
        let (id, title) = (fixtures::task_id("t9"), "Test RCD".into());
        w.tasks.push(Task {
            id,
            title,
            done: true,
            internal: false,
        });
    };
    check_edit(
        "a task added already done",
        add_done,
        all,
        &[ticked("Test RCD", "t9")],
    );
    let internal: fn(&mut WorkOrder) = |w| {
        w.internal_notes = "New gate code".into();
        w.time_entries.clear();
        w.costs.clear();
        w.description = "Another scope".into();
        w.files[1].shared = true;
    };
    check_edit(
        "internal fields, scope and a photo shared",
        internal,
        all,
        &[],
    );
}

#[test]
fn n3_which_updates_mail_the_client_table() {
    let all = Sections::ALL;
    let share_u2: fn(&mut WorkOrder) = |w| w.updates[1].shared = true;
    let u2 = shared("Customer's dog is unfriendly.", "u2");
    check_edit("an update shared", share_u2, all, std::slice::from_ref(&u2));
    check_edit(
        "an update shared, updates hidden",
        share_u2,
        all.with(Section::Updates, false),
        &[],
    );
    check_edit(
        "a shared update edited",
        |w| w.updates[0].body = "Running late.".into(),
        all,
        &[],
    );
    check_edit(
        "an update unshared",
        |w| w.updates[0].shared = false,
        all,
        &[],
    );
    let post: fn(&mut WorkOrder) = |w| {
        let (id, body) = (fixtures::update_id("u9"), "On our way.".into());
        w.updates.push(Update {
            id,
            author: None,
            posted_at: T0,
            body,
            shared: true,
        });
    };
    check_edit(
        "a shared update posted",
        post,
        all,
        &[shared("On our way.", "u9")],
    );
    let everything: fn(&mut WorkOrder) = |w| {
        w.status = WorkStatus::InProgress;
        w.tasks[0].done = true;
        w.updates[1].shared = true;
    };
    let expect = [
        status("scheduled", "in_progress"),
        ticked("Isolate circuit", "t1"),
        u2,
    ];
    check_edit(
        "status, task and update at once, in that order",
        everything,
        all,
        &expect,
    );
}

#[test]
fn n2_which_quote_and_invoice_changes_mail_the_client_table() {
    let all = Sections::ALL;
    let o = org();
    let q = fixtures::quote(&o.id, "q1", Some(&client().id));
    let quote = |edit: &dyn Fn(&mut Quote)| {
        let mut q = q.clone();
        edit(&mut q);
        Record::Quote(q)
    };
    let decided = quote(&|q| {
        q.decision = Some(QuoteDecision {
            kind: DecisionKind::Approved,
            message: None,
            at: NOW,
        });
    });
    check_events(
        "a quote approved",
        &quote(&|_| {}),
        &decided,
        all,
        &[status("awaiting_decision", "approved")],
    );
    let draft = quote(&|q| q.status = QuoteStatus::Draft);
    check_events(
        "a quote sent",
        &draft,
        &quote(&|_| {}),
        all,
        &[status("draft", "awaiting_decision")],
    );
    check_events(
        "a quote's lines changed",
        &quote(&|_| {}),
        &quote(&|q| q.items.truncate(1)),
        all,
        &[],
    );
    let inv = fixtures::invoice(&o.id, "i1", Some(&client().id), None);
    let invoice = |edit: &dyn Fn(&mut Invoice)| {
        let mut i = inv.clone();
        edit(&mut i);
        Record::Invoice(i)
    };
    let unpaid = invoice(&|i| i.amount_paid = Decimal::ZERO);
    check_events(
        "an invoice paid in part",
        &unpaid,
        &invoice(&|_| {}),
        all,
        &[status("unpaid", "partially_paid")],
    );
    let issued_draft = invoice(&|i| {
        i.status = InvoiceStatus::Draft;
        i.amount_paid = Decimal::ZERO;
    });
    check_events(
        "an invoice issued",
        &issued_draft,
        &unpaid,
        all,
        &[status("draft", "unpaid")],
    );
    check_events(
        "an invoice's due date moved",
        &unpaid,
        &invoice(&|i| {
            i.amount_paid = Decimal::ZERO;
            i.due_date = Some(date!(2026 - 05 - 01));
        }),
        all,
        &[],
    );
}

// ---------------------------------------------------------------------------------------------
// P1: which sections a work-order change touches, and when staff are asked to share

fn check_sections(row: &str, new: &WorkOrder, expect: &[Section]) {
    assert_eq!(changed_sections(&work_order(), new), expect, "row: {row}");
}

#[test]
fn p1_which_sections_a_work_order_change_touches_table() {
    check_sections("nothing", &work_order(), &[]);
    let c2 = fixtures::client(&org().id, "c2").id;
    check_sections(
        "another client",
        &edited(|w| w.client_id = Some(c2)),
        &[Section::ClientInfo],
    );
    check_sections(
        "description",
        &edited(|w| w.description.push('!')),
        &[Section::Scope],
    );
    check_sections(
        "visit moved",
        &edited(|w| w.schedule.start = Some(NOW)),
        &[Section::Schedule],
    );
    check_sections(
        "a visible task ticked",
        &edited(|w| w.tasks[0].done = true),
        &[Section::Checklist],
    );
    check_sections(
        "a visible task renamed",
        &edited(|w| w.tasks[0].title.push('!')),
        &[Section::Checklist],
    );
    check_sections(
        "an internal task ticked",
        &edited(|w| w.tasks[1].done = true),
        &[],
    );
    check_sections(
        "a shared photo's caption",
        &edited(|w| w.files[0].caption = None),
        &[Section::PhotosFiles],
    );
    check_sections(
        "an internal photo's caption",
        &edited(|w| w.files[1].caption = Some("x".into())),
        &[],
    );
    check_sections(
        "a photo shared",
        &edited(|w| w.files[1].shared = true),
        &[Section::PhotosFiles],
    );
    check_sections(
        "a part's quantity",
        &edited(|w| w.parts[0].quantity += Decimal::ONE),
        &[Section::PartsUsed],
    );
    check_sections(
        "a part's cost",
        &edited(|w| w.parts[0].unit_cost = None),
        &[],
    );
    let signature = Signature {
        signed_by: "Jordan Lee".into(),
        signed_at: NOW,
        image: None,
    };
    check_sections(
        "signed",
        &edited(|w| w.signature = Some(signature)),
        &[Section::Signature],
    );
    check_sections(
        "a shared update edited",
        &edited(|w| w.updates[0].body.push('!')),
        &[Section::Updates],
    );
    check_sections(
        "an internal update edited",
        &edited(|w| w.updates[1].body.push('!')),
        &[],
    );
    check_sections(
        "status alone",
        &edited(|w| w.status = WorkStatus::Completed),
        &[],
    );
    let internal = edited(|w| {
        w.internal_notes.push('!');
        w.time_entries.clear();
        w.costs.clear();
        w.activity_log.clear();
    });
    check_sections("notes, hours, costs and log", &internal, &[]);
    check_sections(
        "two sections, in page order",
        &edited(|w| {
            w.updates[0].body.push('!');
            w.description.push('!');
        }),
        &[Section::Scope, Section::Updates],
    );
}

struct PromptCase<'a> {
    old: Option<&'a WorkOrder>,
    new: &'a WorkOrder,
    role: Role,
    org: &'a Org,
    active: Option<Sections>,
}

fn check_prompt(row: &str, case: &PromptCase<'_>, expect: Option<SharePrompt>) {
    let got = share_prompt(case.old, case.new, case.role, case.org, case.active);
    assert_eq!(got, expect, "row: {row}");
}

fn prompt(
    changed: &[Section],
    status_changed: bool,
    first_schedule: bool,
    share_active: bool,
) -> SharePrompt {
    SharePrompt {
        changed: changed.to_vec(),
        status_changed,
        first_schedule,
        share_active,
    }
}

#[test]
fn p1_when_staff_are_asked_to_share_table() {
    let (on, old) = (org(), work_order());
    let unscheduled = edited(|w| {
        w.schedule.start = None;
        w.schedule.end = None;
    });
    let started = edited(|w| w.status = WorkStatus::InProgress);
    let scoped = edited(|w| w.description.push('!'));
    let moved = edited(|w| w.schedule.start = Some(NOW));
    let noted = edited(|w| w.internal_notes.push('!'));
    let case = |old, new, active| PromptCase {
        old,
        new,
        role: Role::Owner,
        org: &on,
        active,
    };
    check_prompt(
        "created with a visit",
        &case(None, &old, None),
        Some(prompt(&[], false, true, false)),
    );
    check_prompt(
        "created without a visit",
        &case(None, &unscheduled, None),
        None,
    );
    check_prompt(
        "first visit set, schedule hidden from the client",
        &case(
            Some(&unscheduled),
            &old,
            Some(Sections::ALL.with(Section::Schedule, false)),
        ),
        Some(prompt(&[], false, true, true)),
    );
    check_prompt(
        "visit moved",
        &case(Some(&old), &moved, None),
        Some(prompt(&[Section::Schedule], false, false, false)),
    );
    check_prompt(
        "status alone",
        &case(Some(&old), &started, Some(Sections::NONE)),
        Some(prompt(&[], true, false, true)),
    );
    check_prompt(
        "a visible section alone",
        &case(Some(&old), &scoped, None),
        Some(prompt(&[Section::Scope], false, false, false)),
    );
    check_prompt(
        "a section the share hides",
        &case(
            Some(&old),
            &scoped,
            Some(Sections::ALL.with(Section::Scope, false)),
        ),
        None,
    );
    check_prompt(
        "nothing the client sees",
        &case(Some(&old), &noted, None),
        None,
    );
    let technician = PromptCase {
        role: Role::Technician,
        ..case(Some(&old), &started, None)
    };
    check_prompt("a role that may not share", &technician, None);
    let off = org_with(|o| o.settings.client_sharing = false);
    check_prompt(
        "sharing off",
        &PromptCase {
            org: &off,
            ..case(Some(&old), &started, None)
        },
        None,
    );
    let unattached = edited(|w| {
        w.client_id = None;
        w.status = WorkStatus::InProgress;
    });
    let detached_before = edited(|w| w.client_id = None);
    check_prompt(
        "no client",
        &case(Some(&detached_before), &unattached, None),
        None,
    );
}

// ---------------------------------------------------------------------------------------------
// S7: when a work order's link expires

fn closed(edit: impl FnOnce(&mut WorkOrder)) -> Record {
    let mut wo = edited(|w| {
        w.status = WorkStatus::Completed;
        w.paid = true;
        w.completed_at = Some(NOW - Duration::days(3));
        w.paid_at = Some(NOW - Duration::days(1));
    });
    edit(&mut wo);
    Record::WorkOrder(wo)
}

fn check_expiry(
    row: &str,
    current: Option<OffsetDateTime>,
    record: &Record,
    org: &Org,
    expect: Option<OffsetDateTime>,
) {
    assert_eq!(expiry(current, record, org, NOW), expect, "row: {row}");
}

#[test]
fn s7_when_a_link_expires_table() {
    let (on, day) = (org(), Duration::days(1));
    let open = Record::WorkOrder(work_order());
    check_expiry("open job", None, &open, &on, None);
    let unpaid = closed(|w| {
        w.paid = false;
        w.paid_at = None;
    });
    check_expiry("completed, not paid", None, &unpaid, &on, None);
    check_expiry(
        "paid after completion: 30 days after payment",
        None,
        &closed(|_| {}),
        &on,
        Some(NOW + day * 29),
    );
    let completed_last = closed(|w| w.completed_at = Some(NOW));
    check_expiry(
        "completed after payment: 30 days after completion",
        None,
        &completed_last,
        &on,
        Some(NOW + day * 30),
    );
    let week = org_with(|o| o.settings.link_expiry_days = 7);
    check_expiry(
        "the org's own number of days",
        None,
        &closed(|_| {}),
        &week,
        Some(NOW + day * 6),
    );
    check_expiry(
        "expired and reopened: dead for good",
        Some(NOW - day),
        &open,
        &on,
        Some(NOW - day),
    );
    check_expiry(
        "expiring this moment and reopened: dead",
        Some(NOW),
        &open,
        &on,
        Some(NOW),
    );
    check_expiry(
        "not yet expired and reopened: lives again",
        Some(NOW + day),
        &open,
        &on,
        None,
    );
    check_expiry(
        "not yet expired, days changed: re-timed",
        Some(NOW + day),
        &closed(|_| {}),
        &week,
        Some(NOW + day * 6),
    );
    let q = Record::Quote(fixtures::quote(&on.id, "q1", Some(&client().id)));
    check_expiry("a quote never expires by itself", None, &q, &on, None);
    let inv = Record::Invoice(fixtures::invoice(&on.id, "i1", Some(&client().id), None));
    check_expiry("an invoice never expires by itself", None, &inv, &on, None);
    check_expiry(
        "an expired quote link stays expired",
        Some(NOW - day),
        &q,
        &on,
        Some(NOW - day),
    );
}

type Stamps = (Option<OffsetDateTime>, Option<OffsetDateTime>);

fn check_stamps(
    row: &str,
    old: Option<&WorkOrder>,
    mut new: WorkOrder,
    expect: Result<Stamps, InFuture>,
) {
    let got = stamp_transitions(old, &mut new, NOW).map(|()| (new.completed_at, new.paid_at));
    assert_eq!(got, expect, "row: {row}");
}

#[test]
fn s7_when_completion_and_payment_are_stamped_table() {
    let (open, hour) = (work_order(), Duration::hours(1));
    let done = |at: Option<OffsetDateTime>| {
        edited(|w| {
            w.status = WorkStatus::Completed;
            w.completed_at = at;
        })
    };
    let paid = |at: Option<OffsetDateTime>| {
        edited(|w| {
            w.paid = true;
            w.paid_at = at;
        })
    };
    check_stamps(
        "completed now",
        Some(&open),
        done(None),
        Ok((Some(NOW), None)),
    );
    check_stamps(
        "completed at a time the host gives",
        Some(&open),
        done(Some(NOW - hour)),
        Ok((Some(NOW - hour), None)),
    );
    check_stamps(
        "the host's clock a little ahead: now",
        Some(&open),
        done(Some(NOW + HOST_CLOCK_SKEW)),
        Ok((Some(NOW), None)),
    );
    check_stamps(
        "the host's time beyond the skew",
        Some(&open),
        done(Some(NOW + HOST_CLOCK_SKEW + Duration::seconds(1))),
        Err(InFuture("completed_at")),
    );
    let was_done = done(Some(NOW - hour * 5));
    check_stamps(
        "still completed: the first stamp kept",
        Some(&was_done),
        done(None),
        Ok((Some(NOW - hour * 5), None)),
    );
    check_stamps(
        "reopened: cleared",
        Some(&was_done),
        edited(|w| w.completed_at = Some(NOW - hour)),
        Ok((None, None)),
    );
    check_stamps("created completed", None, done(None), Ok((Some(NOW), None)));
    check_stamps("paid now", Some(&open), paid(None), Ok((None, Some(NOW))));
    check_stamps(
        "paid at the host's time",
        Some(&open),
        paid(Some(NOW - hour)),
        Ok((None, Some(NOW - hour))),
    );
    let was_paid = paid(Some(NOW - hour * 2));
    check_stamps(
        "still paid: the first stamp kept",
        Some(&was_paid),
        paid(None),
        Ok((None, Some(NOW - hour * 2))),
    );
    check_stamps(
        "marked unpaid: cleared",
        Some(&was_paid),
        edited(|w| w.paid_at = Some(NOW)),
        Ok((None, None)),
    );
    check_stamps(
        "payment time in the future",
        Some(&open),
        paid(Some(NOW + hour)),
        Err(InFuture("paid_at")),
    );
}

// ---------------------------------------------------------------------------------------------
// V5: deciding on a quote, and what the host may still change

fn decided(kind: DecisionKind) -> Quote {
    let mut q = fixtures::quote(&org().id, "q1", Some(&client().id));
    q.decision = Some(QuoteDecision {
        kind,
        message: None,
        at: NOW,
    });
    q
}

fn check_revise(
    row: &str,
    old: &Quote,
    edit: fn(&mut Quote),
    expect: Result<Option<DecisionKind>, QuoteLocked>,
) {
    let mut new = old.clone();
    new.decision = None;
    edit(&mut new);
    let got = revise(old, &mut new).map(|()| new.decision.map(|d| d.kind));
    assert_eq!(got, expect, "row: {row}");
}

type QuoteEdit = fn(&mut Quote);

/// Each field the client reads, changed on its own.
const CONTENT: [(&str, QuoteEdit); 6] = [
    ("lines", |q| q.items[0].quantity += Decimal::ONE),
    ("taxes", |q| {
        q.taxes.push(TaxRate {
            name: "Levy".into(),
            percent: Decimal::ONE,
        });
    }),
    ("currency", |q| {
        q.currency = Currency::new("EUR").expect("valid");
    }),
    ("valid until", |q| {
        q.valid_until = Some(date!(2026 - 06 - 30));
    }),
    ("message to the client", |q| q.client_message = None),
    ("title", |q| q.title.push('!')),
];

#[test]
fn v5_what_a_host_may_change_on_a_decided_quote_table() {
    let asked = decided(DecisionKind::ChangesRequested);
    for (field, edit) in CONTENT {
        check_revise(
            &format!("changes requested, {field} revised"),
            &asked,
            edit,
            Ok(None),
        );
        for kind in [DecisionKind::Approved, DecisionKind::Declined] {
            check_revise(
                &format!("{kind:?}, {field} changed"),
                &decided(kind),
                edit,
                Err(QuoteLocked(kind)),
            );
        }
        let open = fixtures::quote(&org().id, "q1", Some(&client().id));
        check_revise(
            &format!("undecided, {field} changed"),
            &open,
            edit,
            Ok(None),
        );
    }
    let notes: fn(&mut Quote) = |q| q.internal_notes.push('!');
    for kind in [
        DecisionKind::Approved,
        DecisionKind::ChangesRequested,
        DecisionKind::Declined,
    ] {
        check_revise(
            &format!("{kind:?}, internal notes changed: decision kept"),
            &decided(kind),
            notes,
            Ok(Some(kind)),
        );
    }
    let open = fixtures::quote(&org().id, "q1", Some(&client().id));
    let host_decides: fn(&mut Quote) = |q| {
        q.decision = Some(QuoteDecision {
            kind: DecisionKind::Approved,
            message: None,
            at: NOW,
        });
    };
    check_revise(
        "the host cannot decide for the client",
        &open,
        host_decides,
        Ok(None),
    );
}

fn check_decidable(row: &str, quote: &Quote, expect: Result<(), DecisionDenied>) {
    assert_eq!(
        decidable(quote, date!(2026 - 04 - 01)),
        expect,
        "row: {row}"
    );
}

#[test]
fn v5_v9_when_a_quote_can_be_decided_table() {
    let q = |edit: fn(&mut Quote)| {
        let mut q = fixtures::quote(&org().id, "q1", Some(&client().id));
        edit(&mut q);
        q
    };
    check_decidable(
        "its last valid day",
        &q(|q| q.valid_until = Some(date!(2026 - 04 - 01))),
        Ok(()),
    );
    check_decidable(
        "a day left",
        &q(|q| q.valid_until = Some(date!(2026 - 04 - 02))),
        Ok(()),
    );
    let past = date!(2026 - 03 - 31);
    check_decidable(
        "a day late",
        &q(|q| q.valid_until = Some(date!(2026 - 03 - 31))),
        Err(DecisionDenied::Expired(past)),
    );
    check_decidable("no end date", &q(|q| q.valid_until = None), Ok(()));
    check_decidable(
        "a draft",
        &q(|q| q.status = QuoteStatus::Draft),
        Err(DecisionDenied::NotSent),
    );
    let approved = decided(DecisionKind::Approved);
    check_decidable(
        "already approved",
        &approved,
        Err(DecisionDenied::AlreadyDecided(DecisionKind::Approved)),
    );
}

fn check_decide(
    row: &str,
    choice: ClientDecision,
    expect: Result<(DecisionKind, Option<&str>), DecisionDenied>,
) {
    let q = fixtures::quote(&org().id, "q1", Some(&client().id));
    let got = decide(&q, choice, NOW, date!(2026 - 03 - 02));
    let expect = expect.map(|(kind, message)| QuoteDecision {
        kind,
        message: message.map(str::to_owned),
        at: NOW,
    });
    assert_eq!(got, expect, "row: {row}");
}

#[test]
fn v5_what_a_decision_records_table() {
    use ClientDecision::{Approve, Decline, RequestChanges};
    use DecisionKind::{Approved, ChangesRequested, Declined};
    check_decide("approve", Approve, Ok((Approved, None)));
    let ask = |m: &str| RequestChanges { message: m.into() };
    check_decide(
        "changes, with a message",
        ask("Cheaper sockets"),
        Ok((ChangesRequested, Some("Cheaper sockets"))),
    );
    check_decide(
        "changes, message trimmed",
        ask("  Cheaper\n"),
        Ok((ChangesRequested, Some("Cheaper"))),
    );
    check_decide(
        "changes, lines kept, controls dropped",
        ask("a\nb\u{0}c\u{7}"),
        Ok((ChangesRequested, Some("a\nbc"))),
    );
    check_decide(
        "changes, empty",
        ask(""),
        Err(DecisionDenied::MessageRequired),
    );
    check_decide(
        "changes, blank",
        ask(" \t\n"),
        Err(DecisionDenied::MessageRequired),
    );
    let longest = "é".repeat(MAX_MESSAGE_CHARS);
    check_decide(
        "changes, the longest message",
        ask(&longest),
        Ok((ChangesRequested, Some(&longest))),
    );
    let longer = "é".repeat(MAX_MESSAGE_CHARS + 1);
    check_decide(
        "changes, one character too long",
        ask(&longer),
        Err(DecisionDenied::MessageTooLong),
    );
    check_decide(
        "decline, no message",
        Decline { message: None },
        Ok((Declined, None)),
    );
    check_decide(
        "decline, blank message",
        Decline {
            message: Some("  ".into()),
        },
        Ok((Declined, None)),
    );
    check_decide(
        "decline, why",
        Decline {
            message: Some("Too dear".into()),
        },
        Ok((Declined, Some("Too dear"))),
    );
    check_decide(
        "decline, too long",
        Decline {
            message: Some(longer.clone()),
        },
        Err(DecisionDenied::MessageTooLong),
    );
}

#[test]
fn v9_when_an_invoice_is_due_table() {
    let today = date!(2026 - 03 - 02);
    for (row, date, expect) in [
        ("tomorrow", date!(2026 - 03 - 03), Due::Later),
        ("today", today, Due::Today),
        ("yesterday", date!(2026 - 03 - 01), Due::Overdue),
    ] {
        assert_eq!(due(date, today), expect, "row: {row}");
    }
}

// ---------------------------------------------------------------------------------------------
// S1: who may share and who may manage the org

#[test]
fn s1_who_may_share_and_who_may_manage_the_org_table() {
    for (role, shares, manages) in [
        (Role::Owner, true, true),
        (Role::Admin, true, true),
        (Role::Supervisor, true, false),
        (Role::SoleTrader, true, true),
        (Role::Technician, false, false),
        (Role::Apprentice, false, false),
    ] {
        let got = (can_share(role), can_manage_org(role));
        assert_eq!(got, (shares, manages), "row: {role:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// N1–N3 at send time: what a queued email still says

fn check_send(
    row: &str,
    kind: &NotificationKind,
    edit: fn(&mut WorkOrder),
    sections: Sections,
    expect: Result<NotificationKind, Stale>,
) {
    let record = Record::WorkOrder(edited(edit));
    assert_eq!(
        at_send_time(kind, Some(&record), sections),
        expect,
        "row: {row}"
    );
}

fn tasks(named: &[(&str, &str)]) -> NotificationKind {
    NotificationKind::TasksCompleted {
        tasks: named.iter().map(|(title, _)| (*title).to_owned()).collect(),
        task_ids: named.iter().map(|(_, id)| fixtures::task_id(id)).collect(),
    }
}

/// The fixture's visible task done, and a second visible task, also done.
fn two_done(w: &mut WorkOrder) {
    w.tasks[0].done = true;
    let (id, title) = (fixtures::task_id("t3"), "Fit sockets".into());
    w.tasks.push(Task {
        id,
        title,
        done: true,
        internal: false,
    });
}

#[test]
fn n1_n3_what_a_queued_status_or_task_email_still_says_table() {
    let all = Sections::ALL;
    let from_scheduled = status("scheduled", "in_progress");
    check_send(
        "status still moved on",
        &from_scheduled,
        |w| w.status = WorkStatus::OnHold,
        all,
        Ok(status("scheduled", "on_hold")),
    );
    check_send(
        "status back where it began",
        &from_scheduled,
        |_| {},
        all,
        Err(Stale::StatusUnchanged("scheduled".into())),
    );
    let gone = at_send_time(&from_scheduled, None, all);
    assert_eq!(gone, Err(Stale::RecordGone), "row: the record is gone");
    let t1 = tasks(&[("Isolate circuit", "t1")]);
    check_send(
        "the task named, not the others done since",
        &t1,
        two_done,
        all,
        Ok(t1.clone()),
    );
    let both = tasks(&[("Fit sockets", "t3"), ("Isolate circuit", "t1")]);
    check_send(
        "two tasks, in the email's order",
        &both,
        two_done,
        all,
        Ok(both.clone()),
    );
    check_send(
        "the task renamed",
        &t1,
        |w| {
            w.tasks[0].done = true;
            w.tasks[0].title = "Isolate the circuit".into();
        },
        all,
        Ok(tasks(&[("Isolate the circuit", "t1")])),
    );
    check_send(
        "the task un-ticked",
        &t1,
        |_| {},
        all,
        Err(Stale::NoTaskLeft),
    );
    check_send(
        "the task made internal",
        &t1,
        |w| {
            w.tasks[0].done = true;
            w.tasks[0].internal = true;
        },
        all,
        Err(Stale::NoTaskLeft),
    );
    check_send(
        "the checklist hidden",
        &t1,
        two_done,
        all.with(Section::Checklist, false),
        Err(Stale::ChecklistHidden),
    );
    let by_title = NotificationKind::TasksCompleted {
        tasks: vec!["Isolate circuit".into()],
        task_ids: vec![],
    };
    check_send(
        "queued before ids were kept: matched by title, ids filled in",
        &by_title,
        two_done,
        all,
        Ok(t1),
    );
}

#[test]
fn n1_n3_what_a_queued_update_or_link_email_still_says_table() {
    let all = Sections::ALL;
    let u1 = shared("We will arrive between 8 and 9.", "u1");
    check_send(
        "the update named, not the others shared since",
        &u1,
        |w| w.updates[1].shared = true,
        all,
        Ok(u1.clone()),
    );
    check_send(
        "the update edited",
        &u1,
        |w| w.updates[0].body = "Running late.".into(),
        all,
        Ok(shared("Running late.", "u1")),
    );
    check_send(
        "the update unshared",
        &u1,
        |w| w.updates[0].shared = false,
        all,
        Err(Stale::NoUpdateLeft),
    );
    check_send(
        "the update removed",
        &u1,
        |w| w.updates.truncate(0),
        all,
        Err(Stale::NoUpdateLeft),
    );
    check_send(
        "the updates hidden",
        &u1,
        |_| {},
        all.with(Section::Updates, false),
        Err(Stale::UpdatesHidden),
    );
    let by_body = NotificationKind::UpdatesShared {
        updates: vec!["We will arrive between 8 and 9.".into()],
        update_ids: vec![],
    };
    check_send(
        "queued before ids were kept: matched by text, ids filled in",
        &by_body,
        |w| w.updates[1].shared = true,
        all,
        Ok(u1),
    );
    let link = NotificationKind::LinkShared {
        reason: LinkReason::Enabled,
    };
    check_send(
        "a link email goes as it was queued",
        &link,
        |_| {},
        Sections::NONE,
        Ok(link.clone()),
    );
}

fn check_sees(row: &str, edit: fn(&mut WorkOrder), by_default: bool, expect: bool) {
    let (old, new) = (
        Record::WorkOrder(work_order()),
        Record::WorkOrder(edited(edit)),
    );
    let got = changes_what_clients_see(Some(&old), &new, by_default);
    assert_eq!(got, expect, "row: {row}");
}

fn new_file(shared: bool) -> Attachment {
    Attachment {
        id: fixtures::file_id("f9"),
        name: "after.jpg".into(),
        content_type: "image/jpeg".into(),
        caption: None,
        shared,
        taken_at: None,
        stage: None,
    }
}

#[test]
fn s1_which_update_changes_only_sharing_roles_may_make_table() {
    check_sees("nothing", |_| {}, false, false);
    check_sees(
        "an update shared",
        |w| w.updates[1].shared = true,
        false,
        true,
    );
    check_sees(
        "a shared update edited",
        |w| w.updates[0].body.push('!'),
        false,
        true,
    );
    check_sees(
        "a shared update unshared",
        |w| w.updates[0].shared = false,
        false,
        true,
    );
    check_sees(
        "a shared update removed",
        |w| drop(w.updates.remove(0)),
        false,
        true,
    );
    check_sees(
        "an internal update edited",
        |w| w.updates[1].body.push('!'),
        false,
        false,
    );
    check_sees(
        "an internal update removed",
        |w| drop(w.updates.remove(1)),
        false,
        false,
    );
}

#[test]
fn s1_which_file_changes_only_sharing_roles_may_make_table() {
    check_sees("a file shared", |w| w.files[1].shared = true, false, true);
    check_sees(
        "a shared file unshared",
        |w| w.files[0].shared = false,
        false,
        true,
    );
    check_sees(
        "a shared file renamed",
        |w| w.files[0].name = "b.jpg".into(),
        false,
        true,
    );
    check_sees(
        "a shared file re-captioned",
        |w| w.files[0].caption = None,
        false,
        true,
    );
    check_sees(
        "a shared file removed",
        |w| drop(w.files.remove(0)),
        false,
        true,
    );
    check_sees(
        "an internal file renamed",
        |w| w.files[1].name = "m.jpg".into(),
        false,
        false,
    );
    check_sees(
        "an internal file removed",
        |w| drop(w.files.remove(1)),
        false,
        false,
    );
    check_sees(
        "a new file shared",
        |w| w.files.push(new_file(true)),
        false,
        true,
    );
    check_sees(
        "a new file shared by the org's default",
        |w| w.files.push(new_file(true)),
        true,
        false,
    );
    check_sees(
        "a new internal file",
        |w| w.files.push(new_file(false)),
        false,
        false,
    );
    let status_and_tasks: fn(&mut WorkOrder) = |w| {
        w.status = WorkStatus::Completed;
        w.tasks[0].done = true;
        w.internal_notes.push('!');
    };
    check_sees("status, tasks and notes", status_and_tasks, false, false);
    let created = Record::WorkOrder(work_order());
    let got = changes_what_clients_see(None, &created, false);
    assert!(got, "row: created with a shared update and a shared file");
    let q = Record::Quote(fixtures::quote(&org().id, "q1", Some(&client().id)));
    assert!(!changes_what_clients_see(None, &q, false), "row: a quote");
}

// ---------------------------------------------------------------------------------------------
// N5: when a failed email is tried again

#[test]
fn n5_when_a_failed_email_is_tried_again_table() {
    let backoff = Backoff {
        first: Duration::seconds(30),
        max: Duration::hours(1),
        give_up_after: Duration::days(3),
    };
    let secs = Duration::seconds;
    for (row, attempts, expect) in [
        ("after the first try", 1, secs(30)),
        ("no try yet counts as the first", 0, secs(30)),
        ("after the second", 2, secs(60)),
        ("after the third", 3, secs(120)),
        ("the last below the cap", 7, secs(1920)),
        ("capped", 8, Duration::hours(1)),
        ("capped however many", u32::MAX, Duration::hours(1)),
    ] {
        assert_eq!(retry::delay(&backoff, attempts), expect, "row: {row}");
    }
    for (row, random, expect) in [
        ("no jitter", 0, secs(400)),
        ("a fifth of the way", 51, secs(420)),
        ("a quarter more at most", 255, secs(500)),
    ] {
        assert_eq!(retry::jittered(secs(400), random), expect, "row: {row}");
    }
    let created = NOW - Duration::days(1);
    for (row, now, random, expect) in [
        ("young: retried", NOW, 0, Next::RetryAt(NOW + secs(120))),
        ("with jitter", NOW, 255, Next::RetryAt(NOW + secs(150))),
        (
            "a second short of giving up",
            created + Duration::days(3) - secs(1),
            0,
            Next::RetryAt(created + Duration::days(3) + secs(119)),
        ),
        (
            "exactly old enough: given up",
            created + Duration::days(3),
            0,
            Next::GiveUp,
        ),
    ] {
        assert_eq!(
            retry::after_failure(&backoff, created, 3, now, random),
            expect,
            "row: {row}"
        );
    }
}

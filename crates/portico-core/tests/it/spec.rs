//! The specification as properties, each named after the requirement it checks (SPEC.md).

use proptest::prelude::*;
use rust_decimal::Decimal;
use time::Duration;

use portico_core::model::{
    Currency, Email, InvoiceStatus, LineItem, LinkReason, NotificationKind, Plan, Record, Role,
    Section, Sections, TaxRate, Topic, Update, WorkStatus, totals,
};
use portico_core::policy::access::SharingBlocked;
use portico_core::policy::permissions::{ActorDenied, can_share};
use portico_core::policy::project::{Projection, project};
use portico_core::service::{EnableShare, HostEvent, Opened, RecordError, ShareChange, ShareError};
use portico_core::testing::fixtures::{self, T0};
use portico_core::token::{ShareToken, TOKEN_LEN};

use crate::support::{Answer, World, answer, owner, staff_id};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 64,
        ..ProptestConfig::default()
    }
}

fn any_role() -> impl Strategy<Value = Role> {
    proptest::sample::select(Role::ALL.to_vec())
}

fn any_sections() -> impl Strategy<Value = Sections> {
    (0u16..512).prop_map(Sections::from_bits)
}

fn any_status() -> impl Strategy<Value = WorkStatus> {
    proptest::sample::select(WorkStatus::ALL.to_vec())
}

#[test]
fn s1_roles_that_may_share_are_exactly_the_four() {
    let sharers: Vec<Role> = Role::ALL.into_iter().filter(|r| can_share(*r)).collect();
    assert_eq!(
        sharers,
        vec![Role::Owner, Role::Admin, Role::Supervisor, Role::SoleTrader]
    );
}

proptest! {
    #![proptest_config(config())]

    /// S1: only sharing roles enable, change, revoke, or mark updates and photos as shared.
    #[test]
    fn s1_only_sharing_roles_share_change_revoke_or_mark_shared(role in any_role()) {
        let w = World::new();
        let actor = staff_id(role);
        let enabled = w.block_on(w.portico.enable_share(&actor, &w.org, &w.wo, &EnableShare::default()));
        if can_share(role) {
            prop_assert!(enabled.is_ok());
        } else {
            prop_assert!(matches!(enabled, Err(ShareError::Actor(ActorDenied::NotPermitted { role: r })) if r == role), "{:?}", enabled);
            prop_assert!(w.block_on(w.portico.list_shares(&w.org, &w.wo)).unwrap().is_empty());
        }
        let share = w.enable(&w.wo);
        let change = ShareChange { sections: Some(Sections::NONE), ..ShareChange::default() };
        let changed = w.block_on(w.portico.change_share(&actor, &w.org, share.id, &change));
        let revoked = w.block_on(w.portico.revoke_share(&actor, &w.org, share.id));
        let mut wo = w.work_order();
        wo.updates.push(Update { id: fixtures::update_id("new"), author: None, posted_at: T0, body: "Shared news".into(), shared: true });
        let marked = w.upsert_wo(&actor, wo.clone());
        let mut photo = w.work_order();
        photo.files[1].shared = true;
        let photo_marked = w.upsert_wo(&actor, photo);
        let mut internal = w.work_order();
        internal.updates.push(Update { id: fixtures::update_id("note"), author: None, posted_at: T0, body: "Internal".into(), shared: false });
        let internal_post = w.upsert_wo(&actor, internal);
        prop_assert!(internal_post.is_ok(), "every role may post internal updates");
        if can_share(role) {
            prop_assert!(changed.is_ok() && revoked.is_ok() && marked.is_ok() && photo_marked.is_ok());
        } else {
            prop_assert!(matches!(changed, Err(ShareError::Actor(ActorDenied::NotPermitted { .. }))), "{:?}", changed);
            prop_assert!(matches!(revoked, Err(ShareError::Actor(ActorDenied::NotPermitted { .. }))), "{:?}", revoked);
            prop_assert!(matches!(marked, Err(RecordError::Actor(ActorDenied::NotPermitted { .. }))), "{:?}", marked);
            prop_assert!(matches!(photo_marked, Err(RecordError::Actor(ActorDenied::NotPermitted { .. }))), "{:?}", photo_marked);
            prop_assert!(w.block_on(w.portico.get_share(&w.org, share.id)).unwrap().active);
        }
    }

    /// S2: plan, switch, client and recipient are each checked, each with its own error.
    #[test]
    fn s2_each_precondition_fails_with_its_own_error(
        plan in proptest::sample::select(vec![Plan::Starter, Plan::Pro, Plan::Business]),
        switch in any::<bool>(),
        has_client in any::<bool>(),
        client_email in any::<bool>(),
        requested in proptest::option::of(prop_oneof![Just("new@client.example".to_owned()), "[a-z@. \r\n]{0,12}"]),
    ) {
        let w = World::new();
        w.put_org(|o| { o.plan = plan; o.settings.client_sharing = switch; });
        let mut client = fixtures::client(&w.org, "c1");
        if !client_email { client.email = None; }
        w.block_on(w.portico.put_client(&client)).unwrap();
        let mut wo = w.work_order();
        if !has_client { wo.client_id = None; }
        w.upsert_wo(&owner(), wo).unwrap();
        let request = EnableShare { recipient: requested.clone(), sections: None };
        let result = w.block_on(w.portico.enable_share(&owner(), &w.org, &w.wo, &request));
        let valid_requested = requested.as_deref().map(|r| Email::parse(r).is_ok());
        match result {
            Err(ShareError::Blocked(SharingBlocked::PlanRequired { plan: p, required })) => prop_assert!(p == plan && plan != Plan::Business && required == Plan::Business),
            Err(ShareError::Blocked(SharingBlocked::SwitchedOff)) => prop_assert!(plan == Plan::Business && !switch),
            Err(ShareError::NoClient) => prop_assert!(plan == Plan::Business && switch && !has_client),
            Err(ShareError::InvalidEmail(_)) => prop_assert!(has_client && switch && valid_requested == Some(false)),
            Err(ShareError::NoRecipient) => prop_assert!(has_client && switch && requested.is_none() && !client_email),
            Ok(info) => {
                prop_assert!(plan == Plan::Business && switch && has_client);
                let expected = match &requested { Some(r) => Email::parse(r).unwrap(), None => client.email.clone().unwrap() };
                prop_assert_eq!(info.recipient, expected);
            }
            Err(other) => prop_assert!(false, "unexpected {other:?}"),
        }
    }

    /// S3: tokens are 256-bit URL-safe strings, unique, scoped to one record, and the stored share
    /// does not contain them.
    #[test]
    fn s3_tokens_are_unguessable_scoped_and_not_stored(seed in any::<u64>()) {
        let w = World::with_seed(seed);
        let wo = w.enable(&w.wo);
        let quote = w.enable(&w.quote);
        let link = wo.link.clone().unwrap();
        let token = link.rsplit('/').next().unwrap();
        prop_assert_eq!(token.len(), TOKEN_LEN);
        prop_assert!(token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        prop_assert_ne!(Some(link.clone()), quote.link.clone());
        let Opened::View { view, .. } = w.open(&link) else { panic!("link must open") };
        prop_assert_eq!(view.kind, portico_core::model::RecordKind::WorkOrder);
        let stored = w.block_on(portico_core::ports::Store::share_by_token_hash(&w.store, &ShareToken::parse(token).unwrap().hash())).unwrap().unwrap();
        let stored_debug = format!("{stored:?}");
        prop_assert!(!stored_debug.contains(token), "the stored share holds the token");
        let token_debug = format!("{:?}", ShareToken::parse(token).unwrap());
        prop_assert!(!token_debug.contains(token), "Debug prints the token");
        // A token of the right shape that was never minted opens nothing.
        let mut forged = token.to_owned();
        forged.replace_range(0..1, if token.starts_with('A') { "B" } else { "A" });
        prop_assert_eq!(answer(&w.open(&forged)), Answer::NotFound);
    }

    /// S4: enabling again, and asking again, return the same link while the share is active.
    #[test]
    fn s4_enable_again_returns_the_same_link(times in 1usize..5) {
        let w = World::new();
        let first = w.enable(&w.wo);
        for _ in 0..times {
            let again = w.enable(&w.wo);
            prop_assert_eq!(&again.link, &first.link);
            prop_assert_eq!(again.id, first.id);
            prop_assert_eq!(w.block_on(w.portico.get_share(&w.org, first.id)).unwrap().link, first.link.clone());
        }
        let links = w.outbox().iter().filter(|n| n.kind.topic() == Topic::LinkShared).count();
        prop_assert_eq!(links, 1, "the link is mailed once");
    }

    /// S5: revoke stops the link at once; revoked and unknown get the same answer; re-sharing
    /// mints a fresh token and the old one never works again.
    #[test]
    fn s5_revoke_is_immediate_and_reshare_mints_a_fresh_token(rounds in 1usize..4) {
        let w = World::new();
        let mut old_links = Vec::new();
        for _ in 0..rounds {
            let share = w.enable(&w.wo);
            let link = share.link.clone().unwrap();
            prop_assert!(!old_links.contains(&link));
            prop_assert_eq!(answer(&w.open(&link)), Answer::View);
            w.block_on(w.portico.revoke_share(&owner(), &w.org, share.id)).unwrap();
            prop_assert_eq!(w.open(&link), Opened::NotFound);
            old_links.push(link);
        }
        let fresh = w.enable(&w.wo).link.unwrap();
        prop_assert_eq!(answer(&w.open(&fresh)), Answer::View);
        for old in &old_links {
            prop_assert_eq!(w.open(old), Opened::NotFound);
        }
        prop_assert_eq!(w.open("not-a-token"), Opened::NotFound);
    }

    /// S6: recipient and sections change at any time, take effect on the next view, keep the
    /// link, and a new recipient is sent the link.
    #[test]
    fn s6_changes_apply_on_next_view_and_keep_the_link(sections in any_sections(), new_recipient in any::<bool>()) {
        let w = World::new();
        let share = w.enable(&w.wo);
        let change = ShareChange {
            sections: Some(sections),
            recipient: new_recipient.then(|| "partner@client.example".to_owned()),
        };
        let changed = w.block_on(w.portico.change_share(&owner(), &w.org, share.id, &change)).unwrap();
        prop_assert_eq!(&changed.link, &share.link);
        prop_assert_eq!(changed.sections, sections);
        let Opened::View { view, .. } = w.open(share.link.as_ref().unwrap()) else { panic!("opens") };
        let portico_core::view::ViewBody::WorkOrder(body) = view.body else { panic!("work order") };
        prop_assert_eq!(body.scope.is_some(), sections.is_on(Section::Scope));
        prop_assert_eq!(body.checklist.is_some(), sections.is_on(Section::Checklist));
        let new_links: Vec<_> = w.outbox().into_iter()
            .filter(|n| n.kind == NotificationKind::LinkShared { reason: LinkReason::NewRecipient })
            .collect();
        prop_assert_eq!(new_links.len(), usize::from(new_recipient));
        if new_recipient {
            prop_assert_eq!(new_links[0].to.as_str(), "partner@client.example");
        }
    }

    /// S7: the expiry is set iff the work order is completed and paid, equals the later event
    /// plus the org's days, clears on reopen or unpay before it, and once passed the link is
    /// dead for good.
    #[test]
    fn s7_expiry_set_iff_completed_and_paid(
        steps in proptest::collection::vec((any_status(), any::<bool>(), 0i64..20), 1..12),
        days in 1u16..60,
    ) {
        let w = World::new();
        w.put_org(|o| o.settings.link_expiry_days = days);
        let share = w.enable(&w.wo);
        let link = share.link.unwrap();
        let mut dead_at = None;
        for (status, paid, wait_days) in steps {
            let mut wo = w.work_order();
            wo.status = status;
            wo.paid = paid;
            let change = w.upsert_wo(&owner(), wo).unwrap();
            let stored = w.work_order();
            let info = w.block_on(w.portico.get_share(&w.org, share.id)).unwrap();
            prop_assert_eq!(info.expires_at, change.expires_at);
            if let Some(at) = dead_at { prop_assert_eq!(info.expires_at, Some(at), "dead for good") } else {
                let expected = match (stored.completed_at, stored.paid_at) {
                    (Some(c), Some(p)) if status == WorkStatus::Completed && paid => Some(c.max(p) + Duration::days(days.into())),
                    _ => None,
                };
                prop_assert_eq!(info.expires_at, expected);
            }
            w.clock.advance(Duration::days(wait_days));
            let now = w.block_on(async { portico_core::ports::Clock::now(&*w.clock) });
            let expired = info.expires_at.is_some_and(|at| now >= at);
            if expired { dead_at = info.expires_at; }
            prop_assert_eq!(answer(&w.open(&link)), if expired { Answer::Expired } else { Answer::View });
        }
    }

    /// S8: the org switch stops every link at once and restores those not revoked or expired,
    /// deleting nothing.
    #[test]
    fn s8_org_switch_stops_and_restores_links(flips in proptest::collection::vec(any::<bool>(), 1..6)) {
        let w = World::new();
        let wo = w.enable(&w.wo).link.unwrap();
        let quote = w.enable(&w.quote);
        w.block_on(w.portico.revoke_share(&owner(), &w.org, quote.id)).unwrap();
        let quote = quote.link.unwrap();
        for on in flips {
            w.put_org(|o| o.settings.client_sharing = on);
            prop_assert_eq!(answer(&w.open(&wo)), if on { Answer::View } else { Answer::Unavailable });
            prop_assert_eq!(answer(&w.open(&quote)), Answer::NotFound);
            prop_assert_eq!(w.block_on(w.portico.list_shares(&w.org, &w.wo)).unwrap().len(), 1);
        }
    }

    /// V1: each section shows iff it is on.
    #[test]
    fn v1_each_section_shows_iff_on(sections in any_sections()) {
        let org = fixtures::org("o");
        let client = fixtures::client(&org.id, "c");
        let tech = fixtures::staff(&org.id, "tech", Role::Technician);
        let wo = fixtures::work_order(&org.id, "wo", Some(&client.id), Some(&tech.id));
        let record = Record::WorkOrder(wo);
        let view = project(&Projection { org: &org, record: &record, client: Some(&client), staff: &[tech], invoices: &[], sections, now: T0 });
        let portico_core::view::ViewBody::WorkOrder(b) = view.body else { panic!("work order") };
        let shown = [
            (Section::ClientInfo, b.client_info.is_some()), (Section::Scope, b.scope.is_some()),
            (Section::Schedule, b.schedule.is_some()), (Section::Checklist, b.checklist.is_some()),
            (Section::PhotosFiles, b.photos_files.is_some()), (Section::PartsUsed, b.parts_used.is_some()),
            (Section::Signature, b.signature.is_some()), (Section::Invoices, b.invoices.is_some()),
            (Section::Updates, b.updates.is_some()),
        ];
        for (section, is_shown) in shown {
            prop_assert_eq!(is_shown, sections.is_on(section), "{}", section);
        }
        prop_assert_eq!(view.title, "Rewire kitchen");
        prop_assert_eq!(view.company.name, org.name, "V2: the company is always shown");
    }

    /// V3: only shared updates, shared files and non-internal tasks are visible.
    #[test]
    fn v3_only_shared_items_are_visible(
        tasks in proptest::collection::vec(any::<bool>(), 0..8),
        files in proptest::collection::vec(any::<bool>(), 0..8),
        updates in proptest::collection::vec(any::<bool>(), 0..8),
    ) {
        let org = fixtures::org("o");
        let mut wo = fixtures::large_work_order(&org.id, tasks.len(), files.len(), updates.len());
        for (t, internal) in wo.tasks.iter_mut().zip(&tasks) { t.internal = *internal; }
        for (f, shared) in wo.files.iter_mut().zip(&files) { f.shared = *shared; }
        for (u, shared) in wo.updates.iter_mut().zip(&updates) { u.shared = *shared; }
        let record = Record::WorkOrder(wo.clone());
        let view = project(&Projection { org: &org, record: &record, client: None, staff: &[], invoices: &[], sections: Sections::ALL, now: T0 });
        let portico_core::view::ViewBody::WorkOrder(b) = view.body else { panic!("work order") };
        prop_assert_eq!(b.checklist.unwrap().len(), tasks.iter().filter(|i| !**i).count());
        prop_assert_eq!(b.photos_files.unwrap().len(), files.iter().filter(|s| **s).count());
        prop_assert_eq!(b.updates.unwrap().len(), updates.iter().filter(|s| **s).count());
    }

    /// V4: whatever the section choice, no internal field reaches a serialised client view.
    #[test]
    fn v4_no_internal_marker_in_any_client_view(sections in any_sections(), marker in "[A-Z]{12}") {
        let marker = format!("ZZ{marker}ZZ");
        let secret_number = Decimal::new(987_654_321, 3);
        let org = fixtures::org("o");
        let client = fixtures::client(&org.id, "c");
        let mut tech = fixtures::staff(&org.id, "tech", Role::Technician);
        tech.email = Some(Email::parse(&format!("{}@staff.example", marker.to_lowercase())).unwrap());
        tech.phone = Some(marker.clone());
        let mut wo = fixtures::work_order(&org.id, "wo", Some(&client.id), Some(&tech.id));
        wo.internal_notes = marker.clone();
        wo.activity_log[0].text = marker.clone();
        wo.time_entries[0].note = marker.clone();
        wo.time_entries[0].hourly_rate = secret_number;
        wo.costs[0].description = marker.clone();
        wo.costs[0].amount = secret_number;
        wo.parts[0].unit_cost = Some(secret_number);
        wo.tasks[1].title = marker.clone(); // internal task
        wo.files[1].name = marker.clone(); // unshared file
        wo.files[1].caption = Some(marker.clone());
        wo.updates[1].body = marker.clone(); // unshared update
        let mut quote = fixtures::quote(&org.id, "q", Some(&client.id));
        quote.internal_notes = marker.clone();
        quote.items[0].unit_cost = Some(secret_number);
        let mut invoice = fixtures::invoice(&org.id, "i", Some(&client.id), Some(&wo.id));
        invoice.internal_notes = marker.clone();
        invoice.items[0].unit_cost = Some(secret_number);
        let invoices = [invoice.clone()];
        for record in [Record::WorkOrder(wo), Record::Quote(quote), Record::Invoice(invoice)] {
            let view = project(&Projection { org: &org, record: &record, client: Some(&client), staff: &[tech.clone()], invoices: &invoices, sections, now: T0 });
            let json = serde_json::to_string(&view).unwrap();
            prop_assert!(!json.contains(&marker), "marker leaked: {json}");
            prop_assert!(!json.contains(&marker.to_lowercase()), "staff email leaked");
            prop_assert!(!json.contains("987654.321"), "an internal amount leaked: {json}");
        }
    }

    /// V4: a work order's page lists only the issued invoices of that work order billed to its
    /// own client; drafts, voided invoices, other clients' and other jobs' never show, whatever
    /// the host linked.
    #[test]
    fn v4_only_issued_invoices_of_the_clients_own_work_order_show(
        invoices in proptest::collection::vec((0u8..3, 0u8..3, 0u8..2), 0..8),
        sections in any_sections(),
    ) {
        let org = fixtures::org("o");
        let client = fixtures::client(&org.id, "c");
        let other = fixtures::client(&org.id, "other");
        let wo = fixtures::work_order(&org.id, "wo", Some(&client.id), None);
        let other_wo = fixtures::record_id("wo-2");
        let mut all = Vec::new();
        let mut expected = Vec::new();
        for (n, (status, who, job)) in invoices.iter().enumerate() {
            let billed = match who { 0 => Some(&client.id), 1 => Some(&other.id), _ => None };
            let job = if *job == 0 { &wo.id } else { &other_wo };
            let mut inv = fixtures::invoice(&org.id, &format!("i{n}"), billed, Some(job));
            inv.number = format!("NUMBER-{n}-END");
            inv.status = [InvoiceStatus::Issued, InvoiceStatus::Draft, InvoiceStatus::Void][usize::from(*status)];
            if *status == 0 && *who == 0 && job == &wo.id {
                expected.push(inv.number.clone());
            }
            all.push(inv);
        }
        let record = Record::WorkOrder(wo);
        let view = project(&Projection { org: &org, record: &record, client: Some(&client), staff: &[], invoices: &all, sections, now: T0 });
        let portico_core::view::ViewBody::WorkOrder(body) = &view.body else { panic!("a work order view") };
        let shown: Vec<String> = body.invoices.iter().flatten().map(|i| i.number.clone()).collect();
        if sections.is_on(Section::Invoices) {
            prop_assert_eq!(&shown, &expected);
        } else {
            prop_assert!(shown.is_empty());
        }
        let json = serde_json::to_string(&view).unwrap();
        for inv in &all {
            prop_assert_eq!(json.contains(&inv.number), shown.contains(&inv.number), "{}", inv.number);
        }
    }

    /// N1: nothing mails the client unless the share is active, unexpired, switched on and on
    /// the right plan.
    #[test]
    fn n1_no_mail_unless_the_share_is_active(
        revoke in any::<bool>(), switch_off in any::<bool>(), downgrade in any::<bool>(), expire in any::<bool>(),
    ) {
        let w = World::new();
        let share = w.enable(&w.wo);
        if expire {
            let mut wo = w.work_order();
            wo.status = WorkStatus::Completed;
            wo.paid = true;
            w.upsert_wo(&owner(), wo).unwrap();
            w.clock.advance(Duration::days(31));
        }
        if revoke { w.block_on(w.portico.revoke_share(&owner(), &w.org, share.id)).unwrap(); }
        w.put_org(|o| {
            o.settings.client_sharing = !switch_off;
            if downgrade { o.plan = Plan::Pro; }
        });
        let before = w.outbox().len();
        let mut wo = w.work_order();
        wo.status = WorkStatus::OnHold;
        wo.tasks[0].done = true;
        wo.updates[0].body = "edited".into();
        wo.updates.push(Update { id: fixtures::update_id("n1"), author: None, posted_at: T0, body: "news".into(), shared: true });
        w.upsert_wo(&owner(), wo).unwrap();
        let queued = w.outbox().len() - before;
        let active = !(revoke || switch_off || downgrade || expire);
        prop_assert_eq!(queued > 0, active);
    }

    /// N2, N3: exactly status changes, tasks becoming done and updates becoming shared mail the
    /// client, and only while their section is visible.
    #[test]
    fn n2_n3_exactly_the_listed_events_mail_under_visible_sections(
        status in any_status(), tick in any::<bool>(), untick in any::<bool>(), internal_tick in any::<bool>(),
        shared_update in any::<bool>(), internal_update in any::<bool>(), note in any::<bool>(), photo in any::<bool>(),
        sections in any_sections(),
    ) {
        let w = World::new();
        let mut start = w.work_order();
        start.tasks[0].done = untick; // ticked before, so un-ticking can be tried
        w.upsert_wo(&owner(), start).unwrap();
        let share = w.enable(&w.wo);
        let change = ShareChange { sections: Some(sections), recipient: None };
        w.block_on(w.portico.change_share(&owner(), &w.org, share.id, &change)).unwrap();
        let before = w.outbox().len();
        let old = w.work_order();
        let mut wo = old.clone();
        wo.status = status;
        if tick || untick { wo.tasks[0].done = tick && !untick; }
        if internal_tick { wo.tasks[1].done = true; }
        if shared_update { wo.updates.push(Update { id: fixtures::update_id("s"), author: None, posted_at: T0, body: "Shared".into(), shared: true }); }
        if internal_update { wo.updates.push(Update { id: fixtures::update_id("i"), author: None, posted_at: T0, body: "Internal".into(), shared: false }); }
        if note { wo.internal_notes = "changed".into(); }
        if photo { wo.files.push(portico_core::model::Attachment { id: fixtures::file_id("p"), name: "p.jpg".into(), content_type: "image/jpeg".into(), caption: None, shared: true, taken_at: None, stage: None }); }
        let change = w.upsert_wo(&owner(), wo).unwrap();
        let mut topics: Vec<Topic> = w.outbox()[before..].iter().map(|n| n.kind.topic()).collect();
        topics.sort_by_key(|t| t.as_str());
        let mut expected = Vec::new();
        if status != old.status { expected.push(Topic::StatusChanged); }
        if tick && !untick && sections.is_on(Section::Checklist) { expected.push(Topic::TasksCompleted); }
        if shared_update && sections.is_on(Section::Updates) { expected.push(Topic::UpdatesShared); }
        expected.sort_by_key(|t| t.as_str());
        prop_assert_eq!(&topics, &expected);
        let mut reported = change.notifications.clone();
        reported.sort_by_key(|t| t.as_str());
        prop_assert_eq!(reported, expected);
        // Opening never mails (S11).
        let now = w.outbox().len();
        w.open(share.link.as_ref().unwrap());
        prop_assert_eq!(w.outbox().len(), now);
    }

    /// N6: ticks inside the burst window leave as one email listing them; a tick after the
    /// window starts a new one.
    #[test]
    fn n6_a_burst_of_ticks_is_one_email(gaps in proptest::collection::vec(0i64..200, 1..6)) {
        let w = World::new();
        let mut wo = w.work_order();
        wo.tasks = (0..gaps.len()).map(|i| portico_core::model::Task { id: fixtures::task_id(&format!("k{i}")), title: format!("Task {i}"), done: false, internal: false }).collect();
        w.upsert_wo(&owner(), wo).unwrap();
        w.enable(&w.wo);
        let window = w.portico.config().burst_window;
        let mut expected: Vec<Vec<String>> = Vec::new();
        let mut open_until = None;
        for (i, gap) in gaps.iter().enumerate() {
            w.clock.advance(Duration::seconds(*gap));
            let now = portico_core::ports::Clock::now(&*w.clock);
            w.block_on(w.portico.apply_event(&owner(), &w.org, &w.wo.id, &HostEvent::TaskDone { task: fixtures::task_id(&format!("k{i}")), done: true })).unwrap();
            match open_until {
                Some(until) if now < until => expected.last_mut().unwrap().push(format!("Task {i}")),
                _ => { expected.push(vec![format!("Task {i}")]); open_until = Some(now + window); }
            }
        }
        let got: Vec<Vec<String>> = w.outbox().into_iter().filter_map(|n| match n.kind {
            NotificationKind::TasksCompleted { tasks, .. } => Some(tasks),
            _ => None,
        }).collect();
        prop_assert_eq!(got, expected);
    }

    /// P1: the prompt comes for client-visible changes, to roles that may share, on records with
    /// a client while sharing is on; never otherwise.
    #[test]
    fn p1_prompt_for_visible_changes_by_sharers_only(
        role in any_role(), scope in any::<bool>(), note in any::<bool>(), internal_task in any::<bool>(),
        has_client in any::<bool>(), sharing in any::<bool>(),
    ) {
        let w = World::new();
        w.put_org(|o| o.settings.client_sharing = sharing);
        let mut wo = w.work_order();
        if !has_client { wo.client_id = None; }
        w.upsert_wo(&owner(), wo.clone()).unwrap();
        if scope { wo.description = "New scope".into(); }
        if note { wo.internal_notes = "New note".into(); }
        if internal_task { wo.tasks[1].done = true; }
        let change = w.upsert_wo(&staff_id(role), wo).unwrap();
        let expected = scope && can_share(role) && has_client && sharing;
        prop_assert_eq!(change.share_prompt.is_some(), expected);
        if let Some(prompt) = change.share_prompt {
            prop_assert_eq!(prompt.changed, vec![Section::Scope]);
        }
    }

    /// S12: every share action is audited, in order; opening and client views never show it.
    #[test]
    fn s12_every_share_action_is_audited(actions in proptest::collection::vec(0u8..4, 1..8)) {
        use portico_core::model::AuditAction as A;
        let w = World::new();
        let mut expected = Vec::new();
        let mut current: Option<portico_core::service::ShareInfo> = None;
        let mut ever = false;
        for a in actions {
            match (a, &current) {
                (0, None) => {
                    current = Some(w.enable(&w.wo));
                    expected.push(if ever { "ShareReshared" } else { "ShareEnabled" });
                    ever = true;
                }
                (1, Some(s)) => {
                    w.block_on(w.portico.revoke_share(&owner(), &w.org, s.id)).unwrap();
                    current = None;
                    expected.push("ShareRevoked");
                }
                (2, Some(s)) => {
                    let to = if s.sections == Sections::ALL { Sections::NONE } else { Sections::ALL };
                    current = Some(w.block_on(w.portico.change_share(&owner(), &w.org, s.id, &ShareChange { sections: Some(to), recipient: None })).unwrap());
                    expected.push("SectionsChanged");
                }
                (3, Some(s)) => {
                    let to = if s.recipient.as_str() == "a@client.example" { "b@client.example" } else { "a@client.example" };
                    current = Some(w.block_on(w.portico.change_share(&owner(), &w.org, s.id, &ShareChange { recipient: Some(to.into()), sections: None })).unwrap());
                    expected.push("RecipientChanged");
                }
                _ => {}
            }
        }
        let log = w.block_on(w.portico.audit_log(&w.org, &w.wo)).unwrap();
        let got: Vec<&str> = log.iter().map(|e| match e.action {
            A::ShareEnabled => "ShareEnabled", A::ShareReshared => "ShareReshared", A::ShareRevoked => "ShareRevoked",
            A::SectionsChanged { .. } => "SectionsChanged", A::RecipientChanged { .. } => "RecipientChanged",
            A::QuoteDecided { .. } => "QuoteDecided", A::ShareEndedClientChanged => "ShareEndedClientChanged",
        }).collect();
        prop_assert_eq!(got, expected);
        prop_assert!(log.iter().all(|e| e.actor == portico_core::model::Actor::Staff(owner())));
    }

    /// Money: totals always add up, in the currency's smallest unit, with no floats anywhere.
    #[test]
    fn v5_v6_totals_add_up(
        lines in proptest::collection::vec((0i64..10_000, 0i64..1_000_000, any::<bool>()), 0..10),
        rates in proptest::collection::vec(0i64..30_000, 0..3),
    ) {
        let items: Vec<LineItem> = lines.iter().map(|(q, p, taxable)| LineItem {
            description: "x".into(), quantity: Decimal::new(*q, 2), unit_price: Decimal::new(*p, 2), taxable: *taxable, unit_cost: None,
        }).collect();
        let taxes: Vec<TaxRate> = rates.iter().map(|r| TaxRate { name: "t".into(), percent: Decimal::new(*r, 3) }).collect();
        let t = totals(&items, &taxes, Currency::USD);
        // The same figures in whole cents, by integer arithmetic: each line rounded to the
        // cent (half up: everything here is positive), each tax on the taxable lines' sum.
        let cents = |q: i64, p: i64| (i128::from(q) * i128::from(p) + 50) / 100;
        let subtotal: i128 = lines.iter().map(|(q, p, _)| cents(*q, *p)).sum();
        let taxable: i128 = lines.iter().filter(|l| l.2).map(|(q, p, _)| cents(*q, *p)).sum();
        let tax: Vec<i128> = rates.iter().map(|r| (taxable * i128::from(*r) + 50_000) / 100_000).collect();
        let money = |c: i128| Decimal::from_i128_with_scale(c, 2);
        prop_assert_eq!(t.subtotal.amount, money(subtotal));
        for (line, expected) in t.taxes.iter().zip(&tax) {
            prop_assert_eq!(line.amount.amount, money(*expected));
        }
        prop_assert_eq!(t.total.amount, money(subtotal + tax.iter().sum::<i128>()));
    }

    /// Hostile email input never panics and never yields an address that could inject a header.
    #[test]
    fn s2_email_parsing_refuses_header_injection(raw in "\\PC{0,40}[\r\n]?\\PC{0,40}") {
        if let Ok(email) = Email::parse(&raw) {
            prop_assert!(!email.as_str().contains(['\r', '\n', ' ', '<', '>', ',']));
        }
    }
}

#[test]
fn s7_enabling_on_a_long_closed_job_is_refused_until_reopened() {
    let w = World::new();
    let mut wo = w.work_order();
    wo.status = WorkStatus::Completed;
    wo.paid = true;
    w.upsert_wo(&owner(), wo).unwrap();
    w.clock.advance(Duration::days(45));
    let refused =
        w.block_on(
            w.portico
                .enable_share(&owner(), &w.org, &w.wo, &EnableShare::default()),
        );
    assert!(
        matches!(refused, Err(ShareError::RecordExpired(_))),
        "{refused:?}"
    );
    w.block_on(w.portico.apply_event(
        &owner(),
        &w.org,
        &w.wo.id,
        &HostEvent::Reopen { status: None },
    ))
    .unwrap();
    let share = w.enable(&w.wo);
    assert_eq!(answer(&w.open(share.link.as_ref().unwrap())), Answer::View);
}

#[test]
fn v4_client_view_types_have_no_internal_fields() {
    // The view types are the wire format; their JSON keys are the whole surface a client sees.
    let w = World::new();
    let share = w.enable(&w.wo);
    let Opened::View { view, .. } = w.open(share.link.as_ref().unwrap()) else {
        panic!("opens")
    };
    let json = serde_json::to_value(&*view).unwrap();
    let mut keys = Vec::new();
    collect_keys(&json, &mut keys);
    // Each banned key is a field the work order really carries, so the ban means something.
    let stored = format!("{:?}", w.work_order());
    for banned in [
        "internal_notes",
        "activity_log",
        "time_entries",
        "hourly_rate",
        "minutes",
        "costs",
        "unit_cost",
        "internal",
    ] {
        assert!(
            stored.contains(&format!(" {banned}: ")),
            "{banned} is not a field of the work order: {stored}"
        );
        assert!(!keys.iter().any(|k| k == banned), "{banned} in client view");
    }
}

fn collect_keys(value: &serde_json::Value, keys: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                keys.push(k.clone());
                collect_keys(v, keys);
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_keys(v, keys)),
        _ => {}
    }
}

#[test]
fn v5_quote_and_v6_invoice_views_carry_their_figures() {
    let w = World::new();
    let Opened::View { view, .. } = w.open(w.enable(&w.invoice).link.as_ref().unwrap()) else {
        panic!("opens")
    };
    let portico_core::view::ViewBody::Invoice(inv) = view.body else {
        panic!("invoice")
    };
    // 3 x 95.00 + 2 x 12.99 + 50.00 = 360.98; tax 8.875% of 310.98 = 27.60; total 388.58.
    assert_eq!(inv.totals.subtotal.amount, Decimal::new(36098, 2));
    assert_eq!(inv.totals.taxes[0].amount.amount, Decimal::new(2760, 2));
    assert_eq!(inv.totals.total.amount, Decimal::new(38858, 2));
    assert_eq!(inv.amount_due.amount, Decimal::new(28858, 2));
    assert_eq!(view.status, "partially_paid");
}

#[test]
fn v3_unsaid_flags_keep_existing_files_and_default_new_ones() {
    use portico_core::model::FileId;
    use portico_core::policy::files::decide_unsaid_sharing;
    use std::collections::HashSet;
    let mut org = fixtures::org("o");
    let old = fixtures::work_order(&org.id, "wo", None, None);
    let mut new = old.clone();
    let mut added = new.files[1].clone();
    added.id = fixtures::file_id("f3");
    added.shared = false;
    new.files.push(added);
    new.files[0].shared = false; // f1 was shared; the upsert does not say
    new.files[1].shared = true; // f2 was private; the upsert does not say
    let unsaid: HashSet<FileId> = new.files.iter().map(|f| f.id.clone()).collect();
    for default in [false, true] {
        org.settings.photos_shared_by_default = default;
        let mut decided = new.clone();
        decide_unsaid_sharing(Some(&old), &mut decided, &unsaid, &org);
        let flags: Vec<bool> = decided.files.iter().map(|f| f.shared).collect();
        assert_eq!(flags, vec![true, false, default], "default {default}");
    }
    let mut said = new.clone();
    decide_unsaid_sharing(Some(&old), &mut said, &HashSet::new(), &org);
    assert_eq!(said.files, new.files, "flags the host said are kept");
}

/// S7: an expired link keeps answering "no longer active" after the record is shared again
/// (which closes the expired share), while the fresh link opens; a link revoked before it
/// expired still answers "not found".
#[test]
fn s7_an_expired_link_stays_no_longer_active_after_the_record_is_shared_again() {
    let w = World::new();
    let first = w.enable(&w.wo);
    let old_link = first.link.clone().unwrap();
    let mut wo = w.work_order();
    wo.status = WorkStatus::Completed;
    wo.paid = true;
    w.upsert_wo(&owner(), wo).unwrap();
    w.clock.advance(Duration::days(31));
    assert_eq!(answer(&w.open(&old_link)), Answer::Expired);
    // Reopened and shared again: a fresh link, the expired one still says so.
    w.block_on(w.portico.apply_event(
        &owner(),
        &w.org,
        &w.wo.id,
        &HostEvent::Reopen { status: None },
    ))
    .unwrap();
    let second = w.enable(&w.wo);
    assert_ne!(second.link, first.link);
    assert_eq!(answer(&w.open(second.link.as_ref().unwrap())), Answer::View);
    assert_eq!(answer(&w.open(&old_link)), Answer::Expired);
    // Revoked before any expiry: not found, as ever (S5).
    w.block_on(w.portico.revoke_share(&owner(), &w.org, second.id))
        .unwrap();
    assert_eq!(
        answer(&w.open(second.link.as_ref().unwrap())),
        Answer::NotFound
    );
}

/// N2, V2: the status label of every record state, as pages and status emails name it.
#[test]
fn n2_every_record_state_has_its_own_status_label() {
    use portico_core::model::{QuoteStatus, WorkOrder};
    let org = fixtures::org("o").id;
    let client = fixtures::client(&org, "c").id;
    let mut quote = fixtures::quote(&org, "q", Some(&client));
    let mut invoice = fixtures::invoice(&org, "i", Some(&client), None);
    let mut labels = Vec::new();
    for status in [QuoteStatus::Draft, QuoteStatus::Sent] {
        quote.status = status;
        labels.push(Record::Quote(quote.clone()).status_label());
    }
    for (status, paid) in [
        (InvoiceStatus::Draft, "0"),
        (InvoiceStatus::Issued, "0"),
        (InvoiceStatus::Issued, "1"),
        (InvoiceStatus::Issued, "1000000"),
        (InvoiceStatus::Void, "0"),
    ] {
        invoice.status = status;
        invoice.amount_paid = paid.parse().unwrap();
        labels.push(Record::Invoice(invoice.clone()).status_label());
    }
    let wo: WorkOrder = fixtures::work_order(&org, "w", Some(&client), None);
    labels.push(Record::WorkOrder(wo).status_label());
    assert_eq!(
        labels,
        [
            "draft",
            "awaiting_decision",
            "draft",
            "unpaid",
            "partially_paid",
            "paid",
            "void",
            "scheduled"
        ]
    );
}

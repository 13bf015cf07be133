//! Model-based test: random sequences of staff, host and client actions run against the service
//! (over the in-memory fakes) and against a tiny reference model written from SPEC.md alone.
//! After every step both must agree on what every link ever minted opens to, and on the mail
//! queued (S4 S5 S6 S7 S8 N1 N2 N3 N6).

use proptest::prelude::*;
use time::{Duration, OffsetDateTime};

use portico_core::model::{LinkReason, NotificationKind, Role, Sections, Task, Update, WorkStatus};
use portico_core::ports::Clock;
use portico_core::service::{EnableShare, HostEvent, ShareChange};
use portico_core::testing::fixtures;

use crate::support::{Answer, World, answer, owner, staff_id};

#[derive(Debug, Clone)]
enum Action {
    Enable(Role),
    Revoke(Role),
    Sections(u16),
    Recipient(bool),
    Status(WorkStatus, Role),
    Tick(usize, bool, Role),
    Post(bool, Role),
    Paid(bool),
    Reopen,
    Switch(bool),
    WaitMinutes(i64),
    WaitDays(i64),
}

fn action() -> impl Strategy<Value = Action> {
    let role = proptest::sample::select(Role::ALL.to_vec());
    let status = proptest::sample::select(WorkStatus::ALL.to_vec());
    prop_oneof![
        3 => role.clone().prop_map(Action::Enable),
        1 => role.clone().prop_map(Action::Revoke),
        1 => (0u16..512).prop_map(Action::Sections),
        1 => any::<bool>().prop_map(Action::Recipient),
        3 => (status, role.clone()).prop_map(|(s, r)| Action::Status(s, r)),
        3 => (0usize..4, any::<bool>(), role.clone()).prop_map(|(i, d, r)| Action::Tick(i, d, r)),
        2 => (any::<bool>(), role).prop_map(|(s, r)| Action::Post(s, r)),
        2 => any::<bool>().prop_map(Action::Paid),
        1 => Just(Action::Reopen),
        1 => any::<bool>().prop_map(Action::Switch),
        2 => (0i64..4).prop_map(Action::WaitMinutes),
        1 => (0i64..40).prop_map(Action::WaitDays),
    ]
}

fn can_share(role: Role) -> bool {
    !matches!(role, Role::Technician | Role::Apprentice)
}

const CLIENT: &str = "jordan@client.example";
const WINDOW: Duration = Duration::minutes(2);

/// One email as both sides describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Mail {
    generation: usize,
    what: String,
    to: String,
    due: OffsetDateTime,
}

#[derive(Debug, Clone)]
struct ModelShare {
    active: bool,
    sections: u16,
    recipient: String,
    expires_at: Option<OffsetDateTime>,
    /// When it was closed (revoked, or replaced by sharing again).
    closed_at: Option<OffsetDateTime>,
}

/// The reference model: just enough state to predict answers and mail.
#[derive(Debug)]
struct Model {
    now: OffsetDateTime,
    status: WorkStatus,
    paid: bool,
    completed_at: Option<OffsetDateTime>,
    paid_at: Option<OffsetDateTime>,
    done: [bool; 4],
    sharing_on: bool,
    generations: Vec<ModelShare>,
    mails: Vec<Mail>,
    updates: usize,
}

impl Model {
    fn current(&mut self) -> Option<&mut ModelShare> {
        self.generations.last_mut().filter(|s| s.active)
    }

    fn dead(s: &ModelShare, now: OffsetDateTime) -> bool {
        s.expires_at.is_some_and(|at| now >= at)
    }

    fn answer(&self, generation: usize) -> Answer {
        let s = &self.generations[generation];
        // S7: a link closed only after it had expired stays "no longer active" for good.
        let closed_after_expiry = s
            .closed_at
            .zip(s.expires_at)
            .is_some_and(|(closed, expired)| expired <= closed);
        if !s.active && !closed_after_expiry {
            Answer::NotFound
        } else if !self.sharing_on {
            Answer::Unavailable
        } else if Self::dead(s, self.now) {
            Answer::Expired
        } else {
            Answer::View
        }
    }

    fn closed_expiry(&self) -> Option<OffsetDateTime> {
        match (self.status, self.paid, self.completed_at, self.paid_at) {
            (WorkStatus::Completed, true, Some(c), Some(p)) => Some(c.max(p) + Duration::days(30)),
            _ => None,
        }
    }

    /// Queues a mail, merging bursts of the same generation, kind and recipient.
    fn mail(&mut self, generation: usize, kind: &str, detail: &str, bursts: bool) {
        let to = self.generations[generation].recipient.clone();
        let now = self.now;
        if bursts
            && let Some(open) = self.mails.iter_mut().rev().find(|m| {
                m.generation == generation && m.what.starts_with(kind) && m.due > now && m.to == to
            })
        {
            open.what = merge(&open.what, kind, detail);
            return;
        }
        let due = if bursts { now + WINDOW } else { now };
        self.mails.push(Mail {
            generation,
            what: format!("{kind}:{detail}"),
            to,
            due,
        });
    }

    /// A host change of the work order: stamps, expiry, then the mail it causes.
    fn change(&mut self, apply: impl FnOnce(&mut Model)) {
        let (old_status, old_done) = (self.status, self.done);
        let old_updates = self.updates;
        apply(self);
        if self.status != WorkStatus::Completed {
            self.completed_at = None;
        } else if old_status != WorkStatus::Completed {
            self.completed_at = Some(self.now);
        }
        let closed = self.closed_expiry();
        let now = self.now;
        let Some(generation) = self.generations.iter().rposition(|s| s.active) else {
            return;
        };
        let share = &mut self.generations[generation];
        if !Self::dead(share, now) {
            share.expires_at = closed;
        }
        if !self.sharing_on || Self::dead(share, now) {
            return;
        }
        let sections = share.sections;
        if self.status != old_status {
            self.mail(
                generation,
                "status",
                &format!("{}>{}", old_status.as_str(), self.status.as_str()),
                true,
            );
        }
        let ticked = (0..3).filter(|i| self.done[*i] && !old_done[*i]).count();
        if ticked > 0 && sections & (1 << 3) != 0 {
            self.mail(generation, "tasks", &ticked.to_string(), true);
        }
        if self.updates > old_updates && sections & (1 << 8) != 0 {
            self.mail(
                generation,
                "updates",
                &(self.updates - old_updates).to_string(),
                true,
            );
        }
    }
}

fn merge(open: &str, kind: &str, detail: &str) -> String {
    let old = open.trim_start_matches(kind).trim_start_matches(':');
    match kind {
        "status" => {
            let from = old.split('>').next().unwrap_or_default();
            let to = detail.split('>').nth(1).unwrap_or_default();
            format!("status:{from}>{to}")
        }
        _ => format!(
            "{kind}:{}",
            old.parse::<usize>().unwrap() + detail.parse::<usize>().unwrap()
        ),
    }
}

fn describe(kind: &NotificationKind) -> String {
    match kind {
        NotificationKind::LinkShared { reason } => format!("link:{reason:?}"),
        NotificationKind::StatusChanged { from, to } => format!("status:{from}>{to}"),
        NotificationKind::TasksCompleted { tasks, .. } => format!("tasks:{}", tasks.len()),
        NotificationKind::UpdatesShared { updates, .. } => format!("updates:{}", updates.len()),
        NotificationKind::QuoteDecided { decision, .. } => format!("quote:{decision:?}"),
        NotificationKind::HelpRequested { name, .. } => format!("help:{name}"),
        other => format!("portal:{:?}", other.topic()),
    }
}

// Reason: one match over every action reads better than the same split over several functions.
#[allow(clippy::too_many_lines)]
fn run(actions: Vec<Action>) -> Result<(), TestCaseError> {
    let w = World::new();
    let mut wo = w.work_order();
    wo.tasks = (0..4)
        .map(|i| Task {
            id: fixtures::task_id(&format!("k{i}")),
            title: format!("Task {i}"),
            done: false,
            internal: i == 3,
        })
        .collect();
    w.upsert_wo(&owner(), wo).unwrap();
    let mut m = Model {
        now: w.clock.now(),
        status: WorkStatus::Scheduled,
        paid: false,
        completed_at: None,
        paid_at: None,
        done: [false; 4],
        sharing_on: true,
        generations: Vec::new(),
        mails: Vec::new(),
        updates: 1,
    };
    let mut links: Vec<String> = Vec::new();
    let mut share_ids = Vec::new();
    let event = |actor: Role, e: HostEvent| {
        w.block_on(
            w.portico
                .apply_event(&staff_id(actor), &w.org, &w.wo.id, &e),
        )
    };

    for (step, action) in actions.into_iter().enumerate() {
        match action.clone() {
            Action::Enable(role) => {
                let got = w.block_on(w.portico.enable_share(
                    &staff_id(role),
                    &w.org,
                    &w.wo,
                    &EnableShare::default(),
                ));
                let live = m
                    .generations
                    .last()
                    .as_ref()
                    .is_some_and(|s| s.active && !Model::dead(s, m.now));
                let would_expire = m.closed_expiry().filter(|at| *at <= m.now);
                if !can_share(role) || !m.sharing_on || (!live && would_expire.is_some()) {
                    prop_assert!(
                        got.is_err(),
                        "step {step}: {action:?} should fail, got {got:?}"
                    );
                } else if live {
                    prop_assert_eq!(
                        got.unwrap().link,
                        Some(links.last().unwrap().clone()),
                        "S4 at step {}",
                        step
                    );
                } else {
                    let info = got.unwrap();
                    let now = m.now;
                    if let Some(old) = m.current() {
                        old.active = false;
                        old.closed_at = Some(now);
                    }
                    let reason = if m.generations.is_empty() {
                        LinkReason::Enabled
                    } else {
                        LinkReason::Reshared
                    };
                    m.generations.push(ModelShare {
                        active: true,
                        sections: 0x1ff,
                        recipient: CLIENT.into(),
                        expires_at: m.closed_expiry(),
                        closed_at: None,
                    });
                    let generation = m.generations.len() - 1;
                    m.mail(generation, "link", &format!("{reason:?}"), false);
                    prop_assert!(
                        !links.contains(info.link.as_ref().unwrap()),
                        "S5: fresh token"
                    );
                    links.push(info.link.unwrap());
                    share_ids.push(info.id);
                }
            }
            Action::Revoke(role) => {
                let Some(id) = share_ids.last().copied() else {
                    continue;
                };
                let got = w.block_on(w.portico.revoke_share(&staff_id(role), &w.org, id));
                prop_assert_eq!(got.is_ok(), can_share(role), "step {}", step);
                let now = m.now;
                if can_share(role)
                    && let Some(s) = m.current()
                {
                    s.active = false;
                    s.closed_at = Some(now);
                }
            }
            Action::Sections(bits) => {
                let Some(id) = share_ids.last().copied() else {
                    continue;
                };
                let change = ShareChange {
                    sections: Some(Sections::from_bits(bits)),
                    recipient: None,
                };
                let got = w.block_on(w.portico.change_share(&owner(), &w.org, id, &change));
                match m.current() {
                    Some(s) => {
                        prop_assert!(got.is_ok());
                        s.sections = bits;
                    }
                    None => prop_assert!(got.is_err()),
                }
            }
            Action::Recipient(second) => {
                let Some(id) = share_ids.last().copied() else {
                    continue;
                };
                let to = if second {
                    "partner@client.example"
                } else {
                    CLIENT
                };
                let change = ShareChange {
                    recipient: Some(to.into()),
                    sections: None,
                };
                let got = w.block_on(w.portico.change_share(&owner(), &w.org, id, &change));
                let now = m.now;
                let on = m.sharing_on;
                match m.generations.iter().rposition(|s| s.active) {
                    Some(generation) => {
                        prop_assert!(got.is_ok());
                        let s = &mut m.generations[generation];
                        if s.recipient != to {
                            s.recipient = to.into();
                            if on && !Model::dead(s, now) {
                                m.mail(generation, "link", "NewRecipient", false);
                            }
                        }
                    }
                    None => prop_assert!(got.is_err()),
                }
            }
            Action::Status(status, role) => {
                event(role, HostEvent::StatusChanged { status }).unwrap();
                m.change(|m| m.status = status);
            }
            Action::Tick(i, done, role) => {
                event(
                    role,
                    HostEvent::TaskDone {
                        task: fixtures::task_id(&format!("k{i}")),
                        done,
                    },
                )
                .unwrap();
                m.change(|m| m.done[i] = done);
            }
            Action::Post(shared, role) => {
                let update = Update {
                    id: fixtures::update_id(&format!("p{step}")),
                    author: None,
                    posted_at: m.now,
                    body: format!("Post {step}"),
                    shared,
                };
                let got = event(role, HostEvent::UpdatePosted { update });
                if shared && !can_share(role) {
                    prop_assert!(got.is_err(), "S1: {role:?} may not share an update");
                } else {
                    got.unwrap();
                    m.change(|m| {
                        if shared {
                            m.updates += 1;
                        }
                    });
                }
            }
            Action::Paid(paid) => {
                event(Role::Admin, HostEvent::PaymentRecorded { paid }).unwrap();
                m.change(|m| {
                    if paid && !m.paid {
                        m.paid_at = Some(m.now);
                    }
                    if !paid {
                        m.paid_at = None;
                    }
                    m.paid = paid;
                });
            }
            Action::Reopen => {
                event(Role::Supervisor, HostEvent::Reopen { status: None }).unwrap();
                m.change(|m| {
                    if m.status == WorkStatus::Completed {
                        m.status = WorkStatus::InProgress;
                    }
                });
            }
            Action::Switch(on) => {
                w.put_org(|o| o.settings.client_sharing = on);
                m.sharing_on = on;
            }
            Action::WaitMinutes(n) => {
                w.clock.advance(Duration::minutes(n));
                m.now += Duration::minutes(n);
            }
            Action::WaitDays(n) => {
                w.clock.advance(Duration::days(n));
                m.now += Duration::days(n);
            }
        }
        for (generation, link) in links.iter().enumerate() {
            prop_assert_eq!(
                answer(&w.open(link)),
                m.answer(generation),
                "link {} after step {}: {:?}",
                generation,
                step,
                action
            );
        }
        let got: Vec<Mail> = w
            .outbox()
            .into_iter()
            .map(|n| Mail {
                generation: share_ids
                    .iter()
                    .position(|id| Some(*id) == n.share_id)
                    .unwrap(),
                what: describe(&n.kind),
                to: n.to.to_string(),
                due: n.due_at,
            })
            .collect();
        prop_assert_eq!(&got, &m.mails, "mail after step {}: {:?}", step, action);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn model_based_share_lifecycle_agrees_with_reference(actions in proptest::collection::vec(action(), 1..40)) {
        run(actions)?;
    }
}

//! The pages' templates and what they show, ready to print: money, dates and words are
//! formatted here so the templates only place text (askama escapes all of it).

use askama::Template;
use portico_core::locale::Presentation;
use portico_core::model::{DecisionKind, FileId, PaymentStatus, RecordKind, Totals};
use portico_core::view::{ClientView, CompanyCard, Due, ViewBody, status_words};

fn payment_words(status: PaymentStatus) -> &'static str {
    match status {
        PaymentStatus::Unpaid => "Unpaid",
        PaymentStatus::PartiallyPaid => "Partly paid",
        PaymentStatus::Paid => "Paid",
        PaymentStatus::Void => "Void",
    }
}

/// The company as the pages show it.
pub(crate) struct Company {
    pub(crate) name: String,
    pub(crate) logo_url: Option<String>,
    pub(crate) phone: Option<String>,
    pub(crate) phone_href: String,
    pub(crate) email: Option<String>,
}

impl Company {
    pub(crate) fn new(card: &CompanyCard, base_url: Option<&str>) -> Self {
        let phone_href = card
            .phone
            .as_deref()
            .unwrap_or_default()
            .chars()
            .filter(|c| c.is_ascii_digit() || *c == '+')
            .collect();
        Self {
            name: card.name.clone(),
            logo_url: base_url.and_then(|b| card.logo.as_ref().map(|l| file_url(b, l))),
            phone: card.phone.clone(),
            phone_href,
            email: card.email.as_ref().map(ToString::to_string),
        }
    }
}

fn file_url(base_url: &str, file: &FileId) -> String {
    format!("{base_url}/files/{file}")
}

/// The "Get help" form's state.
#[derive(Default)]
pub(crate) struct HelpForm {
    pub(crate) name: String,
    pub(crate) phone: String,
    pub(crate) message: String,
    pub(crate) error: Option<String>,
    pub(crate) sent: bool,
}

/// What every page behind a token shows (V2).
pub(crate) struct Common {
    pub(crate) company: Company,
    pub(crate) title: String,
    pub(crate) kind_label: &'static str,
    pub(crate) kind_word: &'static str,
    pub(crate) status_code: String,
    pub(crate) status_label: String,
    /// `/s/{token}`: where the page's forms, files and events live.
    pub(crate) base_url: String,
    pub(crate) events_url: String,
    pub(crate) csrf: String,
    pub(crate) live: bool,
    /// A status change reloads the page (an invoice's amounts follow its status).
    pub(crate) reload: bool,
    pub(crate) help: HelpForm,
    /// In the portal: the way back to the list and out.
    pub(crate) portal: Option<PortalNav>,
}

/// The portal's navigation on a signed-in page.
pub(crate) struct PortalNav {
    pub(crate) home: String,
    pub(crate) account: String,
    pub(crate) sign_out: String,
    pub(crate) csrf: String,
}

pub(crate) struct ClientInfo {
    pub(crate) name: String,
    pub(crate) address: Option<String>,
    pub(crate) phone: Option<String>,
    pub(crate) email: Option<String>,
}

pub(crate) struct Technician {
    pub(crate) name: String,
    pub(crate) photo_url: Option<String>,
}

pub(crate) struct Schedule {
    pub(crate) start: String,
    pub(crate) end: String,
    pub(crate) technician: Option<Technician>,
}

pub(crate) struct Task {
    pub(crate) title: String,
    pub(crate) done: bool,
}

pub(crate) struct File {
    pub(crate) url: String,
    pub(crate) name: String,
    pub(crate) alt: String,
    pub(crate) caption: Option<String>,
    /// "Before" or "After", when the host said.
    pub(crate) stage: Option<&'static str>,
}

/// The shared photos of a job, grouped by the day they were taken (newest day first, undated
/// last), and its other files.
pub(crate) struct Gallery {
    pub(crate) days: Vec<PhotoDay>,
    pub(crate) documents: Vec<File>,
}

impl Gallery {
    pub(crate) fn is_empty(&self) -> bool {
        self.days.is_empty() && self.documents.is_empty()
    }
}

pub(crate) struct PhotoDay {
    /// The day in the org's words, or `None` for photos without one.
    pub(crate) label: Option<String>,
    pub(crate) photos: Vec<File>,
}

fn gallery(
    files: &[portico_core::view::FileView],
    show: &portico_core::locale::Presentation,
    url: &impl Fn(&portico_core::model::FileId) -> String,
) -> Gallery {
    let mut days: Vec<(Option<time::Date>, Vec<File>)> = Vec::new();
    let mut documents = Vec::new();
    for f in files {
        let is_image = f.content_type.starts_with("image/");
        let file = File {
            url: url(&f.id),
            name: f.name.clone(),
            alt: f.caption.clone().unwrap_or_else(|| f.name.clone()),
            caption: f.caption.clone(),
            stage: f.stage.map(|s| match s {
                portico_core::model::PhotoStage::Before => "Before",
                portico_core::model::PhotoStage::After => "After",
            }),
        };
        if !is_image {
            documents.push(file);
            continue;
        }
        let day = f.taken_at.map(|at| show.today(at));
        match days.iter_mut().find(|(d, _)| *d == day) {
            Some((_, photos)) => photos.push(file),
            None => days.push((day, vec![file])),
        }
    }
    // Newest day first, undated last; within a day, before photos ahead of after photos.
    days.sort_by(|(a, _), (b, _)| match (a, b) {
        (Some(a), Some(b)) => b.cmp(a),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    Gallery {
        days: days
            .into_iter()
            .map(|(day, mut photos)| {
                photos.sort_by_key(|p| match p.stage {
                    Some("Before") => 0,
                    None => 1,
                    _ => 2,
                });
                PhotoDay {
                    label: day.map(|d| show.date(d)),
                    photos,
                }
            })
            .collect(),
        documents,
    }
}

pub(crate) struct Part {
    pub(crate) name: String,
    pub(crate) quantity: String,
}

pub(crate) struct Signature {
    pub(crate) signed_by: String,
    pub(crate) signed_at: String,
    pub(crate) image_url: Option<String>,
}

pub(crate) struct InvoiceSummary {
    pub(crate) number: String,
    pub(crate) total: String,
    pub(crate) paid: String,
    pub(crate) due: String,
    pub(crate) status: &'static str,
}

pub(crate) struct UpdateItem {
    pub(crate) posted_at: String,
    pub(crate) author: Option<String>,
    pub(crate) body: String,
}

#[derive(Template)]
#[template(path = "work_order.html")]
pub(crate) struct WorkOrderPage {
    pub(crate) page: Common,
    pub(crate) client_info: Option<ClientInfo>,
    pub(crate) scope: Option<String>,
    pub(crate) schedule: Option<Schedule>,
    pub(crate) checklist: Option<Vec<Task>>,
    pub(crate) files: Option<Gallery>,
    pub(crate) parts: Option<Vec<Part>>,
    pub(crate) signature_shown: bool,
    pub(crate) signature: Option<Signature>,
    pub(crate) invoices: Option<Vec<InvoiceSummary>>,
    pub(crate) updates: Option<Vec<UpdateItem>>,
}

pub(crate) struct Line {
    pub(crate) description: String,
    pub(crate) quantity: String,
    pub(crate) unit_price: String,
    pub(crate) amount: String,
}

pub(crate) struct Tax {
    pub(crate) name: String,
    pub(crate) amount: String,
}

/// Priced lines and their totals (quotes and invoices).
pub(crate) struct Lines {
    pub(crate) items: Vec<Line>,
    pub(crate) subtotal: String,
    pub(crate) taxes: Vec<Tax>,
    pub(crate) total: String,
}

impl Lines {
    fn new(items: &[portico_core::view::LineView], totals: &Totals, show: &Presentation) -> Self {
        Self {
            items: items
                .iter()
                .map(|l| Line {
                    description: l.description.clone(),
                    quantity: show.quantity(l.quantity),
                    unit_price: show.money(&l.unit_price),
                    amount: show.money(&l.amount),
                })
                .collect(),
            subtotal: show.money(&totals.subtotal),
            taxes: totals
                .taxes
                .iter()
                .map(|t| Tax {
                    name: format!("{} ({})", t.name, show.percent(t.percent)),
                    amount: show.money(&t.amount),
                })
                .collect(),
            total: show.money(&totals.total),
        }
    }
}

pub(crate) struct Decision {
    pub(crate) verb: &'static str,
    pub(crate) message: Option<String>,
    pub(crate) at: String,
}

#[derive(Template)]
#[template(path = "quote.html")]
pub(crate) struct QuotePage {
    pub(crate) page: Common,
    pub(crate) number: String,
    pub(crate) client_name: Option<String>,
    pub(crate) valid_until: Option<String>,
    pub(crate) message: Option<String>,
    pub(crate) lines: Lines,
    pub(crate) decision: Option<Decision>,
    pub(crate) can_decide: bool,
    pub(crate) decision_error: Option<String>,
}

#[derive(Template)]
#[template(path = "invoice.html")]
pub(crate) struct InvoicePage {
    pub(crate) page: Common,
    pub(crate) number: String,
    pub(crate) client_name: Option<String>,
    pub(crate) due_date: Option<String>,
    /// "today" or "overdue" beside the due date, on the org's date (V9).
    pub(crate) due_note: Option<&'static str>,
    pub(crate) lines: Lines,
    pub(crate) amount_paid: String,
    pub(crate) amount_due: String,
    pub(crate) pay: Option<PayBox>,
}

/// The pages for links that do not open: unknown or revoked (one page, S5), expired (S7),
/// switched off (S8).
#[derive(Template)]
#[template(path = "gone.html")]
pub(crate) struct GonePage {
    pub(crate) heading: &'static str,
    pub(crate) explanation: &'static str,
    pub(crate) company: Option<Company>,
}

/// Extra state a page is rendered with (form errors, a message just sent).
#[derive(Default)]
pub(crate) struct Extras {
    pub(crate) help: HelpForm,
    pub(crate) decision_error: Option<String>,
    /// Rendered inside the portal (a way back to the list, and sign-out).
    pub(crate) portal: Option<PortalNav>,
    /// An invoice's payment box (I5).
    pub(crate) pay: Option<PayBox>,
}

/// What an invoice's page says about paying it (I5).
pub(crate) struct PayBox {
    /// Where Pay now leads, when the business takes payments online and something is due.
    pub(crate) url: Option<String>,
    /// Something is due.
    pub(crate) due: bool,
    /// A bank payment is on its way.
    pub(crate) processing: bool,
    /// The client just came back from the payment page: the payment is being confirmed.
    pub(crate) sent: bool,
}

/// Renders the page of `view`, behind `base_url` (`/s/{token}`).
pub(crate) fn render(
    view: &ClientView,
    base_url: &str,
    csrf: String,
    extras: Extras,
) -> Result<String, askama::Error> {
    let (kind_label, kind_word) = match view.kind {
        RecordKind::WorkOrder => ("Job", "job"),
        RecordKind::Quote => ("Quote", "quote"),
        RecordKind::Invoice => ("Invoice", "invoice"),
    };
    let page = Common {
        company: Company::new(&view.company, Some(base_url)),
        title: view.title.clone(),
        kind_label,
        kind_word,
        status_code: view.status.clone(),
        status_label: status_words(&view.status),
        base_url: base_url.to_owned(),
        events_url: format!("{base_url}/events"),
        csrf,
        live: matches!(view.body, ViewBody::WorkOrder(_) | ViewBody::Invoice(_)),
        reload: matches!(view.body, ViewBody::Invoice(_)),
        help: extras.help,
        portal: extras.portal,
    };
    let show = &view.presentation;
    match &view.body {
        ViewBody::WorkOrder(wo) => work_order_page(page, wo, base_url, show).render(),
        ViewBody::Quote(q) => QuotePage {
            page,
            number: q.number.clone(),
            client_name: q.client_name.clone(),
            valid_until: q.valid_until.map(|d| show.date(d)),
            message: q.message.clone(),
            lines: Lines::new(&q.items, &q.totals, show),
            decision: q.decision.as_ref().map(|d| Decision {
                verb: match d.kind {
                    DecisionKind::Approved => "approved",
                    DecisionKind::ChangesRequested => "asked for changes to",
                    DecisionKind::Declined => "declined",
                },
                message: d.message.clone(),
                at: show.date_time(d.at),
            }),
            can_decide: q.can_decide,
            decision_error: extras.decision_error,
        }
        .render(),
        ViewBody::Invoice(i) => InvoicePage {
            page,
            number: i.number.clone(),
            client_name: i.client_name.clone(),
            due_date: i.due_date.map(|d| show.date(d)),
            due_note: i.due.and_then(|due| match due {
                Due::Later => None,
                Due::Today => Some("today"),
                Due::Overdue => Some("overdue"),
            }),
            lines: Lines::new(&i.items, &i.totals, show),
            amount_paid: show.money(&i.amount_paid),
            amount_due: show.money(&i.amount_due),
            pay: extras.pay,
        }
        .render(),
    }
}

fn work_order_page(
    page: Common,
    wo: &portico_core::view::WorkOrderView,
    base_url: &str,
    show: &Presentation,
) -> WorkOrderPage {
    let url = |f: &FileId| file_url(base_url, f);
    WorkOrderPage {
        page,
        client_info: wo.client_info.as_ref().map(|c| ClientInfo {
            name: c.name.clone(),
            address: c.address.clone(),
            phone: c.phone.clone(),
            email: c.email.as_ref().map(ToString::to_string),
        }),
        scope: wo.scope.clone(),
        schedule: wo.schedule.as_ref().map(|s| Schedule {
            start: s
                .start
                .map_or_else(|| "To be arranged".into(), |t| show.date_time(t)),
            end: s
                .end
                .map_or_else(|| "To be arranged".into(), |t| show.date_time(t)),
            technician: s.technician.as_ref().map(|t| Technician {
                name: t.name.clone(),
                photo_url: t.photo.as_ref().map(url),
            }),
        }),
        checklist: wo.checklist.as_ref().map(|tasks| {
            tasks
                .iter()
                .map(|t| Task {
                    title: t.title.clone(),
                    done: t.done,
                })
                .collect()
        }),
        files: wo
            .photos_files
            .as_ref()
            .map(|files| gallery(files, show, &url)),
        parts: wo.parts_used.as_ref().map(|parts| {
            parts
                .iter()
                .map(|p| Part {
                    name: p.name.clone(),
                    quantity: show.quantity(p.quantity),
                })
                .collect()
        }),
        signature_shown: wo.signature.is_some(),
        signature: wo.signature.clone().flatten().map(|s| Signature {
            signed_by: s.signed_by,
            signed_at: show.date_time(s.signed_at),
            image_url: s.image.as_ref().map(url),
        }),
        invoices: wo.invoices.as_ref().map(|invoices| {
            invoices
                .iter()
                .map(|i| InvoiceSummary {
                    number: i.number.clone(),
                    total: show.money(&i.total),
                    paid: show.money(&i.paid),
                    due: show.money(&i.due),
                    status: payment_words(i.status),
                })
                .collect()
        }),
        updates: wo.updates.as_ref().map(|updates| {
            updates
                .iter()
                .map(|u| UpdateItem {
                    posted_at: show.date_time(u.posted_at),
                    author: u.author.clone(),
                    body: u.body.clone(),
                })
                .collect()
        }),
    }
}

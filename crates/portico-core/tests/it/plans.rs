//! C7: agreements, appointments and contracts — pushed in by the host, read by their client in
//! the portal, contracts signed there and kept as signed.

use portico_core::model::{
    Agreement, AppointmentStatus, ContractStatus, FeedEventKind, FileId, NotificationKind,
    PortalSection, Role, Sha256Digest, content_digest,
};
use portico_core::policy::plans::{SignForm, SigningRefused, agreement_view, appointment_view};
use portico_core::ports::BlobKey;
use portico_core::service::{ContractDraft, PortalError, RecordError};
use portico_core::testing::fixtures::{self, T0};
use proptest::prelude::*;
use time::Duration;
use time::macros::date;

use crate::support::{World, owner, staff_id};

/// A world whose client is invited and signed in; the session id.
fn signed_in() -> (World, String) {
    let w = World::new();
    w.invite();
    w.deliver();
    let session = w.sign_in().session.expose().to_owned();
    (w, session)
}

fn draft(w: &World, body: &str) -> ContractDraft {
    ContractDraft {
        org_id: w.org.clone(),
        id: portico_core::model::ContractId::new("k1").unwrap(),
        client_id: w.client.clone(),
        title: "Service terms".into(),
        body: body.into(),
        document: None,
        void: false,
    }
}

/// The smallest PNG header a drawing needs: signature, then an IHDR of 600 × 180.
fn png() -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    bytes.extend_from_slice(&600u32.to_be_bytes());
    bytes.extend_from_slice(&180u32.to_be_bytes());
    bytes.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
    bytes
}

fn sign_form(version: u32, title: &str, body: &str) -> SignForm {
    SignForm {
        version,
        digest: content_digest(title, body, None).to_hex(),
        name: "Jordan Lee".into(),
        confirmed: true,
        drawn: Some(png()),
    }
}

#[test]
fn c7_a_contract_is_signed_once_with_its_digest_drawing_time_address_and_browser() {
    let (w, session) = signed_in();
    let body = "1. We arrive within the window.\n2. Payment is due in 14 days.";
    let sent = w
        .block_on(w.portico.put_contract(&owner(), &draft(&w, body)))
        .unwrap();
    assert_eq!(sent.len(), 1);
    let home = w
        .block_on(
            w.portico
                .portal_home(&w.org, &session, portico_core::service::Paging::default()),
        )
        .unwrap();
    assert_eq!(home.contracts_to_sign, Some(1));
    w.clock.advance(Duration::minutes(5));
    let signed = w
        .block_on(w.portico.portal_sign_contract(
            &w.org,
            &session,
            &sent[0].id,
            sign_form(1, "Service terms", body),
            Some("203.0.113.9".into()),
            Some("Mozilla/5.0 (X11)".into()),
        ))
        .unwrap();
    let signature = signed.signature.clone().unwrap();
    assert_eq!(signed.status, ContractStatus::Signed);
    assert_eq!(signature.name, "Jordan Lee");
    assert_eq!(signature.at, T0 + Duration::minutes(5));
    assert_eq!(signature.ip.as_deref(), Some("203.0.113.9"));
    assert_eq!(signature.user_agent.as_deref(), Some("Mozilla/5.0 (X11)"));
    assert_eq!(
        signature.content,
        content_digest("Service terms", body, None)
    );
    assert_eq!(
        signature.content,
        Sha256Digest::parse(&sign_form(1, "Service terms", body).digest).unwrap()
    );
    // The drawing is stored under Portico's own name, which no host id can take.
    let image = signature.drawn.unwrap();
    let key = BlobKey {
        org: w.org.clone(),
        file: FileId::signature_image(image),
    };
    let stored = w.block_on(portico_core::ports::Blobs::get(&*w.blobs, &key));
    assert_eq!(stored.unwrap().unwrap().bytes, png());
    assert!(FileId::new(key.file.as_str()).is_err());
    // Logged and mailed to the business; nothing left to sign.
    let events = w.block_on(w.portico.events(&w.org, 0, 10)).unwrap();
    assert_eq!(
        events.last().unwrap().kind,
        FeedEventKind::ContractSigned {
            contract: signed.id.clone(),
            version: 1
        }
    );
    assert!(w.outbox().iter().any(|n| matches!(
        &n.kind,
        NotificationKind::ContractSigned { name, version: 1, digest, .. }
            if name == "Jordan Lee" && *digest == signature.content.to_hex()
    )));
    let again = w.block_on(w.portico.portal_sign_contract(
        &w.org,
        &session,
        &signed.id,
        sign_form(1, "Service terms", body),
        None,
        None,
    ));
    assert!(matches!(
        again,
        Err(PortalError::Signing(SigningRefused::NotOpen))
    ));
    let copy = w
        .block_on(w.portico.signed_copy(&w.org, &signed.id, 1))
        .unwrap();
    assert_eq!(copy.contract, signed);
    assert_eq!(copy.drawing.unwrap().bytes, png());
}

#[test]
fn c7_a_signed_contract_never_changes_and_a_changed_text_is_a_new_version() {
    let (w, session) = signed_in();
    let id = draft(&w, "v1").id;
    w.block_on(w.portico.put_contract(&owner(), &draft(&w, "v1")))
        .unwrap();
    w.block_on(w.portico.portal_sign_contract(
        &w.org,
        &session,
        &id,
        sign_form(1, "Service terms", "v1"),
        None,
        None,
    ))
    .unwrap();
    // The same text again: nothing changes. Withdrawing a signed version: refused.
    let same = w
        .block_on(w.portico.put_contract(&owner(), &draft(&w, "v1")))
        .unwrap();
    assert_eq!(same.len(), 1);
    assert_eq!(same[0].status, ContractStatus::Signed);
    let void = ContractDraft {
        void: true,
        ..draft(&w, "v1")
    };
    assert!(matches!(
        w.block_on(w.portico.put_contract(&owner(), &void)),
        Err(RecordError::Signed(1))
    ));
    // A changed text: version 2 to sign, version 1 kept as signed.
    let versions = w
        .block_on(w.portico.put_contract(&owner(), &draft(&w, "v2")))
        .unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0], same[0], "the signed version is untouched");
    assert_eq!(versions[1].status, ContractStatus::Sent);
    // Signing with what version 1 said is refused: the client must read version 2.
    let stale = w.block_on(w.portico.portal_sign_contract(
        &w.org,
        &session,
        &id,
        sign_form(1, "Service terms", "v1"),
        None,
        None,
    ));
    assert!(matches!(
        stale,
        Err(PortalError::Signing(SigningRefused::Changed))
    ));
    let shown = w
        .block_on(w.portico.portal_contract(&w.org, &session, &id))
        .unwrap();
    assert_eq!(
        shown
            .contracts
            .iter()
            .map(|c| c.version)
            .collect::<Vec<_>>(),
        vec![1, 2]
    );
    // Another client's contract id is not found; a withdrawn one is not shown.
    let withdrawn = ContractDraft {
        void: true,
        ..draft(&w, "v2")
    };
    w.block_on(w.portico.put_contract(&owner(), &withdrawn))
        .unwrap();
    let shown = w
        .block_on(w.portico.portal_contract(&w.org, &session, &id))
        .unwrap();
    assert_eq!(shown.contracts.len(), 1, "only the signed version is left");
    let client_change = ContractDraft {
        client_id: portico_core::model::ClientId::new("c9").unwrap(),
        ..draft(&w, "v3")
    };
    assert!(matches!(
        w.block_on(w.portico.put_contract(&owner(), &client_change)),
        Err(RecordError::Invalid(_))
    ));
}

#[test]
fn c7_a_signature_needs_a_name_a_tick_and_a_real_drawing() {
    let (w, session) = signed_in();
    let id = draft(&w, "text").id;
    w.block_on(w.portico.put_contract(&owner(), &draft(&w, "text")))
        .unwrap();
    let try_sign = |form: SignForm| {
        w.block_on(
            w.portico
                .portal_sign_contract(&w.org, &session, &id, form, None, None),
        )
    };
    let good = || sign_form(1, "Service terms", "text");
    for (form, why) in [
        (
            SignForm {
                name: "  \u{7} 123 ".into(),
                ..good()
            },
            SigningRefused::Name,
        ),
        (
            SignForm {
                confirmed: false,
                ..good()
            },
            SigningRefused::NotConfirmed,
        ),
        (
            SignForm {
                drawn: Some(b"GIF89a not a png".to_vec()),
                ..good()
            },
            SigningRefused::Drawing,
        ),
        (
            SignForm {
                digest: "00".repeat(32),
                ..good()
            },
            SigningRefused::Changed,
        ),
    ] {
        assert!(
            matches!(try_sign(form), Err(PortalError::Signing(found)) if found == why),
            "{why:?}"
        );
    }
    assert!(w.blobs.is_empty(), "nothing refused is stored");
    // Without a drawing (keyboard, screen reader): the typed name and the tick sign.
    let signed = try_sign(SignForm {
        drawn: None,
        ..good()
    })
    .unwrap();
    assert_eq!(signed.signature.unwrap().drawn, None);
}

#[test]
fn c7_agreements_and_appointments_show_their_client_what_is_theirs_and_nothing_internal() {
    let (w, session) = signed_in();
    let agreement = fixtures::agreement(&w.org, "a1", &w.client);
    w.block_on(w.portico.put_agreement(&owner(), &agreement))
        .unwrap();
    let c2 = fixtures::client(&w.org, "c2");
    w.block_on(w.portico.put_client(&c2)).unwrap();
    w.block_on(
        w.portico
            .put_agreement(&owner(), &fixtures::agreement(&w.org, "a2", &c2.id)),
    )
    .unwrap();
    let list = w
        .block_on(w.portico.portal_agreements(&w.org, &session))
        .unwrap();
    assert_eq!(list.agreements.len(), 1, "only the client's own");
    let view = &list.agreements[0];
    assert_eq!((view.done, view.visits.len()), (1, 4));
    assert_eq!(view.last_visit, Some(date!(2026 - 02 - 10)));
    assert_eq!(view.next_visit, Some(date!(2026 - 05 - 12)));
    let shown = format!("{list:?}");
    assert!(!shown.contains("gate code"), "internal notes never show");
    assert!(
        !shown.contains("1400") && !shown.contains("14.00"),
        "{shown}"
    );

    let mut job = fixtures::appointment(&w.org, "p1", &w.client, T0 + Duration::days(2));
    job.job = Some(w.wo.id.clone());
    let past = portico_core::model::Appointment {
        status: AppointmentStatus::Done,
        ..fixtures::appointment(&w.org, "p0", &w.client, T0 - Duration::days(7))
    };
    for a in [&job, &past] {
        w.block_on(w.portico.put_appointment(&owner(), a)).unwrap();
    }
    let list = w
        .block_on(w.portico.portal_appointments(&w.org, &session))
        .unwrap();
    assert_eq!(list.upcoming.len(), 1);
    assert_eq!(list.past.len(), 1);
    assert_eq!(list.upcoming[0].technician.as_deref(), Some("Sam"));
    assert_eq!(
        list.upcoming[0].job.as_ref().map(|(id, _)| id),
        Some(&w.wo.id)
    );
    assert!(!format!("{list:?}").contains("ladder"), "notes never show");
    // The host checks what it names: a technician of the org, a job of the same client.
    let stranger = portico_core::model::Appointment {
        technician: Some(portico_core::model::StaffId::new("nobody").unwrap()),
        ..job.clone()
    };
    assert!(matches!(
        w.block_on(w.portico.put_appointment(&owner(), &stranger)),
        Err(RecordError::Invalid(_))
    ));
    let others_job = portico_core::model::Appointment {
        client_id: c2.id.clone(),
        ..job.clone()
    };
    assert!(matches!(
        w.block_on(w.portico.put_appointment(&owner(), &others_job)),
        Err(RecordError::Invalid(_))
    ));
    // Only roles that may share push what clients see.
    assert!(matches!(
        w.block_on(
            w.portico
                .put_agreement(&staff_id(Role::Technician), &agreement)
        ),
        Err(RecordError::Actor(_))
    ));
    let backwards = Agreement {
        ends_on: Some(date!(2025 - 01 - 01)),
        ..agreement.clone()
    };
    assert!(matches!(
        w.block_on(w.portico.put_agreement(&owner(), &backwards)),
        Err(RecordError::Invalid(_))
    ));
}

#[test]
fn c1_c7_hidden_agreements_appointments_and_contracts_answer_not_found() {
    let (w, session) = signed_in();
    w.block_on(w.portico.put_contract(&owner(), &draft(&w, "text")))
        .unwrap();
    w.put_org(|o| {
        o.settings.portal.sections.retain(|s| {
            !matches!(
                s,
                PortalSection::Agreements | PortalSection::Appointments | PortalSection::Contracts
            )
        });
    });
    let id = draft(&w, "text").id;
    assert!(matches!(
        w.block_on(w.portico.portal_agreements(&w.org, &session)),
        Err(PortalError::NotFound)
    ));
    assert!(matches!(
        w.block_on(w.portico.portal_appointments(&w.org, &session)),
        Err(PortalError::NotFound)
    ));
    assert!(matches!(
        w.block_on(w.portico.portal_contract(&w.org, &session, &id)),
        Err(PortalError::NotFound)
    ));
    assert!(matches!(
        w.block_on(w.portico.portal_sign_contract(
            &w.org,
            &session,
            &id,
            sign_form(1, "Service terms", "text"),
            None,
            None
        )),
        Err(PortalError::NotFound)
    ));
    let home = w
        .block_on(
            w.portico
                .portal_home(&w.org, &session, portico_core::service::Paging::default()),
        )
        .unwrap();
    assert_eq!(home.contracts_to_sign, None);
    assert!(!home.agreements && !home.appointments);
}

fn any_agreement() -> impl Strategy<Value = Agreement> {
    (
        "[A-Z]{12}",
        proptest::collection::vec((0u16..700, any::<bool>()), 0..20),
    )
        .prop_map(|(marker, visits)| {
            let org = portico_core::model::OrgId::new("org1").unwrap();
            let client = portico_core::model::ClientId::new("c1").unwrap();
            let mut a = fixtures::agreement(&org, "a1", &client);
            a.internal_notes = marker;
            a.cost = Some(rust_decimal::Decimal::new(987_654_321, 2));
            a.margin_percent = Some(rust_decimal::Decimal::new(123_457, 3));
            a.visits = visits
                .into_iter()
                .map(|(day, done)| portico_core::model::Visit {
                    on: date!(2026 - 01 - 01) + Duration::days(i64::from(day)),
                    done,
                })
                .collect();
            a
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// V4, C7: whatever an agreement or appointment holds, what its client sees never holds the
    /// business's cost, margin or notes; the progress counts the visits done.
    #[test]
    fn v4_c7_no_internal_field_of_an_agreement_or_appointment_reaches_the_client(
        agreement in any_agreement(),
        today in 0i64..700,
        marker in "[A-Z]{12}",
    ) {
        let today = date!(2026 - 01 - 01) + Duration::days(today);
        let view = agreement_view(&agreement, today);
        let shown = format!("{view:?}");
        prop_assert!(!shown.contains(&agreement.internal_notes));
        prop_assert!(!shown.contains("9876543.21") && !shown.contains("123.457"));
        prop_assert_eq!(view.done, agreement.visits.iter().filter(|v| v.done).count());
        if let Some(next) = view.next_visit {
            prop_assert!(next >= today);
        }
        let mut appointment = fixtures::appointment(&agreement.org_id, "p1", &agreement.client_id, T0);
        appointment.internal_notes = marker.clone();
        let view = appointment_view(&appointment, Some("Sam Spark"), None);
        let shown = format!("{view:?}");
        prop_assert!(!shown.contains(&marker));
        prop_assert!(!shown.contains("Spark"), "the first name only");
    }

    /// C7: whatever the host sends after a signature, the signed version keeps the text whose
    /// digest the client was shown, and its digest matches that text.
    #[test]
    fn c7_a_signed_contract_is_immutable_and_its_digest_matches_what_was_shown(
        texts in proptest::collection::vec(("[a-z ]{0,12}", any::<bool>()), 1..6),
    ) {
        let (w, session) = signed_in();
        let first = "Terms as signed";
        let id = draft(&w, first).id;
        w.block_on(w.portico.put_contract(&owner(), &draft(&w, first))).unwrap();
        let shown = w.block_on(w.portico.portal_contract(&w.org, &session, &id)).unwrap();
        let read = shown.contracts.last().unwrap().clone();
        let digest = read.content_digest();
        prop_assert_eq!(digest, content_digest(&read.title, &read.body, None));
        let signed = w.block_on(w.portico.portal_sign_contract(
            &w.org, &session, &id,
            SignForm { version: read.version, digest: digest.to_hex(), name: "Jordan Lee".into(), confirmed: true, drawn: None },
            None, None,
        )).unwrap();
        for (text, void) in texts {
            let next = ContractDraft { void, ..draft(&w, &text) };
            let _ = w.block_on(w.portico.put_contract(&owner(), &next));
        }
        let versions = w.block_on(w.portico.contract_versions(&w.org, &id)).unwrap();
        prop_assert_eq!(&versions[0], &signed);
        prop_assert_eq!(versions[0].signature.as_ref().unwrap().content, digest);
        prop_assert_eq!(versions[0].body.as_str(), first);
        for v in &versions[1..] {
            prop_assert!(v.signature.is_none());
        }
    }

    /// C6, C7: with two clients of one org, a session signs, reads and lists only its own
    /// client's contracts, agreements and appointments.
    #[test]
    fn c6_c7_a_client_signs_and_reads_only_their_own_contracts_and_plans(
        owners in proptest::collection::vec(any::<bool>(), 1..6),
    ) {
        let (w, session) = signed_in();
        let c2 = fixtures::client(&w.org, "c2");
        w.block_on(w.portico.put_client(&c2)).unwrap();
        for (n, mine) in owners.iter().enumerate() {
            let client = if *mine { w.client.clone() } else { c2.id.clone() };
            let id = format!("k{n}");
            let d = ContractDraft {
                id: portico_core::model::ContractId::new(id.as_str()).unwrap(),
                client_id: client.clone(),
                ..draft(&w, "text")
            };
            w.block_on(w.portico.put_contract(&owner(), &d)).unwrap();
            w.block_on(w.portico.put_agreement(&owner(), &fixtures::agreement(&w.org, &format!("a{n}"), &client))).unwrap();
            w.block_on(w.portico.put_appointment(&owner(), &fixtures::appointment(&w.org, &format!("p{n}"), &client, T0))).unwrap();
            let signed = w.block_on(w.portico.portal_sign_contract(
                &w.org, &session, &d.id, sign_form(1, "Service terms", "text"), None, None,
            ));
            if *mine {
                prop_assert!(signed.is_ok());
            } else {
                prop_assert!(matches!(signed, Err(PortalError::NotFound)));
                prop_assert!(matches!(
                    w.block_on(w.portico.portal_contract(&w.org, &session, &d.id)),
                    Err(PortalError::NotFound)
                ));
            }
        }
        let mine = owners.iter().filter(|m| **m).count();
        let contracts = w.block_on(w.portico.portal_contracts(&w.org, &session)).unwrap();
        prop_assert_eq!(contracts.contracts.len(), mine);
        prop_assert!(contracts.contracts.iter().all(|c| c.client_id == w.client));
        let agreements = w.block_on(w.portico.portal_agreements(&w.org, &session)).unwrap();
        prop_assert_eq!(agreements.agreements.len(), mine);
        let appointments = w.block_on(w.portico.portal_appointments(&w.org, &session)).unwrap();
        prop_assert_eq!(appointments.upcoming.len() + appointments.past.len(), mine);
        let theirs = w.block_on(w.portico.contract_versions(&w.org, &portico_core::model::ContractId::new("k0").unwrap())).unwrap();
        if !owners[0] {
            prop_assert!(theirs[0].signature.is_none(), "nobody signed the other client's");
        }
    }
}

#[test]
fn c7_two_signatures_racing_for_one_version_sign_it_once() {
    let (w, session) = signed_in();
    let id = draft(&w, "text").id;
    w.block_on(w.portico.put_contract(&owner(), &draft(&w, "text")))
        .unwrap();
    let sign = || {
        w.portico.portal_sign_contract(
            &w.org,
            &session,
            &id,
            sign_form(1, "Service terms", "text"),
            None,
            None,
        )
    };
    let (a, b) = w.block_on(async { tokio::join!(sign(), sign()) });
    let signed = [&a, &b].iter().filter(|r| r.is_ok()).count();
    assert_eq!(signed, 1, "{a:?} {b:?}");
    for refused in [a, b].into_iter().filter_map(Result::err) {
        assert!(
            matches!(
                refused,
                PortalError::Signing(SigningRefused::NotOpen | SigningRefused::Changed)
            ),
            "{refused:?}"
        );
    }
    let events = w.block_on(w.portico.events(&w.org, 0, 10)).unwrap();
    let signatures = events
        .iter()
        .filter(|e| matches!(e.kind, FeedEventKind::ContractSigned { .. }))
        .count();
    assert_eq!(signatures, 1, "one event for one signature");
}

#[test]
fn c7_a_service_request_keeps_up_to_three_photos_behind_the_blob_port_and_nothing_else() {
    use portico_core::policy::inbox::{AttachedPhoto, RequestForm, WritingRefused};
    let (w, session) = signed_in();
    let form = RequestForm {
        name: "Jordan Lee".into(),
        description: "The porch light flickers.".into(),
        ..RequestForm::default()
    };
    let photo = |content_type: &str, bytes: Vec<u8>| AttachedPhoto {
        content_type: content_type.into(),
        bytes,
    };
    let max = 2 * 1024 * 1024;
    for refused in [
        vec![photo("image/png", png()); 4],
        vec![photo("image/svg+xml", b"<svg/>".to_vec())],
        vec![photo("application/pdf", b"%PDF-1.7".to_vec())],
        vec![photo("image/jpeg", vec![0xff; max + 1])],
    ] {
        let sent = w.block_on(
            w.portico
                .portal_send_request(&w.org, &session, &form, refused),
        );
        assert!(
            matches!(sent, Err(PortalError::Writing(WritingRefused::Photos))),
            "{sent:?}"
        );
    }
    assert!(w.blobs.is_empty(), "nothing refused is stored");
    let sent = w
        .block_on(w.portico.portal_send_request(
            &w.org,
            &session,
            &form,
            vec![photo("image/png", png()), photo("image/png", Vec::new())],
        ))
        .unwrap();
    assert_eq!(sent.photos.len(), 1, "an empty file field is no photo");
    let got = w
        .block_on(
            w.portico
                .service_request_photo(&w.org, sent.id, sent.photos[0]),
        )
        .unwrap();
    assert_eq!((got.content_type.as_str(), got.bytes), ("image/png", png()));
    let stranger = uuid::Uuid::from_bytes([9; 16]);
    assert!(matches!(
        w.block_on(w.portico.service_request_photo(&w.org, sent.id, stranger)),
        Err(portico_core::service::StaffError::NotFound(_))
    ));
}

#[test]
fn c7_a_contract_pdf_is_copied_under_its_digest_and_part_of_what_is_signed() {
    let (w, session) = signed_in();
    let file = FileId::new("terms.pdf").unwrap();
    let upload = |bytes: &[u8]| {
        w.block_on(
            w.portico
                .put_file(&owner(), &w.org, &file, "application/pdf", bytes.to_vec()),
        )
        .unwrap();
    };
    upload(b"%PDF-1.7 first");
    let with_pdf = ContractDraft {
        document: Some(file.clone()),
        ..draft(&w, "")
    };
    let sent = w
        .block_on(w.portico.put_contract(&owner(), &with_pdf))
        .unwrap();
    let document = sent[0].document.clone().unwrap();
    assert_eq!(document.sha256, Sha256Digest::of(b"%PDF-1.7 first"));
    assert_eq!(
        sent[0].content_digest(),
        content_digest("Service terms", "", Some(&document.sha256))
    );
    assert_ne!(
        sent[0].content_digest(),
        content_digest("Service terms", "", None),
        "the PDF is part of the digest"
    );
    // Other bytes under the host's id change no version sent; sending again makes version 2.
    upload(b"%PDF-1.7 second");
    let kept = w
        .block_on(w.portico.contract_document_bytes(&w.org, &sent[0].id, 1))
        .unwrap();
    assert_eq!(kept.bytes, b"%PDF-1.7 first");
    let versions = w
        .block_on(w.portico.put_contract(&owner(), &with_pdf))
        .unwrap();
    assert_eq!(versions.len(), 2);
    let v2 = versions[1].clone();
    let form = SignForm {
        version: 2,
        digest: v2.content_digest().to_hex(),
        name: "Jordan Lee".into(),
        confirmed: true,
        drawn: None,
    };
    let signed = w
        .block_on(
            w.portico
                .portal_sign_contract(&w.org, &session, &v2.id, form, None, None),
        )
        .unwrap();
    assert_eq!(signed.signature.unwrap().content, v2.content_digest());
    let got = w
        .block_on(
            w.portico
                .portal_contract_document(&w.org, &session, &v2.id, 2),
        )
        .unwrap()
        .unwrap();
    assert_eq!(got.bytes, b"%PDF-1.7 second");
    // Not uploaded, or not a PDF: refused.
    let missing = ContractDraft {
        id: portico_core::model::ContractId::new("k2").unwrap(),
        document: Some(FileId::new("nope.pdf").unwrap()),
        ..draft(&w, "")
    };
    assert!(matches!(
        w.block_on(w.portico.put_contract(&owner(), &missing)),
        Err(RecordError::Invalid(_))
    ));
    w.block_on(w.portico.put_file(
        &owner(),
        &w.org,
        &FileId::new("pic").unwrap(),
        "image/png",
        png(),
    ))
    .unwrap();
    let not_pdf = ContractDraft {
        document: Some(FileId::new("pic").unwrap()),
        ..missing
    };
    assert!(matches!(
        w.block_on(w.portico.put_contract(&owner(), &not_pdf)),
        Err(RecordError::Invalid(_))
    ));
}

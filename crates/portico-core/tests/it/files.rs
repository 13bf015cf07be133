//! Photo and file bytes (I3): uploads are checked, removing a file from a record removes its
//! bytes, and a file's type is the one checked from its bytes.

use portico_core::model::{Attachment, Record, Role};
use portico_core::policy::permissions::ActorDenied;
use portico_core::ports::{Blob, BlobKey, Blobs};
use portico_core::service::{FileError, HostEvent, NewFile};
use portico_core::testing::conformance;
use portico_core::testing::{MemoryBlobs, fixtures};

use crate::support::{World, owner, staff_id};

const PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n', 0, 0, 0, 13,
];

fn key(w: &World, id: &str) -> BlobKey {
    BlobKey {
        org: w.org.clone(),
        file: fixtures::file_id(id),
    }
}

fn stored(w: &World, id: &str) -> Option<Blob> {
    w.block_on(w.blobs.get(&key(w, id))).unwrap()
}

fn upload(w: &World, id: &str) {
    w.block_on(w.portico.put_file(
        &staff_id(Role::Technician),
        &w.org,
        &fixtures::file_id(id),
        "image/png",
        PNG.to_vec(),
    ))
    .unwrap();
}

#[tokio::test]
async fn i3_memory_blobs_meet_the_blob_contract() {
    conformance::blobs_contract(&MemoryBlobs::default()).await;
}

#[test]
fn i3_uploads_are_refused_when_empty_too_large_of_other_types_or_by_strangers() {
    let w = World::new();
    let put = |actor: &str, content_type: &str, bytes: Vec<u8>| {
        w.block_on(w.portico.put_file(
            &portico_core::model::StaffId::new(actor).unwrap(),
            &w.org,
            &fixtures::file_id("f9"),
            content_type,
            bytes,
        ))
    };
    assert!(matches!(
        put("technician", "image/png", vec![]),
        Err(FileError::Empty)
    ));
    let max = w.portico.config().max_file_bytes;
    let huge = vec![0u8; usize::try_from(max).unwrap() + 1];
    assert!(matches!(
        put("technician", "image/png", huge),
        Err(FileError::TooLarge { max: m }) if m == max
    ));
    for kind in ["text/html", "application/x-msdownload", "image/svg+xml"] {
        let refused = put("technician", kind, PNG.to_vec());
        assert!(
            matches!(&refused, Err(FileError::UnsupportedType(t)) if t == kind),
            "{kind}: {refused:?}"
        );
    }
    assert!(matches!(
        put("nobody", "image/png", PNG.to_vec()),
        Err(FileError::Actor(ActorDenied::Unknown))
    ));
    assert_eq!(w.blobs.len(), 0, "nothing refused was stored");

    let meta = put("technician", "image/png", PNG.to_vec()).unwrap();
    assert_eq!((meta.content_type.as_str(), meta.size), ("image/png", 12));
    let again = w.block_on(w.portico.file_meta(&w.org, &fixtures::file_id("f9")));
    assert_eq!(again.unwrap(), meta);
}

#[test]
fn i3_removing_a_file_from_a_work_order_deletes_its_bytes() {
    let w = World::new();
    for id in ["p1", "p2", "sig"] {
        upload(&w, id);
    }
    let added = |id: &str| HostEvent::FileAdded {
        file: NewFile {
            id: fixtures::file_id(id),
            name: format!("{id}.jpg"),
            // The host's claim; the checked type of the uploaded bytes wins.
            content_type: "image/jpeg".into(),
            caption: None,
            shared: Some(true),
            taken_at: None,
            stage: None,
        },
    };
    for id in ["p1", "p2"] {
        w.block_on(
            w.portico
                .apply_event(&owner(), &w.org, &w.wo.id, &added(id)),
        )
        .unwrap();
    }
    let wo = w.work_order();
    let p1 = wo.files.iter().find(|f| f.id.as_str() == "p1").unwrap();
    assert_eq!(p1.content_type, "image/png");

    // The event removes the file and its bytes; the other file stays.
    w.block_on(w.portico.apply_event(
        &owner(),
        &w.org,
        &w.wo.id,
        &HostEvent::FileRemoved {
            file: fixtures::file_id("p1"),
        },
    ))
    .unwrap();
    assert_eq!(stored(&w, "p1"), None);
    assert!(stored(&w, "p2").is_some());

    // A full upsert without a file (or with another signature image) drops those bytes too.
    let mut wo = w.work_order();
    wo.signature = Some(portico_core::model::Signature {
        signed_by: "Jordan".into(),
        signed_at: fixtures::T0,
        image: Some(fixtures::file_id("sig")),
    });
    upload(&w, "p4");
    wo.files.push(Attachment {
        id: fixtures::file_id("p4"),
        name: "p4.html".into(),
        content_type: "text/html".into(),
        caption: None,
        shared: false,
        taken_at: None,
        stage: None,
    });
    w.upsert_wo(&owner(), wo.clone()).unwrap();
    assert!(
        stored(&w, "sig").is_some(),
        "a kept signature keeps its bytes"
    );
    let p4 = w
        .work_order()
        .files
        .into_iter()
        .find(|f| f.id.as_str() == "p4");
    assert_eq!(
        p4.unwrap().content_type,
        "image/png",
        "the checked type wins"
    );
    wo.files.clear();
    wo.signature = None;
    w.upsert_wo(&owner(), wo).unwrap();
    assert_eq!(stored(&w, "p2"), None);
    assert_eq!(stored(&w, "p4"), None);
    assert_eq!(stored(&w, "sig"), None);

    // A refused change deletes nothing.
    upload(&w, "p3");
    w.block_on(
        w.portico
            .apply_event(&owner(), &w.org, &w.wo.id, &added("p3")),
    )
    .unwrap();
    let mut wo = w.work_order();
    wo.files.clear();
    let refused = w.block_on(w.portico.upsert_record(
        &staff_id(Role::Technician).clone(),
        &Record::WorkOrder({
            let mut bad = wo.clone();
            bad.title = "x".repeat(portico_core::service::MAX_TEXT + 1);
            bad
        }),
    ));
    assert!(refused.is_err());
    assert!(stored(&w, "p3").is_some());
}

/// Removing a file from one work order keeps its bytes while another record, the org's logo or
/// a staff photo still points at them; an explicit delete is refused until nothing does.
#[test]
fn i3_bytes_another_record_still_uses_are_kept() {
    let w = World::new();
    upload(&w, "shared-photo");
    let photo = Attachment {
        id: fixtures::file_id("shared-photo"),
        name: "p.png".into(),
        content_type: "image/png".into(),
        caption: None,
        shared: false,
        taken_at: None,
        stage: None,
    };
    let mut first = w.work_order();
    first.files.push(photo.clone());
    w.upsert_wo(&owner(), first).unwrap();
    let mut second = fixtures::work_order(&w.org, "wo2", Some(&w.client), None);
    second.files.push(photo);
    w.block_on(
        w.portico
            .upsert_record(&owner(), &Record::WorkOrder(second.clone())),
    )
    .unwrap();
    let id = w.wo.id.clone();
    w.block_on(w.portico.apply_event(
        &owner(),
        &w.org,
        &id,
        &HostEvent::FileRemoved {
            file: fixtures::file_id("shared-photo"),
        },
    ))
    .unwrap();
    assert!(stored(&w, "shared-photo").is_some(), "wo2 still shows it");
    let delete = |id: &str| {
        w.block_on(
            w.portico
                .delete_file(&owner(), &w.org, &fixtures::file_id(id)),
        )
    };
    assert!(matches!(delete("shared-photo"), Err(FileError::InUse)));
    second.files.clear();
    w.block_on(
        w.portico
            .upsert_record(&owner(), &Record::WorkOrder(second)),
    )
    .unwrap();
    assert!(stored(&w, "shared-photo").is_none(), "no one uses it now");
    assert!(matches!(delete("shared-photo"), Err(FileError::NotFound)));
    // The org's logo is in use as long as the org names it.
    w.block_on(w.portico.put_file(
        &owner(),
        &w.org,
        &fixtures::file_id("logo"),
        "image/png",
        PNG.to_vec(),
    ))
    .unwrap();
    assert!(matches!(delete("logo"), Err(FileError::InUse)));
}

/// S1: a technician may upload new bytes, but not replace or delete bytes something already
/// points at (what a client may be shown): that needs a sharing role.
#[test]
fn s1_a_technician_cannot_replace_or_delete_bytes_a_record_shows() {
    let w = World::new();
    let tech = staff_id(Role::Technician);
    let put = |actor: &portico_core::model::StaffId, id: &str| {
        w.block_on(w.portico.put_file(
            actor,
            &w.org,
            &fixtures::file_id(id),
            "image/png",
            PNG.to_vec(),
        ))
    };
    // f1 is the work order's shared photo.
    assert!(matches!(
        put(&tech, "f1"),
        Err(FileError::Actor(ActorDenied::NotPermitted {
            role: Role::Technician
        }))
    ));
    assert!(matches!(
        w.block_on(
            w.portico
                .delete_file(&tech, &w.org, &fixtures::file_id("f1"))
        ),
        Err(FileError::Actor(ActorDenied::NotPermitted { .. }))
    ));
    put(&tech, "brand-new").unwrap();
    put(&owner(), "f1").unwrap();
    assert!(stored(&w, "f1").is_some());
}

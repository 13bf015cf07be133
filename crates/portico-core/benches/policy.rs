//! Benchmarks of the pure policy: projecting a large work order (200 tasks, 100 photos,
//! 300 updates) into its client view, and deciding the notifications of one host event.
//! Run with `cargo xtask bench`; prints medians.

use std::hint::black_box;
use std::time::{Duration, Instant};

use portico_core::model::{Record, Role, Sections};
use portico_core::policy::notify::client_events;
use portico_core::policy::project::{Projection, project};
use portico_core::testing::fixtures::{self, T0};

/// Runs `f` in batches for about a second and returns the median time of one call.
fn median(mut f: impl FnMut()) -> Duration {
    let start = Instant::now();
    let mut batch = 1u32;
    while {
        let t = Instant::now();
        for _ in 0..batch {
            f();
        }
        t.elapsed() < Duration::from_millis(10)
    } {
        batch *= 2;
    }
    let mut samples = Vec::new();
    while start.elapsed() < Duration::from_secs(1) || samples.len() < 20 {
        let t = Instant::now();
        for _ in 0..batch {
            f();
        }
        samples.push(t.elapsed() / batch);
    }
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let org = fixtures::org("bench");
    let client = fixtures::client(&org.id, "c1");
    let tech = fixtures::staff(&org.id, "tech", Role::Technician);
    let wo = fixtures::large_work_order(&org.id, 200, 100, 300);
    let invoices = [fixtures::invoice(
        &org.id,
        "inv1",
        Some(&client.id),
        Some(&wo.id),
    )];
    let record = Record::WorkOrder(wo.clone());
    let staff = [tech];
    let input = Projection {
        org: &org,
        record: &record,
        client: Some(&client),
        staff: &staff,
        invoices: &invoices,
        sections: Sections::ALL,
        now: T0,
    };

    let projection = median(|| {
        black_box(project(black_box(&input)));
    });
    let json = median(|| {
        black_box(serde_json::to_vec(&project(black_box(&input))).unwrap_or_default());
    });

    let mut ticked = wo.clone();
    if let Some(task) = ticked.tasks.iter_mut().find(|t| !t.done && !t.internal) {
        task.done = true;
    }
    let after = Record::WorkOrder(ticked);
    let decide = median(|| {
        black_box(client_events(
            black_box(&record),
            black_box(&after),
            Sections::ALL,
        ));
    });

    println!("portico-core policy (work order: 200 tasks, 100 photos, 300 updates)");
    println!("  project into client view        median {projection:>10.1?}");
    println!("  project + serialise to JSON     median {json:>10.1?}");
    println!("  decide notifications (1 event)  median {decide:>10.1?}");
}

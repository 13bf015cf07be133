//! Schema migrations. A shipped migration is never edited: later changes are new migrations
//! appended to [`Migrator::migrations`].

use sea_orm_migration::prelude::*;

mod m20261122_000001_initial;
mod m20261123_000001_file_refs;
mod m20261123_000002_outbox_reason;
pub(crate) mod m20261124_000001_portal;
pub(crate) mod m20261125_000001_inbox;
mod m20261126_000001_plans;
mod m20261127_000001_request_photos;
mod m20261128_000001_payments;
mod m20261202_000001_webhooks;
mod m20261203_000001_record_staff;

/// Every migration, in order.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_initial::Migration),
            Box::new(m20261123_000001_file_refs::Migration),
            Box::new(m20261123_000002_outbox_reason::Migration),
            Box::new(m20261124_000001_portal::Migration),
            Box::new(m20261125_000001_inbox::Migration),
            Box::new(m20261126_000001_plans::Migration),
            Box::new(m20261127_000001_request_photos::Migration),
            Box::new(m20261128_000001_payments::Migration),
            Box::new(m20261202_000001_webhooks::Migration),
            Box::new(m20261203_000001_record_staff::Migration),
        ]
    }
}

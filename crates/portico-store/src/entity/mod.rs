//! sea-orm entities, one module per table. The schema itself is defined by the migrations in
//! `crate::migration`; these types only read and write rows.

pub mod agreements;
pub mod api_keys;
pub mod appointments;
pub mod audit;
pub mod clients;
pub mod contracts;
pub mod events;
pub mod file_refs;
pub mod messages;
pub mod orgs;
pub mod outbox;
pub mod payment_accounts;
pub mod payments;
pub mod portal_accounts;
pub mod portal_grants;
pub mod portal_sessions;
pub mod provider_events;
pub mod records;
pub mod service_requests;
pub mod shares;
pub mod staff;
pub mod webhook_deliveries;
pub mod webhook_endpoints;

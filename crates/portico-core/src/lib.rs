//! Portico's core: the client-sharing policy of a field-service business, behind ports.
//!
//! - [`model`]: orgs, staff, clients, records, shares, notifications, audit entries.
//! - [`policy`]: pure decisions — who may share (S1, S2), what a link opens (S5, S7, S8), what a
//!   client sees (V1–V6), which change mails whom (N1–N3, N6), when to prompt (P1).
//! - [`view`]: the client-view types, which cannot carry internal data (V4).
//! - [`token`]: share tokens (S3, S4).
//! - [`ports`]: the traits adapters implement.
//! - [`service`]: the use cases over the ports.
//! - `testing` (feature): in-memory fakes of every port and the storage conformance suite.
//!
// The crate's README follows; its example is compiled and run as a doctest.
#![doc = include_str!("../README.md")]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod locale;
pub mod model;
pub mod policy;
pub mod ports;
pub mod service;
#[cfg(feature = "testing")]
pub mod testing;
pub mod token;
pub mod view;

pub use service::{Portico, Ports, ServiceConfig};

//! Portico's shared test fixtures, for its crates' tests and benchmarks (never a normal
//! dependency):
//!
//! - [`postgres`]: a PostgreSQL database ([`postgres::PgDatabase`], for a running binary) or
//!   schema ([`postgres::PgSchema`], for a store in-process) of a test's own, dropped when the
//!   test ends. One place finds the server, names what it creates and reports a missing one.
//! - [`binary`]: the real `portico` binary serving on a fresh data folder and a free port.
//! - [`smtp`]: a real SMTP server ([`smtp::TestSmtp`], Python's aiosmtpd) that keeps what it
//!   receives.
//! - [`stripe`]: a stateful Stripe stand-in ([`stripe::LocalStripe`], localstripe) with the
//!   Stripe.js stand-in the payment page loads.
//! - [`hooks`]: a host app's webhook receiver ([`hooks::HookReceiver`]) that verifies every
//!   delivery with the Standard Webhooks reference library.
//! - [`s3`]: an S3-compatible server ([`s3::TestS3`], moto) with a bucket of the test's own.
//!
//! Where the tool a fixture needs is missing, the fixture returns `None` after reporting the
//! skipped check ([`portico_core::testing::skip_check`]), which fails the test under CI.
// Reason: test support; a broken invariant must stop the test at once.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::missing_panics_doc
)]

pub mod binary;
pub mod hooks;
pub mod postgres;
pub mod s3;
pub mod smtp;
pub mod stripe;

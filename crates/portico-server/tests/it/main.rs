//! portico-server's one integration-test binary: the real `portico` binary, started as a
//! process on SQLite and on PostgreSQL, driven over HTTP.

// Reason: helpers are shared between this binary's modules only.
#![allow(unreachable_pub)]

mod binary;
mod browser;
mod fuzz;
mod mail;
mod payments;
mod scale;
mod support;
mod webhooks;

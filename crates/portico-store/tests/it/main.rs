//! portico-store's one integration-test binary: the core's storage conformance suite on every
//! backend, and what only a real database can show.

// Reason: helpers are shared between this binary's modules only.
#![allow(unreachable_pub)]

mod blobs;
mod conformance;
mod feed;
mod store;
mod support;

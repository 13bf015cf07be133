//! portico-http's one integration-test binary: the integration API through
//! `poem::test::TestClient` on the core's in-memory fakes.

// Reason: helpers are shared between this binary's modules only.
#![allow(unreachable_pub)]

mod api;
mod files;
mod hostile;
mod inbox;
mod listener;
mod openapi;
mod pages;
mod payments;
mod plans;
mod portal;
mod support;
mod webhooks;

//! portico-core's one integration-test binary: the executable specification.
//! Add modules here rather than new files under `tests/` (each would be another binary to link).

// Reason: helpers are shared between this binary's modules only; `pub` reads better than
// `pub(crate)` on every one of them.
#![allow(unreachable_pub)]

mod client;
mod conformance;
mod dispatch;
mod files;
mod inbox;
mod limits;
mod locale;
mod model_based;
mod payments;
mod plans;
mod portal;
mod service;
mod snapshots;
mod spec;
mod support;
mod tables;
mod webhooks;

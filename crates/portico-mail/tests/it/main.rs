//! portico-mail's one integration-test binary: the `.eml` folder writer, and SMTP against a real
//! server (aiosmtpd) started by the tests.

// Reason: helpers are shared between this binary's modules only.
#![allow(unreachable_pub)]

mod eml;
mod smtp;
mod support;
mod templates;

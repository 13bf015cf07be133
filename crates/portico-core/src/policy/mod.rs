//! The sharing policy: pure, synchronous functions of their arguments (time included), no I/O.
//! Each module names the requirements it decides.

pub mod access;
pub mod expiry;
pub mod files;
pub mod inbox;
pub mod notify;
pub mod permissions;
pub mod plans;
pub mod portal;
pub mod project;
pub mod prompt;
pub mod quote;
pub mod retry;
pub mod webhooks;

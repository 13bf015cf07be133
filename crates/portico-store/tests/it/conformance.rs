//! The core's storage conformance suite, on every backend.

// SQLite admits one writer at a time: a second writing unit of work waits for the first.
mod sqlite_memory {
    portico_core::store_conformance_tests!(serialized_writers crate::support::sqlite_memory());
}

mod sqlite_file {
    portico_core::store_conformance_tests!(serialized_writers crate::support::sqlite_file());
}

mod postgres {
    portico_core::store_conformance_tests!(crate::support::postgres());
}

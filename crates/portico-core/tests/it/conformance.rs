//! The storage conformance suite against the in-memory fake.

use portico_core::testing::MemoryStore;

portico_core::store_conformance_tests!(async { Some((MemoryStore::new(), ())) });

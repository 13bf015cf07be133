//! What only a real database can show: a crashed unit of work, racing dispatchers, bad rows,
//! native column types, and the core's service running on each backend.

//! The conformance suite on a fresh SQLite file per test.

super::conformance_suite!(crate::testing::fresh_sqlite().await);

//! The conformance suite on a fresh PostgreSQL database per test.

super::conformance_suite!(crate::testing::fresh_postgres().await);

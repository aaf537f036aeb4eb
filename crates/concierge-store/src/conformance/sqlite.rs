//! The conformance suite on a fresh SQLite file per test.

super::conformance_suite!(crate::testing::fresh_sqlite().await);

// Verified domains, suggestions and membership requests (`conformance/domains.rs`).
super::conformance_suite!(@tests crate::testing::fresh_sqlite().await;
    organization_domains_crud_and_uniqueness,
    domain_enrollment_bookkeeping,
    suggestions_and_membership_requests,
);

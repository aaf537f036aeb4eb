//! The conformance suite on a fresh PostgreSQL database per test.

super::conformance_suite!(crate::testing::fresh_postgres().await);

// Verified domains, suggestions and membership requests (`conformance/domains.rs`).
super::conformance_suite!(@tests crate::testing::fresh_postgres().await;
    organization_domains_crud_and_uniqueness,
    domain_enrollment_bookkeeping,
    suggestions_and_membership_requests,
);

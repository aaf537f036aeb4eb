//! The Concierge domain: typed IDs, entities, and the pure rules that govern them.
//!
//! This crate does no IO, owns no clock and draws no randomness it was not handed:
//! time arrives as Unix milliseconds and random sources as `&mut impl RngCore`.
//! It must never depend on another workspace crate.
#![forbid(unsafe_code)]

pub mod clock;
pub mod domains;
pub mod entities;
pub mod error;
pub mod flows;
pub mod ids;
pub mod jwt_templates;
pub mod metadata;
pub mod organizations;
pub mod role_sets;
pub mod tickets;
pub mod validation;

pub use clock::{Clock, FixedClock, Millis};
pub use domains::{
    EnrollmentMode, MembershipRequest, MembershipRequestStatus, OrganizationDomain,
    OrganizationSuggestion, SuggestionStatus,
};
pub use entities::*;
pub use error::CoreError;
pub use flows::*;
pub use ids::*;
pub use organizations::{
    CustomRole, InvitationStatus, Organization, OrganizationInvitation, OrganizationMembership,
    Permission, Role,
};
pub use role_sets::RoleSet;
pub use tickets::{Invitation, InvitationRef, TicketStatus};

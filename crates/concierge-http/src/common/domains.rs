//! JSON of verified domains (wire §6.9 `organization_domain`), the same for the Backend API
//! (`OrganizationDomainJSON` of `@clerk/backend`) and the browser (clerk-js's
//! `OrganizationDomainJSON`), with millisecond timestamps.

use concierge_service::domains::DomainView;
use serde_json::{json, Value};

/// `verification`: `null` until a code is prepared (or the domain is verified otherwise);
/// `status` is `verified` or `unverified` (an expired or failed code leaves it unverified).
fn verification(view: &DomainView) -> Value {
    let domain = &view.domain;
    let code = view.verification.as_ref();
    if domain.verified {
        return json!({
            "status": "verified",
            "strategy": domain.verification_strategy.as_deref().unwrap_or("admin"),
            "attempts": code.map_or(0, |v| v.attempts),
            "expires_at": code.and_then(|v| v.expire_at),
        });
    }
    match code {
        Some(v) => json!({
            "status": "unverified",
            "strategy": v.strategy,
            "attempts": v.attempts,
            "expires_at": v.expire_at,
        }),
        None => Value::Null,
    }
}

/// An `organization_domain` object.
pub fn domain(view: &DomainView) -> Value {
    let d = &view.domain;
    json!({
        "object": "organization_domain", "id": d.id.as_str(), "name": d.name,
        "organization_id": d.organization_id.as_str(),
        "enrollment_mode": d.enrollment_mode.as_str(),
        "verification": verification(view),
        "affiliation_email_address": d.affiliation_email_address,
        "total_pending_invitations": view.total_pending_invitations,
        "total_pending_suggestions": view.total_pending_suggestions,
        "created_at": d.created_at, "updated_at": d.updated_at,
    })
}

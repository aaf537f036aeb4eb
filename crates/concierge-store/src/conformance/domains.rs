//! Conformance checks of [`crate::DomainTx`]: organization domains, suggestions and membership
//! requests, on both backends.

use super::{conflict, email, insert_user, organization, rng, user, with_instance, T0};
use crate::{DomainQuery, MembershipRequestQuery, Store, StoreError, SuggestionQuery};
use concierge_core::*;

fn domain(
    org: &Organization,
    name: &str,
    verified: bool,
    created_at: Millis,
) -> OrganizationDomain {
    OrganizationDomain {
        id: OrganizationDomainId::generate(&mut rng()),
        instance_id: org.instance_id.clone(),
        organization_id: org.id.clone(),
        name: name.into(),
        enrollment_mode: EnrollmentMode::ManualInvitation,
        verified,
        verification_strategy: verified.then(|| "admin".to_owned()),
        verified_at: verified.then_some(created_at),
        affiliation_email_address: None,
        created_at,
        updated_at: created_at,
    }
}

fn suggestion(
    org: &Organization,
    user: &User,
    domain: Option<&OrganizationDomain>,
) -> OrganizationSuggestion {
    OrganizationSuggestion {
        id: OrganizationSuggestionId::generate(&mut rng()),
        instance_id: org.instance_id.clone(),
        organization_id: org.id.clone(),
        user_id: user.id.clone(),
        domain_id: domain.map(|d| d.id.clone()),
        status: SuggestionStatus::Pending,
        created_at: T0,
        updated_at: T0,
    }
}

fn invitation(org: &Organization, address: &str, expires_at: Millis) -> OrganizationInvitation {
    OrganizationInvitation {
        id: OrganizationInvitationId::generate(&mut rng()),
        instance_id: org.instance_id.clone(),
        organization_id: org.id.clone(),
        email_address: address.into(),
        role: "org:member".into(),
        status: InvitationStatus::Pending,
        inviter_user_id: None,
        public_metadata: serde_json::json!({}),
        private_metadata: serde_json::json!({}),
        redirect_url: None,
        expires_at,
        created_at: T0,
        updated_at: T0,
    }
}

async fn insert_orgs(store: &dyn Store, orgs: &[&Organization]) {
    let mut tx = store.begin().await.unwrap();
    for org in orgs {
        tx.insert_organization(org).await.unwrap();
    }
    tx.commit().await.unwrap();
}

pub async fn organization_domains_crud_and_uniqueness(store: &dyn Store) {
    let a = with_instance(store, "domains").await;
    let b = with_instance(store, "domains-other").await;
    let acme = organization(&a, "acme", T0);
    let globex = organization(&a, "globex", T0);
    let other = organization(&b, "acme", T0);
    insert_orgs(store, &[&acme, &globex, &other]).await;

    let mut acme_test = domain(&acme, "acme.test", true, T0);
    let acme_dev = domain(&acme, "acme.dev", false, T0 + 1);
    let mut tx = store.begin().await.unwrap();
    tx.insert_domain(&acme_test).await.unwrap();
    tx.insert_domain(&acme_dev).await.unwrap();
    // The same name in another instance is another domain.
    tx.insert_domain(&domain(&other, "acme.test", true, T0))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    // A name belongs to one organization of an instance.
    let mut tx = store.begin().await.unwrap();
    assert_eq!(
        conflict(
            tx.insert_domain(&domain(&globex, "acme.test", false, T0))
                .await
        ),
        "organization_domain"
    );
    drop(tx);

    let mut tx = store.begin().await.unwrap();
    assert_eq!(
        tx.get_domain(&a.id, &acme_test.id).await.unwrap(),
        acme_test
    );
    assert!(matches!(
        tx.get_domain(&b.id, &acme_test.id).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        tx.find_domain_by_name(&a.id, "acme.dev").await.unwrap(),
        Some(acme_dev.clone())
    );
    assert_eq!(
        tx.find_domain_by_name(&a.id, "nope.test").await.unwrap(),
        None
    );

    acme_test.enrollment_mode = EnrollmentMode::AutomaticSuggestion;
    acme_test.affiliation_email_address = Some("ada@acme.test".into());
    acme_test.verification_strategy = Some("email_code".into());
    acme_test.verified_at = Some(T0 + 5);
    acme_test.updated_at = T0 + 5;
    tx.update_domain(&acme_test).await.unwrap();
    assert_eq!(
        tx.get_domain(&a.id, &acme_test.id).await.unwrap(),
        acme_test
    );

    let of_acme = DomainQuery {
        organization_id: Some(acme.id.clone()),
        limit: 10,
        ..DomainQuery::default()
    };
    let listed = tx.list_domains(&a.id, &of_acme).await.unwrap();
    assert_eq!(
        listed,
        vec![acme_dev.clone(), acme_test.clone()],
        "newest first"
    );
    assert_eq!(tx.count_domains(&a.id, &of_acme).await.unwrap(), 2);
    let page = DomainQuery {
        limit: 1,
        offset: 1,
        ..of_acme.clone()
    };
    assert_eq!(
        tx.list_domains(&a.id, &page).await.unwrap(),
        vec![acme_test.clone()]
    );
    let suggesting = DomainQuery {
        enrollment_mode: Some(EnrollmentMode::AutomaticSuggestion),
        ..of_acme.clone()
    };
    assert_eq!(
        tx.list_domains(&a.id, &suggesting).await.unwrap(),
        vec![acme_test.clone()]
    );
    let unverified = DomainQuery {
        verified: Some(false),
        ..of_acme.clone()
    };
    assert_eq!(
        tx.list_domains(&a.id, &unverified).await.unwrap(),
        vec![acme_dev.clone()]
    );
    let of_globex = DomainQuery {
        organization_id: Some(globex.id.clone()),
        limit: 10,
        ..DomainQuery::default()
    };
    assert_eq!(tx.count_domains(&a.id, &of_globex).await.unwrap(), 0);
    assert_eq!(
        tx.count_domains(
            &b.id,
            &DomainQuery {
                limit: 10,
                ..DomainQuery::default()
            }
        )
        .await
        .unwrap(),
        1
    );

    tx.delete_domain(&a.id, &acme_dev.id).await.unwrap();
    assert!(matches!(
        tx.delete_domain(&a.id, &acme_dev.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        tx.delete_domain(&b.id, &acme_test.id).await,
        Err(StoreError::NotFound)
    ));
    tx.commit().await.unwrap();
    // Deleting the organization takes its domains along.
    let mut tx = store.begin().await.unwrap();
    tx.delete_organization(&a.id, &acme.id).await.unwrap();
    assert!(matches!(
        tx.get_domain(&a.id, &acme_test.id).await,
        Err(StoreError::NotFound)
    ));
    tx.commit().await.unwrap();
}

pub async fn domain_enrollment_bookkeeping(store: &dyn Store) {
    let a = with_instance(store, "enroll").await;
    let b = with_instance(store, "enroll-other").await;
    let acme = organization(&a, "acme", T0);
    let other = organization(&b, "acme", T0);
    insert_orgs(store, &[&acme, &other]).await;
    let d = domain(&acme, "ac_me.test", true, T0);
    let mut tx = store.begin().await.unwrap();
    tx.insert_domain(&d).await.unwrap();
    tx.commit().await.unwrap();

    // Verified addresses at exactly the domain; `_` is a literal, not a wildcard.
    let ada = user(&a, T0);
    let bob = user(&a, T0 + 1);
    let eve = user(&a, T0 + 2);
    let zed = user(&b, T0);
    let mut unverified = email(&eve, "eve@ac_me.test");
    unverified.verified = false;
    let ada_email = email(&ada, "ada@ac_me.test");
    insert_user(
        store,
        &ada,
        &[ada_email.clone(), email(&ada, "ada@other.test")],
    )
    .await;
    insert_user(
        store,
        &bob,
        &[
            email(&bob, "bob@sub.ac_me.test"),
            email(&bob, "bob@acxme.test"),
        ],
    )
    .await;
    insert_user(store, &eve, &[unverified]).await;
    insert_user(store, &zed, &[email(&zed, "zed@ac_me.test")]).await;
    let mut conn = store.read().await.unwrap();
    assert_eq!(
        conn.list_verified_emails_at_domain(&a.id, "ac_me.test")
            .await
            .unwrap(),
        vec![ada_email.clone()]
    );
    assert_eq!(
        conn.list_verified_emails_at_domain(&a.id, "nobody.test")
            .await
            .unwrap(),
        vec![]
    );
    drop(conn);

    // Invitations and suggestions made by the domain are counted, revoked and deleted.
    let live = invitation(&acme, "ada@ac_me.test", T0 + 1000);
    let expired = invitation(&acme, "old@ac_me.test", T0 + 10);
    let manual = invitation(&acme, "bob@ac_me.test", T0 + 1000);
    let pending = suggestion(&acme, &ada, Some(&d));
    let mut accepted = suggestion(&acme, &bob, Some(&d));
    accepted.status = SuggestionStatus::Accepted;
    let mut tx = store.begin().await.unwrap();
    for inv in [&live, &expired, &manual] {
        tx.insert_invitation(inv).await.unwrap();
    }
    tx.link_invitation_to_domain(&a.id, &live.id, &d.id)
        .await
        .unwrap();
    tx.link_invitation_to_domain(&a.id, &expired.id, &d.id)
        .await
        .unwrap();
    assert!(matches!(
        tx.link_invitation_to_domain(&b.id, &manual.id, &d.id).await,
        Err(StoreError::NotFound)
    ));
    tx.insert_suggestion(&pending).await.unwrap();
    tx.insert_suggestion(&accepted).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    // Organization counts: pending invitations as of now (the expired one is not), members.
    let members = tx
        .count_memberships(
            &a.id,
            &crate::MembershipQuery {
                organization_id: Some(acme.id.clone()),
                ..crate::MembershipQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        tx.organization_counts(&a.id, std::slice::from_ref(&acme.id), T0 + 100)
            .await
            .unwrap(),
        vec![(acme.id.clone(), members, 2)]
    );
    assert_eq!(
        tx.organization_counts(&b.id, std::slice::from_ref(&acme.id), T0 + 100)
            .await
            .unwrap(),
        vec![],
        "another instance's organization is left out"
    );
    assert_eq!(
        tx.count_domain_pending(&a.id, &d.id, T0 + 100)
            .await
            .unwrap(),
        (1, 1)
    );
    assert_eq!(
        tx.count_domain_pending(&b.id, &d.id, T0 + 100)
            .await
            .unwrap(),
        (0, 0)
    );
    assert_eq!(
        tx.revoke_domain_invitations(&b.id, &d.id, T0 + 100)
            .await
            .unwrap(),
        0
    );
    assert_eq!(tx.delete_domain_suggestions(&b.id, &d.id).await.unwrap(), 0);
    // The expired one is still stored as pending, so it is revoked too.
    assert_eq!(
        tx.revoke_domain_invitations(&a.id, &d.id, T0 + 100)
            .await
            .unwrap(),
        2
    );
    assert_eq!(tx.delete_domain_suggestions(&a.id, &d.id).await.unwrap(), 1);
    assert_eq!(
        tx.count_domain_pending(&a.id, &d.id, T0 + 100)
            .await
            .unwrap(),
        (0, 0)
    );
    let revoked = tx.get_invitation(&a.id, &live.id).await.unwrap();
    assert_eq!(revoked.status, InvitationStatus::Revoked);
    assert_eq!(revoked.updated_at, T0 + 100);
    assert_eq!(
        tx.get_invitation(&a.id, &manual.id).await.unwrap().status,
        InvitationStatus::Pending,
        "invitations not made by the domain stay"
    );
    assert!(matches!(
        tx.get_suggestion(&a.id, &pending.id).await,
        Err(StoreError::NotFound)
    ));
    // Deleting the domain keeps the accepted suggestion, unlinked.
    tx.delete_domain(&a.id, &d.id).await.unwrap();
    let kept = tx.get_suggestion(&a.id, &accepted.id).await.unwrap();
    assert_eq!(kept.domain_id, None);
    assert_eq!(kept.status, SuggestionStatus::Accepted);
    tx.commit().await.unwrap();
}

pub async fn suggestions_and_membership_requests(store: &dyn Store) {
    let a = with_instance(store, "requests").await;
    let b = with_instance(store, "requests-other").await;
    let acme = organization(&a, "acme", T0);
    let globex = organization(&a, "globex", T0);
    insert_orgs(store, &[&acme, &globex]).await;
    let ada = user(&a, T0);
    let bob = user(&a, T0);
    insert_user(store, &ada, &[]).await;
    insert_user(store, &bob, &[]).await;

    let mut first = suggestion(&acme, &ada, None);
    let mut second = suggestion(&globex, &ada, None);
    second.created_at = T0 + 1;
    let third = suggestion(&acme, &bob, None);
    let mut tx = store.begin().await.unwrap();
    for s in [&first, &second, &third] {
        tx.insert_suggestion(s).await.unwrap();
    }
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert_eq!(
        conflict(tx.insert_suggestion(&suggestion(&acme, &ada, None)).await),
        "organization_suggestion"
    );
    drop(tx);

    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.get_suggestion(&a.id, &first.id).await.unwrap(), first);
    assert!(matches!(
        tx.get_suggestion(&b.id, &first.id).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        tx.find_suggestion(&a.id, &globex.id, &ada.id)
            .await
            .unwrap(),
        Some(second.clone())
    );
    assert_eq!(
        tx.find_suggestion(&a.id, &globex.id, &bob.id)
            .await
            .unwrap(),
        None
    );
    first.status = SuggestionStatus::Accepted;
    first.updated_at = T0 + 9;
    tx.update_suggestion(&first).await.unwrap();
    let of_ada = SuggestionQuery {
        user_id: Some(ada.id.clone()),
        limit: 10,
        ..SuggestionQuery::default()
    };
    assert_eq!(
        tx.list_suggestions(&a.id, &of_ada).await.unwrap(),
        vec![second.clone(), first.clone()],
        "newest first"
    );
    let pending_of_ada = SuggestionQuery {
        statuses: vec![SuggestionStatus::Pending],
        ..of_ada.clone()
    };
    assert_eq!(
        tx.list_suggestions(&a.id, &pending_of_ada).await.unwrap(),
        vec![second.clone()]
    );
    assert_eq!(
        tx.count_suggestions(&a.id, &pending_of_ada).await.unwrap(),
        1
    );
    assert_eq!(tx.count_suggestions(&a.id, &of_ada).await.unwrap(), 2);
    assert_eq!(tx.count_suggestions(&b.id, &of_ada).await.unwrap(), 0);
    // Once Ada joins Globex, its suggestion can be left out.
    tx.insert_membership(&OrganizationMembership {
        id: OrganizationMembershipId::generate(&mut rng()),
        instance_id: a.id.clone(),
        organization_id: globex.id.clone(),
        user_id: ada.id.clone(),
        role: "org:member".into(),
        public_metadata: serde_json::json!({}),
        private_metadata: serde_json::json!({}),
        created_at: T0,
        updated_at: T0,
    })
    .await
    .unwrap();
    let not_joined = SuggestionQuery {
        exclude_joined: true,
        ..of_ada.clone()
    };
    assert_eq!(
        tx.list_suggestions(&a.id, &not_joined).await.unwrap(),
        vec![first.clone()]
    );
    assert_eq!(tx.count_suggestions(&a.id, &not_joined).await.unwrap(), 1);
    assert_eq!(tx.count_suggestions(&a.id, &of_ada).await.unwrap(), 2);
    tx.commit().await.unwrap();

    let request = |org: &Organization, user: &User, created_at: Millis| MembershipRequest {
        id: OrganizationMembershipRequestId::generate(&mut rng()),
        instance_id: a.id.clone(),
        organization_id: org.id.clone(),
        user_id: user.id.clone(),
        status: MembershipRequestStatus::Pending,
        created_at,
        updated_at: created_at,
    };
    let mut from_ada = request(&acme, &ada, T0);
    let from_bob = request(&acme, &bob, T0 + 1);
    let to_globex = request(&globex, &ada, T0);
    let mut tx = store.begin().await.unwrap();
    for r in [&from_ada, &from_bob, &to_globex] {
        tx.insert_membership_request(r).await.unwrap();
    }
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert_eq!(
        conflict(
            tx.insert_membership_request(&request(&acme, &ada, T0))
                .await
        ),
        "organization_membership_request"
    );
    drop(tx);

    let mut tx = store.begin().await.unwrap();
    assert_eq!(
        tx.get_membership_request(&a.id, &from_ada.id)
            .await
            .unwrap(),
        from_ada
    );
    assert!(matches!(
        tx.get_membership_request(&b.id, &from_ada.id).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        tx.find_membership_request(&a.id, &acme.id, &bob.id)
            .await
            .unwrap(),
        Some(from_bob.clone())
    );
    assert_eq!(
        tx.find_membership_request(&a.id, &globex.id, &bob.id)
            .await
            .unwrap(),
        None
    );
    from_ada.status = MembershipRequestStatus::Rejected;
    from_ada.updated_at = T0 + 3;
    tx.update_membership_request(&from_ada).await.unwrap();
    let to_acme = MembershipRequestQuery {
        organization_id: Some(acme.id.clone()),
        limit: 10,
        ..MembershipRequestQuery::default()
    };
    assert_eq!(
        tx.list_membership_requests(&a.id, &to_acme).await.unwrap(),
        vec![from_bob.clone(), from_ada.clone()],
        "newest first"
    );
    let rejected = MembershipRequestQuery {
        statuses: vec![
            MembershipRequestStatus::Rejected,
            MembershipRequestStatus::Accepted,
        ],
        ..to_acme.clone()
    };
    assert_eq!(
        tx.list_membership_requests(&a.id, &rejected).await.unwrap(),
        vec![from_ada.clone()]
    );
    assert_eq!(
        tx.count_membership_requests(&a.id, &rejected)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        tx.count_membership_requests(&a.id, &to_acme).await.unwrap(),
        2
    );
    assert_eq!(
        tx.count_membership_requests(&b.id, &to_acme).await.unwrap(),
        0
    );
    let page = MembershipRequestQuery {
        limit: 1,
        offset: 1,
        ..to_acme.clone()
    };
    assert_eq!(
        tx.list_membership_requests(&a.id, &page).await.unwrap(),
        vec![from_ada.clone()]
    );
    tx.commit().await.unwrap();

    // A user's suggestions and requests go with the user.
    let mut tx = store.begin().await.unwrap();
    tx.delete_user(&a.id, &ada.id).await.unwrap();
    assert_eq!(tx.count_suggestions(&a.id, &of_ada).await.unwrap(), 0);
    assert_eq!(
        tx.count_membership_requests(&a.id, &to_acme).await.unwrap(),
        1
    );
    tx.commit().await.unwrap();
}

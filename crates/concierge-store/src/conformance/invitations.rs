//! Conformance checks for instance invitations (wire §8.2) and for sign-ups that carry an
//! invitation ticket.

use super::{client, rng, with_instance, T0};
use crate::{InstanceInvitationQuery, InvitationOrderField, Store, StoreError};
use concierge_core::*;
use serde_json::json;

const DAY: Millis = 24 * 3600 * 1000;

fn invitation(instance: &Instance, email: &str, created_at: Millis) -> Invitation {
    Invitation {
        id: InvitationId::generate(&mut rng()),
        instance_id: instance.id.clone(),
        email_address: email.into(),
        public_metadata: json!({"plan": "pro"}),
        redirect_url: Some("https://app.example.com/welcome".into()),
        status: InvitationStatus::Pending,
        expires_at: created_at + 30 * DAY,
        created_at,
        updated_at: created_at,
    }
}

fn query(now: Millis) -> InstanceInvitationQuery {
    InstanceInvitationQuery {
        now,
        limit: 10,
        ..InstanceInvitationQuery::default()
    }
}

fn emails(list: &[Invitation]) -> Vec<&str> {
    list.iter().map(|i| i.email_address.as_str()).collect()
}

pub async fn instance_invitations_crud_filters_and_order(store: &dyn Store) {
    let a = with_instance(store, "inv-a").await;
    let b = with_instance(store, "inv-b").await;
    let ada = invitation(&a, "ada@example.com", T0);
    let mut bob = invitation(&a, "bob@example.com", T0 + 1);
    let mut cyd = invitation(&a, "cyd@example.com", T0 + 2);
    cyd.expires_at = T0 + DAY;
    let other = invitation(&b, "ada@example.com", T0);
    let mut tx = store.begin().await.unwrap();
    for i in [&ada, &bob, &cyd, &other] {
        tx.insert_instance_invitation(i).await.unwrap();
    }
    tx.commit().await.unwrap();

    let mut conn = store.read().await.unwrap();
    assert_eq!(
        conn.get_instance_invitation(&a.id, &ada.id).await.unwrap(),
        ada
    );
    // Another instance's invitation is invisible.
    assert!(matches!(
        conn.get_instance_invitation(&a.id, &other.id).await,
        Err(StoreError::NotFound)
    ));
    // Newest first by default; email order both ways; expiry order.
    let all = conn
        .list_instance_invitations(&a.id, &query(T0))
        .await
        .unwrap();
    assert_eq!(
        emails(&all),
        ["cyd@example.com", "bob@example.com", "ada@example.com"]
    );
    let by_email = InstanceInvitationQuery {
        order_by: InvitationOrderField::EmailAddress,
        ascending: true,
        ..query(T0)
    };
    let list = conn
        .list_instance_invitations(&a.id, &by_email)
        .await
        .unwrap();
    assert_eq!(
        emails(&list),
        ["ada@example.com", "bob@example.com", "cyd@example.com"]
    );
    let by_expiry = InstanceInvitationQuery {
        order_by: InvitationOrderField::ExpiresAt,
        ascending: true,
        ..query(T0)
    };
    let list = conn
        .list_instance_invitations(&a.id, &by_expiry)
        .await
        .unwrap();
    assert_eq!(list[0].email_address, "cyd@example.com");
    // Paging and counting.
    let page = InstanceInvitationQuery {
        limit: 1,
        offset: 1,
        ..query(T0)
    };
    let list = conn.list_instance_invitations(&a.id, &page).await.unwrap();
    assert_eq!(emails(&list), ["bob@example.com"]);
    assert_eq!(
        conn.count_instance_invitations(&a.id, &page).await.unwrap(),
        3
    );
    // Substring of the address or the id, case-insensitive; exact address filter.
    let by_text = InstanceInvitationQuery {
        query: Some("BOB@".into()),
        ..query(T0)
    };
    let list = conn
        .list_instance_invitations(&a.id, &by_text)
        .await
        .unwrap();
    assert_eq!(emails(&list), ["bob@example.com"]);
    let by_id = InstanceInvitationQuery {
        query: Some(ada.id.as_str()[4..12].to_owned()),
        ..query(T0)
    };
    assert_eq!(
        conn.list_instance_invitations(&a.id, &by_id).await.unwrap()[0].id,
        ada.id
    );
    let by_address = InstanceInvitationQuery {
        email_addresses: vec!["cyd@example.com".into()],
        ..query(T0)
    };
    assert_eq!(
        conn.count_instance_invitations(&a.id, &by_address)
            .await
            .unwrap(),
        1
    );
    drop(conn);

    // Status changes; pending and expired are told apart by the time given.
    bob.status = InvitationStatus::Revoked;
    bob.updated_at = T0 + 5;
    let mut tx = store.begin().await.unwrap();
    tx.update_instance_invitation(&bob).await.unwrap();
    tx.commit().await.unwrap();
    let mut conn = store.read().await.unwrap();
    assert_eq!(
        conn.get_instance_invitation(&a.id, &bob.id).await.unwrap(),
        bob
    );
    let later = T0 + 2 * DAY;
    let status = |s: &str| InstanceInvitationQuery {
        statuses: vec![s.into()],
        ..query(later)
    };
    let pending = conn
        .list_instance_invitations(&a.id, &status("pending"))
        .await
        .unwrap();
    assert_eq!(emails(&pending), ["ada@example.com"]);
    let expired = conn
        .list_instance_invitations(&a.id, &status("expired"))
        .await
        .unwrap();
    assert_eq!(emails(&expired), ["cyd@example.com"]);
    let revoked = conn
        .list_instance_invitations(&a.id, &status("revoked"))
        .await
        .unwrap();
    assert_eq!(emails(&revoked), ["bob@example.com"]);
    assert_eq!(
        conn.count_instance_invitations(&a.id, &status("accepted"))
            .await
            .unwrap(),
        0
    );
    drop(conn);

    // Delete is scoped by instance.
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(
        tx.delete_instance_invitation(&b.id, &ada.id).await,
        Err(StoreError::NotFound)
    ));
    tx.delete_instance_invitation(&a.id, &ada.id).await.unwrap();
    assert!(matches!(
        tx.get_instance_invitation(&a.id, &ada.id).await,
        Err(StoreError::NotFound)
    ));
    cyd.status = InvitationStatus::Accepted;
    cyd.instance_id = b.id.clone();
    assert!(matches!(
        tx.update_instance_invitation(&cyd).await,
        Err(StoreError::NotFound)
    ));
    tx.commit().await.unwrap();
    let mut conn = store.read().await.unwrap();
    assert_eq!(
        conn.count_instance_invitations(&b.id, &query(T0))
            .await
            .unwrap(),
        1
    );
}

pub async fn sign_up_keeps_its_ticket(store: &dyn Store) {
    let a = with_instance(store, "ticket-sign-up").await;
    let c = client(&a, None);
    let mut tx = store.begin().await.unwrap();
    tx.insert_client(&c).await.unwrap();
    let sign_up = SignUp {
        id: SignUpId::generate(&mut rng()),
        instance_id: a.id.clone(),
        client_id: c.id.clone(),
        status: SignUpStatus::MissingRequirements,
        email_address: Some("ada@example.com".into()),
        username: None,
        first_name: None,
        last_name: None,
        password_hash: None,
        unsafe_metadata: json!({}),
        legal_accepted_at: None,
        locale: None,
        email_verification: Some(Verification::verified("ticket")),
        created_user_id: None,
        created_session_id: None,
        abandon_at: T0 + ATTEMPT_LIFETIME_MS,
        created_at: T0,
        updated_at: T0,
        ticket: Some(InvitationRef::Organization(
            OrganizationInvitationId::generate(&mut rng()),
        )),
    };
    tx.insert_sign_up(&sign_up).await.unwrap();
    tx.commit().await.unwrap();
    let mut conn = store.read().await.unwrap();
    assert_eq!(conn.get_sign_up(&a.id, &sign_up.id).await.unwrap(), sign_up);
}

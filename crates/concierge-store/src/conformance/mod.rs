//! The one storage test suite (STYLE §2.11): each check is written once against `&dyn Store`
//! and instantiated for SQLite and PostgreSQL by `conformance_suite!`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::{
    BrowserTokenContext, MembershipQuery, OrganizationQuery, SessionQuery, Store, StoreError,
    UserOrderField, UserQuery,
};
use concierge_core::*;
use serde_json::json;

/// Instantiates every check as a test for one backend.
macro_rules! conformance_suite {
    ($fresh:expr) => {
        $crate::conformance::conformance_suite!(@tests $fresh;
            instances_are_unique_and_found_by_name_host_and_secret,
            signing_keys_rotate,
            users_round_trip_update_and_conflicts,
            user_filters_order_and_count,
            deleting_a_user_cascades,
            email_addresses_are_unique_per_instance,
            clients_by_token_hash,
            sessions_filter_by_effective_status,
            jwt_templates_crud,
            mailbox_newest_first,
            tenant_isolation,
            dropped_transaction_changes_nothing,
            concurrent_duplicate_inserts_conflict_once,
            locked_organization_checks_hold_until_commit,
            locked_users_lose_no_concurrent_update,
            clients_read_in_a_transaction_lose_no_concurrent_update,
            rate_limits_admit_a_burst_then_one_per_interval,
            sign_ups_and_sign_ins_round_trip,
            verifications_upsert_and_delete,
            handshake_nonces_are_single_use,
            images_round_trip,
            organizations_and_memberships,
            custom_roles_and_permissions,
            instance_invitations_crud_filters_and_order,
            sign_up_keeps_its_ticket,
            role_sets_crud_order_and_conflicts,
            role_set_usage_reassignment_and_moves,
            point_reads_agree_on_read_handles_and_transactions,
            client_reads_agree_on_read_handles_and_transactions,
            read_handles_recover_from_abandoned_statements,
        );
    };
    (@tests $fresh:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let db = $fresh;
                super::$name(db.store.as_ref()).await;
            }
        )*
    };
}
pub(crate) use conformance_suite;

mod domains;
mod invitations;
mod postgres;
mod role_sets;
mod sqlite;

use domains::*;
use invitations::{instance_invitations_crud_filters_and_order, sign_up_keeps_its_ticket};
pub use role_sets::{role_set_usage_reassignment_and_moves, role_sets_crud_order_and_conflicts};

const T0: Millis = 1_767_225_600_000;

fn rng() -> rand::rngs::OsRng {
    rand::rngs::OsRng
}

fn instance(name: &str) -> Instance {
    Instance {
        id: InstanceId::generate(&mut rng()),
        name: name.into(),
        frontend_host: format!("clerk.{name}.test"),
        publishable_key: format!("pk_live_{name}"),
        secret_key: format!("sk_live_{name}{}", ids::random_base62(&mut rng(), 10)),
        allowed_origins: vec!["https://app.example.com".into()],
        allow_localhost: true,
        test_mode: false,
        settings: InstanceSettings::default(),
        created_at: T0,
    }
}

fn user(instance: &Instance, created_at: Millis) -> User {
    User {
        id: UserId::generate(&mut rng()),
        instance_id: instance.id.clone(),
        external_id: None,
        username: None,
        first_name: None,
        last_name: None,
        password_hash: None,
        public_metadata: json!({}),
        private_metadata: json!({}),
        unsafe_metadata: json!({}),
        primary_email_address_id: None,
        image_url: None,
        banned: false,
        locked: false,
        locked_until: None,
        failed_password_attempts: 0,
        last_sign_in_at: None,
        last_active_at: None,
        legal_accepted_at: None,
        create_organization_enabled: true,
        create_organizations_limit: None,
        delete_self_enabled: true,
        locale: None,
        created_at,
        updated_at: created_at,
    }
}

fn email(user: &User, address: &str) -> EmailAddress {
    EmailAddress {
        id: EmailAddressId::generate(&mut rng()),
        instance_id: user.instance_id.clone(),
        user_id: user.id.clone(),
        email_address: address.into(),
        verified: true,
        verification_strategy: Some("admin".into()),
        created_at: user.created_at,
        updated_at: user.created_at,
    }
}

fn client(instance: &Instance, token_hash: Option<Vec<u8>>) -> Client {
    Client {
        id: ClientId::generate(&mut rng()),
        instance_id: instance.id.clone(),
        token_hash,
        last_active_session_id: None,
        sign_in_id: None,
        sign_up_id: None,
        uat: 0,
        created_at: T0,
        updated_at: T0,
    }
}

fn session(client: &Client, user: &User, created_at: Millis, lifetime: Millis) -> Session {
    Session {
        id: SessionId::generate(&mut rng()),
        instance_id: client.instance_id.clone(),
        client_id: client.id.clone(),
        user_id: user.id.clone(),
        status: SessionStatus::Active,
        last_active_organization_id: None,
        last_active_at: created_at,
        expire_at: created_at + lifetime,
        abandon_at: created_at + lifetime,
        azp: Some("http://localhost:3000".into()),
        created_at,
        updated_at: created_at,
    }
}

async fn with_instance(store: &dyn Store, name: &str) -> Instance {
    let instance = instance(name);
    let mut tx = store.begin().await.unwrap();
    tx.insert_instance(&instance).await.unwrap();
    tx.commit().await.unwrap();
    instance
}

async fn insert_user(store: &dyn Store, user: &User, emails: &[EmailAddress]) {
    let mut tx = store.begin().await.unwrap();
    tx.insert_user(user).await.unwrap();
    for e in emails {
        tx.insert_email_address(e).await.unwrap();
    }
    tx.commit().await.unwrap();
}

fn conflict(result: Result<(), StoreError>) -> &'static str {
    match result {
        Err(StoreError::Conflict { constraint }) => constraint,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

pub async fn instances_are_unique_and_found_by_name_host_and_secret(store: &dyn Store) {
    let a = with_instance(store, "alpha").await;
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.get_instance(&a.id).await.unwrap(), a);
    assert_eq!(
        tx.find_instance_by_name("alpha").await.unwrap(),
        Some(a.clone())
    );
    assert_eq!(
        tx.find_instance_by_frontend_host("CLERK.alpha.test")
            .await
            .unwrap(),
        Some(a.clone())
    );
    let hash = crate::sql::secret_hash(&a.secret_key);
    assert_eq!(
        tx.find_instance_by_secret_key_hash(&hash).await.unwrap(),
        Some(a.clone())
    );
    assert_eq!(
        tx.find_instance_by_secret_key_hash(b"nope").await.unwrap(),
        None
    );
    tx.commit().await.unwrap();
    let mut dup = instance("alpha");
    dup.frontend_host = "clerk.elsewhere.test".into();
    let mut tx = store.begin().await.unwrap();
    assert_eq!(conflict(tx.insert_instance(&dup).await), "instance_name");
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    dup.name = "beta".into();
    dup.frontend_host = a.frontend_host.clone();
    assert_eq!(conflict(tx.insert_instance(&dup).await), "frontend_host");
    drop(tx);
    let mut changed = a.clone();
    changed.test_mode = true;
    changed.settings.session_inactivity_timeout_secs = Some(600);
    let mut tx = store.begin().await.unwrap();
    tx.update_instance(&changed).await.unwrap();
    assert_eq!(tx.list_instances().await.unwrap(), vec![changed]);
    tx.commit().await.unwrap();
}

pub async fn signing_keys_rotate(store: &dyn Store) {
    let a = with_instance(store, "keys").await;
    let key = |created_at| SigningKey {
        id: SigningKeyId::generate(&mut rng()),
        instance_id: a.id.clone(),
        private_key_der: vec![1, 2, 3],
        public_n: "n".into(),
        public_e: "AQAB".into(),
        created_at,
        retired_at: None,
    };
    let (old, new) = (key(T0), key(T0 + 1));
    let mut tx = store.begin().await.unwrap();
    tx.insert_signing_key(&old).await.unwrap();
    tx.retire_signing_keys(&a.id, T0 + 1).await.unwrap();
    tx.insert_signing_key(&new).await.unwrap();
    tx.commit().await.unwrap();
    let mut conn = store.read().await.unwrap();
    let keys = conn.list_signing_keys(&a.id).await.unwrap();
    assert_eq!(keys.len(), 2);
    let u = user(&a, T0);
    drop(conn);
    insert_user(store, &u, &[]).await;
    let c = client(&a, None);
    let s = session(&c, &u, T0, 1000);
    let mut tx = store.begin().await.unwrap();
    tx.insert_client(&c).await.unwrap();
    tx.insert_session(&s).await.unwrap();
    tx.commit().await.unwrap();
    let mut conn = store.read().await.unwrap();
    let (_, banned, kid) = conn.get_session_token_context(&a.id, &s.id).await.unwrap();
    assert_eq!(
        (banned, kid),
        (false, Some(new.id.clone())),
        "the current (newest unretired) key"
    );
    assert_eq!(keys[0], new, "newest first, current");
    assert_eq!(keys[1].retired_at, Some(T0 + 1));
    assert_eq!(keys[1].private_key_der, vec![1, 2, 3]);
}

pub async fn users_round_trip_update_and_conflicts(store: &dyn Store) {
    let a = with_instance(store, "users").await;
    let mut u = user(&a, T0);
    u.username = Some("jane".into());
    u.external_id = Some("ext".into());
    u.password_hash = Some(PasswordHash("$argon2id$x".into()));
    u.public_metadata = json!({"plan": "pro", "n": [1, 2]});
    let e = email(&u, "jane@example.com");
    u.primary_email_address_id = Some(e.id.clone());
    insert_user(store, &u, std::slice::from_ref(&e)).await;
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.get_user(&a.id, &u.id).await.unwrap(), u);
    let mut second = email(&u, "jane2@example.com");
    second.created_at = T0 + 1;
    tx.insert_email_address(&second).await.unwrap();
    assert_eq!(
        tx.get_user_with_email_addresses(&a.id, &u.id)
            .await
            .unwrap(),
        (u.clone(), vec![e.clone(), second])
    );
    u.first_name = Some("Jane".into());
    u.locked_until = Some(T0 + 5);
    u.updated_at = T0 + 10;
    tx.update_user(&u).await.unwrap();
    assert_eq!(tx.get_user(&a.id, &u.id).await.unwrap(), u);
    tx.commit().await.unwrap();

    let mut other = user(&a, T0);
    other.username = Some("jane".into());
    let mut tx = store.begin().await.unwrap();
    assert_eq!(conflict(tx.insert_user(&other).await), "username");
    drop(tx);
    other.username = None;
    other.external_id = Some("ext".into());
    let mut tx = store.begin().await.unwrap();
    assert_eq!(conflict(tx.insert_user(&other).await), "external_id");
    drop(tx);
    other.external_id = None;
    insert_user(store, &other, &[]).await;
    other.username = Some("jane".into());
    let mut tx = store.begin().await.unwrap();
    assert_eq!(conflict(tx.update_user(&other).await), "username");
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    let ghost = user(&a, T0);
    assert!(matches!(
        tx.update_user(&ghost).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        tx.get_user(&a.id, &ghost.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        tx.delete_user(&a.id, &ghost.id).await,
        Err(StoreError::NotFound)
    ));
}

pub async fn user_filters_order_and_count(store: &dyn Store) {
    let a = with_instance(store, "filters").await;
    let mut users = Vec::new();
    for (i, (first, address)) in [
        ("Cleo", "cleo@c.test"),
        ("adam", "adam@a.test"),
        ("Bea", "bea@b.test"),
    ]
    .iter()
    .enumerate()
    {
        let mut u = user(&a, T0 + i as i64 * 1000);
        u.first_name = Some((*first).into());
        u.external_id = Some(format!("x{i}"));
        u.username = Some(format!("user{i}"));
        u.last_sign_in_at = Some(T0 + 100 * i as i64);
        let e = email(&u, address);
        u.primary_email_address_id = Some(e.id.clone());
        insert_user(store, &u, std::slice::from_ref(&e)).await;
        users.push(u);
    }
    let mut conn = store.read().await.unwrap();
    let names = |list: Vec<User>| {
        list.into_iter()
            .map(|u| u.first_name.unwrap())
            .collect::<Vec<_>>()
    };
    let q = |f: fn(&mut UserQuery)| {
        let mut query = UserQuery {
            limit: 100,
            ..UserQuery::default()
        };
        f(&mut query);
        query
    };
    assert_eq!(
        names(conn.list_users(&a.id, &q(|_| {})).await.unwrap()),
        ["Bea", "adam", "Cleo"]
    );
    assert_eq!(
        names(
            conn.list_users(
                &a.id,
                &q(|q| {
                    q.order_by = UserOrderField::FirstName;
                    q.descending = false;
                })
            )
            .await
            .unwrap()
        ),
        ["adam", "Bea", "Cleo"]
    );
    assert_eq!(
        names(
            conn.list_users(
                &a.id,
                &q(|q| {
                    q.order_by = UserOrderField::EmailAddress;
                    q.descending = true;
                })
            )
            .await
            .unwrap()
        ),
        ["Cleo", "Bea", "adam"]
    );
    assert_eq!(
        names(
            conn.list_users(
                &a.id,
                &q(|q| {
                    q.limit = 1;
                    q.offset = 1;
                })
            )
            .await
            .unwrap()
        ),
        ["adam"]
    );
    assert_eq!(
        names(
            conn.list_users(
                &a.id,
                &q(|q| q.email_addresses = vec!["bea@b.test".into(), "cleo@c.test".into()])
            )
            .await
            .unwrap()
        ),
        ["Bea", "Cleo"]
    );
    assert_eq!(
        names(
            conn.list_users(&a.id, &q(|q| q.usernames = vec!["user1".into()]))
                .await
                .unwrap()
        ),
        ["adam"]
    );
    assert_eq!(
        names(
            conn.list_users(&a.id, &q(|q| q.external_ids = vec!["x0".into()]))
                .await
                .unwrap()
        ),
        ["Cleo"]
    );
    assert_eq!(
        names(
            conn.list_users(&a.id, &q(|q| q.query = Some("ADA".into())))
                .await
                .unwrap()
        ),
        ["adam"]
    );
    assert_eq!(
        names(
            conn.list_users(&a.id, &q(|q| q.query = Some("b.TEST".into())))
                .await
                .unwrap()
        ),
        ["Bea"]
    );
    assert_eq!(
        names(
            conn.list_users(&a.id, &q(|q| q.query = Some("%".into())))
                .await
                .unwrap()
        ),
        Vec::<String>::new(),
        "LIKE wildcards are literal"
    );
    assert_eq!(
        names(
            conn.list_users(&a.id, &q(|q| q.created_at_after = Some(T0)))
                .await
                .unwrap()
        ),
        ["Bea", "adam"]
    );
    assert_eq!(
        names(
            conn.list_users(&a.id, &q(|q| q.last_sign_in_at_before = Some(T0 + 150)))
                .await
                .unwrap()
        ),
        ["adam", "Cleo"]
    );
    assert!(conn
        .list_users(&a.id, &q(|q| q.phone_numbers = vec!["+1".into()]))
        .await
        .unwrap()
        .is_empty());
    assert!(conn
        .list_users(&a.id, &q(|q| q.organization_ids = vec!["org_1".into()]))
        .await
        .unwrap()
        .is_empty());
    let ids = UserQuery {
        user_ids: vec![users[0].id.clone(), users[2].id.clone()],
        ..UserQuery::default()
    };
    assert_eq!(conn.count_users(&a.id, &ids).await.unwrap(), 2);
    assert_eq!(
        conn.count_users(
            &a.id,
            &UserQuery {
                limit: 1,
                ..UserQuery::default()
            }
        )
        .await
        .unwrap(),
        3,
        "count ignores paging"
    );
}

pub async fn deleting_a_user_cascades(store: &dyn Store) {
    let a = with_instance(store, "cascade").await;
    let u = user(&a, T0);
    let e = email(&u, "gone@example.com");
    insert_user(store, &u, std::slice::from_ref(&e)).await;
    let c = client(&a, None);
    let s = session(&c, &u, T0, 1000);
    let mut tx = store.begin().await.unwrap();
    tx.insert_client(&c).await.unwrap();
    tx.insert_session(&s).await.unwrap();
    tx.delete_user(&a.id, &u.id).await.unwrap();
    tx.commit().await.unwrap();
    let mut conn = store.read().await.unwrap();
    assert!(matches!(
        conn.get_email_address(&a.id, &e.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        conn.get_session(&a.id, &s.id).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        conn.find_email_address_by_address(&a.id, "gone@example.com")
            .await
            .unwrap(),
        None
    );
}

pub async fn email_addresses_are_unique_per_instance(store: &dyn Store) {
    let a = with_instance(store, "mail-a").await;
    let b = with_instance(store, "mail-b").await;
    let ua = user(&a, T0);
    let ub = user(&b, T0);
    insert_user(store, &ua, &[email(&ua, "same@example.com")]).await;
    insert_user(store, &ub, &[email(&ub, "same@example.com")]).await;
    let mut tx = store.begin().await.unwrap();
    assert_eq!(
        conflict(
            tx.insert_email_address(&email(&ua, "SAME@example.com"))
                .await
        ),
        "email_address"
    );
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    let mut found = tx
        .find_email_address_by_address(&a.id, "same@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.user_id, ua.id);
    found.verified = false;
    found.updated_at = T0 + 1;
    tx.update_email_address(&found).await.unwrap();
    assert_eq!(tx.get_email_address(&a.id, &found.id).await.unwrap(), found);
    let second = email(&ua, "second@example.com");
    tx.insert_email_address(&second).await.unwrap();
    let listed = tx
        .list_email_addresses_for_users(&a.id, &[ua.id.clone(), ub.id.clone()])
        .await
        .unwrap();
    assert_eq!(listed.len(), 2, "only instance A's addresses");
    tx.delete_email_address(&a.id, &second.id).await.unwrap();
    assert!(matches!(
        tx.delete_email_address(&a.id, &second.id).await,
        Err(StoreError::NotFound)
    ));
    tx.commit().await.unwrap();
}

pub async fn clients_by_token_hash(store: &dyn Store) {
    let a = with_instance(store, "clients").await;
    let mut c = client(&a, Some(vec![9; 32]));
    let plain = client(&a, None);
    let mut tx = store.begin().await.unwrap();
    tx.insert_client(&c).await.unwrap();
    tx.insert_client(&plain).await.unwrap();
    assert_eq!(
        tx.find_client_by_token_hash(&a.id, &[9; 32]).await.unwrap(),
        Some(c.clone())
    );
    assert_eq!(
        tx.find_client_by_token_hash(&a.id, &[8; 32]).await.unwrap(),
        None
    );
    c.sign_in_id = Some("sia_1".into());
    c.uat = T0 + 1;
    c.updated_at = T0 + 1;
    tx.update_client(&c).await.unwrap();
    assert_eq!(tx.get_client(&a.id, &c.id).await.unwrap(), c);
    assert_eq!(tx.count_clients(&a.id).await.unwrap(), 2);
    assert_eq!(tx.list_clients(&a.id, 1, 0).await.unwrap().len(), 1);
    tx.commit().await.unwrap();
}

pub async fn sessions_filter_by_effective_status(store: &dyn Store) {
    let a = with_instance(store, "sessions").await;
    let u = user(&a, T0);
    insert_user(store, &u, &[]).await;
    let c = client(&a, None);
    let live = session(&c, &u, T0, 10_000);
    let short = session(&c, &u, T0 + 1, 100);
    let mut ended = session(&c, &u, T0 + 2, 10_000);
    ended.status = SessionStatus::Ended;
    let mut idle = session(&c, &u, T0 + 3, 10_000);
    idle.abandon_at = T0 + 200;
    let mut tx = store.begin().await.unwrap();
    tx.insert_client(&c).await.unwrap();
    for s in [&live, &short, &ended, &idle] {
        tx.insert_session(s).await.unwrap();
    }
    tx.commit().await.unwrap();
    let now = T0 + 500;
    let ids = |list: Vec<Session>| list.into_iter().map(|s| s.id).collect::<Vec<_>>();
    let mut conn = store.read().await.unwrap();
    let query = |status| SessionQuery {
        status,
        now,
        user_id: Some(u.id.clone()),
        limit: 10,
        ..SessionQuery::default()
    };
    assert_eq!(
        ids(conn
            .list_sessions(&a.id, &query(Some(SessionStatus::Active)))
            .await
            .unwrap()),
        vec![live.id.clone()]
    );
    assert_eq!(
        ids(conn
            .list_sessions(&a.id, &query(Some(SessionStatus::Expired)))
            .await
            .unwrap()),
        vec![short.id.clone()]
    );
    assert_eq!(
        ids(conn
            .list_sessions(&a.id, &query(Some(SessionStatus::Abandoned)))
            .await
            .unwrap()),
        vec![idle.id.clone()]
    );
    assert_eq!(
        ids(conn
            .list_sessions(&a.id, &query(Some(SessionStatus::Ended)))
            .await
            .unwrap()),
        vec![ended.id.clone()]
    );
    assert_eq!(conn.count_sessions(&a.id, &query(None)).await.unwrap(), 4);
    let by_client = SessionQuery {
        client_id: Some(c.id.clone()),
        limit: 2,
        ..SessionQuery::default()
    };
    assert_eq!(
        ids(conn.list_sessions(&a.id, &by_client).await.unwrap()),
        vec![idle.id.clone(), ended.id.clone()],
        "newest first"
    );
    drop(conn);
    let mut tx = store.begin().await.unwrap();
    let changed = tx
        .end_user_sessions(&a.id, &u.id, SessionStatus::Revoked, Some(&live.id), now)
        .await
        .unwrap();
    assert_eq!(
        changed.len(),
        2,
        "stored-active sessions except the kept one: {changed:?}"
    );
    assert_eq!(
        tx.get_session(&a.id, &live.id).await.unwrap().status,
        SessionStatus::Active
    );
    assert_eq!(
        tx.get_session(&a.id, &short.id).await.unwrap().status,
        SessionStatus::Revoked
    );
    assert_eq!(
        tx.get_session(&a.id, &ended.id).await.unwrap().status,
        SessionStatus::Ended
    );
    // A writer holding a copy read before the revocation (an activity record, say) does not
    // bring the session back: an ended session keeps its status; the other columns change.
    let mut stale = short.clone();
    stale.last_active_at = now;
    stale.updated_at = now;
    tx.update_session(&stale).await.unwrap();
    let kept = tx.get_session(&a.id, &short.id).await.unwrap();
    assert_eq!(
        (kept.status, kept.last_active_at),
        (SessionStatus::Revoked, now)
    );
    let (context_session, banned, kid) =
        tx.get_session_token_context(&a.id, &live.id).await.unwrap();
    assert_eq!(
        (context_session.id.clone(), banned, kid),
        (live.id.clone(), false, None),
        "no key yet"
    );
    assert!(matches!(
        tx.get_session_token_context(&a.id, &SessionId::generate(&mut rng()))
            .await,
        Err(StoreError::NotFound)
    ));
    let mut updated = tx.get_session(&a.id, &live.id).await.unwrap();
    updated.last_active_organization_id = Some("org_1".into());
    updated.updated_at = now;
    tx.update_session(&updated).await.unwrap();
    assert_eq!(tx.get_session(&a.id, &live.id).await.unwrap(), updated);
    tx.commit().await.unwrap();
}

pub async fn jwt_templates_crud(store: &dyn Store) {
    let a = with_instance(store, "templates").await;
    let mut t = JwtTemplate {
        id: JwtTemplateId::generate(&mut rng()),
        instance_id: a.id.clone(),
        name: "supabase".into(),
        claims: json!({"role": "authenticated"}),
        lifetime: 60,
        allowed_clock_skew: 5,
        custom_signing_key: false,
        signing_algorithm: "RS256".into(),
        signing_key: None,
        created_at: T0,
        updated_at: T0,
    };
    let mut tx = store.begin().await.unwrap();
    tx.insert_jwt_template(&t).await.unwrap();
    tx.commit().await.unwrap();
    // A failed statement ends a PostgreSQL transaction, so each conflict gets its own.
    let mut dup = t.clone();
    dup.id = JwtTemplateId::generate(&mut rng());
    let mut tx = store.begin().await.unwrap();
    assert_eq!(
        conflict(tx.insert_jwt_template(&dup).await),
        "jwt_template_name"
    );
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    assert_eq!(
        tx.find_jwt_template_by_name(&a.id, "supabase")
            .await
            .unwrap(),
        Some(t.clone())
    );
    t.lifetime = 120;
    t.claims = json!({"x": "{{user.id}}"});
    tx.update_jwt_template(&t).await.unwrap();
    assert_eq!(tx.get_jwt_template(&a.id, &t.id).await.unwrap(), t);
    assert_eq!(
        tx.list_jwt_templates(&a.id, 10, 0).await.unwrap(),
        vec![t.clone()]
    );
    assert_eq!(tx.count_jwt_templates(&a.id).await.unwrap(), 1);
    tx.delete_jwt_template(&a.id, &t.id).await.unwrap();
    assert!(matches!(
        tx.get_jwt_template(&a.id, &t.id).await,
        Err(StoreError::NotFound)
    ));
    tx.commit().await.unwrap();
}

pub async fn mailbox_newest_first(store: &dyn Store) {
    let a = with_instance(store, "mailbox").await;
    let mut tx = store.begin().await.unwrap();
    for (i, to) in ["a@example.com", "b@example.com", "A@example.com"]
        .iter()
        .enumerate()
    {
        tx.insert_mail_message(&MailMessage {
            id: MailMessageId::generate(&mut rng()),
            instance_id: a.id.clone(),
            to: (*to).into(),
            subject: format!("s{i}"),
            text: "t".into(),
            html: "<p>t</p>".into(),
            created_at: T0 + i as i64,
        })
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    let mut conn = store.read().await.unwrap();
    let all = conn.list_mail_messages(&a.id, None, 10).await.unwrap();
    assert_eq!(
        all.iter().map(|m| m.subject.as_str()).collect::<Vec<_>>(),
        ["s2", "s1", "s0"]
    );
    let to_a = conn
        .list_mail_messages(&a.id, Some("a@EXAMPLE.com"), 10)
        .await
        .unwrap();
    assert_eq!(
        to_a.iter().map(|m| m.subject.as_str()).collect::<Vec<_>>(),
        ["s2", "s0"]
    );
}

pub async fn tenant_isolation(store: &dyn Store) {
    let a = with_instance(store, "tenant-a").await;
    let b = with_instance(store, "tenant-b").await;
    let u = user(&a, T0);
    let e = email(&u, "a@example.com");
    insert_user(store, &u, std::slice::from_ref(&e)).await;
    let c = client(&a, Some(vec![1; 32]));
    let s = session(&c, &u, T0, 1000);
    let mut tx = store.begin().await.unwrap();
    tx.insert_client(&c).await.unwrap();
    tx.insert_session(&s).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    assert!(matches!(
        tx.get_user(&b.id, &u.id).await,
        Err(StoreError::NotFound)
    ));
    let mut foreign = u.clone();
    foreign.instance_id = b.id.clone();
    foreign.first_name = Some("Mallory".into());
    assert!(matches!(
        tx.update_user(&foreign).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        tx.delete_user(&b.id, &u.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(tx
        .list_users(&b.id, &UserQuery::default())
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        tx.count_users(&b.id, &UserQuery::default()).await.unwrap(),
        0
    );
    assert!(matches!(
        tx.get_email_address(&b.id, &e.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        tx.delete_email_address(&b.id, &e.id).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        tx.find_email_address_by_address(&b.id, "a@example.com")
            .await
            .unwrap(),
        None
    );
    assert!(tx
        .list_email_addresses_for_users(&b.id, std::slice::from_ref(&u.id))
        .await
        .unwrap()
        .is_empty());
    assert!(matches!(
        tx.get_client(&b.id, &c.id).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        tx.find_client_by_token_hash(&b.id, &[1; 32]).await.unwrap(),
        None
    );
    assert!(matches!(
        tx.get_session(&b.id, &s.id).await,
        Err(StoreError::NotFound)
    ));
    let mut foreign_session = s.clone();
    foreign_session.instance_id = b.id.clone();
    foreign_session.status = SessionStatus::Revoked;
    assert!(matches!(
        tx.update_session(&foreign_session).await,
        Err(StoreError::NotFound)
    ));
    assert!(tx
        .end_user_sessions(&b.id, &u.id, SessionStatus::Revoked, None, T0)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        tx.count_sessions(&b.id, &SessionQuery::default())
            .await
            .unwrap(),
        0
    );
    tx.commit().await.unwrap();
    let mut conn = store.read().await.unwrap();
    assert_eq!(conn.get_user(&a.id, &u.id).await.unwrap(), u);
    assert_eq!(conn.get_session(&a.id, &s.id).await.unwrap(), s);
}

pub async fn dropped_transaction_changes_nothing(store: &dyn Store) {
    let a = with_instance(store, "rollback").await;
    let u = user(&a, T0);
    {
        let mut tx = store.begin().await.unwrap();
        tx.insert_user(&u).await.unwrap();
        tx.insert_email_address(&email(&u, "x@example.com"))
            .await
            .unwrap();
    }
    let mut conn = store.read().await.unwrap();
    assert!(matches!(
        conn.get_user(&a.id, &u.id).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        conn.find_email_address_by_address(&a.id, "x@example.com")
            .await
            .unwrap(),
        None
    );
}

pub async fn concurrent_duplicate_inserts_conflict_once(store: &dyn Store) {
    let a = with_instance(store, "race").await;
    let u1 = user(&a, T0);
    let u2 = user(&a, T0);
    insert_user(store, &u1, &[]).await;
    insert_user(store, &u2, &[]).await;
    let attempt = |u: User| async move {
        let mut tx = store.begin().await?;
        tx.insert_email_address(&email(&u, "race@example.com"))
            .await?;
        tx.commit().await
    };
    let (r1, r2) = tokio::join!(attempt(u1), attempt(u2));
    let results = [r1, r2];
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    assert!(
        results.iter().any(|r| matches!(
            r,
            Err(StoreError::Conflict {
                constraint: "email_address"
            })
        )),
        "{results:?}"
    );
}

/// Two transactions race for an organization's last seat, each counting the members after
/// `lock_organization` and joining only if there is room: the second waits for the first, sees
/// its member and stays out (without the lock, PostgreSQL lets both count zero and both join).
pub async fn locked_organization_checks_hold_until_commit(store: &dyn Store) {
    let a = with_instance(store, "seats").await;
    let b = with_instance(store, "seats-other").await;
    let (ada, bob) = (user(&a, T0), user(&a, T0 + 1));
    insert_user(store, &ada, &[]).await;
    insert_user(store, &bob, &[]).await;
    let org = Organization {
        max_allowed_memberships: 1,
        ..organization(&a, "one-seat", T0)
    };
    let mut tx = store.begin().await.unwrap();
    tx.insert_organization(&org).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.lock_organization(&a.id, &org.id).await.unwrap(), org);
    assert!(matches!(
        tx.lock_organization(&b.id, &org.id).await,
        Err(StoreError::NotFound)
    ));
    drop(tx);

    let members = MembershipQuery {
        organization_id: Some(org.id.clone()),
        ..MembershipQuery::default()
    };
    let join = |user: UserId, wait_before: u64, hold: u64| {
        let (instance, org_id, members) = (a.id.clone(), org.id.clone(), members.clone());
        async move {
            tokio::time::sleep(std::time::Duration::from_millis(wait_before)).await;
            let mut tx = store.begin().await?;
            let org = tx.lock_organization(&instance, &org_id).await?;
            let count = tx.count_memberships(&instance, &members).await?;
            // The first one holds its lock a while, so the second asks while it is held.
            tokio::time::sleep(std::time::Duration::from_millis(hold)).await;
            if count >= org.max_allowed_memberships {
                return Ok::<bool, StoreError>(false);
            }
            tx.insert_membership(&OrganizationMembership {
                id: OrganizationMembershipId::generate(&mut rng()),
                instance_id: instance.clone(),
                organization_id: org_id,
                user_id: user,
                role: "org:member".into(),
                public_metadata: json!({}),
                private_metadata: json!({}),
                created_at: T0,
                updated_at: T0,
            })
            .await?;
            tx.commit().await?;
            Ok(true)
        }
    };
    let (first, second) = tokio::join!(join(ada.id.clone(), 0, 300), join(bob.id.clone(), 50, 0));
    assert_eq!((first.unwrap(), second.unwrap()), (true, false));
    let mut conn = store.read().await.unwrap();
    assert_eq!(conn.count_memberships(&a.id, &members).await.unwrap(), 1);
}

/// Two transactions count a wrong password on the same user at the same moment, each reading
/// the user with `lock_user` and writing it back: the second waits for the first and counts on
/// from its write (without the lock, PostgreSQL lets both read 0 and both write 1).
pub async fn locked_users_lose_no_concurrent_update(store: &dyn Store) {
    let a = with_instance(store, "attempts").await;
    let b = with_instance(store, "attempts-other").await;
    let ada = user(&a, T0);
    insert_user(store, &ada, &[]).await;
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.lock_user(&a.id, &ada.id).await.unwrap(), ada);
    assert!(matches!(
        tx.lock_user(&b.id, &ada.id).await,
        Err(StoreError::NotFound)
    ));
    drop(tx);

    let count_one = |wait_before: u64, hold: u64| {
        let (instance, id) = (a.id.clone(), ada.id.clone());
        async move {
            tokio::time::sleep(std::time::Duration::from_millis(wait_before)).await;
            let mut tx = store.begin().await?;
            let mut user = tx.lock_user(&instance, &id).await?;
            // The first one holds its lock a while, so the second asks while it is held.
            tokio::time::sleep(std::time::Duration::from_millis(hold)).await;
            user.failed_password_attempts += 1;
            tx.update_user(&user).await?;
            tx.commit().await
        }
    };
    let (first, second) = tokio::join!(count_one(0, 300), count_one(50, 0));
    first.unwrap();
    second.unwrap();
    let mut conn = store.read().await.unwrap();
    let read = conn.get_user(&a.id, &ada.id).await.unwrap();
    assert_eq!(read.failed_password_attempts, 2);
}

/// Two requests of one browser change different fields of its client at once, each reading
/// the client inside its transaction and writing it back: the second waits for the first and
/// keeps its change (on PostgreSQL the read locks the row; SQLite runs writers one at a time).
pub async fn clients_read_in_a_transaction_lose_no_concurrent_update(store: &dyn Store) {
    let a = with_instance(store, "client-locks").await;
    let hash = vec![7u8; 32];
    let browser = client(&a, Some(hash.clone()));
    let mut tx = store.begin().await.unwrap();
    tx.insert_client(&browser).await.unwrap();
    tx.commit().await.unwrap();

    let change = |wait_before: u64, hold: u64, by_hash: bool, field: &'static str| {
        let (instance, id, hash) = (a.id.clone(), browser.id.clone(), hash.clone());
        async move {
            tokio::time::sleep(std::time::Duration::from_millis(wait_before)).await;
            let mut tx = store.begin().await?;
            let mut client = if by_hash {
                tx.find_client_by_token_hash(&instance, &hash)
                    .await?
                    .ok_or(StoreError::NotFound)?
            } else {
                tx.get_client(&instance, &id).await?
            };
            // The first one holds its row a while, so the second reads while it is held.
            tokio::time::sleep(std::time::Duration::from_millis(hold)).await;
            match field {
                "sign_in" => client.sign_in_id = Some("sin_first".into()),
                _ => client.sign_up_id = Some("sua_second".into()),
            }
            tx.update_client(&client).await?;
            tx.commit().await
        }
    };
    for (first_by_hash, second_by_hash) in [(true, false), (false, true)] {
        let (first, second) = tokio::join!(
            change(0, 300, first_by_hash, "sign_in"),
            change(50, 0, second_by_hash, "sign_up")
        );
        first.unwrap();
        second.unwrap();
        let mut conn = store.read().await.unwrap();
        let read = conn.get_client(&a.id, &browser.id).await.unwrap();
        assert_eq!(read.sign_in_id.as_deref(), Some("sin_first"));
        assert_eq!(read.sign_up_id.as_deref(), Some("sua_second"));
        drop(conn);
        let mut tx = store.begin().await.unwrap();
        tx.update_client(&browser).await.unwrap();
        tx.commit().await.unwrap();
    }
    // Plain read handles do not lock: a read while a transaction holds the row answers at once.
    let mut tx = store.begin().await.unwrap();
    tx.get_client(&a.id, &browser.id).await.unwrap();
    let mut conn = store.read().await.unwrap();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        conn.find_client_by_token_hash(&a.id, &hash),
    )
    .await
    .expect("a plain read does not wait for a transaction's lock");
    assert_eq!(read.unwrap().unwrap().id, browser.id);
}

/// Rate limits under GCRA: 5 per 10 s (interval 2 s, tolerance 10 s) admits a burst of five,
/// then one more every 2 s; buckets and instances are apart; a refusal writes nothing; purged
/// buckets start afresh; and concurrent admissions on separate connections never admit more
/// than the limit (each statement decides on the row atomically).
pub async fn rate_limits_admit_a_burst_then_one_per_interval(store: &dyn Store) {
    let a = with_instance(store, "limits").await;
    let b = with_instance(store, "limits-other").await;
    let admit = |instance: InstanceId, bucket: &'static str, now: Millis| async move {
        let mut tx = store.begin().await.unwrap();
        let answer = tx
            .admit_rate_limited(&instance, bucket, now, 2_000, 10_000)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        answer
    };
    for i in 0..5 {
        assert_eq!(admit(a.id.clone(), "ip", T0 + i).await, None, "burst {i}");
    }
    // The sixth is refused: the bucket's time is 5 intervals ahead of the first request.
    assert_eq!(admit(a.id.clone(), "ip", T0 + 5).await, Some(T0 + 10_000));
    assert_eq!(
        admit(a.id.clone(), "ip", T0 + 6).await,
        Some(T0 + 10_000),
        "a refusal moves nothing"
    );
    // Other buckets and other instances are untouched.
    assert_eq!(admit(a.id.clone(), "other-ip", T0 + 6).await, None);
    assert_eq!(admit(b.id.clone(), "ip", T0 + 6).await, None);
    // One interval later, one more; then refused again.
    assert_eq!(admit(a.id.clone(), "ip", T0 + 2_000).await, None);
    assert_eq!(
        admit(a.id.clone(), "ip", T0 + 2_001).await,
        Some(T0 + 12_000)
    );
    // A dropped transaction admits nothing.
    let mut tx = store.begin().await.unwrap();
    assert_eq!(
        tx.admit_rate_limited(&a.id, "ip", T0 + 4_000, 2_000, 10_000)
            .await
            .unwrap(),
        None
    );
    drop(tx);
    assert_eq!(admit(a.id.clone(), "ip", T0 + 4_000).await, None);
    assert_eq!(
        admit(a.id.clone(), "ip", T0 + 4_001).await,
        Some(T0 + 14_000)
    );

    // Purging removes only buckets whose time has passed, only in that instance.
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.purge_rate_limits(&a.id, T0 + 13_000).await.unwrap(), 1);
    assert_eq!(tx.purge_rate_limits(&a.id, T0 + 15_000).await.unwrap(), 1);
    tx.commit().await.unwrap();
    assert_eq!(admit(b.id.clone(), "ip", T0 + 15_000).await, None, "b kept");
    for i in 0..5 {
        assert_eq!(admit(a.id.clone(), "ip", T0 + 20_000 + i).await, None);
    }

    // Twenty concurrent requests at the same moment: exactly five are admitted.
    let results = futures::future::join_all((0..20).map(|_| {
        let instance = a.id.clone();
        async move {
            let mut tx = store.begin().await?;
            let answer = tx
                .admit_rate_limited(&instance, "burst", T0 + 30_000, 2_000, 10_000)
                .await?;
            tx.commit().await?;
            Ok::<_, StoreError>(answer.is_none())
        }
    }))
    .await;
    let admitted = results.into_iter().filter(|r| *r.as_ref().unwrap()).count();
    assert_eq!(admitted, 5);
}

#[test]
fn migration_folders_agree_on_versions() {
    let versions = |dir: &str| {
        let mut v: Vec<String> =
            std::fs::read_dir(format!("{}/migrations/{dir}", env!("CARGO_MANIFEST_DIR")))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
        v.sort();
        v
    };
    assert_eq!(versions("sqlite"), versions("postgres"));
}

pub async fn sign_ups_and_sign_ins_round_trip(store: &dyn Store) {
    let a = with_instance(store, "flows").await;
    let b = with_instance(store, "flows-other").await;
    let c = client(&a, Some(vec![7; 32]));
    let mut tx = store.begin().await.unwrap();
    tx.insert_client(&c).await.unwrap();
    let mut sign_up = SignUp {
        id: SignUpId::generate(&mut rng()),
        instance_id: a.id.clone(),
        client_id: c.id.clone(),
        status: SignUpStatus::MissingRequirements,
        email_address: Some("ada@example.com".into()),
        username: None,
        first_name: Some("Ada".into()),
        last_name: None,
        password_hash: Some(PasswordHash("$argon2id$v=19$x".into())),
        unsafe_metadata: serde_json::json!({"plan": "pro"}),
        legal_accepted_at: None,
        locale: Some("en-US".into()),
        email_verification: Some(Verification::code("email_code", vec![1; 32], T0, None)),
        created_user_id: None,
        created_session_id: None,
        abandon_at: T0 + ATTEMPT_LIFETIME_MS,
        created_at: T0,
        updated_at: T0,
        ticket: None,
    };
    tx.insert_sign_up(&sign_up).await.unwrap();
    assert_eq!(tx.get_sign_up(&a.id, &sign_up.id).await.unwrap(), sign_up);
    sign_up.status = SignUpStatus::Complete;
    sign_up.created_user_id = Some(UserId::generate(&mut rng()));
    tx.update_sign_up(&sign_up).await.unwrap();
    assert_eq!(tx.get_sign_up(&a.id, &sign_up.id).await.unwrap(), sign_up);
    assert!(matches!(
        tx.get_sign_up(&b.id, &sign_up.id).await,
        Err(StoreError::NotFound)
    ));
    let mut sign_in = SignIn {
        id: SignInId::generate(&mut rng()),
        instance_id: a.id.clone(),
        client_id: c.id.clone(),
        status: SignInStatus::NeedsFirstFactor,
        identifier: Some("ada@example.com".into()),
        user_id: None,
        first_factor_verification: None,
        created_session_id: None,
        abandon_at: T0 + ATTEMPT_LIFETIME_MS,
        created_at: T0,
        updated_at: T0,
    };
    tx.insert_sign_in(&sign_in).await.unwrap();
    sign_in.status = SignInStatus::Complete;
    tx.update_sign_in(&sign_in).await.unwrap();
    assert_eq!(tx.get_sign_in(&a.id, &sign_in.id).await.unwrap(), sign_in);
    assert!(matches!(
        tx.get_sign_in(&b.id, &sign_in.id).await,
        Err(StoreError::NotFound)
    ));
    tx.commit().await.unwrap();
}

pub async fn verifications_upsert_and_delete(store: &dyn Store) {
    let a = with_instance(store, "verifications").await;
    let b = with_instance(store, "verifications-other").await;
    let mut v = Verification::code("email_code", vec![3; 32], T0, None);
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.get_verification(&a.id, "idn_1").await.unwrap(), None);
    tx.put_verification(&a.id, "idn_1", &v).await.unwrap();
    v.attempts = 2;
    tx.put_verification(&a.id, "idn_1", &v).await.unwrap();
    assert_eq!(tx.get_verification(&a.id, "idn_1").await.unwrap(), Some(v));
    assert_eq!(tx.get_verification(&b.id, "idn_1").await.unwrap(), None);
    tx.delete_verification(&a.id, "idn_1").await.unwrap();
    assert_eq!(tx.get_verification(&a.id, "idn_1").await.unwrap(), None);
    tx.commit().await.unwrap();
}

pub async fn handshake_nonces_are_single_use(store: &dyn Store) {
    let a = with_instance(store, "nonces").await;
    let b = with_instance(store, "nonces-other").await;
    let directives = vec![
        "__session=x; Path=/".to_string(),
        "__client_uat=1".to_string(),
    ];
    let mut tx = store.begin().await.unwrap();
    tx.insert_handshake_nonce(&a.id, &[1; 32], &directives, T0 + 60_000)
        .await
        .unwrap();
    tx.insert_handshake_nonce(&a.id, &[2; 32], &directives, T0 + 60_000)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert_eq!(
        tx.take_handshake_nonce(&b.id, &[1; 32], T0).await.unwrap(),
        None,
        "another instance cannot redeem it"
    );
    assert_eq!(
        tx.take_handshake_nonce(&a.id, &[1; 32], T0).await.unwrap(),
        Some(directives)
    );
    assert_eq!(
        tx.take_handshake_nonce(&a.id, &[1; 32], T0).await.unwrap(),
        None
    );
    assert_eq!(
        tx.take_handshake_nonce(&a.id, &[2; 32], T0 + 60_000)
            .await
            .unwrap(),
        None,
        "expired"
    );
    tx.commit().await.unwrap();
}

pub async fn images_round_trip(store: &dyn Store) {
    let a = with_instance(store, "images").await;
    let b = with_instance(store, "images-other").await;
    let image = Image {
        id: ImageId::generate(&mut rng()),
        instance_id: a.id.clone(),
        content_type: "image/png".into(),
        bytes: vec![0x89, b'P', b'N', b'G', 0, 1, 2, 255],
        created_at: T0,
    };
    let mut tx = store.begin().await.unwrap();
    tx.insert_image(&image).await.unwrap();
    assert_eq!(tx.get_image(&image.id).await.unwrap(), image);
    tx.delete_image(&b.id, &image.id).await.unwrap();
    assert!(
        tx.get_image(&image.id).await.is_ok(),
        "another instance cannot delete it"
    );
    tx.delete_image(&a.id, &image.id).await.unwrap();
    assert!(matches!(
        tx.get_image(&image.id).await,
        Err(StoreError::NotFound)
    ));
    tx.commit().await.unwrap();
}

fn organization(instance: &Instance, slug: &str, created_at: Millis) -> Organization {
    Organization {
        id: OrganizationId::generate(&mut rng()),
        instance_id: instance.id.clone(),
        name: format!("Org {slug}"),
        slug: slug.into(),
        image_url: None,
        public_metadata: serde_json::json!({"tier": 1}),
        private_metadata: serde_json::json!({}),
        max_allowed_memberships: 0,
        admin_delete_enabled: true,
        created_by: None,
        role_set_id: None,
        role_set_key: None,
        created_at,
        updated_at: created_at,
    }
}

pub async fn organizations_and_memberships(store: &dyn Store) {
    let a = with_instance(store, "orgs").await;
    let b = with_instance(store, "orgs-other").await;
    let ada = user(&a, T0);
    let bob = user(&a, T0 + 1);
    insert_user(store, &ada, &[]).await;
    insert_user(store, &bob, &[]).await;
    let acme = Organization {
        created_by: Some(ada.id.clone()),
        ..organization(&a, "acme", T0)
    };
    let globex = organization(&a, "globex", T0 + 1);
    let mut tx = store.begin().await.unwrap();
    tx.insert_organization(&acme).await.unwrap();
    tx.insert_organization(&globex).await.unwrap();
    tx.insert_organization(&organization(&b, "acme", T0))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert_eq!(
        conflict(tx.insert_organization(&organization(&a, "acme", T0)).await),
        "slug"
    );
    drop(tx);

    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.get_organization(&a.id, &acme.id).await.unwrap(), acme);
    assert!(matches!(
        tx.get_organization(&b.id, &acme.id).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        tx.find_organization_by_slug(&a.id, "globex").await.unwrap(),
        Some(globex.clone())
    );
    let query = OrganizationQuery {
        query: Some("GLOB".into()),
        limit: 10,
        ..OrganizationQuery::default()
    };
    assert_eq!(
        tx.list_organizations(&a.id, &query).await.unwrap(),
        vec![globex.clone()]
    );
    let all = OrganizationQuery {
        limit: 10,
        ..OrganizationQuery::default()
    };
    assert_eq!(tx.count_organizations(&a.id, &all).await.unwrap(), 2);
    let by_ada = OrganizationQuery {
        created_by: Some(ada.id.clone()),
        limit: 10,
        ..OrganizationQuery::default()
    };
    assert_eq!(
        tx.list_organizations(&a.id, &by_ada).await.unwrap(),
        vec![acme.clone()],
        "only what ada created"
    );
    assert_eq!(tx.count_organizations(&b.id, &by_ada).await.unwrap(), 0);
    assert_eq!(
        tx.list_organizations(&a.id, &all).await.unwrap()[0].id,
        globex.id,
        "newest first"
    );

    let membership = |org: &Organization, user: &User, role: &str| OrganizationMembership {
        id: OrganizationMembershipId::generate(&mut rng()),
        instance_id: a.id.clone(),
        organization_id: org.id.clone(),
        user_id: user.id.clone(),
        role: role.into(),
        public_metadata: serde_json::json!({}),
        private_metadata: serde_json::json!({}),
        created_at: T0,
        updated_at: T0,
    };
    let mut admin = membership(&acme, &ada, "org:admin");
    tx.insert_membership(&admin).await.unwrap();
    tx.insert_membership(&membership(&acme, &bob, "org:member"))
        .await
        .unwrap();
    tx.insert_membership(&membership(&globex, &ada, "org:member"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert_eq!(
        conflict(
            tx.insert_membership(&membership(&acme, &ada, "org:member"))
                .await
        ),
        "organization_membership"
    );
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    admin.role = "org:member".into();
    admin.updated_at = T0 + 5;
    tx.update_membership(&admin).await.unwrap();
    assert_eq!(
        tx.find_membership(&a.id, &acme.id, &ada.id).await.unwrap(),
        Some(admin.clone())
    );
    let of_acme = MembershipQuery {
        organization_id: Some(acme.id.clone()),
        limit: 10,
        ..MembershipQuery::default()
    };
    assert_eq!(tx.count_memberships(&a.id, &of_acme).await.unwrap(), 2);
    let admins = MembershipQuery {
        roles: vec!["org:admin".into()],
        limit: 10,
        ..MembershipQuery::default()
    };
    assert_eq!(tx.count_memberships(&a.id, &admins).await.unwrap(), 0);
    let of_ada = MembershipQuery {
        user_ids: vec![ada.id.clone()],
        limit: 10,
        ..MembershipQuery::default()
    };
    assert_eq!(tx.list_memberships(&a.id, &of_ada).await.unwrap().len(), 2);
    assert_eq!(
        tx.count_memberships(&b.id, &of_ada).await.unwrap(),
        0,
        "tenant isolation"
    );
    tx.delete_membership(&a.id, &acme.id, &bob.id)
        .await
        .unwrap();
    assert!(matches!(
        tx.delete_membership(&a.id, &acme.id, &bob.id).await,
        Err(StoreError::NotFound)
    ));
    tx.delete_organization(&a.id, &acme.id).await.unwrap();
    assert_eq!(
        tx.list_memberships(&a.id, &of_ada).await.unwrap().len(),
        1,
        "memberships go with the org"
    );
    tx.commit().await.unwrap();
}

pub async fn custom_roles_and_permissions(store: &dyn Store) {
    let a = with_instance(store, "roles").await;
    let b = with_instance(store, "roles-other").await;
    let mut permission = Permission {
        id: PermissionId::generate(&mut rng()),
        instance_id: a.id.clone(),
        key: "org:reports:export".into(),
        name: "Export reports".into(),
        description: String::new(),
        created_at: T0,
        updated_at: T0,
    };
    let mut role = CustomRole {
        id: RoleId::generate(&mut rng()),
        instance_id: a.id.clone(),
        key: "org:analyst".into(),
        name: "Analyst".into(),
        description: "Reads reports".into(),
        permissions: vec!["org:reports:export".into()],
        created_at: T0,
        updated_at: T0,
    };
    let mut tx = store.begin().await.unwrap();
    tx.insert_permission(&permission).await.unwrap();
    tx.insert_role(&role).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    let mut copy = permission.clone();
    copy.id = PermissionId::generate(&mut rng());
    assert_eq!(conflict(tx.insert_permission(&copy).await), "key");
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    permission.name = "Export".into();
    tx.update_permission(&permission).await.unwrap();
    assert_eq!(
        tx.list_permissions(&a.id).await.unwrap(),
        vec![permission.clone()]
    );
    assert_eq!(tx.list_permissions(&b.id).await.unwrap(), vec![]);
    role.permissions.push("org:reports:read".into());
    tx.update_role(&role).await.unwrap();
    assert_eq!(
        tx.find_role_by_key(&a.id, "org:analyst").await.unwrap(),
        Some(role.clone())
    );
    assert_eq!(
        tx.find_role_by_key(&b.id, "org:analyst").await.unwrap(),
        None
    );
    assert_eq!(tx.list_roles(&a.id).await.unwrap().len(), 1);
    tx.delete_role(&a.id, &role.id).await.unwrap();
    tx.delete_permission(&a.id, &permission.id).await.unwrap();
    assert!(matches!(
        tx.delete_permission(&a.id, &permission.id).await,
        Err(StoreError::NotFound)
    ));
    tx.commit().await.unwrap();
}

/// The reads behind the Frontend API's client object (the SQLite backend answers them on a read
/// handle from its synchronous readers, the list statements for exactly these filters written
/// out): the same rows, order, paging and status rules as a transaction's, within the tenant.
pub async fn client_reads_agree_on_read_handles_and_transactions(store: &dyn Store) {
    let a = with_instance(store, "client-reads").await;
    let b = with_instance(store, "client-reads-other").await;
    let u = user(&a, T0);
    let other = user(&a, T0 + 1);
    insert_user(store, &u, &[email(&u, "Grace@Example.com")]).await;
    insert_user(store, &other, &[]).await;
    let c = client(&a, Some(vec![9; 32]));
    let elsewhere = client(&a, None);
    let now = T0 + 5_000;
    // Active ones (two at the same instant: the id orders them), one past its lifetime, one
    // abandoned, one ended, and one on another client.
    let active: Vec<Session> = [T0, T0 + 10, T0 + 10, T0 + 20]
        .into_iter()
        .map(|at| session(&c, &u, at, 60_000))
        .collect();
    let expired = session(&c, &u, T0, 1_000);
    let abandoned = Session {
        abandon_at: T0 + 2_000,
        ..session(&c, &u, T0, 60_000)
    };
    let ended = Session {
        status: SessionStatus::Ended,
        ..session(&c, &other, T0, 60_000)
    };
    let foreign = session(&elsewhere, &u, T0, 60_000);
    let orgs: Vec<Organization> = (0..3)
        .map(|i| organization(&a, &format!("reads-{i}"), T0 + i))
        .collect();
    let mut tx = store.begin().await.unwrap();
    tx.insert_client(&c).await.unwrap();
    tx.insert_client(&elsewhere).await.unwrap();
    for s in active
        .iter()
        .chain([&expired, &abandoned, &ended, &foreign])
    {
        tx.insert_session(s).await.unwrap();
    }
    for (i, org) in orgs.iter().enumerate() {
        tx.insert_organization(org).await.unwrap();
        let at = T0 + [7, 3, 3][i];
        tx.insert_membership(&OrganizationMembership {
            id: OrganizationMembershipId::generate(&mut rng()),
            instance_id: a.id.clone(),
            organization_id: org.id.clone(),
            user_id: u.id.clone(),
            role: "org:member".into(),
            public_metadata: json!({"i": i}),
            private_metadata: json!({}),
            created_at: at,
            updated_at: at,
        })
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();

    let sessions = |limit, offset| SessionQuery {
        client_id: Some(c.id.clone()),
        status: Some(SessionStatus::Active),
        now,
        limit,
        offset,
        ..SessionQuery::default()
    };
    let memberships = |ascending, limit, offset| MembershipQuery {
        user_ids: vec![u.id.clone()],
        ascending,
        limit,
        offset,
        ..MembershipQuery::default()
    };
    let mut results = Vec::new();
    for mut handle in [store.begin().await.unwrap(), store.read().await.unwrap()] {
        let mut listed = Vec::new();
        for (limit, offset) in [(100, 0), (2, 1), (1, 4)] {
            listed.push(
                handle
                    .list_sessions(&a.id, &sessions(limit, offset))
                    .await
                    .unwrap(),
            );
        }
        let mut members = Vec::new();
        for (ascending, limit, offset) in [(true, 500, 0), (false, 500, 0), (true, 1, 1)] {
            let query = memberships(ascending, limit, offset);
            members.push(handle.list_memberships(&a.id, &query).await.unwrap());
        }
        let other_tenant = (
            handle.get_client(&b.id, &c.id).await,
            handle
                .find_email_address_by_address(&b.id, "grace@example.com")
                .await
                .unwrap(),
            handle
                .list_sessions(&b.id, &sessions(100, 0))
                .await
                .unwrap(),
            handle
                .list_memberships(&b.id, &memberships(true, 500, 0))
                .await
                .unwrap(),
        );
        assert!(matches!(other_tenant.0, Err(StoreError::NotFound)));
        assert_eq!(
            (other_tenant.1, other_tenant.2.len(), other_tenant.3.len()),
            (None, 0, 0)
        );
        assert!(matches!(
            handle
                .get_client(&a.id, &ClientId::generate(&mut rng()))
                .await,
            Err(StoreError::NotFound)
        ));
        results.push((
            handle.get_client(&a.id, &c.id).await.unwrap(),
            handle
                .find_email_address_by_address(&a.id, "GRACE@example.COM")
                .await
                .unwrap(),
            listed,
            members,
        ));
    }
    assert_eq!(
        results[0], results[1],
        "a read handle reads what a transaction reads"
    );
    let (client_read, address, listed, members) = &results[1];
    assert_eq!(client_read, &c);
    assert_eq!(address.as_ref().map(|e| &e.user_id), Some(&u.id));
    // Newest first, the same instant ordered by id descending; only the active ones.
    let mut newest_first = active.clone();
    newest_first.sort_by(|x, y| (y.created_at, y.id.as_str()).cmp(&(x.created_at, x.id.as_str())));
    assert_eq!(listed[0], newest_first);
    assert_eq!(listed[1], newest_first[1..3].to_vec());
    assert!(listed[2].is_empty());
    let order = |list: &Vec<OrganizationMembership>| -> Vec<Millis> {
        list.iter().map(|m| m.created_at).collect()
    };
    assert_eq!(order(&members[0]), vec![T0 + 3, T0 + 3, T0 + 7]);
    assert_eq!(order(&members[1]), vec![T0 + 7, T0 + 3, T0 + 3]);
    assert_eq!(members[2], members[0][1..2].to_vec());
    assert!(members[0][0].id.as_str() < members[0][1].id.as_str());
}

/// The hot point reads (the SQLite backend answers them on a read handle from its synchronous
/// readers) return exactly what a transaction reads, see committed writes at once, keep tenants
/// apart, and still answer when many read handles are used at the same time.
pub async fn point_reads_agree_on_read_handles_and_transactions(store: &dyn Store) {
    let a = with_instance(store, "points").await;
    let b = with_instance(store, "points-other").await;
    let mut u = user(&a, T0);
    u.first_name = Some("Ada".into());
    u.public_metadata = json!({"plan": "pro", "seats": [1, 2]});
    u.password_hash = Some(PasswordHash(
        "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
    ));
    u.locked_until = Some(T0 + 5);
    let first = email(&u, "ada@example.com");
    let mut second = email(&u, "ada@work.example.com");
    second.created_at = T0 + 1;
    second.verified = false;
    second.verification_strategy = None;
    u.primary_email_address_id = Some(first.id.clone());
    insert_user(store, &u, &[first.clone(), second.clone()]).await;
    let bare = user(&a, T0 + 2);
    insert_user(store, &bare, &[]).await;
    let c = client(&a, Some(vec![7; 32]));
    let mut s = session(&c, &u, T0, 10_000);
    s.last_active_organization_id = Some("org_x".into());
    let mut tx = store.begin().await.unwrap();
    tx.insert_client(&c).await.unwrap();
    tx.insert_session(&s).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    let in_tx = (
        tx.get_user(&a.id, &u.id).await.unwrap(),
        tx.get_user_with_email_addresses(&a.id, &u.id)
            .await
            .unwrap(),
        tx.find_client_by_token_hash(&a.id, &[7; 32]).await.unwrap(),
        tx.get_session_token_context(&a.id, &s.id).await.unwrap(),
    );
    drop(tx);
    let mut conn = store.read().await.unwrap();
    let on_read = (
        conn.get_user(&a.id, &u.id).await.unwrap(),
        conn.get_user_with_email_addresses(&a.id, &u.id)
            .await
            .unwrap(),
        conn.find_client_by_token_hash(&a.id, &[7; 32])
            .await
            .unwrap(),
        conn.get_session_token_context(&a.id, &s.id).await.unwrap(),
    );
    assert_eq!(on_read, in_tx);
    assert_eq!(on_read.0, u);
    assert_eq!(on_read.1, (u.clone(), vec![first.clone(), second.clone()]));
    assert_eq!(on_read.2, Some(c.clone()));
    assert_eq!(on_read.3, (s.clone(), false, None), "no signing key yet");
    assert_eq!(
        conn.get_user_with_email_addresses(&a.id, &bare.id)
            .await
            .unwrap(),
        (bare.clone(), vec![])
    );

    // Unknown ids and another tenant's ids are not found on either kind of handle.
    for mut handle in [store.read().await.unwrap(), store.begin().await.unwrap()] {
        let missing = UserId::generate(&mut rng());
        assert!(matches!(
            handle.get_user(&a.id, &missing).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            handle.get_user(&b.id, &u.id).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            handle.get_user_with_email_addresses(&b.id, &u.id).await,
            Err(StoreError::NotFound)
        ));
        assert_eq!(
            handle
                .find_client_by_token_hash(&b.id, &[7; 32])
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            handle
                .find_client_by_token_hash(&a.id, &[6; 32])
                .await
                .unwrap(),
            None
        );
        assert!(matches!(
            handle.get_session_token_context(&b.id, &s.id).await,
            Err(StoreError::NotFound)
        ));

        // The refresh's one statement: the token context and the cookie token hash of the
        // session's client, only within the instance.
        let (session, banned, kid) = handle
            .get_session_token_context(&a.id, &s.id)
            .await
            .unwrap();
        assert_eq!(
            handle
                .get_browser_token_context(&a.id, &s.id)
                .await
                .unwrap(),
            BrowserTokenContext {
                session,
                user_banned: banned,
                current_kid: kid,
                client_token_hash: Some(vec![7; 32])
            }
        );
        assert!(matches!(
            handle.get_browser_token_context(&b.id, &s.id).await,
            Err(StoreError::NotFound)
        ));
    }

    // A committed change is seen by the next read on an open read handle.
    let mut banned = u.clone();
    banned.banned = true;
    banned.first_name = None;
    banned.updated_at = T0 + 9;
    let mut tx = store.begin().await.unwrap();
    tx.update_user(&banned).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(conn.get_user(&a.id, &u.id).await.unwrap(), banned);
    assert!(
        conn.get_session_token_context(&a.id, &s.id)
            .await
            .unwrap()
            .1
    );

    // Inside a write transaction the reads see the transaction's own writes.
    let mut tx = store.begin().await.unwrap();
    tx.delete_email_address(&a.id, &second.id).await.unwrap();
    assert_eq!(
        tx.get_user_with_email_addresses(&a.id, &u.id)
            .await
            .unwrap()
            .1,
        vec![first.clone()]
    );
    drop(tx);
    assert_eq!(
        conn.get_user_with_email_addresses(&a.id, &u.id)
            .await
            .unwrap()
            .1,
        vec![first.clone(), second.clone()],
        "the dropped transaction changed nothing"
    );

    // More read handles open at once than the SQLite backend has synchronous readers (the
    // PostgreSQL pool has 16 connections): every read answers.
    let mut handles = Vec::new();
    for _ in 0..10 {
        handles.push(store.read().await.unwrap());
    }
    for handle in &mut handles {
        assert_eq!(handle.get_user(&a.id, &u.id).await.unwrap(), banned);
    }
}

/// A request that is dropped while its statement is in flight (its client went away) leaves
/// nothing on the connection for the next read handle that gets it (the PostgreSQL backend
/// keeps read connections between handles without checking them back into its pool): the
/// next handles read the rows they ask for, and a missing row is still `NotFound`.
pub async fn read_handles_recover_from_abandoned_statements(store: &dyn Store) {
    let a = with_instance(store, "abandoned").await;
    let mut users = Vec::new();
    for i in 0..3 {
        let mut u = user(&a, T0 + i);
        u.first_name = Some(format!("user {i}"));
        insert_user(store, &u, &[]).await;
        users.push(u);
    }
    for round in 0..20 {
        let u = &users[round % users.len()];
        let mut conn = store.read().await.unwrap();
        // Polled until it waits on the database, then dropped with the handle.
        let abandoned = tokio::time::timeout(
            std::time::Duration::from_micros(1),
            conn.get_user_with_email_addresses(&a.id, &u.id),
        )
        .await;
        drop(abandoned);
        drop(conn);
        // Several handles at once, so each may get the abandoned connection.
        let instance = &a.id;
        let reads = users.iter().map(|expected| async move {
            let mut conn = store.read().await.unwrap();
            let got = conn.get_user(instance, &expected.id).await.unwrap();
            assert_eq!(got.first_name, expected.first_name);
            let unknown = UserId::generate(&mut rand::thread_rng());
            let missing = conn.get_user(instance, &unknown).await;
            assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
        });
        futures::future::join_all(reads).await;
    }
}

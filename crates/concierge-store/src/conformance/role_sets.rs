//! Conformance checks of [`crate::RoleSetTx`], and the backfill of migration 0009 on both
//! databases (existing instances get the Primary Role Set; existing organizations use it).

use super::{conflict, organization, rng, user, with_instance, T0};
use crate::{RoleSetOrderField, RoleSetQuery, RoleUsage, RoleUsageScope, Store};
use crate::{StoreError, Tx};
use concierge_core::*;

fn role_set(instance: &Instance, key: &str, roles: &[&str], created_at: Millis) -> RoleSet {
    RoleSet {
        id: RoleSetId::generate(&mut rng()),
        instance_id: instance.id.clone(),
        key: key.into(),
        name: format!("Set {key}"),
        description: None,
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        default_role: roles[roles.len() - 1].into(),
        creator_role: roles[0].into(),
        initial: false,
        created_at,
        updated_at: created_at,
    }
}

pub async fn role_sets_crud_order_and_conflicts(store: &dyn Store) {
    let a = with_instance(store, "sets").await;
    let b = with_instance(store, "sets-other").await;
    let mut primary = role_set(&a, "role_set:default", &["org:admin", "org:member"], T0);
    primary.initial = true;
    primary.name = "Primary Role Set".into();
    let mut pro = role_set(&a, "role_set:pro", &["org:admin", "org:analyst"], T0 + 1);
    pro.description = Some("Paying customers".into());
    let basic = role_set(&a, "role_set:basic", &["org:member"], T0 + 2);
    let mut tx = store.begin().await.unwrap();
    for set in [&primary, &pro, &basic] {
        tx.insert_role_set(set).await.unwrap();
    }
    tx.insert_role_set(&role_set(&b, "role_set:pro", &["org:admin"], T0))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    // Keys are unique per instance; one initial set per instance.
    let mut tx = store.begin().await.unwrap();
    assert_eq!(
        conflict(
            tx.insert_role_set(&role_set(&a, "role_set:pro", &["org:admin"], T0))
                .await
        ),
        "key"
    );
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    let mut second_initial = role_set(&a, "role_set:other", &["org:admin"], T0);
    second_initial.initial = true;
    assert_eq!(conflict(tx.insert_role_set(&second_initial).await), "type");
    drop(tx);

    let mut tx = store.read().await.unwrap();
    assert_eq!(tx.get_role_set(&a.id, &pro.id).await.unwrap(), pro);
    assert!(matches!(
        tx.get_role_set(&b.id, &pro.id).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        tx.find_role_set_by_key(&a.id, "role_set:basic")
            .await
            .unwrap(),
        Some(basic.clone())
    );
    assert_eq!(
        tx.find_initial_role_set(&a.id).await.unwrap(),
        Some(primary.clone())
    );
    assert_eq!(tx.find_initial_role_set(&b.id).await.unwrap(), None);

    let keys = |sets: Vec<RoleSet>| sets.into_iter().map(|s| s.key).collect::<Vec<_>>();
    let newest_first = RoleSetQuery::default();
    assert_eq!(
        keys(tx.list_role_sets(&a.id, &newest_first).await.unwrap()),
        ["role_set:basic", "role_set:pro", "role_set:default"]
    );
    let by_key = RoleSetQuery {
        order_by: RoleSetOrderField::Key,
        descending: false,
        limit: 2,
        offset: 1,
        ..RoleSetQuery::default()
    };
    assert_eq!(
        keys(tx.list_role_sets(&a.id, &by_key).await.unwrap()),
        ["role_set:default", "role_set:pro"]
    );
    let by_name = RoleSetQuery {
        order_by: RoleSetOrderField::Name,
        descending: true,
        ..RoleSetQuery::default()
    };
    assert_eq!(
        keys(tx.list_role_sets(&a.id, &by_name).await.unwrap()),
        ["role_set:pro", "role_set:basic", "role_set:default"],
        "Set role_set:pro > Set role_set:basic > Primary Role Set"
    );
    let partial = RoleSetQuery {
        query: Some("PRO".into()),
        ..RoleSetQuery::default()
    };
    assert_eq!(
        keys(tx.list_role_sets(&a.id, &partial).await.unwrap()),
        ["role_set:pro"]
    );
    assert_eq!(tx.count_role_sets(&a.id, &partial).await.unwrap(), 1);
    let exact_id = RoleSetQuery {
        query: Some(basic.id.to_string()),
        ..RoleSetQuery::default()
    };
    assert_eq!(
        keys(tx.list_role_sets(&a.id, &exact_id).await.unwrap()),
        ["role_set:basic"]
    );
    let wildcard = RoleSetQuery {
        query: Some("%".into()),
        ..RoleSetQuery::default()
    };
    assert_eq!(tx.count_role_sets(&a.id, &wildcard).await.unwrap(), 0);
    assert_eq!(
        tx.count_role_sets(&b.id, &RoleSetQuery::default())
            .await
            .unwrap(),
        1
    );
    drop(tx);

    // Update every mutable column; the initial flag moves when the old one is cleared first.
    let mut tx = store.begin().await.unwrap();
    primary.initial = false;
    primary.updated_at = T0 + 9;
    tx.update_role_set(&primary).await.unwrap();
    pro.initial = true;
    pro.key = "role_set:premium".into();
    pro.name = "Premium".into();
    pro.description = None;
    pro.roles.push("org:member".into());
    pro.default_role = "org:member".into();
    pro.creator_role = "org:analyst".into();
    pro.updated_at = T0 + 9;
    tx.update_role_set(&pro).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.get_role_set(&a.id, &pro.id).await.unwrap(), pro);
    assert_eq!(
        tx.find_initial_role_set(&a.id).await.unwrap().unwrap().id,
        pro.id
    );
    let mut clash = basic.clone();
    clash.key = "role_set:premium".into();
    assert_eq!(conflict(tx.update_role_set(&clash).await), "key");
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    let mut clash = basic.clone();
    clash.initial = true;
    assert_eq!(conflict(tx.update_role_set(&clash).await), "type");
    drop(tx);

    let mut tx = store.begin().await.unwrap();
    tx.delete_role_set(&a.id, &basic.id).await.unwrap();
    assert!(matches!(
        tx.delete_role_set(&a.id, &basic.id).await,
        Err(StoreError::NotFound)
    ));
    let mut elsewhere = basic.clone();
    elsewhere.instance_id = b.id.clone();
    assert!(matches!(
        tx.update_role_set(&elsewhere).await,
        Err(StoreError::NotFound)
    ));
    tx.commit().await.unwrap();
}

fn membership(org: &Organization, user: &User, role: &str) -> OrganizationMembership {
    OrganizationMembership {
        id: OrganizationMembershipId::generate(&mut rng()),
        instance_id: org.instance_id.clone(),
        organization_id: org.id.clone(),
        user_id: user.id.clone(),
        role: role.into(),
        public_metadata: serde_json::json!({}),
        private_metadata: serde_json::json!({}),
        created_at: T0,
        updated_at: T0,
    }
}

fn invitation(org: &Organization, email: &str, role: &str) -> OrganizationInvitation {
    OrganizationInvitation {
        id: OrganizationInvitationId::generate(&mut rng()),
        instance_id: org.instance_id.clone(),
        organization_id: org.id.clone(),
        email_address: email.into(),
        role: role.into(),
        status: InvitationStatus::Pending,
        inviter_user_id: None,
        public_metadata: serde_json::json!({}),
        private_metadata: serde_json::json!({}),
        redirect_url: None,
        expires_at: T0 + 1_000_000,
        created_at: T0,
        updated_at: T0,
    }
}

async fn usage(tx: &mut dyn Tx, instance: &InstanceId, scope: &RoleUsageScope) -> Vec<RoleUsage> {
    tx.count_role_usage(instance, scope).await.unwrap()
}

fn used(role: &str, members: i64, pending_invitations: i64) -> RoleUsage {
    RoleUsage {
        role: role.into(),
        members,
        pending_invitations,
    }
}

pub async fn role_set_usage_reassignment_and_moves(store: &dyn Store) {
    let a = with_instance(store, "usage").await;
    let b = with_instance(store, "usage-other").await;
    let users: Vec<User> = (0..4).map(|i| user(&a, T0 + i)).collect();
    let stranger = user(&b, T0);
    let gold = role_set(&a, "role_set:gold", &["org:admin", "org:analyst"], T0);
    let silver = role_set(&a, "role_set:silver", &["org:admin", "org:member"], T0);
    let other_gold = role_set(&b, "role_set:gold", &["org:admin", "org:analyst"], T0);
    let mut acme = organization(&a, "acme", T0);
    acme.role_set_id = Some(gold.id.clone());
    let mut globex = organization(&a, "globex", T0);
    globex.role_set_id = Some(gold.id.clone());
    let mut initech = organization(&a, "initech", T0);
    initech.role_set_id = Some(silver.id.clone());
    let mut foreign = organization(&b, "acme", T0);
    foreign.role_set_id = Some(other_gold.id.clone());

    let mut tx = store.begin().await.unwrap();
    for u in users.iter().chain([&stranger]) {
        tx.insert_user(u).await.unwrap();
    }
    for set in [&gold, &silver, &other_gold] {
        tx.insert_role_set(set).await.unwrap();
    }
    for org in [&acme, &globex, &initech, &foreign] {
        tx.insert_organization(org).await.unwrap();
    }
    for m in [
        membership(&acme, &users[0], "org:admin"),
        membership(&acme, &users[1], "org:analyst"),
        membership(&acme, &users[2], "org:analyst"),
        membership(&globex, &users[0], "org:analyst"),
        membership(&initech, &users[0], "org:analyst"),
        membership(&foreign, &stranger, "org:analyst"),
    ] {
        tx.insert_membership(&m).await.unwrap();
    }
    let mut revoked = invitation(&globex, "gone@example.com", "org:analyst");
    revoked.status = InvitationStatus::Revoked;
    for i in [
        invitation(&acme, "new@example.com", "org:analyst"),
        invitation(&globex, "viewer@example.com", "org:viewer"),
        revoked.clone(),
    ] {
        tx.insert_invitation(&i).await.unwrap();
    }
    tx.commit().await.unwrap();

    // Organizations read back their set's key.
    let mut tx = store.begin().await.unwrap();
    let read = tx.get_organization(&a.id, &acme.id).await.unwrap();
    assert_eq!(read.role_set_id, Some(gold.id.clone()));
    assert_eq!(read.role_set_key.as_deref(), Some("role_set:gold"));

    let by_set = RoleUsageScope::RoleSet(gold.id.clone());
    assert_eq!(
        usage(tx.as_mut(), &a.id, &by_set).await,
        [
            used("org:admin", 1, 0),
            used("org:analyst", 3, 1),
            used("org:viewer", 0, 1)
        ],
        "members and pending invitations of acme and globex only"
    );
    let by_org = RoleUsageScope::Organization(acme.id.clone());
    assert_eq!(
        usage(tx.as_mut(), &a.id, &by_org).await,
        [used("org:admin", 1, 0), used("org:analyst", 2, 1)]
    );
    assert_eq!(
        usage(tx.as_mut(), &b.id, &by_set).await,
        [],
        "another instance's view of the set id sees nothing"
    );

    // Reassigning in a set leaves other sets and instances alone.
    let moved = tx
        .reassign_role(&a.id, &by_set, "org:analyst", "org:member", T0 + 7)
        .await
        .unwrap();
    assert_eq!(moved, 3);
    let member = tx
        .find_membership(&a.id, &acme.id, &users[1].id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (member.role.as_str(), member.updated_at),
        ("org:member", T0 + 7)
    );
    assert_eq!(
        tx.find_membership(&a.id, &initech.id, &users[0].id)
            .await
            .unwrap()
            .unwrap()
            .role,
        "org:analyst",
        "initech uses another set"
    );
    assert_eq!(
        tx.find_membership(&b.id, &foreign.id, &stranger.id)
            .await
            .unwrap()
            .unwrap()
            .role,
        "org:analyst"
    );
    let pending = tx
        .list_invitations(
            &a.id,
            &crate::InvitationQuery {
                organization_id: Some(acme.id.clone()),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(pending[0].role, "org:member", "pending invitations follow");
    assert_eq!(
        tx.get_invitation(&a.id, &revoked.id).await.unwrap().role,
        "org:analyst",
        "finished invitations are history"
    );
    assert_eq!(
        tx.reassign_role(&a.id, &by_org, "org:admin", "org:member", T0 + 8)
            .await
            .unwrap(),
        1
    );

    // Moving organizations between sets.
    let count = tx
        .move_role_set_organizations(&a.id, &gold.id, &silver.id, T0 + 9)
        .await
        .unwrap();
    assert_eq!(count, 2);
    let read = tx.get_organization(&a.id, &globex.id).await.unwrap();
    assert_eq!(read.role_set_key.as_deref(), Some("role_set:silver"));
    assert_eq!(read.updated_at, T0 + 9);
    assert_eq!(usage(tx.as_mut(), &a.id, &by_set).await, []);
    assert_eq!(
        tx.move_role_set_organizations(&b.id, &gold.id, &silver.id, T0)
            .await
            .unwrap(),
        0
    );
    tx.delete_role_set(&a.id, &gold.id).await.unwrap();
    tx.commit().await.unwrap();
}

/// Seeds a database migrated up to 0008 with what existed before role sets: two instances (one
/// with organization role settings pointing at a custom role and at a missing one), custom roles
/// and an organization.
macro_rules! seed_before_role_sets {
    ($pool:expr) => {{
        let pool = $pool;
        for (id, name, settings) in [
            (
                "ins_a",
                "a",
                r#"{"organization_default_role":"org:analyst","organization_creator_role":"org:gone"}"#,
            ),
            ("ins_b", "b", "{}"),
        ] {
            sqlx::query("INSERT INTO instances (id, name, frontend_host, publishable_key, secret_key, secret_key_hash, allowed_origins, allow_localhost, test_mode, settings, created_at) VALUES ($1, $2, $3, $4, $5, $6, '[]', $7, $7, $8, $9)")
                .bind(id).bind(name).bind(format!("clerk.{name}.test")).bind(format!("pk_{name}"))
                .bind(format!("sk_{name}")).bind(name.as_bytes().to_vec()).bind(false).bind(settings).bind(T0)
                .execute(pool).await.unwrap();
        }
        for (id, key, created_at) in [("role_b", "org:billing", T0 + 1), ("role_a", "org:analyst", T0 + 2)] {
            sqlx::query("INSERT INTO organization_roles (id, instance_id, key, name, description, permissions, created_at, updated_at) VALUES ($1, 'ins_a', $2, $2, '', '[]', $3, $3)")
                .bind(id).bind(key).bind(created_at).execute(pool).await.unwrap();
        }
        sqlx::query("INSERT INTO organizations (id, instance_id, name, slug, image_url, public_metadata, private_metadata, max_allowed_memberships, admin_delete_enabled, created_by, created_at, updated_at) VALUES ('org_a', 'ins_a', 'Acme', 'acme', NULL, '{}', '{}', 0, $1, NULL, $2, $2)")
            .bind(true).bind(T0).execute(pool).await.unwrap();
    }};
}

/// What migration 0009 must have made of the seed.
async fn check_backfill(store: &dyn Store) {
    let (a, b) = (
        InstanceId::from_trusted("ins_a".into()),
        InstanceId::from_trusted("ins_b".into()),
    );
    let mut tx = store.read().await.unwrap();
    let primary = tx.find_initial_role_set(&a).await.unwrap().unwrap();
    assert!(
        RoleSetId::parse(primary.id.as_str()).is_ok(),
        "{:?}",
        primary.id
    );
    assert_eq!(primary.key, "role_set:default");
    assert_eq!(primary.name, "Primary Role Set");
    assert_eq!(
        primary.roles,
        ["org:admin", "org:member", "org:billing", "org:analyst"]
    );
    assert_eq!(primary.default_role, "org:analyst");
    assert_eq!(
        primary.creator_role, "org:admin",
        "a missing role falls back"
    );
    assert_eq!(primary.created_at, T0);
    let other = tx.find_initial_role_set(&b).await.unwrap().unwrap();
    assert_eq!(other.roles, ["org:admin", "org:member"]);
    assert_eq!(
        (other.default_role.as_str(), other.creator_role.as_str()),
        ("org:member", "org:admin")
    );
    assert_ne!(other.id, primary.id);
    let org = tx
        .get_organization(&a, &OrganizationId::from_trusted("org_a".into()))
        .await
        .unwrap();
    assert_eq!(org.role_set_id, Some(primary.id));
    assert_eq!(org.role_set_key.as_deref(), Some("role_set:default"));
}

fn before_role_sets(mut migrator: sqlx::migrate::Migrator) -> sqlx::migrate::Migrator {
    let earlier: Vec<_> = migrator
        .migrations
        .iter()
        .filter(|m| m.version < 9)
        .cloned()
        .collect();
    migrator.migrations = earlier.into();
    migrator
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_0009_backfills_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/concierge.db", dir.path().display());
    let options = <sqlx::sqlite::SqliteConnectOptions as std::str::FromStr>::from_str(&url)
        .unwrap()
        .create_if_missing(true)
        .foreign_keys(true);
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    before_role_sets(sqlx::migrate!("migrations/sqlite"))
        .run(&pool)
        .await
        .unwrap();
    seed_before_role_sets!(&pool);
    pool.close().await;
    let store = crate::open(&url).await.unwrap();
    check_backfill(store.as_ref()).await;
    store.close().await;
}

/// Drops a test database when the test ends, even when it fails.
struct DropDatabase(String);

impl Drop for DropDatabase {
    fn drop(&mut self) {
        let name = self.0.clone();
        let _ = std::thread::spawn(move || {
            if let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                runtime.block_on(crate::testing::drop_postgres_database(&name));
            }
        })
        .join();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_0009_backfills_postgres() {
    let (url, name) = crate::testing::create_postgres_database().await;
    let _guard = DropDatabase(name);
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    before_role_sets(sqlx::migrate!("migrations/postgres"))
        .run(&pool)
        .await
        .unwrap();
    seed_before_role_sets!(&pool);
    pool.close().await;
    let store = crate::open(&url).await.unwrap();
    check_backfill(store.as_ref()).await;
    store.close().await;
}

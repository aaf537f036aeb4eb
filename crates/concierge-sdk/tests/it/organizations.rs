//! The Backend API client's organization side against a real Concierge: organizations,
//! memberships, organization invitations, domains, roles and permissions (wire §8.2).

use concierge_sdk::client::{
    BackendApi, CreateOrganizationDomainParams, CreateOrganizationInvitationParams,
    CreateOrganizationParams, MetadataParams, OrganizationInvitationListParams,
    OrganizationListParams, OrganizationMembershipListParams, PageParams, PermissionParams,
    RoleParams, UpdateOrganizationDomainParams, UpdateOrganizationParams,
};
use concierge_testkit::{Db, TestServer};
use http::StatusCode;
use serde_json::json;

fn api(srv: &TestServer) -> BackendApi {
    BackendApi::new(&srv.backend_url, srv.default.secret_key.as_str()).unwrap()
}

async fn user_id(srv: &TestServer, email: &str) -> String {
    srv.create_user(&srv.default, email).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn organizations_crud(db: Db) {
    let srv = TestServer::spawn(db).await;
    let api = api(&srv);
    let ada = user_id(&srv, "ada@example.com").await;

    let acme = api
        .create_organization(&CreateOrganizationParams {
            slug: Some("acme".into()),
            created_by: Some(ada.clone()),
            max_allowed_memberships: Some(5),
            public_metadata: Some(json!({"plan": "pro", "trial": true})),
            private_metadata: Some(json!({"billing": "cus_1"})),
            ..CreateOrganizationParams::new("Acme Inc")
        })
        .await
        .unwrap();
    assert!(acme.id.starts_with("org_"), "{}", acme.id);
    assert_eq!(acme.slug.as_deref(), Some("acme"));
    assert_eq!(acme.created_by.as_deref(), Some(ada.as_str()));
    assert_eq!(acme.max_allowed_memberships, 5);
    assert_eq!(acme.private_metadata["billing"], "cus_1");
    assert_eq!(acme.other["object"], "organization");
    let globex = api
        .create_organization(&CreateOrganizationParams::new("Globex"))
        .await
        .unwrap();
    assert_eq!(
        globex.slug.as_deref(),
        Some("globex"),
        "derived from the name"
    );

    // By id and by slug, with and without the member count.
    let by_slug = api.get_organization("acme", true).await.unwrap();
    assert_eq!(by_slug.id, acme.id);
    assert_eq!(by_slug.members_count, Some(1), "the creator is a member");
    let by_id = api.get_organization(&acme.id, false).await.unwrap();
    assert_eq!(by_id.name, "Acme Inc");
    assert_eq!(by_id.members_count, None);

    // Lists: query, page size and offset, counts.
    let all = api
        .list_organizations(&OrganizationListParams::default())
        .await
        .unwrap();
    assert_eq!(all.total_count, 2);
    let found = api
        .list_organizations(&OrganizationListParams {
            query: Some("acm".into()),
            include_members_count: true,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(found.total_count, 1);
    assert_eq!(found.data[0].id, acme.id);
    assert_eq!(found.data[0].members_count, Some(1));
    let first = api
        .list_organizations(&OrganizationListParams {
            limit: Some(1),
            order_by: Some("+created_at".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let second = api
        .list_organizations(&OrganizationListParams {
            limit: Some(1),
            offset: Some(1),
            order_by: Some("+created_at".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!((first.data.len(), second.data.len()), (1, 1));
    assert_eq!(first.total_count, 2);
    assert_ne!(first.data[0].id, second.data[0].id);
    assert_eq!(first.data[0].members_count, None);

    // Update and metadata merge (null removes a key).
    let updated = api
        .update_organization(
            &acme.id,
            &UpdateOrganizationParams {
                name: Some("Acme Corp".into()),
                slug: Some("acme-corp".into()),
                admin_delete_enabled: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.name, "Acme Corp");
    assert_eq!(updated.slug.as_deref(), Some("acme-corp"));
    assert!(!updated.admin_delete_enabled);
    let merged = api
        .update_organization_metadata(
            &acme.id,
            &MetadataParams {
                public_metadata: Some(json!({"trial": null, "seats": 3})),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(merged.public_metadata, json!({"plan": "pro", "seats": 3}));
    assert_eq!(merged.private_metadata["billing"], "cus_1", "untouched");

    // A taken slug is Clerk's form error; a missing organization is `resource_not_found`.
    let error = api
        .update_organization(
            &globex.id,
            &UpdateOrganizationParams {
                slug: Some("acme-corp".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::UNPROCESSABLE_ENTITY));
    assert!(error.code().is_some(), "{error:?}");

    let deleted = api.delete_organization(&acme.id).await.unwrap();
    assert!(deleted.deleted);
    assert_eq!(deleted.id, acme.id);
    let error = api.get_organization(&acme.id, false).await.unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::NOT_FOUND));
    assert_eq!(error.code(), Some("resource_not_found"));
    // Another instance's key sees none of this instance's organizations.
    let other = BackendApi::new(&srv.backend_url, srv.other.secret_key.as_str()).unwrap();
    let error = other.get_organization(&globex.id, false).await.unwrap_err();
    assert_eq!(error.code(), Some("resource_not_found"));
}

async fn memberships(db: Db) {
    let srv = TestServer::spawn(db).await;
    let api = api(&srv);
    let ada = user_id(&srv, "ada@example.com").await;
    let bob = user_id(&srv, "bob@example.com").await;
    let cy = user_id(&srv, "cy@example.com").await;
    let org = api
        .create_organization(&CreateOrganizationParams {
            created_by: Some(ada.clone()),
            ..CreateOrganizationParams::new("Acme")
        })
        .await
        .unwrap();

    let bobs = api
        .create_organization_membership(&org.id, &bob, "org:member")
        .await
        .unwrap();
    assert_eq!(bobs.role, "org:member");
    assert_eq!(bobs.public_user_data.user_id, bob);
    assert_eq!(bobs.public_user_data.identifier, "bob@example.com");
    assert_eq!(bobs.organization.id, org.id);
    assert!(bobs
        .permissions
        .iter()
        .any(|p| p == "org:sys_memberships:read"));
    api.create_organization_membership(&org.id, &cy, "org:member")
        .await
        .unwrap();
    let error = api
        .create_organization_membership(&org.id, &bob, "org:member")
        .await
        .unwrap_err();
    assert!(
        error.status().is_some_and(|s| s.is_client_error()),
        "{error:?}"
    );
    let error = api
        .create_organization_membership(&org.id, &cy, "org:nope")
        .await
        .unwrap_err();
    assert!(
        error.status().is_some_and(|s| s.is_client_error()),
        "{error:?}"
    );

    let everyone = api
        .list_organization_memberships(&org.id, &Default::default())
        .await
        .unwrap();
    assert_eq!(everyone.total_count, 3);
    let admins = api
        .list_organization_memberships(
            &org.id,
            &OrganizationMembershipListParams {
                role: vec!["org:admin".into()],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(admins.total_count, 1);
    assert_eq!(admins.data[0].public_user_data.user_id, ada);
    let just_bob = api
        .list_organization_memberships(
            &org.id,
            &OrganizationMembershipListParams {
                user_id: vec![bob.clone()],
                limit: Some(5),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(just_bob.data.len(), 1);

    let promoted = api
        .update_organization_membership(&org.id, &bob, "org:admin")
        .await
        .unwrap();
    assert_eq!(promoted.role, "org:admin");
    let tagged = api
        .update_organization_membership_metadata(
            &org.id,
            &bob,
            &MetadataParams {
                public_metadata: Some(json!({"team": "ops"})),
                private_metadata: Some(json!({"badge": 7})),
            },
        )
        .await
        .unwrap();
    assert_eq!(tagged.public_metadata["team"], "ops");
    assert_eq!(tagged.private_metadata["badge"], 7);

    let mine = api
        .list_user_organization_memberships(&bob, PageParams::default())
        .await
        .unwrap();
    assert_eq!(mine.total_count, 1);
    assert_eq!(mine.data[0].organization.id, org.id);
    assert_eq!(mine.data[0].role, "org:admin");
    let instance_wide = api
        .list_instance_organization_memberships(&Default::default())
        .await
        .unwrap();
    assert_eq!(instance_wide.total_count, 3);

    let removed = api
        .delete_organization_membership(&org.id, &cy)
        .await
        .unwrap();
    assert_eq!(removed.public_user_data.user_id, cy);
    let after = api
        .list_user_organization_memberships(&cy, PageParams::default())
        .await
        .unwrap();
    assert_eq!(after.total_count, 0);
    let error = api
        .delete_organization_membership(&org.id, &cy)
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::NOT_FOUND));
}

async fn invitations(db: Db) {
    let srv = TestServer::spawn(db).await;
    let api = api(&srv);
    let ada = user_id(&srv, "ada@example.com").await;
    let org = api
        .create_organization(&CreateOrganizationParams {
            created_by: Some(ada.clone()),
            ..CreateOrganizationParams::new("Acme")
        })
        .await
        .unwrap();

    let invitation = api
        .create_organization_invitation(
            &org.id,
            &CreateOrganizationInvitationParams {
                inviter_user_id: Some(ada.clone()),
                expires_in_days: Some(3),
                redirect_url: Some("http://localhost:3000/accept".into()),
                public_metadata: Some(json!({"team": "ops"})),
                private_metadata: Some(json!({"source": "sdk"})),
                ..CreateOrganizationInvitationParams::new("dan@example.com", "org:admin")
            },
        )
        .await
        .unwrap();
    assert!(invitation.id.starts_with("orginv_"), "{}", invitation.id);
    assert_eq!(invitation.status, "pending");
    assert_eq!(invitation.role, "org:admin");
    assert_eq!(invitation.organization_id, org.id);
    assert_eq!(invitation.inviter_user_id.as_deref(), Some(ada.as_str()));
    assert_eq!(
        invitation.redirect_url.as_deref(),
        Some("http://localhost:3000/accept")
    );
    assert_eq!(invitation.public_metadata["team"], "ops");
    assert_eq!(invitation.private_metadata["source"], "sdk");
    assert_eq!(
        invitation.expires_at,
        Some(invitation.created_at + 3 * 86_400_000)
    );

    let bulk = api
        .create_organization_invitations_bulk(
            &org.id,
            &[
                CreateOrganizationInvitationParams::new("eve@example.com", "org:member"),
                CreateOrganizationInvitationParams::new("fay@example.com", "org:member"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(bulk.data.len(), 2);
    assert_eq!(bulk.data[1].email_address, "fay@example.com");
    // Bulk is all or nothing: one bad address refuses the whole batch.
    let error = api
        .create_organization_invitations_bulk(
            &org.id,
            &[
                CreateOrganizationInvitationParams::new("gus@example.com", "org:member"),
                CreateOrganizationInvitationParams::new("not an email", "org:member"),
            ],
        )
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::UNPROCESSABLE_ENTITY));

    let fetched = api
        .get_organization_invitation(&org.id, &invitation.id)
        .await
        .unwrap();
    assert_eq!(fetched.email_address, "dan@example.com");
    let revoked = api
        .revoke_organization_invitation(&org.id, &invitation.id, Some(&ada))
        .await
        .unwrap();
    assert_eq!(revoked.status, "revoked");

    let by_status = |status: &str| OrganizationInvitationListParams {
        status: vec![status.into()],
        ..Default::default()
    };
    let pending = api
        .list_organization_invitations(&org.id, &by_status("pending"))
        .await
        .unwrap();
    assert_eq!(pending.total_count, 2);
    let revoked = api
        .list_organization_invitations(&org.id, &by_status("revoked"))
        .await
        .unwrap();
    assert_eq!(revoked.total_count, 1);
    assert_eq!(revoked.data[0].id, invitation.id);
    let page = api
        .list_organization_invitations(
            &org.id,
            &OrganizationInvitationListParams {
                limit: Some(2),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!((page.data.len(), page.total_count), (2, 3));

    let error = api
        .get_organization_invitation(&org.id, "orginv_missing")
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some("resource_not_found"));
}

async fn roles_and_permissions(db: Db) {
    let srv = TestServer::spawn(db).await;
    let api = api(&srv);
    let export = api
        .create_permission(&PermissionParams {
            key: Some("org:reports:export".into()),
            name: Some("Export reports".into()),
            description: Some("CSV downloads".into()),
        })
        .await
        .unwrap();
    assert_eq!(export.permission_type, "user");
    let read = api
        .create_permission(&PermissionParams {
            key: Some("org:reports:read".into()),
            name: Some("Read reports".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let error = api
        .create_permission(&PermissionParams {
            key: Some("org:reports:read".into()),
            name: Some("again".into()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some("form_identifier_exists"));

    let permissions = api.list_permissions(PageParams::default()).await.unwrap();
    assert!(permissions
        .data
        .iter()
        .any(|p| p.key == "org:sys_memberships:manage" && p.permission_type == "system"));
    assert!(permissions.data.iter().any(|p| p.id == export.id));
    let renamed = api
        .update_permission(
            &export.id,
            &PermissionParams {
                name: Some("Export".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(renamed.name, "Export");
    assert_eq!(api.get_permission(&export.id).await.unwrap().name, "Export");

    let analyst = api
        .create_role(&RoleParams {
            key: Some("org:analyst".into()),
            name: Some("Analyst".into()),
            description: Some("Reads reports".into()),
            permissions: Some(vec![read.key.clone()]),
        })
        .await
        .unwrap();
    assert_eq!(
        analyst.permission_keys().collect::<Vec<_>>(),
        ["org:reports:read"]
    );
    let roles = api.list_roles(PageParams::default()).await.unwrap();
    let keys: Vec<&str> = roles.data.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys, ["org:admin", "org:member", "org:analyst"]);
    let paged = api
        .list_roles(PageParams {
            limit: Some(1),
            offset: Some(2),
        })
        .await
        .unwrap();
    assert_eq!(paged.data[0].key, "org:analyst");
    assert_eq!(paged.total_count, 3);

    let with_export = api
        .assign_permission_to_role(&analyst.id, &export.id)
        .await
        .unwrap();
    assert_eq!(with_export.permissions.len(), 2);
    let without_read = api
        .remove_permission_from_role(&analyst.id, "org:reports:read")
        .await
        .unwrap();
    assert_eq!(
        without_read.permission_keys().collect::<Vec<_>>(),
        ["org:reports:export"]
    );
    let updated = api
        .update_role(
            &analyst.id,
            &RoleParams {
                name: Some("Data analyst".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.name, "Data analyst");
    assert_eq!(
        api.get_role(&analyst.id).await.unwrap().name,
        "Data analyst"
    );

    let error = api
        .update_role(
            "org:admin",
            &RoleParams {
                name: Some("Boss".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::FORBIDDEN));
    assert!(api.delete_role(&analyst.id).await.unwrap().deleted);
    assert!(api.delete_permission(&read.id).await.unwrap().deleted);
    let error = api.get_permission(&read.id).await.unwrap_err();
    assert_eq!(error.code(), Some("resource_not_found"));
}

crate::both_databases!(
    organizations_crud,
    memberships,
    invitations,
    roles_and_permissions,
    domains,
);

async fn domains(db: Db) {
    let srv = TestServer::spawn(db).await;
    let api = api(&srv);
    let acme = api
        .create_organization(&CreateOrganizationParams::new("Acme Inc"))
        .await
        .unwrap();

    // Created verified unless told otherwise (wire §8.2).
    let corp = api
        .create_organization_domain(
            &acme.id,
            &CreateOrganizationDomainParams::new("acme-corp.com"),
        )
        .await
        .unwrap();
    assert!(corp.id.starts_with("orgdmn_"), "{}", corp.id);
    assert_eq!(corp.organization_id, acme.id);
    assert_eq!(corp.name, "acme-corp.com");
    assert_eq!(corp.other["object"], "organization_domain");
    let verification = corp.verification.as_ref().unwrap();
    assert_eq!(verification["status"], "verified");
    assert_eq!(corp.total_pending_invitations, 0);
    assert!(corp.created_at > 0 && corp.updated_at >= corp.created_at);
    let labs = api
        .create_organization_domain(
            &acme.id,
            &CreateOrganizationDomainParams {
                enrollment_mode: Some("manual_invitation".into()),
                verified: Some(false),
                ..CreateOrganizationDomainParams::new("acme-labs.com")
            },
        )
        .await
        .unwrap();
    assert_eq!(labs.enrollment_mode, "manual_invitation");
    // Unverified and no code prepared: `verification` is null.
    assert_eq!(labs.verification, None);

    // A name taken in the instance, and a common email provider, are refused with 422.
    let error = api
        .create_organization_domain(
            &acme.id,
            &CreateOrganizationDomainParams::new("acme-corp.com"),
        )
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::UNPROCESSABLE_ENTITY));
    assert_eq!(error.code(), Some("organization_domain_already_exists"));
    let error = api
        .create_organization_domain(&acme.id, &CreateOrganizationDomainParams::new("gmail.com"))
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::UNPROCESSABLE_ENTITY));
    assert_eq!(error.code(), Some("organization_domain_common"));

    // List with counts and paging.
    let all = api
        .list_organization_domains(&acme.id, PageParams::default())
        .await
        .unwrap();
    assert_eq!(all.total_count, 2);
    let mut names: Vec<_> = all.data.iter().map(|d| d.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["acme-corp.com", "acme-labs.com"]);
    let first = api
        .list_organization_domains(
            &acme.id,
            PageParams {
                limit: Some(1),
                offset: Some(1),
            },
        )
        .await
        .unwrap();
    assert_eq!((first.data.len(), first.total_count), (1, 2));

    // Update: verify the second domain and let matching users be invited automatically.
    let labs = api
        .update_organization_domain(
            &acme.id,
            &labs.id,
            &UpdateOrganizationDomainParams {
                enrollment_mode: Some("automatic_invitation".into()),
                verified: Some(true),
            },
        )
        .await
        .unwrap();
    assert_eq!(labs.enrollment_mode, "automatic_invitation");
    assert_eq!(labs.verification.as_ref().unwrap()["status"], "verified");
    let error = api
        .update_organization_domain(
            &acme.id,
            "orgdmn_missing",
            &UpdateOrganizationDomainParams::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::NOT_FOUND));

    // Delete, then the list has one left and the id is gone.
    let deleted = api
        .delete_organization_domain(&acme.id, &corp.id)
        .await
        .unwrap();
    assert_eq!(
        (
            deleted.id.as_str(),
            deleted.object.as_str(),
            deleted.deleted
        ),
        (corp.id.as_str(), "organization_domain", true)
    );
    let left = api
        .list_organization_domains(&acme.id, PageParams::default())
        .await
        .unwrap();
    assert_eq!(left.total_count, 1);
    assert_eq!(left.data[0].id, labs.id);
    let error = api
        .delete_organization_domain(&acme.id, &corp.id)
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::NOT_FOUND));

    // Another organization does not see this one's domains.
    let globex = api
        .create_organization(&CreateOrganizationParams::new("Globex"))
        .await
        .unwrap();
    let error = api
        .delete_organization_domain(&globex.id, &labs.id)
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::NOT_FOUND));
    let none = api
        .list_organization_domains(&globex.id, PageParams::default())
        .await
        .unwrap();
    assert_eq!(none.total_count, 0);
}

// Organizations through the official @clerk/backend: the Backend API client, and an active
// organization in a browser session read back by authenticateRequest and has().
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createClerkClient } from '@clerk/backend';
import { startConcierge, fapiBrowser } from '../harness.mjs';

let srv;
let clerk;
const password = 'a-Strong-pass-123';

before(async () => {
  srv = await startConcierge('organizations');
  clerk = createClerkClient({ secretKey: srv.default.secretKey, apiUrl: srv.apiUrl });
});
after(async () => {
  await srv?.stop();
});

let counter = 0;
const unique = (prefix) => `${prefix}-${Date.now()}-${counter++}@example.com`;

test('organizations: create with a creator, read by slug, update, metadata, list, delete', async () => {
  const ada = await clerk.users.createUser({ emailAddress: [unique('ada')], password });
  const org = await clerk.organizations.createOrganization({ name: 'Acme Rockets', createdBy: ada.id, publicMetadata: { plan: 'pro' } });
  assert.match(org.id, /^org_/);
  assert.equal(org.slug, 'acme-rockets');
  assert.equal(org.membersCount, 1);
  const bySlug = await clerk.organizations.getOrganization({ slug: 'acme-rockets' });
  assert.equal(bySlug.id, org.id);
  const updated = await clerk.organizations.updateOrganization(org.id, { name: 'Acme', maxAllowedMemberships: 10 });
  assert.equal(updated.name, 'Acme');
  assert.equal(updated.maxAllowedMemberships, 10);
  const merged = await clerk.organizations.updateOrganizationMetadata(org.id, { privateMetadata: { crm: 7 } });
  assert.deepEqual(merged.privateMetadata, { crm: 7 });
  assert.deepEqual(merged.publicMetadata, { plan: 'pro' });
  const list = await clerk.organizations.getOrganizationList({ query: 'acme', includeMembersCount: true });
  assert.ok(list.totalCount >= 1);
  assert.ok(list.data.some((o) => o.id === org.id && o.membersCount === 1));
  await assert.rejects(
    clerk.organizations.createOrganization({ name: 'Again', slug: 'acme-rockets' }),
    (err) => err.status === 422 && err.errors[0].code === 'form_identifier_exists',
  );
  const deleted = await clerk.organizations.deleteOrganization(org.id);
  assert.equal(deleted.deleted, true);
  await assert.rejects(clerk.organizations.getOrganization({ organizationId: org.id }), (err) => err.status === 404);
});

test('memberships: add, list with filters, change role, per-user list, remove', async () => {
  const ada = await clerk.users.createUser({ emailAddress: [unique('ada')], password });
  const bob = await clerk.users.createUser({ emailAddress: [unique('bob')], password });
  const org = await clerk.organizations.createOrganization({ name: 'Globex', createdBy: ada.id });
  const added = await clerk.organizations.createOrganizationMembership({ organizationId: org.id, userId: bob.id, role: 'org:member' });
  assert.equal(added.role, 'org:member');
  assert.equal(added.publicUserData.userId, bob.id);
  assert.equal(added.organization.id, org.id);
  const members = await clerk.organizations.getOrganizationMembershipList({ organizationId: org.id });
  assert.equal(members.totalCount, 2);
  const admins = await clerk.organizations.getOrganizationMembershipList({ organizationId: org.id, role: ['org:admin'] });
  assert.deepEqual(admins.data.map((m) => m.publicUserData.userId), [ada.id]);
  const promoted = await clerk.organizations.updateOrganizationMembership({ organizationId: org.id, userId: bob.id, role: 'org:admin' });
  assert.equal(promoted.role, 'org:admin');
  const bobs = await clerk.users.getOrganizationMembershipList({ userId: bob.id });
  assert.equal(bobs.totalCount, 1);
  assert.equal(bobs.data[0].organization.slug, 'globex');
  await clerk.organizations.deleteOrganizationMembership({ organizationId: org.id, userId: bob.id });
  const after = await clerk.organizations.getOrganizationMembershipList({ organizationId: org.id });
  assert.equal(after.totalCount, 1);
});

test('active organization: auth().orgId/orgSlug/orgRole and has() through authenticateRequest', async () => {
  const email = unique('org-admin');
  const ada = await clerk.users.createUser({ emailAddress: [email], password });
  const org = await clerk.organizations.createOrganization({ name: 'Initech', createdBy: ada.id });
  const b = fapiBrowser(srv);
  const signIn = await b.post('/v1/client/sign_ins', { identifier: email, password, strategy: 'password' });
  assert.equal(signIn.status, 200, JSON.stringify(signIn.body));
  const sid = signIn.body.response.created_session_id;
  const touched = await b.post(`/v1/client/sessions/${sid}/touch`, { active_organization_id: org.id, intent: 'select_org' });
  assert.equal(touched.status, 200, JSON.stringify(touched.body));
  const jwt = touched.body.response.last_active_token.jwt;
  const options = { publishableKey: srv.default.publishableKey, secretKey: srv.default.secretKey };
  const state = await clerk.authenticateRequest(new Request('http://localhost:3000/api', { headers: { authorization: `Bearer ${jwt}` } }), options);
  assert.equal(state.isSignedIn, true, `${state.reason}`);
  const auth = state.toAuth();
  assert.equal(auth.orgId, org.id);
  assert.equal(auth.orgSlug, 'initech');
  assert.equal(auth.orgRole, 'org:admin');
  assert.equal(auth.has({ role: 'org:admin' }), true);
  assert.equal(auth.has({ role: 'org:member' }), false);
  assert.equal(auth.has({ permission: 'org:sys_memberships:manage' }), false, 'system permissions are never in the token');

  // A role change reaches the next token.
  await clerk.organizations.updateOrganizationMembership({ organizationId: org.id, userId: ada.id, role: 'org:member' });
  const token = await b.post(`/v1/client/sessions/${sid}/tokens`, { organization_id: org.id });
  const next = await clerk.authenticateRequest(new Request('http://localhost:3000/api', { headers: { authorization: `Bearer ${token.body.jwt}` } }), options);
  assert.equal(next.toAuth().orgRole, 'org:member');
  assert.equal(next.toAuth().has({ role: 'org:admin' }), false);
  // The personal workspace.
  const personal = await b.post(`/v1/client/sessions/${sid}/tokens`, { organization_id: '' });
  const none = await clerk.authenticateRequest(new Request('http://localhost:3000/api', { headers: { authorization: `Bearer ${personal.body.jwt}` } }), options);
  assert.equal(none.toAuth().orgId, undefined);
  assert.equal(none.toAuth().has({ role: 'org:member' }), false);
});

test('custom permissions: has({permission}) follows the role, system permissions never', async () => {
  const bapi = async (method, path, body) => {
    const res = await fetch(`${srv.apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${srv.default.secretKey}`, 'content-type': 'application/json' },
      body: body ? JSON.stringify(body) : undefined,
    });
    assert.equal(res.status, 200, await res.clone().text());
    return res.json();
  };
  const suffix = `${Date.now()}`.slice(-6);
  const feature = `reports${suffix}`;
  await bapi('POST', '/v1/organization_permissions', { key: `org:${feature}:export`, name: 'Export' });
  await bapi('POST', '/v1/organization_permissions', { key: `org:${feature}:read`, name: 'Read' });
  await bapi('POST', '/v1/organization_roles', { key: `org:analyst${suffix}`, name: 'Analyst', permissions: [`org:${feature}:export`] });

  const email = unique('analyst');
  const owner = await clerk.users.createUser({ emailAddress: [unique('owner')], password });
  const analyst = await clerk.users.createUser({ emailAddress: [email], password });
  const org = await clerk.organizations.createOrganization({ name: `Umbrella ${suffix}`, createdBy: owner.id });
  const membership = await clerk.organizations.createOrganizationMembership({ organizationId: org.id, userId: analyst.id, role: `org:analyst${suffix}` });
  assert.deepEqual(membership.permissions, [`org:${feature}:export`]);

  const b = fapiBrowser(srv);
  const signIn = await b.post('/v1/client/sign_ins', { identifier: email, password, strategy: 'password' });
  const sid = signIn.body.response.created_session_id;
  const touched = await b.post(`/v1/client/sessions/${sid}/touch`, { active_organization_id: org.id });
  const jwt = touched.body.response.last_active_token.jwt;
  const options = { publishableKey: srv.default.publishableKey, secretKey: srv.default.secretKey };
  const state = await clerk.authenticateRequest(new Request('http://localhost:3000/api', { headers: { authorization: `Bearer ${jwt}` } }), options);
  const auth = state.toAuth();
  assert.equal(auth.orgRole, `org:analyst${suffix}`);
  assert.deepEqual(auth.orgPermissions, [`org:${feature}:export`]);
  assert.equal(auth.has({ permission: `org:${feature}:export` }), true);
  assert.equal(auth.has({ permission: `org:${feature}:read` }), false);
  assert.equal(auth.has({ permission: 'org:sys_memberships:read' }), false);
});

test('verified domains: create (verified by default), list, update, delete, automatic invitations', async () => {
  const suffix = `${Date.now()}`.slice(-8);
  const name = `acme${suffix}.test`;
  const owner = await clerk.users.createUser({ emailAddress: [unique('owner')], password });
  const eve = await clerk.users.createUser({ emailAddress: [`eve@${name}`], password });
  const org = await clerk.organizations.createOrganization({ name: `Domains ${suffix}`, createdBy: owner.id });

  // @clerk/backend 3.25 has no OrganizationDomain class: it hands back the JSON as sent.
  const domain = await clerk.organizations.createOrganizationDomain({
    organizationId: org.id,
    name: name.toUpperCase(),
    enrollmentMode: 'automatic_invitation',
  });
  assert.equal(domain.object, 'organization_domain');
  assert.match(domain.id, /^orgdmn_/);
  assert.equal(domain.name, name);
  assert.equal(domain.organization_id, org.id);
  assert.equal(domain.enrollment_mode, 'automatic_invitation');
  assert.equal(domain.verification.status, 'verified', 'verified unless verified: false');
  assert.equal(domain.affiliation_email_address, null);
  assert.equal(domain.total_pending_invitations, 1, 'the existing user at the domain is invited');
  assert.equal(domain.total_pending_suggestions, 0);
  assert.equal(typeof domain.created_at, 'number');
  const invited = await clerk.organizations.getOrganizationInvitationList({ organizationId: org.id, status: ['pending'] });
  assert.deepEqual(invited.data.map((i) => i.emailAddress), [eve.emailAddresses[0].emailAddress]);
  assert.equal(invited.data[0].role, 'org:member');

  const dev = await clerk.organizations.createOrganizationDomain({
    organizationId: org.id,
    name: `dev${suffix}.test`,
    enrollmentMode: 'manual_invitation',
    verified: false,
  });
  assert.equal(dev.verification, null);
  const list = await clerk.organizations.getOrganizationDomainList({ organizationId: org.id, limit: 10 });
  assert.equal(list.totalCount, 2);
  assert.deepEqual(list.data.map((d) => d.id), [dev.id, domain.id], 'newest first');
  const paged = await clerk.organizations.getOrganizationDomainList({ organizationId: org.id, limit: 1, offset: 1 });
  assert.deepEqual(paged.data.map((d) => d.id), [domain.id]);

  const updated = await clerk.organizations.updateOrganizationDomain({
    organizationId: org.id,
    domainId: dev.id,
    enrollmentMode: 'automatic_suggestion',
    verified: true,
  });
  assert.equal(updated.enrollment_mode, 'automatic_suggestion');
  assert.equal(updated.verification.status, 'verified');

  await assert.rejects(
    clerk.organizations.createOrganizationDomain({ organizationId: org.id, name: 'gmail.com', enrollmentMode: 'automatic_invitation' }),
    (err) => err.status === 422 && err.errors[0].code === 'organization_domain_common' && err.errors[0].meta.paramName === 'name',
  );
  await assert.rejects(
    clerk.organizations.createOrganizationDomain({ organizationId: org.id, name, enrollmentMode: 'manual_invitation' }),
    (err) => err.status === 422 && err.errors[0].code === 'organization_domain_already_exists',
  );
  await assert.rejects(
    clerk.organizations.createOrganizationDomain({ organizationId: org.id, name: `x${suffix}.test`, enrollmentMode: 'sometimes' }),
    (err) => err.status === 422 && err.errors[0].meta.paramName === 'enrollment_mode',
  );
  await assert.rejects(
    clerk.organizations.updateOrganizationDomain({ organizationId: org.id, domainId: 'orgdmn_missing', enrollmentMode: 'manual_invitation' }),
    (err) => err.status === 404,
  );

  const deleted = await clerk.organizations.deleteOrganizationDomain({ organizationId: org.id, domainId: domain.id });
  assert.equal(deleted.object, 'organization_domain');
  assert.equal(deleted.id, domain.id);
  assert.equal(deleted.deleted, true);
  const withdrawn = await clerk.organizations.getOrganizationInvitationList({ organizationId: org.id, status: ['pending'] });
  assert.equal(withdrawn.totalCount, 0, 'deleting the domain withdraws its pending invitations');
  const left = await clerk.organizations.getOrganizationDomainList({ organizationId: org.id });
  assert.deepEqual(left.data.map((d) => d.id), [dev.id]);
});

// Role sets through the official @clerk/backend (`clerk.roleSets`): list, get, create, update,
// add roles, replace a role (members move), replace a set (organizations move), and the
// organization's role set enforced on memberships.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createClerkClient } from '@clerk/backend';
import { startConcierge } from '../harness.mjs';

let srv;
let clerk;
const password = 'a-Strong-pass-123';

before(async () => {
  srv = await startConcierge('role-sets');
  clerk = createClerkClient({ secretKey: srv.default.secretKey, apiUrl: srv.apiUrl });
});
after(async () => {
  await srv?.stop();
});

let counter = 0;
const unique = (prefix) => `${prefix}-${Date.now()}-${counter++}@example.com`;
const keys = (items) => items.map((r) => r.key);
// The suite may share one database with the other test files (scripts/test.sh on PostgreSQL),
// whose custom roles join the primary set too: every key made here carries this suffix.
const sfx = `x${Date.now().toString(36)}`;

test('the primary role set, custom sets and their validation', async () => {
  const list = await clerk.roleSets.getRoleSetList({ query: 'role_set:default' });
  assert.equal(list.totalCount, 1);
  const primary = list.data[0];
  assert.equal(primary.key, 'role_set:default');
  assert.equal(primary.name, 'Primary Role Set');
  assert.equal(primary.type, 'initial');
  assert.match(primary.id, /^rs_/);
  assert.deepEqual(keys(primary.roles).slice(0, 2), ['org:admin', 'org:member']);
  assert.equal(primary.defaultRole.key, 'org:member');
  assert.equal(primary.creatorRole.key, 'org:admin');
  assert.equal(primary.roleSetMigration, null);

  // A custom role joins the primary set.
  await clerk.organizationRoles.createOrganizationRole({ key: `org:analyst_${sfx}`, name: 'Analyst', permissions: [] });
  const byId = await clerk.roleSets.getRoleSet(primary.id);
  assert.deepEqual(keys(byId.roles).slice(-1), [`org:analyst_${sfx}`]);

  const pro = await clerk.roleSets.createRoleSet({
    name: `Pro Plan ${sfx}`,
    description: 'Paying customers',
    roles: ['org:admin', `org:analyst_${sfx}`],
    defaultRoleKey: `org:analyst_${sfx}`,
    creatorRoleKey: 'org:admin',
  });
  assert.equal(pro.key, `role_set:pro_plan_${sfx}`);
  assert.equal(pro.type, 'custom');
  assert.equal(pro.description, 'Paying customers');
  assert.equal(pro.defaultRole.key, `org:analyst_${sfx}`);
  assert.equal(pro.roles[0].id, 'role_admin');
  assert.equal(pro.roles[0].membersCount, 0);
  assert.equal(pro.roles[0].hasMembers, false);

  await assert.rejects(
    clerk.roleSets.createRoleSet({ name: 'Bad', roles: ['org:admin'], defaultRoleKey: 'org:member', creatorRoleKey: 'org:admin' }),
    (err) => err.status === 422 && err.errors[0].code === 'organization_role_not_in_role_set' && err.errors[0].meta.paramName === 'default_role_key',
  );
  await assert.rejects(
    clerk.roleSets.createRoleSet({ name: 'Bad', key: 'pro', roles: ['org:admin'], defaultRoleKey: 'org:admin', creatorRoleKey: 'org:admin' }),
    (err) => err.status === 422 && err.errors[0].code === 'form_param_format_invalid',
  );
  await assert.rejects(clerk.roleSets.getRoleSet('role_set:ghost'), (err) => err.status === 404);

  const updated = await clerk.roleSets.updateRoleSet({
    roleSetKeyOrId: `role_set:pro_plan_${sfx}`, name: `Pro ${sfx}`, key: `role_set:pro_${sfx}`, description: null,
  });
  assert.equal(updated.name, `Pro ${sfx}`);
  assert.equal(updated.key, `role_set:pro_${sfx}`);
  assert.equal(updated.description, null);
  const added = await clerk.roleSets.addRolesToRoleSet({ roleSetKeyOrId: updated.id, roleKeys: ['org:member'], defaultRoleKey: 'org:member' });
  assert.deepEqual(keys(added.roles), ['org:admin', `org:analyst_${sfx}`, 'org:member']);
  assert.equal(added.defaultRole.key, 'org:member');

  const found = await clerk.roleSets.getRoleSetList({ query: `pro_${sfx}`, orderBy: '-created_at', limit: 5 });
  assert.equal(found.totalCount, 1);
  assert.equal(found.data[0].key, `role_set:pro_${sfx}`);
  const byName = await clerk.roleSets.getRoleSetList({ orderBy: '+name', limit: 100 });
  const names = byName.data.map((s) => s.name);
  assert.deepEqual(names, [...names].sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1)));
  assert.ok(names.includes(`Pro ${sfx}`));

  // Tenant isolation.
  const other = createClerkClient({ secretKey: srv.other.secretKey, apiUrl: srv.apiUrl });
  await assert.rejects(other.roleSets.getRoleSet(pro.id), (err) => err.status === 404);
  assert.equal((await other.roleSets.getRoleSetList()).totalCount, 1);
});

test('organizations use their role set; replacing a role and a set moves members', async () => {
  const viewerKey = `org:viewer_${sfx}`;
  const analystKey = `org:analyst_${sfx}`;
  const gold = `role_set:gold_${sfx}`;
  const basic = `role_set:basic_${sfx}`;
  await clerk.organizationRoles.createOrganizationRole({ key: viewerKey, name: 'Viewer', permissions: [], includeInInitialRoleSet: false });
  const primary = await clerk.roleSets.getRoleSet('role_set:default');
  assert.ok(!keys(primary.roles).includes(viewerKey));
  await clerk.roleSets.createRoleSet({
    name: 'Gold', key: gold, roles: ['org:admin', 'org:member', viewerKey], defaultRoleKey: 'org:member', creatorRoleKey: 'org:admin',
  });
  await clerk.roleSets.createRoleSet({
    name: 'Basic', key: basic, roles: ['org:admin', analystKey], defaultRoleKey: analystKey, creatorRoleKey: 'org:admin',
  });
  const ada = await clerk.users.createUser({ emailAddress: [unique('ada')], password });
  const bob = await clerk.users.createUser({ emailAddress: [unique('bob')], password });
  const org = await clerk.organizations.createOrganization({ name: 'Goldco', createdBy: ada.id, roleSetKey: gold });
  assert.equal(org.raw.role_set_key, gold);

  await assert.rejects(
    clerk.organizations.createOrganizationMembership({ organizationId: org.id, userId: bob.id, role: analystKey }),
    (err) => err.status === 422 && err.errors[0].code === 'organization_role_not_in_role_set',
  );
  const viewer = await clerk.organizations.createOrganizationMembership({ organizationId: org.id, userId: bob.id, role: viewerKey });
  assert.equal(viewer.role, viewerKey);
  const invitation = await clerk.organizations.createOrganizationInvitation({ organizationId: org.id, emailAddress: unique('cy') });
  assert.equal(invitation.role, 'org:member', "the set's default role");

  const replaced = await clerk.roleSets.replaceRoleInRoleSet({ roleSetKeyOrId: gold, roleKey: viewerKey, toRoleKey: 'org:member' });
  assert.deepEqual(keys(replaced.roles), ['org:admin', 'org:member']);
  assert.equal(replaced.roles[1].membersCount, 1);
  const members = await clerk.organizations.getOrganizationMembershipList({ organizationId: org.id });
  assert.deepEqual(members.data.map((m) => [m.publicUserData.userId, m.role]).sort(), [[ada.id, 'org:admin'], [bob.id, 'org:member']].sort());
  await assert.rejects(
    clerk.roleSets.replaceRoleInRoleSet({ roleSetKeyOrId: gold, roleKey: 'org:member', toRoleKey: 'org:admin' }),
    (err) => err.status === 422 && err.errors[0].code === 'role_set_role_required',
  );

  await assert.rejects(
    clerk.roleSets.replaceRoleSet({ roleSetKeyOrId: gold, destRoleSetKey: basic }),
    (err) => err.status === 422 && err.errors[0].code === 'role_set_reassignment_required',
  );
  await assert.rejects(
    clerk.roleSets.replaceRoleSet({ roleSetKeyOrId: 'role_set:default', destRoleSetKey: basic }),
    (err) => err.status === 400 && err.errors[0].code === 'initial_role_set_required',
  );
  const deleted = await clerk.roleSets.replaceRoleSet({
    roleSetKeyOrId: gold, destRoleSetKey: basic, reassignmentMappings: { 'org:member': analystKey },
  });
  assert.equal(deleted.object, 'role_set');
  assert.equal(deleted.deleted, true);
  await assert.rejects(clerk.roleSets.getRoleSet(gold), (err) => err.status === 404);
  const moved = await clerk.organizations.getOrganization({ organizationId: org.id });
  assert.equal(moved.raw.role_set_key, basic);
  const after = await clerk.organizations.getOrganizationMembershipList({ organizationId: org.id, userId: [bob.id] });
  assert.equal(after.data[0].role, analystKey);
  const invitations = await clerk.organizations.getOrganizationInvitationList({ organizationId: org.id, status: ['pending'] });
  assert.equal(invitations.data[0].role, analystKey, 'pending invitations move too');
});

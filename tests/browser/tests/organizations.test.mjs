// Organizations through the official components: <OrganizationSwitcher/> creates an organization and switches
// between it and the personal account (the server sees orgId / orgRole / has() through authenticateRequest);
// <OrganizationProfile/> lets an admin change a member's role and remove them (checked through the Backend API),
// and shows a plain member the list without any management controls.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useSuite, signInThroughUi, waitForClerk, createUser, cookieJar, decodePart, cardError, createOrganization, eventually, openMembersPage } from '../lib/suite.mjs';

const suite = useSuite('organizations');
const PASSWORD = 'correct-horse-battery-7';

/** The organization's memberships through the Backend API, as { total, roles: Map(user id → role) }. */
async function bapiMemberships(concierge, orgId) {
  const res = await concierge.bapi('GET', `/v1/organizations/${orgId}/memberships`);
  assert.equal(res.status, 200, `GET /v1/organizations/${orgId}/memberships: ${res.text}`);
  const roles = new Map(res.json.data.map((m) => [m.public_user_data?.user_id, m.role]));
  return { total: res.json.total_count, roles };
}

/** The FAPI calls the UI made under `/v1/organizations` or `/v1/me/organization…`, for failure messages. */
function orgCalls(app) {
  return app.fapiLog
    .filter((e) => /^\/v1\/(organizations|me\/organization)/.test(e.path))
    .map((e) => `${e.method} ${e.path.split('?')[0]}${/_method=(\w+)/.exec(e.path)?.[0] ? ` (${/_method=(\w+)/.exec(e.path)[0]})` : ''} -> ${e.status}` +
      (e.status >= 400 ? ` ${e.responseBody.slice(0, 300)}` : ''))
    .join('\n  ');
}

/** Opens /orgs and waits until Clerk loaded and the switcher trigger is rendered. */
async function openOrgsPage(page) {
  await page.goto(suite.app.url('/orgs'));
  await waitForClerk(page);
  const trigger = page.getByRole('button', { name: 'Open organization switcher' });
  await trigger.waitFor({ state: 'visible' });
  return trigger;
}

/** Loads /protected-org and returns what `authenticateRequest(...).toAuth()` saw. */
async function serverAuth(page) {
  const res = await page.goto(suite.app.url('/protected-org'));
  const text = async (id) => (await page.getByTestId(id).textContent()).trim();
  return {
    status: res.status(),
    reason: await text('auth-reason'),
    userId: await text('user-id'),
    orgId: await text('org-id'),
    orgSlug: await text('org-slug'),
    orgRole: await text('org-role'),
    isAdmin: await text('org-is-admin'),
  };
}

test(
  'create an organization with <OrganizationSwitcher/>, it becomes active (client and server), switch to a second organization and back, then to the personal account',
  { timeout: 60_000 },
  suite.wrap('create and switch', async () => {
    const { app, concierge } = suite;
    const user = await createUser(concierge, 'olga@example.com', PASSWORD);
    const context = await suite.newContext();
    const page = await suite.newPage(context);
    await signInThroughUi(suite, page, 'olga@example.com', PASSWORD);

    let trigger = await openOrgsPage(page);
    await trigger.filter({ hasText: 'Personal account' }).waitFor();
    assert.equal(await page.evaluate(() => window.Clerk.organization), null, 'no organization yet');

    // Switcher → "Create organization" → name → submit.
    await trigger.click();
    await page.getByRole('dialog').getByRole('button', { name: 'Create organization' }).click();
    const form = page.getByRole('dialog').filter({ has: page.getByRole('heading', { name: 'Create organization' }) });
    await form.getByRole('textbox', { name: 'Name' }).fill('Acme Rockets');
    const slugField = form.getByRole('textbox', { name: 'Slug' });
    assert.ok(await eventually(async () => (await slugField.inputValue()) === 'acme-rockets', 5_000),
      `the slug is derived from the name (got ${await slugField.inputValue()})`);
    await form.getByRole('button', { name: 'Create organization' }).click();

    // The invitation step follows creation: skip it.
    const skip = page.getByRole('dialog').getByRole('button', { name: 'Skip' });
    await skip.waitFor({ state: 'visible' }).catch(async (err) => {
      throw new Error(`no invitation step after "Create organization": ${await cardError(page)}\nFAPI:\n  ${orgCalls(app)}\n${err.message.split('\n')[0]}`);
    });
    await skip.click();
    await page.waitForURL((u) => u.pathname === '/orgs');
    await waitForClerk(page);

    trigger = page.getByRole('button', { name: 'Open organization switcher' });
    await trigger.filter({ hasText: 'Acme Rockets' }).waitFor().catch(async (err) => {
      throw new Error(`the switcher does not show the new organization as active (trigger: ${await trigger.textContent()})\nFAPI:\n  ${orgCalls(app)}\n${err.message.split('\n')[0]}`);
    });
    const org = await page.evaluate(() => ({ id: window.Clerk.organization?.id, name: window.Clerk.organization?.name, slug: window.Clerk.organization?.slug }));
    assert.match(org.id ?? '', /^org_/, 'Clerk.organization.id');
    assert.equal(org.name, 'Acme Rockets');
    assert.equal(org.slug, 'acme-rockets');
    await page.getByTestId('org-id').filter({ hasText: org.id }).waitFor();

    // The Backend API has it, with the user as its admin.
    const stored = await concierge.bapi('GET', `/v1/organizations/${org.id}`);
    assert.equal(stored.status, 200, `GET /v1/organizations/${org.id}: ${stored.text}`);
    assert.equal(stored.json.name, 'Acme Rockets');
    const members = await bapiMemberships(concierge, org.id);
    assert.equal(members.total, 1);
    assert.equal(members.roles.get(user.id), 'org:admin', 'the creator is an admin');

    // The session token carries the v2 `o` claim.
    const claims = decodePart((await cookieJar(context, app.origin)).get('__session').value, 1);
    assert.deepEqual({ id: claims.o?.id, slg: claims.o?.slg, rol: claims.o?.rol }, { id: org.id, slg: 'acme-rockets', rol: 'admin' }, `o claim: ${JSON.stringify(claims)}`);

    // The server sees the active organization.
    let auth = await serverAuth(page);
    assert.equal(auth.status, 200, `/protected-org (reason: ${auth.reason})`);
    assert.equal(auth.userId, user.id);
    assert.equal(auth.orgId, org.id, 'orgId');
    assert.equal(auth.orgSlug, 'acme-rockets', 'orgSlug');
    assert.equal(auth.orgRole, 'org:admin', 'orgRole');
    assert.equal(auth.isAdmin, 'true', "has({ role: 'org:admin' })");

    // A second organization (made through the Backend API): switch to it and back in the switcher.
    const beta = await createOrganization(concierge, { name: 'Beta Works', created_by: user.id });
    for (const [name, id, slug] of [['Beta Works', beta.id, beta.slug], ['Acme Rockets', org.id, 'acme-rockets']]) {
      trigger = await openOrgsPage(page);
      await trigger.click();
      await page.getByRole('dialog').getByRole('button', { name: new RegExp(name) }).click();
      await page.getByTestId('org-id').filter({ hasText: id }).waitFor().catch(async (err) => {
        throw new Error(`selecting "${name}" in the switcher did not activate it\nFAPI:\n  ${orgCalls(app)}\n${err.message.split('\n')[0]}`);
      });
      await page.getByRole('button', { name: 'Open organization switcher' }).filter({ hasText: name }).waitFor();
      auth = await serverAuth(page);
      assert.equal(auth.status, 200, `/protected-org after switching to ${name} (reason: ${auth.reason})`);
      assert.deepEqual([auth.orgId, auth.orgSlug, auth.orgRole], [id, slug, 'org:admin'], `the server sees ${name}`);
    }

    // Back to the personal account through the switcher.
    trigger = await openOrgsPage(page);
    await trigger.filter({ hasText: 'Acme Rockets' }).waitFor();
    await trigger.click();
    await page.getByRole('dialog').getByRole('button', { name: /Personal account/ }).click();
    await page.waitForFunction(() => window.Clerk?.loaded && window.Clerk.user && window.Clerk.organization === null, null, { timeout: 15_000 });
    await page.getByTestId('org-id').filter({ hasText: 'personal' }).waitFor();
    await page.getByRole('button', { name: 'Open organization switcher' }).filter({ hasText: 'Personal account' }).waitFor();
    assert.equal(await page.evaluate(() => window.Clerk.organization), null, 'Clerk.organization after switching to the personal account');
    const personalClaims = decodePart((await cookieJar(context, app.origin)).get('__session').value, 1);
    assert.equal(personalClaims.o, undefined, `no o claim for the personal account: ${JSON.stringify(personalClaims)}`);

    auth = await serverAuth(page);
    assert.equal(auth.status, 200, `/protected-org (reason: ${auth.reason})`);
    assert.equal(auth.userId, user.id);
    assert.equal(auth.orgId, '', 'no orgId for the personal account');
    assert.equal(auth.orgRole, '', 'no orgRole for the personal account');
    assert.equal(auth.isAdmin, 'false', "has({ role: 'org:admin' }) for the personal account");
  }),
);

test(
  '<OrganizationProfile/> Members: an admin changes a member to Admin, then removes them',
  { timeout: 60_000 },
  suite.wrap('members admin', async () => {
    const { app, concierge } = suite;
    const ann = await createUser(concierge, 'ann@example.com', PASSWORD);
    const ben = await createUser(concierge, 'ben@example.com', PASSWORD);
    const org = await createOrganization(concierge, { name: 'Blue Team', created_by: ann.id }, [ben.id]);
    const before = await bapiMemberships(concierge, org.id);
    assert.equal(before.roles.get(ann.id), 'org:admin');
    assert.equal(before.roles.get(ben.id), 'org:member');

    const page = await suite.newPage();
    await signInThroughUi(suite, page, 'ann@example.com', PASSWORD);

    // Select the organization in the switcher.
    const trigger = await openOrgsPage(page);
    await trigger.click();
    await page.getByRole('dialog').getByRole('button', { name: /Blue Team/ }).click();
    await page.getByTestId('org-id').filter({ hasText: org.id }).waitFor().catch(async (err) => {
      throw new Error(`selecting "Blue Team" in the switcher did not activate it\nFAPI:\n  ${orgCalls(app)}\n${err.message.split('\n')[0]}`);
    });

    const rows = await openMembersPage(suite, page);
    const annRow = rows.filter({ hasText: 'ann@example.com' });
    const benRow = rows.filter({ hasText: 'ben@example.com' });
    await benRow.waitFor({ state: 'visible' }).catch(async (err) => {
      throw new Error(`ben is not listed on the Members page: ${await cardError(page)}\nFAPI:\n  ${orgCalls(app)}\n${err.message.split('\n')[0]}`);
    });
    await annRow.waitFor({ state: 'visible' });
    await page.getByRole('tab', { name: /Members\s*2/ }).waitFor();

    // Role select: Member → Admin.
    await benRow.getByRole('button', { name: 'Member', exact: true }).click();
    await page.getByRole('option', { name: 'Admin', exact: true }).click();
    await benRow.getByRole('button', { name: 'Admin', exact: true }).waitFor().catch(async (err) => {
      throw new Error(`ben's role select does not show Admin: ${await cardError(page)}\nFAPI:\n  ${orgCalls(app)}\n${err.message.split('\n')[0]}`);
    });
    const promoted = await eventually(async () => ((await bapiMemberships(concierge, org.id)).roles.get(ben.id) === 'org:admin' ? true : null));
    assert.ok(promoted, `ben is org:admin in the Backend API (${JSON.stringify([...(await bapiMemberships(concierge, org.id)).roles])})\nFAPI:\n  ${orgCalls(app)}`);

    // Actions menu → "Remove member".
    await benRow.getByRole('button', { name: 'Open menu' }).click();
    await page.getByRole('menuitem', { name: 'Remove member' }).click();
    await benRow.waitFor({ state: 'detached' }).catch(async (err) => {
      throw new Error(`ben is still listed after "Remove member": ${await cardError(page)}\nFAPI:\n  ${orgCalls(app)}\n${err.message.split('\n')[0]}`);
    });
    await page.getByRole('tab', { name: /Members\s*1/ }).waitFor();
    const after = await eventually(async () => {
      const m = await bapiMemberships(concierge, org.id);
      return m.total === 1 ? m : null;
    });
    assert.ok(after, `one membership left in the Backend API\nFAPI:\n  ${orgCalls(app)}`);
    assert.equal(after.roles.get(ann.id), 'org:admin');
    assert.equal(after.roles.has(ben.id), false);
  }),
);

test(
  '<OrganizationProfile/> Members as a plain member: the list, without role changes or removal',
  { timeout: 60_000 },
  suite.wrap('members member', async () => {
    const { app, concierge } = suite;
    const carl = await createUser(concierge, 'carl@example.com', PASSWORD);
    const dora = await createUser(concierge, 'dora@example.com', PASSWORD);
    const org = await createOrganization(concierge, { name: 'Green Team', created_by: carl.id }, [dora.id]);

    const page = await suite.newPage();
    await signInThroughUi(suite, page, 'dora@example.com', PASSWORD);
    await openOrgsPage(page);
    await page.evaluate((id) => window.Clerk.setActive({ organization: id }), org.id);
    await page.getByTestId('org-id').filter({ hasText: org.id }).waitFor();
    const membership = await page.evaluate(() => {
      const m = window.Clerk.user.organizationMemberships.find((x) => x.organization.id === window.Clerk.organization.id);
      return { role: m?.role, permissions: m?.permissions };
    });
    assert.equal(membership.role, 'org:member');
    assert.ok(!membership.permissions?.includes('org:sys_memberships:manage'), `a member cannot manage memberships: ${JSON.stringify(membership)}`);
    assert.ok(membership.permissions?.includes('org:sys_memberships:read'), `a member can read memberships: ${JSON.stringify(membership)}`);

    const auth = await serverAuth(page);
    assert.equal(auth.status, 200, `/protected-org (reason: ${auth.reason})`);
    assert.equal(auth.userId, dora.id);
    assert.equal(auth.orgId, org.id);
    assert.equal(auth.orgRole, 'org:member');
    assert.equal(auth.isAdmin, 'false', "has({ role: 'org:admin' }) for a member");

    const rows = await openMembersPage(suite, page);
    const carlRow = rows.filter({ hasText: 'carl@example.com' });
    const doraRow = rows.filter({ hasText: 'dora@example.com' });
    await carlRow.waitFor({ state: 'visible' }).catch(async (err) => {
      throw new Error(`carl is not listed on the Members page: ${await cardError(page)}\nFAPI:\n  ${orgCalls(app)}\n${err.message.split('\n')[0]}`);
    });
    await doraRow.waitFor({ state: 'visible' });
    // The roles are shown as text, with no select and no actions menu anywhere in the table.
    await carlRow.getByText('Admin', { exact: true }).waitFor();
    await doraRow.getByText('Member', { exact: true }).waitFor();
    const table = page.getByRole('table');
    assert.equal(await table.getByRole('button', { name: 'Open menu' }).count(), 0, 'no actions menu for a member');
    assert.equal(await carlRow.getByRole('button').count(), 0, "no role select on another member's row");
    assert.equal(await doraRow.getByRole('button').count(), 0, 'no role select on the own row');
    assert.equal(await page.getByRole('menuitem', { name: 'Remove member' }).count(), 0);
    assert.equal(await page.getByRole('button', { name: 'Invite' }).count(), 0, 'no Invite button for a member');
  }),
);

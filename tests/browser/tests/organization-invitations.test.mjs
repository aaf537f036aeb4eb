// Organization membership from the admin's side of the official components, and what a role's permissions do:
// - an admin invites an address from <OrganizationProfile/>; the invitee follows the mailed link, signs up with a
//   password only and joins; the admin then makes them an Admin and removes them — all in the UI, checked through
//   the Backend API;
// - a custom permission attached to org:member through the Backend API appears in `has()` on the server
//   (`authenticateRequest`) and in clerk-js's `checkAuthorization` after a refresh, while a system permission is
//   on the client's membership but never in the server's `has()`;
// - the membership limit: a bulk invitation that would overfill the organization is refused with the component
//   showing why, and a full organization's Invite button is disabled.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  useSuite,
  signInThroughUi,
  waitForClerk,
  createUser,
  randomEmail,
  advanceTo,
  cardError,
  continueButton,
  fapiCalls,
  homeUserId,
  eventually,
  cookieJar,
  decodePart,
  createOrganization,
  mailedInvitationLink,
  sendInvitations,
  openMembersPage,
} from '../lib/suite.mjs';

const suite = useSuite('organization-invitations');
const PASSWORD = 'correct-horse-battery-7';
const ORG_CALLS = /^\/v1\/(organizations|me\/organization)/;

/** The organization's memberships through the Backend API: user id → role. */
async function bapiRoles(concierge, orgId) {
  const res = await concierge.bapi('GET', `/v1/organizations/${orgId}/memberships`);
  assert.equal(res.status, 200, `GET /v1/organizations/${orgId}/memberships: ${res.text}`);
  return new Map(res.json.data.map((m) => [m.public_user_data?.user_id, m.role]));
}

/** Signs `email` in through <SignIn/> and makes `orgId` the session's active organization. */
async function signInToOrg(page, email, orgId) {
  await signInThroughUi(suite, page, email, PASSWORD);
  await page.goto(suite.app.url('/orgs'));
  await waitForClerk(page);
  await page.evaluate((id) => window.Clerk.setActive({ organization: id }), orgId);
  await page.getByTestId('org-id').filter({ hasText: orgId }).waitFor();
}

test(
  'an admin invites from <OrganizationProfile/>, the invitee signs up from the mailed link, then the admin makes them Admin and removes them',
  { timeout: 150_000 },
  suite.wrap('invite accept manage', async () => {
    const { app, concierge } = suite;
    // Invitations made in the components carry no redirect URL: the link lands on the instance's sign-up page.
    await concierge.cli('instance', 'configure', 'default', '--sign-up-url', app.url('/sign-up'), '--sign-in-url', app.url('/sign-in'));
    const adminEmail = randomEmail('ada');
    const admin = await createUser(concierge, adminEmail, PASSWORD);
    const org = await createOrganization(concierge, { name: 'Invite Works', created_by: admin.id });

    const adminPage = await suite.newPage();
    await signInToOrg(adminPage, adminEmail, org.id);
    let rows = await openMembersPage(suite, adminPage);
    await rows.filter({ hasText: adminEmail }).waitFor({ state: 'visible' });

    const email = randomEmail('newbie');
    await sendInvitations(adminPage, [email]);
    await adminPage.getByText('Invitations successfully sent').waitFor().catch(async (err) => {
      throw new Error(`the invitation was not sent: ${await cardError(adminPage)}\nFAPI:${fapiCalls(app, ORG_CALLS)}\n${err.message.split('\n')[0]}`);
    });
    await suite.step(adminPage, 'invitations-sent');
    const pending = await concierge.bapi('GET', `/v1/organizations/${org.id}/invitations?status=pending`);
    assert.equal(pending.status, 200, pending.text);
    assert.deepEqual(pending.json.data.map((i) => [i.email_address, i.role]), [[email, 'org:member']]);

    // The invitee opens the mailed link in their own browser and signs up with a password only.
    const link = await mailedInvitationLink(concierge, email);
    const landed = await eventually(async () => {
      const res = await fetch(link, { redirect: 'manual' });
      const location = res.headers.get('location');
      return res.status === 303 && location?.startsWith(app.url('/sign-up')) ? new URL(location) : null;
    }, 10_000);
    assert.ok(landed, `the link leads to the app's sign-up page (${link})`);
    assert.equal(landed.searchParams.get('__clerk_status'), 'sign_up');
    const inviteePage = await suite.newPage();
    await inviteePage.goto(link);
    await waitForClerk(inviteePage);
    const password = inviteePage.locator('input[name=password]:visible');
    await password.waitFor().catch(async (err) => {
      throw new Error(`no password field on the ticket sign-up (at ${inviteePage.url()}): ${await cardError(inviteePage)}\nFAPI:${fapiCalls(app, /^\/v1\/client\/sign_ups/)}\n${err.message.split('\n')[0]}`);
    });
    await password.fill(PASSWORD);
    await continueButton(inviteePage).click();
    await advanceTo(inviteePage, /^\/$/, 'the ticket sign-up did not land on /');
    await waitForClerk(inviteePage);
    const inviteeId = await homeUserId(inviteePage);
    assert.match(inviteeId, /^user_/);
    let roles = await bapiRoles(concierge, org.id);
    assert.equal(roles.get(inviteeId), 'org:member', `the invitee joined as a member: ${JSON.stringify([...roles])}`);
    const memberships = await inviteePage.evaluate(() => window.Clerk.user.organizationMemberships.map((m) => [m.organization.id, m.role]));
    assert.deepEqual(memberships, [[org.id, 'org:member']]);

    // Back on the admin's Members page: the new member is listed; Member → Admin, then removed.
    rows = await openMembersPage(suite, adminPage);
    const row = rows.filter({ hasText: email });
    await row.waitFor({ state: 'visible' }).catch(async (err) => {
      throw new Error(`the invitee is not listed on the Members page: ${await cardError(adminPage)}\nFAPI:${fapiCalls(app, ORG_CALLS)}\n${err.message.split('\n')[0]}`);
    });
    await row.getByRole('button', { name: 'Member', exact: true }).click();
    await adminPage.getByRole('option', { name: 'Admin', exact: true }).click();
    await row.getByRole('button', { name: 'Admin', exact: true }).waitFor();
    const promoted = await eventually(async () => (await bapiRoles(concierge, org.id)).get(inviteeId) === 'org:admin');
    assert.ok(promoted, `the invitee is org:admin in the Backend API\nFAPI:${fapiCalls(app, ORG_CALLS)}`);

    await row.getByRole('button', { name: 'Open menu' }).click();
    await adminPage.getByRole('menuitem', { name: 'Remove member' }).click();
    await row.waitFor({ state: 'detached' }).catch(async (err) => {
      throw new Error(`the invitee is still listed after "Remove member": ${await cardError(adminPage)}\n${err.message.split('\n')[0]}`);
    });
    roles = await eventually(async () => {
      const now = await bapiRoles(concierge, org.id);
      return now.has(inviteeId) ? null : now;
    });
    assert.ok(roles, 'the removed member is gone from the Backend API');
    assert.deepEqual([...roles], [[admin.id, 'org:admin']]);

    // The removed user's next load no longer lists the organization.
    await inviteePage.reload();
    await waitForClerk(inviteePage);
    assert.deepEqual(await inviteePage.evaluate(() => window.Clerk.user.organizationMemberships.length), 0);
  }),
);

test(
  'a custom permission attached to org:member reaches has() on the server and on the client after a refresh; system permissions never reach the server',
  { timeout: 90_000 },
  suite.wrap('custom permission', async () => {
    const { app, concierge } = suite;
    const permission = await concierge.bapi('POST', '/v1/organization_permissions', {
      name: 'Export reports',
      key: 'org:reports:export',
      description: 'Download the monthly reports',
    });
    assert.equal(permission.status, 200, `POST /v1/organization_permissions: ${permission.text}`);
    const ownerEmail = randomEmail('owner');
    const memberEmail = randomEmail('mia');
    const owner = await createUser(concierge, ownerEmail, PASSWORD);
    const member = await createUser(concierge, memberEmail, PASSWORD);
    const org = await createOrganization(concierge, { name: 'Report Makers', created_by: owner.id }, [member.id]);

    const context = await suite.newContext();
    const page = await suite.newPage(context);
    await signInToOrg(page, memberEmail, org.id);

    /** has({ permission }) as authenticateRequest sees it on /protected-org. */
    const serverHas = async (key) => {
      const res = await page.goto(app.url(`/protected-org?permission=${encodeURIComponent(key)}`));
      assert.equal(res.status(), 200, `/protected-org (reason: ${await page.getByTestId('auth-reason').textContent()})`);
      assert.equal(await page.getByTestId('org-id').textContent(), org.id);
      return page.getByTestId('org-has-permission').textContent();
    };
    /** clerk-js's own has(): Session.checkAuthorization on a freshly loaded page. */
    const clientHas = async (key) => {
      await page.goto(app.url('/orgs'));
      await waitForClerk(page);
      await page.getByTestId('org-id').filter({ hasText: org.id }).waitFor();
      return page.evaluate((k) => window.Clerk.session.checkAuthorization({ permission: k }), key);
    };

    assert.equal(await serverHas('org:reports:export'), 'false', 'no custom permission yet (server)');
    assert.equal(await clientHas('org:reports:export'), false, 'no custom permission yet (client)');
    // System permissions: on the client's membership (the components read them), never in the token.
    assert.equal(await clientHas('org:sys_memberships:read'), true, 'a member reads memberships (client)');
    assert.equal(await serverHas('org:sys_memberships:read'), 'false', 'system permissions are never in the token');

    // Attach the permission to org:member through the Backend API.
    const roles = await concierge.bapi('GET', '/v1/organization_roles?limit=100');
    assert.equal(roles.status, 200, roles.text);
    const memberRole = roles.json.data.find((r) => r.key === 'org:member');
    assert.ok(memberRole, `org:member among ${roles.text}`);
    const attached = await concierge.bapi('POST', `/v1/organization_roles/${memberRole.id}/permissions/${permission.json.id}`);
    assert.equal(attached.status, 200, `attach: ${attached.text}`);

    // The refresh: clerk-js fetches a new token (the app's __session cookie) and, on the next load, the membership.
    await page.goto(app.url('/orgs'));
    await waitForClerk(page);
    await page.evaluate(() => window.Clerk.session.getToken({ skipCache: true }));
    const claims = decodePart((await cookieJar(context, app.origin)).get('__session').value, 1);
    assert.equal(claims.o?.id, org.id, `o claim: ${JSON.stringify(claims)}`);
    assert.ok(claims.o?.per?.split(',').includes('export'), `the token lists the custom permission: ${JSON.stringify(claims.o)}`);
    assert.equal(await serverHas('org:reports:export'), 'true', 'the custom permission after the refresh (server)');
    assert.equal(await clientHas('org:reports:export'), true, 'the custom permission after the refresh (client)');
    assert.equal(await serverHas('org:reports:delete'), 'false', 'a permission the role does not have');
    assert.equal(await serverHas('org:sys_memberships:read'), 'false', 'still no system permission on the server');
  }),
);

test(
  'the membership limit in <OrganizationProfile/>: an invitation that would overfill the organization shows the error; a full one disables Invite',
  { timeout: 90_000 },
  suite.wrap('membership limit', async () => {
    const { app, concierge } = suite;
    const adminEmail = randomEmail('lim');
    const admin = await createUser(concierge, adminEmail, PASSWORD);
    const member = await createUser(concierge, randomEmail('m1'), PASSWORD);
    // Three seats: the admin, a member, and one left.
    const org = await createOrganization(concierge, { name: 'Small Team', created_by: admin.id, max_allowed_memberships: 3 }, [member.id]);

    const page = await suite.newPage();
    await signInToOrg(page, adminEmail, org.id);
    await openMembersPage(suite, page);

    // Two addresses for one seat: refused, and the form says why.
    await sendInvitations(page, [randomEmail('x1'), randomEmail('x2')]);
    const error = page.getByText(/limit of organization memberships|maximum number of members/);
    await error.first().waitFor({ state: 'visible' }).catch(async (err) => {
      throw new Error(`no membership-limit error in the invite form: ${await cardError(page)}\nFAPI:${fapiCalls(app, ORG_CALLS)}\n${err.message.split('\n')[0]}`);
    });
    await suite.step(page, 'membership-limit-error');
    const bulk = app.fapiLog.filter((e) => /\/invitations(\/bulk)?$/.test(e.path.split('?')[0]) && e.method === 'POST').at(-1);
    assert.equal(bulk?.status, 403, `the refused invitation request: ${JSON.stringify(bulk)}`);
    assert.equal(JSON.parse(bulk.responseBody).errors[0].code, 'organization_membership_quota_exceeded');
    let pending = await concierge.bapi('GET', `/v1/organizations/${org.id}/invitations?status=pending`);
    assert.equal(pending.json.total_count, 0, `nothing was invited: ${pending.text}`);

    // One address fits.
    await openMembersPage(suite, page);
    const lastSeat = randomEmail('x3');
    await sendInvitations(page, [lastSeat]);
    await page.getByText('Invitations successfully sent').waitFor().catch(async (err) => {
      throw new Error(`the invitation for the last seat was not sent: ${await cardError(page)}\nFAPI:${fapiCalls(app, ORG_CALLS)}\n${err.message.split('\n')[0]}`);
    });
    pending = await concierge.bapi('GET', `/v1/organizations/${org.id}/invitations?status=pending`);
    assert.deepEqual(pending.json.data.map((i) => i.email_address), [lastSeat]);

    // Now two members and one pending invitation fill the three seats: Invite is disabled.
    await openMembersPage(suite, page);
    const invite = page.getByRole('button', { name: 'Invite', exact: true });
    await invite.waitFor({ state: 'visible' });
    assert.ok(await eventually(() => invite.isDisabled(), 5_000), 'the Invite button of a full organization is disabled');
  }),
);

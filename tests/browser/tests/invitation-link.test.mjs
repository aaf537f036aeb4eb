// Invitation links: an admin invites an address to an organization through the Backend API; the
// invitee opens the link from the mailed invitation in Chromium, lands on the app's sign-up page
// with `__clerk_ticket`, and the official <SignUp/> finishes with a password only (the address is
// taken from the ticket, already verified). The server then sees the user, <OrganizationSwitcher/>
// lists the organization, and selecting it gives `authenticateRequest` the org and its role.
// An existing user's link lands on <SignIn/>, which signs them in with the ticket alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  useSuite,
  waitForClerk,
  createUser,
  randomEmail,
  advanceTo,
  cardError,
  continueButton,
  fapiCalls,
  homeUserId,
  createOrganization,
  mailedInvitationLink,
} from '../lib/suite.mjs';

const suite = useSuite('invitation-link');
const PASSWORD = 'correct-horse-battery-7';

/** Invites `email` to `org` through the Backend API; returns the invitation. */
async function invite(concierge, org, email, body) {
  const res = await concierge.bapi('POST', `/v1/organizations/${org.id}/invitations`, { email_address: email, ...body });
  assert.equal(res.status, 200, `POST /v1/organizations/${org.id}/invitations: ${res.text}`);
  assert.equal(res.json.status, 'pending');
  return res.json;
}

/** Where the link's 303 points (a plain request, which does not use the ticket). */
async function landing(link) {
  const res = await fetch(link, { redirect: 'manual' });
  assert.equal(res.status, 303, `GET ${link}: ${res.status} ${await res.text()}`);
  return new URL(res.headers.get('location'));
}

test(
  'a new user follows the mailed invitation link, signs up with a password only, and joins the organization',
  { timeout: 120_000 },
  suite.wrap('ticket sign-up', async () => {
    const { app, concierge } = suite;
    const admin = await createUser(concierge, randomEmail('admin'), PASSWORD);
    const org = await createOrganization(concierge, { name: 'Rocket Lab', created_by: admin.id, max_allowed_memberships: 0 });
    const email = randomEmail('invitee');
    const invitation = await invite(concierge, org, email, { role: 'org:member', inviter_user_id: admin.id, redirect_url: app.url('/sign-up') });
    const link = await mailedInvitationLink(concierge, email);
    assert.equal(link, invitation.url, 'the mail and the Backend API object carry the same link');

    // The link answers 303 to the app's sign-up page with the ticket.
    const landed = await landing(link);
    assert.equal(`${landed.origin}${landed.pathname}`, app.url('/sign-up'));
    assert.equal(landed.searchParams.get('__clerk_status'), 'sign_up');
    assert.ok(landed.searchParams.get('__clerk_ticket'), 'the ticket is in the landing URL');
    const context = await suite.newContext();
    const page = await suite.newPage(context);
    await page.goto(link);
    assert.equal(new URL(page.url()).origin, app.origin, `landed on ${page.url()}`);
    await waitForClerk(page);

    // <SignUp/> redeems the ticket: the address is known and verified, only a password is asked for.
    const password = page.locator('input[name=password]:visible');
    await password.waitFor().catch(async (err) => {
      throw new Error(`no password field after the ticket sign-up (at ${page.url()}): ${await cardError(page)}\nFAPI:${fapiCalls(app, /^\/v1\/client\/sign_ups/)}\n${err.message.split('\n')[0]}`);
    });
    const editableEmail = page.locator('input[name=emailAddress]:visible:not([disabled])');
    assert.equal(await editableEmail.count(), 0, 'the invited address cannot be edited');
    const signUp = await page.evaluate(() => ({
      email: window.Clerk.client.signUp.emailAddress,
      status: window.Clerk.client.signUp.verifications.emailAddress.status,
    }));
    assert.deepEqual(signUp, { email, status: 'verified' });
    await suite.step(page, 'password-only');
    await password.fill(PASSWORD);
    await continueButton(page).click();
    await advanceTo(page, /^\/$/, 'the ticket sign-up did not land on /');
    await waitForClerk(page);
    const userId = await homeUserId(page);
    assert.match(userId, /^user_/);
    assert.equal(await page.evaluate(() => window.Clerk.user?.primaryEmailAddress?.emailAddress), email);
    const calls = fapiCalls(app, /^\/v1\/client\/sign_ups/);
    assert.ok(!/prepare_verification|attempt_verification/.test(calls), `no email code was needed:${calls}`);

    // The Backend API: the invitation is accepted and the user is a member with the invited role.
    const invitations = await concierge.bapi('GET', `/v1/organizations/${org.id}/invitations?status=accepted`);
    assert.equal(invitations.json.data[0]?.id, invitation.id, invitations.text);
    const members = await concierge.bapi('GET', `/v1/organizations/${org.id}/memberships`);
    const membership = members.json.data.find((m) => m.public_user_data?.user_id === userId);
    assert.equal(membership?.role, 'org:member', members.text);

    // The server sees the user; the switcher lists the organization; selecting it activates it.
    let res = await page.goto(app.url('/protected'));
    assert.equal(res.status(), 200, `/protected (reason: ${await page.getByTestId('auth-reason').textContent()})`);
    assert.equal(await page.getByTestId('user-id').textContent(), userId);
    await page.goto(app.url('/orgs'));
    await waitForClerk(page);
    const trigger = page.getByRole('button', { name: 'Open organization switcher' });
    await trigger.click();
    await page.getByRole('dialog').getByRole('button', { name: /Rocket Lab/ }).click();
    await page.getByTestId('org-id').filter({ hasText: org.id }).waitFor();
    res = await page.goto(app.url('/protected-org'));
    assert.equal(res.status(), 200);
    assert.equal(await page.getByTestId('user-id').textContent(), userId);
    assert.equal(await page.getByTestId('org-id').textContent(), org.id);
    assert.equal(await page.getByTestId('org-role').textContent(), 'org:member');

    // The link is spent: following it again says the invitation is complete, without a ticket.
    const location = await landing(link);
    assert.equal(location.searchParams.get('__clerk_status'), 'complete');
    assert.equal(location.searchParams.get('__clerk_ticket'), null);
  }),
);

test(
  'an existing user follows the invitation link and <SignIn/> signs them in with the ticket alone',
  { timeout: 90_000 },
  suite.wrap('ticket sign-in', async () => {
    const { app, concierge } = suite;
    const admin = await createUser(concierge, randomEmail('owner'), PASSWORD);
    const email = randomEmail('member');
    const member = await createUser(concierge, email, PASSWORD);
    const org = await createOrganization(concierge, { name: 'Blue Harbor', created_by: admin.id, max_allowed_memberships: 0 });
    await invite(concierge, org, email, { role: 'org:admin', redirect_url: app.url('/sign-in') });
    const link = await mailedInvitationLink(concierge, email);

    const landed = await landing(link);
    assert.equal(`${landed.origin}${landed.pathname}`, app.url('/sign-in'));
    assert.equal(landed.searchParams.get('__clerk_status'), 'sign_in');
    const page = await suite.newPage();
    await page.goto(link);
    await advanceTo(page, /^\/$/, 'the ticket sign-in did not land on /', 20_000);
    await waitForClerk(page);
    assert.equal(await homeUserId(page), member.id);
    const calls = fapiCalls(app, /^\/v1\/client\/sign_ins/);
    assert.ok(!/attempt_first_factor/.test(calls), `no password was asked for:${calls}`);
    const memberships = await page.evaluate(() => window.Clerk.user.organizationMemberships.map((m) => [m.organization.id, m.role]));
    assert.deepEqual(memberships, [[org.id, 'org:admin']]);
  }),
);

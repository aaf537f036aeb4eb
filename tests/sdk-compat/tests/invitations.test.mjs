// Invitations through the official @clerk/backend: instance invitations (create, bulk, list,
// revoke, delete), organization invitations with their accept link, the tickets those links
// carry redeemed through the Frontend API the way clerk-js does, and the hourly rate limit.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createClerkClient } from '@clerk/backend';
import { startConcierge, fapiBrowser } from '../harness.mjs';

let srv;
let clerk;
const password = 'a-Strong-pass-123';

before(async () => {
  srv = await startConcierge('invitations');
  clerk = createClerkClient({ secretKey: srv.default.secretKey, apiUrl: srv.apiUrl });
});
after(async () => {
  await srv?.stop();
});

let counter = 0;
const unique = (prefix) => `${prefix}-${Date.now()}-${counter++}@example.com`;

async function rejects(promise, status, code) {
  await assert.rejects(promise, (err) => {
    assert.equal(err.status, status, JSON.stringify(err.errors));
    assert.equal(err.errors?.[0]?.code, code, JSON.stringify(err.errors));
    return true;
  });
}

/** The ticket of an accept link (`<frontend API>/v1/tickets/accept?ticket=…`). */
function ticketOf(url) {
  const parsed = new URL(url);
  assert.equal(`${parsed.origin}${parsed.pathname}`, `${srv.fapiUrl}/v1/tickets/accept`);
  return parsed.searchParams.get('ticket');
}

/** Follows an accept link like a mail client: a plain GET; returns the 303's target. */
async function follow(url) {
  const res = await fetch(url, { redirect: 'manual' });
  assert.equal(res.status, 303, await res.text());
  return new URL(res.headers.get('location'));
}

test('instance invitations: create, duplicates, bulk, list, revoke, delete', async () => {
  const email = unique('Ann');
  const inv = await clerk.invitations.createInvitation({
    emailAddress: email,
    publicMetadata: { plan: 'pro' },
    redirectUrl: 'http://localhost:3000/sign-up',
    expiresInDays: 7,
  });
  assert.match(inv.id, /^inv_/);
  assert.equal(inv.emailAddress, email.toLowerCase());
  assert.equal(inv.status, 'pending');
  assert.equal(inv.revoked, false);
  assert.deepEqual(inv.publicMetadata, { plan: 'pro' });
  assert.ok(ticketOf(inv.url));
  assert.equal(inv.raw.expires_at - inv.createdAt, 7 * 24 * 3600 * 1000);

  await rejects(clerk.invitations.createInvitation({ emailAddress: email }), 400, 'duplicate_record');
  const existing = await clerk.users.createUser({ emailAddress: [unique('user')], password });
  await rejects(
    clerk.invitations.createInvitation({ emailAddress: existing.emailAddresses[0].emailAddress }),
    422,
    'form_identifier_exists',
  );
  await rejects(
    clerk.invitations.createInvitation({ emailAddress: unique('x'), redirectUrl: 'https://evil.example/' }),
    422,
    'form_param_format_invalid',
  );
  const again = await clerk.invitations.createInvitation({ emailAddress: email, ignoreExisting: true, notify: false });
  assert.notEqual(again.id, inv.id);

  const bulk = await clerk.invitations.createInvitationBulk([
    { emailAddress: unique('bulk-a') },
    { emailAddress: unique('bulk-b'), publicMetadata: { n: 2 } },
  ]);
  assert.equal(bulk.length, 2);
  assert.ok(bulk.every((i) => i.status === 'pending' && i.url));
  assert.deepEqual(bulk[1].publicMetadata, { n: 2 });

  const page = await clerk.invitations.getInvitationList({ status: 'pending', orderBy: '-created_at', limit: 2 });
  assert.equal(page.data.length, 2);
  assert.ok(page.totalCount >= 4, `totalCount ${page.totalCount}`);
  assert.ok(page.data[0].createdAt >= page.data[1].createdAt);
  const byEmail = await clerk.invitations.getInvitationList({ query: email.toLowerCase() });
  assert.equal(byEmail.totalCount, 2);
  assert.deepEqual(byEmail.data.map((i) => i.emailAddress), [email.toLowerCase(), email.toLowerCase()]);

  const revoked = await clerk.invitations.revokeInvitation(bulk[0].id);
  assert.equal(revoked.status, 'revoked');
  assert.equal(revoked.revoked, true);
  await rejects(clerk.invitations.revokeInvitation(bulk[0].id), 400, 'invitation_not_pending');
  const revokedList = await clerk.invitations.getInvitationList({ status: 'revoked' });
  assert.ok(revokedList.data.some((i) => i.id === bulk[0].id));

  const deleted = await clerk.invitations.deleteInvitation(bulk[0].id);
  assert.equal(deleted.id, bulk[0].id);
  assert.equal(deleted.deleted, true);
  await rejects(clerk.invitations.revokeInvitation(bulk[0].id), 404, 'resource_not_found');

  // Nothing crosses instances.
  const other = createClerkClient({ secretKey: srv.other.secretKey, apiUrl: srv.apiUrl });
  await rejects(other.invitations.revokeInvitation(inv.id), 404, 'resource_not_found');
});

test('an instance invitation link signs up a new user with the invitation metadata', async () => {
  const email = unique('meta');
  const inv = await clerk.invitations.createInvitation({
    emailAddress: email,
    publicMetadata: { plan: 'team', seats: 3 },
    redirectUrl: 'http://localhost:3000/sign-up',
  });
  const landed = await follow(inv.url);
  assert.equal(`${landed.origin}${landed.pathname}`, 'http://localhost:3000/sign-up');
  assert.equal(landed.searchParams.get('__clerk_status'), 'sign_up');
  const ticket = landed.searchParams.get('__clerk_ticket');
  assert.equal(ticket, ticketOf(inv.url));

  const fapi = fapiBrowser(srv).send;
  const created = await fapi('POST', '/v1/client/sign_ups', { strategy: 'ticket', ticket });
  assert.equal(created.status, 200, JSON.stringify(created.body));
  assert.equal(created.body.response.email_address, email.toLowerCase());
  assert.deepEqual(created.body.response.missing_fields, ['password']);
  assert.deepEqual(created.body.response.unverified_fields, []);
  const id = created.body.response.id;
  const done = await fapi('POST', `/v1/client/sign_ups/${id}?_method=PATCH`, { password });
  assert.equal(done.body.response.status, 'complete', JSON.stringify(done.body));
  const user = await clerk.users.getUser(done.body.response.created_user_id);
  assert.deepEqual(user.publicMetadata, { plan: 'team', seats: 3 });
  assert.equal(user.emailAddresses[0].verification?.status, 'verified');
  const accepted = await clerk.invitations.getInvitationList({ status: 'accepted', query: email.toLowerCase() });
  assert.equal(accepted.data[0].id, inv.id);

  // The used ticket is refused.
  const reused = await fapiBrowser(srv).send('POST', '/v1/client/sign_ups', { strategy: 'ticket', ticket });
  assert.equal(reused.status, 400);
  assert.equal(reused.body.errors[0].code, 'ticket_invalid_code');
});

test('organization invitations carry an accept link; the ticket signs the invited user in and adds them', async () => {
  const admin = await clerk.users.createUser({ emailAddress: [unique('admin')], password });
  const member = await clerk.users.createUser({ emailAddress: [unique('member')], password });
  const org = await clerk.organizations.createOrganization({ name: `Ticket Org ${counter++}`, createdBy: admin.id, maxAllowedMemberships: 0 });
  const inv = await clerk.organizations.createOrganizationInvitation({
    organizationId: org.id,
    emailAddress: member.emailAddresses[0].emailAddress,
    role: 'org:member',
    inviterUserId: admin.id,
    expiresInDays: 3,
    redirectUrl: 'http://localhost:3000/sign-in',
    publicMetadata: { team: 'blue' },
    privateMetadata: { source: 'sdk' },
  });
  assert.equal(inv.status, 'pending');
  assert.ok(ticketOf(inv.url));
  const listed = await clerk.organizations.getOrganizationInvitationList({ organizationId: org.id, status: ['pending'] });
  assert.equal(listed.data[0].url, inv.url);

  const landed = await follow(inv.url);
  assert.equal(landed.searchParams.get('__clerk_status'), 'sign_in');
  const signIn = await fapiBrowser(srv).send('POST', '/v1/client/sign_ins', { strategy: 'ticket', ticket: landed.searchParams.get('__clerk_ticket') });
  assert.equal(signIn.status, 200, JSON.stringify(signIn.body));
  assert.equal(signIn.body.response.status, 'complete');
  assert.equal(signIn.body.client.sessions[0].user.id, member.id);

  const memberships = await clerk.organizations.getOrganizationMembershipList({ organizationId: org.id });
  const joined = memberships.data.find((m) => m.publicUserData?.userId === member.id);
  assert.equal(joined?.role, 'org:member');
  assert.deepEqual(joined?.publicMetadata, { team: 'blue' });
  const after = await clerk.organizations.getOrganizationInvitation({ organizationId: org.id, invitationId: inv.id });
  assert.equal(after.status, 'accepted');
  assert.equal(after.url, null);

  // Revoked before use: the ticket is refused with Clerk's code.
  const revokedInv = await clerk.organizations.createOrganizationInvitation({ organizationId: org.id, emailAddress: unique('late'), role: 'org:member' });
  await clerk.organizations.revokeOrganizationInvitation({ organizationId: org.id, invitationId: revokedInv.id, requestingUserId: admin.id });
  const refused = await fapiBrowser(srv).send('POST', '/v1/client/sign_ups', { strategy: 'ticket', ticket: ticketOf(revokedInv.url) });
  assert.equal(refused.status, 400);
  assert.equal(refused.body.errors[0].code, 'organization_invitation_revoked_code');
});

test('instance invitations in bulk are limited to 25 requests per hour per instance (429, Retry-After)', async () => {
  // The `other` instance, so the rest of the file keeps its own budget.
  const other = createClerkClient({ secretKey: srv.other.secretKey, apiUrl: srv.apiUrl });
  for (let i = 0; i < 25; i++) {
    await other.invitations.createInvitationBulk([{ emailAddress: unique(`limit${i}`), notify: false }]);
  }
  await assert.rejects(other.invitations.createInvitationBulk([{ emailAddress: unique('over') }]), (err) => {
    assert.equal(err.status, 429);
    assert.equal(err.errors?.[0]?.code, 'too_many_requests');
    assert.ok(err.retryAfter > 0 && err.retryAfter <= 144, `retryAfter ${err.retryAfter}`);
    return true;
  });
  // Single invitations have their own budget.
  const single = await other.invitations.createInvitation({ emailAddress: unique('single') });
  assert.equal(single.status, 'pending');
});

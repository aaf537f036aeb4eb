// Session tokens read by @clerk/backend 2.x (the line @clerk/remix 4 depends on): the same
// organization claims and has() answers as with 3.x, from a bearer token and from the
// __session/__client_uat cookies a browser sends.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createClerkClient } from '@clerk/backend-v2';
import { startConcierge, fapiBrowser } from '../harness.mjs';

let srv;
let clerk;
const password = 'a-Strong-pass-123';

before(async () => {
  srv = await startConcierge('backend-v2');
  clerk = createClerkClient({ secretKey: srv.default.secretKey, apiUrl: srv.apiUrl });
});
after(async () => {
  await srv?.stop();
});

/** Signs in through the Frontend API as an app's /__clerk proxy would, keeping the cookies. */
async function signIn(email) {
  const browser = fapiBrowser(srv);
  const post = async (path, form) => {
    const { status, body } = await browser.post(path, form);
    assert.equal(status, 200, JSON.stringify(body));
    return body;
  };
  const started = await post('/v1/client/sign_ins', { identifier: email, password, strategy: 'password' });
  return { post, jar: browser.jar, sid: started.response.created_session_id };
}

test('@clerk/backend 2.x: orgId, orgSlug, orgRole, orgPermissions and has() from Concierge tokens', async () => {
  const suffix = `${Date.now()}`.slice(-6);
  const bapi = async (path, body) => {
    const res = await fetch(`${srv.apiUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${srv.default.secretKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.equal(res.status, 200, await res.clone().text());
    return res.json();
  };
  await bapi('/v1/organization_permissions', { key: `org:invoices${suffix}:export`, name: 'Export invoices' });
  await bapi('/v1/organization_roles', { key: `org:billing${suffix}`, name: 'Billing', permissions: [`org:invoices${suffix}:export`] });

  const email = `v2-${suffix}@example.com`;
  const owner = await clerk.users.createUser({ emailAddress: [`owner-${suffix}@example.com`], password });
  const member = await clerk.users.createUser({ emailAddress: [email], password });
  const org = await clerk.organizations.createOrganization({ name: `Wayne ${suffix}`, slug: `wayne-${suffix}`, createdBy: owner.id });
  await clerk.organizations.createOrganizationMembership({ organizationId: org.id, userId: member.id, role: `org:billing${suffix}` });

  const browser = await signIn(email);
  const touched = await browser.post(`/v1/client/sessions/${browser.sid}/touch`, { active_organization_id: org.id });
  const jwt = touched.response.last_active_token.jwt;
  const options = { publishableKey: srv.default.publishableKey, secretKey: srv.default.secretKey };

  // Bearer token, as an API route of the app would receive it.
  const state = await clerk.authenticateRequest(
    new Request('http://localhost:3000/api', { headers: { authorization: `Bearer ${jwt}` } }),
    options,
  );
  assert.equal(state.isSignedIn, true, `${state.reason}`);
  const auth = state.toAuth();
  assert.equal(auth.userId, member.id);
  assert.equal(auth.sessionId, browser.sid);
  assert.equal(auth.orgId, org.id);
  assert.equal(auth.orgSlug, `wayne-${suffix}`);
  assert.equal(auth.orgRole, `org:billing${suffix}`);
  assert.deepEqual(auth.orgPermissions, [`org:invoices${suffix}:export`]);
  assert.equal(auth.has({ role: `org:billing${suffix}` }), true);
  assert.equal(auth.has({ role: 'org:admin' }), false);
  assert.equal(auth.has({ permission: `org:invoices${suffix}:export` }), true);
  assert.equal(auth.has({ permission: 'org:sys_memberships:read' }), false, 'system permissions are never in the token');

  // Cookies, as a server-rendered page would receive them: __session plus __client_uat, which
  // is never ahead of the token's iat.
  const uat = browser.jar.get('__client_uat');
  assert.ok(Number(uat) > 0);
  const page = await clerk.authenticateRequest(
    new Request('http://localhost:3000/dashboard', {
      headers: { cookie: `__session=${jwt}; __client_uat=${uat}`, accept: 'text/html', 'sec-fetch-dest': 'document' },
    }),
    options,
  );
  assert.equal(page.isSignedIn, true, `${page.reason}`);
  assert.equal(page.toAuth().orgId, org.id);
  assert.equal(page.toAuth().has({ role: 'org:admin' }), false);

  // The owner is an admin of the organization in the 2.x reading too.
  const ownerEmail = `owner-${suffix}@example.com`;
  const admin = await signIn(ownerEmail);
  const adminTouched = await admin.post(`/v1/client/sessions/${admin.sid}/touch`, { active_organization_id: org.id });
  const adminState = await clerk.authenticateRequest(
    new Request('http://localhost:3000/api', { headers: { authorization: `Bearer ${adminTouched.response.last_active_token.jwt}` } }),
    options,
  );
  assert.equal(adminState.toAuth().has({ role: 'org:admin' }), true);
  assert.equal(adminState.toAuth().has({ permission: 'org:sys_memberships:manage' }), false);

  // A token whose session was revoked is not refreshed; the old one stays valid until it expires.
  await clerk.sessions.revokeSession(browser.sid);
  const refused = await fetch(`${srv.fapiUrl}/v1/client/sessions/${browser.sid}/tokens`, {
    method: 'POST',
    headers: {
      origin: 'http://localhost:3000',
      'clerk-secret-key': srv.default.secretKey,
      cookie: [...browser.jar].map(([k, v]) => `${k}=${v}`).join('; '),
    },
  });
  assert.notEqual(refused.status, 200);
});

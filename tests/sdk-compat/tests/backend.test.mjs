// The official @clerk/backend (pinned in package.json) against a real concierge binary.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import bcrypt from 'bcryptjs';
import { createClerkClient, verifyToken } from '@clerk/backend';
import { startConcierge, decodePart } from '../harness.mjs';

let srv;
let clerk;
let otherClerk;
const password = 'a-Strong-pass-123';

before(async () => {
  srv = await startConcierge('backend');
  clerk = createClerkClient({ secretKey: srv.default.secretKey, apiUrl: srv.apiUrl });
  otherClerk = createClerkClient({ secretKey: srv.other.secretKey, apiUrl: srv.apiUrl });
});
after(async () => {
  await srv?.stop();
});

let counter = 0;
const unique = (prefix) => `${prefix}-${Date.now()}-${counter++}@example.com`;

async function rejects(promise, status, code) {
  await assert.rejects(promise, (err) => {
    assert.equal(err.constructor.name, 'ClerkAPIResponseError', `${err}`);
    assert.equal(err.status, status, JSON.stringify(err.errors));
    if (code) assert.equal(err.errors[0].code, code, JSON.stringify(err.errors));
    return true;
  });
}

test('operator contract: instance show prints the documented object', () => {
  const shown = srv.instanceJson;
  for (const key of ['id', 'name', 'publishable_key', 'secret_key', 'frontend_host', 'frontend_api_url', 'backend_api_url', 'jwks_url']) {
    assert.ok(shown[key], `instance show has ${key}`);
  }
  assert.match(shown.publishable_key, /^pk_live_[A-Za-z0-9+/]+$/);
  assert.match(shown.secret_key, /^sk_live_/);
  assert.equal(shown.backend_api_url, srv.apiUrl);
  assert.equal(Buffer.from(shown.publishable_key.slice(8), 'base64').toString(), `${shown.frontend_host}$`);
});

test('users: create and get return the fields the SDK maps', async () => {
  const email = unique('jane');
  const created = await clerk.users.createUser({
    emailAddress: [email], password, firstName: 'Jane', lastName: 'Doe', username: `jane${counter}`,
    publicMetadata: { plan: 'pro' }, privateMetadata: { secret: 1 }, unsafeMetadata: { theme: 'dark' }, externalId: `ext-${counter}`,
  });
  const user = await clerk.users.getUser(created.id);
  assert.match(user.id, /^user_/);
  assert.equal(user.emailAddresses[0].emailAddress, email);
  assert.equal(user.primaryEmailAddressId, user.emailAddresses[0].id);
  assert.equal(user.primaryEmailAddress?.emailAddress, email);
  assert.equal(user.emailAddresses[0].verification?.status, 'verified');
  assert.equal(user.firstName, 'Jane');
  assert.equal(user.lastName, 'Doe');
  assert.deepEqual(user.publicMetadata, { plan: 'pro' });
  assert.deepEqual(user.privateMetadata, { secret: 1 });
  assert.deepEqual(user.unsafeMetadata, { theme: 'dark' });
  assert.equal(user.externalId, created.externalId);
  assert.equal(user.passwordEnabled, true);
  assert.equal(user.banned, false);
  assert.ok(Math.abs(user.createdAt - Date.now()) < 60_000, 'createdAt is a ms timestamp');
});

test('users: list with filters, order, pagination and count', async () => {
  const tag = `list${Date.now()}`;
  const ids = [];
  for (const name of ['Ann', 'Bob', 'Cat']) {
    const u = await clerk.users.createUser({ emailAddress: [`${name.toLowerCase()}.${tag}@example.com`], firstName: name, externalId: `${tag}-${name}` });
    ids.push(u.id);
    await new Promise((r) => setTimeout(r, 5));
  }
  const byQuery = await clerk.users.getUserList({ query: tag, orderBy: '+created_at' });
  assert.equal(byQuery.totalCount, 3);
  assert.deepEqual(byQuery.data.map((u) => u.firstName), ['Ann', 'Bob', 'Cat']);
  const newest = await clerk.users.getUserList({ query: tag, orderBy: '-created_at', limit: 2 });
  assert.deepEqual(newest.data.map((u) => u.firstName), ['Cat', 'Bob']);
  assert.equal(newest.totalCount, 3);
  const page2 = await clerk.users.getUserList({ query: tag, orderBy: '-created_at', limit: 2, offset: 2 });
  assert.deepEqual(page2.data.map((u) => u.firstName), ['Ann']);
  const byEmail = await clerk.users.getUserList({ emailAddress: [`ann.${tag}@example.com`, `cat.${tag}@example.com`], orderBy: '+first_name' });
  assert.deepEqual(byEmail.data.map((u) => u.firstName), ['Ann', 'Cat']);
  const byId = await clerk.users.getUserList({ userId: [ids[1]] });
  assert.deepEqual(byId.data.map((u) => u.firstName), ['Bob']);
  const byExternal = await clerk.users.getUserList({ externalId: [`${tag}-Cat`] });
  assert.deepEqual(byExternal.data.map((u) => u.id), [ids[2]]);
  assert.equal(await clerk.users.getCount({ query: tag }), 3);
});

test('users: update, metadata merge and replace', async () => {
  const u = await clerk.users.createUser({ emailAddress: [unique('meta')], password });
  const updated = await clerk.users.updateUser(u.id, { firstName: 'Meta', username: `meta_${counter}` });
  assert.equal(updated.firstName, 'Meta');
  assert.equal(updated.username, `meta_${counter}`);
  await clerk.users.updateUserMetadata(u.id, { publicMetadata: { a: 1, nested: { x: 1, y: 2 } }, privateMetadata: { p: 1 } });
  const merged = await clerk.users.updateUserMetadata(u.id, { publicMetadata: { a: null, nested: { y: 3 } } });
  assert.deepEqual(merged.publicMetadata, { nested: { x: 1, y: 3 } });
  assert.deepEqual(merged.privateMetadata, { p: 1 });
  const replaced = await clerk.users.replaceUserMetadata(u.id, { publicMetadata: { only: 'this' } });
  assert.deepEqual(replaced.publicMetadata, { only: 'this' });
});

test('users: verifyPassword accepts the right password and refuses a wrong one', async () => {
  const u = await clerk.users.createUser({ emailAddress: [unique('pw')], password });
  assert.deepEqual(await clerk.users.verifyPassword({ userId: u.id, password }), { verified: true });
  await rejects(clerk.users.verifyPassword({ userId: u.id, password: 'wrong-password-1' }), 422, 'incorrect_password');
});

test('users: bcrypt digests import and verify', async () => {
  const digest = bcrypt.hashSync('imported-pass-1', 10);
  const u = await clerk.users.createUser({ emailAddress: [unique('import')], passwordDigest: digest, passwordHasher: 'bcrypt' });
  assert.equal(u.passwordEnabled, true);
  assert.deepEqual(await clerk.users.verifyPassword({ userId: u.id, password: 'imported-pass-1' }), { verified: true });
  // A second check runs against the argon2id hash the first one upgraded to.
  assert.deepEqual(await clerk.users.verifyPassword({ userId: u.id, password: 'imported-pass-1' }), { verified: true });
  await rejects(clerk.users.verifyPassword({ userId: u.id, password: 'imported-pass-2' }), 422, 'incorrect_password');
});

test('users: ban, unban, lock, unlock', async () => {
  const u = await clerk.users.createUser({ emailAddress: [unique('ban')] });
  assert.equal((await clerk.users.banUser(u.id)).banned, true);
  assert.equal((await clerk.users.unbanUser(u.id)).banned, false);
  assert.equal((await clerk.users.lockUser(u.id)).locked, true);
  assert.equal((await clerk.users.unlockUser(u.id)).locked, false);
});

test('email addresses: create, get, update, delete', async () => {
  const u = await clerk.users.createUser({ emailAddress: [unique('first')] });
  const address = unique('second');
  const created = await clerk.emailAddresses.createEmailAddress({ userId: u.id, emailAddress: address, verified: true, primary: true });
  assert.equal(created.emailAddress, address);
  assert.equal((await clerk.users.getUser(u.id)).primaryEmailAddressId, created.id);
  assert.equal((await clerk.emailAddresses.getEmailAddress(created.id)).emailAddress, address);
  const unverified = await clerk.emailAddresses.updateEmailAddress(created.id, { verified: false });
  assert.equal(unverified.verification?.status, 'unverified');
  const deleted = await clerk.emailAddresses.deleteEmailAddress(created.id);
  assert.equal(deleted.deleted, true);
  await rejects(clerk.emailAddresses.getEmailAddress(created.id), 404, 'resource_not_found');
});

test('errors: Clerk envelopes with codes, statuses and param names', async () => {
  const email = unique('dup');
  await clerk.users.createUser({ emailAddress: [email] });
  await assert.rejects(clerk.users.createUser({ emailAddress: [email] }), (err) => {
    assert.equal(err.status, 422);
    assert.equal(err.errors[0].code, 'form_identifier_exists');
    assert.equal(err.errors[0].meta.paramName, 'email_address');
    assert.ok(err.errors[0].longMessage);
    assert.ok(err.clerkTraceId, 'trace id surfaces on the SDK error');
    return true;
  });
  await rejects(clerk.users.createUser({ emailAddress: ['not-an-email'] }), 422, 'form_param_format_invalid');
  await rejects(clerk.users.createUser({ emailAddress: [unique('short')], password: 'short' }), 422, 'form_password_length_too_short');
  const u = await clerk.users.createUser({ emailAddress: [unique('del')] });
  const deleted = await clerk.users.deleteUser(u.id);
  assert.equal(deleted.id, u.id);
  await rejects(clerk.users.getUser(u.id), 404, 'resource_not_found');
  const wrongKey = createClerkClient({ secretKey: 'sk_live_not-a-real-key', apiUrl: srv.apiUrl });
  await rejects(wrongKey.users.getUserList(), 401);
});

async function signedInSession(prefix = 'sess') {
  const user = await clerk.users.createUser({ emailAddress: [unique(prefix)], password });
  const session = await clerk.sessions.createSession({ userId: user.id });
  return { user, session };
}

test('sessions: create, get, list, token, verifyToken with the JWKS', async () => {
  const { user, session } = await signedInSession();
  assert.match(session.id, /^sess_/);
  assert.equal(session.status, 'active');
  assert.equal(session.userId, user.id);
  assert.equal((await clerk.sessions.getSession(session.id)).id, session.id);
  const list = await clerk.sessions.getSessionList({ userId: user.id });
  assert.equal(list.totalCount, 1);
  assert.equal(list.data[0].id, session.id);
  const token = await clerk.sessions.getToken(session.id);
  assert.ok(token.jwt, 'Token resource carries jwt');
  const header = decodePart(token.jwt, 0);
  assert.equal(header.alg, 'RS256');
  assert.equal(header.typ, 'JWT');
  assert.ok(header.kid);
  const claims = await verifyToken(token.jwt, { secretKey: srv.default.secretKey, apiUrl: srv.apiUrl });
  assert.equal(claims.sub, user.id);
  assert.equal(claims.sid, session.id);
  assert.equal(claims.iss, `https://${srv.default.frontendHost}`);
  assert.equal(claims.exp - claims.iat, 60);
  assert.equal(claims.nbf, claims.iat - 10);
  assert.equal(claims.v, 2);
  assert.equal(claims.sts, 'active');
  // The same check, networkless, with the PEM derived from the JWKS modulus.
  const jwks = await (await fetch(`${srv.apiUrl}/v1/jwks`, { headers: { authorization: `Bearer ${srv.default.secretKey}` } })).json();
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  const { createPublicKey } = await import('node:crypto');
  const pem = createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
  const networkless = await verifyToken(token.jwt, { jwtKey: pem });
  assert.equal(networkless.sub, user.id);
});

test('tokens: tampered, expired and other-instance tokens are rejected', async () => {
  const { session } = await signedInSession('reject');
  const { jwt } = await clerk.sessions.getToken(session.id);
  const [h, p, s] = jwt.split('.');
  const payload = decodePart(jwt, 1);
  payload.sub = 'user_someoneelse';
  const tampered = [h, Buffer.from(JSON.stringify(payload)).toString('base64url'), s].join('.');
  await assert.rejects(verifyToken(tampered, { secretKey: srv.default.secretKey, apiUrl: srv.apiUrl }));
  await assert.rejects(
    verifyToken(jwt, { secretKey: srv.other.secretKey, apiUrl: srv.apiUrl, skipJwksCache: true }),
    (err) => /kid|jwk|key/i.test(`${err.reason ?? ''} ${err.message}`),
  );
  const short = await clerk.sessions.getToken(session.id, undefined, 1);
  const shortClaims = decodePart(short.jwt, 1);
  assert.equal(shortClaims.exp - shortClaims.iat, 1);
  // The one short wait of the suite: let a 1-second token expire, with no clock skew allowed.
  await new Promise((r) => setTimeout(r, 2200));
  await assert.rejects(verifyToken(short.jwt, { secretKey: srv.default.secretKey, apiUrl: srv.apiUrl, clockSkewInMs: 0 }), (err) => {
    assert.equal(err.reason, 'token-expired');
    return true;
  });
});

test('sessions: a revoked session gets no new token', async () => {
  const { session } = await signedInSession('revoke');
  const revoked = await clerk.sessions.revokeSession(session.id);
  assert.equal(revoked.status, 'revoked');
  await assert.rejects(clerk.sessions.getToken(session.id), (err) => err.status >= 400 && err.status < 500);
  const active = await clerk.sessions.getSessionList({ userId: revoked.userId, status: 'active' });
  assert.equal(active.totalCount, 0);
});

test('authenticateRequest: cookie and bearer requests are signed in, bare ones signed out', async () => {
  const { user, session } = await signedInSession('authreq');
  const { jwt } = await clerk.sessions.getToken(session.id);
  const { iat } = decodePart(jwt, 1);
  const options = { publishableKey: srv.default.publishableKey, secretKey: srv.default.secretKey };
  const cookieRequest = new Request('http://localhost:3000/dashboard', {
    headers: { cookie: `__session=${jwt}; __client_uat=${iat}`, accept: 'text/html', 'sec-fetch-dest': 'document' },
  });
  const state = await clerk.authenticateRequest(cookieRequest, options);
  assert.equal(state.isSignedIn, true, `${state.reason} ${state.message}`);
  const auth = state.toAuth();
  assert.equal(auth.userId, user.id);
  assert.equal(auth.sessionId, session.id);
  assert.equal(auth.sessionClaims.iss, `https://${srv.default.frontendHost}`);
  const bearer = await clerk.authenticateRequest(new Request('http://localhost:3000/api/me', { headers: { authorization: `Bearer ${jwt}` } }), options);
  assert.equal(bearer.isSignedIn, true, `${bearer.reason}`);
  assert.equal(bearer.toAuth().userId, user.id);
  const bare = await clerk.authenticateRequest(new Request('http://localhost:3000/api/me'), options);
  assert.equal(bare.isSignedIn, false);
  const otherOptions = { publishableKey: srv.other.publishableKey, secretKey: srv.other.secretKey };
  const foreign = await otherClerk.authenticateRequest(new Request('http://localhost:3000/api/me', { headers: { authorization: `Bearer ${jwt}` } }), otherOptions);
  assert.equal(foreign.isSignedIn, false, 'a token of another instance is not accepted');
});

test('JWT templates: CRUD and template tokens that are not session tokens', async () => {
  const name = `supabase${Date.now()}`;
  const template = await clerk.jwtTemplates.create({
    name, lifetime: 120,
    claims: { role: 'authenticated', email: '{{user.primary_email_address}}', meta: '{{user.public_metadata}}' },
  });
  assert.equal(template.name, name);
  assert.equal((await clerk.jwtTemplates.get(template.id)).lifetime, 120);
  const listed = await clerk.jwtTemplates.list();
  assert.ok(listed.data.some((t) => t.id === template.id));
  const { user, session } = await signedInSession('tmpl');
  await clerk.users.updateUserMetadata(user.id, { publicMetadata: { plan: 'pro' } });
  const { jwt } = await clerk.sessions.getToken(session.id, name);
  assert.equal(decodePart(jwt, 0).cat, 'cl_B7d4PD222AAA');
  const claims = decodePart(jwt, 1);
  assert.equal(claims.role, 'authenticated');
  assert.equal(claims.email, user.emailAddresses[0].emailAddress);
  assert.deepEqual(claims.meta, { plan: 'pro' });
  assert.equal(claims.sub, user.id);
  assert.equal(claims.exp - claims.iat, 120);
  const state = await clerk.authenticateRequest(new Request('http://localhost:3000/api', { headers: { authorization: `Bearer ${jwt}` } }), {
    publishableKey: srv.default.publishableKey, secretKey: srv.default.secretKey,
  });
  assert.equal(state.isSignedIn, false, 'a template token is refused as a session token');
  const updated = await clerk.jwtTemplates.update({ templateId: template.id, name, claims: { role: 'x' }, lifetime: 300 });
  assert.equal(updated.lifetime, 300);
  assert.equal((await clerk.jwtTemplates.delete(template.id)).deleted, true);
});

test('JWKS: rotation keeps old tokens verifiable and signs new ones with a new kid', async () => {
  const { session } = await signedInSession('rotate');
  const before = (await clerk.sessions.getToken(session.id)).jwt;
  srv.cli('instance', 'rotate-keys', 'default');
  const after = (await clerk.sessions.getToken(session.id)).jwt;
  assert.notEqual(decodePart(before, 0).kid, decodePart(after, 0).kid);
  for (const jwt of [before, after]) {
    const claims = await verifyToken(jwt, { secretKey: srv.default.secretKey, apiUrl: srv.apiUrl, skipJwksCache: true });
    assert.equal(claims.sid, session.id);
  }
  const jwks = await (await fetch(`${srv.apiUrl}/v1/jwks`, { headers: { authorization: `Bearer ${srv.default.secretKey}` } })).json();
  for (const key of jwks.keys) {
    assert.equal(key.kty, 'RSA');
    assert.equal(key.alg, 'RS256');
    assert.equal(key.use, 'sig');
    assert.equal(key.e, 'AQAB');
  }
});

test('clients: getClient and getClientList', async () => {
  const { session } = await signedInSession('client');
  const client = await clerk.clients.getClient(session.clientId);
  assert.equal(client.id, session.clientId);
  assert.deepEqual(client.sessionIds, [session.id]);
  assert.equal(client.sessions[0].id, session.id);
  const list = await clerk.clients.getClientList({ limit: 100 });
  assert.ok(list.data.some((c) => c.id === client.id));
});

test('isolation: another instance cannot read, list or change this instance', async () => {
  const { user, session } = await signedInSession('iso');
  await rejects(otherClerk.users.getUser(user.id), 404, 'resource_not_found');
  await rejects(otherClerk.users.updateUser(user.id, { firstName: 'Mallory' }), 404);
  await rejects(otherClerk.users.deleteUser(user.id), 404);
  await rejects(otherClerk.sessions.getSession(session.id), 404);
  await rejects(otherClerk.sessions.revokeSession(session.id), 404);
  await rejects(otherClerk.sessions.getToken(session.id), 404);
  const list = await otherClerk.users.getUserList({ limit: 500 });
  assert.ok(!list.data.some((u) => u.id === user.id));
  const again = await clerk.users.getUser(user.id);
  assert.equal(again.firstName, user.firstName);
  assert.equal((await clerk.sessions.getSession(session.id)).status, 'active');
});

test('wire: exact content type, unknown routes and malformed bodies get envelopes', async () => {
  const headers = { authorization: `Bearer ${srv.default.secretKey}`, 'content-type': 'application/json' };
  const ok = await fetch(`${srv.apiUrl}/v1/users`, { headers });
  assert.equal(ok.headers.get('content-type'), 'application/json');
  const missing = await fetch(`${srv.apiUrl}/v1/no_such_route`, { headers });
  assert.equal(missing.status, 404);
  assert.equal((await missing.json()).errors[0].code, 'resource_not_found');
  const malformed = await fetch(`${srv.apiUrl}/v1/users`, { method: 'POST', headers, body: '{"email_address": [' });
  assert.equal(malformed.status, 400);
  assert.equal(malformed.headers.get('content-type'), 'application/json');
  assert.ok(Array.isArray((await malformed.json()).errors));
  const wellKnown = await fetch(`${srv.fapiUrl}/.well-known/jwks.json`, { headers: { 'x-forwarded-host': srv.default.frontendHost } });
  assert.equal(wellKnown.status, 200);
  assert.ok((await wellKnown.json()).keys.length >= 1);
});

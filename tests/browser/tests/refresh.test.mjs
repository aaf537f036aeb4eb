// clerk-js keeps __session fresh: it calls POST /v1/client/sessions/<sid>/tokens before the 60 s token
// expires and writes the new token (later iat, same session) to the cookie.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useSuite, signInThroughUi, cookieJar, createUser, decodePart } from '../lib/suite.mjs';

const suite = useSuite('refresh');

test(
  'the session token is refreshed in the background before it expires',
  { timeout: 100_000 },
  suite.wrap('refresh', async () => {
    const { app, concierge } = suite;
    await createUser(concierge, 'dave@example.com', 'correct-horse-battery-4');
    const context = await suite.newContext();
    const page = await suite.newPage(context);
    const tokenCalls = [];
    page.on('request', (r) => {
      const path = new URL(r.url()).pathname;
      if (/^\/__clerk\/v1\/client\/sessions\/[^/]+\/tokens\/?$/.test(path)) tokenCalls.push({ method: r.method(), path, at: Date.now() });
    });

    await signInThroughUi(suite, page, 'dave@example.com', 'correct-horse-battery-4');
    const signedInAt = Date.now();
    const sessionId = await page.evaluate(() => window.Clerk.session?.id);
    const first = (await cookieJar(context, app.origin)).get('__session');
    assert.ok(first, '__session after sign-in');
    const firstClaims = decodePart(first.value, 1);
    assert.equal(firstClaims.sid, sessionId);
    const lifetime = firstClaims.exp - firstClaims.iat;
    assert.ok(lifetime > 0 && lifetime <= 60, `token lifetime ${lifetime} s`);

    // Within 60 s of sign-in a newer token must be in the cookie.
    let latest = firstClaims;
    let latestJwt = first.value;
    while (Date.now() - signedInAt < 60_000) {
      const cookie = (await cookieJar(context, app.origin)).get('__session');
      if (cookie) {
        const claims = decodePart(cookie.value, 1);
        if (claims.iat > firstClaims.iat) {
          latest = claims;
          latestJwt = cookie.value;
          break;
        }
      }
      await page.waitForTimeout(1_000);
    }
    const waited = Math.round((Date.now() - signedInAt) / 1000);
    assert.ok(latest.iat > firstClaims.iat,
      `no newer __session within ${waited} s (first iat ${firstClaims.iat}, exp ${firstClaims.exp}); token calls: ${JSON.stringify(tokenCalls)}`);
    assert.equal(latest.sid, sessionId, 'same session');
    assert.equal(latest.sub, firstClaims.sub, 'same user');
    assert.ok(latest.exp > firstClaims.exp, 'later expiry');
    assert.notEqual(latestJwt, first.value);
    const refreshCalls = tokenCalls.filter((c) => c.method === 'POST' && c.path.includes(`/sessions/${sessionId}/tokens`) && c.at > signedInAt);
    assert.ok(refreshCalls.length > 0, `clerk-js called POST /__clerk/v1/client/sessions/${sessionId}/tokens after sign-in (saw ${JSON.stringify(tokenCalls)})`);

    // The server accepts the refreshed token.
    const res = await page.goto(app.url('/protected'));
    assert.equal(res.status(), 200, `/protected with the refreshed token (reason: ${await page.getByTestId('auth-reason').textContent()})`);
  }),
);

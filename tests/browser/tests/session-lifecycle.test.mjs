// A session's life as the page sees it: getToken({ skipCache: true }) mints a newer token at once,
// and a session revoked through the Backend API signs the page out at its next token refresh.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useSuite, signInThroughUi, createUser, decodePart, eventually, randomEmail } from '../lib/suite.mjs';

const suite = useSuite('session-lifecycle');

test(
  'getToken({ skipCache: true }) returns a token with a newer iat',
  { timeout: 60_000 },
  suite.wrap('skip-cache', async () => {
    const { concierge } = suite;
    const email = randomEmail('skip');
    await createUser(concierge, email, 'correct-horse-battery-8');
    const context = await suite.newContext();
    const page = await suite.newPage(context);
    await signInThroughUi(suite, page, email, 'correct-horse-battery-8');
    const cached = await page.evaluate(() => window.Clerk.session.getToken());
    // iat has a one-second resolution: let the clock move past it.
    await page.waitForTimeout(1_100);
    const fresh = await page.evaluate(() => window.Clerk.session.getToken({ skipCache: true }));
    const before = decodePart(cached, 1);
    const after = decodePart(fresh, 1);
    assert.ok(after.iat > before.iat, `iat ${after.iat} after ${before.iat}`);
    assert.equal(after.sid, before.sid);
    const again = await page.evaluate(() => window.Clerk.session.getToken());
    assert.equal(again, fresh, 'the fresh token is now the cached one');
  }),
);

test(
  'a session revoked through the Backend API signs the page out within one refresh',
  { timeout: 100_000 },
  suite.wrap('revoked', async () => {
    const { app, concierge } = suite;
    const email = randomEmail('revoked');
    await createUser(concierge, email, 'correct-horse-battery-9');
    const context = await suite.newContext();
    const page = await suite.newPage(context);
    await signInThroughUi(suite, page, email, 'correct-horse-battery-9');
    const sessionId = await page.evaluate(() => window.Clerk.session.id);
    const revoked = await concierge.bapi('POST', `/v1/sessions/${sessionId}/revoke`);
    assert.equal(revoked.status, 200, revoked.text);
    assert.equal(revoked.json.status, 'revoked');
    // Tokens live 60 s and clerk-js refreshes them before expiry, so within ~60 s the refresh fails and the
    // page signs out.
    const signedOut = await eventually(
      () => page.evaluate(() => window.Clerk.user === null || window.Clerk.user === undefined),
      75_000,
      1_000,
    );
    assert.ok(signedOut, 'Clerk.user became null after the revocation');
    const res = await page.goto(app.url('/protected'));
    assert.equal(res.status(), 401, 'the server sees a signed-out request');
  }),
);

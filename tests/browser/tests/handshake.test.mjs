// With __client_uat and __client but no __session, authenticateRequest sends the browser through the
// handshake (app → /__clerk/v1/client/handshake → app with a nonce) and the page ends up signed in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useSuite, signInThroughUi, cookieJar, homeUserId, createUser } from '../lib/suite.mjs';

const suite = useSuite('handshake');

test(
  'a missing __session is recovered through the handshake on a server-rendered page',
  { timeout: 90_000 },
  suite.wrap('handshake', async () => {
    const { app, concierge } = suite;
    const user = await createUser(concierge, 'carol@example.com', 'correct-horse-battery-3');
    const context = await suite.newContext();
    const page = await suite.newPage(context);
    await signInThroughUi(suite, page, 'carol@example.com', 'correct-horse-battery-3');
    assert.equal(await homeUserId(page), user.id);
    const sessionId = await page.evaluate(() => window.Clerk.session?.id);

    // Leave the clerk-js page (its poller would write __session again), then drop __session only.
    await page.goto('about:blank');
    await context.clearCookies({ name: /^__session/ });
    const before = await cookieJar(context, app.origin);
    assert.ok(!before.has('__session'), '__session removed');
    assert.ok(before.has('__client'), `__client kept (have: ${[...before.keys()].join(', ')})`);
    assert.ok(before.has('__client_uat') && before.get('__client_uat').value !== '0', '__client_uat kept, non-zero');

    const final = await page.goto(app.url('/protected'));

    // Reconstruct the redirect chain.
    const chain = [];
    for (let req = final.request(); req; req = req.redirectedFrom()) chain.unshift(req);
    const hops = [];
    for (const req of chain) {
      const res = await req.response();
      hops.push({ url: req.url(), status: res?.status(), location: res?.headers().location });
    }
    const describe = JSON.stringify(hops, null, 1);
    assert.ok(hops.length >= 3, `expected app → handshake → app, got ${describe}`);
    assert.equal(hops[0].url, app.url('/protected'));
    assert.equal(hops[0].status, 307, `the app answers 307: ${describe}`);
    const toHandshake = new URL(hops[0].location, app.origin);
    assert.equal(toHandshake.origin + toHandshake.pathname, app.url('/__clerk/v1/client/handshake'), describe);
    assert.equal(toHandshake.searchParams.get('redirect_url'), app.url('/protected'));
    assert.equal(toHandshake.searchParams.get('format'), 'nonce');
    assert.equal(toHandshake.searchParams.get('__clerk_hs_reason'), 'client-uat-but-no-session-token');
    assert.equal(hops[1].status, 307, `concierge answers the handshake with 307: ${describe}`);
    assert.equal(new URL(hops[1].location, app.origin).pathname, '/protected', `back to the app: ${describe}`);
    assert.equal(hops.at(-1).url.split('?')[0], app.url('/protected'));

    assert.equal(final.status(), 200, `final status (reason: ${await page.getByTestId('auth-reason').textContent()}) ${describe}`);
    assert.equal(await page.getByTestId('auth-status').textContent(), 'signed-in');
    assert.equal(await page.getByTestId('user-id').textContent(), user.id);
    assert.equal(await page.getByTestId('session-id').textContent(), sessionId);

    // The handshake put a fresh __session in the browser and consumed the nonce.
    const after = await cookieJar(context, app.origin);
    assert.ok(after.has('__session'), `__session restored (have: ${[...after.keys()].join(', ')})`);
    assert.ok(!after.has('__clerk_handshake_nonce') || after.get('__clerk_handshake_nonce').value === '', 'nonce cookie cleared');
  }),
);

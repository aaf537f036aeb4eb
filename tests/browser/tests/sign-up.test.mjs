// <SignUp/> with email + password and the emailed code, then the server sees the user through authenticateRequest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useSuite, signUpThroughUi, cookieJar, homeUserId, randomEmail } from '../lib/suite.mjs';

const suite = useSuite('sign-up');

test(
  'sign up with email, password and the mailed code; /protected sees the user; cookies are set',
  { timeout: 90_000 },
  suite.wrap('sign-up', async () => {
    const { app } = suite;
    const page = await suite.newPage();
    const email = randomEmail('ada');

    await signUpThroughUi(suite, page, email, 'correct-horse-battery-1');

    const userId = await homeUserId(page);
    assert.match(userId, /^user_/, 'the home page shows the new user id');
    const client = await page.evaluate(() => ({
      id: window.Clerk.user?.id,
      email: window.Clerk.user?.primaryEmailAddress?.emailAddress,
      sessionId: window.Clerk.session?.id,
    }));
    assert.equal(client.id, userId);
    assert.equal(client.email, email);
    assert.match(client.sessionId ?? '', /^sess_/);

    const jar = await cookieJar(page.context(), app.origin);
    assert.ok(jar.has('__session'), `__session cookie (have: ${[...jar.keys()].join(', ')})`);
    assert.ok(jar.has('__client_uat'), `__client_uat cookie (have: ${[...jar.keys()].join(', ')})`);
    assert.notEqual(jar.get('__client_uat').value, '0', '__client_uat is non-zero when signed in');
    assert.ok(jar.has('__client'), `__client cookie (have: ${[...jar.keys()].join(', ')})`);
    assert.equal(jar.get('__client').httpOnly, true, '__client is HttpOnly');
    assert.equal(jar.get('__session').httpOnly, false, '__session stays writable by clerk-js');

    const res = await page.goto(app.url('/protected'));
    assert.equal(res.status(), 200, `/protected status (reason: ${await page.getByTestId('auth-reason').textContent()})`);
    assert.equal(await page.getByTestId('auth-status').textContent(), 'signed-in');
    assert.equal(await page.getByTestId('user-id').textContent(), userId);
    assert.equal(await page.getByTestId('session-id').textContent(), client.sessionId);
  }),
);

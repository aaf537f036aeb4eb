// <UserProfile/> renders the signed-in user's account page (name, email address) from /v1/client and /v1/me.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useSuite, signInThroughUi, waitForClerk, createUser } from '../lib/suite.mjs';

const suite = useSuite('user-profile');

test(
  '<UserProfile/> shows the signed-in user and their email address',
  { timeout: 60_000 },
  suite.wrap('user-profile', async () => {
    const { app, concierge } = suite;
    await createUser(concierge, 'erin@example.com', 'correct-horse-battery-5');
    const page = await suite.newPage();
    await signInThroughUi(suite, page, 'erin@example.com', 'correct-horse-battery-5');

    await page.goto(app.url('/user'));
    await waitForClerk(page);
    const profile = page.locator('.cl-userProfile-root');
    await profile.waitFor({ state: 'visible' });
    await profile.getByText('erin@example.com').first().waitFor({ state: 'visible' });
    assert.equal(await page.evaluate(() => window.Clerk.user?.primaryEmailAddress?.emailAddress), 'erin@example.com');
  }),
);

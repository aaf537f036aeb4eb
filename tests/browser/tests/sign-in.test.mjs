// <SignIn/> with email + password for a user made through the Backend API; a wrong password is refused;
// sign-out through <UserButton/> signs out this tab, the server, and another tab of the same browser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  useSuite, waitForClerk, continueButton, reachPasswordStep, cardError, cookieJar, homeUserId, createUser,
} from '../lib/suite.mjs';

const suite = useSuite('sign-in');
const EMAIL = 'bob@example.com';
const PASSWORD = 'correct-horse-battery-2';

test(
  'sign in with email + password (a wrong one first), then sign out through <UserButton/> in every tab',
  { timeout: 120_000 },
  suite.wrap('sign-in', async () => {
    const { app, concierge } = suite;
    const user = await createUser(concierge, EMAIL, PASSWORD);
    assert.match(user.id, /^user_/);

    const context = await suite.newContext();
    const page = await suite.newPage(context);
    await page.goto(app.url('/sign-in'));
    await waitForClerk(page);
    await page.locator('input[name=identifier]').fill(EMAIL);
    await continueButton(page).click();
    await reachPasswordStep(page);

    // A wrong password: an error under the password field, still on the password step, still signed out.
    await page.locator('input[name=password]:visible').fill('wrong-horse-battery-0');
    await continueButton(page).click();
    const passwordError = page.locator('#error-password');
    await passwordError.waitFor({ state: 'visible' }).catch(async (err) => {
      throw new Error(`no error under the password field after a wrong password: ${await cardError(page)} (${err.message.split('\n')[0]})`);
    });
    assert.ok((await passwordError.textContent()).trim().length > 0, 'the password error has a message');
    assert.match(page.url(), /\/sign-in\/factor-one/, 'still on the password step');
    assert.equal(await page.evaluate(() => window.Clerk.user), null, 'still signed out');

    // The right password.
    await page.locator('input[name=password]:visible').fill(PASSWORD);
    await continueButton(page).click();
    // The wrong-password error stays on screen until the next submit resolves, so wait on the URL only.
    await page.waitForURL((u) => u.pathname === '/', { timeout: 15_000 }).catch(async (err) => {
      throw new Error(`sign-in did not land on / (at ${page.url()}): ${await cardError(page)} ${err.message.split('\n')[0]}`);
    });
    await waitForClerk(page);
    assert.equal(await homeUserId(page), user.id, 'the home page shows the user id');
    assert.equal(await page.evaluate(() => window.Clerk.user?.primaryEmailAddress?.emailAddress), EMAIL);

    let res = await page.goto(app.url('/protected'));
    assert.equal(res.status(), 200, `/protected when signed in (reason: ${await page.getByTestId('auth-reason').textContent()})`);
    assert.equal(await page.getByTestId('user-id').textContent(), user.id);

    // A second tab of the same browser, signed in too.
    await page.goto(app.url('/'));
    await waitForClerk(page);
    const other = await suite.newPage(context);
    await other.goto(app.url('/'));
    await waitForClerk(other);
    assert.equal(await homeUserId(other), user.id, 'the second tab is signed in');
    await page.bringToFront();

    // Sign out through <UserButton/>.
    await page.locator('.cl-userButtonTrigger').click();
    const signOut = page.getByRole('menuitem', { name: 'Sign out' }).or(page.locator('.cl-userButtonPopoverActionButton__signOut'));
    await signOut.first().click();
    await page.waitForFunction(() => window.Clerk?.loaded && window.Clerk.user === null, null, { timeout: 15_000 });
    await page.getByTestId('user-id').filter({ hasText: 'signed-out' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/', 'afterSignOutUrl');
    const jar = await cookieJar(context, app.origin);
    assert.equal(jar.get('__client_uat')?.value ?? '0', '0', '__client_uat is 0 after sign-out');

    // The other tab follows.
    await other.waitForFunction(() => window.Clerk?.user === null, null, { timeout: 20_000 }).catch((err) => {
      throw new Error(`the second tab is still signed in after sign-out in the first: ${err.message.split('\n')[0]}`);
    });
    await other.getByTestId('user-id').filter({ hasText: 'signed-out' }).waitFor();

    // The server agrees.
    res = await page.goto(app.url('/protected'));
    assert.equal(res.status(), 401, '/protected after sign-out');
    assert.equal(await page.getByTestId('auth-status').textContent(), 'signed-out');
    assert.equal(await page.getByTestId('user-id').textContent(), '');
  }),
);

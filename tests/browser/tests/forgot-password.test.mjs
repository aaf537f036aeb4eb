// "Forgot password?" on <SignIn/>: reset by a code mailed to the address, set a new password (keeping the default
// "Sign out of all other devices"), land signed in; after signing out, the old password is refused and the new one works.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  useSuite, waitForClerk, continueButton, reachPasswordStep, enterCode, advanceTo, cardError, homeUserId, createUser,
  fapiCalls, signOutThroughUserButton,
} from '../lib/suite.mjs';

const suite = useSuite('forgot-password');
const EMAIL = 'dave@example.com';
const OLD_PASSWORD = 'correct-horse-battery-4';
const NEW_PASSWORD = 'staple-battery-horse-44';

test(
  'reset a forgotten password with a mailed code through <SignIn/>, then sign in with the new password only',
  { timeout: 60_000 },
  suite.wrap('forgot-password', async () => {
    const { app, concierge } = suite;
    const user = await createUser(concierge, EMAIL, OLD_PASSWORD);
    const signInCalls = () => fapiCalls(app, /^\/v1\/client\/sign_ins/);
    // A session on "another device" (made through the Backend API), which the reset should sign out.
    const other = await concierge.bapi('POST', '/v1/sessions', { user_id: user.id });
    assert.equal(other.status, 200, `POST /v1/sessions: ${other.text}`);
    assert.equal(other.json.status, 'active');

    const page = await suite.newPage();
    await page.goto(app.url('/sign-in'));
    await waitForClerk(page);
    await page.locator('input[name=identifier]').fill(EMAIL);
    await continueButton(page).click();
    await reachPasswordStep(page);

    // "Forgot password?" (the password field's action link) → "Reset your password".
    await page.getByRole('link', { name: 'Forgot password?' }).click();
    const resetMethod = page.getByRole('button', { name: 'Reset your password' });
    await resetMethod.waitFor({ state: 'visible' }).catch(async (err) => {
      throw new Error(`"Forgot password?" offers no "Reset your password" (at ${page.url()}): ${await cardError(page)}\n` +
        `supported_first_factors: ${JSON.stringify(await page.evaluate(() => window.Clerk.client?.signIn?.supportedFirstFactors))}\n` +
        `${err.message.split('\n')[0]}`);
    });
    await resetMethod.click();

    // The reset code card: the UI prepares reset_password_email_code, the code arrives by mail.
    const codeField = page.getByRole('textbox', { name: 'Enter verification code' });
    await codeField.waitFor({ state: 'visible' }).catch(async (err) => {
      throw new Error(`no code field after "Reset your password" (at ${page.url()}): ${await cardError(page)}\nFAPI: ${signInCalls()}\n` +
        `${err.message.split('\n')[0]}`);
    });
    const code = await concierge.waitForCode(EMAIL, 10_000).catch((err) => {
      throw new Error(`${err.message}\nFAPI: ${signInCalls()}`);
    });
    const prepare = app.fapiLog.find((e) => /\/prepare_first_factor/.test(e.path));
    assert.ok(prepare, 'the UI prepared the first factor');
    assert.match(prepare.requestBody, /strategy=reset_password_email_code/, `prepare_first_factor body: ${prepare.requestBody}`);
    await enterCode(page, code);
    await advanceTo(page, /^\/sign-in\/reset-password$/, 'the reset code did not lead to "Set new password"');

    // "Set new password": new password twice; "Sign out of all other devices" stays at its default (checked).
    await page.getByRole('heading', { name: 'Set new password' }).waitFor({ state: 'visible' });
    const signOutOthers = page.locator('input[name=signOutOfOtherSessions]');
    assert.equal(await signOutOthers.isChecked(), true, '"Sign out of all other devices" is checked by default');
    await page.locator('input[name=password]:visible').fill(NEW_PASSWORD);
    await page.locator('input[name=confirmPassword]:visible').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Reset Password' }).click();
    await advanceTo(page, /^\/$/, 'the new password did not sign in (no landing on /)');
    await waitForClerk(page);
    assert.equal(await homeUserId(page), user.id, 'signed in as the user after the reset');
    const reset = app.fapiLog.find((e) => /\/reset_password$/.test(e.path.split('?')[0]));
    assert.ok(reset, `the UI called reset_password; FAPI: ${signInCalls()}`);
    assert.match(reset.requestBody, /sign_out_of_other_sessions=true/, `reset_password body: ${reset.requestBody}`);
    const sessionId = await page.evaluate(() => window.Clerk.session?.id);
    const otherAfter = await concierge.bapi('GET', `/v1/sessions/${other.json.id}`);
    assert.equal(otherAfter.status, 200, `GET /v1/sessions/${other.json.id}: ${otherAfter.text}`);
    assert.notEqual(otherAfter.json.status, 'active', 'the session on the other device is signed out by the reset');
    const mine = await concierge.bapi('GET', `/v1/sessions/${sessionId}`);
    assert.equal(mine.json?.status, 'active', `the session the reset created is active: ${mine.text.slice(0, 300)}`);
    let res = await page.goto(app.url('/protected'));
    assert.equal(res.status(), 200, `/protected after the reset (reason: ${await page.getByTestId('auth-reason').textContent()})`);
    assert.equal(await page.getByTestId('user-id').textContent(), user.id);

    // Sign out, then sign in again: the old password is refused, the new one works.
    await signOutThroughUserButton(suite, page);
    await page.goto(app.url('/sign-in'));
    await waitForClerk(page);
    await page.locator('input[name=identifier]').fill(EMAIL);
    await continueButton(page).click();
    await reachPasswordStep(page);
    await page.locator('input[name=password]:visible').fill(OLD_PASSWORD);
    await continueButton(page).click();
    const passwordError = page.locator('#error-password');
    await passwordError.waitFor({ state: 'visible' }).catch(async (err) => {
      throw new Error(`the old password was not refused (at ${page.url()}): ${await cardError(page)}\nFAPI: ${signInCalls()}\n` +
        `${err.message.split('\n')[0]}`);
    });
    assert.equal(await page.evaluate(() => window.Clerk.user), null, 'still signed out after the old password');

    await page.locator('input[name=password]:visible').fill(NEW_PASSWORD);
    await continueButton(page).click();
    // The old-password error stays on screen until the next submit resolves, so wait on the URL only.
    await page.waitForURL((u) => u.pathname === '/', { timeout: 15_000 }).catch(async (err) => {
      throw new Error(`the new password did not sign in (at ${page.url()}): ${await cardError(page)}\nFAPI: ${signInCalls()}\n` +
        `${err.message.split('\n')[0]}`);
    });
    await waitForClerk(page);
    assert.equal(await homeUserId(page), user.id, 'signed in with the new password');
    res = await page.goto(app.url('/protected'));
    assert.equal(res.status(), 200, `/protected after signing in with the new password (reason: ${await page.getByTestId('auth-reason').textContent()})`);
    assert.equal(await page.getByTestId('user-id').textContent(), user.id);
  }),
);

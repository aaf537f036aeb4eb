// <SignIn/> with an email code instead of the password, for a user made through the Backend API: identifier,
// "Use another method", "Email code to …", a wrong code is refused, the mailed code signs in; the server agrees.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  useSuite, waitForClerk, continueButton, reachPasswordStep, enterCode, advanceTo, cardError, homeUserId, createUser,
  fapiCalls, otherCode,
} from '../lib/suite.mjs';

const suite = useSuite('sign-in-email-code');
const EMAIL = 'carol@example.com';
const PASSWORD = 'correct-horse-battery-3';

test(
  'sign in through <SignIn/> with a code mailed to the email address',
  { timeout: 60_000 },
  suite.wrap('sign-in-email-code', async () => {
    const { app, concierge } = suite;
    const user = await createUser(concierge, EMAIL, PASSWORD);

    const page = await suite.newPage();
    await page.goto(app.url('/sign-in'));
    await waitForClerk(page);
    await page.locator('input[name=identifier]').fill(EMAIL);
    await continueButton(page).click();
    // The password is the preferred first factor; the email code is one of the other methods.
    await reachPasswordStep(page);
    await page.getByRole('link', { name: 'Use another method' }).click();
    const emailCodeMethod = page.getByRole('button', { name: /^Email code to / });
    await emailCodeMethod.waitFor({ state: 'visible' }).catch(async (err) => {
      throw new Error(`"Use another method" offers no email code method: ${await cardError(page)}\n` +
        `supported_first_factors: ${JSON.stringify(await page.evaluate(() => window.Clerk.client?.signIn?.supportedFirstFactors))}\n` +
        `${err.message.split('\n')[0]}`);
    });
    // The button names the address masked (safe_identifier), e.g. "c***@example.com".
    assert.match(await emailCodeMethod.textContent(), /@example\.com/, 'the method names the (masked) address');
    await emailCodeMethod.click();

    const codeField = page.getByRole('textbox', { name: 'Enter verification code' });
    await codeField.waitFor({ state: 'visible' }).catch(async (err) => {
      throw new Error(`no code field after choosing the email code (at ${page.url()}): ${await cardError(page)}\n` +
        `FAPI: ${fapiCalls(app, /^\/v1\/client\/sign_ins/)}\n${err.message.split('\n')[0]}`);
    });
    const code = await concierge.waitForCode(EMAIL, 10_000).catch((err) => {
      throw new Error(`${err.message}\nFAPI: ${fapiCalls(app, /^\/v1\/client\/sign_ins/)}`);
    });
    const prepare = app.fapiLog.find((e) => /\/prepare_first_factor/.test(e.path));
    assert.ok(prepare, 'the UI prepared the first factor');
    assert.match(prepare.requestBody, /strategy=email_code/, `prepare_first_factor body: ${prepare.requestBody}`);
    assert.equal(prepare.status, 200, `prepare_first_factor: ${prepare.responseBody.slice(0, 500)}`);

    // A wrong code: an error under the code field (the UI gives it the id "error-undefined"), still signed out.
    await enterCode(page, otherCode(code));
    const codeError = page.locator('.cl-otpCodeFieldErrorText');
    await codeError.waitFor({ state: 'visible' }).catch(async (err) => {
      throw new Error(`no error under the code field after a wrong code: ${await cardError(page)}\n` +
        `FAPI: ${fapiCalls(app, /attempt_first_factor/)}\n${err.message.split('\n')[0]}`);
    });
    assert.match(await codeError.textContent(), /incorrect/i, 'the code error says the code is incorrect');
    assert.equal(await page.evaluate(() => window.Clerk.user), null, 'still signed out after a wrong code');
    // The field is cleared ~750 ms after the rejection; then the right code.
    await page.waitForFunction(() => document.querySelector('input[autocomplete="one-time-code"]')?.value === '');
    await enterCode(page, code);
    await advanceTo(page, /^\/$/, 'the mailed code did not sign in (no landing on /)');
    await waitForClerk(page);
    assert.equal(await homeUserId(page), user.id, 'the home page shows the user id');
    assert.equal(await page.evaluate(() => window.Clerk.user?.primaryEmailAddress?.emailAddress), EMAIL);

    const res = await page.goto(app.url('/protected'));
    assert.equal(res.status(), 200, `/protected when signed in (reason: ${await page.getByTestId('auth-reason').textContent()})`);
    assert.equal(await page.getByTestId('user-id').textContent(), user.id);
  }),
);

// <UserProfile/> actions a signed-in user takes, each checked in clerk-js and through the Backend API:
// update the first and last name; add a second email address, verify it with the mailed code and make it primary;
// change the password in the Security section; upload a profile image (served from the app origin through the proxy).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  useSuite, signInThroughUi, waitForClerk, createUser, enterCode, cardError, fapiCalls, eventually, pngBuffer,
} from '../lib/suite.mjs';

const suite = useSuite('user-profile-actions');
const PASSWORD = 'correct-horse-battery-6';

/** Creates a user, signs in through <SignIn/> and opens <UserProfile/> on /user. Returns { user, page, profile }. */
async function openProfile(email) {
  const { app, concierge } = suite;
  const user = await createUser(concierge, email, PASSWORD);
  const page = await suite.newPage();
  await signInThroughUi(suite, page, email, PASSWORD);
  await page.goto(app.url('/user'));
  await waitForClerk(page);
  const profile = page.locator('.cl-userProfile-root');
  await profile.getByRole('heading', { name: 'Profile details' }).waitFor({ state: 'visible' });
  return { user, page, profile };
}

/** The Backend API's view of the user. */
async function bapiUser(userId) {
  const res = await suite.concierge.bapi('GET', `/v1/users/${userId}`);
  assert.equal(res.status, 200, `GET /v1/users/${userId}: ${res.text}`);
  return res.json;
}

/** The `/v1/me…` calls the UI made, for failure messages. */
const meCalls = () => fapiCalls(suite.app, /^\/v1\/me/);

/** Waits for `fn` (evaluated in the page) to return truthy; `what` names the expectation for the failure message. */
async function pageCondition(page, fn, arg, what, timeout = 10_000) {
  await page.waitForFunction(fn, arg, { timeout }).catch(async (err) => {
    throw new Error(`${what}: ${await cardError(page)}\nFAPI /v1/me: ${meCalls()}\n${err.message.split('\n')[0]}`);
  });
}

test(
  '"Update profile": first and last name',
  { timeout: 45_000 },
  suite.wrap('update names', async () => {
    const { user, page, profile } = await openProfile('fran@example.com');

    await profile.getByRole('button', { name: 'Update profile' }).click();
    const form = profile.locator('form').filter({ has: page.locator('input[name=firstName]') });
    await form.locator('input[name=firstName]').fill('Ada');
    await form.locator('input[name=lastName]').fill('Lovelace');
    await form.getByRole('button', { name: 'Save' }).click();
    await pageCondition(page, () => window.Clerk.user?.firstName === 'Ada' && window.Clerk.user?.lastName === 'Lovelace', null,
      'Clerk.user does not have the new names after "Save"');
    // The form closes and the profile section shows the new full name.
    await form.waitFor({ state: 'detached' });
    await profile.getByText('Ada Lovelace').first().waitFor({ state: 'visible' });
    assert.equal(await page.evaluate(() => window.Clerk.user.fullName), 'Ada Lovelace');

    const stored = await bapiUser(user.id);
    assert.equal(stored.first_name, 'Ada', 'Backend API first_name');
    assert.equal(stored.last_name, 'Lovelace', 'Backend API last_name');

    // A reload reads the names back from the server.
    await page.reload();
    await waitForClerk(page);
    assert.equal(await page.evaluate(() => window.Clerk.user?.firstName), 'Ada', 'firstName after a reload');
  }),
);

test(
  '"Add email address": a second address, verified with the mailed code, then "Set as primary"',
  { timeout: 45_000 },
  suite.wrap('second email', async () => {
    const { concierge } = suite;
    const first = 'gina@example.com';
    const second = 'gina.work@example.com';
    const { user, page, profile } = await openProfile(first);

    await profile.getByRole('button', { name: 'Add email address' }).click();
    const emailField = profile.getByRole('textbox', { name: 'Email address' });
    await emailField.fill(second);
    await profile.getByRole('button', { name: 'Add', exact: true }).click();

    // The verify step: the UI prepares an email_code verification; the code arrives at the new address.
    await profile.getByRole('heading', { name: 'Verify email address' }).or(profile.getByText(`Enter the verification code sent to ${second}`))
      .first().waitFor({ state: 'visible' }).catch(async (err) => {
        throw new Error(`no verification step after "Add": ${await cardError(page)}\nFAPI /v1/me: ${meCalls()}\n${err.message.split('\n')[0]}`);
      });
    const code = await concierge.waitForCode(second, 10_000).catch((err) => {
      throw new Error(`${err.message}\nFAPI /v1/me: ${meCalls()}`);
    });
    await enterCode(page, code);
    await pageCondition(
      page,
      (email) => window.Clerk.user?.emailAddresses.some((e) => e.emailAddress === email && e.verification?.status === 'verified'),
      second,
      `Clerk.user does not list ${second} as verified after the code`,
    );
    const row = profile.locator('.cl-profileSectionItem__emailAddresses').filter({ hasText: second });
    await row.waitFor({ state: 'visible' });
    await row.getByText('Unverified').waitFor({ state: 'detached' });

    let stored = await bapiUser(user.id);
    const added = stored.email_addresses.find((e) => e.email_address === second);
    assert.ok(added, `the Backend API lists ${second}: ${JSON.stringify(stored.email_addresses)}`);
    assert.equal(added.verification?.status, 'verified', 'the Backend API has the new address verified');
    assert.notEqual(stored.primary_email_address_id, added.id, 'the new address is not primary yet');

    // "Set as primary" from the row's menu.
    await row.getByRole('button', { name: 'Open menu' }).click();
    const setPrimary = page.getByRole('menuitem', { name: 'Set as primary' });
    await setPrimary.waitFor({ state: 'visible' }).catch(async (err) => {
      throw new Error(`the menu of ${second} offers no "Set as primary": ${await cardError(page)} ${err.message.split('\n')[0]}`);
    });
    await setPrimary.click();
    await pageCondition(page, (email) => window.Clerk.user?.primaryEmailAddress?.emailAddress === email, second,
      `Clerk.user.primaryEmailAddress is not ${second} after "Set as primary"`);
    await row.getByText('Primary').waitFor({ state: 'visible' });
    stored = await bapiUser(user.id);
    assert.equal(stored.primary_email_address_id, added.id, 'the Backend API has the new address as primary');
  }),
);

test(
  'Security → "Update password": current and new password',
  { timeout: 45_000 },
  suite.wrap('change password', async () => {
    const { concierge } = suite;
    const NEW_PASSWORD = 'tr0ubadour-battery-66';
    const { user, page, profile } = await openProfile('hugo@example.com');

    await profile.getByRole('button', { name: 'Security', exact: true }).click();
    await page.waitForURL((u) => u.pathname === '/user/security');
    await profile.getByRole('button', { name: 'Update password' }).click();
    await profile.locator('input[name=currentPassword]').fill(PASSWORD);
    await profile.locator('input[name=newPassword]').fill(NEW_PASSWORD);
    await profile.locator('input[name=confirmPassword]').fill(NEW_PASSWORD);
    // "Sign out of all other devices" stays at its default (checked).
    assert.equal(await profile.locator('input[name=signOutOfOtherSessions]').isChecked(), true);
    await profile.getByRole('button', { name: 'Save' }).click();
    // Success closes the form.
    await profile.locator('input[name=newPassword]').waitFor({ state: 'detached' }).catch(async (err) => {
      throw new Error(`the password form did not close after "Save": ${await cardError(page)}\nFAPI /v1/me: ${meCalls()}\n` +
        `${err.message.split('\n')[0]}`);
    });
    const change = suite.app.fapiLog.find((e) => e.path.startsWith('/v1/me/change_password'));
    assert.ok(change, `the UI called /v1/me/change_password; FAPI /v1/me: ${meCalls()}`);
    assert.equal(change.status, 200);
    assert.equal(await page.evaluate(() => window.Clerk.user?.id), user.id, 'still signed in after the change');

    let res = await concierge.bapi('POST', `/v1/users/${user.id}/verify_password`, { password: NEW_PASSWORD });
    assert.equal(res.status, 200, `verify_password with the new password: ${res.text}`);
    assert.equal(res.json.verified, true, 'the new password verifies');
    res = await concierge.bapi('POST', `/v1/users/${user.id}/verify_password`, { password: PASSWORD });
    assert.ok(res.status !== 200 || res.json?.verified !== true, `the old password no longer verifies: ${res.status} ${res.text}`);
  }),
);

test(
  '"Update profile" → "Upload": a PNG profile image, served from the app origin through the proxy; then "Remove"',
  { timeout: 45_000 },
  suite.wrap('profile image', async () => {
    const { app } = suite;
    const { user, page, profile } = await openProfile('iris@example.com');
    assert.equal(await page.evaluate(() => window.Clerk.user.hasImage), false, 'no image yet');

    await profile.getByRole('button', { name: 'Update profile' }).click();
    await profile.getByRole('button', { name: 'Upload' }).waitFor({ state: 'visible' });
    // The "Upload" button opens this hidden file input; a user picks the file in the OS dialog.
    await profile.locator('input[type=file]').setInputFiles({ name: 'avatar.png', mimeType: 'image/png', buffer: pngBuffer(64, 64) });
    await pageCondition(page, () => window.Clerk.user?.hasImage === true, null, 'Clerk.user.hasImage is not true after the upload');

    const imageUrl = await page.evaluate(() => window.Clerk.user.imageUrl);
    assert.ok(imageUrl.startsWith(`${app.origin}/__clerk/v1/images/`),
      `Clerk.user.imageUrl is served from the app origin through the proxy (got ${imageUrl.slice(0, 200)})`);
    const stored = await bapiUser(user.id);
    assert.equal(stored.has_image, true, 'Backend API has_image');

    // The avatar in the profile section loads the uploaded image.
    const avatar = profile.locator('img.cl-avatarImage').first();
    await eventually(async () => (await avatar.getAttribute('src')) === imageUrl, 10_000);
    assert.equal(await avatar.getAttribute('src'), imageUrl, 'the avatar shows Clerk.user.imageUrl');
    const loaded = await avatar.evaluate(async (img) => {
      if (!img.complete) await new Promise((ok) => { img.addEventListener('load', ok, { once: true }); img.addEventListener('error', ok, { once: true }); });
      return { naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight, currentSrc: img.currentSrc };
    });
    assert.ok(loaded.naturalWidth > 0, `the avatar <img> loaded (naturalWidth ${loaded.naturalWidth}, src ${loaded.currentSrc})`);
    assert.ok(page.__requests.some((r) => r.url === imageUrl), 'the browser fetched the image from the app origin');

    // "Remove" takes the image away again.
    await profile.getByRole('button', { name: 'Update profile' }).click();
    await profile.getByRole('button', { name: 'Remove', exact: true }).click();
    await pageCondition(page, () => window.Clerk.user?.hasImage === false, null, 'Clerk.user.hasImage is still true after "Remove"');
    assert.equal((await bapiUser(user.id)).has_image, false, 'Backend API has_image after "Remove"');
  }),
);

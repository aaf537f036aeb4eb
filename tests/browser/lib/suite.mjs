// One test file = one suite: one concierge, one app, one Chromium. Pages opened through the suite
// record their console, page errors and requests; a failing test leaves screenshots and logs in artifacts/.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import zlib from 'node:zlib';
import { chromium } from 'playwright-core';
import { startConcierge, ARTIFACTS, decodePart } from './concierge.mjs';
import { startApp } from './app.mjs';

export { decodePart };

const slug = (s) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60);

/**
 * Registers before/after hooks for the calling test file and returns the suite object
 * (its fields are filled in by the `before` hook). `options.config` is a TOML configuration for the server.
 */
export function useSuite(name, options = {}) {
  const suite = {
    name,
    concierge: null,
    app: null,
    browser: null,
    pages: [],
    contexts: [],

    /** A fresh browser context (own cookie jar). */
    async newContext() {
      const context = await suite.browser.newContext();
      context.setDefaultTimeout(15_000);
      context.setDefaultNavigationTimeout(20_000);
      suite.contexts.push(context);
      context.on('page', (p) => suite.track(p));
      return context;
    },

    /** A page whose console, errors and requests are recorded. */
    async newPage(context) {
      const ctx = context ?? (await suite.newContext());
      const page = await ctx.newPage();
      if (!page.__tracked) suite.track(page);
      return page;
    },

    track(page) {
      if (page.__tracked) return;
      page.__tracked = true;
      page.__console = [];
      page.__requests = [];
      const stamp = () => new Date().toISOString();
      page.on('console', (m) => page.__console.push(`${stamp()} [${m.type()}] ${m.text()}`));
      page.on('pageerror', (e) => page.__console.push(`${stamp()} [pageerror] ${e.stack ?? e.message}`));
      page.on('request', (r) => page.__requests.push({ method: r.method(), url: r.url() }));
      page.on('requestfailed', (r) => page.__console.push(`${stamp()} [requestfailed] ${r.method()} ${r.url()} ${r.failure()?.errorText}`));
      page.on('response', (r) => {
        if (r.status() >= 400) page.__console.push(`${stamp()} [http ${r.status()}] ${r.request().method()} ${r.url()}`);
      });
      // A screenshot of every page load: each step of a flow (the components route by full page loads).
      page.on('load', () => suite.step(page, 'load'));
      suite.pages.push(page);
    },

    /** Writes a screenshot of `page` to artifacts/steps/ (best effort; never fails a test). */
    step(page, what) {
      suite.steps = (suite.steps ?? 0) + 1;
      let path = 'page';
      try {
        path = new URL(page.url()).pathname;
      } catch {}
      const dir = join(ARTIFACTS, 'steps');
      mkdirSync(dir, { recursive: true });
      const file = join(dir, `${name}-${String(suite.steps).padStart(3, '0')}-${slug(`${what}-${path}`)}.png`);
      return page.screenshot({ path: file, timeout: 5_000 }).catch(() => {});
    },

    /** Screenshots every open page and writes the console log of every page seen. */
    async capture(tag) {
      mkdirSync(ARTIFACTS, { recursive: true });
      const base = `${name}-${slug(tag)}`;
      const logs = [];
      let i = 0;
      for (const page of suite.pages) {
        i += 1;
        let url = '(closed)';
        if (!page.isClosed()) {
          url = page.url();
          try {
            await page.screenshot({ path: join(ARTIFACTS, `${base}-page${i}.png`), fullPage: true, timeout: 5_000 });
          } catch (err) {
            logs.push(`(screenshot of page ${i} failed: ${err.message})`);
          }
          try {
            const html = await page.content();
            writeFileSync(join(ARTIFACTS, `${base}-page${i}.html`), html);
          } catch {}
        }
        logs.push(`=== page ${i}: ${url}`, ...page.__console, '--- requests', ...page.__requests.map((r) => `${r.method} ${r.url}`));
      }
      writeFileSync(join(ARTIFACTS, `${base}-console.log`), `${logs.join('\n')}\n`);
    },

    /** Wraps a test body: on failure, capture artifacts, then rethrow. Closes the contexts it opened. */
    wrap(title, fn) {
      return async (t) => {
        const firstContext = suite.contexts.length;
        const firstPage = suite.pages.length;
        try {
          await fn(t);
          for (const page of suite.pages.slice(firstPage)) {
            if (!page.isClosed()) await suite.step(page, `${title}-end`);
          }
        } catch (err) {
          suite.app?.log(`TEST FAILED: ${title}: ${err.message.split('\n')[0]}`);
          await suite.capture(title).catch(() => {});
          throw err;
        } finally {
          for (const context of suite.contexts.splice(firstContext)) await context.close().catch(() => {});
          suite.pages.splice(firstPage);
        }
      };
    },
  };

  before(async () => {
    suite.concierge = await startConcierge(name, options);
    mkdirSync(ARTIFACTS, { recursive: true });
    suite.app = await startApp({ concierge: suite.concierge, logPath: join(ARTIFACTS, `fapi-${name}.log`) });
    suite.browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      headless: true,
      // Debian's Chromium, never a downloaded browser; nothing contacts Google's services.
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });

  after(async () => {
    await suite.browser?.close().catch(() => {});
    await suite.app?.close().catch(() => {});
    await suite.concierge?.stop();
  });

  return suite;
}

// ---- helpers shared by the test files --------------------------------------------------------

/** Waits until the page's `Clerk.load()` settled; throws with the page's error if it failed. */
export async function waitForClerk(page, timeout = 20_000) {
  const status = page.getByTestId('clerk-status');
  await status.filter({ hasNotText: 'loading' }).waitFor({ timeout }).catch(async (err) => {
    const diag = await page.evaluate(() => ({
      Clerk: typeof window.Clerk,
      ClerkUI: typeof window.__internal_ClerkUICtor,
      status: window.Clerk?.status,
    })).catch(() => ({}));
    throw new Error(`Clerk.load() did not settle in ${timeout} ms on ${page.url()}: ${JSON.stringify(diag)} (${err.message.split('\n')[0]})`);
  });
  const text = await status.textContent();
  if (text !== 'loaded') {
    const stack = await page.evaluate(() => window.__clerkLoadError).catch(() => '');
    throw new Error(`Clerk.load() failed on ${page.url()}: ${text}\n${stack}`);
  }
}

/** The `Continue` submit button of a Clerk form (not "Continue with …"). */
export function continueButton(page) {
  return page.getByRole('button', { name: 'Continue', exact: true });
}

/** Types a one-time code into the UI's code field (a single input-otp input behind six visual slots). */
export async function enterCode(page, code) {
  const input = page.locator('input[autocomplete="one-time-code"], input[aria-label="Enter verification code"], input[name=code]').first();
  await input.waitFor({ state: 'attached' });
  await input.focus();
  await page.keyboard.type(code, { delay: 30 });
}

/** Cookies of the app origin, by name. */
export async function cookieJar(context, origin) {
  const map = new Map();
  for (const c of await context.cookies(origin)) map.set(c.name, c);
  return map;
}

/** Reads the signed-in user id shown on the home page (waits for clerk to render it). */
export async function homeUserId(page) {
  const el = page.getByTestId('user-id');
  await el.filter({ hasNotText: 'unknown' }).waitFor();
  return el.textContent();
}

/**
 * Waits until the page's path matches `pathPattern`, failing early (with the UI's message) when the Clerk card
 * shows an error instead. `what` names the step for the failure message.
 */
export async function advanceTo(page, pathPattern, what, timeout = 15_000) {
  const deadline = Date.now() + timeout;
  let errorSince = 0;
  while (Date.now() < deadline) {
    if (!page.isClosed() && pathPattern.test(new URL(page.url()).pathname)) return;
    const error = await visibleCardError(page);
    // An error that stays up for a second is the outcome, not a transient state.
    if (error && !errorSince) errorSince = Date.now();
    if (!error) errorSince = 0;
    if (error && Date.now() - errorSince > 1_000) throw new Error(`${what}: the UI shows an error instead (at ${page.url()}): ${error}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what}: still at ${page.url()} after ${timeout} ms; ${(await visibleCardError(page)) || '(no error shown in the UI)'}`);
}

/** Signs up through <SignUp/> with email + password and the emailed code; ends on `/` signed in. */
export async function signUpThroughUi(suite, page, email, password) {
  const { app, concierge } = suite;
  await page.goto(app.url('/sign-up'));
  await waitForClerk(page);
  await page.locator('input[name=emailAddress]').fill(email);
  await page.locator('input[name=password]:visible').fill(password);
  await continueButton(page).click();
  await advanceTo(page, /^\/sign-up\/verify-email-address/, 'sign-up did not reach the email verification step');
  const code = await concierge.waitForCode(email, 10_000).catch((err) => {
    const calls = app.fapiLog.filter((e) => e.path.startsWith('/v1/client/sign_ups')).map((e) => `${e.method} ${e.path.split('?')[0]} -> ${e.status}`);
    throw new Error(`${err.message}\nsign-up calls the UI made: ${calls.join('; ') || 'none'}` +
      (calls.some((c) => c.includes('prepare_verification')) ? '' : ' (the UI never asked to prepare the email verification)'));
  });
  await enterCode(page, code);
  await advanceTo(page, /^\/$/, 'sign-up did not land on / after the code');
  await waitForClerk(page);
}

/** Signs in through <SignIn/>: identifier, Continue, password, Continue; ends on `/` signed in. */
export async function signInThroughUi(suite, page, email, password) {
  const { app } = suite;
  await page.goto(app.url('/sign-in'));
  await waitForClerk(page);
  await page.locator('input[name=identifier]').fill(email);
  await continueButton(page).click();
  await reachPasswordStep(page);
  await page.locator('input[name=password]:visible').fill(password);
  await continueButton(page).click();
  await advanceTo(page, /^\/$/, 'sign-in did not land on /');
  await waitForClerk(page);
}

/** After the identifier step: the factor-one page with a visible password field. */
export async function reachPasswordStep(page) {
  await advanceTo(page, /^\/sign-in\/factor-one/, 'sign-in did not reach the first-factor step');
  await page.locator('input[name=password]:visible').waitFor().catch(async (err) => {
    throw new Error(`the first-factor step shows no password field (at ${page.url()}): ${await cardError(page)} ${err.message.split('\n')[0]}`);
  });
}

/** The visible error text of the Clerk card (field errors and the card-level alert), or ''. */
export async function visibleCardError(page) {
  try {
    const texts = await page.locator('[id^="error-"]:visible, .cl-alert:visible').allTextContents();
    return texts.map((t) => t.trim()).filter(Boolean).join(' | ');
  } catch {
    return '';
  }
}

/** The text of any error the Clerk card shows, for failure messages. */
export async function cardError(page) {
  const text = await visibleCardError(page);
  return text ? `UI error: ${text}` : '(no error shown in the UI)';
}

/** Creates a user with a password through the Backend API. */
export async function createUser(concierge, email, password) {
  const res = await concierge.bapi('POST', '/v1/users', { email_address: [email], password });
  assert.equal(res.status, 200, `POST /v1/users: ${res.text}`);
  return res.json;
}

export const randomEmail = (prefix) => `${prefix}+${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}@example.com`;

/** Polls `check` (async, returns truthy when done) for up to `timeout` ms; returns its last value. */
export async function eventually(check, timeout = 10_000, interval = 250) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    last = await check();
    if (last) return last;
    await new Promise((r) => setTimeout(r, interval));
  }
  return last;
}

/** The FAPI calls the app proxied whose path matches `pattern`, one line each (status, and the body of a failure). */
export function fapiCalls(app, pattern = /^\/v1\//) {
  const lines = app.fapiLog
    .filter((e) => pattern.test(e.path))
    .map((e) => {
      const method = /[?&]_method=(\w+)/.exec(e.path)?.[1];
      return `${e.method}${method ? ` (_method=${method})` : ''} ${e.path.split('?')[0]}` +
        (e.requestBody ? ` [${e.requestBody.slice(0, 200)}]` : '') +
        ` -> ${e.status}${e.status >= 400 ? ` ${e.responseBody.slice(0, 400)}` : ''}`;
    });
  return lines.length ? `\n  ${lines.join('\n  ')}` : '(none)';
}

/**
 * Creates an organization through the Backend API (`body` as for `POST /v1/organizations`; its
 * `created_by` becomes the admin) and adds `members` (user ids) as org:member. Returns the organization.
 */
export async function createOrganization(concierge, body, members = []) {
  const res = await concierge.bapi('POST', '/v1/organizations', body);
  assert.equal(res.status, 200, `POST /v1/organizations: ${res.text}`);
  for (const userId of members) {
    const added = await concierge.bapi('POST', `/v1/organizations/${res.json.id}/memberships`, { user_id: userId, role: 'org:member' });
    assert.equal(added.status, 200, `POST /v1/organizations/${res.json.id}/memberships: ${added.text}`);
  }
  return res.json;
}

/** The accept link of the newest invitation mailed to `to` (waits for the mail), read through `concierge mailbox --json`. */
export async function mailedInvitationLink(concierge, to) {
  const messages = await eventually(async () => {
    const found = await concierge.mailbox(to);
    return found.length ? found : null;
  });
  assert.ok(messages, `an invitation was mailed to ${to}`);
  const match = /https?:\/\/\S+\/v1\/tickets\/accept\?ticket=[\w.-]+/.exec(messages[0].text ?? '');
  assert.ok(match, `an accept link in the mail: ${messages[0].text}`);
  return match[0];
}

/** Opens <OrganizationProfile/> (the app's `/org-profile`) and its Members page; returns the table's rows. */
export async function openMembersPage(suite, page) {
  await page.goto(suite.app.url('/org-profile'));
  await waitForClerk(page);
  await page.locator('.cl-organizationProfile-root').waitFor({ state: 'visible' });
  await page.getByRole('button', { name: 'Members', exact: true }).click();
  await page.waitForURL((u) => u.pathname === '/org-profile/organization-members');
  await page.getByRole('heading', { name: 'Members', exact: true }).waitFor({ state: 'visible' });
  return page.getByRole('row');
}

/**
 * On <OrganizationProfile/>'s Members page: Invite → the addresses → role → "Send invitations". Returns once the
 * form was submitted (the caller checks the outcome).
 */
export async function sendInvitations(page, emails, roleName = 'Member') {
  await page.getByRole('button', { name: 'Invite', exact: true }).click();
  const input = page.getByPlaceholder('example@email.com, example2@email.com');
  await input.click();
  // The tag input turns each address into a pill when a comma is typed (its placeholder goes away).
  for (const email of emails) await page.keyboard.type(`${email},`);
  // The form's role select shows the instance's default role, or "Select role".
  const roleSelect = page.locator('form .cl-selectButton__role');
  if (!(await roleSelect.textContent()).includes(roleName)) {
    await roleSelect.click();
    await page.getByRole('option', { name: roleName, exact: true }).click();
  }
  await page.getByRole('button', { name: 'Send invitations' }).click();
}

/** A six-digit code different from `code`. */
export const otherCode = (code) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

/** Signs out through <UserButton/> on the home page; waits until clerk-js and the page show the user signed out. */
export async function signOutThroughUserButton(suite, page) {
  if (new URL(page.url()).pathname !== '/') await page.goto(suite.app.url('/'));
  await waitForClerk(page);
  await page.locator('.cl-userButtonTrigger').click();
  const signOut = page.getByRole('menuitem', { name: 'Sign out' }).or(page.locator('.cl-userButtonPopoverActionButton__signOut'));
  await signOut.first().click();
  await page.waitForFunction(() => window.Clerk?.loaded && window.Clerk.user === null, null, { timeout: 15_000 });
  await page.getByTestId('user-id').filter({ hasText: 'signed-out' }).waitFor();
}

/** A valid `width`×`height` RGB PNG (one IDAT, zlib-deflated scanlines, correct CRCs) filled with a gradient. */
export function pngBuffer(width = 64, height = 64) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc32 = (buf) => {
    let c = 0xffffffff;
    for (const byte of buf) c = crcTable[(c ^ byte) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: RGB
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y += 1) {
    const row = y * (width * 3 + 1);
    raw[row] = 0; // filter: none
    for (let x = 0; x < width; x += 1) {
      raw[row + 1 + x * 3] = (x * 255) / (width - 1);
      raw[row + 2 + x * 3] = (y * 255) / (height - 1);
      raw[row + 3 + x * 3] = 160;
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

// clerk-js 6 and @clerk/ui 1, served by concierge, load through the app's /__clerk proxy and render <SignIn/>.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useSuite, waitForClerk } from '../lib/suite.mjs';
import { CLERK_JS_PATH, CLERK_UI_PATH } from '../lib/app.mjs';

const suite = useSuite('load');

test(
  'Clerk.load() resolves through the proxy and <SignIn/> renders, with no request leaving the app origin',
  { timeout: 60_000 },
  suite.wrap('load', async () => {
    const { app } = suite;
    const page = await suite.newPage();
    const responses = [];
    page.on('response', (r) => responses.push({ url: r.url(), status: r.status() }));

    await page.goto(app.url('/sign-in'));
    await waitForClerk(page);

    const state = await page.evaluate(() => ({
      loaded: window.Clerk.loaded,
      status: window.Clerk.status,
      user: window.Clerk.user,
      version: window.Clerk.version,
      uiVersion: window.Clerk.uiVersion,
      proxyUrl: window.Clerk.proxyUrl,
    }));
    assert.equal(state.loaded, true, `Clerk.loaded (status ${state.status})`);
    assert.equal(state.status, 'ready', 'Clerk.status is ready, not degraded');
    assert.equal(state.user, null, 'no user on a fresh browser');
    assert.match(state.version, /^6\./, 'clerk-js 6.x');
    assert.match(state.uiVersion ?? '', /^1\./, '@clerk/ui 1.x');
    assert.equal(state.proxyUrl, app.url('/__clerk'));

    await page.locator('input[name=identifier]').waitFor({ state: 'visible' });

    // Both bundles came through the proxy with 200.
    for (const path of [CLERK_JS_PATH, CLERK_UI_PATH]) {
      const hit = responses.find((r) => r.url === app.url(path));
      assert.ok(hit, `${path} was requested`);
      assert.equal(hit.status, 200, `${path} status`);
    }
    // The Frontend API was called through the proxy, and answered.
    for (const path of ['/__clerk/v1/environment', '/__clerk/v1/client']) {
      const hit = responses.find((r) => new URL(r.url).pathname === path);
      assert.ok(hit, `${path} was requested`);
      assert.equal(hit.status, 200, `${path} status`);
    }
    // Nothing else was contacted: every request (bundles, lazy chunks, FAPI, images, fonts) is same-origin.
    const foreign = page.__requests.filter((r) => !/^(data|blob):/.test(r.url) && !r.url.startsWith(`${app.origin}/`));
    assert.deepEqual(foreign, [], 'requests to hosts other than the app origin');
  }),
);

// examples/axum-dashboard (the Rust SDK's example app) in Chromium against a real concierge: sign-in through
// clerk-js loaded via the app's own /__clerk proxy, the organization's tasks (PostgreSQL, row-level security),
// switching organization by URL (organization sync → handshake with organization_id), the admin-only route
// (403 for a member) and the invite endpoint (401 signed out, 400, 403, 200).
//
// Needs the example binary (DASHBOARD_BIN, default target/release/axum-dashboard, built with
// `cargo build --release -p axum-dashboard`) and PostgreSQL (DASHBOARD_DATABASE_URL, default a fresh database on
// postgres://postgres@127.0.0.1:5432, created by the app and dropped with psql at the end).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { useSuite, waitForClerk, continueButton, reachPasswordStep, advanceTo, createUser } from '../lib/suite.mjs';
import { ARTIFACTS, freePort } from '../lib/concierge.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const DASHBOARD_BIN = resolve(here, '..', process.env.DASHBOARD_BIN ?? '../../target/release/axum-dashboard');
const PASSWORD = 'correct-horse-battery-9';

const suite = useSuite('axum-dashboard');
const people = {};
const orgs = {};
let dashboard;

/** Starts the example against the suite's concierge; resolves once it serves `/`. */
async function startDashboard(concierge) {
  const port = await freePort();
  const origin = `http://localhost:${port}`;
  const dbName = `axum_dashboard_browser_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const databaseUrl = process.env.DASHBOARD_DATABASE_URL ?? `postgres://postgres@127.0.0.1:5432/${dbName}`;
  const logPath = join(ARTIFACTS, 'axum-dashboard-app.log');
  const log = createWriteStream(logPath);
  const child = spawn(DASHBOARD_BIN, [], {
    env: {
      ...process.env,
      CLERK_PUBLISHABLE_KEY: concierge.publishableKey,
      CLERK_SECRET_KEY: concierge.secretKey,
      CLERK_API_URL: concierge.backendApiUrl,
      CLERK_FAPI_URL: concierge.frontendApiUrl,
      DATABASE_URL: databaseUrl,
      DASHBOARD_ADDR: `127.0.0.1:${port}`,
      DASHBOARD_PUBLIC_URL: origin,
      RUST_LOG: process.env.RUST_LOG ?? 'info',
      NO_COLOR: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`axum-dashboard exited with ${child.exitCode}:\n${readFileSync(logPath, 'utf8').slice(-3000)}`);
    try {
      const res = await fetch(`${origin}/`);
      if (res.status === 200) break;
    } catch {}
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`axum-dashboard did not answer within 30 s:\n${readFileSync(logPath, 'utf8').slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    origin,
    url: (path) => `${origin}${path}`,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((ok) => child.once('exit', ok));
        child.kill('SIGTERM');
        await exited;
      }
      log.end();
      if (!process.env.DASHBOARD_DATABASE_URL) {
        // Best effort: the database is throwaway; a failure to drop it is reported, not fatal.
        await new Promise((ok) => execFile('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-c', `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`],
          (err) => { if (err) console.warn(`could not drop ${dbName}: ${err.message}`); ok(); }));
      }
    },
  };
}

async function bapiOk(method, path, body) {
  const res = await suite.concierge.bapi(method, path, body);
  assert.equal(res.status, 200, `${method} ${path}: ${res.text}`);
  return res.json;
}

/** Users, organizations and the running dashboard, set up once (after the suite's own hook started concierge). */
let setup;
function ready() {
  setup ??= prepare();
  return setup;
}

async function prepare() {
  const { concierge } = suite;
  people.ada = await createUser(concierge, 'ada@example.com', PASSWORD);
  people.bob = await createUser(concierge, 'bob@example.com', PASSWORD);
  orgs.acme = await bapiOk('POST', '/v1/organizations', { name: 'Acme', slug: 'acme', created_by: people.ada.id });
  orgs.globex = await bapiOk('POST', '/v1/organizations', { name: 'Globex', slug: 'globex', created_by: people.ada.id });
  await bapiOk('POST', `/v1/organizations/${orgs.acme.id}/memberships`, { user_id: people.bob.id, role: 'org:member' });
  dashboard = await startDashboard(concierge);
}

after(async () => {
  await dashboard?.stop();
});

/** Signs in through <SignIn/> on the dashboard; ends on `/` with the server seeing the user. */
async function signIn(page, email) {
  await page.goto(dashboard.url('/sign-in'));
  await waitForClerk(page);
  await page.locator('input[name=identifier]').fill(email);
  await continueButton(page).click();
  await reachPasswordStep(page);
  await page.locator('input[name=password]:visible').fill(PASSWORD);
  await continueButton(page).click();
  await advanceTo(page, /^\/$/, 'sign-in did not land on /');
  // The home page is server-rendered: reload until the server sees the session cookie clerk-js wrote.
  await page.goto(dashboard.url('/'));
  assert.equal(await page.getByTestId('auth-status').textContent(), 'signed-in');
  assert.equal(await page.getByTestId('user-email').textContent(), email);
}

/** Opens a tasks page; returns the final response, the redirect chain and the shown titles. */
async function openTasks(page, slug) {
  const response = await page.goto(dashboard.url(`/orgs/${slug}/tasks`));
  const chain = [];
  for (let req = response.request(); req; req = req.redirectedFrom()) chain.unshift(req.url());
  const titles = response.status() === 200 ? await page.getByTestId('task-title').allTextContents() : [];
  return { response, chain, titles };
}

async function addTask(page, title) {
  await page.getByLabel('New task').fill(title);
  // POST → 303 → GET of the same URL: wait for that GET's answer, then for the page.
  const reloaded = page.waitForResponse((r) => r.request().method() === 'GET' && r.url().endsWith('/tasks') && r.request().redirectedFrom() !== null);
  await page.getByRole('button', { name: 'Add task' }).click();
  assert.equal((await reloaded).status(), 200);
  await page.waitForLoadState('domcontentloaded');
}

/** A same-origin fetch from the page (cookies included), as JSON { status, body }. */
function postFromPage(page, path, body) {
  return page.evaluate(async ({ path, body }) => {
    const res = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    return { status: res.status, body: await res.text() };
  }, { path, body });
}

test(
  'signed out: the invite endpoint answers 401 and org pages ask to sign in',
  { timeout: 60_000 },
  suite.wrap('signed-out', async () => {
    await ready();
    const res = await fetch(dashboard.url('/orgs/acme/invite'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email_address: 'x@example.com' }),
    });
    assert.equal(res.status, 401);
    assert.equal((await res.json()).errors[0].code, 'authentication_invalid');
    const page = await suite.newPage();
    const tasks = await page.goto(dashboard.url('/orgs/acme/tasks'));
    assert.equal(tasks.status(), 401);
    const admin = await page.goto(dashboard.url('/orgs/acme/admin'));
    assert.equal(admin.status(), 401);
  }),
);

test(
  'an admin signs in through clerk-js, sees each organization\'s tasks and switches organization by URL',
  { timeout: 120_000 },
  suite.wrap('admin', async () => {
    await ready();
    const page = await suite.newPage();
    await signIn(page, 'ada@example.com');
    assert.deepEqual((await page.getByTestId('org').allTextContents()).sort(), ['Acme (org:admin)', 'Globex (org:admin)']);

    // No organization is active yet: the URL activates Acme through the handshake.
    let visit = await openTasks(page, 'acme');
    assert.equal(visit.response.status(), 200, visit.chain.join(' → '));
    const handshake = visit.chain.find((u) => u.includes('/__clerk/v1/client/handshake'));
    assert.ok(handshake, `went through the handshake: ${visit.chain.join(' → ')}`);
    assert.equal(new URL(handshake).searchParams.get('organization_id'), 'acme');
    assert.equal(new URL(handshake).searchParams.get('__clerk_hs_reason'), 'active-organization-mismatch');
    assert.equal(await page.getByTestId('org-slug').textContent(), 'acme');
    assert.equal(await page.getByTestId('org-role').textContent(), 'org:admin');
    assert.equal(await page.getByTestId('user-email').textContent(), 'ada@example.com');
    assert.ok(!visit.titles.includes('Globex audit'), visit.titles.join(', '));
    await addTask(page, 'Acme launch');
    assert.ok((await page.getByTestId('task-title').allTextContents()).includes('Acme launch'));

    // Another organization by URL: handshake with organization_id=globex, then only Globex's rows.
    visit = await openTasks(page, 'globex');
    assert.equal(visit.response.status(), 200, visit.chain.join(' → '));
    assert.ok(visit.chain.some((u) => u.includes('organization_id=globex')), visit.chain.join(' → '));
    assert.equal(await page.getByTestId('org-slug').textContent(), 'globex');
    assert.deepEqual(visit.titles, [], 'row-level security hides Acme\'s tasks');
    await addTask(page, 'Globex audit');
    assert.deepEqual(await page.getByTestId('task-title').allTextContents(), ['Globex audit']);
    const session = await bapiOk('GET', `/v1/sessions/${await page.evaluate(() => window.Clerk.session.id)}`);
    assert.equal(session.last_active_organization_id, orgs.globex.id);

    // Back to Acme; a second visit to the active organization needs no handshake.
    visit = await openTasks(page, 'acme');
    assert.ok(visit.titles.includes('Acme launch') && !visit.titles.includes('Globex audit'), visit.titles.join(', '));
    visit = await openTasks(page, 'acme');
    assert.equal(visit.chain.length, 1, `no redirect: ${visit.chain.join(' → ')}`);
    assert.ok(visit.titles.includes('Acme launch'), visit.titles.join(', '));

    // The admin page lists the members.
    const admin = await page.goto(dashboard.url('/orgs/acme/admin'));
    assert.equal(admin.status(), 200);
    const members = await page.getByTestId('member').allTextContents();
    assert.deepEqual(members.sort(), ['ada@example.com — org:admin', 'bob@example.com — org:member']);

    // Invitations: 400 for bad input, 200 with the created invitation.
    let res = await postFromPage(page, '/orgs/acme/invite', JSON.stringify({ email_address: 'not-an-address' }));
    assert.equal(res.status, 400, res.body);
    res = await postFromPage(page, '/orgs/acme/invite', JSON.stringify({ email_address: 'cy@example.com', role: 'org:owner' }));
    assert.equal(res.status, 400, res.body);
    res = await postFromPage(page, '/orgs/acme/invite', '{ not json');
    assert.equal(res.status, 400, res.body);
    res = await postFromPage(page, '/orgs/acme/invite', JSON.stringify({ email_address: 'cy@example.com', role: 'org:admin' }));
    assert.equal(res.status, 200, res.body);
    const invitation = JSON.parse(res.body);
    assert.equal(invitation.email_address, 'cy@example.com');
    assert.equal(invitation.role, 'org:admin');
    assert.equal(invitation.status, 'pending');
    assert.equal(invitation.organization_id, orgs.acme.id);
    assert.equal(invitation.inviter_user_id, people.ada.id);
    const pending = await bapiOk('GET', `/v1/organizations/${orgs.acme.id}/invitations?status=pending`);
    assert.deepEqual(pending.data.map((i) => i.email_address), ['cy@example.com']);
  }),
);

test(
  'a member sees the organization\'s tasks but gets 403 on the admin route and the invite endpoint',
  { timeout: 120_000 },
  suite.wrap('member', async () => {
    await ready();
    const page = await suite.newPage();
    await signIn(page, 'bob@example.com');
    const visit = await openTasks(page, 'acme');
    assert.equal(visit.response.status(), 200, visit.chain.join(' → '));
    assert.equal(await page.getByTestId('org-role').textContent(), 'org:member');
    assert.ok(!visit.titles.includes('Globex audit'), visit.titles.join(', '));
    await addTask(page, 'Bob\'s note');
    const titles = await page.getByTestId('task-title').allTextContents();
    assert.ok(titles.includes('Bob\'s note') && !titles.includes('Globex audit'), titles.join(', '));

    const admin = await page.goto(dashboard.url('/orgs/acme/admin'));
    assert.equal(admin.status(), 403);
    assert.match(await admin.text(), /authorization_invalid/);
    const res = await postFromPage(page, '/orgs/acme/invite', JSON.stringify({ email_address: 'dee@example.com' }));
    assert.equal(res.status, 403, res.body);

    // An organization Bob is not in: FAPI cannot activate it, the app answers 404.
    const other = await openTasks(page, 'globex');
    assert.equal(other.response.status(), 404, other.chain.join(' → '));
    assert.match(await page.getByTestId('message').textContent(), /not a member of globex/);
    // The session still has Acme active.
    const again = await openTasks(page, 'acme');
    assert.equal(again.chain.length, 1, `no redirect: ${again.chain.join(' → ')}`);
    assert.ok(again.titles.includes('Bob\'s note'), again.titles.join(', '));
  }),
);

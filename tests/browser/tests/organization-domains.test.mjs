// Verified domains through the official components: a user who signs up with an address at an organization's
// verified `automatic_suggestion` domain sees the organization suggested in <OrganizationList/>, asks to join,
// an admin accepts the membership request through the Frontend API (clerk-js's own resources in the admin's
// browser), and the user then finds the organization among their memberships.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useSuite, signUpThroughUi, signInThroughUi, waitForClerk, createUser, eventually, fapiCalls, cardError } from '../lib/suite.mjs';

const suite = useSuite('organization-domains');
const PASSWORD = 'correct-horse-battery-7';

test(
  '<OrganizationList/> suggests the organization of a verified domain; the request is accepted by an admin',
  { timeout: 90_000 },
  suite.wrap('domain suggestion', async () => {
    const { app, concierge } = suite;
    const stamp = Date.now().toString(36);
    const domainName = `rockets${stamp}.test`;
    const orgName = `Rocket Works ${stamp}`;

    // An admin's organization with a verified domain in automatic_suggestion mode (Backend API).
    const admin = await createUser(concierge, `admin+${stamp}@example.com`, PASSWORD);
    const org = await concierge.bapi('POST', '/v1/organizations', { name: orgName, created_by: admin.id });
    assert.equal(org.status, 200, org.text);
    const domain = await concierge.bapi('POST', `/v1/organizations/${org.json.id}/domains`, {
      name: domainName,
      enrollment_mode: 'automatic_suggestion',
    });
    assert.equal(domain.status, 200, domain.text);

    // A new user signs up at the domain and opens <OrganizationList/>.
    const email = `sam+${stamp}@${domainName}`;
    const userContext = await suite.newContext();
    const page = await suite.newPage(userContext);
    await signUpThroughUi(suite, page, email, PASSWORD);
    await page.goto(app.url('/org-list'));
    await waitForClerk(page);
    const root = page.locator('.cl-organizationList-root');
    await root.waitFor({ state: 'visible' });
    await root.getByText(orgName).waitFor({ state: 'visible' }).catch(async (err) => {
      throw new Error(`<OrganizationList/> does not suggest ${orgName}: ${await cardError(page)}\nFAPI:${fapiCalls(app, /^\/v1\/me\/organization/)}\n${err.message.split('\n')[0]}`);
    });

    // "Request to join" accepts the suggestion, which leaves a pending membership request.
    const request = root.getByRole('button', { name: /request to join/i });
    await request.click();
    await root.getByText(/pending approval|requested/i).waitFor({ state: 'visible' }).catch(async (err) => {
      throw new Error(`the suggestion does not show as requested: ${await cardError(page)}\nFAPI:${fapiCalls(app, /^\/v1\/me\/organization_suggestions/)}\n${err.message.split('\n')[0]}`);
    });
    const suggestions = await page.evaluate(async () => {
      const page = await window.Clerk.user.getOrganizationSuggestions({ status: ['pending', 'accepted'] });
      return page.data.map((s) => ({ status: s.status, org: s.publicOrganizationData.name }));
    });
    assert.deepEqual(suggestions, [{ status: 'accepted', org: orgName }]);

    // The admin, in their own browser, accepts the request through clerk-js's resources (Frontend API).
    const adminContext = await suite.newContext();
    const adminPage = await suite.newPage(adminContext);
    await signInThroughUi(suite, adminPage, `admin+${stamp}@example.com`, PASSWORD);
    const decided = await adminPage.evaluate(async (orgId) => {
      const memberships = await window.Clerk.user.getOrganizationMemberships();
      const organization = memberships.data.find((m) => m.organization.id === orgId).organization;
      const pending = await organization.getMembershipRequests({ status: 'pending' });
      const request = pending.data[0];
      const identifier = request.publicUserData.identifier;
      await request.accept();
      const left = await organization.getMembershipRequests({ status: 'pending' });
      return { total: pending.total_count ?? pending.totalCount, identifier, left: left.data.length };
    }, org.json.id);
    assert.deepEqual(decided, { total: 1, identifier: email, left: 0 });

    // The user now finds the organization among their memberships, and it is no longer suggested.
    const members = await concierge.bapi('GET', `/v1/organizations/${org.json.id}/memberships`);
    assert.equal(members.json.total_count, 2, members.text);
    await page.goto(app.url('/org-list'));
    await waitForClerk(page);
    const joined = await eventually(async () => {
      const names = await page.evaluate(async () => {
        await window.Clerk.user.reload();
        return window.Clerk.user.organizationMemberships.map((m) => m.organization.name);
      });
      return names.includes(orgName) ? names : null;
    });
    assert.ok(joined, `the user is a member of ${orgName}`);
    await root.getByText(orgName).waitFor({ state: 'visible' });
    await assert.rejects(
      root.getByRole('button', { name: /request to join/i }).waitFor({ state: 'visible', timeout: 2_000 }),
      'no suggestion left to request',
    );
    const after = await page.evaluate(async () => (await window.Clerk.user.getOrganizationSuggestions()).data.length);
    assert.equal(after, 0);
  }),
);

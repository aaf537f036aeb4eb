// The organization invitation rate limit as the official <OrganizationProfile/> meets it: a server configured
// for one invitation request per hour accepts the first invitation from the component and answers the second
// with 429, `Retry-After` and the error envelope, which the invite form shows; nothing is invited by it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useSuite, signInThroughUi, waitForClerk, createUser, randomEmail, cardError, fapiCalls, createOrganization, sendInvitations } from '../lib/suite.mjs';

const suite = useSuite('invitation-rate-limit', {
  config: '[rate_limits]\norganization_invitations_per_hour = 1\norganization_invitation_bulks_per_hour = 1\n',
});
const PASSWORD = 'correct-horse-battery-7';
const INVITATIONS = /^\/v1\/organizations\/[^/]+\/invitations(\/bulk)?$/;

async function inviteFromMembersPage(page, email) {
  await page.goto(suite.app.url('/org-profile/organization-members'));
  await waitForClerk(page);
  await page.getByRole('heading', { name: 'Members', exact: true }).waitFor({ state: 'visible' });
  await sendInvitations(page, [email]);
}

test(
  'the second invitation within the hour is refused with 429 and <OrganizationProfile/> shows the error',
  { timeout: 90_000 },
  suite.wrap('rate limit', async () => {
    const { app, concierge } = suite;
    const email = randomEmail('rate');
    const admin = await createUser(concierge, email, PASSWORD);
    const org = await createOrganization(concierge, { name: 'Busy Org', created_by: admin.id });

    const page = await suite.newPage();
    await signInThroughUi(suite, page, email, PASSWORD);
    await page.goto(app.url('/orgs'));
    await waitForClerk(page);
    await page.evaluate((id) => window.Clerk.setActive({ organization: id }), org.id);
    await page.getByTestId('org-id').filter({ hasText: org.id }).waitFor();

    const first = randomEmail('first');
    await inviteFromMembersPage(page, first);
    await page.getByText('Invitations successfully sent').waitFor().catch(async (err) => {
      throw new Error(`the first invitation was not sent: ${await cardError(page)}\nFAPI:${fapiCalls(app, INVITATIONS)}\n${err.message.split('\n')[0]}`);
    });

    await inviteFromMembersPage(page, randomEmail('second'));
    const shown = page.getByText(/Too many requests/i);
    await shown.first().waitFor({ state: 'visible' }).catch(async (err) => {
      throw new Error(`no rate-limit error in the invite form: ${await cardError(page)}\nFAPI:${fapiCalls(app, INVITATIONS)}\n${err.message.split('\n')[0]}`);
    });
    await suite.step(page, 'rate-limited');
    const refused = app.fapiLog.filter((e) => e.method === 'POST' && INVITATIONS.test(e.path.split('?')[0])).at(-1);
    assert.equal(refused?.status, 429, `the refused request: ${JSON.stringify(refused)}`);
    assert.equal(JSON.parse(refused.responseBody).errors[0].code, 'too_many_requests');

    const pending = await concierge.bapi('GET', `/v1/organizations/${org.id}/invitations?status=pending`);
    assert.deepEqual(pending.json.data.map((i) => i.email_address), [first], 'only the first invitation exists');
    // The Backend API's bulk invitations share the instance's budget: refused too, with Retry-After.
    const res = await fetch(`${concierge.backendApiUrl}/v1/organizations/${org.id}/invitations/bulk`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${concierge.secretKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify([{ email_address: randomEmail('third'), role: 'org:member' }]),
    });
    assert.equal(res.status, 429);
    assert.ok(Number(res.headers.get('retry-after')) > 0, `Retry-After: ${res.headers.get('retry-after')}`);
  }),
);

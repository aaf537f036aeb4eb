// Organization logos through the official @clerk/backend: updateOrganizationLogo (multipart,
// with the uploader) and deleteOrganizationLogo; the image is served by the Frontend API.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createClerkClient } from '@clerk/backend';
import { startConcierge } from '../harness.mjs';

let srv;
let clerk;

before(async () => {
  srv = await startConcierge('logos');
  clerk = createClerkClient({ secretKey: srv.default.secretKey, apiUrl: srv.apiUrl });
});
after(async () => {
  await srv?.stop();
});

const png = (fill) => new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...new Array(48).fill(fill)]);

test('updateOrganizationLogo stores an image the Frontend API serves; deleteOrganizationLogo removes it', async () => {
  const ada = await clerk.users.createUser({ emailAddress: [`logo-${Date.now()}@example.com`], password: 'a-Strong-pass-123' });
  const org = await clerk.organizations.createOrganization({ name: `Logo ${Date.now()}`, createdBy: ada.id });
  assert.equal(org.hasImage, false);

  const file = new Blob([png(5)], { type: 'image/png' });
  const updated = await clerk.organizations.updateOrganizationLogo(org.id, { file, uploaderUserId: ada.id });
  assert.equal(updated.hasImage, true);
  assert.ok(updated.imageUrl.startsWith(srv.fapiUrl), updated.imageUrl);
  const served = await fetch(updated.imageUrl);
  assert.equal(served.status, 200);
  assert.equal(served.headers.get('content-type'), 'image/png');
  assert.deepEqual(new Uint8Array(await served.arrayBuffer()), png(5));

  await assert.rejects(
    clerk.organizations.updateOrganizationLogo(org.id, { file: new Blob(['not an image'], { type: 'text/plain' }) }),
    (err) => err.status === 422 && err.errors[0].meta.paramName === 'file',
  );

  const removed = await clerk.organizations.deleteOrganizationLogo(org.id);
  assert.equal(removed.hasImage, false);
  assert.equal((await fetch(updated.imageUrl)).status, 404);
});

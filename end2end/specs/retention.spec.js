// Journey: an account admin drafts a retention policy in the portal, sees which tags
// would go and how much that frees before saving, saves exactly that draft, and after
// a run finds the removed tags in the trash under "retention".
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../helpers/server.js';
import { launch, newPage } from '../helpers/browser.js';
import { pushImage, signIn } from '../helpers/actions.js';
import { assertLive, screenshot } from '../helpers/checks.js';

const PW = 'e2e password 1';
let server, browser;

before(async () => {
  server = await startServer();
  server.admin(['account', 'create', 'acme']);
  server.admin(['user', 'create', 'alice', '--account', 'acme', '--role', 'admin'], PW);
  for (const tag of ['1.0', '2.0', '3.0']) {
    await pushImage(server, 'alice', PW, 'acme/app', tag);
    await new Promise((r) => setTimeout(r, 10));
  }
  browser = await launch();
});

after(async () => {
  await browser?.close();
  server?.stop();
});

test('an admin previews a retention policy, saves it, and a run trashes what it named', async () => {
  const { page, errors } = await newPage(browser);
  await signIn(page, server, 'alice', PW);
  await page.goto(server.url('/a/acme'));
  await assertLive(page, errors);
  await page.click('a:has-text("Retention")');
  await page.waitForURL(/\/a\/acme\/retention$/);
  await page.waitForSelector('text=No policy yet');
  await page.fill('#retention-keep-last', '1');
  await page.click('button:has-text("Preview")');
  const preview = page.locator('[data-testid="retention-preview"]');
  await preview.waitFor();
  const gone = await preview.locator('table.removals td.name').allTextContents();
  assert.deepEqual(gone, ['1.0', '2.0']);
  assert.match(await preview.locator('[role="status"]').textContent(), /move 2 tags and 0 untagged images to the trash, freeing up to \d/);
  // Nothing is saved by a preview.
  assert.equal(server.admin(['retention', 'list', 'acme']).length, 0);
  await screenshot(page, 'retention-preview');
  await preview.locator('button:has-text("Save policy")').click();
  await page.waitForSelector('text=Saved.');
  await page.waitForSelector('table.policies td:has-text("keeps the last 1 pushed of the tags")');

  const report = server.admin(['retention', 'run', '--account', 'acme']);
  assert.equal(report.tags, 2);
  await page.goto(server.url('/a/acme/trash'));
  const rows = await page.locator('table.trash tbody tr').allTextContents();
  assert.equal(rows.filter((r) => r.includes('retention')).length, 2, rows.join('\n'));
  assert.ok(rows.some((r) => r.includes('acme/app:1.0')), rows.join('\n'));
});

// Journey: an account admin makes a repository public in the portal (typing its name),
// a visitor without a session finds it on Explore and opens its page and tag, and the
// private one beside it stays out of sight; made private again, it is gone for them.
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
  await pushImage(server, 'alice', PW, 'acme/web', '1.0');
  await pushImage(server, 'alice', PW, 'acme/secret', '1.0');
  browser = await launch();
});

after(async () => {
  await browser?.close();
  server?.stop();
});

test('an admin makes a repository public, and a visitor finds and reads it', async () => {
  const admin = await newPage(browser);
  await signIn(admin.page, server, 'alice', PW);
  await admin.page.goto(server.url('/r/acme/web'));
  await assertLive(admin.page, admin.errors);
  assert.equal(await admin.page.textContent('[data-testid="visibility"]'), 'Private');
  await admin.page.click('button:has-text("Make public")');
  const confirm = admin.page.locator('[role="dialog"] button:has-text("Make public")');
  assert.ok(await confirm.isDisabled(), 'the dialog confirms before the name is typed');
  await admin.page.fill('[role="dialog"] #confirm', 'acme/web');
  await confirm.click();
  await admin.page.waitForSelector('[data-testid="visibility"]:text-is("Public")');
  await admin.page.waitForSelector('button:has-text("Make private")');

  const visitor = await newPage(browser);
  await visitor.page.goto(server.url('/'));
  await assertLive(visitor.page, visitor.errors);
  await visitor.page.click('nav a[href="/explore"]');
  await visitor.page.waitForSelector('table.explore td.name a[href="/r/acme/web"]');
  assert.ok(!(await visitor.page.content()).includes('acme/secret'), 'Explore shows a private repository');
  await visitor.page.click('table.explore td.name a[href="/r/acme/web"]');
  await visitor.page.waitForSelector('a[href="/t/acme/web:1.0"]');
  assert.ok((await visitor.page.textContent('.command code')).includes('/acme/web:<tag>'));
  assert.equal(await visitor.page.locator('button:has-text("Delete")').count(), 0);
  await visitor.page.click('a[href="/t/acme/web:1.0"]');
  await visitor.page.waitForURL(/\/t\/acme\/web:1\.0$/);
  await screenshot(visitor.page, 'public-tag-visitor');
  // The private neighbour asks the visitor to sign in, like a name that does not exist.
  await visitor.page.goto(server.url('/r/acme/secret'));
  assert.match(visitor.page.url(), /\/sign-in\?next=/);

  await admin.page.click('button:has-text("Make private")');
  await admin.page.waitForSelector('[data-testid="visibility"]:text-is("Private")');
  await visitor.page.goto(server.url('/explore'));
  await visitor.page.waitForSelector('text=No repository is public yet.');
  await visitor.page.goto(server.url('/r/acme/web'));
  assert.match(visitor.page.url(), /\/sign-in\?next=/);
  await admin.context.close();
  await visitor.context.close();
});

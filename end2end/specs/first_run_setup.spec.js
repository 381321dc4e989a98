// Journey: on a fresh Berth with no user, the one-time link from the log creates the
// first site admin, who creates an account and its first admin in the portal; the link
// then no longer works, and the new admin signs in to an empty account that tells them
// how to push, but not to the site admins' pages.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../helpers/server.js';
import { launch, newPage } from '../helpers/browser.js';
import { signIn, signOut } from '../helpers/actions.js';
import { assertLive, screenshot } from '../helpers/checks.js';
import { selectors as s } from '../helpers/selectors.js';

const ROOT = 'root';
const ROOT_PW = 'first admin password';
const IVY_PW = 'ivy password 1';
const ACCOUNT = 'initech';
// One page for the whole journey: each step starts where the previous one left off.
let server, browser, page, errors, setupLink;

before(async () => {
  server = await startServer();
  // Logged once, before "listening on", only while there is no user yet.
  setupLink = /http:\/\/\S+\/setup\?token=\w+/.exec(server.log.join(''))?.[0];
  browser = await launch();
  ({ page, errors } = await newPage(browser));
});

after(async () => {
  await browser?.close();
  server?.stop();
});

test('the one-time link from the log creates the first site admin, who lands signed in', async () => {
  assert.ok(setupLink, `no setup link in the server log:\n${server.log.join('')}`);
  // The link must reach this server: the real port, not the 0 it was asked to listen on.
  assert.equal(new URL(setupLink).host, server.addr);
  await page.goto(setupLink);
  await assertLive(page, errors);
  await screenshot(page, 'first-run-setup');
  await page.fill(s.setupUsername, ROOT);
  await page.fill(s.setupPassword, ROOT_PW);
  await Promise.all([page.waitForURL(server.url('/')), page.click(s.createAdministratorButton)]);
  await page.waitForSelector(`text=Signed in as ${ROOT}`);
  assert.equal(await page.textContent('.who'), ROOT);
  // Only site admins get the Accounts link.
  await page.waitForSelector('nav a[href="/accounts"]');
  await screenshot(page, 'first-run-home');
});

test('the site admin creates an account on the Accounts page', async () => {
  await page.click('nav a[href="/accounts"]');
  await page.waitForURL(server.url('/accounts'));
  await assertLive(page, errors);
  await page.waitForSelector('text=No accounts yet.');
  await page.fill(s.accountName, ACCOUNT);
  await page.click(s.createAccountButton);
  await page.waitForSelector(s.success);
  await page.waitForSelector(s.accountLink(ACCOUNT));
  const names = await page.$$eval('table.account-list td.name', (tds) => tds.map((t) => t.textContent));
  assert.deepEqual(names, [ACCOUNT]);
  await screenshot(page, 'first-run-accounts');
});

test('the site admin adds a new user as the account\'s admin on its Members page', async () => {
  await page.click(`a[aria-label="Members of ${ACCOUNT}"]`);
  await page.waitForURL(server.url(`/a/${ACCOUNT}/members`));
  await assertLive(page, errors);
  await page.fill(s.memberUsername, 'ivy');
  await page.selectOption(s.memberRole, 'admin');
  await page.fill(s.memberPassword, IVY_PW);
  await page.click(s.saveMemberButton);
  await page.waitForSelector(s.success);
  const row = await page.waitForSelector(s.memberRow('ivy'));
  const cells = await row.$$eval('td', (tds) => tds.map((t) => t.textContent));
  assert.equal(cells[1], 'admin', cells.join(' | '));
  await screenshot(page, 'first-run-members');
});

test('the setup link works only once: a second use is refused and creates no one', async () => {
  // Someone else with the link, in a browser of their own.
  const other = await newPage(browser);
  try {
    await other.page.goto(setupLink);
    await assertLive(other.page, other.errors);
    await other.page.fill(s.setupUsername, 'mallory');
    await other.page.fill(s.setupPassword, 'mallory password');
    await other.page.click(s.createAdministratorButton);
    await other.page.waitForSelector(s.error);
    assert.match(await other.page.textContent(s.error), /This setup link is no longer valid/);
    await screenshot(other.page, 'first-run-setup-used');
    // Not signed in, and no user "mallory" exists to sign in as.
    await other.page.goto(server.url('/sign-in'));
    await assertLive(other.page, other.errors);
    await other.page.waitForSelector(s.signInLink);
    await other.page.fill(s.username, 'mallory');
    await other.page.fill(s.password, 'mallory password');
    await other.page.click(s.signInButton);
    await other.page.waitForSelector(s.error);
    assert.equal(await other.page.textContent(s.error), 'Wrong username or password.');
  } finally {
    await other.context.close();
  }
});

test('the new admin signs in and finds the empty account with its push commands', async () => {
  await signOut(page, server);
  // A member of exactly one account lands on its Repositories page.
  assert.equal(await signIn(page, server, 'ivy', IVY_PW), `/a/${ACCOUNT}`);
  await assertLive(page, errors);
  assert.equal(await page.textContent('.who'), 'ivy');
  await page.waitForSelector(`nav a[href="/a/${ACCOUNT}"]`);
  assert.equal(await page.$('nav a[href="/accounts"]'), null, 'ivy is not a site admin');
  await screenshot(page, 'first-run-ivy-landing');
  await page.waitForSelector('text=No repositories yet');
  const commands = await page.textContent(s.firstPush);
  assert.ok(commands.includes(`docker push ${server.addr}/${ACCOUNT}/`), commands);
  assert.equal(commands, [
    `docker tag alpine:latest ${server.addr}/${ACCOUNT}/alpine:latest`,
    `docker push ${server.addr}/${ACCOUNT}/alpine:latest`,
  ].join('\n'));
  await screenshot(page, 'first-run-ivy-repositories');
});

test('the new admin, not a site admin, is refused the Accounts page', async () => {
  await page.goto(server.url('/accounts'));
  await assertLive(page, errors);
  await page.waitForSelector(s.error);
  assert.equal(await page.textContent(s.error), 'You do not have access to that.');
  assert.equal(await page.$('table.account-list'), null);
  await screenshot(page, 'first-run-ivy-accounts-refused');
});

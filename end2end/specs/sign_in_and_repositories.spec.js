// Journey: an account's user signs in and sees exactly their repositories; another
// account's user sees none of them; reads work with JavaScript off.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../helpers/server.js';
import { launch, newPage } from '../helpers/browser.js';
import { pushImage, signIn } from '../helpers/actions.js';
import { assertLive, screenshot } from '../helpers/checks.js';
import { selectors as s } from '../helpers/selectors.js';

const PW = 'e2e password 1';
let server, browser;

before(async () => {
  server = await startServer();
  server.admin(['account', 'create', 'acme']);
  server.admin(['user', 'create', 'alice', '--account', 'acme', '--role', 'admin'], PW);
  server.admin(['account', 'create', 'globex']);
  server.admin(['user', 'create', 'bob', '--account', 'globex', '--role', 'admin'], PW);
  await pushImage(server, 'alice', PW, 'acme/web', '1.0');
  await pushImage(server, 'alice', PW, 'acme/api', 'v2');
  browser = await launch();
});

after(async () => {
  await browser?.close();
  server?.stop();
});

test('sign in, then the account lists its repositories with pull URIs', async () => {
  const { page, errors } = await newPage(browser);
  await page.goto(server.url('/sign-in'));
  await assertLive(page, errors);
  await screenshot(page, 'sign-in');
  await signIn(page, server, 'alice', PW);
  await assertLive(page, errors);
  await screenshot(page, 'home-signed-in');
  await page.click('a[href="/a/acme"]');
  await page.waitForSelector(s.repositoryRows);
  const names = await page.$$eval(`${s.repositoryRows} td.name`, (tds) => tds.map((t) => t.textContent));
  assert.deepEqual(names, ['acme/api', 'acme/web']);
  const pull = await page.textContent(`${s.repositoryRows} td.pull code`);
  assert.equal(pull, `${server.addr}/acme/api`);
  assert.match(await page.title(), /acme — Repositories/);
  await screenshot(page, 'repositories');
});

test('Docker Login gives a command whose credential logs in, copied to the clipboard', async () => {
  const { page, errors, context } = await newPage(browser);
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url('') });
  await signIn(page, server, 'alice', PW);
  await page.goto(server.url('/a/acme'));
  await assertLive(page, errors);
  await page.click(s.dockerLoginButton);
  const command = await page.textContent(s.loginCommand, { timeout: 10000 });
  assert.match(command, new RegExp(`^echo berth_login_\\w+ \\| docker login ${server.addr.replace(/\./g, '\\.')} -u alice --password-stdin$`));
  await page.click(s.copyLoginCommand);
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), command);
  const secret = command.split(' ')[1];
  const auth = 'Basic ' + Buffer.from(`alice:${secret}`).toString('base64');
  const r = await fetch(server.url('/auth/token?service=berth&scope=repository:acme/web:pull'), { headers: { authorization: auth } });
  assert.equal(r.status, 200);
  await screenshot(page, 'docker-login');
});

test('a wrong password is refused with a clear message', async () => {
  const { page, errors } = await newPage(browser);
  await page.goto(server.url('/sign-in'));
  await assertLive(page, errors);
  await page.fill(s.username, 'alice');
  await page.fill(s.password, 'not it');
  await page.click(s.signInButton);
  await page.waitForSelector(s.error);
  assert.equal(await page.textContent(s.error), 'Wrong username or password.');
});

test('another account sees none of acme, and the list renders with JavaScript off', async () => {
  const { page } = await newPage(browser, { javaScriptEnabled: false });
  await page.goto(server.url('/sign-in'));
  await page.fill(s.username, 'bob');
  await page.fill(s.password, PW);
  // bob is a member of globex alone, so he lands on its Repositories page.
  await Promise.all([page.waitForURL(server.url('/a/globex')), page.click(s.signInButton)]);
  await page.goto(server.url('/a/acme'));
  assert.equal(await page.$$(s.repositoryRows).then((r) => r.length), 0);
  assert.match(await page.textContent(s.error), /You do not have access/);
  await page.goto(server.url('/a/globex'));
  assert.match(await page.textContent('main'), /No repositories yet/);
});

test('delete a tag: Confirm stays disabled until the exact name is typed', async () => {
  const { page, errors } = await newPage(browser);
  await pushImage(server, 'alice', PW, 'acme/web', 'old');
  await signIn(page, server, 'alice', PW);
  await page.goto(server.url('/a/acme'));
  await page.click('a[href="/r/acme/web"]');
  await page.waitForSelector('table.tags');
  await assertLive(page, errors);
  await page.click('button[aria-label="Delete tag old"]');
  const confirm = page.locator('button[type="submit"]:has-text("Delete tag")');
  assert.equal(await confirm.isDisabled(), true);
  await page.fill('#confirm', 'ol');
  assert.equal(await confirm.isDisabled(), true, 'wrong text keeps it disabled');
  await screenshot(page, 'confirm-delete-tag');
  await page.fill('#confirm', 'old');
  assert.equal(await confirm.isDisabled(), false);
  await confirm.click();
  await page.waitForSelector('[role="dialog"]', { state: 'detached' });
  await page.waitForFunction(() => ![...document.querySelectorAll('table.tags td.name')].some((td) => td.textContent === 'old'));
  const r = await fetch(server.url('/v2/acme/web/manifests/old'), { method: 'HEAD' });
  assert.equal(r.status, 401, 'the registry still asks for a token');
  await screenshot(page, 'repository');
});

test('delete a repository from its page: gone from the list and from the catalog', async () => {
  const { page, errors } = await newPage(browser);
  await pushImage(server, 'alice', PW, 'acme/doomed', '1');
  await signIn(page, server, 'alice', PW);
  await page.goto(server.url('/r/acme/doomed'));
  await assertLive(page, errors);
  await page.click('button:has-text("Delete repository")');
  // The dialog says what goes and how much that can free.
  assert.match(await page.locator('[role="dialog"]').textContent(), /acme\/doomed and its 1 tag, which can free up to [0-9.]+ (B|KiB)/);
  const confirm = page.locator('button[type="submit"]:has-text("Delete repository")');
  await page.fill('#confirm', 'doomed');
  assert.equal(await confirm.isDisabled(), true);
  await page.fill('#confirm', 'acme/doomed');
  await confirm.click();
  await page.waitForURL(server.url('/a/acme'));
  await page.waitForSelector(s.repositoryRows);
  const names = await page.$$eval(`${s.repositoryRows} td.name`, (tds) => tds.map((t) => t.textContent));
  assert.ok(!names.includes('acme/doomed'), names.join(','));
  const auth = 'Basic ' + Buffer.from(`alice:${PW}`).toString('base64');
  const t = await (await fetch(server.url('/auth/token?service=berth&scope=registry:catalog:*'), { headers: { authorization: auth } })).json();
  const cat = await (await fetch(server.url('/v2/_catalog'), { headers: { authorization: `Bearer ${t.token}` } })).json();
  assert.ok(!cat.repositories.includes('acme/doomed'), JSON.stringify(cat));
});

test('delete one checked repository from the list by typing its name', async () => {
  const { page, errors } = await newPage(browser);
  await pushImage(server, 'alice', PW, 'acme/single', '1');
  await signIn(page, server, 'alice', PW);
  await page.goto(server.url('/a/acme?q=single'));
  await assertLive(page, errors);
  assert.match(await page.textContent('.pager'), /^1 repository — page 1 of 1/);
  await page.check('input[aria-label="Select acme/single"]');
  await page.click('.menu summary');
  await page.click('.menu button:has-text("Delete 1 selected")');
  const dialog = page.locator('[role="dialog"]');
  const said = await dialog.textContent();
  // One repository: its full name is asked for, as on its own page, and the words
  // agree with the count.
  assert.match(said, /Delete repository acme\/single\?/);
  assert.match(said, /acme\/single with its 1 tag/);
  assert.match(said, /Type the repository's name, acme\/single, to confirm/);
  assert.doesNotMatch(said, /1 repositories|1 tags/);
  const confirm = page.locator('button[type="submit"]:has-text("Delete repository")');
  await page.fill('#confirm', '1');
  assert.equal(await confirm.isDisabled(), true, 'the count is not the name');
  await page.fill('#confirm', 'single');
  assert.equal(await confirm.isDisabled(), true);
  await page.fill('#confirm', 'acme/single');
  await screenshot(page, 'confirm-delete-one-repository');
  await confirm.click();
  await page.waitForSelector('[role="dialog"]', { state: 'detached' });
  await page.waitForSelector('text=No repository matches that filter.');
  // The server asks for the name too: a count typed by hand is refused.
  await pushImage(server, 'alice', PW, 'acme/single', '1');
  const refused = await page.evaluate(async () => {
    const r = await fetch('/api/delete_repositories', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ repositories: ['acme/single'], confirm: '1' }),
    });
    return { status: r.status, text: await r.text() };
  });
  assert.equal(refused.status, 400, refused.text);
  assert.match(refused.text, /Type the repository's name, acme\/single, to confirm/);
});

test('at phone width each repository is one short block with its pull URI', async () => {
  const { page, errors } = await newPage(browser, { viewport: { width: 360, height: 780 } });
  await pushImage(server, 'alice', PW, 'acme/phone-width-with-a-long-name', '1');
  await signIn(page, server, 'alice', PW);
  await page.goto(server.url('/a/acme'));
  await assertLive(page, errors);
  const rows = await page.$$eval(s.repositoryRows, (trs) => trs.map((tr) => {
    const box = tr.getBoundingClientRect();
    const pull = tr.querySelector('td.pull');
    return { height: box.height, right: box.right, pullVisible: pull.getBoundingClientRect().right <= window.innerWidth + 1 };
  }));
  assert.ok(rows.length > 0);
  for (const r of rows) {
    assert.ok(r.height <= 170, `a row is ${Math.round(r.height)} px tall at 360 px`);
    assert.ok(r.right <= 361, `a row reaches ${Math.round(r.right)} px`);
    assert.ok(r.pullVisible, 'the pull URI and its copy button are on screen');
  }
  const scrolls = await page.$eval('table.repositories', (t) => t.scrollWidth > t.clientWidth + 1);
  assert.equal(scrolls, false, 'the list does not scroll sideways');
  await screenshot(page, 'repositories-phone');
});

test('delete checked repositories from the list: Actions → Delete, gone from the list and the catalog', async () => {
  const { page, errors } = await newPage(browser);
  await pushImage(server, 'alice', PW, 'acme/bulk-one', '1');
  await pushImage(server, 'alice', PW, 'acme/bulk-two', '1');
  await signIn(page, server, 'alice', PW);
  await page.goto(server.url('/a/acme?q=bulk'));
  await assertLive(page, errors);
  const remove = page.locator('.menu button:has-text("selected")');
  await page.click('.menu summary');
  assert.equal(await remove.isDisabled(), true, 'nothing checked yet');
  await page.check('input[aria-label="Select acme/bulk-one"]');
  await page.check('input[aria-label="Select acme/bulk-two"]');
  assert.equal(await remove.textContent(), 'Delete 2 selected');
  await remove.click();
  const dialog = page.locator('[role="dialog"]');
  assert.match(await dialog.textContent(), /Delete 2 repositories\?/);
  assert.match(await dialog.textContent(), /acme\/bulk-one, acme\/bulk-two with their 2 tags/);
  const confirm = page.locator('button[type="submit"]:has-text("Delete repositories")');
  await page.fill('#confirm', '3');
  assert.equal(await confirm.isDisabled(), true);
  // Focus stays in the dialog: Tab from its last control comes back to its first.
  await page.fill('#confirm', '2');
  await confirm.focus();
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'confirm');
  await screenshot(page, 'confirm-delete-repositories');
  await confirm.click();
  await page.waitForSelector('[role="dialog"]', { state: 'detached' });
  await page.waitForSelector('text=No repository matches that filter.');
  const auth = 'Basic ' + Buffer.from(`alice:${PW}`).toString('base64');
  const t = await (await fetch(server.url('/auth/token?service=berth&scope=registry:catalog:*'), { headers: { authorization: auth } })).json();
  const cat = await (await fetch(server.url('/v2/_catalog'), { headers: { authorization: `Bearer ${t.token}` } })).json();
  assert.ok(!cat.repositories.some((r) => r.startsWith('acme/bulk')), JSON.stringify(cat));
});

test('the header shows who is signed in, and signing out ends the session', async () => {
  const { page, errors } = await newPage(browser);
  await signIn(page, server, 'alice', PW);
  await assertLive(page, errors);
  assert.equal(await page.textContent('.who'), 'alice');
  await page.click('button:has-text("Sign out")');
  await page.waitForURL(server.url('/sign-in'));
  await page.waitForSelector('nav a[href="/sign-in"]');
  // A deep link, signed out, goes to the sign-in page and back to itself afterwards.
  await page.goto(server.url('/r/acme/web'));
  assert.equal(new URL(page.url()).pathname, '/sign-in');
  assert.equal(new URL(page.url()).searchParams.get('next'), '/r/acme/web');
  const landed = await signIn(page, server, 'alice', PW, new URL(page.url()).pathname + new URL(page.url()).search);
  assert.equal(landed, '/r/acme/web');
});

test('create an access token, see its secret once, revoke it', async () => {
  const { page, errors } = await newPage(browser);
  await signIn(page, server, 'alice', PW);
  await page.click('nav a[href="/tokens"]');
  await page.waitForURL(server.url('/tokens'));
  await assertLive(page, errors);
  await page.fill('#label', 'laptop');
  await page.selectOption('#access', 'push');
  await page.click('button:has-text("Create token")');
  const secret = await page.textContent('code[data-testid="new-secret"]', { timeout: 10000 });
  assert.match(secret, /^berth_token_\w+$/);
  const auth = 'Basic ' + Buffer.from(`alice:${secret}`).toString('base64');
  const ok = await fetch(server.url('/auth/token?service=berth'), { headers: { authorization: auth } });
  assert.equal(ok.status, 200);
  await page.waitForSelector('button[aria-label="Revoke token laptop"]');
  await screenshot(page, 'tokens');
  await page.click('button[aria-label="Revoke token laptop"]');
  await page.waitForSelector('button[aria-label="Revoke token laptop"]', { state: 'detached' });
  const refused = await fetch(server.url('/auth/token?service=berth'), { headers: { authorization: auth } });
  assert.equal(refused.status, 401);
});

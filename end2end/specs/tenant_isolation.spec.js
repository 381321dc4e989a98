// Journey: a member of one account tries to reach another account's repositories, first
// through the pages, then by calling the portal's server functions directly from a
// signed-in page, as the app itself would (same origin, so only the access rules can
// stop them). Nothing of the other account is shown, streamed or deleted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../helpers/server.js';
import { launch, newPage } from '../helpers/browser.js';
import { callServerFunction, pushImage, registryToken, signIn } from '../helpers/actions.js';
import { assertLive, screenshot } from '../helpers/checks.js';
import { selectors as s } from '../helpers/selectors.js';

const PW = 'e2e password 1';
const NO_ACCESS = 'You do not have access to that.';
const FORM = 'application/x-www-form-urlencoded';
let server, browser, page, errors;

before(async () => {
  server = await startServer();
  server.admin(['account', 'create', 'acme']);
  server.admin(['user', 'create', 'alice', '--account', 'acme', '--role', 'admin'], PW);
  server.admin(['account', 'create', 'globex']);
  // An admin of their own account: the strongest role that must still stop at its edge.
  server.admin(['user', 'create', 'bob', '--account', 'globex', '--role', 'admin'], PW);
  await pushImage(server, 'alice', PW, 'acme/web', '1.0');
  // For alice's own crafted calls at the end, which show the calls are well-formed.
  await pushImage(server, 'alice', PW, 'acme/spare', '1');
  await pushImage(server, 'alice', PW, 'acme/spare', 'old');
  await pushImage(server, 'alice', PW, 'acme/spare-two', '1');
  browser = await launch();
  ({ page, errors } = await newPage(browser));
  await signIn(page, server, 'bob', PW);
  await assertLive(page, errors);
});

after(async () => {
  await browser?.close();
  server?.stop();
});

/** acme/web:1.0 is still there, as alice's pull token sees it. */
async function assertAcmeWebIntact() {
  const token = await registryToken(server, 'alice', PW, 'repository:acme/web:pull');
  const r = await fetch(server.url('/v2/acme/web/manifests/1.0'), {
    method: 'HEAD',
    headers: { authorization: `Bearer ${token}`, accept: 'application/vnd.oci.image.manifest.v1+json' },
  });
  assert.equal(r.status, 200, 'acme/web:1.0 is gone');
}

// The repository acme/web, and not the account's Webhooks page.
const WEB = /acme\/web(?!hooks)/;

/** A server function's answer is a refusal: not a success, and in the words for no access. */
function assertRefused(name, r) {
  assert.ok(r.status < 200 || r.status >= 300, `${name} answered ${r.status}: ${r.body}`);
  assert.ok(r.body.includes(NO_ACCESS), `${name} answered ${r.status} without "${NO_ACCESS}": ${r.body}`);
}

test('another account\'s Repositories page says no access and shows none of its names', async () => {
  const response = await page.goto(server.url('/a/acme'));
  // What the server sends, before any script runs, must not hold the names either.
  // (The page's own buttons name the account, as its address does: /a/acme/webhooks.)
  assert.doesNotMatch(await response.text(), WEB, 'the server-rendered page names acme/web');
  await assertLive(page, errors);
  await page.waitForSelector(s.error);
  assert.equal(await page.textContent(s.error), NO_ACCESS);
  assert.equal(await page.$$(s.repositoryRows).then((r) => r.length), 0);
  assert.doesNotMatch(await page.content(), WEB, 'the hydrated page names acme/web');
  assert.equal(await page.$('nav a[href="/a/acme"]'), null, 'bob\'s header links to acme');
  await screenshot(page, 'tenant-isolation-refused');
});

test('another account\'s Repository and Tag pages say no access', async () => {
  for (const path of ['/r/acme/web', '/t/acme/web:1.0']) {
    const response = await page.goto(server.url(path));
    const html = await response.text();
    // The name is in the address, so it may be echoed; its digest and pull URI may not.
    assert.ok(!html.includes(`${server.addr}/acme/web`), `${path} shows acme/web's pull URI`);
    assert.ok(!/sha256:[0-9a-f]{64}/.test(html), `${path} shows a digest`);
    await assertLive(page, errors);
    await page.waitForSelector(s.error);
    assert.equal(await page.textContent(s.error), NO_ACCESS, path);
  }
});

test('crafted deletes of another account\'s repository and tag are refused, and nothing is deleted', async () => {
  await page.goto(server.url('/a/globex'));
  await assertLive(page, errors);
  // Each body is what the app would send with the confirmation typed right, so only
  // the access check stands between bob and acme's images.
  assertRefused('delete_repository', await callServerFunction(page, 'delete_repository',
    'repository=acme%2Fweb&confirm=acme%2Fweb', FORM));
  await assertAcmeWebIntact();
  assertRefused('delete_tag', await callServerFunction(page, 'delete_tag',
    'repository=acme%2Fweb&tag=1.0&confirm=1.0', FORM));
  await assertAcmeWebIntact();
  assertRefused('delete_repositories', await callServerFunction(page, 'delete_repositories',
    JSON.stringify({ repositories: ['acme/web'], confirm: 'acme/web' }), 'application/json'));
  // One of bob's own names beside acme's does not carry the other through.
  assertRefused('delete_repositories (mixed)', await callServerFunction(page, 'delete_repositories',
    JSON.stringify({ repositories: ['globex/mine', 'acme/web'], confirm: '2' }), 'application/json'));
  await assertAcmeWebIntact();
});

test('crafted reads of another account\'s repositories are refused', async () => {
  const list = await callServerFunction(page, 'repositories',
    'account=acme&filter=&order=name&page=1&per_page=100', FORM);
  assertRefused('repositories', list);
  assert.ok(!list.body.includes('acme/web'), list.body);
  const detail = await callServerFunction(page, 'repository', 'name=acme%2Fweb', FORM);
  assertRefused('repository', detail);
  assert.ok(!/sha256:[0-9a-f]{64}/.test(detail.body), detail.body);
});

test('the live events of another account answer 403, while bob\'s own stream opens', async () => {
  const open = (path) => page.evaluate(async (path) => {
    const abort = new AbortController();
    // A stream that is let through never ends: the status is all we wait for.
    const r = await fetch(path, { signal: abort.signal });
    abort.abort();
    return { status: r.status, type: r.headers.get('content-type') };
  }, path);
  assert.equal((await open('/events/a/acme')).status, 403);
  assert.deepEqual(await open('/events/a/globex'), { status: 200, type: 'text/event-stream' });
});

test('the same crafted calls from acme\'s own admin do delete, so the refusals above were the access check', async () => {
  const own = await newPage(browser);
  try {
    await signIn(own.page, server, 'alice', PW);
    await assertLive(own.page, own.errors);
    const ok = (name, r) => assert.ok(r.status >= 200 && r.status < 300, `${name} answered ${r.status}: ${r.body}`);
    ok('delete_tag', await callServerFunction(own.page, 'delete_tag',
      'repository=acme%2Fspare&tag=old&confirm=old', FORM));
    ok('delete_repository', await callServerFunction(own.page, 'delete_repository',
      'repository=acme%2Fspare&confirm=acme%2Fspare', FORM));
    ok('delete_repositories', await callServerFunction(own.page, 'delete_repositories',
      JSON.stringify({ repositories: ['acme/spare-two'], confirm: 'acme/spare-two' }), 'application/json'));
    await own.page.goto(server.url('/a/acme'));
    await assertLive(own.page, own.errors);
    await own.page.waitForSelector(s.repositoryRows);
    const names = await own.page.$$eval(`${s.repositoryRows} td.name`, (tds) => tds.map((t) => t.textContent));
    assert.deepEqual(names, ['acme/web']);
    await screenshot(own.page, 'tenant-isolation-owner');
  } finally {
    await own.context.close();
  }
});

// Journey: an account admin creates a webhook in the portal and copies its secret; a
// push reaches a real HTTP endpoint on loopback, signed with that secret; the
// webhook's page lists the delivery with its answer; Send test and Redeliver send
// again, the redelivered message with the same webhook-id.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createHmac } from 'node:crypto';
import { startServer } from '../helpers/server.js';
import { launch, newPage } from '../helpers/browser.js';
import { pushImage, signIn } from '../helpers/actions.js';
import { assertLive, screenshot } from '../helpers/checks.js';

const PW = 'e2e password 1';
let server, browser, receiver, receiverUrl;
const received = [];

// Waits until the endpoint got `n` messages.
async function messages(n) {
  for (let i = 0; i < 200 && received.length < n; i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(received.length >= n, `${received.length} of ${n} messages arrived`);
  return received;
}

// The check a receiver following the Standard Webhooks specification makes.
function signedWith(secret, m) {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const mac = createHmac('sha256', key)
    .update(`${m.headers['webhook-id']}.${m.headers['webhook-timestamp']}.${m.body}`)
    .digest('base64');
  return m.headers['webhook-signature'].split(' ').includes(`v1,${mac}`);
}

before(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('thanks from the receiver');
    });
  });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${receiver.address().port}/berth`;
  // The endpoint is on loopback, which only this flag lets webhooks reach.
  server = await startServer(['--webhook-allow-private']);
  server.admin(['account', 'create', 'acme']);
  server.admin(['user', 'create', 'alice', '--account', 'acme', '--role', 'admin'], PW);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  server?.stop();
  receiver?.close();
});

test('an admin creates a webhook, a push reaches it signed, and it is redelivered from its page', async () => {
  const { page, errors } = await newPage(browser);
  await signIn(page, server, 'alice', PW);
  await page.goto(server.url('/a/acme'));
  await assertLive(page, errors);
  await page.click('a:has-text("Webhooks")');
  await page.waitForURL(/\/a\/acme\/webhooks$/);
  await page.waitForSelector('text=No webhook yet');
  await page.fill('#webhook-url', receiverUrl);
  // push and delete are ticked for a new webhook; pulls are opt-in.
  assert.equal(await page.isChecked('input[name="push"]'), true);
  assert.equal(await page.isChecked('input[name="pull"]'), false);
  await page.click('button:has-text("Create webhook")');
  const secret = (await page.locator('[data-testid="new-secret"]').textContent()).trim();
  assert.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
  await page.waitForSelector(`table.webhooks td:has-text("${receiverUrl}")`);
  await screenshot(page, 'webhooks');

  await pushImage(server, 'alice', PW, 'acme/app', '1.0');
  const [push] = await messages(1);
  const payload = JSON.parse(push.body);
  assert.equal(payload.type, 'push');
  assert.equal(payload.repository, 'acme/app');
  assert.equal(payload.tag, '1.0');
  assert.equal(payload.actor, 'alice');
  assert.match(payload.digest, /^sha256:[0-9a-f]{64}$/);
  assert.ok(signedWith(secret, push), JSON.stringify(push.headers));

  await page.click(`a[aria-label="Deliveries of ${receiverUrl}"]`);
  await page.waitForURL(/\/a\/acme\/webhooks\/\d+$/);
  await assertLive(page, errors);
  const row = page.locator('table.deliveries tbody tr').first();
  assert.match(await row.textContent(), /push/);
  assert.match(await row.textContent(), /delivered \(1 attempt\)/);
  assert.match(await row.textContent(), /thanks from the receiver/);
  assert.match(await row.textContent(), /\d+ ms/);

  await page.click('button:has-text("Send test")');
  await page.waitForSelector('text=A ping message is on its way');
  const ping = (await messages(2))[1];
  assert.equal(JSON.parse(ping.body).type, 'ping');
  assert.ok(signedWith(secret, ping));
  await page.click('a:has-text("Refresh")');
  await page.waitForSelector('table.deliveries tbody tr:first-child td:has-text("ping")');
  await screenshot(page, 'webhook-deliveries');

  // Redeliver the push: the same message, with the same id.
  await page.click(`button[aria-label="Redeliver ${push.headers['webhook-id']}"]`);
  await page.waitForSelector('text=Sent again');
  const again = (await messages(3))[2];
  assert.equal(again.headers['webhook-id'], push.headers['webhook-id']);
  assert.equal(again.body, push.body);
  assert.ok(signedWith(secret, again));
});

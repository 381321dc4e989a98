// Journey: a user creates an access token in the portal, logs docker in with it and
// pushes; then revokes it in the portal, and docker is refused with the same secret.
// The secret is shown once, right after creation, and never again.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../helpers/server.js';
import { launch, newPage } from '../helpers/browser.js';
import { createToken, signIn } from '../helpers/actions.js';
import { assertLive, screenshot } from '../helpers/checks.js';
import { whyNoDocker, startDockerd, importImage } from '../helpers/docker.js';
import { selectors as s } from '../helpers/selectors.js';

const PW = 'e2e password 1';
const BASE = 'berth-e2e-token-base:1';
const LABEL = 'ci-runner';

describe('an access token logs docker in until it is revoked', { skip: whyNoDocker() ?? false }, () => {
  let server, engine, browser, page, errors, secret;

  before(async () => {
    server = await startServer();
    server.admin(['account', 'create', 'dock']);
    server.admin(['user', 'create', 'dana', '--account', 'dock', '--role', 'write'], PW);
    engine = await startDockerd();
    await importImage(engine, BASE);
    browser = await launch();
    ({ page, errors } = await newPage(browser));
    await signIn(page, server, 'dana', PW);
  });

  after(async () => {
    await browser?.close();
    await engine?.stop();
    server?.stop();
  });

  test('a push token created on the Tokens page shows its secret once', async () => {
    await page.click('nav a[href="/tokens"]');
    await page.waitForURL(server.url('/tokens'));
    await assertLive(page, errors);
    secret = await createToken(page, LABEL, 'push');
    assert.match(secret, /^berth_token_\w+$/);
    const row = await page.waitForSelector(s.tokenRow(LABEL));
    const cells = await row.$$eval('td', (tds) => tds.map((t) => t.textContent));
    assert.equal(cells[1], 'push', cells.join(' | '));
    await screenshot(page, 'token-journey-created');
  });

  test('docker logs in with the token and pushes', async () => {
    // As a person would in CI: the secret on stdin, never on the command line.
    const login = await engine.docker(['login', server.addr, '-u', 'dana', '--password-stdin'], { input: secret });
    assert.equal(login.code, 0, `${login.stdout}${login.stderr}`);
    assert.match(login.stdout, /Login Succeeded/);
    await engine.ok(['tag', BASE, `${server.addr}/dock/tok:1`]);
    const pushed = await engine.ok(['push', `${server.addr}/dock/tok:1`]);
    assert.match(pushed, /digest: sha256:/);
  });

  test('the secret is not in the Tokens page once it is reloaded', async () => {
    const response = await page.goto(server.url('/tokens'));
    // Neither in what the server sends nor in what the page becomes once hydrated.
    assert.ok(!(await response.text()).includes(secret), 'the server-rendered Tokens page contains the secret');
    await assertLive(page, errors);
    await page.waitForSelector(s.tokenRow(LABEL));
    assert.ok(!(await page.content()).includes(secret), 'the hydrated Tokens page contains the secret');
    // The list shows the token was used, by the docker login and push above.
    const cells = await page.$$eval(`${s.tokenRow(LABEL)} td`, (tds) => tds.map((t) => t.textContent));
    assert.notEqual(cells[4], 'never', `last used: ${cells.join(' | ')}`);
  });

  test('once revoked in the portal, the token no longer pushes nor logs docker in', async () => {
    await page.click(s.revokeToken(LABEL));
    await page.waitForSelector(s.revokeToken(LABEL), { state: 'detached' });
    await page.waitForSelector(`${s.tokenRow(LABEL)} :text-is("revoked")`);
    await screenshot(page, 'token-journey-revoked');
    // docker still holds the secret from its login: the registry must refuse it now.
    await engine.ok(['tag', BASE, `${server.addr}/dock/tok:2`]);
    const push = await engine.docker(['push', `${server.addr}/dock/tok:2`]);
    assert.notEqual(push.code, 0, `a push with a revoked token succeeded:\n${push.stdout}`);
    assert.match(push.stderr, /unauthorized|authentication required|denied/i, push.stderr);
    await engine.ok(['logout', server.addr]);
    const login = await engine.docker(['login', server.addr, '-u', 'dana', '--password-stdin'], { input: secret });
    assert.notEqual(login.code, 0, `docker login with a revoked token succeeded:\n${login.stdout}`);
    assert.match(login.stderr, /unauthorized|incorrect username or password/i, login.stderr);
  });
});

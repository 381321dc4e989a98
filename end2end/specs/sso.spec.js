// Journey: single sign-on with a real OpenID Provider on loopback (npm's
// oidc-provider) and Chromium. A person signs in with the SSO button at the
// provider's login form, lands on the account her group maps to, and the Docker
// Login button's credential pushes for her; after the group is taken from her and she
// signs out (also at the provider) and in again, she has no account and the same
// credential's push is refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../helpers/server.js';
import { startProvider } from '../helpers/oidc.js';
import { launch, newPage } from '../helpers/browser.js';
import { pushImage } from '../helpers/actions.js';
import { assertLive, expectAccessible, expectReflow, screenshot } from '../helpers/checks.js';
import { selectors as s } from '../helpers/selectors.js';
import { whyNoDocker, startDockerd, importImage } from '../helpers/docker.js';

const CLIENT_SECRET = 'a client secret only the test and Berth know';
// The provider's people; claims are read at every sign-in, so a change shows then.
const people = {
  ada: { groups: ['acme-devs', 'everyone'], name: 'Ada' },
  // Another person whose preferred username is taken by a user of Berth's own.
  'robert-sso': { username: 'bob', groups: [] },
};
const BASE = 'berth-e2e-base:1';
let server, provider, browser, engine;

/** A free loopback port: Berth's address goes into the provider's client first. */
async function freePort() {
  const probe = createServer();
  await new Promise((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

before(async () => {
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  provider = await startProvider({
    clientId: 'berth',
    clientSecret: CLIENT_SECRET,
    redirectUri: `${publicUrl}/auth/oidc/callback`,
    postLogoutRedirectUri: `${publicUrl}/sign-in`,
    people,
  });
  const secretFile = join(mkdtempSync(join(tmpdir(), 'berth-sso-')), 'client-secret');
  writeFileSync(secretFile, `${CLIENT_SECRET}\n`);
  server = await startServer([
    '--public-url', publicUrl,
    '--oidc-issuer', provider.issuer,
    '--oidc-client-id', 'berth',
    '--oidc-client-secret-file', secretFile,
    '--oidc-name', 'Test SSO',
  ], { listen: `127.0.0.1:${port}` });
  server.admin(['account', 'create', 'acme']);
  server.admin(['account', 'map-group', 'acme', 'acme-devs', 'admin']);
  browser = await launch();
  // The real docker CLI where it can run (make test runs as root with docker.io).
  if (!whyNoDocker()) engine = await startDockerd();
});

after(async () => {
  await engine?.stop();
  await browser?.close();
  server?.stop();
  await provider?.stop();
});

/** Signs in through the SSO button and the provider's form. */
async function ssoSignIn(page, login) {
  await page.goto(server.url('/sign-in'));
  await page.click('a:has-text("Sign in with Test SSO")');
  await page.waitForURL((u) => u.href.startsWith(`${provider.issuer}/interaction/`));
  await page.fill('#sso-login', login);
  await page.fill('#sso-password', 'anything');
  await page.click('button:has-text("Sign in")');
}

test('a person signs in with SSO, pushes with the Docker Login credential, and loses access with her group', async () => {
  const { page, errors } = await newPage(browser);
  await ssoSignIn(page, 'ada');
  await page.waitForURL(server.url('/a/acme'));
  await assertLive(page, errors);
  await screenshot(page, 'sso-landed');
  const mappings = server.admin(['account', 'groups', 'acme']);
  assert.deepEqual(mappings.map((m) => [m.group, m.role]), [['acme-devs', 'admin']]);

  // The Members page (hers to see, as an admin) says where her role came from.
  await page.goto(server.url('/a/acme/members'));
  const row = page.locator(s.memberRow('ada'));
  assert.match(await row.textContent(), /admin/);
  assert.match(await row.textContent(), /from SSO group acme-devs/);

  // docker uses Berth's own credential, which does not expire with the provider's.
  await page.goto(server.url('/a/acme'));
  await page.click(s.dockerLoginButton);
  const command = await page.textContent(s.loginCommand, { timeout: 10000 });
  const [, secret, user] = /^echo (\S+) \| docker login \S+ -u (\S+) --password-stdin$/.exec(command.trim());
  assert.equal(user, 'ada');
  await pushImage(server, user, secret, 'acme/app', '1.0');
  const image = `${server.addr}/acme/app`;
  if (engine) {
    const login = await engine.bash(command);
    assert.match(login.stdout, /Login Succeeded/, `${login.stdout}${login.stderr}`);
    await importImage(engine, BASE);
    await engine.ok(['tag', BASE, `${image}:docker`]);
    await engine.ok(['push', `${image}:docker`]);
  }

  // The group is taken from her; she signs out (at the provider too) and in again.
  people.ada.groups = ['everyone'];
  await page.click(s.signOutButton);
  await page.waitForURL((u) => u.href.startsWith(provider.issuer));
  await page.click('button:has-text("Yes, sign me out")');
  await page.waitForURL(server.url('/sign-in'));
  await ssoSignIn(page, 'ada');
  await page.waitForURL(server.url('/'));
  await assertLive(page, errors);
  await page.waitForSelector('text=You have no access to an account yet');
  await screenshot(page, 'sso-no-account');
  await assert.rejects(pushImage(server, user, secret, 'acme/app', '2.0'), /push: 40[13]/);
  if (engine) {
    // docker kept its login; the push it makes with it is refused now.
    await engine.ok(['tag', BASE, `${image}:refused`]);
    const refused = await engine.bash(`docker push ${image}:refused`);
    assert.notEqual(refused.code, 0, refused.stdout);
    assert.match(`${refused.stdout}${refused.stderr}`, /denied|unauthorized|authentication required/i);
  }
});

test('a person whose username is taken gets another and is told so', async () => {
  server.admin(['user', 'create', 'bob', '--account', 'acme', '--role', 'read'], 'e2e password 1');
  const { page, errors } = await newPage(browser);
  await ssoSignIn(page, 'robert-sso');
  await page.waitForURL(server.url('/'));
  await assertLive(page, errors);
  await page.waitForSelector('text=The username bob was taken here, so yours is bob-2');
  await page.waitForSelector('text=Signed in as bob-2');
  // Said once.
  await page.reload();
  await page.waitForSelector('text=Signed in as bob-2');
  assert.equal(await page.locator('text=was taken here').count(), 0);
});

test('password sign-in is for site admins only once single sign-on is on', async () => {
  server.admin(['user', 'create', 'root', '--site-admin'], 'e2e password 1');
  server.admin(['user', 'create', 'bea', '--account', 'acme', '--role', 'read'], 'e2e password 1');
  const { page } = await newPage(browser);
  await page.goto(server.url('/sign-in'));
  await page.fill(s.username, 'bea');
  await page.fill(s.password, 'e2e password 1');
  await page.click(s.signInButton);
  await page.waitForSelector('text=passwords are for site admins only');
  await page.fill(s.username, 'root');
  await page.fill(s.password, 'e2e password 1');
  await page.click(s.signInButton);
  await page.waitForURL(server.url('/'));
});

test('the sign-in page with the SSO button has no serious accessibility violation', async (t) => {
  const looks = {
    light: { colorScheme: 'light' },
    dark: { colorScheme: 'dark' },
    phone: { colorScheme: 'light', viewport: { width: 360, height: 740 } },
  };
  for (const [variant, look] of Object.entries(looks)) {
    const { page, errors, context } = await newPage(browser, look);
    try {
      await page.goto(server.url('/sign-in'));
      await assertLive(page, errors);
      await page.waitForSelector('a:has-text("Sign in with Test SSO")');
      const mild = await expectAccessible(page, `a11y-sign-in-sso${variant === 'light' ? '' : `-${variant}`}`);
      for (const line of mild) t.diagnostic(line);
      if (look.viewport) await expectReflow(page, 'sign-in-sso');
    } finally {
      await context.close();
    }
  }
});

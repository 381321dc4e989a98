// Journey: every page of the portal, signed out and signed in as a site admin, in the
// light and the dark colour scheme and on a phone, has no serious or critical axe violation.
import { test, before, after } from 'node:test';
import { startServer } from '../helpers/server.js';
import { launch, newPage } from '../helpers/browser.js';
import { pushImage, signIn } from '../helpers/actions.js';
import { assertLive, expectAccessible, expectReflow } from '../helpers/checks.js';
import { selectors as s } from '../helpers/selectors.js';

const PW = 'e2e password 1';
// As long as real names are: with it the Docker Login command is wider than its box.
const ADMIN = 'administrator';
let server, browser, setupPath, signedIn, hookId;

// Every page is scanned in each look: the two colour schemes have their own colours,
// and a phone-sized window reflows tables and lets long commands scroll.
const LOOKS = {
  light: { colorScheme: 'light' },
  dark: { colorScheme: 'dark' },
  phone: { colorScheme: 'light', viewport: { width: 360, height: 740 } },
};

// Each entry is one page in one state; every page of the portal is here.
const PAGES = [
  { name: 'sign-in', path: '/sign-in', signedOut: true },
  { name: 'sign-in-refused', path: '/sign-in', signedOut: true, prepare: refuseSignIn },
  { name: 'setup', path: () => setupPath, signedOut: true },
  { name: 'home-signed-out', path: '/', signedOut: true },
  { name: 'home', path: '/' },
  { name: 'repositories', path: '/a/acme' },
  { name: 'repositories-docker-login', path: '/a/acme', prepare: showDockerLogin },
  { name: 'repositories-empty', path: '/a/globex' },
  { name: 'repository', path: '/r/acme/web' },
  { name: 'repository-confirm-delete-tag', path: '/r/acme/web', prepare: openDeleteTagDialog },
  { name: 'tokens', path: '/tokens' },
  { name: 'nodes', path: '/a/acme/nodes' },
  { name: 'activity', path: '/a/acme/activity' },
  { name: 'not-found', path: '/no/such/page' },
  { name: 'members', path: '/a/acme/members' },
  { name: 'accounts', path: '/accounts' },
  { name: 'password', path: '/password' },
  { name: 'tag', path: '/t/acme/web:1.0' },
  { name: 'trash', path: '/a/acme/trash' },
  { name: 'explore', path: '/explore' },
  { name: 'immutability', path: '/a/acme/immutability' },
  { name: 'retention', path: '/a/acme/retention' },
  { name: 'retention-preview', path: '/a/acme/retention', prepare: previewRetention },
  { name: 'explore-signed-out', path: '/explore', signedOut: true },
  { name: 'repository-public-signed-out', path: '/r/acme/web', signedOut: true },
  { name: 'tag-public-signed-out', path: '/t/acme/web:1.0', signedOut: true },
  { name: 'repository-confirm-make-public', path: '/r/acme/api', prepare: openMakePublicDialog },
  { name: 'webhooks', path: '/a/acme/webhooks' },
  { name: 'webhooks-created', path: '/a/acme/webhooks', prepare: createWebhook },
  { name: 'webhook-deliveries', path: () => `/a/acme/webhooks/${hookId}` },
];

async function refuseSignIn(page) {
  await page.fill(s.username, ADMIN);
  await page.fill(s.password, 'not it');
  await page.click(s.signInButton);
  await page.waitForSelector(s.error);
}

async function showDockerLogin(page) {
  await page.click(s.dockerLoginButton);
  await page.waitForSelector(s.loginCommand, { timeout: 10000 });
}

async function openDeleteTagDialog(page) {
  await page.click('button[aria-label="Delete tag 1.0"]');
  await page.waitForSelector('[role="dialog"] #confirm');
}

async function previewRetention(page) {
  await page.fill('#retention-keep-last', '0');
  await page.click('button:has-text("Preview")');
  await page.waitForSelector('[data-testid="retention-preview"] table.removals');
}

async function createWebhook(page) {
  await page.fill('#webhook-url', 'https://hooks.example.com/berth');
  await page.click('button:has-text("Create webhook")');
  await page.waitForSelector('[data-testid="new-secret"]');
}

async function openMakePublicDialog(page) {
  await page.click('button:has-text("Make public")');
  await page.waitForSelector('[role="dialog"] #confirm');
}

before(async () => {
  server = await startServer();
  // The one-time setup link is logged only while there is no user yet.
  setupPath = /\/setup\?token=\w+/.exec(server.log.join(''))?.[0];
  server.admin(['user', 'create', ADMIN, '--site-admin'], PW);
  server.admin(['account', 'create', 'acme']);
  server.admin(['account', 'create', 'globex']);
  server.admin(['user', 'create', 'alice', '--account', 'acme', '--role', 'write'], PW);
  server.admin(['token', 'create', '--user', ADMIN, '--name', 'laptop']);
  server.admin(['node', 'create', 'edge-1', '--account', 'acme']);
  // A webhook on loopback, which this server may not reach: its deliveries page lists
  // the pushes' messages with why each failed and when it is retried.
  hookId = server.admin(['webhook', 'create', '--account', 'acme', '--url', 'http://127.0.0.1:9/hook']).id;
  await pushImage(server, ADMIN, PW, 'acme/web', '1.0');
  await pushImage(server, ADMIN, PW, 'acme/api', 'v2');
  // acme/web is public: its pages are scanned as a visitor sees them too.
  server.admin(['repo', 'set-visibility', 'acme/web', 'public']);
  // acme/api's v2 is immutable: its row is marked, and the rule is listed.
  server.admin(['immutability', 'add', 'acme', 'v*', '--repository', 'api']);
  // A retention policy is listed; the preview is scanned with the tags it would trash.
  server.admin(['retention', 'set', 'acme', '--keep-last', '5', '--exclude', 'latest']);
  browser = await launch();
  // One sign-in whose session cookie every signed-in page reuses.
  const { page, context } = await newPage(browser);
  await signIn(page, server, ADMIN, PW);
  signedIn = await context.storageState();
  await context.close();
});

after(async () => {
  await browser?.close();
  server?.stop();
});

for (const p of PAGES) {
  test(`${p.name} has no serious accessibility violation`, async (t) => {
    const path = typeof p.path === 'function' ? p.path() : p.path;
    if (!path) throw new Error(`no path for ${p.name}; the server log was:\n${server.log.join('')}`);
    for (const [variant, look] of Object.entries(LOOKS)) {
      await t.test(variant, async (t) => {
        const storageState = p.signedOut ? undefined : signedIn;
        const { page, errors, context } = await newPage(browser, { ...look, storageState });
        try {
          await page.goto(server.url(path));
          await assertLive(page, errors);
          await p.prepare?.(page);
          const mild = await expectAccessible(page, `a11y-${p.name}${variant === 'light' ? '' : `-${variant}`}`);
          for (const line of mild) t.diagnostic(line);
          if (look.viewport) await expectReflow(page, p.name);
        } finally {
          await context.close();
        }
      });
    }
  });
}

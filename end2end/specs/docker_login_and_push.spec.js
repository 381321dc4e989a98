// Journey: a user copies the Docker Login command from the portal, pastes it into a
// shell, pushes with the real docker CLI, watches the repository appear on the open
// page, pulls with the URI the portal shows, and deletes the tag in the portal.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../helpers/server.js';
import { launch, newPage } from '../helpers/browser.js';
import { signIn } from '../helpers/actions.js';
import { assertLive, screenshot } from '../helpers/checks.js';
import { whyNoDocker, startDockerd, importImage } from '../helpers/docker.js';
import { selectors as s } from '../helpers/selectors.js';

const PW = 'e2e password 1';
const BASE = 'berth-e2e-base:1';

/** The digest part of `docker image inspect`'s first RepoDigest of an image. */
async function repoDigest(engine, image) {
  const out = await engine.ok(['image', 'inspect', '--format', '{{index .RepoDigests 0}}', image]);
  return out.trim().split('@')[1];
}

describe('docker login and push', { skip: whyNoDocker() ?? false }, () => {
  let server, engine, browser, page, errors, image;

  before(async () => {
    server = await startServer();
    server.admin(['account', 'create', 'harbor']);
    server.admin(['user', 'create', 'carol', '--account', 'harbor', '--role', 'write'], PW);
    image = `${server.addr}/harbor/app:1.0`;
    engine = await startDockerd();
    browser = await launch();
    let context;
    ({ page, errors, context } = await newPage(browser));
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url('') });
    await signIn(page, server, 'carol', PW);
  });

  after(async () => {
    await browser?.close();
    await engine?.stop();
    server?.stop();
  });

  test('the copied Docker Login command logs docker in', async () => {
    await page.goto(server.url('/a/harbor'));
    await assertLive(page, errors);
    await page.click(s.dockerLoginButton);
    const shown = await page.textContent(s.loginCommand, { timeout: 10000 });
    await page.click(s.copyLoginCommand);
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    assert.equal(copied, shown);
    await screenshot(page, 'docker-journey-login');
    const login = await engine.bash(copied);
    assert.match(login.stdout, /Login Succeeded/, `${login.stdout}${login.stderr}`);
  });

  test('a push shows on the open Repositories page without a reload', async () => {
    await importImage(engine, BASE);
    await engine.ok(['tag', BASE, image]);
    const pushed = await engine.ok(['push', image]);
    assert.match(pushed, /digest: sha256:/);
    // The page was opened before the push and is not reloaded: the row comes live.
    const row = await page.waitForSelector(`${s.repositoryRows} td.name a[href="/r/harbor/app"]`, { timeout: 5000 })
      .catch(() => null);
    await screenshot(page, 'docker-journey-pushed');
    assert.ok(row, 'harbor/app did not appear on the open Repositories page within 5 s of the push');
  });

  test('the Repository page shows the pushed digest, and its pull command pulls', async () => {
    await page.goto(server.url('/r/harbor/app'));
    await assertLive(page, errors);
    const shown = await page.getAttribute(`table.tags tr:has(td.name a:text-is("1.0")) code[title]`, 'title');
    assert.equal(shown, await repoDigest(engine, image));
    await page.click('button[aria-label="Copy pull command"]');
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    const m = /^docker pull (\S+):<tag>$/.exec(copied);
    assert.ok(m, `a pull command for any tag: ${copied}`);
    assert.equal(m[1], `${server.addr}/harbor/app`);
    await screenshot(page, 'docker-journey-repository');
    await engine.ok(['rmi', image, BASE]);
    await engine.ok(['pull', `${m[1]}:1.0`]);
    assert.equal(await repoDigest(engine, image), shown);
  });

  test('deleting tag 1.0 in the dialog makes docker pull of it fail', async () => {
    await page.goto(server.url('/r/harbor/app'));
    await assertLive(page, errors);
    await page.click('button[aria-label="Delete tag 1.0"]');
    const confirm = page.locator('[role="dialog"] button[type="submit"]:has-text("Delete tag")');
    for (const wrong of ['', '1', '1.', '1.0 ', '1.00', 'app:1.0', 'harbor/app:1.0']) {
      await page.fill('#confirm', wrong);
      assert.equal(await confirm.isDisabled(), true, `"${wrong}" keeps Delete tag disabled`);
    }
    await page.fill('#confirm', '1.0');
    assert.equal(await confirm.isDisabled(), false);
    await screenshot(page, 'docker-journey-confirm-delete-tag');
    await confirm.click();
    await page.waitForSelector('[role="dialog"]', { state: 'detached' });
    await page.waitForSelector('table.tags td.name a:text-is("1.0")', { state: 'detached' });
    await screenshot(page, 'docker-journey-tag-deleted');
    await engine.ok(['rmi', image]);
    const pull = await engine.docker(['pull', image]);
    assert.notEqual(pull.code, 0, `pull of a deleted tag succeeded:\n${pull.stdout}`);
    assert.match(pull.stderr, /not found|manifest unknown/i, pull.stderr);
  });
});

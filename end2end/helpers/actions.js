// What a person or a client does: push over the registry API, sign in in the browser.
import { createHash } from 'node:crypto';
import { selectors as s } from './selectors.js';

const sha256 = (buf) => 'sha256:' + createHash('sha256').update(buf).digest('hex');

/** A registry bearer token for `user`, as docker gets one: Basic credentials for a scope. */
export async function registryToken(server, user, password, scope) {
  const auth = 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
  const r = await fetch(server.url(`/auth/token?service=berth&scope=${scope}`), { headers: { authorization: auth } });
  if (r.status !== 200) throw new Error(`token for ${user} (${scope}): ${r.status} ${await r.text()}`);
  return (await r.json()).token;
}

const token = (server, user, password, repo) => registryToken(server, user, password, `repository:${repo}:pull,push`);

/** Pushes a one-layer image with the registry API and returns its manifest digest. */
export async function pushImage(server, user, password, repo, tag) {
  const bearer = { authorization: `Bearer ${await token(server, user, password, repo)}` };
  const blob = async (bytes) => {
    const d = sha256(bytes);
    const r = await fetch(server.url(`/v2/${repo}/blobs/uploads/?digest=${d}`), { method: 'POST', headers: bearer, body: bytes });
    if (r.status !== 201) throw new Error(`blob push: ${r.status} ${await r.text()}`);
    return { digest: d, size: bytes.length };
  };
  const config = await blob(Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'));
  const layer = await blob(Buffer.from(`layer of ${repo}:${tag}`.repeat(100)));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }],
  }));
  const r = await fetch(server.url(`/v2/${repo}/manifests/${tag}`), {
    method: 'PUT', headers: { ...bearer, 'content-type': 'application/vnd.oci.image.manifest.v1+json' }, body: manifest,
  });
  if (r.status !== 201) throw new Error(`manifest push: ${r.status}`);
  return sha256(manifest);
}

/**
 * Signs in with the form, as a person does, and waits to land wherever the portal sends
 * them (their one account's Repositories page, the home page, or the page they asked
 * for). Returns the path landed on.
 */
export async function signIn(page, server, user, password, from = '/sign-in') {
  await page.goto(server.url(from));
  await page.fill(s.username, user);
  await page.fill(s.password, password);
  await Promise.all([
    page.waitForURL((u) => !u.pathname.startsWith('/sign-in')),
    page.click(s.signInButton),
  ]);
  return new URL(page.url()).pathname + new URL(page.url()).search;
}

/** Signs out with the header's button, as a person does, and waits for the sign-in page. */
export async function signOut(page, server) {
  await Promise.all([page.waitForURL(server.url('/sign-in')), page.click(s.signOutButton)]);
  await page.waitForSelector(s.signInLink);
}

/**
 * Calls a server function from inside the page, the way the app's own code does: a
 * same-origin fetch, so the browser sets Origin and sends the session cookie. Resolves
 * to { status, body } whatever the status.
 */
export async function callServerFunction(page, endpoint, body, contentType) {
  return page.evaluate(async ({ endpoint, body, contentType }) => {
    const r = await fetch(`/api/${endpoint}`, {
      method: 'POST',
      headers: { 'Content-Type': contentType, Accept: 'application/json' },
      body,
    });
    return { status: r.status, body: await r.text() };
  }, { endpoint, body, contentType });
}

/** Creates an access token on the Tokens page (already open) and returns its secret. */
export async function createToken(page, label, access) {
  await page.fill(s.tokenLabel, label);
  await page.selectOption(s.tokenAccess, access);
  await page.click(s.createTokenButton);
  return page.textContent(s.newSecret, { timeout: 10000 });
}

// What a person or a client does: push over the registry API, sign in in the browser.
import { createHash } from 'node:crypto';
import { selectors as s } from './selectors.js';

const sha256 = (buf) => 'sha256:' + createHash('sha256').update(buf).digest('hex');

async function token(server, user, password, repo) {
  const auth = 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
  const r = await fetch(server.url(`/auth/token?service=berth&scope=repository:${repo}:pull,push`), { headers: { authorization: auth } });
  return (await r.json()).token;
}

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

export async function signIn(page, server, user, password) {
  await page.goto(server.url('/sign-in'));
  await page.fill(s.username, user);
  await page.fill(s.password, password);
  await Promise.all([page.waitForURL(server.url('/')), page.click(s.signInButton)]);
}

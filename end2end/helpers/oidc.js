// A real OpenID Provider on loopback: npm's oidc-provider (a certified implementation)
// with one static confidential client, a `groups` claim and a login form of our own
// (any password; the login name is the subject; no asset from outside loopback, as the
// provider's development pages would load). Consent is granted on the person's behalf.
// Stopped with stop().
import Provider from 'oidc-provider';
import { createServer } from 'node:http';

/**
 * Starts the provider. `redirectUri` is the client's one redirect URI; `people` maps
 * login names to { groups, email, name } and can be changed while it runs (claims are
 * read at every sign-in).
 */
export async function startProvider({ clientId, clientSecret, redirectUri, postLogoutRedirectUri, people }) {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      post_logout_redirect_uris: postLogoutRedirectUri ? [postLogoutRedirectUri] : [],
      response_types: ['code'],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    scopes: ['openid', 'profile', 'email', 'groups'],
    claims: {
      openid: ['sub'],
      profile: ['preferred_username', 'name'],
      email: ['email', 'email_verified'],
      groups: ['groups'],
    },
    // As certified providers do for the code flow: profile claims (and groups) come
    // from the userinfo endpoint, not the ID token.
    conformIdTokenClaims: true,
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      // The confirmation page of our own (the default one is styled for people).
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx, form) => {
          ctx.body = page(`<h1>Sign out of Test SSO?</h1>${form}<button type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>`);
        },
      },
    },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, AuthorizationCode: 60, IdToken: 600 },
    findAccount: async (ctx, id) => ({
      accountId: id,
      claims: async () => {
        const p = people[id] || {};
        return {
          sub: id,
          preferred_username: p.username || id,
          name: p.name || id,
          email: p.email || `${id}@example.com`,
          email_verified: true,
          groups: p.groups || [],
        };
      },
    }),
  });
  // Log nothing on the test's stderr but errors.
  provider.on('server_error', (ctx, err) => console.error('oidc-provider:', err));
  const callback = provider.callback();
  server.on('request', (req, res) => {
    const m = /^\/interaction\/([\w-]+)(\/login)?$/.exec(req.url);
    if (!m) return callback(req, res);
    interact(provider, people, req, res, Boolean(m[2])).catch((err) => {
      console.error('oidc-provider interaction:', err);
      res.writeHead(500).end(String(err));
    });
  });
  return {
    issuer,
    stop: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(resolve); }),
  };
}

const page = (body) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Test SSO</title></head><body>${body}</body></html>`;

// The interaction pages: a login form (its POST finishes the login prompt), and the
// consent prompt granted at once for what the client asked.
async function interact(provider, people, req, res, posted) {
  const details = await provider.interactionDetails(req, res);
  const { uid, prompt, params, session } = details;
  if (prompt.name === 'login') {
    if (!posted) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(page(`<h1>Test SSO sign-in</h1>
<form method="post" action="/interaction/${uid}/login">
<label>Username <input name="login" id="sso-login" autocomplete="username" required></label>
<label>Password <input name="password" id="sso-password" type="password" autocomplete="current-password"></label>
<button type="submit">Sign in</button></form>`));
      return;
    }
    const form = new URLSearchParams(await new Promise((resolve) => {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => resolve(body));
    }));
    const login = form.get('login') || '';
    if (!(login in people)) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(page('<p role="alert">No such person.</p>'));
      return;
    }
    await provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
    return;
  }
  // consent
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
  if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
  if (prompt.details.missingResourceScopes) {
    for (const [indicator, scope] of Object.entries(prompt.details.missingResourceScopes)) {
      grant.addResourceScope(indicator, scope.join(' '));
    }
  }
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

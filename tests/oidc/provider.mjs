// Loopback OpenID Connect provider for the ioc-console integration tests.
//
// Built on `oidc-provider` (panva), pinned in ./package.json. Start it with
//
//   (cd tests/oidc && npm ci) && OIDC_PORT=0 node tests/oidc/provider.mjs
//
// It listens on 127.0.0.1 only (plain http, issuer `http://127.0.0.1:<port>`),
// prints exactly one line `ready http://127.0.0.1:<port>` to stdout once it
// accepts connections, logs to stderr only, and runs until killed. All state
// (sessions, grants, tokens) lives in memory; the RS256 signing key is
// generated at startup.
//
// Environment:
//   OIDC_PORT         port to listen on, 0 = any free port (default 0)
//   OIDC_ACCESS_TTL   access token lifetime, seconds (default 300)
//   OIDC_ID_TTL       ID token lifetime, seconds (default 300)
//   OIDC_REFRESH_TTL  refresh token lifetime, seconds (default 3600)
//   OIDC_DEVICE_TTL   device code lifetime, seconds (default 600)
//
// Clients (public, native, PKCE S256): `ioc-console` and `other-app`.
// Users: op1, lead1, tech1, multi, norole; password `secret` for all.
// Login and consent pages are our own (see the handlers below); consent is
// granted automatically so a non-browser client only ever sees the login form.

import { createServer } from 'node:http';
import { generateKeyPairSync, randomBytes } from 'node:crypto';

// Keep stdout for the single `ready` line: oidc-provider prints its NOTICEs
// with console.info, which goes to stdout. Route every console method to
// stderr before the library is loaded.
for (const method of ['log', 'info', 'debug']) {
  console[method] = (...args) => console.error(...args);
}

const { default: Provider, errors } = await import('oidc-provider');

function envInt(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  }
  return value;
}

const PORT = envInt('OIDC_PORT', 0);
const ACCESS_TTL = envInt('OIDC_ACCESS_TTL', 300);
const ID_TTL = envInt('OIDC_ID_TTL', 300);
const REFRESH_TTL = envInt('OIDC_REFRESH_TTL', 3600);
const DEVICE_TTL = envInt('OIDC_DEVICE_TTL', 600);
const HOST = '127.0.0.1';

const RESOURCE = 'urn:ioc:backend';
const RESOURCE_AUDIENCE = 'ioc-backend';
const RESOURCE_SCOPE = 'openid profile offline_access roles';
const PASSWORD = 'secret';

const USERS = new Map([
  ['op1', { name: 'Nguyễn Văn An', roles: ['ioc-operator'] }],
  ['lead1', { name: 'Trần Thị Bình', roles: ['ioc-leader'] }],
  ['tech1', { name: 'Lê Văn Cường', roles: ['ioc-technician'] }],
  ['multi', { name: 'Phạm Thị Dung', roles: ['ioc-operator', 'ioc-technician'] }],
  ['norole', { name: 'Hoàng Văn Em' }],
]);

// Claims of a user, as they appear in the ID token (and, minus `sub`, in the
// access token). `realm_access` is left out entirely for users without roles.
function userClaims(accountId) {
  const user = USERS.get(accountId);
  const claims = { sub: accountId, name: user.name, preferred_username: accountId };
  if (user.roles) claims.realm_access = { roles: [...user.roles] };
  return claims;
}

function client(clientId, clientName) {
  return {
    client_id: clientId,
    client_name: clientName,
    application_type: 'native',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
    response_types: ['code'],
    // RFC 8252 loopback redirect: any port is accepted for native clients.
    redirect_uris: ['http://127.0.0.1/callback'],
    // Any port accepted too, see the postLogoutRedirectUriAllowed patch below.
    post_logout_redirect_uris: ['http://127.0.0.1/signed-out'],
  };
}

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = {
  ...privateKey.export({ format: 'jwk' }),
  kid: `test-${randomBytes(6).toString('hex')}`,
  alg: 'RS256',
  use: 'sig',
};

const escapeHtml = (value) => String(value)
  .replace(/&/g, '&amp;')
  .replace(/</g, '&lt;')
  .replace(/>/g, '&gt;')
  .replace(/"/g, '&quot;')
  .replace(/'/g, '&#39;');

function page(title, body) {
  return `<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
${body}
</body>
</html>
`;
}

// Pulls `action` and the hidden `xsrf` value out of the forms oidc-provider
// hands to the *Source helpers, so our pages can render plain forms.
function formParts(form) {
  const action = /action="([^"]*)"/.exec(form)?.[1];
  const xsrf = /name="xsrf" value="([^"]*)"/.exec(form)?.[1];
  return { action, xsrf };
}

const server = createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(PORT, HOST, () => {
    server.off('error', reject);
    resolve();
  });
});
const ISSUER = `http://${HOST}:${server.address().port}`;

const configuration = {
  clients: [client('ioc-console', 'IOC Console'), client('other-app', 'Other App')],
  jwks: { keys: [signingKey] },
  cookies: {
    keys: ['ioc-console-test-cookie-key-1', 'ioc-console-test-cookie-key-2'],
    // Plain http on loopback: no Secure flag is set, so avoid SameSite=None
    // (and the extra `.legacy` cookies oidc-provider sets along with it).
    long: { httpOnly: true, sameSite: 'lax', signed: true },
    short: { httpOnly: true, sameSite: 'lax', signed: true },
  },
  responseTypes: ['code'],
  scopes: ['openid', 'offline_access', 'profile', 'roles'],
  claims: {
    openid: ['sub', 'name', 'preferred_username', 'realm_access'],
    profile: ['name', 'preferred_username'],
    roles: ['realm_access'],
    acr: null,
    sid: null,
    auth_time: null,
    iss: null,
  },
  // Put the scope claims into the ID token itself, not only into userinfo.
  conformIdTokenClaims: false,
  pkce: { methods: ['S256'], required: () => true },
  async findAccount(ctx, sub) {
    if (!USERS.has(sub)) return undefined;
    return {
      accountId: sub,
      async claims() {
        return userClaims(sub);
      },
    };
  },
  async extraTokenClaims(ctx, token) {
    if (token.kind !== 'AccessToken' || !token.accountId || !USERS.has(token.accountId)) {
      return undefined;
    }
    const { sub, ...claims } = userClaims(token.accountId);
    return claims;
  },
  // Refresh tokens for every client allowed the refresh_token grant, whether or
  // not offline_access ended up in the granted scope.
  async issueRefreshToken(ctx, theClient) {
    return theClient.grantTypeAllowed('refresh_token');
  },
  ttl: {
    AccessToken: (ctx, token) => token.resourceServer?.accessTokenTTL || ACCESS_TTL,
    AuthorizationCode: 60,
    DeviceCode: DEVICE_TTL,
    IdToken: ID_TTL,
    RefreshToken: REFRESH_TTL,
    Interaction: 3600,
    Session: 24 * 3600,
    Grant: 24 * 3600,
  },
  interactions: {
    url: (ctx, interaction) => `/interaction/${interaction.uid}`,
  },
  renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = page('Error', Object.entries(out)
      .map(([key, value]) => `<p><strong>${escapeHtml(key)}</strong>: <span id="${escapeHtml(key)}">${escapeHtml(value)}</span></p>`)
      .join('\n'));
  },
  features: {
    devInteractions: { enabled: false },
    // The access token is for the backend, not for userinfo: claims are in the
    // ID token, so there is no userinfo endpoint.
    userinfo: { enabled: false },
    revocation: { enabled: true },
    introspection: { enabled: true },
    rpInitiatedLogout: {
      enabled: true,
      async logoutSource(ctx, form) {
        // A self-contained form: the `logout=yes` field is inside it (the stock
        // page puts it on a button outside the form). Auto-submits in browsers.
        const { action, xsrf } = formParts(form);
        ctx.type = 'html';
        ctx.body = page('Sign out', `<form id="op.logoutForm" method="post" action="${escapeHtml(action)}">
<input type="hidden" name="xsrf" value="${escapeHtml(xsrf)}">
<input type="hidden" name="logout" value="yes">
<button type="submit">Sign out</button>
</form>
<script>document.forms[0].submit();</script>`);
      },
      async postLogoutSuccessSource(ctx) {
        ctx.type = 'html';
        ctx.body = page('Signed out', '<p id="signed-out">You are signed out.</p>');
      },
    },
    deviceFlow: {
      enabled: true,
      async userCodeInputSource(ctx, form, out, err) {
        const { action, xsrf } = formParts(form);
        let message = '';
        if (err && (err.userCode || err.name === 'NoCodeError')) {
          message = '<p class="error" id="error">The code you entered is incorrect. Try again.</p>';
        } else if (err && err.name === 'AbortedError') {
          message = '<p class="error" id="error">The sign-in request was interrupted.</p>';
        } else if (err) {
          message = '<p class="error" id="error">There was an error processing your request.</p>';
        }
        ctx.type = 'html';
        ctx.body = page('Device sign-in', `${message}
<form id="op.deviceInputForm" method="post" action="${escapeHtml(action)}">
<input type="hidden" name="xsrf" value="${escapeHtml(xsrf)}">
<input type="text" name="user_code" value="">
<button type="submit">Continue</button>
</form>`);
      },
      async userCodeConfirmSource(ctx, form, theClient, deviceInfo, userCode) {
        const { action, xsrf } = formParts(form);
        ctx.type = 'html';
        ctx.body = page('Confirm device', `<p>${escapeHtml(theClient.clientName || theClient.clientId)} shows the code <code id="user_code">${escapeHtml(userCode)}</code>.</p>
<form id="op.deviceConfirmForm" method="post" action="${escapeHtml(action)}">
<input type="hidden" name="xsrf" value="${escapeHtml(xsrf)}">
<input type="hidden" name="user_code" value="${escapeHtml(userCode)}">
<input type="hidden" name="confirm" value="yes">
<button type="submit">Continue</button>
</form>`);
      },
      async successSource(ctx) {
        ctx.type = 'html';
        ctx.body = page('Device signed in', '<p id="device-success">Sign-in successful, you can return to your device.</p>');
      },
    },
    resourceIndicators: {
      enabled: true,
      // Every request is for the backend unless it names a resource.
      async defaultResource(ctx, theClient, oneOf) {
        if (oneOf) return oneOf.includes(RESOURCE) ? RESOURCE : oneOf[0];
        return RESOURCE;
      },
      // Token requests (code, refresh, device) reuse the granted resource
      // without a `resource` parameter.
      async useGrantedResource() {
        return true;
      },
      async getResourceServerInfo(ctx, resourceIndicator) {
        if (resourceIndicator !== RESOURCE) throw new errors.InvalidTarget();
        return {
          scope: RESOURCE_SCOPE,
          audience: RESOURCE_AUDIENCE,
          accessTokenTTL: ACCESS_TTL,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
};

const provider = new Provider(ISSUER, configuration);

// RFC 8252 §7.3 for post_logout_redirect_uri as well: a registered loopback
// http URI matches any port (oidc-provider only does this for redirect_uri).
{
  const original = provider.Client.prototype.postLogoutRedirectUriAllowed;
  provider.Client.prototype.postLogoutRedirectUriAllowed = function postLogoutRedirectUriAllowed(value) {
    if (original.call(this, value)) return true;
    let parsed;
    try {
      parsed = new URL(value);
    } catch {
      return false;
    }
    if (this.applicationType !== 'native' || parsed.protocol !== 'http:'
      || !['127.0.0.1', 'localhost', '[::1]'].includes(parsed.hostname)) {
      return false;
    }
    parsed.port = '';
    return this.postLogoutRedirectUris.some((allowed) => {
      try {
        const registered = new URL(allowed);
        registered.port = '';
        return registered.href === parsed.href;
      } catch {
        return false;
      }
    });
  };
}

provider.on('server_error', (ctx, err) => console.error('oidc server_error', err));
for (const event of ['authorization.error', 'grant.error', 'end_session.error', 'revocation.error', 'introspection.error', 'code_verification.error', 'device_resume.error', 'resume.error']) {
  provider.on(event, (ctx, err) => console.error(`oidc ${event}: ${err.error || err.name}: ${err.error_description || err.message}`));
}

// --- interactions (login + automatic consent) -------------------------------

function send(res, status, html, headers = {}) {
  const body = Buffer.from(html, 'utf8');
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': body.length,
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(body);
}

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 64 * 1024) throw new Error('request body too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function loginPage(uid, login, error) {
  const message = error ? `<p class="error" id="error">${escapeHtml(error)}</p>\n` : '';
  return page('Sign in', `${message}<form id="login" method="post" action="/interaction/${escapeHtml(uid)}/login">
<input type="text" name="login" value="${escapeHtml(login || '')}">
<input type="password" name="password" value="">
<button type="submit">Sign in</button>
</form>
<p><a href="/interaction/${escapeHtml(uid)}/abort">Cancel</a></p>`);
}

// Grants everything the consent prompt reports missing, then resumes.
async function autoConsent(req, res, interaction) {
  const { prompt: { details }, params, session, grantId } = interaction;
  const grant = grantId
    ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '));
  if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
  if (details.missingResourceScopes) {
    for (const [indicator, scopes] of Object.entries(details.missingResourceScopes)) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
  }
  const result = { consent: { grantId: await grant.save() } };
  await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: true });
}

async function interactionFor(req, res, uid) {
  const interaction = await provider.interactionDetails(req, res);
  if (interaction.uid !== uid) throw new errors.SessionNotFound('interaction session id mismatch');
  return interaction;
}

async function handleInteraction(req, res, uid, action) {
  const interaction = await interactionFor(req, res, uid);
  const { prompt, params } = interaction;

  if (action === 'abort') {
    await provider.interactionFinished(req, res, {
      error: 'access_denied',
      error_description: 'End-User aborted interaction',
    }, { mergeWithLastSubmission: false });
    return;
  }

  if (action === 'show') {
    if (prompt.name === 'login') {
      send(res, 200, loginPage(uid, params.login_hint));
    } else if (prompt.name === 'consent') {
      await autoConsent(req, res, interaction);
    } else {
      send(res, 400, page('Error', `<p id="error">unsupported prompt ${escapeHtml(prompt.name)}</p>`));
    }
    return;
  }

  // action === 'login'
  if (prompt.name !== 'login') {
    send(res, 400, page('Error', '<p id="error">this interaction does not expect a login</p>'));
    return;
  }
  const form = await readForm(req);
  const login = (form.get('login') || '').trim();
  const password = form.get('password') || '';
  if (!USERS.has(login) || password !== PASSWORD) {
    console.error(`login failed for ${JSON.stringify(login)}`);
    send(res, 200, loginPage(uid, login, 'Invalid username or password.'));
    return;
  }
  console.error(`login ok for ${login}`);
  await provider.interactionFinished(req, res, { login: { accountId: login } }, {
    mergeWithLastSubmission: false,
  });
}

// --- HTTP dispatch -----------------------------------------------------------

const providerCallback = provider.callback();

server.on('request', async (req, res) => {
  try {
    const url = new URL(req.url, ISSUER);
    const path = url.pathname;
    let match;
    if (req.method === 'GET' && (match = /^\/interaction\/([^/]+)$/.exec(path))) {
      await handleInteraction(req, res, match[1], 'show');
      return;
    }
    if (req.method === 'POST' && (match = /^\/interaction\/([^/]+)\/login$/.exec(path))) {
      await handleInteraction(req, res, match[1], 'login');
      return;
    }
    if ((req.method === 'GET' || req.method === 'POST') && (match = /^\/interaction\/([^/]+)\/abort$/.exec(path))) {
      await handleInteraction(req, res, match[1], 'abort');
      return;
    }
    if (req.method === 'GET' && path === '/auth') {
      // oidc-provider drops `offline_access` unless the request has
      // prompt=consent (OIDC Core 11). Consent is automatic here anyway (and
      // native clients go through the consent interaction every time), so add
      // it for the client instead of making every test send it.
      const scope = url.searchParams.get('scope') || '';
      const prompt = url.searchParams.get('prompt') || '';
      if (scope.split(' ').includes('offline_access') && !prompt.split(' ').includes('consent')
        && !prompt.split(' ').includes('none')) {
        url.searchParams.set('prompt', prompt ? `${prompt} consent` : 'consent');
        req.url = `${url.pathname}${url.search}`;
      }
    }
    providerCallback(req, res);
  } catch (err) {
    const status = err.statusCode || err.status || 500;
    if (status >= 500) console.error('interaction error', err);
    else console.error(`interaction error: ${err.error || err.name}: ${err.error_description || err.message}`);
    if (!res.headersSent) {
      send(res, status, page('Error', `<p><strong>error</strong>: <span id="error">${escapeHtml(err.error || 'server_error')}</span></p>
<p><strong>error_description</strong>: <span id="error_description">${escapeHtml(err.error_description || err.message)}</span></p>`));
    } else {
      res.end();
    }
  }
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    server.close();
    process.exit(0);
  });
}

console.error(`oidc test provider: issuer ${ISSUER}, access ${ACCESS_TTL}s, id ${ID_TTL}s, refresh ${REFRESH_TTL}s, device ${DEVICE_TTL}s`);
process.stdout.write(`ready ${ISSUER}\n`);

// A minimal application in front of concierge, topology "A" of the wire protocol notes:
// one origin serves the pages, forwards /__clerk/* to concierge's Frontend API with the official
// `clerkFrontendApiProxy` from @clerk/backend, and authenticates server-rendered pages with
// `authenticateRequest` from @clerk/backend (Backend API at concierge's backend listener).
// Plain node:http, no framework. Every proxied request/response is logged to a file.
import http from 'node:http';
import { createWriteStream } from 'node:fs';
import { clerkFrontendApiProxy } from '@clerk/backend/proxy';
import { createClerkClient } from '@clerk/backend';
import { freePort } from './concierge.mjs';

export const PROXY_PATH = '/__clerk';
export const CLERK_JS_PATH = `${PROXY_PATH}/npm/@clerk/clerk-js@6/dist/clerk.browser.js`;
export const CLERK_UI_PATH = `${PROXY_PATH}/npm/@clerk/ui@1/dist/ui.browser.js`;
// The app origin's host name. `localhost` is what developers use; Chromium treats it as a secure context.
export const APP_HOST = process.env.BROWSER_APP_HOST ?? 'localhost';

const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

function excerpt(text, max = 1500) {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}… (${text.length} chars)`;
}

/** The HTML page shell: loads clerk-js and the UI bundle through the proxy, then `Clerk.load`s with the UI constructor. */
function page({ publishableKey, title, body, script }) {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="data:,">
<script>
  // Both bundles are async; each script tag resolves its promise from its load/error event.
  window.__bundles = {};
  for (const name of ['clerk', 'ui']) {
    let ok, fail;
    const promise = new Promise((a, b) => { ok = a; fail = b; });
    window.__bundles[name] = { promise, ok, fail };
  }
</script>
<script async crossorigin="anonymous"
  data-clerk-publishable-key="${escapeHtml(publishableKey)}"
  data-clerk-proxy-url="${PROXY_PATH}"
  src="${CLERK_JS_PATH}"
  onload="window.__bundles.clerk.ok()" onerror="window.__bundles.clerk.fail(new Error('clerk-js bundle failed to load'))"></script>
<script async crossorigin="anonymous"
  src="${CLERK_UI_PATH}"
  onload="window.__bundles.ui.ok()" onerror="window.__bundles.ui.fail(new Error('ui bundle failed to load'))"></script>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<p>clerk: <span data-testid="clerk-status">loading</span></p>
${body}
<script type="module">
  const status = document.querySelector('[data-testid=clerk-status]');
  try {
    await Promise.all([window.__bundles.clerk.promise, window.__bundles.ui.promise]);
    // clerk.browser.js creates window.Clerk from the script tag's data-clerk-* attributes (publishable key, proxy URL);
    // the UI bundle defines window.__internal_ClerkUICtor, which Clerk.load takes as ui.ClerkUI (what @clerk/react does).
    await window.Clerk.load({
      ui: { ClerkUI: window.__internal_ClerkUICtor },
      signInUrl: '/sign-in',
      signUpUrl: '/sign-up',
      signInFallbackRedirectUrl: '/',
      signUpFallbackRedirectUrl: '/',
      afterSignOutUrl: '/',
    });
    status.textContent = 'loaded';
    ${script}
  } catch (err) {
    status.textContent = 'error: ' + (err && err.message);
    window.__clerkLoadError = String(err && err.stack || err);
    console.error('Clerk failed to load', err);
  }
</script>
</body>
</html>`;
}

function pages(publishableKey) {
  return {
    '/': page({
      publishableKey,
      title: 'Home',
      body: `<p>user: <span data-testid="user-id">unknown</span></p>
<p>email: <span data-testid="user-email"></span></p>
<div id="user-button"></div>
<p><a href="/protected">protected</a> <a href="/user">profile</a> <a href="/sign-in">sign in</a> <a href="/sign-up">sign up</a></p>`,
      script: `
    const userId = document.querySelector('[data-testid=user-id]');
    const email = document.querySelector('[data-testid=user-email]');
    const userButton = document.getElementById('user-button');
    let mounted = false;
    const render = () => {
      const user = window.Clerk.user;
      userId.textContent = user ? user.id : 'signed-out';
      email.textContent = user?.primaryEmailAddress?.emailAddress ?? '';
      if (user && !mounted) { window.Clerk.mountUserButton(userButton); mounted = true; }
      if (!user && mounted) { window.Clerk.unmountUserButton(userButton); mounted = false; }
    };
    render();
    window.Clerk.addListener(render);`,
    }),
    '/sign-in': page({
      publishableKey,
      title: 'Sign in',
      body: '<div id="sign-in"></div>',
      script: `window.Clerk.mountSignIn(document.getElementById('sign-in'), { routing: 'path', path: '/sign-in' });`,
    }),
    '/sign-up': page({
      publishableKey,
      title: 'Sign up',
      body: '<div id="sign-up"></div>',
      script: `window.Clerk.mountSignUp(document.getElementById('sign-up'), { routing: 'path', path: '/sign-up' });`,
    }),
    '/user': page({
      publishableKey,
      title: 'Profile',
      body: '<div id="user-profile"></div>',
      script: `window.Clerk.mountUserProfile(document.getElementById('user-profile'), { routing: 'path', path: '/user' });`,
    }),
    // Organizations: <OrganizationSwitcher/> (personal account shown) and <OrganizationProfile/> (path routing).
    '/orgs': page({
      publishableKey,
      title: 'Organizations',
      body: `<p>organization: <span data-testid="org-id">unknown</span></p>
<div id="org-switcher"></div>`,
      script: `
    const orgId = document.querySelector('[data-testid=org-id]');
    const render = () => { orgId.textContent = window.Clerk.user ? (window.Clerk.organization?.id ?? 'personal') : 'signed-out'; };
    render();
    window.Clerk.addListener(render);
    window.Clerk.mountOrganizationSwitcher(document.getElementById('org-switcher'), {
      afterCreateOrganizationUrl: '/orgs',
      afterSelectOrganizationUrl: '/orgs',
      afterSelectPersonalUrl: '/orgs',
      hidePersonal: false,
    });`,
    }),
    // <OrganizationList/>: memberships, invitations and suggestions (verified domains).
    '/org-list': page({
      publishableKey,
      title: 'Organization list',
      body: '<div id="org-list"></div>',
      script: `window.Clerk.mountOrganizationList(document.getElementById('org-list'), {
      afterSelectOrganizationUrl: '/org-list',
      afterSelectPersonalUrl: '/org-list',
      afterCreateOrganizationUrl: '/org-list',
      hidePersonal: false,
    });`,
    }),
    '/org-profile': page({
      publishableKey,
      title: 'Organization profile',
      body: '<div id="org-profile"></div>',
      script: `window.Clerk.mountOrganizationProfile(document.getElementById('org-profile'), { routing: 'path', path: '/org-profile' });`,
    }),
  };
}

function protectedPage(state, auth) {
  const signedIn = state.status === 'signed-in';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Protected</title><link rel="icon" href="data:,"></head>
<body>
<h1>Protected</h1>
<p>status: <span data-testid="auth-status">${escapeHtml(signedIn ? 'signed-in' : 'signed-out')}</span></p>
<p>reason: <span data-testid="auth-reason">${escapeHtml(state.reason ?? '')}</span></p>
<p>user: <span data-testid="user-id">${escapeHtml(auth?.userId ?? '')}</span></p>
<p>session: <span data-testid="session-id">${escapeHtml(auth?.sessionId ?? '')}</span></p>
</body></html>`;
}

/**
 * `/protected-org`: like `/protected`, plus the active organization from `toAuth()` (orgId, orgSlug, orgRole, has);
 * `?permission=org:feature:action` also shows `has({ permission })`.
 */
function protectedOrgPage(state, auth, permission) {
  const signedIn = state.status === 'signed-in';
  const isAdmin = auth ? String(auth.has({ role: 'org:admin' })) : '';
  const hasPermission = auth && permission ? String(auth.has({ permission })) : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Protected org</title><link rel="icon" href="data:,"></head>
<body>
<h1>Protected org</h1>
<p>status: <span data-testid="auth-status">${escapeHtml(signedIn ? 'signed-in' : 'signed-out')}</span></p>
<p>reason: <span data-testid="auth-reason">${escapeHtml(state.reason ?? '')}</span></p>
<p>user: <span data-testid="user-id">${escapeHtml(auth?.userId ?? '')}</span></p>
<p>session: <span data-testid="session-id">${escapeHtml(auth?.sessionId ?? '')}</span></p>
<p>orgId: <span data-testid="org-id">${escapeHtml(auth?.orgId ?? '')}</span></p>
<p>orgSlug: <span data-testid="org-slug">${escapeHtml(auth?.orgSlug ?? '')}</span></p>
<p>orgRole: <span data-testid="org-role">${escapeHtml(auth?.orgRole ?? '')}</span></p>
<p>has admin: <span data-testid="org-is-admin">${escapeHtml(isAdmin)}</span></p>
<p>has ${escapeHtml(permission ?? '')}: <span data-testid="org-has-permission">${escapeHtml(hasPermission)}</span></p>
</body></html>`;
}

/** Node request → Fetch Request (raw headers kept, body buffered). */
async function toFetchRequest(req, origin) {
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const body = chunks.length ? Buffer.concat(chunks) : null;
  const hasBody = body !== null && req.method !== 'GET' && req.method !== 'HEAD';
  return {
    request: new Request(new URL(req.url, origin), { method: req.method, headers, body: hasBody ? body : undefined }),
    body: hasBody ? body : null,
  };
}

/** Fetch Response → node response; every Set-Cookie kept separately, status (307 and Location included) kept. */
async function sendFetchResponse(res, response, bodyBuffer) {
  for (const [name, value] of response.headers) {
    if (name === 'set-cookie') continue;
    res.setHeader(name, value);
  }
  const cookies = response.headers.getSetCookie();
  if (cookies.length) res.setHeader('set-cookie', cookies);
  res.writeHead(response.status);
  res.end(bodyBuffer);
}

/**
 * Starts the app on a free port. `log` lines go to `logPath` (FAPI traffic through the proxy, plus the app's
 * own authentication decisions). Returns { origin, url(path), close() }.
 */
export async function startApp({ concierge, logPath }) {
  const port = await freePort();
  const origin = `http://${APP_HOST}:${port}`;
  const { publishableKey, secretKey, frontendApiUrl, backendApiUrl } = concierge;
  const html = pages(publishableKey);
  const clerk = createClerkClient({ secretKey, publishableKey, apiUrl: backendApiUrl });
  const log = createWriteStream(logPath, { flags: 'w' });
  const write = (line) => log.write(`${new Date().toISOString()} ${line}\n`);
  write(`app ${origin} -> FAPI ${frontendApiUrl}, BAPI ${backendApiUrl}, key ${publishableKey}`);
  const fapiLog = [];

  async function handle(req, res) {
    const url = new URL(req.url, origin);
    if (url.pathname === PROXY_PATH || url.pathname.startsWith(`${PROXY_PATH}/`)) {
      const { request, body } = await toFetchRequest(req, origin);
      const response = await clerkFrontendApiProxy(request, { proxyPath: PROXY_PATH, publishableKey, secretKey, fapiUrl: frontendApiUrl });
      const buffer = Buffer.from(await response.arrayBuffer());
      const isBundle = url.pathname.includes('/npm/');
      const contentType = response.headers.get('content-type') ?? '';
      // Bundles and images (profile images under /v1/images/) are logged by size, not as text.
      const isBinary = isBundle || contentType.startsWith('image/');
      const entry = {
        method: req.method,
        path: `${url.pathname.slice(PROXY_PATH.length)}${url.search}`,
        status: response.status,
        location: response.headers.get('location'),
        setCookie: response.headers.getSetCookie(),
        requestBody: body?.toString('utf8') ?? '',
        responseBody: isBinary && response.status < 400 ? `<${buffer.length} bytes ${contentType}>` : buffer.toString('utf8'),
      };
      fapiLog.push(entry);
      const lines = [`FAPI ${entry.method} ${entry.path} -> ${entry.status}`];
      const cookieHeader = req.headers.cookie;
      if (cookieHeader) lines.push(`  > cookie: ${cookieHeader}`);
      if (entry.requestBody) lines.push(`  > body: ${excerpt(entry.requestBody, 800)}`);
      if (entry.location) lines.push(`  < location: ${entry.location}`);
      for (const c of entry.setCookie) lines.push(`  < set-cookie: ${c}`);
      lines.push(`  < ${contentType}: ${excerpt(entry.responseBody, isBinary ? 300 : 3000)}`);
      write(lines.join('\n'));
      return sendFetchResponse(res, response, buffer);
    }

    if (url.pathname === '/protected') {
      const { request } = await toFetchRequest(req, origin);
      const state = await clerk.authenticateRequest(request, {
        proxyUrl: `${origin}${PROXY_PATH}`,
        authorizedParties: [origin],
      });
      const cookies = state.headers.getSetCookie();
      write(
        `APP GET ${url.pathname}${url.search} cookie=[${req.headers.cookie ?? ''}] -> ${state.status}` +
          ` reason=${state.reason ?? ''} message=${state.message ?? ''}` +
          (state.headers.get('location') ? ` location=${state.headers.get('location')}` : '') +
          (cookies.length ? `\n  < set-cookie: ${cookies.join('\n  < set-cookie: ')}` : ''),
      );
      for (const [name, value] of state.headers) {
        if (name !== 'set-cookie') res.setHeader(name, value);
      }
      if (cookies.length) res.setHeader('set-cookie', cookies);
      if (state.status === 'handshake') {
        if (!state.headers.get('location')) throw new Error('handshake state without a Location header');
        res.writeHead(307);
        return res.end();
      }
      const auth = state.status === 'signed-in' ? state.toAuth() : null;
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.setHeader('cache-control', 'no-store');
      res.writeHead(state.status === 'signed-in' ? 200 : 401);
      return res.end(protectedPage(state, auth));
    }

    if (url.pathname === '/protected-org') {
      const { request } = await toFetchRequest(req, origin);
      const state = await clerk.authenticateRequest(request, { proxyUrl: `${origin}${PROXY_PATH}`, authorizedParties: [origin] });
      const cookies = state.headers.getSetCookie();
      const auth = state.status === 'signed-in' ? state.toAuth() : null;
      write(`APP GET ${url.pathname} -> ${state.status} reason=${state.reason ?? ''} message=${state.message ?? ''}` +
        ` orgId=${auth?.orgId ?? ''} orgRole=${auth?.orgRole ?? ''}` + (state.headers.get('location') ? ` location=${state.headers.get('location')}` : ''));
      for (const [name, value] of state.headers) {
        if (name !== 'set-cookie') res.setHeader(name, value);
      }
      if (cookies.length) res.setHeader('set-cookie', cookies);
      if (state.status === 'handshake') {
        res.writeHead(307);
        return res.end();
      }
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.setHeader('cache-control', 'no-store');
      res.writeHead(state.status === 'signed-in' ? 200 : 401);
      return res.end(protectedOrgPage(state, auth, url.searchParams.get('permission')));
    }

    const base = `/${url.pathname.split('/')[1]}`;
    const body = html[url.pathname] ?? html[base];
    if (req.method === 'GET' && body) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      return res.end(body);
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => {
      write(`APP ERROR ${req.method} ${req.url}: ${err.stack ?? err}`);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`app error: ${err.message}`);
    });
  });
  await new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', ok);
  });

  return {
    origin,
    port,
    fapiLog,
    url: (path) => `${origin}${path}`,
    log: write,
    async close() {
      server.closeAllConnections?.();
      await new Promise((ok) => server.close(ok));
      await new Promise((ok) => log.end(ok));
    },
  };
}

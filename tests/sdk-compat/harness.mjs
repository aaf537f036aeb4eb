// Starts a real `concierge` binary through the operator contract only (flags, env, stdout,
// `instance show/create --json`, /healthz) and stops it with SIGTERM, asserting a clean exit.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, createWriteStream, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';

const here = dirname(fileURLToPath(import.meta.url));
export const BIN = resolve(here, process.env.CONCIERGE_BIN ?? '../../target/release/concierge');

async function freePort() {
  return new Promise((ok, fail) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
    server.on('error', fail);
  });
}

async function waitHealthy(url, child, deadlineMs) {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`concierge exited early with ${child.exitCode}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.status === 200) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url}/healthz not ready`);
}

/** Starts a server on a fresh database (or CONCIERGE_SDK_DATABASE_URL) with instances `default` and `other`. */
export async function startConcierge(name = 'run') {
  const dir = mkdtempSync(join(tmpdir(), 'concierge-sdk-'));
  const databaseUrl = process.env.CONCIERGE_SDK_DATABASE_URL ?? `sqlite://${dir}/concierge.db`;
  const frontendAddr = `127.0.0.1:${await freePort()}`;
  const backendAddr = `127.0.0.1:${await freePort()}`;
  const env = { ...process.env, CONCIERGE_DATABASE_URL: databaseUrl, CONCIERGE_FRONTEND_ADDR: frontendAddr, CONCIERGE_BACKEND_ADDR: backendAddr, RUST_LOG: 'info' };
  const artifacts = join(here, 'artifacts');
  mkdirSync(artifacts, { recursive: true });
  const logPath = join(artifacts, `${name}-${Date.now()}.log`);
  const log = createWriteStream(logPath);
  const child = spawn(BIN, ['serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const apiUrl = `http://${backendAddr}`;
  const fapiUrl = `http://${frontendAddr}`;
  try {
    await waitHealthy(apiUrl, child, 60_000);
    await waitHealthy(fapiUrl, child, 10_000);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${err.message}\n--- server log ---\n${readFileSync(logPath, 'utf8').slice(-4000)}`);
  }
  const cli = (...args) => JSON.parse(execFileSync(BIN, args, { env, encoding: 'utf8' }));
  const defaultInstance = cli('instance', 'show', 'default', '--json');
  // A second tenant, for isolation checks; created while the server runs.
  let other;
  try {
    other = cli('instance', 'show', 'other', '--json');
  } catch {
    other = cli('instance', 'create', '--name', 'other', '--frontend-host', 'clerk.other-instance.test', '--json');
  }
  const shape = (i) => ({ id: i.id, secretKey: i.secret_key, publishableKey: i.publishable_key, frontendHost: i.frontend_host });
  return {
    apiUrl,
    fapiUrl,
    databaseUrl,
    env,
    cli: (...args) => execFileSync(BIN, args, { env, encoding: 'utf8' }),
    default: shape(defaultInstance),
    other: shape(other),
    instanceJson: defaultInstance,
    logPath,
    async stop() {
      const exited = new Promise((ok) => child.once('exit', (code, signal) => ok({ code, signal })));
      child.kill('SIGTERM');
      const result = await exited;
      log.end();
      if (result.code !== 0) throw new Error(`concierge exited with ${JSON.stringify(result)} after SIGTERM`);
    },
  };
}

/** Decodes one JWT part. */
export function decodePart(jwt, index) {
  return JSON.parse(Buffer.from(jwt.split('.')[index], 'base64url').toString('utf8'));
}

/** clerk-js behind an app's /__clerk proxy: requests to the Frontend API with a cookie jar, the
 * page's origin, and the secret key the proxy adds (which selects the instance). */
export function fapiBrowser(srv) {
  const jar = new Map();
  const send = async (method, path, form) => {
    const headers = { origin: 'http://localhost:3000', 'clerk-secret-key': srv.default.secretKey };
    if (jar.size) headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    let body;
    if (form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(form).toString();
    }
    const res = await fetch(`${srv.fapiUrl}${path}`, { method, headers, body });
    for (const cookie of res.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const i = pair.indexOf('=');
      jar.set(pair.slice(0, i), pair.slice(i + 1));
    }
    return { status: res.status, body: await res.json() };
  };
  return { send, post: (path, form) => send('POST', path, form ?? {}), get: (path) => send('GET', path), jar };
}

// Starts a real `concierge` binary through the operator contract only (flags, env, stdout,
// `instance show --json`, `mailbox --json`, /healthz) and stops it with SIGTERM.
// A trimmed copy of tests/sdk-compat/harness.mjs that keeps its artifacts in tests/browser/artifacts.
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import net from 'node:net';

const execFileAsync = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
export const ARTIFACTS = resolve(here, '../artifacts');
export const BIN = resolve(here, '..', process.env.CONCIERGE_BIN ?? '../../target/release/concierge');

export async function freePort() {
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

/**
 * Starts a server on a fresh SQLite database (or CONCIERGE_SDK_DATABASE_URL) and reads the `default` instance.
 * `config` is the text of a TOML configuration file handed to the server (`CONCIERGE_CONFIG`).
 */
export async function startConcierge(name = 'run', { config } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'concierge-browser-'));
  const databaseUrl = process.env.CONCIERGE_SDK_DATABASE_URL ?? `sqlite://${dir}/concierge.db`;
  const frontendAddr = `127.0.0.1:${await freePort()}`;
  const backendAddr = `127.0.0.1:${await freePort()}`;
  const env = {
    ...process.env,
    CONCIERGE_DATABASE_URL: databaseUrl,
    CONCIERGE_FRONTEND_ADDR: frontendAddr,
    CONCIERGE_BACKEND_ADDR: backendAddr,
    RUST_LOG: process.env.RUST_LOG ?? 'info',
    NO_COLOR: '1',
  };
  if (config !== undefined) {
    env.CONCIERGE_CONFIG = join(dir, 'concierge.toml');
    writeFileSync(env.CONCIERGE_CONFIG, config);
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  const logPath = join(ARTIFACTS, `concierge-${name}.log`);
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
  const cli = async (...args) => (await execFileAsync(BIN, args, { env, encoding: 'utf8' })).stdout;
  const instance = JSON.parse(await cli('instance', 'show', 'default', '--json'));
  return {
    env,
    logPath,
    cli,
    instance,
    publishableKey: instance.publishable_key,
    secretKey: instance.secret_key,
    // The operator contract's URLs; fall back to the listeners we chose if the JSON lacks them.
    frontendApiUrl: instance.frontend_api_url ?? fapiUrl,
    backendApiUrl: instance.backend_api_url ?? apiUrl,

    /** Outgoing mail, newest first, optionally only to one address. */
    async mailbox(to) {
      const args = ['mailbox', '--json'];
      if (to) args.push('--to', to);
      return JSON.parse(await cli(...args));
    },

    /** Polls the mailbox for a six-digit code sent to `to`, for up to `timeoutMs`. */
    async waitForCode(to, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      let last = [];
      while (Date.now() < deadline) {
        last = await this.mailbox(to);
        for (const message of last) {
          const match = /\b(\d{6})\b/.exec(message.text ?? '');
          if (match) return match[1];
        }
        await new Promise((r) => setTimeout(r, 250));
      }
      throw new Error(`no six-digit code mailed to ${to} within ${timeoutMs} ms; mailbox: ${JSON.stringify(last).slice(0, 1000)}`);
    },

    /** Calls the Backend API with the secret key. */
    async bapi(method, path, body) {
      const res = await fetch(`${this.backendApiUrl}${path}`, {
        method,
        headers: { Authorization: `Bearer ${this.secretKey}`, 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      let json;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: res.status, json, text };
    },

    async stop() {
      if (child.exitCode !== null) return;
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

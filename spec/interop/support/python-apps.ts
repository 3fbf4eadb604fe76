import { spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { PYTHON, ensureQuart } from '../../support/python.js';
import { freePort, startServer } from '../../support/process.js';

/**
 * The Python side of the interop specs: Debian's python3-quart, python3-flask, python3-redis,
 * python3-flask-session, python3-hypercorn and python3-msgpack under /usr/bin/python3. Installing them is
 * `scripts/install-system-deps.sh`'s job (pretest and .ci/run), never a spec's: missing, they are a
 * loud failure naming that script, never a skip.
 */
const PACKAGES: Record<string, string> = {
  quart: 'python3-quart',
  flask: 'python3-flask',
  redis: 'python3-redis',
  flask_session: 'python3-flask-session',
  hypercorn: 'python3-hypercorn',
  msgpack: 'python3-msgpack',
};

export function ensurePythonPackages(): void {
  ensureQuart();
  const missing = Object.entries(PACKAGES).filter(([module]) => spawnSync(PYTHON, ['-c', `import ${module}`]).status !== 0).map(([, pkg]) => pkg);
  if (missing.length > 0) throw new Error(`${PYTHON} lacks ${missing.join(', ')}: run \`bash scripts/install-system-deps.sh\` as root`);
}

export const script = (name: string): string => fileURLToPath(new URL(`./${name}`, import.meta.url));

export interface PythonApp {
  readonly url: string;
  /** What the app printed so far (shown when a spec fails). */
  output(): string;
  stop(): Promise<void>;
}

/** Starts `/usr/bin/python3 <script> --port N ...args` and waits until it accepts connections. */
export async function startPythonApp(name: string, args: string[]): Promise<PythonApp> {
  const port = await freePort();
  // Quart and Flask take a while to import on a busy machine.
  const server = await startServer(PYTHON, [script(name), '--port', String(port), ...args], port, { readyTimeoutMs: 20_000 });
  return { url: `http://127.0.0.1:${port}`, output: server.output, stop: server.stop };
}

/** Runs a Python script to completion and parses what it prints as JSON. */
export function runPythonJson<T>(name: string, args: string[] = []): T {
  const run = spawnSync(PYTHON, [script(name), ...args], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`${name} failed (${run.status}):\n${run.stderr}`);
  return JSON.parse(run.stdout) as T;
}

export interface Reply {
  readonly status: number;
  readonly text: string;
  readonly setCookies: string[];
}

export interface RequestOptions {
  readonly headers?: Record<string, string>;
  /** The client's own address (any 127.x.y.z reaches a server on 127.0.0.1), for socket pinning. */
  readonly localAddress?: string;
}

/**
 * One browser shared by the Python app and the Koa app: cookies are per host, not per port, so the
 * session cookie one app sets is the one the other app receives.
 */
export class SharedBrowser {
  readonly jar = new Map<string, string>();

  get cookie(): string | undefined {
    return this.jar.get('session');
  }

  async get(url: string, options: RequestOptions = {}): Promise<Reply> {
    const headers: Record<string, string> = { ...options.headers };
    if (this.jar.size > 0) headers.cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const reply = await new Promise<Reply>((resolve, reject) => {
      const req = request(url, { headers, localAddress: options.localAddress, agent: false }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          const raw = res.headers['set-cookie'];
          resolve({ status: res.statusCode ?? 0, text, setCookies: raw === undefined ? [] : raw });
        });
      });
      req.on('error', reject);
      req.end();
    });
    for (const line of reply.setCookies) this.remember(line);
    return reply;
  }

  private remember(line: string): void {
    const [pair = '', ...attributes] = line.split(';');
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
    const expires = attributes.map((a) => a.trim()).find((a) => a.toLowerCase().startsWith('expires='));
    const expired = expires !== undefined && Date.parse(expires.slice(8)) <= Date.now();
    const maxAgeZero = attributes.some((a) => /^max-age=0$/i.test(a.trim()));
    if (value === '' || expired || maxAgeZero) this.jar.delete(name);
    else this.jar.set(name, value);
  }
}

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitForPort } from '../../support/process.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface AppProcess {
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * Runs the example app as `npm start` does (example-app/server.ts, TypeScript through tsx), in its
 * own process with the given environment, on `port`; resolves once it accepts connections.
 */
export async function startExampleApp(port: number, env: Record<string, string>): Promise<AppProcess> {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', 'example-app/server.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const died = exited.then(() => {
    throw new Error(`the example app exited before it listened:\n${output}`);
  });
  await Promise.race([waitForPort(port, 30_000), died]);
  died.catch(() => undefined);
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM'); // server.ts closes the store on SIGTERM
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

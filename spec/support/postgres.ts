import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, startServer, tempDir } from './process.js';
import { waitFor } from './redis.js';

const run = promisify(execFile);

/**
 * A throwaway PostgreSQL for the specs (Debian's `postgresql`, installed by
 * scripts/install-system-deps.sh): a fresh cluster made by `initdb` in a temp directory, on a free
 * port, trust authentication for `postgres` on 127.0.0.1 only, no fsync, its unix socket in the
 * temp directory. The machine's own cluster (5432) is never touched.
 *
 * initdb and postgres refuse to run as root, and the specs run as root in CI: then both run as the
 * `postgres` user (created by the Debian package) through `runuser`, in a directory it owns.
 */
export interface PostgresServer {
  readonly port: number;
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  readonly url: string;
  /** Runs one SQL statement with psql; rows come back one a line, columns separated by `|`. */
  psql(sql: string): Promise<string>;
  /** Stops the server and removes its directory. */
  cleanup(): Promise<void>;
}

/** The newest /usr/lib/postgresql/<version>/bin that has initdb. */
function binDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) throw new Error('PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): run scripts/install-system-deps.sh');
  return join(root, versions[0]!, 'bin');
}

export async function startPostgres(): Promise<PostgresServer> {
  const bin = binDir();
  const dir = tempDir('postgres');
  const asRoot = process.getuid?.() === 0;
  // As root: run the server programs as `postgres`, which must own the directory.
  const command = (program: string, args: string[]): [string, string[]] =>
    asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, program), ...args]] : [join(bin, program), args];
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir.path, uid, gid);
  }
  const data = join(dir.path, 'data');
  try {
    await run(...command('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync']));
  } catch (error) {
    dir.remove();
    throw error;
  }

  // A fast shutdown (SIGINT) sent to the postmaster itself (its pid is in postmaster.pid): it
  // disconnects clients instead of waiting for them. Signalling runuser instead would forward a
  // SIGTERM, a "smart" shutdown that waits for every pool connection to close, and a runuser
  // SIGKILLed after a start that timed out would leave the postmaster running.
  const stopPostmaster = () => {
    try {
      const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
      if (pid > 0) process.kill(pid, 'SIGINT');
    } catch {
      // Not started, or already gone.
    }
  };

  const port = await freePort();
  const server = await startServer(
    ...command('postgres', [
      '-D', data,
      '-p', String(port),
      '-k', dir.path,
      '-c', 'listen_addresses=127.0.0.1',
      '-c', 'fsync=off',
      '-c', 'synchronous_commit=off',
      '-c', 'full_page_writes=off',
    ]),
    port,
  ).catch((error: unknown) => {
    stopPostmaster();
    dir.remove();
    throw error;
  });

  const psql = async (sql: string) =>
    (await run(join(bin, 'psql'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1', '-c', sql])).stdout;

  const cleanup = async () => {
    stopPostmaster();
    await server.stop();
    dir.remove();
  };

  try {
    // The port opens before the server accepts queries ("the database system is starting up").
    await waitFor('postgres to accept queries', async () => (await psql('SELECT 1')).trim() === '1', 20_000);
  } catch (error) {
    await cleanup();
    throw error;
  }
  return { port, url: `postgres://postgres@127.0.0.1:${port}/postgres`, psql, cleanup };
}

import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { startRedis } from '../../scripts/servers.mjs';
import { freePort, startServer, tempDir } from './process.js';

const run = promisify(execFile);

/**
 * Throwaway Redis servers for the specs: each on a free port, its files in a temp directory, no
 * persistence. The machine's own Redis (6379) is never touched.
 */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** Runs redis-cli against this server and returns its output. */
  cli(...args: string[]): Promise<string>;
  stop(): Promise<void>;
  /** Starts the server again on the same port (after `stop`). */
  restart(): Promise<void>;
}

export async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args]);
  return stdout;
}

async function redisServer(dir: string, args?: (port: number) => string[]): Promise<RedisServer> {
  const proc = await startRedis({ dir, args });
  return {
    port: proc.port,
    url: proc.url,
    cli: (...command) => cli(proc.port, ...command),
    stop: () => proc.stop(),
    restart: () => proc.restart(),
  };
}

export interface Standalone {
  readonly server: RedisServer;
  cleanup(): Promise<void>;
}

/** `extra`: more redis-server arguments, e.g. `['--enable-debug-command', 'yes']` for DEBUG SLEEP. */
export async function startStandalone(extra: string[] = []): Promise<Standalone> {
  const dir = tempDir('redis');
  const server = await redisServer(dir.path, () => extra);
  return {
    server,
    async cleanup() {
      await server.stop();
      dir.remove();
    },
  };
}

export interface Cluster {
  readonly nodes: RedisServer[];
  cleanup(): Promise<void>;
}

/** Three masters, no replicas, all 16384 slots assigned; resolves once every node says the cluster is ok. */
export async function startCluster(): Promise<Cluster> {
  const dir = tempDir('redis-cluster');
  const nodes: RedisServer[] = [];
  const cleanup = async () => {
    await Promise.all(nodes.map((node) => node.stop()));
    dir.remove();
  };
  try {
    for (let i = 0; i < 3; i++) {
      nodes.push(await redisServer(dir.path, (port) => [
        '--cluster-enabled', 'yes',
        '--cluster-config-file', join(dir.path, `nodes-${port}.conf`),
        '--cluster-node-timeout', '2000',
      ]));
    }
    await run('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes']);
    await waitFor('cluster state ok', async () => {
      const infos = await Promise.all(nodes.map((node) => node.cli('CLUSTER', 'INFO')));
      return infos.every((info) => info.includes('cluster_state:ok'));
    });
    return { nodes, cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

export interface Sentinel {
  readonly master: RedisServer;
  readonly replica: RedisServer;
  readonly sentinel: RedisServer;
  readonly name: string;
  cleanup(): Promise<void>;
}

/** A master, one replica in sync with it, and one sentinel (quorum 1) with short failover timings. */
export async function startSentinel(): Promise<Sentinel> {
  const dir = tempDir('redis-sentinel');
  const name = 'mymaster';
  const servers: RedisServer[] = [];
  const cleanup = async () => {
    await Promise.all(servers.map((server) => server.stop()));
    dir.remove();
  };
  try {
    const master = await redisServer(dir.path);
    servers.push(master);
    const replica = await redisServer(dir.path, () => ['--replicaof', '127.0.0.1', String(master.port)]);
    servers.push(replica);
    await waitFor('replica in sync', async () => (await replica.cli('INFO', 'replication')).includes('master_link_status:up'));

    const sentinelPort = await freePort();
    const config = join(dir.path, 'sentinel.conf');
    // Sentinel rewrites its config file as it learns the topology, so it lives in the temp directory.
    writeFileSync(config, [
      `port ${sentinelPort}`,
      'bind 127.0.0.1',
      `dir ${dir.path}`,
      `sentinel monitor ${name} 127.0.0.1 ${master.port} 1`,
      `sentinel down-after-milliseconds ${name} 1000`,
      `sentinel failover-timeout ${name} 3000`,
      '',
    ].join('\n'));
    const proc = await startServer('redis-server', [config, '--sentinel'], sentinelPort);
    const sentinel: RedisServer = {
      port: sentinelPort,
      url: `redis://127.0.0.1:${sentinelPort}`,
      cli: (...command) => cli(sentinelPort, ...command),
      stop: () => proc.stop(),
      restart: () => Promise.reject(new Error('not supported')),
    };
    servers.push(sentinel);
    await waitFor('sentinel sees the replica', async () => (await sentinel.cli('SENTINEL', 'REPLICAS', name)).includes(String(replica.port)));
    return { master, replica, sentinel, name, cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/** Which master the sentinel names now. */
export async function sentinelMasterPort(sentinel: Sentinel): Promise<number> {
  const [, port] = (await sentinel.sentinel.cli('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', sentinel.name)).trim().split('\n');
  return Number(port);
}

export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await sleep(100);
  }
}

/** Calls per command since the server started, from INFO commandstats (`get`, `getex`, `evalsha`, ...). */
export async function commandCalls(server: RedisServer): Promise<Map<string, number>> {
  const info = await server.cli('INFO', 'commandstats');
  const calls = new Map<string, number>();
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls.set(match[1]!, Number(match[2]));
  return calls;
}

/**
 * The commands a piece of work sent: the commandstats difference around it. The two INFO calls
 * (made over redis-cli, a separate connection) and redis-cli's own handshake are left out.
 */
export async function commandsDuring(server: RedisServer, work: () => Promise<unknown>): Promise<Record<string, number>> {
  const before = await commandCalls(server);
  await work();
  const after = await commandCalls(server);
  const delta: Record<string, number> = {};
  for (const [command, count] of after) {
    if (command === 'info' || command === 'command' || command.startsWith('command|')) continue;
    const diff = count - (before.get(command) ?? 0);
    if (diff > 0) delta[command] = diff;
  }
  return delta;
}

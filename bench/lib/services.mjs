// The stores the contenders talk to: a redis-server and a memcached of the bench's own (started by
// scripts/servers.mjs, the module the specs use), and the counters read around each measurement:
// Redis commands (INFO commandstats) and CPU (INFO cpu), memcached operations (stats).
import { createClient } from 'redis';
import { askTcp, startMemcached, startRedis, tempDir } from '../../scripts/servers.mjs';

export async function startServices() {
  const dir = tempDir('bench');
  const redis = await startRedis({ dir: dir.path });
  let memcached;
  try {
    // One worker thread: the machine's cores are shared with the server and the load generator.
    memcached = await startMemcached({ memoryMb: 512, threads: 1 });
  } catch (error) {
    console.error(`note: ${error.message}; the memcached contender is skipped`);
  }
  const client = createClient({ url: redis.url });
  await client.connect();
  return {
    // The filesystem contender's session directories go under it (one per Node line).
    dir: dir.path,
    redisUrl: redis.url,
    memcachedAddress: memcached?.address,
    redisClient: client,
    memcachedPort: memcached?.port,
    async stop() {
      await client.quit().catch(() => {});
      await Promise.all([redis.stop(), memcached?.stop()]);
      dir.remove();
    },
  };
}

/** Calls per command since redis-server started. */
export async function redisCommandStats(services) {
  const info = await services.redisClient.info('commandstats');
  const calls = {};
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls[match[1]] = Number(match[2]);
  return calls;
}

/** redis-server's own CPU time in µs (main thread, user + sys). */
export async function redisCpu(services) {
  const info = await services.redisClient.info('cpu');
  const read = (name) => Number(info.match(new RegExp(`^${name}:([\\d.]+)`, 'm'))?.[1] ?? NaN);
  return (read('used_cpu_user_main_thread') + read('used_cpu_sys_main_thread')) * 1e6;
}

/** memcached's operation counters. */
export async function memcachedStats(services) {
  const reply = await askTcp(services.memcachedPort, 'stats\r\n', (text) => text.includes('END\r\n'));
  const stats = {};
  for (const match of reply.matchAll(/^STAT (\S+) (\S+)/gm)) stats[match[1]] = Number(match[2]);
  return { get: stats.cmd_get, set: stats.cmd_set, touch: stats.cmd_touch, delete: (stats.delete_hits ?? 0) + (stats.delete_misses ?? 0) };
}

/** after - before, per name, positive differences only; `ignore`: names left out (the stats calls themselves). */
export function diff(before, after, ignore = []) {
  const delta = {};
  for (const [name, value] of Object.entries(after)) {
    if (ignore.includes(name)) continue;
    const d = value - (before[name] ?? 0);
    if (d > 0) delta[name] = d;
  }
  return delta;
}

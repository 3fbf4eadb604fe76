import { SessionOptionsError } from '../../errors.js';
import { check, onlyKnownKeys } from '../../validate.js';
import type { RedisClientLike } from './connection.js';

/**
 * `redis.waitReplicas`: after a write, WAIT until `replicas` replicas have it, at most `timeoutMs`.
 * Fewer in time and the operation fails (a store error: the logout or write is not acknowledged),
 * so a failover cannot undo what the user was told was done. `on`: `'destroy'` (default) waits after
 * deletions only (logout, regenerate, an emptied session); `'all'` after every write too.
 */
export interface WaitReplicasOptions {
  replicas: number;
  timeoutMs: number;
  on?: 'destroy' | 'all';
}

export type ResolvedWaitReplicas = Required<WaitReplicasOptions>;

/** How WAIT must be sent so that it follows the write on the same connection, to the key's master. */
export type RedisClientKind = 'client' | 'cluster' | 'sentinel';

export function clientKind(client: RedisClientLike): RedisClientKind {
  const candidate = client as unknown as { acquire?: unknown; getSlotMaster?: unknown };
  if (typeof candidate.acquire === 'function') return 'sentinel';
  if (typeof candidate.getSlotMaster === 'function') return 'cluster';
  return 'client';
}

export function resolveWaitReplicas(value: WaitReplicasOptions | undefined): ResolvedWaitReplicas | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object') throw new SessionOptionsError('redis.waitReplicas', 'must be { replicas, timeoutMs, on? }');
  onlyKnownKeys('redis.waitReplicas', value, ['replicas', 'timeoutMs', 'on'], 'a waitReplicas option');
  const replicas = check('redis.waitReplicas.replicas', value.replicas, NaN, (v) => Number.isSafeInteger(v) && (v as number) >= 1 && (v as number) <= 100,
    'must be a whole number of replicas from 1 to 100');
  // WAIT 0 would wait forever: a timeout is required, and it is bounded by storeTimeout anyway.
  const timeoutMs = check('redis.waitReplicas.timeoutMs', value.timeoutMs, NaN, (v) => Number.isSafeInteger(v) && (v as number) >= 1 && (v as number) <= 60_000,
    'must be a whole number of ms from 1 to 60000 (keep it under storeTimeout)');
  if (Number.isNaN(replicas)) throw new SessionOptionsError('redis.waitReplicas.replicas', 'is required');
  if (Number.isNaN(timeoutMs)) throw new SessionOptionsError('redis.waitReplicas.timeoutMs', 'is required');
  const on = check('redis.waitReplicas.on', value.on, 'destroy' as const, (v) => v === 'destroy' || v === 'all', 'must be "destroy" or "all"');
  return { replicas, timeoutMs, on };
}

type SendCommand = (...args: unknown[]) => Promise<unknown>;

/**
 * WAIT after a write of `key`, on the connection that carried the write: node-redis sends a plain
 * client's commands down one socket in order, a Cluster's to the key's master over its connection
 * to that node (hence the key), and a Sentinel client's to the master (isReadonly false: node-redis
 * marks WAIT read-only, which could send it to a replica). Throws when fewer replicas confirm.
 */
export async function waitForReplicas(commands: unknown, kind: RedisClientKind, key: string, wait: ResolvedWaitReplicas, what: string): Promise<void> {
  const send = (commands as { sendCommand: SendCommand }).sendCommand.bind(commands);
  const args = ['WAIT', String(wait.replicas), String(wait.timeoutMs)];
  const reply = kind === 'cluster' ? await send(key, false, args) : kind === 'sentinel' ? await send(false, args) : await send(args);
  const acknowledged = Number(reply);
  if (!(acknowledged >= wait.replicas)) {
    throw new Error(`only ${acknowledged} of ${wait.replicas} replicas confirmed the ${what} within ${wait.timeoutMs} ms (redis.waitReplicas)`);
  }
}

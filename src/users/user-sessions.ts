import { createHash } from 'node:crypto';
import { SessionUsageError } from '../errors.js';
import type { ResolvedOptions } from '../config/options.js';
import { makeIdValidator } from '../core/id.js';
import { pastMaxAge, splitStored } from '../core/metadata.js';
import type { StoreCall } from '../core/store-call.js';
import type { Serializer } from '../serializers/serializer.js';
import type { SessionStore, UserSessionIndex } from '../stores/store.js';

/** A user id as the application stores it under `userKey`. */
export type UserId = string | number;

/** One of a user's live sessions, for "your active sessions" pages. */
export interface UserSessionInfo {
  /** The session id (a bearer secret: show the user a label, not this). */
  readonly id: string;
  /** The pinned address (`hijackProtection`), if any. */
  readonly address: string | undefined;
  /** When the session began (`maxAge`), if recorded. */
  readonly createdAt: Date | undefined;
  /** A copy of the session's data. */
  readonly data: Record<string, unknown>;
}

export interface DestroyUserSessionsOptions {
  /** Session ids to keep, typically the current `session.id` ("log out my other sessions"). */
  except?: string | readonly string[];
}

/**
 * The index key for a user: prefix + `user:` + SHA-256 of the id. Hashing means no user-supplied
 * text ever becomes part of a store key, whatever characters the id holds.
 */
export function userIndexKey(keyPrefix: string, user: UserId): string {
  return `${keyPrefix}user:${createHash('sha256').update(String(user)).digest('hex')}`;
}

/** The user id held by a session's data, or undefined. Anything but a string or a finite number is an error. */
export function userOf(data: Record<string, unknown>, userKey: string): UserId | undefined {
  const value = data[userKey];
  if (value === undefined || value === null) return undefined;
  if ((typeof value === 'string' && value.length > 0) || (typeof value === 'number' && Number.isFinite(value))) return value;
  throw new SessionUsageError(`the session's "${userKey}" (option userKey) must be a non-empty string or a number`);
}

/** `listUserSessions` / `destroyUserSessions`: what the middleware object exposes. */
export class UserSessions {
  private readonly isValidId: (candidate: string) => boolean;

  constructor(
    private readonly options: ResolvedOptions,
    private readonly store: SessionStore,
    private readonly serializer: Serializer,
    /** The same bounded store call the lifecycle uses. */
    private readonly guard: StoreCall,
  ) {
    this.isValidId = makeIdValidator(options.idFormat);
  }

  /** The user's sessions that still exist in the store (entries of expired ones are pruned). */
  async list(user: UserId): Promise<UserSessionInfo[]> {
    const index = this.index();
    const indexKey = userIndexKey(this.options.keyPrefix, checkUser(user));
    const { keyPrefix } = this.options;
    const sessions: UserSessionInfo[] = [];
    for (const key of await this.guard('index list', index.list(indexKey))) {
      const id = key.startsWith(keyPrefix) ? key.slice(keyPrefix.length) : '';
      const stored = this.isValidId(id) ? await this.guard('get', this.store.get(key)) : null;
      let dict: Record<string, unknown> | undefined;
      try {
        dict = stored === null ? undefined : this.serializer.loads(stored);
      } catch {
        dict = undefined;
      }
      // The index may lag behind the sessions (expired, or a user id changed): the session decides.
      const owner = dict === undefined ? undefined : safeUserOf(dict, this.options.userKey!);
      if (dict === undefined || owner === undefined || String(owner) !== String(user) || this.pastMaxAge(dict)) {
        await this.guard('index remove', index.remove(indexKey, key));
        continue;
      }
      sessions.push(describe(id, dict));
    }
    return sessions;
  }

  /** Deletes every session of the user except `except`; resolves to how many were deleted. */
  async destroy(user: UserId, options: DestroyUserSessionsOptions = {}): Promise<number> {
    const index = this.index();
    const except = new Set(typeof options.except === 'string' ? [options.except] : (options.except ?? []));
    const indexKey = userIndexKey(this.options.keyPrefix, checkUser(user));
    let count = 0;
    for (const session of await this.list(user)) {
      if (except.has(session.id)) continue;
      const key = this.options.keyPrefix + session.id;
      await this.guard('delete', this.store.delete(key));
      await this.guard('index remove', index.remove(indexKey, key));
      count++;
    }
    return count;
  }

  /** Past `maxAge`: the next request would refuse it, so it is not listed (nor counted as destroyed). */
  private pastMaxAge(dict: Record<string, unknown>): boolean {
    return this.options.maxAge !== undefined && pastMaxAge(dict._created, this.options.maxAge);
  }

  private index(): UserSessionIndex {
    if (this.options.userKey === undefined) {
      throw new SessionUsageError('per-user sessions need the userKey option (the data key that holds the user id)');
    }
    if (!this.store.userIndex) {
      throw new SessionUsageError(`the ${this.store.name} store cannot enumerate a user's sessions (it has no userIndex)`);
    }
    return this.store.userIndex;
  }
}

function checkUser(user: UserId): UserId {
  if ((typeof user === 'string' && user.length > 0) || (typeof user === 'number' && Number.isFinite(user))) return user;
  throw new SessionUsageError('a user id must be a non-empty string or a number');
}

/** The user id in stored data, which is not ours to validate: a bad one just means no user. */
export function safeUserOf(dict: Record<string, unknown>, userKey: string): UserId | undefined {
  try {
    return userOf(dict, userKey);
  } catch {
    return undefined;
  }
}

function describe(id: string, dict: Record<string, unknown>): UserSessionInfo {
  const { data } = splitStored(dict);
  const created = dict._created;
  return {
    id,
    address: typeof dict._addr === 'string' ? dict._addr : undefined,
    createdAt: typeof created === 'number' && Number.isFinite(created) ? new Date(created * 1000) : undefined,
    data,
  };
}

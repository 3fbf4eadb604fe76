import type { StoredValue } from '../stored-value.js';

/**
 * Turns the session's dictionary into what the store keeps, and back. The dictionary includes
 * Quart-Session's metadata keys (`_permanent`, `_addr`) exactly as Quart writes them.
 *
 * `dumps` throws `SessionSerializationError` (naming the key path) for a value it cannot represent;
 * `loads` throws anything for a value it cannot read (the core then starts a fresh session,
 * deletes the bad entry and emits `decode-error`).
 */
export interface Serializer {
  readonly name: string;
  dumps(data: Record<string, unknown>): StoredValue;
  loads(stored: StoredValue): Record<string, unknown>;
}

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** What a verified cookie value holds. */
export interface Unsigned {
  readonly id: string;
  /** Verified with a key other than the first: the cookie should be re-issued with the first key. */
  readonly rotated: boolean;
}

export interface Signer {
  sign(id: string): string;
  /** The id of a correctly signed `id.signature` value, or null (no dot, bad signature, unknown key). */
  unsign(value: string): Unsigned | null;
}

/** base64url of a 32-byte HMAC-SHA256. */
const SIGNATURE_LENGTH = 43;

/**
 * Cookie signing with key rotation: the first key signs, every key verifies. The cookie value is
 * `id.signature` in one cookie (like Quart-Session's `sid.signature`), the signature being
 * HMAC-SHA256(key, id) in base64url. Not compatible with Quart's itsdangerous signatures (HMAC-SHA1
 * with a derived key), so a signed cookie cannot be shared with a Quart app.
 */
export function createSigner(keys: readonly Uint8Array[]): Signer {
  const mac = (key: Uint8Array, id: string): Buffer => createHmac('sha256', key).update(id).digest();
  return {
    sign: (id) => `${id}.${mac(keys[0]!, id).toString('base64url')}`,
    unsign(value) {
      const dot = value.lastIndexOf('.');
      if (dot <= 0 || value.length - dot - 1 !== SIGNATURE_LENGTH) return null;
      const id = value.slice(0, dot);
      const text = value.slice(dot + 1);
      const given = Buffer.from(text, 'base64url');
      // A non-base64url signature decodes to fewer bytes (the length check keeps timingSafeEqual's
      // contract); the round trip refuses other spellings of the same bytes (unused low bits).
      if (given.length !== 32 || given.toString('base64url') !== text) return null;
      // Every key is tried even after a match, so timing does not reveal which key signed.
      let match = -1;
      keys.forEach((key, index) => {
        if (timingSafeEqual(mac(key, id), given) && match === -1) match = index;
      });
      return match === -1 ? null : { id, rotated: match > 0 };
    },
  };
}

/** A short, non-reversible label for a session id, for events and logs (ids are bearer secrets). */
export function idLabel(id: string): string {
  return createHash('sha256').update(id).digest('base64url').slice(0, 12);
}

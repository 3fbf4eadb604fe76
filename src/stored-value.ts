/**
 * What a serializer produces and a store keeps: text (tagged JSON, JSON) or bytes (v8). These
 * helpers compare and measure either form; they sit below both serializers and stores.
 */
export type StoredValue = string | Uint8Array;

/** Byte-wise equality of two stored values, whichever form each is in. */
export function sameStoredValue(a: StoredValue, b: StoredValue): boolean {
  if (typeof a === 'string' && typeof b === 'string') return a === b;
  return Buffer.from(toBytes(a)).equals(toBytes(b));
}

export function toBytes(value: StoredValue): Uint8Array {
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
}

export function toText(value: StoredValue): string {
  return typeof value === 'string' ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8');
}

export function byteLength(value: StoredValue): number {
  return typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : value.byteLength;
}

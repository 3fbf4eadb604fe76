/** Key paths for error messages: `cart.items[2]`, `prefs["dark mode"]`. */
export function keyPath(parent: string, key: string): string {
  if (/^[A-Za-z_$][\w$]*$/.test(key)) return parent ? `${parent}.${key}` : key;
  return `${parent}[${JSON.stringify(key)}]`;
}

export function indexPath(parent: string, index: number): string {
  return `${parent}[${index}]`;
}

/** `a Map`, `an object with a custom prototype`: what a refused value is, never what it holds. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') {
    // Only a prototype's own constructor names the class (Object.create(proto) inherits Object's).
    const proto: unknown = Object.getPrototypeOf(value);
    const ctor = proto !== null && typeof proto === 'object' && Object.hasOwn(proto, 'constructor')
      ? (proto as { constructor?: { name?: unknown } }).constructor : undefined;
    return typeof ctor?.name === 'string' && ctor.name ? `a ${ctor.name}` : 'an object with a custom prototype';
  }
  if (typeof value === 'number') return String(value);
  return typeof value === 'undefined' ? 'undefined' : `a ${typeof value}`;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

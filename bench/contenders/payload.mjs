// The session every contender stores (bench/README.md, "What each request does"): the same data for
// all, made from the session's number `n` so sessions differ. `small`: a `user` object, a `counter`
// and a ~450-byte `profile` (roles array, preferences object, a 3-item cart); `large` adds a
// `recent` list (recently viewed products) that brings the JSON to about 4 KB.
export const PAYLOADS = ['small', 'large'];

function cart(n) {
  return [
    { sku: `SKU-${10_000 + (n % 90_000)}`, name: 'Espresso beans, 1 kg', qty: 2, price: 18.9 },
    { sku: 'SKU-20318', name: 'Burr grinder', qty: 1, price: 129 },
    { sku: 'SKU-31007', name: 'Milk jug, 350 ml', qty: 1, price: 14.5 },
  ];
}

function recent(n) {
  return Array.from({ length: 35 }, (_, i) => ({
    sku: `SKU-${40_000 + ((n * 31 + i * 7) % 50_000)}`,
    title: `Product ${i + 1} seen on the catalogue page`,
    viewedAt: `2026-11-${String(1 + (i % 27)).padStart(2, '0')}T10:${String(i % 60).padStart(2, '0')}:00Z`,
  }));
}

/** The session's top-level values: `{ user, counter, profile }`, plus `recent` when `size` is `large`. */
export function sessionData(size, n) {
  const data = {
    user: { id: 100_000 + n, name: `User Number${n}`, email: `user${n}@example.com`, locale: 'en-GB', verified: true },
    counter: 0,
    profile: {
      roles: ['customer', 'newsletter', 'beta-tester'],
      preferences: { theme: 'dark', language: 'en', currency: 'EUR', timezone: 'Europe/Paris', notifications: { email: true, sms: false }, topics: ['offers', 'new-arrivals'], pageSize: 25 },
      cart: cart(n),
    },
  };
  if (size === 'large') data.recent = recent(n);
  else if (size !== 'small') throw new Error(`unknown payload size ${size} (small or large)`);
  return data;
}

/**
 * What `/check` answers: proof that the whole session is there (its user's e-mail, the cart and the
 * `recent` list sizes, the counter), with `get(key)` reading one top-level value in the contender's way.
 */
export function describe(get) {
  return `${get('user')?.email} cart=${get('profile')?.cart?.length} recent=${get('recent')?.length ?? 0} counter=${get('counter')}`;
}

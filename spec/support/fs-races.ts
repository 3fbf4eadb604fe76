import type { SessionStore } from 'koa-qsession';

/** `times` read-compare-and-set increments of a counter stored under `key`; lost updates would show in the total. */
export async function casIncrement(store: SessionStore, key: string, times: number): Promise<{ done: number; conflicts: number }> {
  let conflicts = 0;
  for (let done = 0; done < times; ) {
    const current = await store.get(key);
    if (current === null) throw new Error('counter vanished');
    const result = await store.replace(key, current, String(Number(String(current)) + 1), 60_000);
    if (result.status === 'ok') done++;
    else if (result.status === 'conflict') conflicts++;
    else throw new Error('counter missing');
  }
  return { done: times, conflicts };
}

/** Creates `${prefix}:0..count-1` with this process's name as value; returns which ones it won. */
export async function raceCreates(store: SessionStore, prefix: string, count: number, me: string): Promise<number[]> {
  const won: number[] = [];
  for (let i = 0; i < count; i++) if (await store.create(`${prefix}:${i}`, me, 60_000)) won.push(i);
  return won;
}

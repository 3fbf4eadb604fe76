// What the in-process benches (micro.mjs, micro-split.mjs) share: requests injected with
// light-my-request, `parallel` at a time, timed per batch; the lower quartile of the batch times.
import inject from 'light-my-request';

export const parallel = 16;

/** The session cookies of `count` sessions, each made by a GET of `setupUrl(n)`. */
export async function cookiesFor(handler, count, setupUrl) {
  const cookies = [];
  for (let n = 0; n < count; n++) {
    const response = await inject(handler, { method: 'GET', url: setupUrl(n) });
    const set = response.headers['set-cookie'];
    cookies.push(set ? String(Array.isArray(set) ? set[0] : set).split(';')[0] : '');
  }
  return cookies;
}

/**
 * µs per request for `size` requests of `url`, `parallel` in flight, each lane sending its own cookie
 * (none when `cookies` is empty); `check(response)` throws on a wrong answer.
 */
export async function batch(handler, url, cookies, size, check) {
  const started = process.hrtime.bigint();
  let next = 0;
  const worker = async (lane) => {
    while (next < size) {
      next++;
      const headers = cookies.length ? { cookie: cookies[lane % cookies.length] } : {};
      check(await inject(handler, { method: 'GET', url, headers }), url);
    }
  };
  await Promise.all(Array.from({ length: parallel }, (_, lane) => worker(lane)));
  return Number(process.hrtime.bigint() - started) / 1000 / size;
}

export const quartile = (values) => values.slice().sort((a, b) => a - b)[Math.floor(values.length / 4)];

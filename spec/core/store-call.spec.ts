import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SessionStoreError } from 'koa-qsession';
import { boundedStoreCall } from '../../src/core/store-call.js';

const hang = new Promise<never>(() => undefined);

describe('bounded store calls (one shared timer)', () => {
  it('passes values through and wraps store failures', async () => {
    const guard = boundedStoreCall('test', 100);
    assert.equal(await guard('get', Promise.resolve(7)), 7);
    await assert.rejects(guard('get', Promise.reject(new Error('boom'))), (e: unknown) => e instanceof SessionStoreError && /test: boom/.test(e.message));
  });

  it('each call times out at its own deadline, also behind calls that finished', async () => {
    const guard = boundedStoreCall('test', 400);
    const started = Date.now();
    await guard('get', Promise.resolve(1));
    const first = guard('get', hang).catch((e: unknown) => [e, Date.now() - started] as const);
    await sleep(250);
    // Both pending, deadlines 250 ms apart (400 and 650 ms): a first that waited for the shared timer
    // to serve the second cannot pass for one made late by a loaded machine.
    const second = guard('replace', hang).catch((e: unknown) => [e, Date.now() - started] as const);
    const [[e1, t1], [e2, t2]] = await Promise.all([first, second]);
    assert.ok(e1 instanceof SessionStoreError && e1.operation === 'get');
    assert.ok(e2 instanceof SessionStoreError && e2.operation === 'replace');
    assert.ok(t1 >= 395 && t1 < 630, `first after ${t1} ms`);
    assert.ok(t2 >= 645, `second after ${t2} ms`);
  });

  it('a call that answers in time is not rejected later, and thousands of calls leave nothing behind', async () => {
    const guard = boundedStoreCall('test', 30);
    const values = await Promise.all(Array.from({ length: 5000 }, (_, i) => guard('get', sleep(1).then(() => i))));
    assert.equal(values[4999], 4999);
    await sleep(60); // past every deadline: no late rejection (would be an unhandled rejection here)
  });
});

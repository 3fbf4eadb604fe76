import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SessionConflictError, type SessionStore } from 'koa-qsession';
import type { ContractSubject } from './store-contract.js';
import { lifecycleOn, OK, startApp, type TestApp } from './redis-app.js';
import type { Lifecycle } from '../../src/core/lifecycle.js';
import { withoutExpiry } from './decision.js';

/**
 * Overlapping requests on one session, against a real store: what the compare-and-set and the
 * core's merge loop promise together.
 */
export function concurrencyCases(name: string, open: () => Promise<ContractSubject>): void {
  describe(`concurrent requests: ${name}`, () => {
    let subject: ContractSubject;
    let store: SessionStore;
    let lifecycle: Lifecycle;
    before(async () => {
      subject = await open();
      store = subject.store;
      lifecycle = lifecycleOn(store);
    });
    after(async () => {
      await subject?.cleanup();
    });

    /** A stored session holding `data`; returns its id. */
    async function stored(data: Record<string, unknown>): Promise<string> {
      const record = lifecycle.fresh(false);
      Object.assign(record.session, data);
      const action = await lifecycle.commit(record, OK);
      assert.equal(action.kind, 'set');
      return (action as { id: string }).id;
    }

    it('two requests changing different keys both keep their change', async () => {
      const id = await stored({ base: 1 });
      const [a, b] = [await lifecycle.open(id), await lifecycle.open(id)];
      a.session.fromA = 'a';
      b.session.fromB = 'b';
      delete b.session.base;
      assert.deepEqual(withoutExpiry(await lifecycle.commit(a, OK)), { kind: 'set', id });
      assert.deepEqual(withoutExpiry(await lifecycle.commit(b, OK)), { kind: 'set', id });
      assert.deepEqual({ ...(await lifecycle.open(id)).session.toJSON() }, { fromA: 'a', fromB: 'b' });
    });

    it('many overlapping requests on one session: every change survives', async () => {
      const id = await stored({ base: 1 });
      const records = await Promise.all(Array.from({ length: 6 }, () => lifecycle.open(id)));
      records.forEach((record, i) => (record.session[`k${i}`] = i));
      await Promise.all(records.map((record) => lifecycle.commit(record, OK)));
      const data = { ...(await lifecycle.open(id)).session.toJSON() };
      assert.deepEqual(data, { base: 1, k0: 0, k1: 1, k2: 2, k3: 3, k4: 4, k5: 5 });
    });

    it('the same key changed by two requests: the later one is refused (409), nothing of it stored', async () => {
      const id = await stored({ color: 'red' });
      const [a, b] = [await lifecycle.open(id), await lifecycle.open(id)];
      a.session.color = 'green';
      b.session.color = 'blue';
      b.session.size = 'xl';
      await lifecycle.commit(a, OK);
      await assert.rejects(Promise.resolve(lifecycle.commit(b, OK)), (error: unknown) => error instanceof SessionConflictError && error.keys.join() === 'color');
      assert.deepEqual({ ...(await lifecycle.open(id)).session.toJSON() }, { color: 'green' });
    });

    it('a session destroyed by one request is not recreated by a slower one', async () => {
      const id = await stored({ user: 'ann' });
      const [slow, logout] = [await lifecycle.open(id), await lifecycle.open(id)];
      logout.session.destroy();
      assert.deepEqual(await lifecycle.commit(logout, OK), { kind: 'clear' });
      slow.session.cart = ['apple'];
      // Refused (409: the session ended while it ran), and no cookie either.
      await assert.rejects(Promise.resolve(lifecycle.commit(slow, OK)), (error: unknown) => error instanceof SessionConflictError && error.reason === 'gone');
      assert.equal(await store.get('session:' + id), null);
    });

    it('regenerate moves the data to a new id and the old id stops working at once', async () => {
      const oldId = await stored({ user: 'ann' });
      const [login, inFlight] = [await lifecycle.open(oldId), await lifecycle.open(oldId)];
      login.session.regenerate();
      const action = await lifecycle.commit(login, OK);
      assert.equal(action.kind, 'set');
      const newId = (action as { id: string }).id;
      assert.notEqual(newId, oldId);
      assert.equal(await store.get('session:' + oldId), null);
      const late = await lifecycle.open(oldId);
      assert.equal(late.isNew, true);
      // Sent before the login answered: no cookie (clearing it would log the browser out of the session
      // the login just made), and nothing stored.
      assert.deepEqual(await lifecycle.commit(late, OK), { kind: 'none' });
      assert.deepEqual({ ...(await lifecycle.open(newId)).session.toJSON() }, { user: 'ann' });
      // A request that loaded the old id before the login cannot bring it back: refused, 409.
      inFlight.session.late = true;
      await assert.rejects(Promise.resolve(lifecycle.commit(inFlight, OK)), (error: unknown) => error instanceof SessionConflictError && error.reason === 'gone');
      assert.equal(await store.get('session:' + oldId), null);
    });

    describe('over HTTP', () => {
      let app: TestApp;
      before(async () => {
        app = await startApp({ store });
      });
      after(async () => {
        await app?.close();
      });

      it('a slow request and a fast one on one session both keep their change', async () => {
        const id = (await app.request('/set?base=1')).cookie!;
        const slow = app.request('/slow-set?slow=yes', id);
        await app.slowEntered();
        assert.equal((await app.request('/set?fast=yes', id)).status, 200);
        app.releaseSlow();
        assert.equal((await slow).status, 200);
        assert.deepEqual(JSON.parse((await app.request('/dump', id)).body), { base: '1', fast: 'yes', slow: 'yes' });
      });

      it('a logout is not undone by a slow request that was in flight', async () => {
        const id = (await app.request('/set?user=ann')).cookie!;
        const slow = app.request('/slow-set?cart=apple', id);
        await app.slowEntered();
        assert.equal((await app.request('/destroy', id)).cookie, '');
        app.releaseSlow();
        const late = await slow;
        assert.equal(late.status, 409, 'its change belonged to the session the logout ended');
        assert.equal(late.cookie, undefined, 'the slow request leaves the cookie to the request that destroyed the session');
        assert.equal(await store.get('session:' + id), null);
        assert.deepEqual(JSON.parse((await app.request('/dump', id)).body), {});
      });

      it('after regenerate the old cookie no longer opens the session', async () => {
        const oldId = (await app.request('/set?user=ann')).cookie!;
        const newId = (await app.request('/regenerate', oldId)).cookie!;
        assert.ok(newId && newId !== oldId);
        assert.deepEqual(JSON.parse((await app.request('/dump', newId)).body), { user: 'ann' });
        assert.deepEqual(JSON.parse((await app.request('/dump', oldId)).body), {});
      });
    });
  });
}

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SessionUsageError } from 'koa-qsession';
import { taggedJsonSerializer } from 'koa-qsession';
import { entryCodecFor } from '../../src/serializers/entry-codec.js';
import { SessionRecord } from '../../src/core/record.js';

let n = 0;
const codec = entryCodecFor(taggedJsonSerializer);
const fresh = (data?: Record<string, unknown>) =>
  new SessionRecord({
    id: 'original-id',
    isNew: data === undefined,
    permanent: true,
    codec,
    members: data ? codec.split(taggedJsonSerializer.dumps(data)) : undefined,
    newId: () => `new-id-${++n}`,
  });

describe('the session object', () => {
  it('reads and writes data keys like a dict', () => {
    const { session } = fresh();
    session.foo = 'bar';
    assert.equal(session.foo, 'bar');
    assert.equal(session.get('foo'), 'bar');
    assert.equal(session.get('missing', 'fallback'), 'fallback');
    assert.equal(session.has('foo'), true);
    assert.equal('foo' in session, true);
    session.set('n', 1).set('m', 2);
    assert.deepEqual(session.keys(), ['foo', 'n', 'm']);
    assert.deepEqual(Object.keys(session), ['foo', 'n', 'm']);
    assert.deepEqual({ ...session }, { foo: 'bar', n: 1, m: 2 });
    assert.equal(JSON.stringify(session), '{"foo":"bar","n":1,"m":2}');
    delete session.foo;
    assert.equal(session.delete('n'), true);
    assert.equal(session.delete('n'), false);
    assert.deepEqual(session.keys(), ['m']);
    session.clear();
    assert.deepEqual(session.keys(), []);
  });

  it('refuses data properties named like its methods, with a clear error', () => {
    const { session } = fresh();
    for (const name of ['get', 'keys', 'dirty', 'destroy', 'id', 'isNew', 'modified', 'then', 'cookie', 'save', 'touch', 'reload']) {
      assert.throws(() => {
        (session as Record<string, unknown>)[name] = 1;
      }, (error: unknown) => error instanceof SessionUsageError && error.message.includes(`"${name}"`));
    }
    // `permanent` is settable, to a boolean only.
    assert.throws(() => {
      (session as Record<string, unknown>).permanent = 1;
    }, (error: unknown) => error instanceof SessionUsageError && error.message.includes('session.permanent must be true or false'));
    // Data shared with Python may use such a name: the methods reach it.
    session.set('keys', ['a']);
    assert.deepEqual(session.get('keys'), ['a']);
    assert.equal(typeof session.keys, 'function');
  });

  it('keeps metadata keys out of reach of data writes', () => {
    const { session } = fresh();
    assert.throws(() => session.set('_permanent', false), SessionUsageError);
    assert.throws(() => {
      session._addr = '1.2.3.4';
    }, SessionUsageError);
  });

  it('treats __proto__ and constructor as ordinary keys (no prototype pollution)', () => {
    const { session } = fresh();
    session['__proto__'] = { polluted: true };
    const asDict: { [key: string]: unknown } = session;
    asDict['constructor'] = 'plain';
    assert.deepEqual(session.get('__proto__'), { polluted: true });
    assert.equal(asDict['constructor'], 'plain');
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.deepEqual(session.keys(), ['__proto__', 'constructor']);
  });

  it('notices changes made inside nested values', () => {
    const record = fresh({ cart: { items: ['a'] }, name: 'x' });
    const { session } = record;
    assert.equal(session.modified, false);
    void session.name;
    assert.equal(session.modified, false, 'reading a primitive changes nothing');
    const cart = session.cart as { items: string[] };
    assert.equal(session.modified, false, 'reading an object changes nothing');
    cart.items.push('b');
    assert.equal(session.modified, true);
    assert.deepEqual([...record.changed()], ['cart']);
  });

  it('notices in-place changes to dates and bytes', () => {
    const record = fresh({ when: new Date(0), raw: Buffer.from('abc') });
    (record.session.when as Date).setTime(1000);
    assert.deepEqual([...record.changed()], ['when']);
    (record.session.raw as Buffer)[0] = 0;
    assert.deepEqual([...record.changed()].sort(), ['raw', 'when']);
  });

  it('regenerate() moves to a fresh id and keeps data as asked', () => {
    const record = fresh({ a: 1, b: 2, c: 3 });
    record.session.regenerate({ keep: ['a', 'c'] });
    assert.notEqual(record.session.id, 'original-id');
    assert.equal(record.session.isNew, true);
    assert.deepEqual(record.retiredIds, ['original-id']);
    assert.deepEqual(record.session.keys(), ['a', 'c']);
    const none = fresh({ a: 1 });
    none.session.regenerate({ keep: 'none' });
    assert.deepEqual(none.session.keys(), []);
    const all = fresh({ a: 1 });
    all.session.regenerate();
    assert.deepEqual(all.session.keys(), ['a']);
  });

  it('destroy() forgets the data and continues under a fresh unsaved id', () => {
    const record = fresh({ user: 'ann' });
    record.session.destroy();
    assert.deepEqual(record.session.keys(), []);
    assert.equal(record.session.isNew, true);
    assert.deepEqual(record.retiredIds, ['original-id']);
    record.session.flash = 'bye';
    assert.equal(record.session.modified, true);
  });
});

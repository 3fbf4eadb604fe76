/**
 * Python values in JavaScript (issue 14, point 6): a tuple read from a Python-written session behaves
 * as an array, `Markup` as its text, and neither changes the tagged JSON text.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Markup, Tuple, taggedJsonSerializer as tagged } from 'koa-qsession';

const PYTHON_CART = '{"cart":{"items":[{" t":["sku-1",2]},{" t":["sku-2",1]}],"note":{" m":"<b>gift</b>"}}}';

describe('Python values in JavaScript', () => {
  it('a tuple indexes, iterates, spreads and destructures like an array', () => {
    const t = Tuple.of('sku-1', 2);
    assert.equal(t[0], 'sku-1');
    assert.equal(t[1], 2);
    assert.equal(t.length, 2);
    assert.equal(t.at(-1), 2);
    assert.deepEqual([...t], ['sku-1', 2]);
    const [sku, quantity] = t;
    assert.deepEqual({ sku, quantity }, { sku: 'sku-1', quantity: 2 });
    assert.equal(Array.isArray(t), true);
    assert.ok(t instanceof Tuple);
    assert.deepEqual(t.items, ['sku-1', 2]);
  });

  it('a tuple is immutable like Python\'s; methods that build arrays give plain arrays', () => {
    const t = Tuple.of(1, 2, 3);
    assert.throws(() => {
      (t as unknown as number[])[0] = 9;
    }, TypeError);
    assert.throws(() => (t as unknown as number[]).push(4), TypeError);
    assert.deepEqual([...t], [1, 2, 3]);
    const doubled = t.map((n) => n * 2);
    assert.deepStrictEqual(doubled, [2, 4, 6]);
    assert.equal(doubled instanceof Tuple, false);
    assert.equal(t.filter((n) => n > 1) instanceof Tuple, false);
    assert.deepStrictEqual(Tuple.from([1, 2], (n) => n * 10), Tuple.of(10, 20));
    assert.deepStrictEqual(new Tuple(new Set(['a'])), Tuple.of('a'));
    // A tuple and a list of the same items are different Python values.
    assert.notDeepStrictEqual(Tuple.of(1, 2), [1, 2]);
  });

  it('JSON.stringify gives a tuple as an array and Markup as its text', () => {
    const session = tagged.loads(PYTHON_CART);
    // What `ctx.body = session.cart` sends.
    assert.equal(JSON.stringify(session.cart), '{"items":[["sku-1",2],["sku-2",1]],"note":"<b>gift</b>"}');
    assert.equal(JSON.stringify(new Markup('<i>x</i>')), '"<i>x</i>"');
    assert.equal(`${new Markup('<i>x</i>')}`, '<i>x</i>');
  });

  it('the tagged round trip stays byte-identical', () => {
    const session = tagged.loads(PYTHON_CART);
    const items = (session.cart as { items: Tuple[] }).items;
    assert.ok(items[0] instanceof Tuple);
    assert.equal(items[0]![0], 'sku-1');
    assert.equal(tagged.dumps(session), PYTHON_CART);
    assert.equal(tagged.dumps({ e: new Tuple(), n: Tuple.of(Tuple.of(1), [Tuple.of()]) }), '{"e":{" t":[]},"n":{" t":[{" t":[1]},[{" t":[]}]]}}');
    // A plain array is still a list.
    assert.equal(tagged.dumps({ l: [...Tuple.of(1)] }), '{"l":[1]}');
  });
});

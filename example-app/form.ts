import type { Context } from 'koa';

/** Large enough for a login form, small enough that nobody can make us buffer much. */
const MAX_BODY_BYTES = 8 * 1024;

/**
 * Reads an `application/x-www-form-urlencoded` body: the only body the example accepts, so it
 * needs no body-parser dependency. Anything else, or anything too large, is a 4xx.
 */
export async function readForm(ctx: Context): Promise<URLSearchParams> {
  if (!ctx.is('application/x-www-form-urlencoded')) ctx.throw(415, 'expected a form (application/x-www-form-urlencoded)');
  const declared = Number(ctx.get('Content-Length') || 0);
  if (declared > MAX_BODY_BYTES) ctx.throw(413, 'form too large');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) ctx.throw(413, 'form too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

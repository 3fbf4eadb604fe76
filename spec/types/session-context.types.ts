// Type-level tests (checked by `npm run typecheck`, never run): the documented `ctx.session`
// idioms and `get(key, fallback)` compile as the README shows them, without casts (issue 24).
import { expectTypeOf } from 'expect-type';
import type { Context } from 'koa';
import { session, type Session, type SessionReplacement } from 'koa-qsession';

declare module 'koa-qsession' {
  interface SessionData {
    ctxTypesUserId: number;
  }
}

declare const ctx: Context;

// Reading ctx.session gives the Session, as before.
expectTypeOf(ctx.session).toEqualTypeOf<Session>();
expectTypeOf<Context['session']>().toEqualTypeOf<Session>();
expectTypeOf(ctx.session.ctxTypesUserId).toEqualTypeOf<number | undefined>();

// koa-session's logout and replacement idioms, no `as never`.
ctx.session = null;
ctx.session = { user: 'ann', cart: ['a'] };
ctx.session = { ctxTypesUserId: 7 };
ctx.session = {};
ctx.session = ctx.session;
ctx.session = session;
expectTypeOf<{ user: string }>().toMatchTypeOf<SessionReplacement>();
// @ts-expect-error a declared key keeps its type in a replacement
ctx.session = { ctxTypesUserId: 'seven' };
// @ts-expect-error only null or an object (a number is a SessionUsageError at run time)
ctx.session = 5;
// @ts-expect-error undefined is not an idiom (it is a SessionUsageError at run time)
ctx.session = undefined;

// get(key, fallback) of an undeclared key has the fallback's type.
expectTypeOf(session.get('ctxTypesVisits', 0)).toEqualTypeOf<number>();
expectTypeOf(session.get('name', 'anonymous')).toEqualTypeOf<string>();
expectTypeOf(session.get('tags', [] as string[])).toEqualTypeOf<string[]>();
expectTypeOf(ctx.session.get('ctxTypesVisits', 0) + 1).toEqualTypeOf<number>();
// Without a fallback it stays unknown; a declared key keeps its declared type.
expectTypeOf(session.get('ctxTypesVisits')).toEqualTypeOf<unknown>();
expectTypeOf(session.get('ctxTypesUserId')).toEqualTypeOf<number | undefined>();
expectTypeOf(session.get('ctxTypesUserId', 0)).toEqualTypeOf<number>();
// An explicit type argument still works, as before.
expectTypeOf(session.get<string>('label')).toEqualTypeOf<string | undefined>();

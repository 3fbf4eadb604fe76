// Fastify 5 + @fastify/cookie + @fastify/session with connect-redis (saveUninitialized off).
import Fastify from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import { RedisStore } from 'connect-redis';
import { createClient } from 'redis';
import { LIFETIME_MS, PAGE_WAIT_MS, REDIS_URL, SECRET, describe, pause, ready, sessionData, setupArgs } from './common.mjs';

const client = createClient({ url: REDIS_URL });
await client.connect();

const app = Fastify({ logger: false });
await app.register(fastifyCookie);
await app.register(fastifySession, {
  secret: SECRET,
  store: new RedisStore({ client, prefix: 'fastify-sess:' }),
  saveUninitialized: false,
  cookie: { secure: false, maxAge: LIFETIME_MS, sameSite: 'lax' },
});
app.get('/anon', async () => 'anon');
app.get('/setup', async (req) => {
  for (const [key, value] of Object.entries(sessionData(...setupArgs(req.query)))) req.session.set(key, value);
  return '0';
});
app.get('/read', async (req) => String(req.session.get('user').id));
app.get('/page', async (req) => { await pause(PAGE_WAIT_MS); return String(req.session.get('user').id); });
app.post('/write', async (req) => {
  const user = req.session.get('user');
  req.session.set('counter', req.session.get('counter') + 1);
  return `${user.id} ${req.session.get('counter')}`;
});
app.get('/check', async (req) => describe((key) => req.session.get(key)));
await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
ready(app.server);

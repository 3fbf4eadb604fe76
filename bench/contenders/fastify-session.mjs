// Fastify 5 + @fastify/cookie + @fastify/session with connect-redis (saveUninitialized off).
import Fastify from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import { RedisStore } from 'connect-redis';
import { createClient } from 'redis';
import { LIFETIME_MS, REDIS_URL, SECRET, ready } from './common.mjs';

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
app.get('/setup', async (req) => { req.session.set('counter', 0); return '0'; });
app.get('/read', async (req) => String(req.session.get('counter')));
app.get('/write', async (req) => { req.session.set('counter', req.session.get('counter') + 1); return String(req.session.get('counter')); });
await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
ready(app.server);

// Express 5 + express-session with connect-redis (resave and saveUninitialized off, as recommended).
import express from 'express';
import session from 'express-session';
import { RedisStore } from 'connect-redis';
import { createClient } from 'redis';
import { LIFETIME_MS, PAGE_WAIT_MS, REDIS_URL, SECRET, describe, listen, pause, ready, sessionData, setupArgs } from './common.mjs';

const client = createClient({ url: REDIS_URL });
await client.connect();

const app = express();
app.disable('x-powered-by');
app.use(session({
  store: new RedisStore({ client, prefix: 'express-sess:' }),
  secret: SECRET,
  resave: false,
  saveUninitialized: false,
  cookie: { maxAge: LIFETIME_MS, sameSite: 'lax' },
}));
app.get('/anon', (req, res) => { res.send('anon'); });
app.get('/setup', (req, res) => { Object.assign(req.session, sessionData(...setupArgs(req.query))); res.send('0'); });
app.get('/read', (req, res) => { res.send(String(req.session.user.id)); });
app.get('/page', async (req, res) => { await pause(PAGE_WAIT_MS); res.send(String(req.session.user.id)); });
app.post('/write', (req, res) => { const { user } = req.session; req.session.counter += 1; res.send(`${user.id} ${req.session.counter}`); });
app.get('/check', (req, res) => { res.send(describe((key) => req.session[key])); });
ready(await listen(app));

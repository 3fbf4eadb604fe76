import { createApp } from './app.js';
import { sessionOptionsFromEnv } from './options-from-env.js';

const port = Number(process.env.PORT ?? 3000);
const { app, sessions } = createApp(sessionOptionsFromEnv(process.env));
const server = app.listen(port, () => {
  console.log(`koa-qsession example on http://localhost:${port} (store: ${sessions.store.name})`);
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close();
    server.closeAllConnections();
    void sessions.close().finally(() => process.exit(0));
  });
}

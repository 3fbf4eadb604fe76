import type { QSessionOptions } from 'koa-qsession';
import { securityOptionsFromEnv } from './security-from-env.js';
import { storeOptionsFromEnv } from './store-from-env.js';

/** Everything the example reads from its environment: which store, and which security switches. */
export function sessionOptionsFromEnv(env: NodeJS.ProcessEnv): QSessionOptions {
  return { ...storeOptionsFromEnv(env), ...securityOptionsFromEnv(env) };
}

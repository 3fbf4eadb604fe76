import type { QSessionOptions } from 'koa-qsession';

/**
 * The security switches of the example: SESSION_PINNING=1 pins a session to the client that made
 * it, SESSION_KEYS=k1,k2 signs the cookie (first key signs, all verify, so keys can rotate).
 */
export function securityOptionsFromEnv(env: NodeJS.ProcessEnv): QSessionOptions {
  const wanted = [env.SESSION_PINNING === '1' && 'SESSION_PINNING', env.SESSION_KEYS && 'SESSION_KEYS'].filter(Boolean);
  // qsession() rejects options it does not know, so these wait for the security options to exist.
  if (wanted.length > 0) throw new Error(`${wanted.join(' and ')}: this build of koa-qsession has no pinning / signing options yet`);
  return {};
}

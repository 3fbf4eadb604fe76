import type { QSessionOptions } from 'koa-qsession';

/**
 * The security switches of the example:
 * - SESSION_PINNING=1 (or `subnet`) pins a session to the client address that made it;
 * - SESSION_REVERSE_PROXY=1 takes that address from X-Forwarded-For (behind one proxy);
 * - SESSION_KEYS=k1,k2 signs the cookie: the first key signs, all verify, so keys rotate by
 *   prepending a new one. Each key at least 16 bytes.
 */
export function securityOptionsFromEnv(env: NodeJS.ProcessEnv): QSessionOptions {
  const options: QSessionOptions = {};
  const pinning = env.SESSION_PINNING ?? '';
  if (pinning !== '' && pinning !== '0') {
    options.hijackProtection = true;
    if (pinning === 'subnet') options.pinning = 'subnet';
  }
  if (env.SESSION_REVERSE_PROXY === '1') options.reverseProxy = true;
  const keys = (env.SESSION_KEYS ?? '').split(',').map((key) => key.trim()).filter((key) => key !== '');
  if (keys.length > 0) options.keys = keys;
  return options;
}

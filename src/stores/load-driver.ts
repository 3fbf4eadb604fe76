import { createRequire } from 'node:module';
import { SessionOptionsError } from '../errors.js';

/**
 * The client libraries some stores drive. They are optional peer dependencies: an application on
 * the memory or filesystem store installs neither, one on Redis installs `redis`, one on memcached
 * installs `memjs`.
 */
export type DriverPackage = 'redis' | 'memjs';

// Resolved from this file, as a dependency of koa-qsession would be (the application's
// node_modules, or a workspace's hoisted one). Both drivers are CommonJS, so `require` loads them
// synchronously from the ES module build too, and Bun has createRequire as well. Synchronous on
// purpose: `qsession()` and the store constructors are synchronous, and a missing driver is a
// misconfiguration that must fail there, at start-up, not on the first request.
// Made on first use, so that a bundle where this file's location is unknown still loads (only a
// driver-backed store would then fail). Application bundles should keep `redis` / `memjs` external.
let requireHere: NodeJS.Require | undefined;

function here(): string {
  // CommonJS, a bundle to CommonJS (where the ES module build's module URL is emptied) and Bun.
  if (typeof __filename === 'string' && __filename !== '') return __filename;
  // The ES module build. CommonJS has no such meta-property: in that build scripts/build.mjs puts
  // __filename in its place, and the ignore below silences tsc's TS1343 there (ESM needs none).
  // @ts-ignore
  const url: string | undefined = import.meta.url;
  return url ?? `${process.cwd()}/`;
}

/**
 * Loads `name` for the store configured by `option`, the first time a store that needs it is made.
 * Throws a `SessionOptionsError` that says what to install when the package is missing.
 */
export function loadDriver(name: DriverPackage, option: string): unknown {
  try {
    requireHere ??= createRequire(here());
    return requireHere(name);
  } catch (error) {
    if (!isMissing(error, name)) throw error;
    throw new SessionOptionsError(option, `needs the "${name}" package, which is not installed: run \`npm install ${name}\``);
  }
}

/** The package itself is missing (not some module it requires in turn, which is a broken install worth its own message). */
function isMissing(error: unknown, name: string): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return code === 'MODULE_NOT_FOUND' && typeof message === 'string' && (message.includes(`'${name}'`) || message.includes(`"${name}"`));
}

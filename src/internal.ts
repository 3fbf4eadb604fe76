/**
 * @internal The engine's parts, for koa-qsession's own specs and benchmarks. Not a package export:
 * nothing here is covered by semver.
 */
export { Lifecycle, type CookieDecision, type RequestOutcome, type OpenContext, type LifecycleDeps, type SessionIndexHooks } from './core/lifecycle.js';
export { SessionRecord } from './core/record.js';
export { createEvents } from './core/events.js';
export { boundedStoreCall, type StoreCall } from './core/store-call.js';
export { resolveOptions } from './config/resolve.js';
export type { ResolvedOptions, ResolvedCookieOptions, ClientAddressOptions } from './config/options.js';
export { resolveSerializer } from './serializers/index.js';

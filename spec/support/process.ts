// The primitives live in scripts/servers.mjs, shared with the bench; the specs import them from here.
export { freePort, startServer, tempDir, waitForPort, type ServerProcess } from '../../scripts/servers.mjs';

// Run as a child process by spec/config/quart-config.spec.ts (NODE_DEBUG is read at start-up):
// fromQuartConfig on the config dict given as JSON on stdin, then the options it made on stdout.
import { readFileSync } from 'node:fs';
import { fromQuartConfig } from 'koa-qsession';

const config = JSON.parse(readFileSync(0, 'utf8')) as Record<string, unknown>;
process.stdout.write(JSON.stringify(fromQuartConfig(config)));

// A second Node process for the filesystem store's cross-process specs. Usage:
//   node --conditions=source --import tsx spec/support/fs-worker.ts <directory> <increment|create> <key> <count>
// Prints "ready", waits for a line on stdin (so both processes start together), runs, prints JSON.
import { once } from 'node:events';
import { FilesystemStore } from 'koa-qsession';
import { casIncrement, raceCreates } from './fs-races.js';

const [directory, mode, key, count] = process.argv.slice(2);
const store = new FilesystemStore({ directory: directory! });
process.stdout.write('ready\n');
await once(process.stdin, 'data');
const result = mode === 'increment' ? await casIncrement(store, key!, Number(count)) : await raceCreates(store, key!, Number(count), 'worker');
process.stdout.write(`${JSON.stringify(result)}\n`);
await store.close();
process.exit(0);

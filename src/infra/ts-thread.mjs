// A worker thread does not take `--import tsx` from its parent on Node 20: register it, then load the thread's code.
import { pathToFileURL } from 'node:url';
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(pathToFileURL(workerData.module).href);

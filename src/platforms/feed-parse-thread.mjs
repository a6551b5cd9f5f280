// A worker thread does not take `--import tsx` from its parent on Node 20: register it, then load the parser.
import { register } from 'tsx/esm/api';

register();
await import('./feed-parse-worker.ts');

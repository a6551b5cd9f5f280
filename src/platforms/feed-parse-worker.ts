import { parentPort } from 'node:worker_threads';
import { FeedError, parseFeedDocument } from './feeds';

/** The thread that parses large feed documents, so a hostile or huge feed never holds up the process. */
parentPort?.on('message', (message: { id: number; xml: string; base: string }) => {
  try {
    parentPort?.postMessage({ id: message.id, snapshot: parseFeedDocument(message.xml, message.base) });
  } catch (error) {
    const retryable = error instanceof FeedError ? error.retryable : false;
    parentPort?.postMessage({ id: message.id, error: { message: (error as Error).message, retryable } });
  }
});

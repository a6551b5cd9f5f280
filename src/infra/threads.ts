import path from 'node:path';
import { parentPort, Worker } from 'node:worker_threads';
import { projectRoot, runsFromBundle } from '../../config/paths';

/**
 * Work that would hold the process up for long (parsing a large feed, writing a workbook) goes to a
 * thread of its own, so that the API keeps answering everyone meanwhile (health checks included).
 */

/** A request's answer from its thread: its result, or its error's message and whether to try again. */
interface Answer<Result> {
  id: number;
  result?: Result;
  error?: { message: string; retryable: boolean };
}

/** A request the thread refused, failed or did not answer in time. */
export class ThreadError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = this.constructor.name;
  }
}

/**
 * One thread answering requests in turn: started on the first, ended after `idleMs` with none waiting
 * (its memory goes back), replaced after a request still running after `timeoutMs`, which fails with
 * every other request waiting on it. `module` names the thread's code under src/ without its extension
 * (`platforms/feed-parse-worker`); the bundle builds it as `dist/<its file name>.js` (config/build.mjs).
 * `name` says what the thread is in errors ("the feed parser stopped").
 */
export class RequestThread<Request, Result> {
  private worker: Worker | null = null;
  private nextId = 0;
  private idleTimer: NodeJS.Timeout | null = null;
  private readonly pending = new Map<
    number,
    { resolve(result: Result): void; reject(error: ThreadError): void; timer: NodeJS.Timeout }
  >();

  constructor(
    private readonly module: string,
    private readonly options: { name: string; timeoutMs: number; idleMs: number },
  ) {}

  /** `request`'s answer; `timeoutMessage` is the error's when it takes longer than the thread's time. */
  request(request: Request, timeoutMessage: string): Promise<Result> {
    const worker = this.start();
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    this.nextId += 1;
    const id = this.nextId;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => this.fail(new ThreadError(timeoutMessage, false)),
        this.options.timeoutMs,
      );
      this.pending.set(id, { resolve, reject, timer });
      worker.postMessage({ id, request });
    });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    // From the sources a small shim registers tsx in the thread first; the bundle has the code built beside it.
    const worker = runsFromBundle
      ? new Worker(path.join(projectRoot, 'dist', `${path.basename(this.module)}.js`))
      : new Worker(path.join(projectRoot, 'src', 'infra', 'ts-thread.mjs'), {
          workerData: { module: path.join(projectRoot, 'src', `${this.module}.ts`) },
        });
    worker.unref();
    worker.on('message', (answer: Answer<Result>) => {
      const waiting = this.pending.get(answer.id);
      if (!waiting) return;
      this.pending.delete(answer.id);
      clearTimeout(waiting.timer);
      if (answer.error) waiting.reject(new ThreadError(answer.error.message, answer.error.retryable));
      else waiting.resolve(answer.result as Result);
      if (this.pending.size === 0) this.endWhenIdle(worker);
    });
    const stopped = `${this.options.name} stopped`;
    worker.on('error', (error) => this.fail(new ThreadError(`${stopped} (${error.message})`, true)));
    worker.on('exit', () => {
      if (this.worker === worker) this.fail(new ThreadError(stopped, true));
    });
    this.worker = worker;
    return worker;
  }

  private endWhenIdle(worker: Worker): void {
    this.idleTimer = setTimeout(() => {
      if (this.worker !== worker || this.pending.size > 0) return;
      this.worker = null;
      void worker.terminate();
    }, this.options.idleMs);
    this.idleTimer.unref();
  }

  /** Ends the thread and every request waiting on it; the next request starts a new one. */
  private fail(error: ThreadError): void {
    const worker = this.worker;
    this.worker = null;
    for (const waiting of this.pending.values()) {
      clearTimeout(waiting.timer);
      waiting.reject(error);
    }
    this.pending.clear();
    void worker?.terminate();
  }
}

/**
 * The thread's side: answers each request with `handle`'s result, an error with its message (retryable
 * when it says so). ArrayBuffers in the result are moved to the caller, not copied.
 */
export function answerRequests<Request, Result>(
  handle: (request: Request) => Result | Promise<Result>,
): void {
  parentPort?.on('message', async ({ id, request }: { id: number; request: Request }) => {
    try {
      const result = await handle(request);
      const moved = result instanceof ArrayBuffer ? [result] : [];
      parentPort?.postMessage({ id, result } satisfies Answer<Result>, moved);
    } catch (error) {
      const retryable = (error as { retryable?: unknown }).retryable === true;
      parentPort?.postMessage({
        id,
        error: { message: (error as Error).message, retryable },
      } satisfies Answer<Result>);
    }
  });
}

import { SOURCE_ANSWER_MAX_BYTES } from '../../src/platforms/shared';
import type { Fault } from './harness';

/**
 * Hostile answers a source read must refuse whole: JSON cut off mid-way, and an answer of 50 MB
 * (far above SOURCE_ANSWER_MAX_BYTES), both with a 200 status and a JSON content type.
 */
export const malformedJsonFault: Fault = {
  kind: 'respond',
  status: 200,
  headers: { 'content-type': 'application/json; charset=UTF-8' },
  body: '{"data":[{"id":',
};

export function oversizedJsonFault(megabytes = 50): Fault {
  return {
    kind: 'respond',
    status: 200,
    headers: { 'content-type': 'application/json; charset=UTF-8' },
    body: `{"data":[],"padding":"${'x'.repeat(megabytes * 1024 * 1024)}"}`,
  };
}

/** What the refusal of an oversized answer says. */
export const OVERSIZED_MESSAGE = `larger than ${SOURCE_ANSWER_MAX_BYTES / 1024 / 1024} MB`;

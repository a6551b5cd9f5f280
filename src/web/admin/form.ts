import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { FieldError } from '../../domain/errors';
import type { Actor } from '../../domain/permissions';
import { requireActor } from '../../http/auth';
import type { WebKit } from '../kit';
import { fieldErrorsOf, isUserError, problemText } from '../page';

/** What the admin pages share: a refused form shown again with its values and reasons. */

export interface FormProblem {
  error?: string | null;
  errors?: FieldError[];
  /** Which form the problem belongs to: "new" or the id of the edited row. */
  form?: string;
  values?: Record<string, string>;
}

/** A form the rules refused, shown again with its values and reasons. */
export interface FailedForm {
  problem: FormProblem;
  status: number;
}

/** How an admin page is shown: after a redirect with a notice, or again with a refused form. */
export interface PageExtra {
  notice?: string | null;
  problem?: FormProblem;
  status?: number;
}

export const idParams = z.strictObject({ id: z.uuid() });
export const okQuery = z.strictObject({ ok: z.string().max(40).optional() });

/**
 * An admin form: done → `done` with a notice; refused by the rules → `show` again with the form
 * open, its values and the reasons.
 */
export const formChange =
  (
    kit: WebKit,
    done: string,
    show: (request: FastifyRequest, reply: FastifyReply, failed: FailedForm) => Promise<unknown>,
  ) =>
  async (
    request: FastifyRequest,
    reply: FastifyReply,
    form: string,
    values: Record<string, string>,
    work: (actor: Actor) => Promise<unknown>,
  ) => {
    const actor = requireActor(request);
    try {
      await work(actor);
      return reply.redirect(`${done}?ok=saved`, 303);
    } catch (error) {
      if (!isUserError(error) || (error.status === 404 && !error.errors)) throw error;
      const env = await kit.env(request, reply);
      return show(request, reply, {
        problem: { form, error: problemText(env.t, error), errors: fieldErrorsOf(env.t, error), values },
        status: error.status,
      });
    }
  };

import { form, nationalAdmin, webTable } from './table';

/** Stopping all publishing (a blackout over the whole organisation): the national admins only. Run last. */
export const stopTable = webTable({
  name: 'stop all publishing',
  rows: [
    {
      route: 'POST /admin/blackouts/stop',
      request: () => form('/admin/blackouts/stop', { reason: 'Insiden keamanan akun' }),
      expect: nationalAdmin(303),
    },
  ],
});

import type { InjectOptions } from 'fastify';
import sharp from 'sharp';
import { multipart } from '../../helpers/media';
import { accessTable, everyone, statuses } from './table';

/** A medium of office A1: its office and the reviewers and admins above see it; only the office changes it. */

/** A small PNG of a colour no other upload of this run has, so every upload creates a medium. */
let uploads = 0;
async function uploadRequest(altText: string): Promise<InjectOptions> {
  uploads += 1;
  const png = await sharp({
    create: {
      width: 16,
      height: 16,
      channels: 3,
      background: { r: uploads & 255, g: (uploads >> 8) & 255, b: (uploads >> 16) & 255 },
    },
  })
    .png()
    .toBuffer();
  const form = multipart([
    { name: 'altText', value: altText },
    { name: 'file', filename: 'foto.png', contentType: 'image/png', data: png },
  ]);
  return { method: 'POST', url: '/api/v1/media', headers: form.headers, payload: form.payload };
}

const read = statuses({
  national: [404, 200, 200],
  regionA: [404, 200, 200],
  regionB: [404, 404, 404],
  officeA1: [200, 200, 200],
  officeA2: [404, 404, 404],
  officeB1: [404, 404, 404],
  officeB2: [404, 404, 404],
});

export const mediaTable = accessTable<{ medium: string }>({
  name: 'media',
  setup: async (env) => {
    const upload = await uploadRequest('Foto kegiatan');
    const response = await env.app.inject({
      ...upload,
      headers: {
        ...(upload.headers as Record<string, string>),
        ...env.org.user('officeA1', 'contributor').headers,
      },
    });
    if (response.statusCode !== 201) throw new Error(`upload failed: ${response.body}`);
    return { medium: (response.json() as { id: string }).id };
  },
  rows: [
    {
      route: 'POST /api/v1/media',
      case: 'into the own unit',
      request: () => uploadRequest('Foto baru'),
      expect: everyone(201),
    },
    {
      route: 'GET /api/v1/media/:id',
      request: (_actor, f) => ({ method: 'GET', url: `/api/v1/media/${f.medium}` }),
      expect: read,
    },
    {
      route: 'GET /api/v1/media/:id/thumbnail',
      request: (_actor, f) => ({ method: 'GET', url: `/api/v1/media/${f.medium}/thumbnail` }),
      expect: read,
    },
    {
      route: 'GET /api/v1/media/:id/content',
      request: (_actor, f) => ({ method: 'GET', url: `/api/v1/media/${f.medium}/content` }),
      expect: read,
    },
    {
      route: 'PATCH /api/v1/media/:id',
      request: (_actor, f) => ({
        method: 'PATCH',
        url: `/api/v1/media/${f.medium}`,
        payload: { altText: 'Teks alternatif' },
      }),
      expect: statuses({
        national: [404, 403, 403],
        regionA: [404, 403, 403],
        regionB: [404, 404, 404],
        officeA1: [200, 200, 200],
        officeA2: [404, 404, 404],
        officeB1: [404, 404, 404],
        officeB2: [404, 404, 404],
      }),
    },
  ],
});

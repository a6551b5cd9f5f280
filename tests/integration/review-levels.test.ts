import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postLevels, units } from '../../src/db/schema';
import { createTestApp, type TestApp } from '../helpers/context';
import { testDrivers } from '../helpers/db';
import { createTestUser, seedTestOrg, type TestOrg, type TestUser } from '../helpers/org';
import { createPostVia, insertChannel } from '../helpers/posts';

interface InboxItem {
  id: string;
  arrival: string;
  status: string;
  decisions: {
    unit: { name: string };
    decision: string | null;
    channels: string[];
    forwarded: boolean;
    forwardNote: string | null;
  }[];
}

describe.each(testDrivers())('review levels on %s', (driver) => {
  let t: TestApp;
  let org: TestOrg;
  const clock = new Date('2030-03-04T02:00:00.000Z');
  const inAWeek = new Date(clock.getTime() + 7 * 86_400_000).toISOString();
  let regionalChannel: string;
  let nationalChannel: string;
  let regional: TestUser;
  let national: TestUser;

  const api = (user: TestUser, method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object) =>
    t.app.inject({ method, url: `/api/v1${url}`, headers: user.headers, payload });
  const inbox = async (user: TestUser, query = '') =>
    (await api(user, 'GET', `/reviews${query}`)).json() as { items: InboxItem[]; total: number };
  const version = async (id: string) =>
    ((await api(national, 'GET', `/posts/${id}`)).json() as { version: number }).version;
  const submit = (body = 'Pelayanan paspor keliling di Singkawang') =>
    createPostVia(t.app, org.user('officeA1', 'contributor'), { body });

  beforeAll(async () => {
    t = await createTestApp(driver, { now: () => clock });
    org = await seedTestOrg(t.ctx);
    regionalChannel = await insertChannel(t.ctx, org.units.regionA, 'sandbox', { name: '@kanwil_a' });
    nationalChannel = await insertChannel(t.ctx, org.units.national, 'sandbox', { name: '@ditjen' });
    regional = org.user('regionA', 'reviewer');
    national = org.user('national', 'reviewer');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('puts a submission in the inbox of the region above the office and, by default, the national one', async () => {
    const post = await submit();
    expect((await inbox(regional)).items.map((i) => [i.id, i.arrival])).toContainEqual([post.id, 'nearest']);
    expect((await inbox(national)).items.map((i) => [i.id, i.arrival])).toContainEqual([post.id, 'direct']);
    // The other region never sees it.
    expect((await inbox(org.user('regionB', 'reviewer'))).items.map((i) => i.id)).not.toContain(post.id);
  });

  it('lets a region approve for its own channel and forward with a note; national sees both, marked forwarded', async () => {
    const post = await submit('Operasi pengawasan orang asing di Pontianak');
    const approved = await api(regional, 'POST', `/posts/${post.id}/approve`, {
      version: post.version,
      targets: [{ channelId: regionalChannel, at: inAWeek }],
    });
    expect(approved.statusCode).toBe(200);
    expect(approved.json().status).toBe('approved');
    // The region's decision takes it out of the regional inbox only.
    expect((await inbox(regional)).items.map((i) => i.id)).not.toContain(post.id);
    const forwarded = await api(regional, 'POST', `/posts/${post.id}/forward`, {
      version: approved.json().version,
      note: 'bagus untuk nasional',
    });
    expect(forwarded.statusCode).toBe(200);

    const seen = (await inbox(national, '?forwarded=true')).items.find((i) => i.id === post.id);
    expect(seen).toMatchObject({ arrival: 'forwarded', status: 'approved' });
    expect(seen!.decisions).toEqual([
      {
        unit: { id: org.units.regionA.id, name: org.units.regionA.name },
        decision: 'approved',
        channels: ['@kanwil_a'],
        note: null,
        forwarded: true,
        forwardNote: 'bagus untuk nasional',
      },
    ]);

    // A region may not target the national channel; national approves its own.
    const wrong = await api(regional, 'POST', `/posts/${post.id}/targets`, {
      version: forwarded.json().version,
      targets: [{ channelId: nationalChannel, at: inAWeek }],
    });
    expect(wrong.statusCode).toBe(422);
    const nationalApproval = await api(national, 'POST', `/posts/${post.id}/approve`, {
      version: forwarded.json().version,
      targets: [{ channelId: nationalChannel, at: inAWeek }],
    });
    expect(nationalApproval.statusCode).toBe(200);
    expect(
      nationalApproval
        .json()
        .deliveries.map((d: { channelId: string }) => d.channelId)
        .sort(),
    ).toEqual([regionalChannel, nationalChannel].sort());
    expect((await inbox(national)).items.map((i) => i.id)).not.toContain(post.id);

    // The timeline names the level of every decision.
    const { events } = (await api(national, 'GET', `/posts/${post.id}/events`)).json() as {
      events: { kind: string; data: { event?: string; level?: { name: string }; to?: { name: string } } }[];
    };
    expect(
      events
        .filter((e) => e.kind === 'transition' && e.data.level)
        .map((e) => [e.data.event, e.data.level!.name, e.data.to?.name ?? null]),
    ).toEqual([
      ['approve', org.units.regionA.name, null],
      ['forward', org.units.regionA.name, org.units.national.name],
      ['approve', org.units.national.name, null],
    ]);

    // Sending it back is refused now that deliveries exist; the office can no longer edit it.
    const latest = await version(post.id);
    for (const [step, body] of [
      ['request-changes', { comment: 'Ganti foto' }],
      ['reject', { reason: 'Tidak jadi' }],
    ] as const) {
      const refused = await api(national, 'POST', `/posts/${post.id}/${step}`, { version: latest, ...body });
      expect(refused.statusCode).toBe(409);
    }
    const edit = await api(org.user('officeA1', 'contributor'), 'PATCH', `/posts/${post.id}`, {
      version: latest,
      body: 'Diubah',
    });
    expect(edit.statusCode).toBe(409);
  });

  it('refuses a level deciding twice, forwarding twice, and national forwarding at all', async () => {
    const post = await submit('Sosialisasi izin tinggal');
    const passed = await api(regional, 'POST', `/posts/${post.id}/pass`, { version: post.version });
    expect(passed.statusCode).toBe(200);
    expect(passed.json().status).toBe('submitted');
    const again = await api(regional, 'POST', `/posts/${post.id}/approve`, {
      version: passed.json().version,
      targets: [{ channelId: regionalChannel, at: inAWeek }],
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('level_decided');
    const first = await api(regional, 'POST', `/posts/${post.id}/forward`, {
      version: passed.json().version,
    });
    expect(first.statusCode).toBe(200);
    const second = await api(regional, 'POST', `/posts/${post.id}/forward`, {
      version: first.json().version,
    });
    expect(second.json().code).toBe('already_forwarded');
    const top = await api(national, 'POST', `/posts/${post.id}/forward`, { version: first.json().version });
    expect(top.statusCode).toBe(409);
    expect(top.json().code).toBe('no_level_above');
    // A pass is not a rejection: the post still waits at national.
    expect((await inbox(national)).items.map((i) => i.id)).toContain(post.id);
  });

  it('lets only one of two reviewers of a level decide', async () => {
    const post = await submit('Layanan paspor di bandara');
    const second = await createTestUser(t.ctx, { unit: org.units.regionA, role: 'reviewer' });
    const [a, b] = await Promise.all([
      api(regional, 'POST', `/posts/${post.id}/pass`, { version: post.version }),
      api(second, 'POST', `/posts/${post.id}/approve`, {
        version: post.version,
        targets: [{ channelId: regionalChannel, at: inAWeek }],
      }),
    ]);
    expect([a.statusCode, b.statusCode].sort()).toEqual([200, 409]);
    const rows = await t.ctx.db.select().from(postLevels).where(eq(postLevels.postId, post.id));
    expect(rows.filter((r) => r.decision !== null)).toHaveLength(1);
  });

  it('takes a post out of every inbox when changes are requested, and back in when it is resubmitted', async () => {
    const post = await submit('Pemeriksaan keimigrasian');
    const sent = await api(regional, 'POST', `/posts/${post.id}/request-changes`, {
      version: post.version,
      comment: 'Tambahkan foto',
    });
    expect(sent.statusCode).toBe(200);
    expect((await inbox(regional)).items.map((i) => i.id)).not.toContain(post.id);
    expect((await inbox(national)).items.map((i) => i.id)).not.toContain(post.id);
    const again = await api(org.user('officeA1', 'contributor'), 'POST', `/posts/${post.id}/submit`, {
      version: sent.json().version,
    });
    expect(again.statusCode).toBe(200);
    expect((await inbox(regional)).items.map((i) => i.id)).toContain(post.id);
    expect((await inbox(national)).items.map((i) => i.id)).toContain(post.id);
  });

  it('keeps national out of the loop until forwarded when the organisation says so', async () => {
    await t.ctx.db
      .update(units)
      .set({ reviewNationalDirect: false })
      .where(eq(units.id, org.units.national.id));
    try {
      const post = await submit('Kegiatan kantor minggu ini');
      expect((await inbox(national)).items.map((i) => i.id)).not.toContain(post.id);
      const forwarded = await api(regional, 'POST', `/posts/${post.id}/forward`, { version: post.version });
      expect(forwarded.statusCode).toBe(200);
      const seen = (await inbox(national)).items.find((i) => i.id === post.id);
      expect(seen?.arrival).toBe('forwarded');
    } finally {
      await t.ctx.db
        .update(units)
        .set({ reviewNationalDirect: true })
        .where(eq(units.id, org.units.national.id));
    }
  });
});

import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvents, sourceRules, sources } from '../../src/db/schema';
import { id as msg } from '../../src/web/i18n/id';
import { createTestApp, type TestApp } from '../helpers/context';
import { seedTestOrg, TEST_PASSWORD, type TestOrg } from '../helpers/org';
import { insertChannel } from '../helpers/posts';
import { signIn, type TestSession } from '../helpers/session';

/**
 * Auto-approval rules on the sources page: reviewers of a source's office and above list, add, edit,
 * pause and remove its rules, each rule at its own anchor (where the inbox's "edit rule" link lands),
 * offered only the channels they may target; a refused form comes back with the problem next to its
 * field and what was typed; the office's contributors see the rules but no forms; every form carries
 * the session's CSRF token.
 */
// The forms call the same service as the API (tested on both drivers there); one driver is enough here.
describe('auto-approval rules on the sources page', () => {
  let t: TestApp;
  let org: TestOrg;
  let sourceId: string;
  let national: TestSession;
  let nationalChannel: string;
  let secondChannel: string;
  let regionBChannel: string;

  beforeAll(async () => {
    t = await createTestApp('pglite');
    org = await seedTestOrg(t.ctx);
    const slots = ['0 9 * * *'];
    nationalChannel = await insertChannel(t.ctx, org.units.national, 'sandbox', {
      name: 'Humas Pusat',
      slots,
    });
    secondChannel = await insertChannel(t.ctx, org.units.national, 'sandbox', {
      name: 'Humas Pusat 2',
      slots,
    });
    regionBChannel = await insertChannel(t.ctx, org.units.regionB, 'sandbox', { name: 'Wilayah B' });
    const office = org.user('officeA1', 'contributor');
    const [source] = await t.ctx.db
      .insert(sources)
      .values({
        unitId: office.unitId,
        createdBy: office.id,
        kind: 'rss',
        url: 'https://kanim-pontianak.example/feed/',
        since: new Date(),
        nextPollAt: new Date(Date.now() + 3_600_000),
      })
      .returning();
    sourceId = source!.id;
    national = await signIn(t.app, org.user('national', 'reviewer').email, TEST_PASSWORD);
  });
  afterAll(async () => {
    await t?.close();
  });

  /** A form as the browser sends it: repeated names for the ticked channels. */
  const send = (session: TestSession, url: string, fields: [string, string][], csrf = session.csrfToken) =>
    t.app.inject({
      method: 'POST',
      url,
      headers: { cookie: session.cookie.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams([['_csrf', csrf], ...fields]).toString(),
    });
  const page = async (session: TestSession) =>
    (await t.app.inject({ url: '/sources', headers: session.cookie })).body;
  const rulesOf = () => t.ctx.db.select().from(sourceRules).where(eq(sourceRules.sourceId, sourceId));
  /** The part of the page about one rule: its list entry, from its anchor on. */
  const ruleHtml = (html: string, ruleId: string) => {
    const start = html.indexOf(`id="rule-${ruleId}"`);
    expect(start, `rule-${ruleId}`).toBeGreaterThan(-1);
    return html.slice(start, html.indexOf('</li>', start));
  };

  it("offers the reviewer's own channels to a new rule, and adds it at its anchor", async () => {
    const html = await page(national);
    const form = html.slice(html.indexOf(`data-rule-form="new-${sourceId}"`));
    expect(form).toContain(`value="${nationalChannel}"`);
    expect(form).toContain(`value="${secondChannel}"`);
    expect(form).not.toContain(`value="${regionBChannel}"`);
    expect(html).toContain(`action="/sources/${sourceId}/rules"`);
    expect(html).toContain(msg.sources.rules.none);

    const added = await send(national, `/sources/${sourceId}/rules`, [
      ['channelIds', nationalChannel],
      ['channelIds', secondChannel],
      ['mode', 'copy'],
      ['hashtags', '#Paspor, layanan'],
      ['delayMinutes', ''],
      ['stopWindowMinutes', '45'],
    ]);
    expect(added.statusCode, added.body).toBe(303);
    const [rule] = await rulesOf();
    expect(rule).toMatchObject({
      channelIds: [nationalChannel, secondChannel],
      mode: 'copy',
      hashtags: ['paspor', 'layanan'],
      delayMinutes: null,
      stopWindowMinutes: 45,
      createdBy: org.user('national', 'reviewer').id,
      pausedAt: null,
    });
    expect(added.headers.location).toBe(`/sources?ok=ruleCreated#rule-${rule!.id}`);

    const listed = await t.app.inject({ url: '/sources?ok=ruleCreated', headers: national.cookie });
    expect(listed.body).toContain(msg.notices.ruleCreated);
    const entry = ruleHtml(listed.body, rule!.id);
    expect(entry).toContain('Humas Pusat, Humas Pusat 2');
    expect(entry).toContain('#paspor #layanan');
    expect(entry).toContain(msg.sources.rules.window(45));
    expect(entry).toContain(`action="/sources/${sourceId}/rules/${rule!.id}"`);
  });

  it('shows a refused rule again with the problem at its field and what was typed', async () => {
    const before = (await rulesOf()).length;
    const foreign = await send(national, `/sources/${sourceId}/rules`, [
      ['channelIds', regionBChannel],
      ['mode', 'copy'],
      ['hashtags', '#kunjungan'],
      ['stopWindowMinutes', '20'],
    ]);
    expect(foreign.statusCode).toBe(400);
    expect(foreign.body).toContain(`id="rule-new-${sourceId}-channelIds-error"`);
    expect(foreign.body).toMatch(/<details open[^>]*>\s*<summary>[^<]*<\/summary>\s*<p class="hint">/);
    expect(foreign.body).toContain('value="#kunjungan"');

    const none = await send(national, `/sources/${sourceId}/rules`, [
      ['mode', 'copy'],
      ['stopWindowMinutes', '20'],
    ]);
    expect(none.statusCode).toBe(400);
    expect(none.body).toContain(`id="rule-new-${sourceId}-channelIds-error"`);

    const long = await send(national, `/sources/${sourceId}/rules`, [
      ['channelIds', nationalChannel],
      ['mode', 'copy'],
      ['stopWindowMinutes', '5000'],
    ]);
    expect(long.statusCode).toBe(400);
    expect(long.body).toContain(`id="rule-new-${sourceId}-stopWindowMinutes-error"`);
    expect(long.body).toContain('value="5000"');

    const repost = await send(national, `/sources/${sourceId}/rules`, [
      ['channelIds', nationalChannel],
      ['mode', 'repost'],
      ['stopWindowMinutes', '20'],
    ]);
    expect(repost.statusCode).toBe(400);
    expect(repost.body).toContain(`id="rule-new-${sourceId}-channelIds-error"`);
    expect(await rulesOf()).toHaveLength(before);
  });

  it('edits a rule: the editor becomes its author, and a channel not theirs is named and dropped', async () => {
    const [rule] = await rulesOf();
    const regionA = await signIn(t.app, org.user('regionA', 'reviewer').email, TEST_PASSWORD);
    const regionChannel = await insertChannel(t.ctx, org.units.regionA, 'sandbox', { name: 'Wilayah A' });
    const entry = ruleHtml(await page(regionA), rule!.id);
    expect(entry).toContain(`value="${regionChannel}"`);
    expect(entry).toContain(msg.sources.rules.otherChannel('Humas Pusat'));
    expect(entry).toContain(msg.sources.rules.authorNote);

    const saved = await send(regionA, `/sources/${sourceId}/rules/${rule!.id}`, [
      ['channelIds', regionChannel],
      ['mode', 'copy'],
      ['hashtags', ''],
      ['delayMinutes', '60'],
      ['stopWindowMinutes', '10'],
    ]);
    expect(saved.statusCode, saved.body).toBe(303);
    expect(saved.headers.location).toBe(`/sources?ok=ruleSaved#rule-${rule!.id}`);
    const [edited] = await rulesOf();
    expect(edited).toMatchObject({
      channelIds: [regionChannel],
      hashtags: [],
      delayMinutes: 60,
      stopWindowMinutes: 10,
      createdBy: org.user('regionA', 'reviewer').id,
    });

    // A refused edit opens that rule's form again, not the new-rule form.
    const refused = await send(regionA, `/sources/${sourceId}/rules/${rule!.id}`, [
      ['channelIds', nationalChannel],
      ['mode', 'copy'],
      ['stopWindowMinutes', '10'],
    ]);
    expect(refused.statusCode).toBe(400);
    expect(refused.body).toContain(`id="rule-${rule!.id}-channelIds-error"`);
    expect(ruleHtml(refused.body, rule!.id)).toMatch(/<details open/);
    expect((await rulesOf())[0]!.channelIds).toEqual([regionChannel]);
  });

  it('pauses, resumes and removes a rule, each step audited', async () => {
    const [rule] = await rulesOf();
    const paused = await send(national, `/sources/${sourceId}/rules/${rule!.id}/pause`, [['paused', 'true']]);
    expect(paused.headers.location).toBe(`/sources?ok=rulePaused#rule-${rule!.id}`);
    const [row] = await rulesOf();
    expect(row!.pausedAt).not.toBeNull();
    // Pausing alone leaves the author the rule approves as.
    expect(row!.createdBy).toBe(org.user('regionA', 'reviewer').id);
    const entry = ruleHtml(await page(national), rule!.id);
    expect(entry).toContain(msg.sources.rules.paused);
    expect(entry).toContain(msg.sources.rules.resume);

    const resumed = await send(national, `/sources/${sourceId}/rules/${rule!.id}/pause`, [
      ['paused', 'false'],
    ]);
    expect(resumed.headers.location).toBe(`/sources?ok=ruleResumed#rule-${rule!.id}`);
    expect((await rulesOf())[0]!.pausedAt).toBeNull();

    const removed = await send(national, `/sources/${sourceId}/rules/${rule!.id}/delete`, []);
    expect(removed.headers.location).toBe(`/sources?ok=ruleDeleted#source-${sourceId}`);
    expect(await rulesOf()).toEqual([]);
    const audit = await t.ctx.db
      .select({ action: auditEvents.action })
      .from(auditEvents)
      .where(and(eq(auditEvents.targetType, 'source_rule'), eq(auditEvents.targetId, rule!.id)));
    expect(audit.map((a) => a.action).sort()).toEqual([
      'source_rule.created',
      'source_rule.deleted',
      'source_rule.paused',
      'source_rule.resumed',
      'source_rule.updated',
    ]);
  });

  it("shows the office's contributors the rules without forms, and refuses their forms", async () => {
    const [rule] = await t.ctx.db
      .insert(sourceRules)
      .values({
        sourceId,
        createdBy: org.user('national', 'reviewer').id,
        channelIds: [nationalChannel],
        mode: 'copy',
        stopWindowMinutes: 30,
      })
      .returning();
    const office = await signIn(t.app, org.user('officeA1', 'contributor').email, TEST_PASSWORD);
    const html = await page(office);
    const entry = ruleHtml(html, rule!.id);
    expect(entry).toContain('Humas Pusat');
    expect(entry).not.toContain('<form');
    expect(html).not.toContain(`action="/sources/${sourceId}/rules"`);
    const refused = await send(office, `/sources/${sourceId}/rules/${rule!.id}/pause`, [['paused', 'true']]);
    expect(refused.statusCode).toBe(403);
    expect((await rulesOf())[0]!.pausedAt).toBeNull();
  });

  it("refuses a rule form that does not carry the session's CSRF token", async () => {
    const [rule] = await rulesOf();
    const other = await signIn(t.app, org.user('regionA', 'reviewer').email, TEST_PASSWORD);
    const forged = await send(
      national,
      `/sources/${sourceId}/rules/${rule!.id}/pause`,
      [['paused', 'true']],
      other.csrfToken,
    );
    expect(forged.statusCode).toBe(403);
    expect(forged.body).toContain(msg.problems.csrf_failed);
    const created = await send(
      national,
      `/sources/${sourceId}/rules`,
      [
        ['channelIds', nationalChannel],
        ['mode', 'copy'],
        ['stopWindowMinutes', '5'],
      ],
      randomUUID(),
    );
    expect(created.statusCode).toBe(403);
    expect(await rulesOf()).toHaveLength(1);
    expect((await rulesOf())[0]!.pausedAt).toBeNull();
  });
});

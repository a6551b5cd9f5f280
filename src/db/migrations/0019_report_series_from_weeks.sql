ALTER TABLE "delivery_metric_weeks" ADD COLUMN "impressions_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "delivery_metric_weeks" ADD COLUMN "engagements_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
-- A week's cell also counts the deliveries whose latest impressions and engagements are known, so that a
-- report can take a part of a week away from its cell (the hours of a UTC week that fall in the viewer's
-- next or previous week) and still tell a sum of nothing (null) from a sum of zeros.
CREATE OR REPLACE FUNCTION "delivery_metric_weeks_refresh"(weeks timestamptz[], unit_ids uuid[], channel_ids uuid[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF coalesce(array_length(weeks, 1), 0) = 0 THEN RETURN; END IF;
  INSERT INTO delivery_metric_weeks ("week", "unit_id", "channel_id", "published", "measured", "demo")
  SELECT DISTINCT k.week, k.unit_id, k.channel_id, 0, 0, 0 FROM unnest(weeks, unit_ids, channel_ids) AS k(week, unit_id, channel_id)
  ON CONFLICT DO NOTHING;
  -- One writer per cell at a time; the update below then sees what the previous holder committed.
  PERFORM 1 FROM delivery_metric_weeks m JOIN unnest(weeks, unit_ids, channel_ids) AS k(week, unit_id, channel_id)
    ON m.week = k.week AND m.unit_id = k.unit_id AND m.channel_id = k.channel_id
    ORDER BY m.week, m.unit_id, m.channel_id FOR NO KEY UPDATE OF m;
  UPDATE delivery_metric_weeks m SET "published" = s.published, "measured" = s.measured, "demo" = s.demo, "impressions" = s."impressions", "likes" = s."likes", "reposts" = s."reposts", "replies" = s."replies", "quotes" = s."quotes", "clicks" = s."clicks", "engagements" = s."engagements", "impressions_1h" = s."impressions_1h", "likes_1h" = s."likes_1h", "reposts_1h" = s."reposts_1h", "replies_1h" = s."replies_1h", "quotes_1h" = s."quotes_1h", "clicks_1h" = s."clicks_1h", "engagements_1h" = s."engagements_1h", "impressions_24h" = s."impressions_24h", "likes_24h" = s."likes_24h", "reposts_24h" = s."reposts_24h", "replies_24h" = s."replies_24h", "quotes_24h" = s."quotes_24h", "clicks_24h" = s."clicks_24h", "engagements_24h" = s."engagements_24h", "impressions_7d" = s."impressions_7d", "likes_7d" = s."likes_7d", "reposts_7d" = s."reposts_7d", "replies_7d" = s."replies_7d", "quotes_7d" = s."quotes_7d", "clicks_7d" = s."clicks_7d", "engagements_7d" = s."engagements_7d", "impressions_count" = s.impressions_count, "engagements_count" = s.engagements_count
  FROM (
    SELECT k.week, k.unit_id, k.channel_id, count(r.delivery_id)::int AS published,
      count(r.taken_at)::int AS measured, count(*) FILTER (WHERE r.demo)::int AS demo, sum(r."impressions") AS "impressions", sum(r."likes") AS "likes", sum(r."reposts") AS "reposts", sum(r."replies") AS "replies", sum(r."quotes") AS "quotes", sum(r."clicks") AS "clicks", sum(r."engagements") AS "engagements", sum(r."impressions_1h") AS "impressions_1h", sum(r."likes_1h") AS "likes_1h", sum(r."reposts_1h") AS "reposts_1h", sum(r."replies_1h") AS "replies_1h", sum(r."quotes_1h") AS "quotes_1h", sum(r."clicks_1h") AS "clicks_1h", sum(r."engagements_1h") AS "engagements_1h", sum(r."impressions_24h") AS "impressions_24h", sum(r."likes_24h") AS "likes_24h", sum(r."reposts_24h") AS "reposts_24h", sum(r."replies_24h") AS "replies_24h", sum(r."quotes_24h") AS "quotes_24h", sum(r."clicks_24h") AS "clicks_24h", sum(r."engagements_24h") AS "engagements_24h", sum(r."impressions_7d") AS "impressions_7d", sum(r."likes_7d") AS "likes_7d", sum(r."reposts_7d") AS "reposts_7d", sum(r."replies_7d") AS "replies_7d", sum(r."quotes_7d") AS "quotes_7d", sum(r."clicks_7d") AS "clicks_7d", sum(r."engagements_7d") AS "engagements_7d", count(r."impressions")::int AS impressions_count, count(r."engagements")::int AS engagements_count
    FROM (SELECT DISTINCT * FROM unnest(weeks, unit_ids, channel_ids) AS k(week, unit_id, channel_id)) k
    LEFT JOIN delivery_metric_rollups r ON r.unit_id = k.unit_id AND r.channel_id = k.channel_id
      AND r.published_at >= k.week AND r.published_at < k.week + interval '7 days'
    GROUP BY k.week, k.unit_id, k.channel_id
  ) s
  WHERE m.week = s.week AND m.unit_id = s.unit_id AND m.channel_id = s.channel_id;
END $$;--> statement-breakpoint
UPDATE "delivery_metric_weeks" m SET "impressions_count" = s.impressions_count, "engagements_count" = s.engagements_count
FROM (
  SELECT date_trunc('week', r.published_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS week, r.unit_id, r.channel_id,
    count(r."impressions")::int AS impressions_count, count(r."engagements")::int AS engagements_count
  FROM "delivery_metric_rollups" r
  GROUP BY 1, 2, 3
) s
WHERE m.week = s.week AND m.unit_id = s.unit_id AND m.channel_id = s.channel_id;--> statement-breakpoint
-- A report reads its period's whole weeks from these two indexes alone, in the order of the weeks, instead
-- of from cells spread over the table by their updates: one carries the counts and the figures as last
-- measured and at 1 h (with the counts of known impressions and engagements, for the weekly series), the
-- other the figures at 24 h and 7 d, as one index holds at most 32 columns.
CREATE INDEX "delivery_metric_weeks_latest_1h_idx" ON "delivery_metric_weeks" USING btree ("week") INCLUDE ("unit_id","channel_id","published","measured","demo","impressions","likes","reposts","replies","quotes","clicks","engagements","impressions_1h","likes_1h","reposts_1h","replies_1h","quotes_1h","clicks_1h","engagements_1h","impressions_count","engagements_count");--> statement-breakpoint
CREATE INDEX "delivery_metric_weeks_24h_7d_idx" ON "delivery_metric_weeks" USING btree ("week") INCLUDE ("unit_id","channel_id","published","impressions_24h","likes_24h","reposts_24h","replies_24h","quotes_24h","clicks_24h","engagements_24h","impressions_7d","likes_7d","reposts_7d","replies_7d","quotes_7d","clicks_7d","engagements_7d");

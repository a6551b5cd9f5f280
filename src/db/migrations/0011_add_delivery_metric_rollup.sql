CREATE TABLE "delivery_metric_rollups" (
	"delivery_id" uuid PRIMARY KEY NOT NULL,
	"post_id" uuid NOT NULL,
	"unit_id" uuid NOT NULL,
	"channel_id" uuid NOT NULL,
	"published_at" timestamp with time zone NOT NULL,
	"taken_at" timestamp with time zone,
	"demo" boolean DEFAULT false NOT NULL,
	"impressions" bigint,
	"likes" bigint,
	"reposts" bigint,
	"replies" bigint,
	"quotes" bigint,
	"clicks" bigint,
	"engagements" bigint,
	"impressions_1h" bigint,
	"likes_1h" bigint,
	"reposts_1h" bigint,
	"replies_1h" bigint,
	"quotes_1h" bigint,
	"clicks_1h" bigint,
	"engagements_1h" bigint,
	"impressions_24h" bigint,
	"likes_24h" bigint,
	"reposts_24h" bigint,
	"replies_24h" bigint,
	"quotes_24h" bigint,
	"clicks_24h" bigint,
	"engagements_24h" bigint,
	"impressions_7d" bigint,
	"likes_7d" bigint,
	"reposts_7d" bigint,
	"replies_7d" bigint,
	"quotes_7d" bigint,
	"clicks_7d" bigint,
	"engagements_7d" bigint
);
--> statement-breakpoint
ALTER TABLE "delivery_metric_rollups" ADD CONSTRAINT "delivery_metric_rollups_delivery_id_deliveries_id_fk" FOREIGN KEY ("delivery_id") REFERENCES "public"."deliveries"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "delivery_metric_rollups_published_idx" ON "delivery_metric_rollups" USING btree ("published_at");
--> statement-breakpoint
-- A published delivery's rollup row, recomputed from its snapshots: the latest one (by taken_at; on a
-- tie, the later window) and each window's. Deliveries not published have none.
CREATE FUNCTION "delivery_metric_rollup_refresh"(ids uuid[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF coalesce(array_length(ids, 1), 0) = 0 THEN RETURN; END IF;
  -- One writer per delivery at a time; each statement below then sees what the previous holder committed.
  PERFORM 1 FROM deliveries WHERE id = ANY(ids) ORDER BY id FOR NO KEY UPDATE;
  DELETE FROM delivery_metric_rollups WHERE delivery_id = ANY(ids);
  INSERT INTO delivery_metric_rollups ("delivery_id", "post_id", "unit_id", "channel_id", "published_at", "taken_at", "demo", "impressions", "likes", "reposts", "replies", "quotes", "clicks", "engagements", "impressions_1h", "likes_1h", "reposts_1h", "replies_1h", "quotes_1h", "clicks_1h", "engagements_1h", "impressions_24h", "likes_24h", "reposts_24h", "replies_24h", "quotes_24h", "clicks_24h", "engagements_24h", "impressions_7d", "likes_7d", "reposts_7d", "replies_7d", "quotes_7d", "clicks_7d", "engagements_7d")
  SELECT d.id, d.post_id, p.unit_id, d.channel_id, d.published_at, l.taken_at, coalesce(l.demo, false),
    l.impressions, l.likes, l.reposts, l.replies, l.quotes, l.clicks, l.engagements,
    w.impressions_1h, w.likes_1h, w.reposts_1h, w.replies_1h, w.quotes_1h, w.clicks_1h,
    CASE WHEN coalesce(w.likes_1h, w.reposts_1h, w.replies_1h, w.quotes_1h, w.clicks_1h) IS NULL THEN NULL ELSE coalesce(w.likes_1h, 0) + coalesce(w.reposts_1h, 0) + coalesce(w.replies_1h, 0) + coalesce(w.quotes_1h, 0) + coalesce(w.clicks_1h, 0) END,
    w.impressions_24h, w.likes_24h, w.reposts_24h, w.replies_24h, w.quotes_24h, w.clicks_24h,
    CASE WHEN coalesce(w.likes_24h, w.reposts_24h, w.replies_24h, w.quotes_24h, w.clicks_24h) IS NULL THEN NULL ELSE coalesce(w.likes_24h, 0) + coalesce(w.reposts_24h, 0) + coalesce(w.replies_24h, 0) + coalesce(w.quotes_24h, 0) + coalesce(w.clicks_24h, 0) END,
    w.impressions_7d, w.likes_7d, w.reposts_7d, w.replies_7d, w.quotes_7d, w.clicks_7d,
    CASE WHEN coalesce(w.likes_7d, w.reposts_7d, w.replies_7d, w.quotes_7d, w.clicks_7d) IS NULL THEN NULL ELSE coalesce(w.likes_7d, 0) + coalesce(w.reposts_7d, 0) + coalesce(w.replies_7d, 0) + coalesce(w.quotes_7d, 0) + coalesce(w.clicks_7d, 0) END
  FROM unnest(ids) AS x(id)
  JOIN deliveries d ON d.id = x.id
  JOIN posts p ON p.id = d.post_id
  LEFT JOIN LATERAL (
    SELECT m.taken_at, m.impressions, m.likes, m.reposts, m.replies, m.quotes, m.clicks, 
      CASE WHEN coalesce(m.likes, m.reposts, m.replies, m.quotes, m.clicks) IS NULL THEN NULL ELSE coalesce(m.likes, 0) + coalesce(m.reposts, 0) + coalesce(m.replies, 0) + coalesce(m.quotes, 0) + coalesce(m.clicks, 0) END AS engagements,
      (m.raw ->> 'demo') = 'true' AS demo
    FROM metrics_snapshots m WHERE m.delivery_id = d.id
    ORDER BY m.taken_at DESC, array_position(ARRAY['now', '7d', '24h', '1h'], m."window")
    LIMIT 1
  ) l ON true
  CROSS JOIN LATERAL (
    SELECT max(m.impressions) FILTER (WHERE m."window" = '1h') AS impressions_1h,
      max(m.likes) FILTER (WHERE m."window" = '1h') AS likes_1h,
      max(m.reposts) FILTER (WHERE m."window" = '1h') AS reposts_1h,
      max(m.replies) FILTER (WHERE m."window" = '1h') AS replies_1h,
      max(m.quotes) FILTER (WHERE m."window" = '1h') AS quotes_1h,
      max(m.clicks) FILTER (WHERE m."window" = '1h') AS clicks_1h,
      max(m.impressions) FILTER (WHERE m."window" = '24h') AS impressions_24h,
      max(m.likes) FILTER (WHERE m."window" = '24h') AS likes_24h,
      max(m.reposts) FILTER (WHERE m."window" = '24h') AS reposts_24h,
      max(m.replies) FILTER (WHERE m."window" = '24h') AS replies_24h,
      max(m.quotes) FILTER (WHERE m."window" = '24h') AS quotes_24h,
      max(m.clicks) FILTER (WHERE m."window" = '24h') AS clicks_24h,
      max(m.impressions) FILTER (WHERE m."window" = '7d') AS impressions_7d,
      max(m.likes) FILTER (WHERE m."window" = '7d') AS likes_7d,
      max(m.reposts) FILTER (WHERE m."window" = '7d') AS reposts_7d,
      max(m.replies) FILTER (WHERE m."window" = '7d') AS replies_7d,
      max(m.quotes) FILTER (WHERE m."window" = '7d') AS quotes_7d,
      max(m.clicks) FILTER (WHERE m."window" = '7d') AS clicks_7d
    FROM metrics_snapshots m WHERE m.delivery_id = d.id
  ) w
  WHERE d.status = 'published';
END $$;--> statement-breakpoint
CREATE FUNCTION "metrics_snapshots_rollup"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM delivery_metric_rollup_refresh(ARRAY(SELECT DISTINCT delivery_id FROM changed));
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE FUNCTION "metrics_snapshots_rollup_update"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM delivery_metric_rollup_refresh(ARRAY(
    SELECT delivery_id FROM changed UNION SELECT delivery_id FROM before));
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER "metrics_snapshots_rollup_insert" AFTER INSERT ON "metrics_snapshots"
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION "metrics_snapshots_rollup"();--> statement-breakpoint
CREATE TRIGGER "metrics_snapshots_rollup_delete" AFTER DELETE ON "metrics_snapshots"
  REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION "metrics_snapshots_rollup"();--> statement-breakpoint
CREATE TRIGGER "metrics_snapshots_rollup_update" AFTER UPDATE ON "metrics_snapshots"
  REFERENCING OLD TABLE AS before NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION "metrics_snapshots_rollup_update"();--> statement-breakpoint
CREATE FUNCTION "deliveries_rollup_insert"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM delivery_metric_rollup_refresh(ARRAY(SELECT id FROM changed WHERE status = 'published'));
  RETURN NULL;
END $$;--> statement-breakpoint
-- Only what the rollup copies: a status, publication time, post or channel that changed.
CREATE FUNCTION "deliveries_rollup_update"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM delivery_metric_rollup_refresh(ARRAY(
    SELECT n.id FROM changed n JOIN before o ON o.id = n.id
    WHERE (o.status = 'published' OR n.status = 'published')
      AND (o.status, o.published_at, o.post_id, o.channel_id) IS DISTINCT FROM (n.status, n.published_at, n.post_id, n.channel_id)));
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER "deliveries_rollup_insert" AFTER INSERT ON "deliveries"
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION "deliveries_rollup_insert"();--> statement-breakpoint
CREATE TRIGGER "deliveries_rollup_update" AFTER UPDATE ON "deliveries"
  REFERENCING OLD TABLE AS before NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION "deliveries_rollup_update"();--> statement-breakpoint
CREATE FUNCTION "posts_rollup_update"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM delivery_metric_rollup_refresh(ARRAY(
    SELECT d.id FROM changed n JOIN before o ON o.id = n.id JOIN deliveries d ON d.post_id = n.id
    WHERE o.unit_id IS DISTINCT FROM n.unit_id AND d.status = 'published'));
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER "posts_rollup_update" AFTER UPDATE ON "posts"
  REFERENCING OLD TABLE AS before NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION "posts_rollup_update"();--> statement-breakpoint
SELECT delivery_metric_rollup_refresh(ARRAY(SELECT id FROM deliveries WHERE status = 'published'));

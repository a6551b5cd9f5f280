CREATE TABLE "post_metric_totals" (
	"post_id" uuid PRIMARY KEY NOT NULL,
	"unit_id" uuid,
	"first_published_at" timestamp with time zone,
	"last_published_at" timestamp with time zone,
	"published" integer NOT NULL,
	"impressions" bigint,
	"engagements" bigint
);
--> statement-breakpoint
ALTER TABLE "post_metric_totals" ADD CONSTRAINT "post_metric_totals_post_id_posts_id_fk" FOREIGN KEY ("post_id") REFERENCES "public"."posts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "post_metric_totals_rank_idx" ON "post_metric_totals" USING btree ("impressions" DESC NULLS LAST,"engagements" DESC NULLS LAST,"first_published_at" DESC NULLS LAST,"post_id");--> statement-breakpoint
CREATE INDEX "post_metric_totals_span_idx" ON "post_metric_totals" USING gist (tstzrange("first_published_at", "last_published_at", '[]'));--> statement-breakpoint
CREATE INDEX "deliveries_failed_idx" ON "deliveries" USING btree ("updated_at","post_id","channel_id") WHERE "deliveries"."status" = 'failed';--> statement-breakpoint
-- Each post's totals, recomputed from its deliveries' rollup rows. A row stays once made (published 0 when
-- its deliveries are gone), so a writer that waits for another's lock always finds it.
CREATE FUNCTION "post_metric_totals_refresh"(ids uuid[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF coalesce(array_length(ids, 1), 0) = 0 THEN RETURN; END IF;
  INSERT INTO post_metric_totals ("post_id", "published")
  SELECT DISTINCT x.id, 0 FROM unnest(ids) AS x(id) JOIN posts p ON p.id = x.id
  ON CONFLICT DO NOTHING;
  -- One writer per post at a time; the update below then sees what the previous holder committed.
  PERFORM 1 FROM post_metric_totals WHERE post_id = ANY(ids) ORDER BY post_id FOR NO KEY UPDATE;
  UPDATE post_metric_totals t SET "unit_id" = s.unit_id, "first_published_at" = s.first_published_at,
    "last_published_at" = s.last_published_at, "published" = s.published, "impressions" = s.impressions,
    "engagements" = s.engagements
  FROM (
    SELECT x.id, (array_agg(r.unit_id) FILTER (WHERE r.unit_id IS NOT NULL))[1] AS unit_id,
      min(r.published_at) AS first_published_at, max(r.published_at) AS last_published_at,
      count(r.delivery_id)::int AS published, sum(r.impressions) AS impressions, sum(r.engagements) AS engagements
    FROM (SELECT DISTINCT id FROM unnest(ids) AS x(id)) x
    LEFT JOIN deliveries d ON d.post_id = x.id
    LEFT JOIN delivery_metric_rollups r ON r.delivery_id = d.id
    GROUP BY x.id
  ) s
  WHERE t.post_id = s.id;
END $$;--> statement-breakpoint
CREATE FUNCTION "delivery_metric_rollups_post_totals"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM post_metric_totals_refresh(ARRAY(SELECT DISTINCT post_id FROM changed));
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE FUNCTION "delivery_metric_rollups_post_totals_update"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM post_metric_totals_refresh(ARRAY(SELECT post_id FROM changed UNION SELECT post_id FROM before));
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER "delivery_metric_rollups_post_totals_insert" AFTER INSERT ON "delivery_metric_rollups"
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION "delivery_metric_rollups_post_totals"();--> statement-breakpoint
CREATE TRIGGER "delivery_metric_rollups_post_totals_delete" AFTER DELETE ON "delivery_metric_rollups"
  REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION "delivery_metric_rollups_post_totals"();--> statement-breakpoint
CREATE TRIGGER "delivery_metric_rollups_post_totals_update" AFTER UPDATE ON "delivery_metric_rollups"
  REFERENCING OLD TABLE AS before NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION "delivery_metric_rollups_post_totals_update"();--> statement-breakpoint
SELECT post_metric_totals_refresh(ARRAY(SELECT DISTINCT post_id FROM delivery_metric_rollups));
--> statement-breakpoint
-- A report sums a period's rows per (unit, channel): far fewer pairs than the product of the two columns'
-- distinct values, which the planner assumes without these (and then sorts instead of hashing).
CREATE STATISTICS "delivery_metric_weeks_unit_channel_stats" (ndistinct) ON "unit_id", "channel_id" FROM "delivery_metric_weeks";--> statement-breakpoint
CREATE STATISTICS "delivery_metric_rollups_unit_channel_stats" (ndistinct) ON "unit_id", "channel_id" FROM "delivery_metric_rollups";

CREATE TABLE "delivery_metric_weeks" (
	"week" timestamp with time zone NOT NULL,
	"unit_id" uuid NOT NULL,
	"channel_id" uuid NOT NULL,
	"published" integer NOT NULL,
	"measured" integer NOT NULL,
	"demo" integer NOT NULL,
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
	"engagements_7d" bigint,
	CONSTRAINT "delivery_metric_weeks_week_unit_id_channel_id_pk" PRIMARY KEY("week","unit_id","channel_id")
);
--> statement-breakpoint
CREATE TABLE "post_review_steps" (
	"event_id" bigint PRIMARY KEY NOT NULL,
	"post_id" uuid NOT NULL,
	"unit_id" uuid NOT NULL,
	"to_status" text NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"previous_at" timestamp with time zone,
	"decided_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "post_review_steps" ADD CONSTRAINT "post_review_steps_event_id_post_events_id_fk" FOREIGN KEY ("event_id") REFERENCES "public"."post_events"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "post_review_steps_unit_at_idx" ON "post_review_steps" USING btree ("unit_id","at","to_status","previous_at","decided_at");--> statement-breakpoint
CREATE INDEX "delivery_metric_rollups_unit_channel_idx" ON "delivery_metric_rollups" USING btree ("unit_id","channel_id","published_at");--> statement-breakpoint
CREATE INDEX "delivery_metric_rollups_reach_idx" ON "delivery_metric_rollups" USING btree ("published_at","unit_id","channel_id","post_id","impressions","engagements");--> statement-breakpoint
-- The review steps of posts, recomputed from their timelines: each transition to submitted, approved,
-- rejected or changes requested, with the post's unit, the time of the post's previous step to the same
-- status (by time, then event) and, for a submission, the first decision at or after it. Steps of events
-- that no longer exist go with them (foreign key).
CREATE FUNCTION "post_review_steps_refresh"(ids uuid[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF coalesce(array_length(ids, 1), 0) = 0 THEN RETURN; END IF;
  -- One writer per post at a time; the statement below then sees what the previous holder committed.
  PERFORM 1 FROM posts WHERE id = ANY(ids) ORDER BY id FOR NO KEY UPDATE;
  INSERT INTO post_review_steps ("event_id", "post_id", "unit_id", "to_status", "at", "previous_at", "decided_at")
  SELECT s.id, s.post_id, p.unit_id, s.to_status, s.created_at, s.previous_at, s.decided_at
  FROM (
    SELECT e.id, e.post_id, e.to_status, e.created_at,
      lag(e.created_at) OVER (PARTITION BY e.post_id, e.to_status ORDER BY e.created_at, e.id) AS previous_at,
      CASE WHEN e.to_status = 'submitted' THEN min(e.created_at) FILTER (WHERE e.to_status <> 'submitted')
        OVER (PARTITION BY e.post_id ORDER BY e.created_at RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) END AS decided_at
    FROM unnest(ids) AS x(id)
    JOIN post_events e ON e.post_id = x.id
    WHERE e.kind = 'transition' AND e.to_status IN ('submitted', 'approved', 'rejected', 'changes_requested')
  ) s
  JOIN posts p ON p.id = s.post_id
  ON CONFLICT ("event_id") DO UPDATE SET "unit_id" = excluded."unit_id", "to_status" = excluded."to_status",
    "at" = excluded."at", "previous_at" = excluded."previous_at", "decided_at" = excluded."decided_at"
  WHERE (post_review_steps."unit_id", post_review_steps."to_status", post_review_steps."at", post_review_steps."previous_at", post_review_steps."decided_at")
    IS DISTINCT FROM (excluded."unit_id", excluded."to_status", excluded."at", excluded."previous_at", excluded."decided_at");
END $$;--> statement-breakpoint
CREATE FUNCTION "post_events_review_steps"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM post_review_steps_refresh(ARRAY(SELECT DISTINCT post_id FROM changed
    WHERE kind = 'transition' AND to_status IN ('submitted', 'approved', 'rejected', 'changes_requested')));
  RETURN NULL;
END $$;--> statement-breakpoint
-- An event rewritten: a step it no longer is goes, and the steps of its posts (old and new) are recomputed.
CREATE FUNCTION "post_events_review_steps_update"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM post_review_steps s USING changed n WHERE s.event_id = n.id
    AND NOT (n.kind = 'transition' AND n.to_status IS NOT NULL AND n.to_status IN ('submitted', 'approved', 'rejected', 'changes_requested'));
  PERFORM post_review_steps_refresh(ARRAY(SELECT post_id FROM changed UNION SELECT post_id FROM before));
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER "post_events_review_steps_insert" AFTER INSERT ON "post_events"
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION "post_events_review_steps"();--> statement-breakpoint
CREATE TRIGGER "post_events_review_steps_delete" AFTER DELETE ON "post_events"
  REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION "post_events_review_steps"();--> statement-breakpoint
CREATE TRIGGER "post_events_review_steps_update" AFTER UPDATE ON "post_events"
  REFERENCING OLD TABLE AS before NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION "post_events_review_steps_update"();--> statement-breakpoint
-- A post moved to another unit: its steps follow it.
CREATE FUNCTION "posts_review_steps_update"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE post_review_steps s SET unit_id = n.unit_id
  FROM changed n JOIN before o ON o.id = n.id JOIN post_events e ON e.post_id = n.id
  WHERE o.unit_id IS DISTINCT FROM n.unit_id AND s.event_id = e.id;
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER "posts_review_steps_update" AFTER UPDATE ON "posts"
  REFERENCING OLD TABLE AS before NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION "posts_review_steps_update"();--> statement-breakpoint
SELECT post_review_steps_refresh(ARRAY(SELECT DISTINCT post_id FROM post_events
  WHERE kind = 'transition' AND to_status IN ('submitted', 'approved', 'rejected', 'changes_requested')));--> statement-breakpoint
-- The weekly sums of (week, unit, channel) cells, recomputed from the rollup. A cell stays once made
-- (empty when its deliveries are gone), so a writer that waits for another's lock always finds it.
CREATE FUNCTION "delivery_metric_weeks_refresh"(weeks timestamptz[], unit_ids uuid[], channel_ids uuid[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF coalesce(array_length(weeks, 1), 0) = 0 THEN RETURN; END IF;
  INSERT INTO delivery_metric_weeks ("week", "unit_id", "channel_id", "published", "measured", "demo")
  SELECT DISTINCT k.week, k.unit_id, k.channel_id, 0, 0, 0 FROM unnest(weeks, unit_ids, channel_ids) AS k(week, unit_id, channel_id)
  ON CONFLICT DO NOTHING;
  -- One writer per cell at a time; the update below then sees what the previous holder committed.
  PERFORM 1 FROM delivery_metric_weeks m JOIN unnest(weeks, unit_ids, channel_ids) AS k(week, unit_id, channel_id)
    ON m.week = k.week AND m.unit_id = k.unit_id AND m.channel_id = k.channel_id
    ORDER BY m.week, m.unit_id, m.channel_id FOR NO KEY UPDATE OF m;
  UPDATE delivery_metric_weeks m SET "published" = s.published, "measured" = s.measured, "demo" = s.demo, "impressions" = s."impressions", "likes" = s."likes", "reposts" = s."reposts", "replies" = s."replies", "quotes" = s."quotes", "clicks" = s."clicks", "engagements" = s."engagements", "impressions_1h" = s."impressions_1h", "likes_1h" = s."likes_1h", "reposts_1h" = s."reposts_1h", "replies_1h" = s."replies_1h", "quotes_1h" = s."quotes_1h", "clicks_1h" = s."clicks_1h", "engagements_1h" = s."engagements_1h", "impressions_24h" = s."impressions_24h", "likes_24h" = s."likes_24h", "reposts_24h" = s."reposts_24h", "replies_24h" = s."replies_24h", "quotes_24h" = s."quotes_24h", "clicks_24h" = s."clicks_24h", "engagements_24h" = s."engagements_24h", "impressions_7d" = s."impressions_7d", "likes_7d" = s."likes_7d", "reposts_7d" = s."reposts_7d", "replies_7d" = s."replies_7d", "quotes_7d" = s."quotes_7d", "clicks_7d" = s."clicks_7d", "engagements_7d" = s."engagements_7d"
  FROM (
    SELECT k.week, k.unit_id, k.channel_id, count(r.delivery_id)::int AS published,
      count(r.taken_at)::int AS measured, count(*) FILTER (WHERE r.demo)::int AS demo, sum(r."impressions") AS "impressions", sum(r."likes") AS "likes", sum(r."reposts") AS "reposts", sum(r."replies") AS "replies", sum(r."quotes") AS "quotes", sum(r."clicks") AS "clicks", sum(r."engagements") AS "engagements", sum(r."impressions_1h") AS "impressions_1h", sum(r."likes_1h") AS "likes_1h", sum(r."reposts_1h") AS "reposts_1h", sum(r."replies_1h") AS "replies_1h", sum(r."quotes_1h") AS "quotes_1h", sum(r."clicks_1h") AS "clicks_1h", sum(r."engagements_1h") AS "engagements_1h", sum(r."impressions_24h") AS "impressions_24h", sum(r."likes_24h") AS "likes_24h", sum(r."reposts_24h") AS "reposts_24h", sum(r."replies_24h") AS "replies_24h", sum(r."quotes_24h") AS "quotes_24h", sum(r."clicks_24h") AS "clicks_24h", sum(r."engagements_24h") AS "engagements_24h", sum(r."impressions_7d") AS "impressions_7d", sum(r."likes_7d") AS "likes_7d", sum(r."reposts_7d") AS "reposts_7d", sum(r."replies_7d") AS "replies_7d", sum(r."quotes_7d") AS "quotes_7d", sum(r."clicks_7d") AS "clicks_7d", sum(r."engagements_7d") AS "engagements_7d"
    FROM (SELECT DISTINCT * FROM unnest(weeks, unit_ids, channel_ids) AS k(week, unit_id, channel_id)) k
    LEFT JOIN delivery_metric_rollups r ON r.unit_id = k.unit_id AND r.channel_id = k.channel_id
      AND r.published_at >= k.week AND r.published_at < k.week + interval '7 days'
    GROUP BY k.week, k.unit_id, k.channel_id
  ) s
  WHERE m.week = s.week AND m.unit_id = s.unit_id AND m.channel_id = s.channel_id;
END $$;--> statement-breakpoint
CREATE FUNCTION "delivery_metric_rollups_weeks"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  weeks timestamptz[];
  unit_ids uuid[];
  channel_ids uuid[];
BEGIN
  SELECT array_agg(k.week), array_agg(k.unit_id), array_agg(k.channel_id) INTO weeks, unit_ids, channel_ids
  FROM (SELECT DISTINCT date_trunc('week', published_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS week, unit_id, channel_id FROM changed) k;
  PERFORM delivery_metric_weeks_refresh(weeks, unit_ids, channel_ids);
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE FUNCTION "delivery_metric_rollups_weeks_update"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  weeks timestamptz[];
  unit_ids uuid[];
  channel_ids uuid[];
BEGIN
  SELECT array_agg(k.week), array_agg(k.unit_id), array_agg(k.channel_id) INTO weeks, unit_ids, channel_ids
  FROM (SELECT date_trunc('week', published_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS week, unit_id, channel_id FROM changed
    UNION SELECT date_trunc('week', published_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', unit_id, channel_id FROM before) k;
  PERFORM delivery_metric_weeks_refresh(weeks, unit_ids, channel_ids);
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER "delivery_metric_rollups_weeks_insert" AFTER INSERT ON "delivery_metric_rollups"
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION "delivery_metric_rollups_weeks"();--> statement-breakpoint
CREATE TRIGGER "delivery_metric_rollups_weeks_delete" AFTER DELETE ON "delivery_metric_rollups"
  REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION "delivery_metric_rollups_weeks"();--> statement-breakpoint
CREATE TRIGGER "delivery_metric_rollups_weeks_update" AFTER UPDATE ON "delivery_metric_rollups"
  REFERENCING OLD TABLE AS before NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION "delivery_metric_rollups_weeks_update"();--> statement-breakpoint
SELECT delivery_metric_weeks_refresh(array_agg(k.week), array_agg(k.unit_id), array_agg(k.channel_id))
FROM (SELECT DISTINCT date_trunc('week', published_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS week, unit_id, channel_id
  FROM delivery_metric_rollups) k;

DROP INDEX "delivery_metric_rollups_published_idx";--> statement-breakpoint
-- A report reads the deliveries at the edges of its period (before its first whole UTC week, after its last)
-- one by one: from this index alone, in order, instead of from rollup rows spread over the table by their
-- updates. It carries every column the report sums (32, PostgreSQL's limit); the demo flag is not among
-- them, so the demo deliveries (none outside GAUNG_DEMO) are counted from the partial index below.
CREATE INDEX "delivery_metric_rollups_edges_idx" ON "delivery_metric_rollups" USING btree ("published_at") INCLUDE ("unit_id","channel_id","taken_at","impressions","likes","reposts","replies","quotes","clicks","engagements","impressions_1h","likes_1h","reposts_1h","replies_1h","quotes_1h","clicks_1h","engagements_1h","impressions_24h","likes_24h","reposts_24h","replies_24h","quotes_24h","clicks_24h","engagements_24h","impressions_7d","likes_7d","reposts_7d","replies_7d","quotes_7d","clicks_7d","engagements_7d");--> statement-breakpoint
CREATE INDEX "delivery_metric_rollups_demo_idx" ON "delivery_metric_rollups" USING btree ("published_at") WHERE "demo";

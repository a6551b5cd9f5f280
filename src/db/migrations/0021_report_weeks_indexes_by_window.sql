-- A report sums its period's whole weeks in two statements of different shape: the counts and the figures as
-- last measured per unit and channel (what the national accounts' share, the platforms' figures and the
-- weekly series need), and the figures at 1 h, 24 h and 7 d per group only (a few hundred rows instead of
-- every unit and channel's). Each reads the covering index of its columns, in the order of the weeks.
DROP INDEX "delivery_metric_weeks_latest_1h_idx";--> statement-breakpoint
DROP INDEX "delivery_metric_weeks_24h_7d_idx";--> statement-breakpoint
CREATE INDEX "delivery_metric_weeks_latest_idx" ON "delivery_metric_weeks" USING btree ("week") INCLUDE ("unit_id","channel_id","published","measured","demo","impressions","likes","reposts","replies","quotes","clicks","engagements","impressions_count","engagements_count");--> statement-breakpoint
CREATE INDEX "delivery_metric_weeks_windows_idx" ON "delivery_metric_weeks" USING btree ("week") INCLUDE ("unit_id","channel_id","published","impressions_1h","likes_1h","reposts_1h","replies_1h","quotes_1h","clicks_1h","engagements_1h","impressions_24h","likes_24h","reposts_24h","replies_24h","quotes_24h","clicks_24h","engagements_24h","impressions_7d","likes_7d","reposts_7d","replies_7d","quotes_7d","clicks_7d","engagements_7d");

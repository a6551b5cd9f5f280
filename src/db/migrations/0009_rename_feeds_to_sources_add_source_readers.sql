-- The offices' accounts Gaung reads are "sources" (the press room's outgoing feeds keep that word).
-- Renamed in place: every row, its schedule, its failures and the posts it brought in stay.
ALTER TABLE "feeds" RENAME TO "sources";--> statement-breakpoint
ALTER TABLE "sources" RENAME CONSTRAINT "feeds_pkey" TO "sources_pkey";--> statement-breakpoint
ALTER TABLE "sources" RENAME CONSTRAINT "feeds_unit_id_units_id_fk" TO "sources_unit_id_units_id_fk";--> statement-breakpoint
ALTER TABLE "sources" RENAME CONSTRAINT "feeds_created_by_users_id_fk" TO "sources_created_by_users_id_fk";--> statement-breakpoint
ALTER TABLE "sources" RENAME CONSTRAINT "feeds_failures_check" TO "sources_failures_check";--> statement-breakpoint
ALTER TABLE "sources" DROP CONSTRAINT "feeds_kind_check";--> statement-breakpoint
ALTER TABLE "sources" ADD CONSTRAINT "sources_kind_check" CHECK ("sources"."kind" in ('rss', 'mastodon', 'instagram', 'facebook', 'threads', 'x', 'bluesky', 'telegram', 'youtube', 'tiktok'));--> statement-breakpoint
ALTER INDEX "feeds_unit_url_idx" RENAME TO "sources_unit_url_idx";--> statement-breakpoint
ALTER INDEX "feeds_due_idx" RENAME TO "sources_due_idx";--> statement-breakpoint
ALTER TABLE "posts" RENAME COLUMN "feed_id" TO "source_id";--> statement-breakpoint
ALTER TABLE "posts" RENAME COLUMN "feed_item_key" TO "source_item_key";--> statement-breakpoint
ALTER TABLE "posts" RENAME CONSTRAINT "posts_feed_id_feeds_id_fk" TO "posts_source_id_sources_id_fk";--> statement-breakpoint
ALTER INDEX "posts_feed_item_idx" RENAME TO "posts_source_item_idx";--> statement-breakpoint
UPDATE "audit_events" SET "action" = 'source.' || substr("action", 6), "target_type" = 'source' WHERE "action" LIKE 'feed.%';--> statement-breakpoint
ALTER TABLE "posts" ADD COLUMN "origin" jsonb;--> statement-breakpoint
ALTER TABLE "sources" ADD COLUMN "handle" text;--> statement-breakpoint
ALTER TABLE "sources" ADD COLUMN "settings" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "sources" ADD COLUMN "credentials" text;--> statement-breakpoint
ALTER TABLE "sources" ADD COLUMN "credentials_version" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "sources" ADD COLUMN "credentials_expires_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "sources" ADD COLUMN "channel_id" uuid;--> statement-breakpoint
ALTER TABLE "sources" ADD COLUMN "status" text DEFAULT 'active' NOT NULL;--> statement-breakpoint
ALTER TABLE "sources" ADD COLUMN "cursor" text;--> statement-breakpoint
ALTER TABLE "sources" ADD CONSTRAINT "sources_channel_id_channels_id_fk" FOREIGN KEY ("channel_id") REFERENCES "public"."channels"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sources" ADD CONSTRAINT "sources_status_check" CHECK ("sources"."status" in ('active', 'needs_reauth'));
ALTER TABLE "channels" DROP CONSTRAINT "channels_platform_check";--> statement-breakpoint
ALTER TABLE "media_renditions" DROP CONSTRAINT "media_renditions_platform_check";--> statement-breakpoint
ALTER TABLE "post_variants" DROP CONSTRAINT "post_variants_platform_check";--> statement-breakpoint
ALTER TABLE "posts" DROP CONSTRAINT "posts_source_platform_check";--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "platform_options" jsonb;--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "platform_state" jsonb;--> statement-breakpoint
ALTER TABLE "channels" ADD CONSTRAINT "channels_platform_check" CHECK ("channels"."platform" in ('x', 'facebook', 'instagram', 'threads', 'telegram', 'mastodon', 'bluesky', 'youtube', 'tiktok', 'webhook', 'sandbox'));--> statement-breakpoint
ALTER TABLE "media_renditions" ADD CONSTRAINT "media_renditions_platform_check" CHECK ("media_renditions"."platform" in ('x', 'facebook', 'instagram', 'threads', 'telegram', 'mastodon', 'bluesky', 'youtube', 'tiktok', 'webhook', 'sandbox'));--> statement-breakpoint
ALTER TABLE "post_variants" ADD CONSTRAINT "post_variants_platform_check" CHECK ("post_variants"."platform" in ('x', 'facebook', 'instagram', 'threads', 'telegram', 'mastodon', 'bluesky', 'youtube', 'tiktok', 'webhook', 'sandbox'));--> statement-breakpoint
ALTER TABLE "posts" ADD CONSTRAINT "posts_source_platform_check" CHECK ("posts"."source_platform" is null or "posts"."source_platform" in ('x', 'facebook', 'instagram', 'threads', 'telegram', 'mastodon', 'bluesky', 'youtube', 'tiktok', 'webhook', 'sandbox'));
ALTER TABLE "posts" ADD COLUMN "origin_checked_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "posts" ADD COLUMN "origin_deleted_at" timestamp with time zone;
CREATE TABLE "blackouts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"unit_id" uuid NOT NULL,
	"starts_at" timestamp with time zone NOT NULL,
	"ends_at" timestamp with time zone,
	"reason" text NOT NULL,
	"channel_ids" uuid[],
	"on_end" text NOT NULL,
	"created_by" uuid,
	"settled_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "blackouts_on_end_check" CHECK ("blackouts"."on_end" in ('reschedule', 'hold')),
	CONSTRAINT "blackouts_period_check" CHECK ("blackouts"."ends_at" is null or "blackouts"."ends_at" > "blackouts"."starts_at")
);
--> statement-breakpoint
ALTER TABLE "deliveries" DROP CONSTRAINT "deliveries_status_check";--> statement-breakpoint
ALTER TABLE "delivery_attempts" DROP CONSTRAINT "delivery_attempts_outcome_check";--> statement-breakpoint
ALTER TABLE "posts" DROP CONSTRAINT "posts_status_check";--> statement-breakpoint
DROP INDEX "deliveries_attention_idx";--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "remote_ids" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "retraction_requested_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "retraction_reason" text;--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "retracted_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "replies_to" uuid;--> statement-breakpoint
ALTER TABLE "posts" ADD COLUMN "retraction_reason" text;--> statement-breakpoint
ALTER TABLE "posts" ADD COLUMN "retracted_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "posts" ADD COLUMN "correction_of" uuid;--> statement-breakpoint
ALTER TABLE "blackouts" ADD CONSTRAINT "blackouts_unit_id_units_id_fk" FOREIGN KEY ("unit_id") REFERENCES "public"."units"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "blackouts" ADD CONSTRAINT "blackouts_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "blackouts_open_idx" ON "blackouts" USING btree ("starts_at") WHERE "blackouts"."settled_at" is null;--> statement-breakpoint
ALTER TABLE "deliveries" ADD CONSTRAINT "deliveries_replies_to_deliveries_id_fk" FOREIGN KEY ("replies_to") REFERENCES "public"."deliveries"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "posts" ADD CONSTRAINT "posts_correction_of_posts_id_fk" FOREIGN KEY ("correction_of") REFERENCES "public"."posts"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "deliveries_retracting_idx" ON "deliveries" USING btree ("due_at") WHERE "deliveries"."status" = 'retracting';--> statement-breakpoint
CREATE INDEX "deliveries_retraction_requested_idx" ON "deliveries" USING btree ("post_id") WHERE "deliveries"."retraction_requested_at" is not null and "deliveries"."status" = 'published';--> statement-breakpoint
CREATE INDEX "deliveries_attention_idx" ON "deliveries" USING btree ("status","updated_at") WHERE "deliveries"."status" in ('failed', 'needs_attention', 'unknown', 'retraction_needs_attention');--> statement-breakpoint
ALTER TABLE "deliveries" ADD CONSTRAINT "deliveries_status_check" CHECK ("deliveries"."status" in ('scheduled', 'publishing', 'published', 'failed', 'unknown', 'needs_attention', 'cancelled', 'retracting', 'retracted', 'retraction_needs_attention'));--> statement-breakpoint
ALTER TABLE "delivery_attempts" ADD CONSTRAINT "delivery_attempts_outcome_check" CHECK ("delivery_attempts"."outcome" is null or "delivery_attempts"."outcome" in ('published', 'retry', 'rate_limited', 'auth', 'invalid', 'unknown', 'reconciled_found', 'reconciled_missing', 'reconcile_impossible', 'retracted', 'needs_person'));--> statement-breakpoint
ALTER TABLE "posts" ADD CONSTRAINT "posts_status_check" CHECK ("posts"."status" in ('draft', 'submitted', 'changes_requested', 'approved', 'rejected', 'withdrawn', 'retracted'));
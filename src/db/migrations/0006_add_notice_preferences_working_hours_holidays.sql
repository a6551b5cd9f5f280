CREATE TABLE "holidays" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"date" date NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"created_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "holidays_kind_check" CHECK ("holidays"."kind" in ('public_holiday', 'collective_leave'))
);
--> statement-breakpoint
CREATE TABLE "batched_mails" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"user_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"period" text NOT NULL,
	"data" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "batched_mails_kind_check" CHECK ("batched_mails"."kind" in ('arrivals', 'daily_digest', 'weekly_digest'))
);
--> statement-breakpoint
ALTER TABLE "notify_outbox" DROP CONSTRAINT "notify_outbox_target_check";--> statement-breakpoint
ALTER TABLE "units" ADD COLUMN "review_wait_minutes" integer DEFAULT 240 NOT NULL;--> statement-breakpoint
ALTER TABLE "units" ADD COLUMN "work_days" integer[] DEFAULT '{1,2,3,4,5}'::integer[] NOT NULL;--> statement-breakpoint
ALTER TABLE "units" ADD COLUMN "work_start_minute" integer DEFAULT 480 NOT NULL;--> statement-breakpoint
ALTER TABLE "units" ADD COLUMN "work_end_minute" integer DEFAULT 960 NOT NULL;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "email_opt_outs" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "daily_digest" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "weekly_digest" boolean DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE "notifications" ADD COLUMN "batched_mail_id" bigint;--> statement-breakpoint
ALTER TABLE "notify_outbox" ADD COLUMN "batched_mail_id" bigint;--> statement-breakpoint
ALTER TABLE "holidays" ADD CONSTRAINT "holidays_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "batched_mails" ADD CONSTRAINT "batched_mails_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "holidays_date_key" ON "holidays" USING btree ("date");--> statement-breakpoint
CREATE UNIQUE INDEX "batched_mails_period_key" ON "batched_mails" USING btree ("user_id","kind","period");--> statement-breakpoint
CREATE INDEX "batched_mails_user_kind_idx" ON "batched_mails" USING btree ("user_id","kind","created_at");--> statement-breakpoint
ALTER TABLE "notifications" ADD CONSTRAINT "notifications_batched_mail_id_batched_mails_id_fk" FOREIGN KEY ("batched_mail_id") REFERENCES "public"."batched_mails"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "notify_outbox" ADD CONSTRAINT "notify_outbox_batched_mail_id_batched_mails_id_fk" FOREIGN KEY ("batched_mail_id") REFERENCES "public"."batched_mails"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "notifications_unbatched_idx" ON "notifications" USING btree ("user_id","created_at") WHERE "notifications"."batched_mail_id" is null and "notifications"."kind" in ('review.submitted', 'review.forwarded');--> statement-breakpoint
CREATE UNIQUE INDEX "notify_outbox_batched_mail_key" ON "notify_outbox" USING btree ("batched_mail_id") WHERE "notify_outbox"."batched_mail_id" is not null;--> statement-breakpoint
CREATE INDEX "post_levels_alarm_idx" ON "post_levels" USING btree ("arrived_at") WHERE "post_levels"."decision" is null and "post_levels"."closed_at" is null and "post_levels"."admins_alarmed_at" is null;--> statement-breakpoint
ALTER TABLE "units" ADD CONSTRAINT "units_working_hours_check" CHECK ("units"."work_start_minute" >= 0 and "units"."work_start_minute" < "units"."work_end_minute" and "units"."work_end_minute" <= 1440 and "units"."review_wait_minutes" > 0 and cardinality("units"."work_days") > 0);--> statement-breakpoint
ALTER TABLE "notify_outbox" ADD CONSTRAINT "notify_outbox_target_check" CHECK (("notify_outbox"."via" = 'email' and "notify_outbox"."notification_id" is not null) or ("notify_outbox"."via" = 'webhook' and "notify_outbox"."post_event_id" is not null) or ("notify_outbox"."via" = 'batched_mail' and "notify_outbox"."batched_mail_id" is not null));
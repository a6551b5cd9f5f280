CREATE TABLE "rule_approvals" (
	"post_id" uuid NOT NULL,
	"rule_id" uuid NOT NULL,
	"decide_at" timestamp with time zone NOT NULL,
	"stopped_at" timestamp with time zone,
	"stopped_by" uuid,
	"applied_at" timestamp with time zone,
	"outcome" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "rule_approvals_post_id_rule_id_pk" PRIMARY KEY("post_id","rule_id")
);
--> statement-breakpoint
CREATE TABLE "source_rules" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"source_id" uuid NOT NULL,
	"created_by" uuid NOT NULL,
	"hashtags" text[] DEFAULT '{}'::text[] NOT NULL,
	"channel_ids" uuid[] NOT NULL,
	"mode" text NOT NULL,
	"delay_minutes" integer,
	"stop_window_minutes" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "source_rules_mode_check" CHECK ("source_rules"."mode" in ('copy', 'repost', 'quote')),
	CONSTRAINT "source_rules_window_check" CHECK ("source_rules"."stop_window_minutes" between 0 and 1440),
	CONSTRAINT "source_rules_delay_check" CHECK ("source_rules"."delay_minutes" is null or "source_rules"."delay_minutes" between 0 and 10080)
);
--> statement-breakpoint
ALTER TABLE "rule_approvals" ADD CONSTRAINT "rule_approvals_post_id_posts_id_fk" FOREIGN KEY ("post_id") REFERENCES "public"."posts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rule_approvals" ADD CONSTRAINT "rule_approvals_rule_id_source_rules_id_fk" FOREIGN KEY ("rule_id") REFERENCES "public"."source_rules"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rule_approvals" ADD CONSTRAINT "rule_approvals_stopped_by_users_id_fk" FOREIGN KEY ("stopped_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "source_rules" ADD CONSTRAINT "source_rules_source_id_sources_id_fk" FOREIGN KEY ("source_id") REFERENCES "public"."sources"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "source_rules" ADD CONSTRAINT "source_rules_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "rule_approvals_due_idx" ON "rule_approvals" USING btree ("decide_at") WHERE "rule_approvals"."stopped_at" is null and "rule_approvals"."applied_at" is null;--> statement-breakpoint
CREATE INDEX "source_rules_source_idx" ON "source_rules" USING btree ("source_id");
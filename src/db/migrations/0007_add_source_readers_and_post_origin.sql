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
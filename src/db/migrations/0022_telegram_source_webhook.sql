CREATE TABLE "telegram_source_updates" (
	"bot_id" text NOT NULL,
	"update_id" bigint NOT NULL,
	"channel_post" jsonb NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "telegram_source_updates_bot_id_update_id_pk" PRIMARY KEY("bot_id","update_id")
);
--> statement-breakpoint
ALTER TABLE "telegram_source_bots" ALTER COLUMN "update_offset" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "telegram_source_bots" ADD COLUMN "webhook_key_id" text;--> statement-breakpoint
ALTER TABLE "telegram_source_bots" ADD COLUMN "webhook_checked_at" timestamp with time zone;
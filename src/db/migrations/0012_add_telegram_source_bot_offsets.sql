CREATE TABLE "telegram_source_bots" (
	"bot_id" text PRIMARY KEY NOT NULL,
	"update_offset" bigint NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);

ALTER TABLE "units" ADD COLUMN "transparency_page" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "units" ADD COLUMN "transparency_internal" boolean DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX "deliveries_press_idx" ON "deliveries" USING btree ("published_at","post_id") WHERE "deliveries"."published_at" is not null;
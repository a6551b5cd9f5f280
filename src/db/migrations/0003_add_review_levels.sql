CREATE TABLE "post_levels" (
	"post_id" uuid NOT NULL,
	"unit_id" uuid NOT NULL,
	"origin_unit_id" uuid NOT NULL,
	"arrival" text NOT NULL,
	"arrived_at" timestamp with time zone NOT NULL,
	"decision" text,
	"decided_at" timestamp with time zone,
	"decided_by" uuid,
	"note" text,
	"forwarded_at" timestamp with time zone,
	"forwarded_by" uuid,
	"forward_note" text,
	"closed_at" timestamp with time zone,
	"alarmed_at" timestamp with time zone,
	"admins_alarmed_at" timestamp with time zone,
	CONSTRAINT "post_levels_post_id_unit_id_pk" PRIMARY KEY("post_id","unit_id"),
	CONSTRAINT "post_levels_arrival_check" CHECK ("post_levels"."arrival" in ('nearest', 'direct', 'forwarded', 'own')),
	CONSTRAINT "post_levels_decision_check" CHECK ("post_levels"."decision" is null or "post_levels"."decision" in ('approved', 'passed'))
);
--> statement-breakpoint
DROP INDEX "posts_inbox_idx";--> statement-breakpoint
ALTER TABLE "units" ADD COLUMN "review_national_direct" boolean DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE "post_levels" ADD CONSTRAINT "post_levels_post_id_posts_id_fk" FOREIGN KEY ("post_id") REFERENCES "public"."posts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "post_levels" ADD CONSTRAINT "post_levels_unit_id_units_id_fk" FOREIGN KEY ("unit_id") REFERENCES "public"."units"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "post_levels" ADD CONSTRAINT "post_levels_origin_unit_id_units_id_fk" FOREIGN KEY ("origin_unit_id") REFERENCES "public"."units"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "post_levels" ADD CONSTRAINT "post_levels_decided_by_users_id_fk" FOREIGN KEY ("decided_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "post_levels" ADD CONSTRAINT "post_levels_forwarded_by_users_id_fk" FOREIGN KEY ("forwarded_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "post_levels_inbox_idx" ON "post_levels" USING btree ("unit_id","arrived_at","post_id") WHERE "post_levels"."decision" is null and "post_levels"."closed_at" is null;--> statement-breakpoint
CREATE INDEX "post_levels_inbox_origin_idx" ON "post_levels" USING btree ("unit_id","origin_unit_id","arrived_at") WHERE "post_levels"."decision" is null and "post_levels"."closed_at" is null;--> statement-breakpoint
-- Posts waiting before levels existed keep waiting: at the nearest level above their unit with reviewers.
INSERT INTO "post_levels" ("post_id", "unit_id", "origin_unit_id", "arrival", "arrived_at")
SELECT p.id, n.id, p.unit_id, 'nearest', coalesce(p.submitted_at, p.updated_at)
FROM "posts" p
JOIN "units" o ON o.id = p.unit_id
CROSS JOIN LATERAL (
  SELECT u.id FROM "units" u
  WHERE o.path LIKE u.path || '%' AND u.id <> o.id
    AND EXISTS (SELECT 1 FROM "users" r WHERE r.unit_id = u.id AND r.role IN ('reviewer', 'admin') AND r.disabled_at IS NULL)
  ORDER BY length(u.path) DESC LIMIT 1
) n
WHERE p.status = 'submitted';--> statement-breakpoint
-- ...and, as before, at the national unit.
INSERT INTO "post_levels" ("post_id", "unit_id", "origin_unit_id", "arrival", "arrived_at")
SELECT p.id, r.id, p.unit_id, 'direct', coalesce(p.submitted_at, p.updated_at)
FROM "posts" p CROSS JOIN "units" r
WHERE p.status = 'submitted' AND r.parent_id IS NULL AND r.id <> p.unit_id
ON CONFLICT DO NOTHING;--> statement-breakpoint
-- An approved post was approved by its reviewer's unit.
INSERT INTO "post_levels" ("post_id", "unit_id", "origin_unit_id", "arrival", "arrived_at", "decision", "decided_at", "decided_by")
SELECT p.id, d.unit_id, p.unit_id, 'own', coalesce(p.decided_at, p.updated_at), 'approved', coalesce(p.decided_at, p.updated_at), p.decided_by
FROM "posts" p JOIN "users" d ON d.id = p.decided_by
WHERE p.status = 'approved';

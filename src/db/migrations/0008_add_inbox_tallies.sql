CREATE TABLE "inbox_tallies" (
	"unit_id" uuid NOT NULL,
	"origin_unit_id" uuid NOT NULL,
	"waiting" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "inbox_tallies_unit_id_origin_unit_id_pk" PRIMARY KEY("unit_id","origin_unit_id")
);
--> statement-breakpoint
ALTER TABLE "inbox_tallies" ADD CONSTRAINT "inbox_tallies_unit_id_units_id_fk" FOREIGN KEY ("unit_id") REFERENCES "public"."units"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inbox_tallies" ADD CONSTRAINT "inbox_tallies_origin_unit_id_units_id_fk" FOREIGN KEY ("origin_unit_id") REFERENCES "public"."units"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE FUNCTION "post_levels_tally"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.decision IS NULL AND OLD.closed_at IS NULL THEN
    UPDATE inbox_tallies SET waiting = waiting - 1
      WHERE unit_id = OLD.unit_id AND origin_unit_id = OLD.origin_unit_id;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.decision IS NULL AND NEW.closed_at IS NULL THEN
    INSERT INTO inbox_tallies (unit_id, origin_unit_id, waiting) VALUES (NEW.unit_id, NEW.origin_unit_id, 1)
      ON CONFLICT (unit_id, origin_unit_id) DO UPDATE SET waiting = inbox_tallies.waiting + 1;
  END IF;
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER "post_levels_tally" AFTER INSERT OR DELETE OR UPDATE OF decision, closed_at, unit_id, origin_unit_id
  ON "post_levels" FOR EACH ROW EXECUTE FUNCTION "post_levels_tally"();--> statement-breakpoint
INSERT INTO "inbox_tallies" ("unit_id", "origin_unit_id", "waiting")
  SELECT unit_id, origin_unit_id, count(*)::int FROM post_levels
  WHERE decision IS NULL AND closed_at IS NULL GROUP BY unit_id, origin_unit_id;

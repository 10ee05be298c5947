-- Assistants call a context's label its topic (every tool says `topic`), and write SQL that way:
-- `SELECT topic FROM context_locks` answered `column "topic" does not exist`. The label stays the column the service
-- writes; `topic` is the same value, generated, for queries. The reader role's SELECT on the tables covers it.
ALTER TABLE context_locks ADD COLUMN topic text GENERATED ALWAYS AS (label) STORED;
ALTER TABLE context_archives ADD COLUMN topic text GENERATED ALWAYS AS (label) STORED;

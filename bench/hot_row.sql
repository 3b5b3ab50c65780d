-- One spend against one hot budget row, as plain PostgreSQL: lock, check, charge, two entries.
BEGIN;
SELECT spent FROM bench_hot_row WHERE id = 1 FOR UPDATE;
UPDATE bench_hot_row SET spent = spent + 100 WHERE id = 1;
INSERT INTO bench_hot_entry (amount) VALUES (-100), (100);
COMMIT;

EXPLAIN SELECT 1
-- ----
EXPLAIN ANALYZE SELECT * FROM t
-- ----
EXPLAIN VERBOSE SELECT 1
-- ----
EXPLAIN ANALYZE VERBOSE SELECT 1
-- ----
EXPLAIN (ANALYZE, VERBOSE) SELECT 1
-- ----
EXPLAIN (ANALYZE true, COSTS off, FORMAT json) SELECT 1
-- ----
EXPLAIN (DP) SELECT 1
-- ----
EXPLAIN (SELECT 1)
-- ----
EXPLAIN WITH x AS (SELECT 1) SELECT * FROM x
-- ----
SHOW ALL
-- ----
SHOW search_path
-- ----
SHOW TRANSACTION ISOLATION LEVEL
-- ----
SHOW transaction_isolation
-- ----
SHOW TIME ZONE
-- ----
show timezone
-- ----
SHOW server_version
-- ----
SHOW "DateStyle"
-- ----
SHOW SESSION AUTHORIZATION
-- ----
SHOW max_identifier_length
-- ----
SET extra_float_digits = 3
-- ----
SET application_name = 'PostgreSQL JDBC Driver'
-- ----
SET DateStyle = 'ISO'
-- ----
SET datestyle TO iso, mdy
-- ----
SET search_path TO "$user", public
-- ----
SET SESSION statement_timeout = 0
-- ----
SET LOCAL work_mem = '64MB'
-- ----
SET standard_conforming_strings = on
-- ----
SET x = DEFAULT
-- ----
SET x TO DEFAULT
-- ----
SET myext.setting = -1.5
-- ----
SET enable_seqscan = false
-- ----
SET TIME ZONE 'UTC'
-- ----
SET TIME ZONE LOCAL
-- ----
SET TIME ZONE -8
-- ----
SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ UNCOMMITTED
-- ----
SET TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ ONLY
-- ----
SET NAMES 'utf8'
-- ----
SET session = 1
-- ----
RESET ALL
-- ----
RESET search_path
-- ----
RESET TIME ZONE
-- ----
RESET TRANSACTION ISOLATION LEVEL
-- ----
BEGIN
-- ----
BEGIN WORK
-- ----
BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY NOT DEFERRABLE
-- ----
START TRANSACTION ISOLATION LEVEL READ COMMITTED, READ WRITE
-- ----
START TRANSACTION
-- ----
COMMIT
-- ----
COMMIT WORK
-- ----
END
-- ----
END TRANSACTION
-- ----
ROLLBACK
-- ----
ROLLBACK TRANSACTION
-- ----
ABORT
-- ----
DISCARD ALL
-- ----
DISCARD PLANS
-- ----
DISCARD SEQUENCES
-- ----
DISCARD TEMP
-- ----
DISCARD TEMPORARY
-- ----
DEALLOCATE _PLAN0x5581
-- ----
DEALLOCATE PREPARE s_1
-- ----
DEALLOCATE ALL
-- ----
DEALLOCATE PREPARE ALL

-- note: misuse of the VeilSQL extensions (SECURE JOIN, PRIVATE LOOKUP, DP, WITH PRIVACY) and EXPLAIN
-- error: 1:30 syntax error at end of input
select * from t secure join u
-- ----
-- error: 1:64 syntax error at or near "epsilon"
SELECT region, DP COUNT(*) FROM t GROUP BY region WITH PRIVACY epsilon = 1
-- ----
-- error: 1:26 syntax error at or near ")"
SELECT DP SUM(x BOUNDED 0) FROM t
-- ----
-- error: 1:14 syntax error at or near "BOUNDED"
SELECT SUM(x BOUNDED 0 AND 1) FROM t
-- ----
-- error: 1:25 WITH PRIVACY must follow a single SELECT (not a set operation or VALUES)
SELECT 1 UNION SELECT 2 WITH PRIVACY (epsilon = 1)
-- ----
-- error: 1:24 syntax error at or near "RIGHT"
SELECT * FROM a SECURE RIGHT JOIN b ON a.k = b.k
-- ----
-- error: 1:33 syntax error at end of input
SELECT * FROM a PRIVATE LOOKUP b
-- ----
-- error: 1:34 syntax error at or near "("
SELECT WITH DIFFERENTIAL_PRIVACY (epsilon = 1) count(*) FROM t
-- ----
-- error: 1:38 syntax error at or near ")"
SELECT x FROM t WITH PRIVACY (epsilon)
-- ----
-- error: 1:8 syntax error at end of input
EXPLAIN
-- ----
-- error: 1:17 syntax error at or near "DP"
EXPLAIN ANALYZE DP SELECT 1
-- ----
-- error: 1:10 unrecognized EXPLAIN option "foo"
EXPLAIN (FOO) SELECT 1
-- ----
-- error: 1:17 syntax error at end of input
SHOW TABLES FROM
-- ----
-- error: 1:21 syntax error at or near "."
SHOW POLICIES FROM a.

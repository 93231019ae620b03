-- note: general grammar errors; positions agree with PostgreSQL 15 wherever the statement is Postgres syntax
-- error: 1:14 syntax error at end of input
SELECT * FROM
-- ----
-- error: 1:11 syntax error at end of input
SELECT 1 +
-- ----
-- error: 1:12 syntax error at or near "c"
SELECT a b c FROM t
-- ----
-- error: 1:13 syntax error at or near "x"
SELECT CAST x AS int
-- ----
-- error: 1:10 syntax error at end of input
SELECT (1
-- ----
-- error: 1:22 syntax error at end of input
SELECT * FROM t WHERE
-- ----
-- error: 1:28 syntax error at or near "5"
SELECT * FROM t WHERE x IN 5
-- ----
-- error: 1:23 syntax error at or near "x"
SELECT a FROM t GROUP x
-- ----
-- error: 1:25 syntax error at end of input
SELECT a FROM t ORDER BY
-- ----
-- error: 1:11 syntax error at or near "FROM"
SELECT a, FROM t
-- ----
-- error: 1:23 syntax error at end of input
SELECT * FROM a JOIN b
-- ----
-- error: 1:29 syntax error at or near "WHERE"
SELECT * FROM a LEFT JOIN b WHERE x
-- ----
-- error: 1:26 syntax error at end of input
SELECT case when 1 then 2
-- ----
-- error: 1:25 syntax error at or near "x"
select count(*) filter (x)
-- ----
-- error: 1:11 syntax error at or near ";"
SELECT 1 +; select 2
-- ----
-- error: 1:11 syntax error at end of input
select x::
-- ----
-- error: 1:25 multiple LIMIT clauses not allowed
select 1 from t limit 1 limit 2
-- ----
-- error: 1:15 syntax error at end of input
select 1 union
-- ----
-- error: 1:27 syntax error at or near "="
select a from t where a = = 1
-- ----
-- error: 4:11 syntax error at or near ")"
SELECT a
FROM t
WHERE b = 1
  AND c = )
-- ----
-- error: 1:13 syntax error at or near "END"
SELECT CASE END
-- ----
-- error: 1:33 syntax error at end of input
SELECT CASE WHEN a THEN b ELSE c
-- ----
-- error: 1:23 syntax error at or near "a"
SELECT a FROM t ORDER a
-- ----
-- error: 1:22 syntax error at end of input
SELECT a FROM t LIMIT
-- ----
-- error: 1:26 multiple OFFSET clauses not allowed
SELECT a FROM t OFFSET 1 OFFSET 2
-- ----
-- error: 1:36 syntax error at or near "WITH"
SELECT a FROM t FETCH FIRST 5 ROWS WITH TIES
-- ----
-- error: 1:30 syntax error at or near "ON"
SELECT * FROM a CROSS JOIN b ON a.x = b.x
-- ----
-- error: 1:32 syntax error at or near "ON"
SELECT * FROM a NATURAL JOIN b ON true
-- ----
-- error: 1:31 syntax error at or near ")"
SELECT * FROM a JOIN b USING ()
-- ----
-- error: 1:16 syntax error at or near "FROM"
SELECT count(* FROM t
-- ----
-- error: 1:12 syntax error at or near ")"
SELECT f(a,) FROM t
-- ----
-- error: 1:34 syntax error at end of input
SELECT a FROM t WHERE a BETWEEN 1
-- ----
-- error: 1:25 syntax error at or near "NOT"
SELECT a FROM t WHERE a NOT 5
-- ----
-- error: 1:28 syntax error at or near "5"
SELECT a FROM t WHERE a IS 5
-- ----
-- error: 1:14 syntax error at or near "("
SELECT a::int( FROM t
-- ----
-- error: 1:10 syntax error at or near "]"
SELECT x[] FROM t
-- ----
-- error: 1:32 syntax error at or near ")"
SELECT a FROM t WHERE a = ANY ()
-- ----
-- error: 1:20 syntax error at or near "a"
SELECT DISTINCT ON a FROM t
-- ----
-- error: 1:11 syntax error at or near "SELECT"
WITH x AS SELECT 1 SELECT * FROM x
-- ----
-- error: 1:9 syntax error at or near "SELECT"
WITH x (SELECT 1) SELECT 1
-- ----
-- error: 1:20 syntax error at or near "ALL"
SELECT 1 UNION ALL ALL SELECT 2
-- ----
-- error: 1:10 syntax error at end of input
(SELECT 1
-- ----
-- error: 1:9 syntax error at or near ")"
SELECT 1)
-- ----
-- error: 1:7 syntax error at end of input
VALUES
-- ----
-- error: 1:12 syntax error at end of input
VALUES (1),
-- ----
-- error: 1:24 syntax error at end of input
SELECT * FROM (SELECT 1
-- ----
-- error: 1:16 syntax error at or near "FROM"
SELECT EXTRACT(FROM x)
-- ----
-- error: 1:24 syntax error at or near ")"
SELECT SUBSTRING(x FROM) FROM t
-- ----
-- error: 1:21 syntax error at or near "b"
SELECT POSITION('a' b) FROM t
-- ----
-- error: 1:22 syntax error at or near ")"
SELECT TRIM(BOTH FROM) FROM t
-- ----
-- error: 1:32 syntax error at or near "b"
SELECT a OPERATOR(pg_catalog.+ b FROM t
-- ----
-- error: 1:31 syntax error at or near "a"
SELECT sum(x) OVER (PARTITION a) FROM t
-- ----
-- error: 1:45 syntax error at or near ")"
SELECT sum(x) OVER (ROWS BETWEEN 1 PRECEDING) FROM t
-- ----
-- error: 1:43 syntax error at or near "x"
SELECT percentile_cont(0.5) WITHIN GROUP (x) FROM t
-- ----
-- error: 1:8 there is no parameter $0
SELECT $0
-- ----
-- error: 1:10 syntax error at or near "2"
SELECT 1 2
-- ----
-- error: 1:19 syntax error at end of input
SELECT * FROM t AS
-- ----
-- error: 1:19 syntax error at or near "y"
SELECT * FROM t x y
-- ----
-- error: 1:17 syntax error at end of input
SELECT * FROM t,
-- ----
-- error: 1:19 syntax error at or near "FROM"
SELECT ARRAY[1, 2 FROM t
-- ----
-- error: 1:17 syntax error at or near "FROM"
SELECT ROW(1, 2 FROM t
-- ----
-- error: 1:14 syntax error at or near "FROM"
SELECT (a, b FROM t
-- ----
-- error: 1:39 syntax error at end of input
SELECT a FROM t WHERE (SELECT 1 FROM u
-- ----
-- error: 3:34 syntax error at end of input
SELECT a
FROM t
WHERE x IN (SELECT y FROM u WHERE
-- ----
-- error: 1:12 syntax error at or near "'b'"
SELECT 'a' 'b'
-- ----
-- error: 1:29 syntax error at end of input
SELECT a FROM t WHERE a LIKE
-- ----
-- error: 1:23 syntax error at or near "t"
SELECT * FROM LATERAL t
-- ----
-- error: 1:37 an alias on a parenthesised join is not supported
SELECT * FROM (a JOIN b ON true) AS j
-- ----
-- error: 8:1 syntax error at or near "ORDER"
SELECT a,
       b,
       c
FROM t
WHERE a = 1
GROUP BY a
HAVING
ORDER BY 1
-- ----
-- error: 1:70 syntax error at end of input
SELECT 1 FROM t WHERE a IN (SELECT 1, (SELECT 2 FROM u WHERE (x = 1))
-- ----
-- error: 1:38 syntax error at end of input
SELECT a FROM t WHERE a = ANY (SELECT
-- ----
-- error: 1:18 syntax error at or near ")"
SELECT f(DISTINCT) FROM t
-- ----
-- error: 1:26 syntax error at or near "("
SELECT a FROM t WINDOW w (ORDER BY a)

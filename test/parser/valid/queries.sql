SELECT * FROM t
-- ----
SELECT DISTINCT a, b FROM t ORDER BY a ASC, b DESC NULLS LAST
-- ----
SELECT DISTINCT ON (a, b) a, b, c FROM t ORDER BY a, b, c DESC NULLS FIRST
-- ----
SELECT ALL a FROM t
-- ----
SELECT t.*, u.* , s.t.* FROM t, u, s.t
-- ----
SELECT a FROM t WHERE b > 1 GROUP BY a HAVING count(*) > 2 ORDER BY 1 LIMIT 10 OFFSET 5
-- ----
SELECT a, sum(b) FROM t GROUP BY ALL
-- ----
SELECT a FROM t GROUP BY ALL a, b
-- ----
SELECT a FROM t LIMIT ALL
-- ----
SELECT a FROM t OFFSET 10 ROWS FETCH FIRST 5 ROWS ONLY
-- ----
SELECT a FROM t ORDER BY a FETCH NEXT ROW ONLY
-- ----
SELECT a FROM t OFFSET 2 LIMIT 1
-- ----
SELECT 1 UNION SELECT 2 UNION ALL SELECT 3 EXCEPT SELECT 4 EXCEPT ALL SELECT 5
-- ----
SELECT 1 UNION SELECT 2 INTERSECT SELECT 3
-- ----
(SELECT 1 UNION SELECT 2) INTERSECT SELECT 3
-- ----
SELECT a FROM t INTERSECT ALL SELECT a FROM u UNION DISTINCT SELECT a FROM v ORDER BY 1 LIMIT 3
-- ----
(SELECT a FROM t ORDER BY a LIMIT 1) UNION ALL (SELECT a FROM u ORDER BY a DESC LIMIT 1)
-- ----
(SELECT 1)
-- ----
((SELECT 1)) ORDER BY 1
-- ----
VALUES (1, 'a'), (2, 'b')
-- ----
VALUES (1) UNION SELECT 2 ORDER BY 1 LIMIT 1
-- ----
SELECT * FROM (VALUES (1, 'a'), (2, 'b')) AS v(id, name)
-- ----
SELECT * FROM (VALUES ($1)) q(id_key)
-- ----
SELECT * FROM (SELECT 1) s, (SELECT 2) AS s2(x), LATERAL (SELECT s.x) l
-- ----
SELECT * FROM a JOIN b ON a.id = b.id INNER JOIN c ON c.id = b.id LEFT JOIN d ON d.id = c.id LEFT OUTER JOIN e USING (id) RIGHT JOIN f ON true RIGHT OUTER JOIN g USING (id, k) FULL JOIN h ON h.x = a.x FULL OUTER JOIN i ON i.x = h.x CROSS JOIN j
-- ----
SELECT * FROM a NATURAL JOIN b NATURAL LEFT JOIN c NATURAL FULL OUTER JOIN d
-- ----
SELECT * FROM a, b, c WHERE a.id = b.id AND b.id = c.id
-- ----
SELECT * FROM (a JOIN b ON a.id = b.id) JOIN c ON c.id = a.id
-- ----
SELECT * FROM a JOIN (b JOIN c ON b.id = c.id) ON a.id = b.id
-- ----
SELECT * FROM a LEFT JOIN LATERAL (SELECT * FROM b WHERE b.a_id = a.id LIMIT 1) b1 ON true
-- ----
SELECT * FROM generate_series(1, 10) g, generate_series(1, 3) AS s(i), unnest(ARRAY[1, 2]) WITH ORDINALITY AS u(v, n), LATERAL generate_series(1, g) x
-- ----
SELECT * FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
-- ----
SELECT * FROM db.schema.table_name AS x
-- ----
WITH a AS (SELECT 1 AS x), b (y) AS (SELECT x FROM a) SELECT * FROM a, b
-- ----
WITH RECURSIVE t(n) AS (VALUES (1) UNION ALL SELECT n + 1 FROM t WHERE n < 100) SELECT sum(n) FROM t
-- ----
WITH m AS MATERIALIZED (SELECT 1), n AS NOT MATERIALIZED (SELECT 2) SELECT * FROM m, n
-- ----
WITH x AS (WITH y AS (SELECT 1) SELECT * FROM y) SELECT * FROM x
-- ----
SELECT * FROM t WHERE a IN (WITH s AS (SELECT 1) SELECT * FROM s)
-- ----
SELECT a, count(*) OVER (PARTITION BY a) FROM t WINDOW w1 AS (ORDER BY a), w2 AS (w1 ROWS UNBOUNDED PRECEDING)
-- ----
SELECT * FROM t AS x(a, b) WHERE x.a = 1
-- ----
SELECT * FROM "Schema"."Table" "T"
-- ----
SELECT 1 FROM t recursive
-- ----
SELECT 1;
-- ----
SELECT
  o.region,
  count(*) AS orders,
  sum(o.amount) FILTER (WHERE o.status = 'paid') AS paid,
  avg(o.amount)::numeric(10, 2) AS avg_amount
FROM sales.orders AS o
LEFT JOIN sales.customers c ON c.id = o.customer_id
WHERE o.created_at >= now() - INTERVAL '30 days'
  AND c.country IN ('DE', 'FR')
GROUP BY o.region
HAVING count(*) > 10
ORDER BY paid DESC NULLS LAST
LIMIT 50

-- note: precedence: OR < AND < NOT < IS < comparison < LIKE family < other ops < + - < * / % < ^ < unary minus < :: < [] < .
SELECT a OR b AND NOT c = d IS NULL, NOT x IS NOT NULL, a = b IS TRUE, a + b * c ^ d, -2 ^ 2, - x::int, a || b = c || d FROM t
-- ----
SELECT 1 + 2 - 3 * 4 / 5 % 6, (1 + 2) * 3, 2 ^ 3 ^ 2, 10 - (2 - 3), -(-1), - - 1, +1, ~5, 1 << 2 >> 1, 5 & 3 | 4 FROM t
-- ----
-- note: `#` (integer xor) is rewritten to xor() for DuckDB
SELECT 5 # 3 FROM t
-- ----
SELECT 42, 3.14, .5, 5., 1e-6, 1.5E+10, 0.0001000000, 12345678901234567890123456789 FROM t
-- ----
SELECT 'plain', 'it''s', E'tab\there\nnewline \'quoted\' \\ \x41\101\u00e9', $$dollar 'quoted' ; text$$, $tag$ nested $$ inside $tag$, '', e'' FROM t
-- ----
SELECT "Mixed Case", "with ""quotes""", "select", UPPER_CASE, lower_case, _under, col$dollar, "ünïcode", ünïcode2 FROM "My Table"
-- ----
SELECT name, type, date, year, value, party, key, level, source, position, filter, time, zone, interval, row, at, first, last, over, data, text, "user" FROM t
-- ----
SELECT x IS NULL, x IS NOT NULL, x ISNULL, x NOTNULL, x IS TRUE, x IS NOT FALSE, x IS UNKNOWN, x IS DISTINCT FROM y, x IS NOT DISTINCT FROM y + 1 FROM t
-- ----
SELECT a BETWEEN 1 AND 10, a NOT BETWEEN b AND c + 1, a BETWEEN SYMMETRIC 10 AND 1, a BETWEEN 1 AND 2 AND b BETWEEN 3 AND 4 FROM t
-- ----
SELECT a IN (1, 2, 3), a NOT IN ('x'), a IN (SELECT b FROM u), a NOT IN (SELECT b FROM u WHERE c), (a, b) IN ((1, 2), (3, 4)) FROM t
-- ----
SELECT a LIKE 'x%', a NOT LIKE '%y', a ILIKE 'Z%', a NOT ILIKE 'z', a LIKE 'x!%%' ESCAPE '!', a SIMILAR TO '(a|b)%', a NOT SIMILAR TO 'c' FROM t
-- ----
SELECT a ~ '^x', a !~ 'y$', a ~* 'Z', a !~* 'z', a ~ b || c FROM t
-- ----
SELECT doc -> 'a', doc ->> 'b', doc -> 'a' ->> 'c', tags @> ARRAY['x'], ARRAY['x'] <@ tags, tags && ARRAY['y'] FROM t
-- ----
SELECT x = ANY (ARRAY[1, 2]), x = ANY ('{1,2}'), x <> ALL (SELECT y FROM u), x > SOME (SELECT y FROM u), x = ANY ($1), word <> ALL ('{a,b}'::text[]) FROM t
-- ----
SELECT EXISTS (SELECT 1 FROM u WHERE u.id = t.id), NOT EXISTS (SELECT 1), (SELECT max(x) FROM u), (SELECT 1) + 1, ((SELECT 1)) FROM t
-- ----
SELECT ((SELECT 1) + 1), ((SELECT 1), 2), ((SELECT 1) UNION (SELECT 2)), (((SELECT 1))) FROM t
-- ----
SELECT CASE WHEN a > 0 THEN 'pos' WHEN a < 0 THEN 'neg' ELSE 'zero' END, CASE a WHEN 1 THEN 'one' WHEN 2 THEN 'two' END, CASE WHEN x THEN CASE WHEN y THEN 1 END END FROM t
-- ----
SELECT CAST(a AS int), CAST(b AS varchar(10)), TRY_CAST(c AS date), a::text, b::numeric(12, 2)::text, '1'::int + 1, -1::int, (-1)::int FROM t
-- ----
SELECT x::double precision, x::character varying(30), x::character varying, x::char(3), x::bit varying(8), x::timestamp with time zone, x::timestamp without time zone, x::timestamp(3) with time zone, x::time with time zone, x::interval FROM t
-- ----
SELECT x::int, x::int4, x::int8, x::float8, x::bigint, x::smallint, x::real, x::boolean, x::bool, x::bytea, x::uuid, x::json, x::jsonb, x::text[], x::int[][], x::integer[3] FROM t
-- ----
SELECT 'pg_class'::regclass, 'int4'::regtype, 'array_in'::regproc, 'public'::regnamespace, c.oid::oid, x::pg_catalog.text, x::pg_catalog.int4[], c.reloftype::pg_catalog.regtype::pg_catalog.text FROM pg_catalog.pg_class c
-- ----
SELECT DATE '2024-01-01', TIMESTAMP '2024-01-01 10:00:00', TIME '10:00', TIMESTAMPTZ '2024-01-01 00:00+00', timestamp with time zone '2024-01-01 00:00+02', UUID '00000000-0000-0000-0000-000000000000', double precision '1.5', int '42', varchar(3) 'abc' FROM t
-- ----
SELECT INTERVAL '7 days', INTERVAL '7' DAY, INTERVAL 7 DAY, INTERVAL 7 DAYS, INTERVAL '3' HOUR, INTERVAL (n) MINUTE, current_date - INTERVAL '1' MONTH FROM t
-- ----
-- duckdb: skip DuckDB 1.5 rejects interval field ranges ("YEAR TO MONTH is not supported")
SELECT INTERVAL '1-2' YEAR TO MONTH, INTERVAL '1 2:03' DAY TO MINUTE FROM t
-- ----
SELECT EXTRACT(YEAR FROM d), EXTRACT(epoch FROM ts), extract(dow from d), EXTRACT('month' FROM d) FROM t
-- ----
SELECT SUBSTRING(s FROM 2 FOR 3), SUBSTRING(s FROM 2), SUBSTRING(s FOR 3), substring(s, 2, 3), POSITION('b' IN s), TRIM(s), TRIM(BOTH 'x' FROM s), TRIM(LEADING FROM s), TRIM(TRAILING '.' FROM s), TRIM('x' FROM s), trim(s, 'x'), OVERLAY(s PLACING 'zz' FROM 2 FOR 3), overlay(s placing 'z' from 1) FROM t
-- ----
SELECT CURRENT_DATE, CURRENT_TIME, CURRENT_TIMESTAMP, LOCALTIME, LOCALTIMESTAMP, CURRENT_USER, SESSION_USER, USER, CURRENT_ROLE, CURRENT_SCHEMA, CURRENT_CATALOG, current_schema(), now(), current_database()
-- ----
SELECT count(*), count(DISTINCT x), count(ALL x), sum(x) FILTER (WHERE x > 0), string_agg(DISTINCT name, ', ' ORDER BY name DESC), array_agg(x ORDER BY y NULLS FIRST), percentile_cont(0.5) WITHIN GROUP (ORDER BY x), mode() WITHIN GROUP (ORDER BY y DESC) FROM t
-- ----
SELECT pg_catalog.format_type(a, b), pg_catalog.pg_get_expr(d.adbin, d.adrelid, true), information_schema._pg_truetypid(a, t), "MyFunc"(1), left('abc', 2), right('abc', 1), coalesce(a, b, 0), nullif(a, ''), greatest(1, 2), least(1, 2), f(), x.y.z(1) FROM t
-- ----
SELECT row_number() OVER (), rank() OVER (PARTITION BY a ORDER BY b DESC), sum(x) OVER w, avg(x) OVER (w ROWS BETWEEN 2 PRECEDING AND CURRENT ROW), lag(x, 1) OVER (ORDER BY y), sum(x) OVER (ORDER BY y RANGE BETWEEN INTERVAL '1' DAY PRECEDING AND UNBOUNDED FOLLOWING EXCLUDE TIES), first_value(x) OVER (PARTITION BY a GROUPS 1 PRECEDING EXCLUDE CURRENT ROW), count(*) FILTER (WHERE x) OVER (ROWS UNBOUNDED PRECEDING EXCLUDE NO OTHERS), max(x) OVER (ROWS BETWEEN CURRENT ROW AND 3 FOLLOWING EXCLUDE GROUP) FROM t WINDOW w AS (PARTITION BY a ORDER BY b)
-- ----
SELECT ARRAY[1, 2, 3], ARRAY[[1, 2], [3, 4]], ARRAY[]::int[], ARRAY(SELECT x FROM u ORDER BY x), [1, 2, 3], [], arr[1], arr[1:2], arr[:2], arr[2:], arr[1][2], (ARRAY[1, 2])[1], $1[1] FROM t
-- ----
SELECT (pg_catalog.current_schemas(true))[1], (current_schemas(false))[s.r], (x).field, (x).a.b, (t.composite).f, arr[1].f, ((x)).y FROM t
-- ----
SELECT ROW(1, 2), ROW(), ROW(a), (1, 2), (a, b, c) = (1, 2, 3), ROW(a, b) IS NULL FROM t
-- ----
SELECT $1, $2 + 1, $10::text, f($3, $4) FROM t WHERE a = $5 LIMIT $6 OFFSET $7
-- ----
SELECT c.relname COLLATE pg_catalog.default, name COLLATE "C", a || b COLLATE "en_US" FROM t
-- ----
SELECT ts AT TIME ZONE 'UTC', ts AT TIME ZONE tz + 1, (ts AT TIME ZONE 'UTC')::date FROM t
-- ----
SELECT a OPERATOR(pg_catalog.~) 'x', a OPERATOR(pg_catalog.=) b, a OPERATOR(<>) 'y', a OPERATOR(pg_catalog.||) b FROM t
-- ----
SELECT TRUE, FALSE, NULL, NOT TRUE, true AND false OR null, NULL IS NULL FROM t
-- ----
SELECT a AS "x y", b "quoted alias", c alias_without_as, d AS from_kw, e AS "select", f AS select, 1 AS value, 2 value2 FROM t
-- ----
-- note: a comment at the start /* and a block */ comment inside
SELECT /* nested /* comment */ still comment */ 1 -- trailing comment
  + 2 FROM t
-- ----
SELECT coalesce(sum(x) / nullif(count(*), 0), 0)::numeric(10, 2) AS avg_x, round(avg(y)::numeric, 2), x % 2 = 0 AND NOT (y IS NULL OR z < 0) FROM t
-- ----
SELECT a, b FROM t WHERE (a, b) = (1, 2) AND a = (SELECT 1) AND NOT NOT a

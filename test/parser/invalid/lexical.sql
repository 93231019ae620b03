-- note: lexical errors (unterminated literals, identifiers, comments; stray characters); columns count characters, not UTF-16 units
-- error: 1:8 unterminated quoted string at or near "'abc"
SELECT 'abc
-- ----
-- error: 1:8 unterminated quoted identifier at or near ""ab"
SELECT "ab
-- ----
-- error: 1:8 unterminated quoted string at or near "e'abc"
select e'abc
-- ----
-- error: 1:8 unterminated /* comment at or near "/* unterminated comment
SELECT /* unterminated comment
FROM t
-- ----
-- error: 1:8 unterminated dollar-quoted string at or near "$$never closed"
SELECT $$never closed
-- ----
-- error: 1:8 zero-length delimited identifier at or near """"
SELECT ""
-- ----
-- error: 1:10 syntax error at or near "?"
SELECT 1 ? 2
-- ----
-- error: 1:29 syntax error at or near "\"
SELECT a FROM t WHERE b = 1 \ 2
-- ----
-- error: 1:36 syntax error at or near "="
SELECT '😀😀', "日本" FROM t WHERE x = = 1
-- ----
-- error: 3:12 unterminated quoted string at or near "'it''s"
SELECT 1
	FROM t
	WHERE x = 'it''s
-- ----
-- error: 1:17 unterminated quoted string at or near "'unterminated"
SELECT E'\'' || 'unterminated
-- ----
-- error: 1:27 syntax error at or near "@"
SELECT 1 FROM t WHERE a = @b

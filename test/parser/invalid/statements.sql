-- note: SHOW, SET, RESET, transaction control, DISCARD, DEALLOCATE, and statements VeilSQL does not run
-- error: 1:1 syntax error at or near "SELEC"
SELEC 1
-- ----
-- error: 1:1 syntax error at or near "insert"
insert into t values (1)
-- ----
-- error: 1:5 syntax error at end of input
show
-- ----
-- error: 1:6 syntax error at end of input
set x
-- ----
-- error: 1:7 syntax error at or near "foo"
begin foo
-- ----
-- error: 1:14 syntax error at end of input
SET TIME ZONE
-- ----
-- error: 1:8 syntax error at end of input
SET x =
-- ----
-- error: 1:11 syntax error at end of input
SET x = 1,
-- ----
-- error: 1:6 syntax error at end of input
RESET
-- ----
-- error: 1:27 syntax error at end of input
BEGIN ISOLATION LEVEL READ
-- ----
-- error: 1:6 syntax error at end of input
START
-- ----
-- error: 1:9 syntax error at or near "EVERYTHING"
DISCARD EVERYTHING
-- ----
-- error: 1:11 syntax error at end of input
DEALLOCATE
-- ----
-- error: 1:8 syntax error at or near "NOW"
COMMIT NOW

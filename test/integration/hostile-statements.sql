-- Malformed and hostile statements sent to bank_a's gateway. Each entry: `-- expect: SQLSTATE`
-- then the statement (one per entry, may span lines). Each must fail with that SQLSTATE, leave
-- the session usable and every node alive. Entries are separated by blank lines.

-- expect: 42601
SELEC region FROM bank_b.customers

-- expect: 42601
SELECT

-- expect: 42601
SELECT * FROM

-- expect: 42601
SELECT 'unterminated

-- expect: 42601
SELECT region FROM bank_b.customers WHERE (region = 'Beijing'

-- expect: 42601
DROP TABLE bank_b.customers

-- expect: 42601
INSERT INTO bank_b.customers (region) VALUES ('x')

-- expect: 42601
DELETE FROM bank_b.customers

-- expect: 42601
UPDATE bank_b.customers SET region = 'x'

-- expect: 42601
CREATE TABLE bank_a.x (a int)

-- expect: 42601
ATTACH '/tmp/other.duckdb' AS other

-- expect: 42601
PRAGMA database_list

-- expect: 42601
INSTALL httpfs

-- expect: 42883
SELECT * FROM read_csv('/etc/passwd')

-- expect: 42883
SELECT * FROM query('SELECT * FROM __veilsql_audit')

-- expect: 42883
SELECT * FROM duckdb_tables()

-- expect: 42883
SELECT * FROM glob('/etc/*')

-- expect: 42P01
SELECT * FROM bank_b.__veilsql_audit

-- expect: 42P01
SELECT * FROM bank_b.no_such_table

-- expect: 42P01
SELECT * FROM no_such_party.customers

-- expect: 42P01
SELECT * FROM main.customers

-- expect: 42703
SELECT no_such_column FROM bank_b.customers

-- expect: 42703
SELECT "名字" FROM bank_b.customers

-- expect: 42P01
SELECT x.region FROM bank_b.customers c

-- expect: 42702
SELECT region FROM bank_b.customers c JOIN telco.users t ON c.region = t.region

-- expect: 42712
SELECT c.region FROM bank_b.customers c JOIN telco.users c ON true

-- expect: 42501
SELECT customer_id FROM bank_c.customers

-- expect: 42501
SELECT * FROM telco.users

-- expect: 42501
SELECT id_key FROM bank_b.blacklist

-- expect: 42501
SELECT count(*) FROM bank_b.customers WHERE balance > 1000

-- expect: 42501
SELECT max(balance) FROM bank_b.customers

-- expect: 42501
SELECT region FROM bank_b.customers ORDER BY balance

-- expect: 42501
SELECT count(*) FROM bank_c.customers GROUP BY is_fraud

-- expect: 42501
SELECT c.region FROM bank_b.customers c JOIN bank_c.customers d ON c.id_key = d.id_key

-- expect: 42501
SELECT region, count(*) FROM banks.customers GROUP BY region, party

-- expect: 0A000
SELECT count(*) FROM bank_b.customers c SECURE JOIN telco.users t ON c.id_key = t.id_key

-- expect: 42501
SELECT a.app_id, b.balance FROM bank_a.applicants a PRIVATE LOOKUP bank_b.customers b ON b.id_key = a.id_key

-- expect: 22023
SELECT region, DP SUM(balance) FROM bank_b.customers GROUP BY region

-- expect: 53V01
SELECT region, count(*) FROM bank_b.customers GROUP BY region WITH PRIVACY (epsilon = 100)

-- expect: 22023
EXPLAIN DP SELECT region, DP COUNT(*) FROM bank_b.customers GROUP BY region WITH PRIVACY (delta = 0)

-- expect: 42703
SELECT region, DP COUNT(*) AS n, DP_CI_HIGH(m) FROM bank_b.customers GROUP BY region

-- expect: 42501
SELECT region, max(balance) FROM banks.customers GROUP BY region

-- expect: 0A000
WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT * FROM r

-- expect: 42883
SELECT region FROM bank_b.customers WHERE region = 42

-- expect: 42883
SELECT sum(region) FROM bank_b.customers

-- expect: 42804
SELECT region FROM bank_b.customers WHERE 1

-- expect: 42804
SELECT region FROM bank_b.customers UNION SELECT opened_on FROM bank_b.customers

-- expect: 42803
SELECT region, segment, count(*) FROM bank_b.customers GROUP BY region

-- expect: 42803
SELECT region FROM bank_b.customers WHERE count(*) > 3

-- expect: 42P10
SELECT region FROM bank_b.customers ORDER BY 99

-- expect: 42P02
SELECT $1

-- expect: 22023
SET fragment_timeout = 'banana'

-- expect: 42704
SHOW no_such_setting

-- expect: 22012
SELECT severity / (severity - severity) AS x FROM bank_b.blacklist

-- expect: 22012
SELECT count(*) FROM bank_b.accounts WHERE customer_ref % 0 = 1

-- expect: 22012
SELECT region, count(*) / (count(*) - count(*)) AS x FROM banks.customers GROUP BY region

-- expect: 22012
SELECT 1.5::float8 / (count(*) - count(*)) FROM banks.customers

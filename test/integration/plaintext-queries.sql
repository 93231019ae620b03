-- Plaintext federated queries, compared row by row with PostgreSQL 15 over the union of the same
-- data (see README.md in this folder). Each query starts with a `-- name:` line; `-- ordered`
-- makes the comparison order-sensitive (the query's ORDER BY must then be total).

-- name: group by a public column at one party
-- ordered
SELECT region, count(*) AS n FROM bank_b.customers GROUP BY region ORDER BY region;

-- name: filter on a date, order by count
-- ordered
SELECT segment, count(*) AS n FROM bank_c.customers WHERE opened_on >= DATE '2020-01-01' GROUP BY segment ORDER BY n DESC, segment;

-- name: local join inside bank_b on public keys
-- ordered
SELECT a.product, count(*) AS accounts, count(DISTINCT c.region) AS regions
FROM bank_b.accounts a JOIN bank_b.customers c ON c.customer_id = a.customer_ref
GROUP BY a.product ORDER BY a.product;

-- name: booleans and HAVING
-- ordered
SELECT product, count(*) FILTER (WHERE is_active) AS active, count(*) FILTER (WHERE NOT is_active) AS inactive
FROM bank_b.accounts GROUP BY product HAVING count(*) > 100 ORDER BY product;

-- name: federated table grouped (partial aggregates per party)
-- ordered
SELECT region, count(*) AS n FROM banks.customers GROUP BY region ORDER BY region NULLS FIRST;

-- name: federated table with filter, two keys
-- ordered
SELECT region, segment, count(*) AS n, min(opened_on) AS first_opened, max(opened_on) AS last_opened
FROM banks.customers WHERE segment IN ('sme', 'premium') GROUP BY region, segment ORDER BY region, segment;

-- name: federated global aggregate over dates
SELECT count(*) AS n, count(region) AS with_region, min(opened_on) AS first, max(opened_on) AS last FROM banks.customers;

-- name: federated count distinct (rows shipped, not partials)
SELECT count(DISTINCT region) AS regions, count(DISTINCT segment) AS segments FROM banks.customers;

-- name: own data: decimals and private columns are visible to their owner
-- ordered
SELECT name, balance FROM bank_a.customers WHERE balance IS NOT NULL ORDER BY balance DESC, customer_id LIMIT 7;

-- name: own data: exact decimal sums
-- ordered
SELECT segment, sum(balance) AS total, count(balance) AS n FROM bank_a.customers GROUP BY segment ORDER BY segment;

-- name: own data: unicode names
SELECT name FROM bank_a.customers WHERE name LIKE '%李%' OR name LIKE 'Zo%';

-- name: cross-party join on public columns at the gateway
-- ordered
SELECT c.region, count(*) AS pairs
FROM bank_c.customers c JOIN telco.users t ON c.region = t.region
WHERE c.segment = 'private_banking' AND t.age_band = '18-24'
GROUP BY c.region ORDER BY c.region;

-- name: cross-party left join keeps NULLs
-- ordered
SELECT r.region, count(t.region) AS telco_users
FROM (SELECT DISTINCT region FROM bank_b.customers) r LEFT JOIN telco.users t ON t.region = r.region AND t.age_band = '65+'
GROUP BY r.region ORDER BY r.region NULLS LAST;

-- name: UNION across parties
-- ordered
SELECT region FROM bank_b.customers UNION SELECT region FROM telco.users ORDER BY region NULLS FIRST;

-- name: UNION ALL then aggregate
-- ordered
SELECT reason, count(*) AS n FROM (SELECT reason FROM bank_b.blacklist UNION ALL SELECT reason FROM bank_c.blacklist) x GROUP BY reason ORDER BY reason;

-- name: INTERSECT and EXCEPT across parties
-- ordered
SELECT reason FROM bank_b.blacklist INTERSECT SELECT reason FROM bank_c.blacklist EXCEPT SELECT 'card fraud' ORDER BY 1;

-- name: IN subquery across parties
-- ordered
SELECT segment, count(*) AS n FROM bank_c.customers WHERE region IN (SELECT region FROM telco.users WHERE age_band = '25-34') GROUP BY segment ORDER BY segment;

-- name: correlated EXISTS across parties
-- ordered
SELECT DISTINCT c.region FROM bank_b.customers c
WHERE EXISTS (SELECT 1 FROM telco.users t WHERE t.region = c.region AND t.age_band = '18-24') ORDER BY 1;

-- name: NOT IN with NULLs in the subquery
SELECT count(*) AS n FROM bank_b.customers WHERE region NOT IN (SELECT region FROM telco.users);

-- name: scalar subquery per row
-- ordered
SELECT r.region, (SELECT count(*) FROM telco.users t WHERE t.region = r.region) AS telco_users
FROM (SELECT DISTINCT region FROM bank_c.customers WHERE region IS NOT NULL) r ORDER BY r.region;

-- name: CTE used twice
-- ordered
WITH b AS (SELECT region, count(*) AS n FROM bank_b.customers GROUP BY region),
     c AS (SELECT region, count(*) AS n FROM bank_c.customers GROUP BY region)
SELECT b.region, b.n AS at_b, c.n AS at_c, b.n - c.n AS diff FROM b JOIN c ON b.region = c.region ORDER BY b.region;

-- name: window function over a cross-party result
-- ordered
SELECT region, n, rank() OVER (ORDER BY n DESC, region) AS rnk
FROM (SELECT region, count(*) AS n FROM telco.users WHERE region IS NOT NULL GROUP BY region) x ORDER BY rnk;

-- name: window partitions inside one party
-- ordered
SELECT product, is_active, count(*) AS n, sum(count(*)) OVER (PARTITION BY product) AS per_product
FROM bank_b.accounts GROUP BY product, is_active ORDER BY product, is_active;

-- name: CASE buckets
-- ordered
SELECT CASE WHEN severity >= 4 THEN 'high' WHEN severity >= 2 THEN 'medium' ELSE 'low' END AS level, count(*) AS n
FROM bank_c.blacklist GROUP BY 1 ORDER BY 1;

-- name: date arithmetic and extract
-- ordered
SELECT extract(year FROM listed_on) AS y, count(*) AS n, min(listed_on) AS first, max(listed_on) - min(listed_on) AS span_days
FROM bank_b.blacklist GROUP BY 1 ORDER BY 1;

-- name: date_trunc by month
-- ordered
SELECT date_trunc('month', opened_on) AS month, count(*) AS n FROM bank_b.accounts
WHERE opened_on BETWEEN DATE '2023-01-01' AND DATE '2023-12-31' GROUP BY 1 ORDER BY 1;

-- name: string functions
-- ordered
SELECT upper(reason) AS r, length(reason) AS len, reason || ' (' || count(*) || ')' AS label
FROM bank_c.blacklist GROUP BY reason ORDER BY reason;

-- name: COALESCE and NULL handling
-- ordered
SELECT coalesce(age_band, 'unknown') AS band, count(*) AS n FROM telco.users GROUP BY 1 ORDER BY 1;

-- name: ORDER BY DESC puts NULLs first like Postgres
-- ordered
SELECT region, count(*) AS n FROM bank_c.customers GROUP BY region ORDER BY region DESC;

-- name: LIMIT and OFFSET
-- ordered
SELECT customer_ref, product FROM bank_b.accounts ORDER BY customer_ref, product, opened_on LIMIT 5 OFFSET 10;

-- name: VALUES joined with party data
-- ordered
SELECT v.r, count(c.region) AS n FROM (VALUES ('Beijing'), ('Nowhere')) v(r) LEFT JOIN bank_b.customers c ON c.region = v.r GROUP BY v.r ORDER BY v.r;

-- name: integer division and arithmetic
-- ordered
SELECT severity, severity / 2 AS half, severity % 2 AS odd, severity * 10 + 1 AS scaled FROM bank_b.blacklist GROUP BY severity ORDER BY severity;

-- name: division and modulo by column values, at a party and over a federated table
-- ordered
SELECT severity, 100 / severity AS per, 100 % severity AS rest, 7.5 / severity AS ratio, count(*) / severity AS per_level FROM bank_b.blacklist GROUP BY severity ORDER BY severity;

-- name: averages and ratios over no rows are NULL, not a division by zero
SELECT avg(severity) AS a, sum(severity) / count(*) AS r, count(*) AS n FROM bank_b.blacklist WHERE severity > 100;

-- name: federated averages and ratios over no rows are NULL
SELECT avg(extract(year FROM opened_on)) AS a, sum(extract(year FROM opened_on)) / count(*) AS r FROM banks.customers WHERE region = 'Atlantis';

-- name: division of federated totals at the gateway
-- ordered
SELECT region, sum(CASE WHEN segment = 'retail' THEN 1 ELSE 0 END) * 1000 / count(*) AS retail_permille FROM banks.customers GROUP BY region ORDER BY region NULLS FIRST;

-- name: a written UNION ALL of two parties' relations (one table at the gateway)
-- ordered
SELECT x, count(*) AS n FROM (SELECT region AS x FROM bank_b.customers UNION ALL SELECT region FROM bank_c.customers) u GROUP BY x ORDER BY x NULLS FIRST;

-- name: a UNION ALL whose members differ in DECIMAL scale keeps every digit
-- ordered
SELECT x FROM (SELECT 1.5 AS x FROM bank_b.accounts UNION ALL SELECT 2.25 FROM telco.users) u GROUP BY x ORDER BY x;

-- name: federated rows, not aggregates, ordered at the gateway
-- ordered
SELECT region, segment, opened_on FROM banks.customers WHERE opened_on >= DATE '2024-12-01' ORDER BY opened_on, region NULLS FIRST, segment LIMIT 40;

-- name: averages over a federated table
-- ordered
SELECT segment, avg(extract(year FROM opened_on)) AS avg_year FROM banks.customers GROUP BY segment ORDER BY segment;

-- name: DISTINCT ON
-- ordered
SELECT DISTINCT ON (product) product, customer_ref, opened_on FROM bank_b.accounts ORDER BY product, opened_on DESC, customer_ref;

-- name: three parties in one query
-- ordered
SELECT b.reason, count(*) AS n
FROM bank_b.blacklist b JOIN bank_c.blacklist c ON b.reason = c.reason AND b.severity = c.severity
WHERE b.listed_on >= DATE '2024-01-01' AND c.listed_on >= DATE '2024-01-01'
GROUP BY b.reason ORDER BY b.reason;

-- name: public GWAS variant annotations across hospitals
-- ordered
SELECT chr, count(DISTINCT rsid) AS snps, min(bp) AS first_bp, max(bp) AS last_bp FROM hospitals.variants GROUP BY chr ORDER BY chr;

-- name: BETWEEN and LIKE on a federated table
SELECT count(*) AS n FROM banks.customers WHERE opened_on BETWEEN DATE '2015-01-01' AND DATE '2018-12-31' AND segment LIKE 'p%';

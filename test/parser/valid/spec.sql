-- note: SPEC.md §3, vertical anti-fraud
SELECT t.age_band, COUNT(*) AS n, SUM(c.is_fraud) AS frauds
FROM bank_a.customers c SECURE JOIN telco.users t ON c.id_key = t.id_key
GROUP BY t.age_band;
-- ----
-- note: SPEC.md §3, blacklist lookup
SELECT a.app_id, b.reason, b.listed_on
FROM bank_a.applicants a PRIVATE LOOKUP bank_b.blacklist b ON b.id_key = a.id_key;
-- ----
SELECT b.reason FROM (VALUES ($1)) q(id_key) PRIVATE LOOKUP bank_b.blacklist b ON b.id_key = q.id_key;
-- ----
-- note: SPEC.md §3, multi-lender dedupe (PARTY pseudo-column)
SELECT a.app_id, COUNT(DISTINCT b.PARTY) AS other_lenders
FROM lender_07.applications a
SECURE JOIN alliance.applications b ON b.id_key = a.id_key
WHERE b.applied_at >= current_date - 7 AND b.PARTY <> 'lender_07'
GROUP BY a.app_id;
-- ----
-- note: SPEC.md §3, GWAS over a federated table
SELECT g.snp, g.chr, g.bp, (GWAS_ALLELIC(g.allele1, g.allele2, g.genotype, s.phenotype)).*
FROM hospitals.genotypes g JOIN hospitals.samples s ON s.sample_id = g.sample_id
GROUP BY g.snp, g.chr, g.bp ORDER BY p LIMIT 20;
-- ----
-- note: SPEC.md §3, differential privacy
SELECT region, DP COUNT(*) AS n, DP SUM(balance BOUNDED 0 AND 100000) AS total
FROM banks.customers GROUP BY region
WITH PRIVACY (epsilon = 0.5, delta = 1e-8, privacy_unit = customer_id, max_groups_contributed = 1);
-- ----
EXPLAIN DP SELECT region, DP COUNT(*) AS n FROM banks.customers GROUP BY region WITH PRIVACY (epsilon = 1);
-- ----
SHOW PRIVACY BUDGET;
-- ----
SHOW PARTIES
-- ----
SHOW TABLES
-- ----
SHOW TABLES FROM bank_a
-- ----
SHOW POLICIES
-- ----
SHOW POLICIES FROM bank_a.customers
-- ----
SELECT c.region, t.plan, COUNT(*) FROM bank_a.customers c SECURE LEFT JOIN telco.users t ON t.id_key = c.id_key GROUP BY c.region, t.plan
-- ----
SELECT c.customer_id, t.plan
FROM bank_a.customers AS c
  SECURE JOIN telco.users AS t ON t.id_key = c.id_key
  PRIVATE LOOKUP bank_b.blacklist AS b ON b.id_key = c.id_key
WHERE b.reason IS NULL
-- ----
SELECT DP AVG(age BOUNDED 18 AND 99) AS mean_age, DP COUNT(DISTINCT customer_id) AS people
FROM banks.customers
WITH PRIVACY (epsilon = 1.0, delta = 1e-6, privacy_unit = customer_id, groups = THRESHOLD, noise = laplace)
-- ----
SELECT region, DP SUM(balance BOUNDED -1000 AND 1000) FROM banks.customers GROUP BY region
WITH PRIVACY (epsilon = 0.25, privacy_unit = customer_id, groups = PUBLIC ('north', 'south', 'east', 'west'), max_rows_contributed = 5)
-- ----
SELECT WITH DIFFERENTIAL_PRIVACY OPTIONS (epsilon = 1, delta = 1e-5, privacy_unit_column = id) item, COUNT(*) AS times
FROM professors GROUP BY item
-- ----
-- note: `privacy` is an ordinary CTE name at statement start; PRIVACY is special only after a query
WITH privacy AS (SELECT 1 AS epsilon) SELECT epsilon FROM privacy
-- ----
SELECT dp, secure, private, lookup, privacy, bounded, party FROM t AS secure_stuff
-- ----
SELECT x.id FROM hospitals.samples x SECURE JOIN hospitals.genotypes g USING (sample_id)
-- ----
SELECT count(*) FROM (SELECT a.id_key FROM bank_a.applicants a PRIVATE LOOKUP bank_b.blacklist b ON b.id_key = a.id_key) s
-- ----
SELECT g.snp, GWAS_MODEL(g.genotype, s.phenotype, 'additive') AS fit
FROM hospitals.genotypes g JOIN hospitals.samples s ON s.sample_id = g.sample_id
WHERE g.chr = 6 AND g.bp BETWEEN 29000000 AND 34000000
GROUP BY g.snp
-- ----
EXPLAIN ANALYZE SELECT t.age_band, COUNT(*) FROM bank_a.customers c SECURE JOIN telco.users t ON c.id_key = t.id_key GROUP BY 1
-- ----
EXPLAIN SELECT COUNT(*) FROM hospitals.genotypes
-- ----
SELECT party, COUNT(*) FROM alliance.applications GROUP BY party

/**
 * The generated demo federation (cli/demo): deterministic, fast, complete configs, and the data
 * shows what each scenario was built to show — checked from the files themselves with DuckDB.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { demoNodes, generateDemo, normalizeKey, type DemoDescription } from '../cli/demo/index.js';

function listFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(root, p));
    }
  };
  walk(root);
  return out;
}

const sqlString = (s: string) => `'${s.replace(/'/g, "''")}'`;

describe('demo federation generator', () => {
  const root = mkdtempSync(join(tmpdir(), 'veilsql-demo-test-'));
  const dirA = join(root, 'a');
  const dirB = join(root, 'b');
  const dirC = join(root, 'c');
  let demo: DemoDescription;
  let small: DemoDescription;
  let generateMs = 0;
  let instance: DuckDBInstance;
  let db: DuckDBConnection;
  const rows = async (sql: string) => (await db.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
  const parquet = (party: string, table: string) => sqlString(join(dirA, 'data', party, `${table}.parquet`));

  beforeAll(async () => {
    const t = performance.now();
    demo = await generateDemo(dirA, 42);
    generateMs = performance.now() - t;
    await generateDemo(dirB, 42);
    small = await generateDemo(dirC, 43, { lenders: 3 });
    instance = await DuckDBInstance.create(':memory:');
    db = await instance.connect();
  }, 60_000);

  afterAll(() => {
    db?.closeSync();
    instance?.closeSync();
    rmSync(root, { recursive: true, force: true });
  });

  it('generates the default demo in under 10 s', () => {
    console.log(`[demo-data] default demo (${demo.nodes.length} nodes, ${demo.tables.length} tables) generated in ${Math.round(generateMs)} ms`);
    expect(generateMs).toBeLessThan(10_000);
  });

  it('is byte-identical for the same seed and differs for another seed', () => {
    const a = listFiles(dirA);
    expect(a).toEqual(listFiles(dirB));
    expect(a.length).toBeGreaterThan(100);
    for (const f of a) expect(readFileSync(join(dirB, f)).equals(readFileSync(join(dirA, f))), f).toBe(true);
    const differing = ['data/bank_a/customers.csv', 'data/telco/users.parquet', 'data/hospital_1/genotypes.csv'];
    for (const f of differing) expect(readFileSync(join(dirC, f)).equals(readFileSync(join(dirA, f))), f).toBe(false);
  });

  it('has the designed row counts', () => {
    const count = (party: string, name: string) => demo.tables.find((t) => t.party === party && t.name === name)?.rowCount;
    expect(count('bank_a', 'customers')).toBe(5010);
    expect(count('bank_a', 'applicants')).toBe(500);
    expect(count('telco', 'users')).toBe(8000);
    for (const b of ['bank_b', 'bank_c']) {
      expect(count(b, 'blacklist')).toBe(2000);
      expect(count(b, 'customers')).toBe(3000);
    }
    expect(count('bank_b', 'accounts')).toBeGreaterThan(3000);
    for (let h = 1; h <= 5; h++) {
      expect(count(`hospital_${h}`, 'samples')).toBe(200);
      expect(count(`hospital_${h}`, 'variants')).toBe(500);
      expect(count(`hospital_${h}`, 'genotypes')).toBe(100_000);
    }
    const lenders = demo.tables.filter((t) => t.name === 'applications');
    expect(lenders.map((t) => t.party)).toEqual(Array.from({ length: 20 }, (_, i) => `lender_${String(i + 1).padStart(2, '0')}`));
    for (const t of lenders) expect(t.rowCount).toBe(300);
    expect(small.tables.filter((t) => t.name === 'applications').map((t) => t.party)).toEqual(['lender_01', 'lender_02', 'lender_03']);
    expect(small.facts.crossLenderPersons).toBeGreaterThan(0);
  });

  it('writes CSV and Parquet with the same rows and the declared types', async () => {
    for (const t of demo.tables) {
      const parquetTypes = await rows(`DESCRIBE SELECT * FROM read_parquet(${sqlString(t.parquetPath)})`);
      expect(parquetTypes.map((r) => `${r.column_name} ${r.column_type}`), `${t.party}.${t.name}`).toEqual(
        t.columns.map((c) => `${c.name} ${c.type}`),
      );
      if (t.source === 'csv') {
        // A CSV source is read by the node with DuckDB's type sniffing: it must find the declared types.
        const sniffed = await rows(`DESCRIBE SELECT * FROM read_csv(${sqlString(t.csvPath)})`);
        expect(sniffed.map((r) => `${r.column_name} ${r.column_type}`)).toEqual(t.columns.map((c) => `${c.name} ${c.type}`));
      }
    }
    const cols = demo.tables.find((t) => t.party === 'bank_a' && t.name === 'customers')!.columns.map((c) => `${c.name} ${c.type}`);
    const diff = await rows(
      `SELECT count(*) AS n FROM (SELECT * FROM read_parquet(${parquet('bank_a', 'customers')}) EXCEPT ALL
       SELECT * FROM read_csv(${sqlString(join(dirA, 'data/bank_a/customers.csv'))}, header = true, auto_detect = false,
         columns = {${cols.map((c) => `${sqlString(c.split(' ')[0])}: ${sqlString(c.split(' ')[1])}`).join(', ')}}))`,
    );
    expect(diff[0].n).toBe('0');
  });

  it('contains NULLs, unicode names, decimals and dates', async () => {
    const r = await rows(
      `SELECT count(*) FILTER (WHERE phone IS NULL) AS null_phones, count(*) FILTER (WHERE region IS NULL) AS null_regions,
              count(*) FILTER (WHERE regexp_matches(name, '[\\x{4e00}-\\x{9fff}]')) AS chinese,
              count(*) FILTER (WHERE name <> nfc_normalize(name)) AS nfd, count(*) FILTER (WHERE balance < 0) AS overdrafts,
              min(opened_on)::VARCHAR AS first_opened, count(*) - count(DISTINCT id_key) AS duplicate_keys
       FROM read_parquet(${parquet('bank_a', 'customers')})`,
    );
    const f = r[0] as Record<string, string>;
    for (const k of ['null_phones', 'null_regions', 'chinese', 'nfd', 'overdrafts', 'duplicate_keys']) expect(Number(f[k]), k).toBeGreaterThan(0);
    expect(f.first_opened >= '2005-01-01').toBe(true);
    const accented = await rows(`SELECT count(*) AS n FROM read_parquet(${parquet('bank_a', 'customers')}) WHERE regexp_matches(name, '[À-ž]')`);
    expect(Number(accented[0].n)).toBeGreaterThan(0);
  });

  it('writes configs that parse as YAML and name every table file', () => {
    const fed = parse(readFileSync(join(dirA, 'federation.yaml'), 'utf8'));
    expect(fed.name).toBe('demo');
    expect(fed.ca).toBe('certs/ca.pem');
    expect(Object.keys(fed.nodes)).toEqual(demo.nodes.map((n) => n.name));
    expect(fed.nodes.hub).toEqual({ url: 'https://127.0.0.1:7100', cert: 'certs/hub.pem', role: 'hub' });
    expect(fed.nodes.bank_a).toEqual({ url: 'https://127.0.0.1:7101', cert: 'certs/bank_a.pem' });
    expect(fed.federated_tables['hospitals.genotypes']).toEqual({
      table: 'genotypes',
      parties: ['hospital_1', 'hospital_2', 'hospital_3', 'hospital_4', 'hospital_5'],
      colocated: 'sample_id',
    });
    expect(fed.federated_tables['banks.customers'].parties).toEqual(['bank_a', 'bank_b', 'bank_c']);
    expect(fed.federated_tables['alliance.applications'].parties).toHaveLength(20);

    const seenTables = new Set<string>();
    for (const n of demo.nodes) {
      const cfg = parse(readFileSync(n.configPath, 'utf8'));
      const base = dirname(n.configPath);
      expect(cfg.name).toBe(n.name);
      expect(existsSync(resolve(base, cfg.federation))).toBe(true);
      expect(cfg.listen).toBe(`127.0.0.1:${n.port}`);
      expect(cfg.key).toBe(`certs/${n.name}.key`);
      expect(cfg.database).toBe(`data/${n.name}.duckdb`);
      for (const [name, table] of Object.entries<Record<string, unknown>>(cfg.tables ?? {})) {
        const described = demo.tables.find((t) => t.party === n.name && t.name === name);
        expect(described, `${n.name}.${name}`).toBeDefined();
        expect(existsSync(resolve(base, String(table.source))), String(table.source)).toBe(true);
        const columns = table.columns as Record<string, string | { level: string; normalize: unknown }>;
        for (const c of described!.columns) {
          const v = columns[c.name];
          expect(typeof v === 'string' ? v : v.level, `${n.name}.${name}.${c.name}`).toBe(c.policy);
          if (c.normalization) expect(v).toEqual({ level: 'join_key', normalize: { trim: true, unicode: 'NFC', case: 'lower' } });
        }
        seenTables.add(`${n.name}.${name}`);
      }
    }
    expect([...seenTables].sort()).toEqual(demo.tables.map((t) => `${t.party}.${t.name}`).sort());
    const bankA = parse(readFileSync(join(dirA, 'bank_a.node.yaml'), 'utf8'));
    expect(bankA.gateway).toEqual({ listen: '127.0.0.1:5433', auth: 'trust', users: { analyst: { password: 'analyst' } } });
    expect(bankA.tables.customers.grants).toEqual({ telco: { balance: 'private' } });
    expect(bankA.privacy.budget).toEqual({ epsilon: 10, delta: 1e-6, period: '30d' });
    const gatewayNodes = demo.nodes.filter((n) => n.gateway).map((n) => n.name);
    expect(gatewayNodes).toEqual(['bank_a', 'lender_01']);
    const readme = readFileSync(join(dirA, 'README.md'), 'utf8');
    for (const t of demo.tables.filter((t) => !t.party.startsWith('lender_') || t.party === 'lender_01')) {
      expect(readme).toContain(`\`${t.party}.${t.name}\``);
    }
  });

  it("writes configs the node's own config loader accepts", async () => {
    const { loadFederationConfig, loadNodeConfig } = await import('../connectors/config.js');
    const fed = loadFederationConfig(join(dirC, 'federation.yaml'));
    expect([...fed.nodes.keys()]).toEqual(small.nodes.map((n) => n.name));
    expect(fed.federatedTables.get('hospitals.genotypes')?.colocated).toBe('sample_id');
    for (const n of small.nodes) {
      const cfg = loadNodeConfig(n.configPath);
      expect(cfg.name).toBe(n.name);
      expect(cfg.listen).toEqual({ host: '127.0.0.1', port: n.port });
      expect(cfg.database).toBe(n.databasePath);
      for (const t of small.tables.filter((t) => t.party === n.name)) {
        const table = cfg.tables.get(t.name)!;
        expect(table.source).toBe(t.source === 'csv' ? t.csvPath : t.parquetPath);
        expect(table.format).toBe(t.source);
        for (const c of t.columns) expect(table.columns.get(c.name)?.level, `${n.name}.${t.name}.${c.name}`).toBe(c.policy);
      }
      expect(cfg.gateway?.auth).toBe(n.gateway ? 'trust' : undefined);
    }
  });

  it('with 100 lenders (lender_001 …): the first lender serves the dedupe and the first three hold key shares', async () => {
    const dirD = join(root, 'd');
    const big = await generateDemo(dirD, 44, { lenders: 100 });
    expect(big.tables.filter((t) => t.name === 'applications')).toHaveLength(100);
    expect(big.nodes.filter((n) => n.gateway).map((n) => n.name)).toEqual(['bank_a', 'lender_001']);
    expect(big.nodes.filter((n) => n.keyHolder).map((n) => n.name)).toEqual(['lender_001', 'lender_002', 'lender_003']);
    // The federation config validates: the dedupe needs at least three key holders.
    const { loadFederationConfig } = await import('../connectors/config.js');
    const fed = loadFederationConfig(join(dirD, 'federation.yaml'));
    expect(fed.federatedTables.get('alliance.applications')?.parties).toHaveLength(100);
  }, 60_000);

  it('lists the nodes for the launcher', () => {
    const listing = demoNodes(dirC);
    expect(listing.nodes.map((n) => n.name)).toEqual(small.nodes.map((n) => n.name));
    expect(listing.nodes[0]).toMatchObject({ name: 'hub', role: 'hub', port: 7100 });
    expect(listing.nodes.find((n) => n.name === 'bank_a')).toMatchObject({ port: 7101, configPath: join(dirC, 'bank_a.node.yaml') });
    expect(listing.nodes.map((n) => n.port)).toEqual(listing.nodes.map((_, i) => 7100 + i));
    expect(listing.gateway).toMatchObject({ node: 'bank_a', host: '127.0.0.1', port: 5433, user: 'analyst', password: 'analyst', auth: 'trust' });
    expect(listing.gateway.url).toBe('postgres://analyst:analyst@127.0.0.1:5433/veilsql');
  });

  it('builds the overlaps each scenario needs', async () => {
    const norm = `lower(trim(nfc_normalize(id_key)))`;
    const overlap = await rows(
      `WITH c AS (SELECT DISTINCT ${norm} AS k FROM read_parquet(${parquet('bank_a', 'customers')})),
            t AS (SELECT DISTINCT ${norm} AS k FROM read_parquet(${parquet('telco', 'users')}) WHERE id_key IS NOT NULL)
       SELECT (SELECT count(*) FROM c) AS customers, (SELECT count(*) FROM c JOIN t USING (k)) AS both,
              (SELECT count(*) FROM c JOIN (SELECT DISTINCT id_key AS k FROM read_parquet(${parquet('telco', 'users')})) r USING (k)) AS raw_both`,
    );
    const { customers, both, raw_both } = overlap[0] as Record<string, string>;
    const share = Number(both) / Number(customers);
    expect(share).toBeGreaterThan(0.45);
    expect(share).toBeLessThan(0.55);
    expect(Number(both)).toBe(demo.facts.bankACustomersAtTelco);
    expect(Number(raw_both)).toBeLessThan(Number(both)); // normalisation matters

    for (const bank of ['bank_b', 'bank_c']) {
      const hits = await rows(
        `SELECT count(DISTINCT ${norm}) AS n FROM read_parquet(${parquet('bank_a', 'applicants')})
         WHERE ${norm} IN (SELECT ${norm} FROM read_parquet(${parquet(bank, 'blacklist')}))`,
      );
      expect(Number(hits[0].n), bank).toBeGreaterThan(0);
    }
    expect(demo.facts.applicantsOnBankBBlacklist).toBeGreaterThan(0);

    const lenderFiles = demo.tables.filter((t) => t.name === 'applications');
    const union = lenderFiles.map((t) => `SELECT ${sqlString(t.party)} AS party, id_key FROM read_parquet(${sqlString(t.parquetPath)})`).join(' UNION ALL ');
    const multi = await rows(
      `SELECT count(*) AS persons, max(lenders) AS most FROM (
         SELECT ${norm} AS k, count(DISTINCT party) AS lenders FROM (${union}) WHERE id_key IS NOT NULL GROUP BY 1 HAVING count(DISTINCT party) > 1)`,
    );
    expect(Number(multi[0].persons)).toBe(demo.facts.crossLenderPersons);
    expect(Number(multi[0].persons)).toBeGreaterThan(100);
    expect(Number(multi[0].most)).toBeGreaterThanOrEqual(5);
    expect(normalizeKey('  Id123 ')).toBe('id123');
  });

  it('shows the planted chr-6 association in a plaintext allelic chi-square', async () => {
    const hospitals = demo.federatedTables.find((f) => f.qualifiedName === 'hospitals.genotypes')!.parties;
    const files = (table: string) => `read_parquet([${hospitals.map((h) => parquet(h, table)).join(', ')}])`;
    const top = await rows(
      `WITH counts AS (
         SELECT g.snp_id,
                sum(g.dosage) FILTER (WHERE s.pheno = 2)::DOUBLE AS a, (2 * count(g.dosage) FILTER (WHERE s.pheno = 2) - sum(g.dosage) FILTER (WHERE s.pheno = 2))::DOUBLE AS b,
                sum(g.dosage) FILTER (WHERE s.pheno = 1)::DOUBLE AS c, (2 * count(g.dosage) FILTER (WHERE s.pheno = 1) - sum(g.dosage) FILTER (WHERE s.pheno = 1))::DOUBLE AS d
         FROM ${files('genotypes')} g JOIN ${files('samples')} s USING (sample_id) GROUP BY g.snp_id)
       SELECT v.chr, v.rsid, v.bp, (a + b + c + d) * (a * d - b * c) ^ 2 / nullif((a + b) * (c + d) * (a + c) * (b + d), 0) AS chisq
       FROM counts JOIN read_parquet(${parquet('hospital_1', 'variants')}) v USING (snp_id)
       ORDER BY chisq DESC NULLS LAST LIMIT 12`,
    );
    const planted = new Set(demo.facts.plantedSnps);
    const top5 = top.slice(0, 5);
    for (const r of top5) {
      expect(r.chr).toBe('6');
      expect(planted.has(String(r.rsid))).toBe(true);
      expect(Number(r.bp)).toBeGreaterThanOrEqual(30_000_000);
      expect(Number(r.bp)).toBeLessThanOrEqual(33_000_000);
      expect(Number(r.chisq)).toBeGreaterThan(29.7); // p < 5e-8, genome-wide significance
    }
    const best = Number(top[0].chisq);
    const bestNull = Number(top.find((r) => !planted.has(String(r.rsid)))?.chisq ?? 0);
    expect(best).toBeGreaterThan(3 * bestNull);

    const missing = await rows(`SELECT count(*) FILTER (WHERE dosage IS NULL) AS n, count(*) AS total FROM ${files('genotypes')}`);
    const rate = Number(missing[0].n) / Number(missing[0].total);
    expect(rate).toBeGreaterThan(0.005);
    expect(rate).toBeLessThan(0.03);
  });

  it('keeps genotypes in Hardy–Weinberg proportions at null SNPs', async () => {
    const hwe = await rows(
      `WITH g AS (SELECT snp_id, count(*) FILTER (WHERE dosage = 0)::DOUBLE n0, count(*) FILTER (WHERE dosage = 1)::DOUBLE n1,
                         count(*) FILTER (WHERE dosage = 2)::DOUBLE n2 FROM read_parquet(${parquet('hospital_3', 'genotypes')}) GROUP BY snp_id),
            e AS (SELECT *, n0 + n1 + n2 AS n, (2 * n2 + n1) / (2 * (n0 + n1 + n2)) AS p FROM g)
       SELECT count(*) FILTER (WHERE p > 0.05 AND p < 0.95) AS tested,
              count(*) FILTER (WHERE p > 0.05 AND p < 0.95 AND
                (n1 - 2 * n * p * (1 - p)) ^ 2 / (2 * n * p * (1 - p)) + (n2 - n * p * p) ^ 2 / (n * p * p) + (n0 - n * (1 - p) ^ 2) ^ 2 / (n * (1 - p) ^ 2) > 10.83) AS rejected
       FROM e`,
    );
    const tested = Number(hwe[0].tested);
    expect(tested).toBeGreaterThan(400);
    expect(Number(hwe[0].rejected)).toBeLessThan(tested * 0.01 + 3); // α = 0.001
  });
});

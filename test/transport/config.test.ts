/**
 * federation.yaml / node.yaml loading (SPEC.md §2): the typed result of a valid pair, and
 * precise F0000 errors (file:line:col, YAML path, what is wrong, "did you mean") for bad ones.
 */
import { availableParallelism } from 'node:os';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFederationConfig, loadNodeConfig } from '../../connectors/config.js';
import { SqlError } from '../../parser/errors.js';

const FEDERATION = `name: demo
ca: certs/ca.pem
nodes:
  bank_a:  { url: https://127.0.0.1:7101, cert: certs/bank_a.pem }
  telco:   { url: https://127.0.0.1:7102, cert: certs/telco.pem }
  hospital_1: { url: https://127.0.0.1:7103, cert: certs/h1.pem }
  hospital_2: { url: https://127.0.0.1:7104, cert: certs/h2.pem }
  hub:     { url: https://127.0.0.1:7100, cert: certs/hub.pem, role: hub }
federated_tables:
  hospitals.genotypes: { table: genotypes, parties: [hospital_1, hospital_2], colocated: sample_id }
`;

const NODE = `name: bank_a
federation: ../federation.yaml
listen: 127.0.0.1:7101
key: certs/bank_a.key
database: data/bank_a.duckdb
tables:
  customers:
    source: data/bank_a/customers.csv
    columns:
      customer_id: private
      id_key:
        level: join_key
        normalize: { trim: true, unicode: NFC, case: lower }
      region:      public
      balance:     aggregate
      is_fraud:    dp
    min_group: 10
    grants: { telco: { balance: private } }
  accounts:
    source: accounts.parquet
  legacy:
    format: table
    source: raw_legacy
privacy:
  budget: { epsilon: 10.0, delta: 1e-6, period: 30d }
gateway:
  listen: 127.0.0.1:5433
  users: { analyst: { password: analyst } }
`;

const dir = mkdtempSync(join(tmpdir(), 'veilsql-config-'));
const fedPath = join(dir, 'federation.yaml');
const nodePath = join(dir, 'bank_a', 'node.yaml');

afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(() => {
  writeFileSync(fedPath, FEDERATION);
  // node.yaml lives in a subdirectory: its relative paths resolve against that directory.
  mkdirSync(join(dir, 'bank_a'));
  writeFileSync(nodePath, NODE);
});

function errorOf(f: () => unknown): SqlError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(SqlError);
    expect((e as SqlError).sqlstate).toBe('F0000');
    return e as SqlError;
  }
  throw new Error('expected a config error');
}

describe('valid configuration', () => {
  it('loads the federation with absolute paths and defaults', () => {
    const f = loadFederationConfig(fedPath);
    expect(f.name).toBe('demo');
    expect(f.ca).toBe(join(dir, 'certs/ca.pem'));
    expect(f.caKey).toBe(join(dir, 'certs/ca.key'));
    expect(f.nodes.get('telco')).toEqual({ name: 'telco', url: 'https://127.0.0.1:7102', cert: join(dir, 'certs/telco.pem'), role: 'party' });
    expect(f.nodes.get('hub')!.role).toBe('hub');
    expect(f.federatedTables.get('hospitals.genotypes')).toEqual({
      schema: 'hospitals', name: 'genotypes', table: 'genotypes', parties: ['hospital_1', 'hospital_2'], colocated: 'sample_id',
    });
  });

  it('loads node.yaml: policies, normalization, grants, budget, gateway', () => {
    const n = loadNodeConfig(nodePath);
    const base = join(dir, 'bank_a');
    expect(n.name).toBe('bank_a');
    expect(n.federation.path).toBe(fedPath);
    expect(n.listen).toEqual({ host: '127.0.0.1', port: 7101 });
    expect(n.key).toBe(join(base, 'certs/bank_a.key'));
    expect(n.database).toBe(join(base, 'data/bank_a.duckdb'));
    const customers = n.tables.get('customers')!;
    expect(customers.source).toBe(join(base, 'data/bank_a/customers.csv'));
    expect(customers.format).toBe('csv');
    expect(customers.columns.get('balance')).toEqual({ level: 'aggregate' });
    expect(customers.columns.get('id_key')).toEqual({ level: 'join_key', normalization: { trim: true, unicode: 'NFC', case: 'lower' } });
    expect(customers.minGroup).toBe(10);
    expect(customers.grants.get('telco')!.get('balance')).toBe('private');
    expect(n.tables.get('accounts')!.format).toBe('parquet');
    expect(n.tables.get('accounts')!.minGroup).toBe(10);
    expect(n.tables.get('legacy')).toMatchObject({ format: 'table', sourceTable: 'raw_legacy' });
    expect(n.privacy).toEqual({ epsilon: 10, delta: 1e-6, periodSeconds: 2_592_000 });
    expect(n.gateway).toMatchObject({ host: '127.0.0.1', port: 5433, auth: 'scram-sha-256', fragmentTimeoutMs: 30_000 });
    expect(n.gateway!.users.get('analyst')).toEqual({ password: 'analyst' });
  });

  it('fills the conventions: key next to the cert, listen from the url, in-memory database', () => {
    const n = loadNodeConfig(join(dir, 'telco.yaml'), 'name: telco\nfederation: federation.yaml\ngateway: { listen: "[::1]:0", auth: trust, fragment_timeout: 1.5s }\n');
    expect(n.key).toBe(join(dir, 'certs/telco.key'));
    expect(n.listen).toEqual({ host: '127.0.0.1', port: 7102 });
    expect(n.database).toBe(':memory:');
    expect(n.tables.size).toBe(0);
    expect(n.gateway).toMatchObject({ host: '::1', port: 0, auth: 'trust', fragmentTimeoutMs: 1500 });
  });
});

describe('configuration errors name file, line:col, path and problem', () => {
  const fed = (text: string) => errorOf(() => loadFederationConfig(join(dir, 'bad-federation.yaml'), text)).message;
  const node = (text: string) => errorOf(() => loadNodeConfig(join(dir, 'node.yaml'), `name: bank_a\nfederation: federation.yaml\n${text}`)).message;
  const F = join(dir, 'bad-federation.yaml');
  const N = join(dir, 'node.yaml');

  it('missing required key', () => {
    expect(fed('name: demo\nnodes: { a: { url: https://h:1, cert: a.pem } }\n')).toBe(`${F}:1:1: (top level): missing required key "ca"`);
  });

  it('unknown key with a suggestion', () => {
    const e = errorOf(() => loadFederationConfig(F, 'name: demo\nca: ca.pem\nnodez: {}\n'));
    expect(e.message).toBe(`${F}:3:1: nodez: unknown key "nodez" (did you mean "nodes"?)`);
    expect(e.hint).toBe('known keys: name, ca, ca_key, nodes, federated_tables');
  });

  it('node url must be https://host:port', () => {
    expect(fed('name: demo\nca: ca.pem\nnodes:\n  telco: { url: "http://10.0.0.2:7102", cert: t.pem }\n')).toBe(
      `${F}:4:17: nodes.telco.url: url "http://10.0.0.2:7102" must use https:// (nodes talk over mutual TLS)`,
    );
  });

  it('federated table party that is not a node', () => {
    expect(fed(`${FEDERATION.replace('parties: [hospital_1, hospital_2]', 'parties: [hospital_1, hospitl_2]')}`)).toMatch(
      new RegExp(`^${F}:10:\\d+: federated_tables\\["hospitals.genotypes"\\]\\.parties\\[1\\]: unknown node "hospitl_2" \\(did you mean "hospital_2"\\?\\)$`),
    );
  });

  it('federated table key must be schema.name', () => {
    expect(fed('name: demo\nca: ca.pem\nnodes: { a: { url: "https://h:1", cert: a.pem } }\nfederated_tables:\n  genotypes: { table: g, parties: [a] }\n')).toBe(
      `${F}:5:3: federated_tables.genotypes: federated table "genotypes" must be written schema.name, e.g. hospitals.genotypes`,
    );
  });

  it('node name not in the federation', () => {
    const e = errorOf(() => loadNodeConfig(N, 'name: bank_b\nfederation: federation.yaml\n'));
    expect(e.message).toBe(`${N}:1:7: name: node "bank_b" is not a node of federation "demo" (did you mean "bank_a"?)`);
  });

  it('unknown policy level', () => {
    expect(node('tables:\n  customers:\n    columns:\n      balance: agregate\n')).toBe(
      `${N}:6:16: tables.customers.columns.balance: unknown policy level "agregate" (did you mean "aggregate"?)`,
    );
  });

  it('misspelled table key', () => {
    expect(node('tables:\n  customers:\n    source: c.csv\n    colums: { a: public }\n')).toBe(
      `${N}:6:5: tables.customers.colums: unknown key "colums" (did you mean "columns"?)`,
    );
  });

  it('min_group out of range', () => {
    expect(node('tables:\n  customers:\n    min_group: 0\n')).toBe(`${N}:5:16: tables.customers.min_group: expected an integer between 1 and 9007199254740991, got 0`);
  });

  it('source whose format cannot be inferred', () => {
    expect(node('tables:\n  customers:\n    source: data/customers.json\n')).toBe(
      `${N}:5:13: tables.customers.source: cannot tell the format of "data/customers.json" from its extension`,
    );
  });

  it('budget period that is not a duration', () => {
    expect(node('privacy:\n  budget: { epsilon: 1, delta: 0, period: 30 days }\n')).toBe(
      `${N}:4:43: privacy.budget.period: expected a duration like 30s, 12h or 30d, got "30 days"`,
    );
  });

  it('delta outside [0, 1)', () => {
    expect(node('privacy:\n  budget: { epsilon: 1, delta: 1.5, period: 1d }\n')).toBe(`${N}:4:32: privacy.budget.delta: delta must be in [0, 1), got 1.5`);
  });

  it('unknown gateway auth method', () => {
    expect(node('gateway: { listen: "127.0.0.1:5433", auth: md5 }\n')).toBe(
      `${N}:3:44: gateway.auth: unknown auth method "md5"`,
    );
  });

  it('gateway workers: a count of processes or auto', () => {
    expect(node('gateway: { listen: "127.0.0.1:5433", auth: trust, workers: 0 }\n')).toBe(`${N}:3:60: gateway.workers: expected an integer between 1 and 128, got 0`);
    expect(node('gateway: { listen: "127.0.0.1:5433", auth: trust, workers: many }\n')).toBe(`${N}:3:60: gateway.workers: expected a number of processes or auto, got "many"`);
    const parsed = (w: string) => loadNodeConfig(N, `name: bank_a\nfederation: federation.yaml\ngateway: { listen: "127.0.0.1:5433", auth: trust${w} }\n`).gateway!.workers;
    expect(parsed('')).toBe(1);
    expect(parsed(', workers: 3')).toBe(3);
    expect(parsed(', workers: auto')).toBe(Math.min(availableParallelism(), 128));
  });

  it('scram-sha-256 without users', () => {
    const e = errorOf(() => loadNodeConfig(N, 'name: bank_a\nfederation: federation.yaml\ngateway: { listen: "127.0.0.1:5433" }\n'));
    expect(e.message).toBe(`${N}:3:10: gateway: scram-sha-256 authentication needs at least one user`);
    expect(e.hint).toMatch(/auth: trust/);
  });

  it('grant to a node that does not exist', () => {
    expect(node('tables:\n  customers:\n    grants: { telko: { balance: public } }\n')).toBe(
      `${N}:5:15: tables.customers.grants.telko: grant for unknown node "telko" (did you mean "telco"?)`,
    );
  });

  it('normalization on a column that is not a key', () => {
    expect(node('tables:\n  customers:\n    columns:\n      balance: { level: aggregate, normalize: { trim: true } }\n')).toBe(
      `${N}:6:47: tables.customers.columns.balance.normalize: normalize only applies to join keys, but the level is aggregate`,
    );
  });

  it('unknown case rule', () => {
    expect(node('tables:\n  customers:\n    columns:\n      id_key: { level: join_key, normalize: { case: title } }\n')).toBe(
      `${N}:6:53: tables.customers.columns.id_key.normalize.case: unknown case rule "title"`,
    );
  });

  it('listen without a port', () => {
    expect(node('listen: localhost\n')).toBe(`${N}:3:9: listen: expected host:port (e.g. 127.0.0.1:7101), got "localhost"`);
  });

  it('YAML syntax error with its position', () => {
    expect(node('tables:\n  customers: [a,\n  b: c\n')).toMatch(new RegExp(`^${N}:5:3: invalid YAML in node config: Flow sequence`));
  });

  it('a federation file that does not exist', () => {
    const e = errorOf(() => loadNodeConfig(N, 'name: bank_a\nfederation: nowhere.yaml\n'));
    expect(e.message).toBe(`cannot read federation config ${join(dir, 'nowhere.yaml')}: no such file`);
  });
});

/**
 * Renders the demo's `federation.yaml` and one `<node>.node.yaml` per node in the format of
 * SPEC.md §2. Node files live next to federation.yaml, so every path in them reads exactly like the
 * SPEC example (`federation: federation.yaml`, `key: certs/bank_a.key`, `database:
 * data/bank_a.duckdb`, `source: data/bank_a/customers.parquet`). Rendering is hand-written (not a
 * YAML library's dump) so the layout is stable and byte-identical for a given seed; the test
 * suite parses every file back with `yaml`.
 *
 * Column policies are written as `column: level`, or for join keys with a normalisation as
 * `column: { level: join_key, normalize: { trim: true, unicode: NFC, case: lower } }`.
 */
import type { KeyNormalization } from '../../planner/catalog-types.js';
import type { DemoFederatedTable, DemoGateway, DemoNode, DemoTable } from './model.js';

export const FEDERATION_FILE = 'federation.yaml';
export const NODE_FILE_SUFFIX = '.node.yaml';

/** Plain scalar when unambiguous, otherwise a double-quoted (JSON-compatible) scalar. */
export function yamlScalar(value: string | number | boolean): string {
  if (typeof value !== 'string') return String(value);
  const reserved = /^(true|false|null|yes|no|on|off|~|[-+]?[0-9.].*)$/i;
  if (/^[A-Za-z_][A-Za-z0-9_./:-]*$/.test(value) && !reserved.test(value)) return value;
  return JSON.stringify(value);
}

function flowList(items: readonly string[]): string {
  return `[${items.map(yamlScalar).join(', ')}]`;
}

function normalization(n: KeyNormalization): string {
  return `{ trim: ${n.trim}, unicode: ${n.unicode}, case: ${n.case} }`;
}

export function renderFederationYaml(name: string, seed: number, nodes: readonly DemoNode[], federated: readonly DemoFederatedTable[]): string {
  const width = Math.max(...nodes.map((n) => n.name.length)) + 1;
  const lines = [
    `# VeilSQL demo federation, generated with seed ${seed}. Public: identical at every node.`,
    `# Paths are relative to this file. Certificates are created by \`veilsql init ${FEDERATION_FILE}\`.`,
    `name: ${yamlScalar(name)}`,
    'ca: certs/ca.pem',
    'nodes:',
  ];
  for (const n of nodes) {
    const role = n.role === 'hub' ? ', role: hub' : n.keyHolder ? ', role: [party, key_holder]' : '';
    lines.push(`  ${`${n.name}:`.padEnd(width)} { url: ${n.url}, cert: certs/${n.name}.pem${role} }`);
  }
  lines.push('federated_tables:            # horizontal federation: same schema at every listed party');
  for (const f of federated) {
    const colocated = f.colocated ? `, colocated: ${yamlScalar(f.colocated)}` : '';
    const dedupe = f.dedupe ? `, dedupe: { key: ${yamlScalar(f.dedupe.key)}, time: ${yamlScalar(f.dedupe.time)}, hub: ${yamlScalar(f.dedupe.hub)} }` : '';
    lines.push(`  ${f.qualifiedName}: { table: ${yamlScalar(f.table)}, parties: ${flowList(f.parties)}${colocated}${dedupe} }`);
  }
  return lines.join('\n') + '\n';
}

function renderGateway(g: DemoGateway): string[] {
  return [
    'gateway:                              # Postgres wire endpoint for this organisation\'s analysts',
    `  listen: ${g.host}:${g.port}`,
    `  auth: ${g.auth}`,
    `  users: { ${yamlScalar(g.user)}: { password: ${yamlScalar(g.password)} } }`,
  ];
}

export function renderNodeYaml(node: DemoNode, tables: readonly DemoTable[], seed: number): string {
  const lines = [
    `# VeilSQL demo node ${node.name} (${node.role}), generated with seed ${seed}. Private to this node.`,
    '# Paths are relative to this file; the database is created by the node if absent.',
    `name: ${yamlScalar(node.name)}`,
    `federation: ${FEDERATION_FILE}`,
    `listen: ${node.host}:${node.port}`,
    `key: certs/${node.name}.key`,
    `database: data/${node.name}.duckdb`,
  ];
  if (tables.length === 0) lines.push('tables: {}');
  else lines.push('tables:');
  for (const t of tables) {
    lines.push(`  ${yamlScalar(t.name)}:`);
    lines.push(`    source: ${t.source === 'csv' ? t.csvRelPath : t.parquetRelPath}`);
    lines.push('    columns:');
    const width = Math.max(...t.columns.map((c) => c.name.length)) + 1;
    for (const c of t.columns) {
      const key = `${yamlScalar(c.name)}:`.padEnd(width);
      const value = c.normalization ? `{ level: ${c.policy}, normalize: ${normalization(c.normalization)} }` : c.policy;
      lines.push(`      ${key} ${value}`);
    }
    lines.push(`    min_group: ${t.minGroup}`);
    const grants = Object.entries(t.grants);
    if (grants.length > 0) {
      const body = grants
        .map(([req, cols]) => `${yamlScalar(req)}: { ${Object.entries(cols).map(([c, l]) => `${yamlScalar(c)}: ${l}`).join(', ')} }`)
        .join(', ');
      lines.push(`    grants: { ${body} }   # per-requester overrides`);
    }
  }
  if (node.role === 'party') {
    lines.push('privacy:');
    lines.push('  budget: { epsilon: 10.0, delta: 1e-6, period: 30d }   # per requester, per this party');
  }
  if (node.gateway) lines.push(...renderGateway(node.gateway));
  return lines.join('\n') + '\n';
}

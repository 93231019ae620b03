/**
 * federation.yaml for the dedupe: node roles (`key_holder`, alone or with `party`; the hub
 * alone) and a federated table's `dedupe:` section with its defaults — and precise F0000
 * errors (file:line, YAML path, the problem) for everything that would make the dedupe unsafe
 * or unusable: fewer than 3 key holders, a threshold outside 2…n, a hub that is not a hub or
 * that also holds keys, unknown keys.
 */
import { describe, expect, it } from 'vitest';
import { loadFederationConfig } from '../../connectors/config.js';
import { SqlError } from '../../parser/errors.js';

const base = (roles: Record<string, string>, dedupe: string) => `
name: alliance
ca: certs/ca.pem
nodes:
  hub:        { url: https://127.0.0.1:7100, cert: certs/hub.pem${roles.hub ?? ', role: hub'} }
  regulator:  { url: https://127.0.0.1:7101, cert: certs/regulator.pem${roles.regulator ?? ', role: key_holder'} }
  lender_01:  { url: https://127.0.0.1:7102, cert: certs/lender_01.pem${roles.lender_01 ?? ', role: [party, key_holder]'} }
  lender_02:  { url: https://127.0.0.1:7103, cert: certs/lender_02.pem${roles.lender_02 ?? ', role: [party, key_holder]'} }
  lender_03:  { url: https://127.0.0.1:7104, cert: certs/lender_03.pem }
federated_tables:
  alliance.applications:
    table: applications
    parties: [lender_01, lender_02, lender_03]
${dedupe}
`;

const load = (text: string) => loadFederationConfig('/tmp/federation.yaml', text);

function configError(text: string): SqlError {
  try {
    load(text);
  } catch (e) {
    expect(e).toBeInstanceOf(SqlError);
    expect((e as SqlError).sqlstate).toBe('F0000');
    return e as SqlError;
  }
  throw new Error('expected a configuration error');
}

describe('dedupe configuration', () => {
  it('reads roles and the dedupe section with its defaults', () => {
    const f = load(base({}, '    dedupe: { key: id_key, time: applied_at }'));
    expect(f.nodes.get('regulator')).toMatchObject({ role: 'key_holder', keyHolder: true });
    expect(f.nodes.get('lender_01')).toMatchObject({ role: 'party', keyHolder: true });
    expect(f.nodes.get('lender_03')!.keyHolder).toBeUndefined();
    expect(f.federatedTables.get('alliance.applications')!.dedupe).toEqual({
      hub: 'hub', keyColumn: 'id_key', timeColumn: 'applied_at', bucketSeconds: 86_400, epochSeconds: 604_800, threshold: 2,
      keyHolders: ['lender_01', 'lender_02', 'regulator'], syncSeconds: 30, graceSeconds: 3_600,
    });
    const g = load(base({}, '    dedupe: { hub: hub, key: id_key, time: applied_at, bucket: 1h, epoch: 30d, threshold: 3, sync: 10s, grace: 0s }'));
    expect(g.federatedTables.get('alliance.applications')!.dedupe).toMatchObject({ bucketSeconds: 3600, epochSeconds: 2_592_000, threshold: 3, syncSeconds: 10, graceSeconds: 0 });
  });

  it('refuses unsafe or unusable settings, naming file, line and path', () => {
    expect(configError(base({ regulator: '' }, '    dedupe: { key: id_key, time: applied_at }')).message).toMatch(
      /federation\.yaml:\d+:\d+: federated_tables\["alliance\.applications"\]\.dedupe: multi-lender dedupe of alliance\.applications needs at least 3 key holders .* found 2/,
    );
    expect(configError(base({}, '    dedupe: { key: id_key, time: applied_at, threshold: 1 }')).message).toMatch(/dedupe\.threshold: expected an integer between 2 and 3, got 1/);
    expect(configError(base({}, '    dedupe: { key: id_key, time: applied_at, threshold: 4 }')).message).toMatch(/between 2 and 3, got 4/);
    expect(configError(base({}, '    dedupe: { hub: regulator, key: id_key, time: applied_at }')).message).toMatch(/dedupe\.hub: node "regulator" is not a node with role hub/);
    expect(configError(base({}, '    dedupe: { key: id_key }')).message).toMatch(/missing required key "time"/);
    expect(configError(base({}, '    dedupe: { key: id_key, time: applied_at, bucket: 90m, epochs: 7d }')).message).toMatch(/unknown key "epochs" \(did you mean "epoch"\?\)/);
    expect(configError(base({ hub: ', role: [hub, key_holder]' }, '')).message).toMatch(/nodes\.hub\.role: the hub cannot have another role/);
    expect(configError(base({ regulator: ', role: [key_holder, key_holder]' }, '')).message).toMatch(/a role is listed twice/);
    expect(configError(base({ regulator: ', role: auditor' }, '')).message).toMatch(/unknown role "auditor"/);
  });

  it('a key holder without data cannot be a party of a federated table', () => {
    const text = base({}, '').replace('parties: [lender_01, lender_02, lender_03]', 'parties: [lender_01, regulator]');
    expect(configError(text).message).toMatch(/node "regulator" is a key_holder, not a party that holds data/);
  });
});

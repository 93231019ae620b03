/**
 * The demo federation: seeded synthetic data and configs for the seed report's scenarios
 * (`generateDemo`), and the node listing the `veilsql demo` launcher starts (`demoNodes`).
 */
export { generateDemo, DEFAULT_AS_OF, DEFAULT_SIZES, DEMO_FEDERATION_NAME } from './generate.js';
export type { DemoOptions, DemoSizes } from './generate.js';
export { demoNodes } from './nodes.js';
export type { DemoNodeEntry, DemoNodesListing } from './nodes.js';
export { FEDERATION_FILE, NODE_FILE_SUFFIX } from './configs.js';
export { normalizeKey } from './people.js';
export type {
  DemoColumn,
  DemoDescription,
  DemoFacts,
  DemoFederatedTable,
  DemoGateway,
  DemoNode,
  DemoTable,
} from './model.js';

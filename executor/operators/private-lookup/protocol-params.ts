/** What the requester sends the owner to open a `private-lookup/3` session (JSON). */
import type { ColumnUse } from '../../../planner/policy.js';

export const PRIVATE_LOOKUP_PROTOCOL = 'private-lookup/3';

export interface LookupRequestParams {
  /** The owner's input: key columns then label columns, all cast to VARCHAR. */
  sql: string;
  /** Per input column: `secure_key` (a key, never revealed) or `lookup_label` (revealed on a match). */
  uses: ColumnUse[];
  /** For each key column, the owner's table and column it comes from (for its normalisation rule). */
  keySources: { table: string; column: string }[];
}

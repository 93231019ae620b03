/**
 * What a party publishes about itself to a requester (SPEC.md §2): its tables, their columns
 * with DuckDB types, and the column policy levels that apply to *this* requester (per-requester
 * grants already applied by the party). The planner builds its catalog from these.
 */

/**
 * Column policy levels, strongest last (SPEC.md §2):
 * - `public`    may be revealed in plaintext and used anywhere;
 * - `lookup`    revealed only as the label of a PRIVATE LOOKUP match (per key the requester
 *               already holds), usable for nothing else;
 * - `join_key`  usable only as a SECURE JOIN / PRIVATE LOOKUP key, never revealed;
 * - `aggregate` only inside aggregates computed over groups of >= min_group rows, totals only;
 * - `dp`        only through DP aggregates;
 * - `private`   never usable by another party's queries.
 */
export type PolicyLevel = 'public' | 'lookup' | 'join_key' | 'aggregate' | 'dp' | 'private';

export const POLICY_LEVELS: readonly PolicyLevel[] = ['public', 'lookup', 'join_key', 'aggregate', 'dp', 'private'];

/** How both sides of a SECURE JOIN canonicalise a key column before hashing it. */
export interface KeyNormalization {
  trim: boolean;
  /** Unicode normalisation form applied to text keys. */
  unicode: 'NFC' | 'NFKC' | 'none';
  case: 'lower' | 'upper' | 'preserve';
}

export interface PublishedColumn {
  name: string;
  /** DuckDB type as DuckDB prints it: `BIGINT`, `DECIMAL(12,2)`, `VARCHAR`, `DATE`, `INTEGER[]`. */
  type: string;
  policy: PolicyLevel;
  nullable: boolean;
  normalization?: KeyNormalization;
}

export interface PublishedTable {
  name: string;
  columns: PublishedColumn[];
  /** Smallest group an aggregate over `aggregate` columns may release. */
  minGroup: number;
  /** Approximate row count, for planning and EXPLAIN. */
  rowCount: number;
}

export interface PartyCatalog {
  party: string;
  tables: PublishedTable[];
}

/** A horizontally partitioned table: the same schema at every listed party (SPEC.md §2). */
export interface FederatedTableDef {
  /** Schema (federation) name, e.g. `hospitals`. */
  schema: string;
  /** Table name as queried, e.g. `genotypes`. */
  name: string;
  /** Table name at each member party. */
  table: string;
  parties: string[];
  /** Column on which joins between federated tables of the same parties run inside each party. */
  colocated?: string;
}

/**
 * A member of a federated table whose catalog this gateway could not fetch (the party is down
 * or unreachable). The table still resolves over the other members so that operators which
 * never read members at query time (the dedupe hub) keep working; every plan that does read
 * the members is refused (planner/unavailable-members.ts).
 */
export interface UnavailableMember {
  party: string;
  /** Why its catalog could not be fetched, when known (e.g. `did not answer within 5000 ms`). */
  reason?: string;
}

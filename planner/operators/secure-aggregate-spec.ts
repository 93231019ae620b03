/**
 * The parameters of a secure-aggregation stage, shared by the planner (which builds them), the
 * requester's runner and each party's handler (which read them). Plain JSON.
 *
 * Each party computes, per group of its input, a list of *values* (partial counts and sums as
 * integers) and contributes them to the secure sum; the requester turns the totals into the
 * aggregate columns (*outputs*). A value's `limbs` is its ring width in 32-bit words, chosen
 * from declared bounds (column types × row counts) so that the signed total cannot wrap; every
 * party checks its own partial against the per-party bound and refuses if it is exceeded.
 */

/** How a party turns a numeric column into integers that sum exactly. */
export type Encoding =
  /** integers (and booleans) as they are */
  | 'int'
  /** DECIMAL(p, s): the unscaled integer value × 10^s */
  | 'decimal'
  /** FLOAT/DOUBLE: fixed point, round(x · 2^FIXED_POINT_BITS) */
  | 'fixed';

/** Fractional bits of the fixed-point encoding of FLOAT/DOUBLE values (resolution ≈ 1e-6). */
export const FIXED_POINT_BITS = 20;

/** The eight per-SNP counts a GWAS value block holds, in order (X, Y = the SNP's alleles by name). */
export const GWAS_PARTS = ['case_xx', 'case_xy', 'case_yy', 'ctrl_xx', 'ctrl_xy', 'ctrl_yy', 'all_x', 'all_called'] as const;

/**
 * The six per-SNP counts of an allelic-only block (every GWAS aggregate of the query is
 * GWAS_ALLELIC): allele counts of cases and controls instead of genotype counts — all that the
 * allelic test uses, so each party masks and sends 6 values per SNP instead of 8.
 */
export const ALLELE_PARTS = ['case_x', 'case_y', 'ctrl_x', 'ctrl_y', 'all_x', 'all_called'] as const;

/** What a GWAS value block counts: genotypes (`GWAS_PARTS`) or alleles (`ALLELE_PARTS`). */
export type GwasCounts = 'genotypes' | 'alleles';

export const gwasPartCount = (counts: GwasCounts): number => (counts === 'alleles' ? ALLELE_PARTS.length : GWAS_PARTS.length);

export type ValueSpec =
  | { op: 'count_star'; limbs: number }
  | { op: 'count'; column: number; limbs: number }
  | { op: 'sum' | 'sumsq'; column: number; encoding: Encoding; scale: number; limbs: number }
  /**
   * One of the GWAS counts (part = index into GWAS_PARTS, or ALLELE_PARTS when `counts` is
   * 'alleles') of the argument columns [allele1, allele2, genotype, phenotype]; the parts of a
   * block are consecutive values.
   */
  | { op: 'gwas'; part: number; counts: GwasCounts; columns: [number, number, number, number]; phenotype: 'plink' | 'boolean'; limbs: number };

export type OutputSpec =
  | { kind: 'count'; value: number }
  | { kind: 'sum'; sum: number; count: number; encoding: Encoding; scale: number }
  | { kind: 'avg'; sum: number; count: number; encoding: Encoding; scale: number }
  | { kind: 'var'; fn: 'var_pop' | 'var_samp' | 'stddev_pop' | 'stddev_samp'; sum: number; sumsq: number; count: number; encoding: Encoding; scale: number }
  /** `value` is the first of the block's GWAS counts (genotype or allele counts, see ValueSpec). */
  | { kind: 'gwas'; test: 'allelic' | 'model'; counts: GwasCounts; value: number };

export interface SecureAggregateParams {
  /** Party names, in protocol (contributor) order; `stage.partyInputs[i]` belongs to parties[i]. */
  parties: string[];
  /** The first `groupCount` columns of every party input are the GROUP BY keys. */
  groupCount: number;
  values: ValueSpec[];
  /** One per aggregate column of the stage, in order. */
  outputs: OutputSpec[];
  /** DuckDB type of each aggregate column of the stage. */
  outputTypes: string[];
  /** Index of the COUNT(*) value deciding group sizes. */
  countStar: number;
  /** Groups whose total COUNT(*) is below this are suppressed by the operator. */
  minGroup: number;
}

export const SECURE_AGGREGATE_OPERATOR = 'secure-aggregate';
/** Versioned protocol name (the party endpoint routes `/v1/protocol/<name>`, so no '/' in it). */
export const SECURE_AGGREGATE_PROTOCOL = 'secure-aggregate-v1';

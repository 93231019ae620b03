/**
 * Object identifiers of the emulated catalog. Built-in objects keep their real PostgreSQL OIDs
 * (pg_catalog is 11, pg_class is 1259, int4 is 23, …) because clients hard-code some of them;
 * every object VeilSQL adds (party and federation schemas, their tables, roles, the database)
 * gets an OID derived from its name, so the same name has the same OID on every refresh, in
 * every session and at every gateway of a federation. psql's `\d` depends on that: it looks a
 * table's OID up in one query and passes it back as a literal in the next eight.
 *
 * Derived OIDs live in [16384, 2^31): above Postgres' FirstNormalObjectId, and positive as a
 * signed int4, which is how the catalog tables store them (DuckDB has no unsigned oid type).
 */

export const FIRST_NORMAL_OID = 16384;
const OID_SPAN = 0x7fffffff - FIRST_NORMAL_OID;

/** Fixed OIDs of built-in objects, as in PostgreSQL. */
export const OID = {
  bootstrapRole: 10,
  pgCatalog: 11,
  public: 2200,
  informationSchema: 13207,
  heapAm: 2,
  defaultCollation: 100,
  cCollation: 950,
  pgClass: 1259,
  pgNamespace: 2615,
  pgProc: 1255,
  pgType: 1247,
  pgDatabase: 1262,
} as const;

/** FNV-1a, 32 bit, over the UTF-8 bytes of `text`. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The OID for a named object of one kind (`namespace`, `relation`, `role`, …). */
export function derivedOid(kind: string, name: string): number {
  return FIRST_NORMAL_OID + (fnv1a(`${kind}:${name}`) % OID_SPAN);
}

/**
 * Assigns derived OIDs to a set of names of one kind. Names are processed in sorted order and a
 * collision moves the later name to the next free OID, so the assignment depends only on the
 * set of names, never on the order they were discovered in.
 */
export class OidAllocator {
  private readonly used = new Set<number>();

  constructor(reserved: Iterable<number> = []) {
    for (const o of reserved) this.used.add(o);
  }

  assign(kind: string, names: Iterable<string>): Map<string, number> {
    const out = new Map<string, number>();
    for (const name of [...new Set(names)].sort()) {
      let oid = derivedOid(kind, name);
      while (this.used.has(oid)) oid = oid + 1 >= 0x7fffffff ? FIRST_NORMAL_OID : oid + 1;
      this.used.add(oid);
      out.set(name, oid);
    }
    return out;
  }
}

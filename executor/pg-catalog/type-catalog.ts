/**
 * The built-in types the emulated catalog describes: every OID the wire layer can put in a
 * RowDescription (`pg-types.ts`), the types of the catalog tables' own columns, their array
 * types, and the pseudo-types drivers look for. Values (OIDs, I/O function OIDs, lengths,
 * alignment, categories) are copied from PostgreSQL 15's pg_type and pg_proc, so a driver that
 * resolves a type by OID or by `typinput = 'array_in'::regproc` finds what real Postgres has.
 */

export interface PgTypeRow {
  oid: number;
  typname: string;
  typlen: number;
  typbyval: boolean;
  typtype: string;
  typcategory: string;
  typispreferred: boolean;
  typelem: number;
  typarray: number;
  typinput: number;
  typoutput: number;
  typreceive: number;
  typsend: number;
  typmodin: number;
  typmodout: number;
  typalign: string;
  typstorage: string;
  typcollation: number;
  /** What `format_type(oid, -1)` prints. */
  formatName: string;
}

export interface PgProcRow {
  oid: number;
  proname: string;
  /** Argument count and result type, enough for pg_proc lookups by drivers. */
  nargs: number;
  rettype: number;
}

/**
 * oid typname typlen typbyval typtype category preferred elem array in out recv send
 * modin modout align storage collation | format name. I/O functions are `oid:name`.
 */
const SCALARS = `
16 bool 1 t b B t 0 1000 1242:boolin 1243:boolout 2436:boolrecv 2437:boolsend 0 0 c p 0 | boolean
17 bytea -1 f b U f 0 1001 1244:byteain 31:byteaout 2412:bytearecv 2413:byteasend 0 0 i x 0 | bytea
18 char 1 t b Z f 0 1002 1245:charin 33:charout 2434:charrecv 2435:charsend 0 0 c p 0 | "char"
19 name 64 f b S f 18 1003 34:namein 35:nameout 2422:namerecv 2423:namesend 0 0 c p 950 | name
20 int8 8 t b N f 0 1016 460:int8in 461:int8out 2408:int8recv 2409:int8send 0 0 d p 0 | bigint
21 int2 2 t b N f 0 1005 38:int2in 39:int2out 2404:int2recv 2405:int2send 0 0 s p 0 | smallint
22 int2vector -1 f b A f 21 1006 40:int2vectorin 41:int2vectorout 2410:int2vectorrecv 2411:int2vectorsend 0 0 i p 0 | int2vector
23 int4 4 t b N f 0 1007 42:int4in 43:int4out 2406:int4recv 2407:int4send 0 0 i p 0 | integer
24 regproc 4 t b N f 0 1008 44:regprocin 45:regprocout 2444:regprocrecv 2445:regprocsend 0 0 i p 0 | regproc
25 text -1 f b S t 0 1009 46:textin 47:textout 2414:textrecv 2415:textsend 0 0 i x 100 | text
26 oid 4 t b N t 0 1028 1798:oidin 1799:oidout 2418:oidrecv 2419:oidsend 0 0 i p 0 | oid
28 xid 4 t b U f 0 1011 50:xidin 51:xidout 2440:xidrecv 2441:xidsend 0 0 i p 0 | xid
30 oidvector -1 f b A f 26 1013 54:oidvectorin 55:oidvectorout 2420:oidvectorrecv 2421:oidvectorsend 0 0 i p 0 | oidvector
114 json -1 f b U f 0 199 321:json_in 322:json_out 323:json_recv 324:json_send 0 0 i x 0 | json
194 pg_node_tree -1 f b Z f 0 0 195:pg_node_tree_in 196:pg_node_tree_out 197:pg_node_tree_recv 198:pg_node_tree_send 0 0 i x 100 | pg_node_tree
700 float4 4 t b N f 0 1021 200:float4in 201:float4out 2424:float4recv 2425:float4send 0 0 i p 0 | real
701 float8 8 t b N t 0 1022 214:float8in 215:float8out 2426:float8recv 2427:float8send 0 0 d p 0 | double precision
705 unknown -2 f p X f 0 0 109:unknownin 110:unknownout 2416:unknownrecv 2417:unknownsend 0 0 c p 0 | unknown
1033 aclitem 12 f b U f 0 1034 1031:aclitemin 1032:aclitemout 0:- 0:- 0 0 i p 0 | aclitem
1042 bpchar -1 f b S f 0 1014 1044:bpcharin 1045:bpcharout 2430:bpcharrecv 2431:bpcharsend 2913 2914 i x 100 | bpchar
1043 varchar -1 f b S f 0 1015 1046:varcharin 1047:varcharout 2432:varcharrecv 2433:varcharsend 2915 2916 i x 100 | character varying
1082 date 4 t b D f 0 1182 1084:date_in 1085:date_out 2468:date_recv 2469:date_send 0 0 i p 0 | date
1083 time 8 t b D f 0 1183 1143:time_in 1144:time_out 2470:time_recv 2471:time_send 2909 2910 d p 0 | time without time zone
1114 timestamp 8 t b D f 0 1115 1312:timestamp_in 1313:timestamp_out 2474:timestamp_recv 2475:timestamp_send 2905 2906 d p 0 | timestamp without time zone
1184 timestamptz 8 t b D t 0 1185 1150:timestamptz_in 1151:timestamptz_out 2476:timestamptz_recv 2477:timestamptz_send 2907 2908 d p 0 | timestamp with time zone
1186 interval 16 f b T t 0 1187 1160:interval_in 1161:interval_out 2478:interval_recv 2479:interval_send 2903 2904 d p 0 | interval
1700 numeric -1 f b N f 0 1231 1701:numeric_in 1702:numeric_out 2460:numeric_recv 2461:numeric_send 2917 2918 i m 0 | numeric
2205 regclass 4 t b N f 0 2210 2218:regclassin 2219:regclassout 2452:regclassrecv 2453:regclasssend 0 0 i p 0 | regclass
2206 regtype 4 t b N f 0 2211 2220:regtypein 2221:regtypeout 2454:regtyperecv 2455:regtypesend 0 0 i p 0 | regtype
2249 record -1 f p P f 0 2287 2290:record_in 2291:record_out 2402:record_recv 2403:record_send 0 0 d x 0 | record
2276 any 4 t p P f 0 0 2294:any_in 2295:any_out 0:- 0:- 0 0 i p 0 | "any"
2277 anyarray -1 f p P f 0 0 2296:anyarray_in 2297:anyarray_out 2502:anyarray_recv 2503:anyarray_send 0 0 d x 0 | anyarray
2278 void 4 t p P f 0 0 2298:void_in 2299:void_out 3120:void_recv 3121:void_send 0 0 i p 0 | void
2950 uuid 16 f b U f 0 2951 2952:uuid_in 2953:uuid_out 2961:uuid_recv 2962:uuid_send 0 0 c p 0 | uuid
3802 jsonb -1 f b U f 0 3807 3806:jsonb_in 3804:jsonb_out 3805:jsonb_recv 3803:jsonb_send 0 0 i x 0 | jsonb
4089 regnamespace 4 t b N f 0 4090 4084:regnamespacein 4085:regnamespaceout 4087:regnamespacerecv 4088:regnamespacesend 0 0 i p 0 | regnamespace
`;

/** Array types' own I/O functions (PostgreSQL's array_in/out/recv/send). */
const ARRAY_IO = { input: 750, output: 751, receive: 2400, send: 2401 };
const ARRAY_PROCS: PgProcRow[] = [
  { oid: 750, proname: 'array_in', nargs: 3, rettype: 2277 },
  { oid: 751, proname: 'array_out', nargs: 1, rettype: 2275 },
  { oid: 2400, proname: 'array_recv', nargs: 3, rettype: 2277 },
  { oid: 2401, proname: 'array_send', nargs: 1, rettype: 17 },
];

function parseTypes(): { types: PgTypeRow[]; procs: PgProcRow[] } {
  const types: PgTypeRow[] = [];
  const procs = new Map<number, PgProcRow>(ARRAY_PROCS.map((p) => [p.oid, p]));
  for (const line of SCALARS.trim().split('\n')) {
    const [head, formatName] = line.split(' | ');
    const f = head.split(' ');
    const io = (s: string, nargs: number, rettype: number): number => {
      const [oid, name] = s.split(':');
      const n = Number(oid);
      if (n !== 0) procs.set(n, { oid: n, proname: name, nargs, rettype });
      return n;
    };
    const oid = Number(f[0]);
    types.push({
      oid,
      typname: f[1],
      typlen: Number(f[2]),
      typbyval: f[3] === 't',
      typtype: f[4],
      typcategory: f[5],
      typispreferred: f[6] === 't',
      typelem: Number(f[7]),
      typarray: Number(f[8]),
      typinput: io(f[9], 1, oid),
      typoutput: io(f[10], 1, 2275),
      typreceive: io(f[11], 1, oid),
      typsend: io(f[12], 1, 17),
      typmodin: Number(f[13]),
      typmodout: Number(f[14]),
      typalign: f[15],
      typstorage: f[16],
      typcollation: Number(f[17]),
      formatName,
    });
  }
  for (const t of [...types]) {
    if (t.typarray === 0) continue;
    types.push({
      oid: t.typarray,
      typname: `_${t.typname}`,
      typlen: -1,
      typbyval: false,
      typtype: 'b',
      typcategory: 'A',
      typispreferred: false,
      typelem: t.oid,
      typarray: 0,
      typinput: ARRAY_IO.input,
      typoutput: ARRAY_IO.output,
      typreceive: ARRAY_IO.receive,
      typsend: ARRAY_IO.send,
      typmodin: t.typmodin,
      typmodout: t.typmodout,
      typalign: t.typalign === 'd' ? 'd' : 'i',
      typstorage: 'x',
      typcollation: t.typcollation,
      formatName: `${t.formatName}[]`,
    });
  }
  return { types: types.sort((a, b) => a.oid - b.oid), procs: [...procs.values()].sort((a, b) => a.oid - b.oid) };
}

const parsed = parseTypes();

/** Every pg_type row, sorted by OID. */
export const PG_TYPE_ROWS: readonly PgTypeRow[] = parsed.types;
/** The I/O functions those rows name (pg_proc). */
export const PG_TYPE_PROCS: readonly PgProcRow[] = parsed.procs;

const TYPE_BY_OID = new Map(PG_TYPE_ROWS.map((t) => [t.oid, t]));

export function typeRow(oid: number): PgTypeRow | undefined {
  return TYPE_BY_OID.get(oid);
}

/** Spellings `'…'::regtype` accepts (lower-case, without `pg_catalog.`), mapped to OIDs. */
const TYPE_ALIASES: Record<string, number> = {
  boolean: 16, bool: 16, bytea: 17, '"char"': 18, char: 1042, character: 1042, name: 19,
  bigint: 20, int8: 20, smallint: 21, int2: 21, integer: 23, int: 23, int4: 23, text: 25, oid: 26,
  real: 700, float4: 700, 'double precision': 701, float8: 701, float: 701,
  varchar: 1043, 'character varying': 1043, bpchar: 1042, date: 1082,
  time: 1083, 'time without time zone': 1083, timestamp: 1114, 'timestamp without time zone': 1114,
  timestamptz: 1184, 'timestamp with time zone': 1184, interval: 1186, numeric: 1700, decimal: 1700,
  json: 114, jsonb: 3802, uuid: 2950, regclass: 2205, regtype: 2206, regproc: 24, regnamespace: 4089,
};

/** `'integer'::regtype` → 23; `'text[]'` → 1009; undefined when no such type. */
export function typeOidByName(text: string): number | undefined {
  let name = text.trim().toLowerCase().replace(/\s+/g, ' ');
  if (name.startsWith('pg_catalog.')) name = name.slice('pg_catalog.'.length);
  let dims = 0;
  while (name.endsWith('[]')) {
    dims++;
    name = name.slice(0, -2).trim();
  }
  name = name.replace(/\(\s*\d+(\s*,\s*\d+)?\s*\)/, '').trim();
  const oid = TYPE_ALIASES[name] ?? PG_TYPE_ROWS.find((t) => t.typname === name)?.oid;
  if (oid === undefined || dims === 0) return oid;
  // Postgres arrays are typed by their element, whatever the number of dimensions.
  const arr = TYPE_BY_OID.get(oid)?.typarray;
  return arr ? arr : undefined;
}

/**
 * information_schema's `data_type` for a column of this type: the format name, but `ARRAY` for
 * arrays (as Postgres reports them) and `character` for bpchar.
 */
export function informationSchemaDataType(oid: number): string {
  const t = TYPE_BY_OID.get(oid);
  if (!t) return 'USER-DEFINED';
  if (t.typcategory === 'A' && t.typelem !== 0 && t.typlen === -1 && t.typname.startsWith('_')) return 'ARRAY';
  if (t.oid === 1042) return 'character';
  return t.formatName;
}

/** `format_type(oid, typmod)` for the types we know, as DuckDB SQL over `oid` and `typmod`. */
export function formatTypeSql(oidExpr: string, typmodExpr: string): string {
  const numeric = (o: string) =>
    `CASE WHEN coalesce(${typmodExpr}, -1) >= 4 THEN '${o}(' || ((${typmodExpr} - 4) >> 16) || ',' || ((${typmodExpr} - 4) & 65535) || ')' ELSE '${o}' END`;
  const sized = (o: string) =>
    `CASE WHEN coalesce(${typmodExpr}, -1) >= 4 THEN '${o}(' || (${typmodExpr} - 4) || ')' ELSE '${o}' END`;
  const whens = PG_TYPE_ROWS.map((t) => {
    let out: string;
    if (t.oid === 1700) out = numeric('numeric');
    else if (t.oid === 1231) out = `${numeric('numeric')} || '[]'`;
    else if (t.oid === 1043) out = sized('character varying');
    else if (t.oid === 1042) out = `CASE WHEN coalesce(${typmodExpr}, -1) >= 4 THEN 'character(' || (${typmodExpr} - 4) || ')' ELSE 'bpchar' END`;
    else out = `'${t.formatName.replace(/'/g, "''")}'`;
    return `WHEN ${t.oid} THEN ${out}`;
  });
  return `CASE WHEN ${oidExpr} IS NULL THEN NULL ELSE CASE ${oidExpr} ${whens.join(' ')} ELSE '???' END END`;
}

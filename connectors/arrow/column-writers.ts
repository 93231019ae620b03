/**
 * Column writers that copy Arrow buffers into DuckDB data-chunk vectors (the reverse of
 * `column-readers.ts`). Fixed-width columns are one `copy_data_to_vector` of the Arrow buffer
 * itself, validity is copied as bytes when bit-aligned, and strings are assigned from views of
 * the Arrow value buffer, so loading does not create a JS object per value.
 *
 * Each writer writes rows [start, start + count) of an Arrow `Data` into rows [0, count) of a
 * DuckDB vector whose type is `storageTypeForField(field)`.
 */
import duckdb from '@duckdb/node-bindings';
import { Type, type Data, type Field, type Struct } from 'apache-arrow';
import { decimalStorageWidth, isIntervalField } from './duckdb-types.js';

export interface ColumnWriter {
  write(vector: duckdb.Vector, data: Data, start: number, count: number): void;
}

export function createColumnWriter(field: Field): ColumnWriter {
  const t = field.type;
  switch (t.typeId) {
    case Type.Bool:
      return boolWriter;
    case Type.Int:
    case Type.Float:
    case Type.Date:
    case Type.Time:
    case Type.Timestamp:
      return fixedWriter;
    case Type.Decimal:
      return decimalWriter(decimalStorageWidth((t as unknown as { precision: number }).precision));
    case Type.Utf8:
    case Type.Binary:
      return bytesWriter;
    case Type.List:
      return listWriter(createColumnWriter(t.children[0]));
    case Type.Struct:
      if (isIntervalField(field)) return intervalWriter;
      return structWriter((t as Struct).children.map((c) => createColumnWriter(c)));
  }
  throw new Error(`no DuckDB writer for Arrow type ${String(t)}`);
}

/**
 * Copies the Arrow validity of rows [start, start+count) into the vector; returns the bitmap and
 * its bit offset so writers can skip NULL rows, or undefined when every row is valid.
 */
function writeValidity(vector: duckdb.Vector, data: Data, start: number, count: number): { bits: Uint8Array; offset: number } | undefined {
  const bitmap = data.nullBitmap;
  if (!bitmap || bitmap.byteLength === 0 || data.nullCount === 0) return undefined;
  const offset = data.offset + start;
  duckdb.vector_ensure_validity_writable(vector);
  // DuckDB's mask is uint64 words; write whole words so the C side never reads past our buffer.
  const words = Math.ceil(count / 64);
  const out = new Uint8Array(words * 8);
  if ((offset & 7) === 0) {
    const from = offset >> 3;
    out.set(bitmap.subarray(from, Math.min(bitmap.byteLength, from + ((count + 7) >> 3))));
  } else {
    for (let i = 0; i < count; i++) {
      const s = offset + i;
      if ((bitmap[s >> 3] & (1 << (s & 7))) !== 0) out[i >> 3] |= 1 << (i & 7);
    }
  }
  duckdb.copy_data_to_vector_validity(vector, 0, out.buffer, 0, out.byteLength);
  return { bits: bitmap, offset };
}

function rowValid(v: { bits: Uint8Array; offset: number } | undefined, i: number): boolean {
  if (!v) return true;
  const s = v.offset + i;
  return (v.bits[s >> 3] & (1 << (s & 7))) !== 0;
}

const fixedWriter: ColumnWriter = {
  write(vector, data, start, count) {
    writeValidity(vector, data, start, count);
    const values = data.values as ArrayBufferView & { BYTES_PER_ELEMENT: number };
    const w = values.BYTES_PER_ELEMENT;
    // Arrow has already applied data.offset to fixed-width value buffers.
    duckdb.copy_data_to_vector(vector, 0, values.buffer as ArrayBuffer, values.byteOffset + start * w, count * w);
  },
};

const boolWriter: ColumnWriter = {
  write(vector, data, start, count) {
    writeValidity(vector, data, start, count);
    const bits = data.values as Uint8Array;
    const out = new Uint8Array(count);
    const offset = data.offset + start; // Bool values are not pre-sliced: they are bits.
    for (let i = 0; i < count; i++) {
      const s = offset + i;
      out[i] = (bits[s >> 3] >> (s & 7)) & 1;
    }
    duckdb.copy_data_to_vector(vector, 0, out.buffer, 0, count);
  },
};

function decimalWriter(width: 2 | 4 | 8 | 16): ColumnWriter {
  return {
    write(vector, data, start, count) {
      writeValidity(vector, data, start, count);
      const words = data.values as Uint32Array;
      if (width === 16) {
        duckdb.copy_data_to_vector(vector, 0, words.buffer as ArrayBuffer, words.byteOffset + start * 16, count * 16);
        return;
      }
      // Values that fit the column's precision fit its storage width: keep the low words.
      const signedWords = new Int32Array(words.buffer, words.byteOffset, words.length);
      let out: Int16Array | Int32Array;
      if (width === 8) {
        out = new Int32Array(count * 2);
        for (let i = 0; i < count; i++) {
          out[i * 2] = signedWords[(start + i) * 4];
          out[i * 2 + 1] = signedWords[(start + i) * 4 + 1];
        }
      } else {
        out = width === 4 ? new Int32Array(count) : new Int16Array(count);
        for (let i = 0; i < count; i++) out[i] = signedWords[(start + i) * 4];
      }
      duckdb.copy_data_to_vector(vector, 0, out.buffer as ArrayBuffer, 0, out.byteLength);
    },
  };
}

const bytesWriter: ColumnWriter = {
  write(vector, data, start, count) {
    const validity = writeValidity(vector, data, start, count);
    const offsets = data.valueOffsets as Int32Array;
    const values = (data.values as Uint8Array | undefined) ?? new Uint8Array(0);
    for (let i = 0; i < count; i++) {
      if (!rowValid(validity, i)) continue;
      duckdb.vector_assign_string_element_len(vector, i, values.subarray(offsets[start + i], offsets[start + i + 1]));
    }
  },
};

/** Struct<months: Int32, days: Int32, micros: Int64> → DuckDB's 16-byte interval. */
const intervalWriter: ColumnWriter = {
  write(vector, data, start, count) {
    writeValidity(vector, data, start, count);
    const [m, d, u] = data.children;
    const months = m.values as Int32Array;
    const days = d.values as Int32Array;
    const microsView = u.values as BigInt64Array;
    const micros = new Int32Array(microsView.buffer, microsView.byteOffset, microsView.length * 2);
    const out = new Int32Array(count * 4);
    for (let i = 0; i < count; i++) {
      const o = i * 4;
      const r = start + i;
      out[o] = months[r];
      out[o + 1] = days[r];
      out[o + 2] = micros[r * 2];
      out[o + 3] = micros[r * 2 + 1];
    }
    duckdb.copy_data_to_vector(vector, 0, out.buffer, 0, out.byteLength);
  },
};

function listWriter(child: ColumnWriter): ColumnWriter {
  return {
    write(vector, data, start, count) {
      writeValidity(vector, data, start, count);
      const offsets = data.valueOffsets as Int32Array;
      const childStart = offsets[start];
      const childCount = offsets[start + count] - childStart;
      // list_entry_t is { uint64 offset; uint64 length }, relative to the child vector.
      const entries = new Uint32Array(count * 4);
      for (let i = 0; i < count; i++) {
        entries[i * 4] = offsets[start + i] - childStart;
        entries[i * 4 + 2] = offsets[start + i + 1] - offsets[start + i];
      }
      duckdb.copy_data_to_vector(vector, 0, entries.buffer, 0, entries.byteLength);
      duckdb.list_vector_reserve(vector, childCount);
      duckdb.list_vector_set_size(vector, childCount);
      if (childCount > 0) child.write(duckdb.list_vector_get_child(vector), data.children[0], childStart, childCount);
    },
  };
}

function structWriter(children: ColumnWriter[]): ColumnWriter {
  return {
    write(vector, data, start, count) {
      writeValidity(vector, data, start, count);
      for (let j = 0; j < children.length; j++) {
        children[j].write(duckdb.struct_vector_get_child(vector, j), data.children[j], start, count);
      }
    },
  };
}

/**
 * The synthetic population behind every demo scenario. Each person has a synthetic national-ID
 * style key (`ID` + 12 digits, no hashing: it is random and meaningless), a name (mostly Chinese,
 * some with accents, apostrophes, commas, quotes, one decomposed NFD spelling), a mobile number, a
 * region, an age and a latent fraud propensity, so that the same person looks consistent at the
 * bank, the telco, the blacklists and the lenders that know them.
 */
import type { DemoRng } from './prng.js';

export const REGIONS = ['Beijing', 'Shanghai', 'Guangdong', 'Zhejiang', 'Sichuan', 'Hubei'] as const;
const REGION_WEIGHTS = [0.16, 0.18, 0.24, 0.16, 0.14, 0.12];

const CN_SURNAMES = ['王', '李', '张', '刘', '陈', '杨', '赵', '黄', '周', '吴', '徐', '孙', '胡', '朱', '高', '林', '何', '郭', '马', '罗', '欧阳', '司马'];
const CN_GIVEN = [
  '伟', '芳', '娜', '敏', '静', '丽', '强', '磊', '军', '洋', '勇', '艳', '杰', '娟', '涛', '明', '超', '秀英', '霞', '平',
  '刚', '桂英', '建华', '志强', '晓明', '子涵', '欣怡', '浩然', '梓萱', '宇轩', '一诺', '思远',
];
const INTL_GIVEN = ['José', 'Zoë', 'François', 'Søren', 'Małgorzata', 'Ana', 'Chloé', 'Björn', 'Inés', 'Noël', 'Renée', 'Jürgen', 'Øyvind', 'João', 'Siobhán', 'Mary', 'John', 'Priya', 'Ahmed', 'Đorđe'];
const INTL_SURNAMES = ['Müller', 'García', 'Núñez', "O'Brien", 'Dvořák', 'Łukasiewicz', 'Nguyễn', 'Öztürk', 'Smith', 'Pérez', 'Ångström', 'Kowalski', "D'Angelo", 'Schröder', 'Lefèvre'];

export interface Person {
  /** Canonical key: `ID` + 12 digits (already normalised apart from case: normalised form is lower case). */
  key: string;
  name: string;
  /** 11-digit mainland mobile number, or null when unknown. */
  phone: string | null;
  region: (typeof REGIONS)[number];
  /** Age in years on the demo's as-of date. */
  age: number;
  /** Latent propensity in [0, 1): drives is_fraud, blacklisting and multi-lender behaviour. */
  risk: number;
}

/** The normalisation every demo `id_key` declares: trim, NFC, lower case. */
export function normalizeKey(key: string): string {
  return key.trim().normalize('NFC').toLowerCase();
}

/** Stores a key the way a sloppy source system would: other case or surrounding blanks. */
export function messyKey(key: string, rng: DemoRng, allowBlanks = true): string {
  const choice = rng.int(allowBlanks ? 4 : 2);
  switch (choice) {
    case 0:
      return key.toLowerCase();
    case 1:
      return 'Id' + key.slice(2);
    case 2:
      return ' ' + key;
    default:
      return key + '  ';
  }
}

export class PersonPool {
  readonly all: Person[] = [];
  private readonly used = new Set<string>();
  private nameCount = 0;

  constructor(private readonly rng: DemoRng) {}

  /** A new person, distinct from every person created so far. */
  create(): Person {
    const rng = this.rng;
    let key: string;
    do key = 'ID' + String(rng.range(1, 9)) + rng.digits(11);
    while (this.used.has(key));
    this.used.add(key);
    const age = rng.range(18, 85);
    // Younger people and a small heavy tail carry more risk; correlated features make the
    // vertical anti-fraud join informative.
    const base = rng.float() * rng.float();
    const risk = Math.min(0.999, base * (age < 30 ? 1.8 : age < 45 ? 1.1 : 0.7));
    const person: Person = {
      key,
      name: this.makeName(),
      phone: rng.chance(0.03) ? null : '1' + String(rng.range(3, 9)) + rng.digits(9),
      region: rng.weighted(REGIONS, REGION_WEIGHTS),
      age,
      risk,
    };
    this.all.push(person);
    return person;
  }

  createMany(n: number): Person[] {
    const out: Person[] = [];
    for (let i = 0; i < n; i++) out.push(this.create());
    return out;
  }

  private makeName(): string {
    const rng = this.rng;
    this.nameCount++;
    // A few deliberately awkward spellings, at fixed positions so they always exist.
    if (this.nameCount === 7) return 'Ame\u0301lie Dupont'; // NFD: e + combining acute
    if (this.nameCount === 11) return 'García, María José'; // comma: must be quoted in CSV
    if (this.nameCount === 13) return 'Robert "Bobby" Smith'; // embedded quotes
    if (rng.chance(0.85)) return rng.pick(CN_SURNAMES) + rng.pick(CN_GIVEN);
    return `${rng.pick(INTL_GIVEN)} ${rng.pick(INTL_SURNAMES)}`;
  }
}

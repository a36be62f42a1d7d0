/**
 * Writes realistic stock events, one CSV per store, and beside them the levels they must produce:
 *   npm run gen:stock -- --stores 10 --skus 10000 --events 1000000 [--out bench/results/tmp/stock] [--seed 1] [--prefix SKU]
 * Per store: an opening count for many skus, then deliveries (few, large), sales (many, small),
 * adjustments (rare, ±), periodic recounts; about 2% of lines are duplicates sent again later and
 * about 5% are out of order. `expected.csv` (storeId,sku,quantity) holds the final levels by API.md's
 * semantics, computed on the way, independently of the apps' code.
 */
import { createWriteStream, mkdirSync, WriteStream } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    stores: { type: 'string', default: '10' },
    skus: { type: 'string', default: '10000' },
    events: { type: 'string', default: '1000000' },
    out: { type: 'string', default: 'bench/results/tmp/stock' },
    seed: { type: 'string', default: '1' },
    prefix: { type: 'string', default: 'SKU' },
    'store-prefix': { type: 'string', default: 'store-' },
  },
});
const stores = Number(values.stores);
const skus = Number(values.skus);
const total = Number(values.events);
const out = resolve(values.out!);
for (const [name, v] of Object.entries({ stores, skus, events: total })) {
  if (!Number.isInteger(v) || v < 1) {
    process.stderr.write(`gen-stock: --${name} must be a positive integer\n`);
    process.exit(2);
  }
}

// mulberry32: reproducible runs for a given --seed
let state = Number(values.seed) >>> 0;
function random(): number {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));

async function write(stream: WriteStream, text: string): Promise<void> {
  if (!stream.write(text)) await new Promise<void>((resolve) => stream.once('drain', () => resolve()));
}

async function main(): Promise<void> {
  mkdirSync(out, { recursive: true });
  const expected = createWriteStream(join(out, 'expected.csv'));
  await write(expected, 'storeId,sku,quantity\n');
  const perStore = Math.floor(total / stores);
  const span = 30 * 24 * 3600 * 1000;
  const start = Date.now() - span - 3600_000;

  for (let s = 1; s <= stores; s++) {
    const storeId = `${values['store-prefix']}${s}`;
    const file = createWriteStream(join(out, `${storeId}.csv`));
    await write(file, 'eventId,sku,type,quantity,occurredAt\n');
    const count = s === stores ? total - perStore * (stores - 1) : perStore;
    const levels = new Map<string, number>();
    const recent: string[] = []; // lines that may be sent again (duplicates)
    let held: string | undefined; // a line written later than its turn (out of order)
    const step = span / Math.max(count, 1);
    let time = start;
    let serial = 0;

    for (let i = 0; i < count;) {
      const sku = `${values.prefix}-${String(int(1, skus)).padStart(6, '0')}`;
      // a duplicate of a recent line: same eventId, so it must change nothing
      let line: string;
      if (recent.length > 100 && random() < 0.02) {
        line = recent[int(0, recent.length - 1)];
      } else {
        time += 1 + Math.floor(random() * step * 2); // strictly increasing: no ties between events of a store
        const roll = random();
        const known = levels.has(sku);
        let type: string;
        let quantity: number;
        if (!known || roll < 0.03) {
          type = 'count';
          quantity = int(0, 500);
          levels.set(sku, quantity);
        } else if (roll < 0.15) {
          type = 'delivery';
          quantity = int(10, 200);
          levels.set(sku, levels.get(sku)! + quantity);
        } else if (roll < 0.95) {
          type = 'sale';
          quantity = int(1, 5);
          levels.set(sku, levels.get(sku)! - quantity);
        } else {
          type = 'adjustment';
          quantity = int(1, 10) * (random() < 0.5 ? -1 : 1);
          levels.set(sku, levels.get(sku)! + quantity);
        }
        line = `${storeId}-${++serial},${sku},${type},${quantity},${new Date(time).toISOString()}`;
        recent.push(line);
        if (recent.length > 10_000) recent.splice(0, 5_000);
      }
      i++;
      if (held === undefined && random() < 0.05) {
        held = line; // goes out after the next line
        continue;
      }
      await write(file, `${line}\n`);
      if (held !== undefined) {
        await write(file, `${held}\n`);
        held = undefined;
      }
    }
    if (held !== undefined) await write(file, `${held}\n`);
    await new Promise((r) => file.end(r));
    for (const [sku, quantity] of [...levels].sort(([a], [b]) => (a < b ? -1 : 1))) await write(expected, `${storeId},${sku},${quantity}\n`);
    process.stderr.write(`${join(out, `${storeId}.csv`)}: ${count} lines, ${levels.size} skus\n`);
  }
  await new Promise((r) => expected.end(r));
  process.stderr.write(`${join(out, 'expected.csv')}: final levels\n`);
}

main().catch((error: Error) => {
  process.stderr.write(`gen-stock failed: ${error.message}\n`);
  process.exit(1);
});

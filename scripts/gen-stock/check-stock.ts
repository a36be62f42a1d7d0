/**
 * Compares the levels the api serves with the expected levels gen:stock wrote:
 *   npm run check:stock -- [--api http://127.0.0.1:3000] [--timeout 120] bench/results/tmp/stock/expected.csv
 * Polls until every level matches (processing is asynchronous) or the timeout passes; prints the differences.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { api: { type: 'string', default: 'http://127.0.0.1:3000' }, timeout: { type: 'string', default: '120' } },
});
const file = positionals[0] ?? 'bench/results/tmp/stock/expected.csv';
const expected = new Map<string, Map<string, number>>();
for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
  if (!line) continue;
  const [store, sku, quantity] = line.split(',');
  if (!expected.has(store)) expected.set(store, new Map());
  expected.get(store)!.set(sku, Number(quantity));
}

async function actual(store: string): Promise<Map<string, number>> {
  const levels = new Map<string, number>();
  let token: string | null = null;
  do {
    const query = new URLSearchParams({ limit: '1000', ...(token ? { pageToken: token } : {}) });
    const response = await fetch(`${values.api}/v1/stores/${store}/stock?${query}`);
    if (!response.ok) throw new Error(`api answered ${response.status} for ${store}`);
    const page = (await response.json()) as { items: { sku: string; quantity: number }[]; nextPageToken: string | null };
    for (const item of page.items) levels.set(item.sku, item.quantity);
    token = page.nextPageToken;
  } while (token);
  return levels;
}

async function main(): Promise<void> {
  const deadline = Date.now() + Number(values.timeout) * 1000;
  for (;;) {
    const wrong: string[] = [];
    let total = 0;
    for (const [store, skus] of expected) {
      const got = await actual(store);
      for (const [sku, quantity] of skus) {
        total++;
        if (got.get(sku) !== quantity) wrong.push(`${store}/${sku}: expected ${quantity}, api says ${got.get(sku) ?? 'nothing'}`);
      }
    }
    if (wrong.length === 0) {
      process.stdout.write(`all ${total} levels match ${file}\n`);
      return;
    }
    if (Date.now() > deadline) {
      process.stdout.write(`${wrong.length} of ${total} levels differ:\n${wrong.slice(0, 50).join('\n')}\n`);
      process.exit(1);
    }
    await new Promise((r) => setTimeout(r, 2000));
  }
}
main().catch((error: Error) => {
  process.stderr.write(`check-stock failed: ${error.message}\n`);
  process.exit(1);
});

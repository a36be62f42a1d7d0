/** Deeper than this, a JSON body is refused before anything walks it recursively. */
export const MAX_JSON_DEPTH = 32;

/** More values than this in one JSON body is refused (ingest, which takes 50,000 events, sets its own). */
export const MAX_JSON_VALUES = 10_000;

function isPlainJson(value: unknown): value is object {
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return true;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

/**
 * What is wrong with the shape of a parsed JSON body (too deep, too many values), in words a
 * person can act on; undefined when it is fine or is not a parsed JSON body (a stream, a string).
 * Iterative, so no body can overflow the stack here.
 */
export function jsonShapeProblem(body: unknown, maxValues = MAX_JSON_VALUES, maxDepth = MAX_JSON_DEPTH): string | undefined {
  if (!isPlainJson(body)) return undefined;
  const stack: [unknown, number][] = [[body, 1]];
  let values = 0;
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (++values > maxValues) {
      return `The JSON body holds more than ${maxValues} values; send less per request.`;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth > maxDepth) {
      return `The JSON body is nested more than ${maxDepth} levels deep; send the flat shape this endpoint documents.`;
    }
    for (const child of Array.isArray(value) ? value : Object.values(value)) stack.push([child, depth + 1]);
  }
  return undefined;
}

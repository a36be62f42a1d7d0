import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import fc from 'fast-check';
import {
  APP_NAMES,
  AppName,
  appPid,
  appPort,
  appUrl,
  contractViolation,
  deadApps,
  E2E_HTTP_REQUEST_TIMEOUT_MS,
  E2E_PORT_BASE,
  expectAllReady,
  expectErrorShape,
  ExtraApp,
  HostileReply,
  internalsLeak,
  isAlive,
  openSocket,
  rawRequest,
  reviveDeadApps,
  send,
  startExtraApp,
  startProxy,
  streamRequest,
  TcpProxy,
  waitFor,
} from '@app/testing';

/**
 * Whatever a client sends — headers, bodies, paths, or bytes too slowly — no answer is a 5xx and
 * no process stops (the contract's last line). Each test collects every offending request and
 * asserts the list is empty, so one run names all of them; a crashed app is restarted at once
 * (and recorded), so one crash does not hide what the other inputs do.
 */
jest.setTimeout(240_000);

const API = appUrl('api');
const INGEST = appUrl('ingest');
const run = randomUUID().slice(0, 8);
const STORE_KEY = 'dev-key-store-1';
const SAFE_CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

interface Ctx {
  adminToken: string;
  user: { id: string; email: string; password: string; token: string };
  /** A user for PUT /v1/me/password, whose password no fuzz input can know. */
  passwordUser: { token: string };
  sku: string;
}
let ctx: Ctx;
const crashes: string[] = [];

async function mustSend(method: string, url: string, body?: unknown, token?: string) {
  const reply = await send(method, url, { body, headers: token ? { authorization: `Bearer ${token}` } : {} });
  if (reply.status >= 300 || reply.status === 0) throw new Error(`${method} ${url}: ${reply.status} ${reply.text || reply.error}`);
  return reply.json;
}

async function newUser(prefix: string) {
  const email = `${prefix}-${run}-${randomUUID().slice(0, 6)}@example.test`;
  const password = 'correct horse battery';
  const created = await mustSend('POST', `${API}/v1/accounts`, { email, password, name: `Hostile ${prefix}` });
  const { accessToken } = await mustSend('POST', `${API}/v1/auth/login`, { email, password });
  return { id: created.id as string, email, password, token: accessToken as string };
}

/**
 * Checks one reply and the processes after it; returns the problems (empty when all is well).
 * A dead app is restarted before the next request, and the request that preceded its death is named.
 */
async function inspect(
  label: string,
  reply: HostileReply,
  extra: (reply: HostileReply) => (string | undefined)[] = () => [],
  target?: string | number,
): Promise<string[]> {
  const problems = [contractViolation(reply), ...(reply.status > 0 ? extra(reply) : [])].filter((p): p is string => !!p);
  if (reply.status === 0 && target !== undefined) {
    // A refused or reset connection is how a crash looks from here; a dying process may still
    // exist for a moment: wait until it is either gone or answering, so the death is blamed on this request.
    const app = appOf(target);
    if (app) {
      await waitFor(
        `${app} to either exit or answer after ${label}`,
        async () => {
          const pid = appPid(app);
          return pid === undefined || !isAlive(pid) || (await send('GET', `${appUrl(app)}/health/live`, { timeoutMs: 2000 })).status === 200;
        },
        { timeoutMs: 15_000, intervalMs: 100 },
      ).catch(() => undefined);
    }
  }
  if (deadApps().length > 0) {
    const revived = await reviveDeadApps();
    if (revived.length > 0) {
      const crash = `${revived.join(', ')} DIED after ${label}`;
      crashes.push(crash);
      problems.push(crash);
    }
  }
  return problems.map((p) => `${label} → ${p}`);
}

/** The app behind a test URL or port. */
function appOf(target: string | number): AppName | undefined {
  const port = typeof target === 'number' ? target : Number(new URL(target).port);
  return APP_NAMES.find((name) => appPort(name) === port);
}

function describeValue(value: string): string {
  return value.length > 40 ? `${JSON.stringify(value.slice(0, 24))}…(${value.length} chars)` : JSON.stringify(value);
}

beforeAll(async () => {
  const { accessToken: adminToken } = await waitFor(
    'the seeded admin to sign in',
    async () => {
      const reply = await send('POST', `${API}/v1/auth/login`, { body: { email: 'admin@example.com', password: 'admin-password' } });
      return reply.status === 200 ? reply.json : false;
    },
    { timeoutMs: 60_000, intervalMs: 500 },
  );
  const user = await newUser('hostile');
  const passwordUser = await newUser('hostile-pwd');
  const sku = `HOSTILE-${run}`;
  await mustSend('POST', `${API}/v1/admin/items`, { sku, name: `Hostile ${sku}`, price: 1000, quantity: 100 }, adminToken);
  ctx = { adminToken, user, passwordUser, sku };
});

afterEach(async () => {
  // Leave six running apps for the next test (and the next suite) whatever this one did.
  const revived = await reviveDeadApps();
  if (revived.length > 0) crashes.push(`${revived.join(', ')} found dead at the end of "${expect.getState().currentTestName}"`);
});

afterAll(() => {
  if (crashes.length > 0) process.stderr.write(`hostile-input: processes that died:\n  ${crashes.join('\n  ')}\n`);
});

// ---------------------------------------------------------------------------------------------
// 1. Headers
// ---------------------------------------------------------------------------------------------

interface Route {
  name: string;
  method: string;
  url: string;
  /** The headers of a well-formed request to the route (a fuzzed header replaces its namesake). */
  headers: () => Record<string, string>;
  body: () => string | undefined;
}

const json = { 'content-type': 'application/json' };
const ROUTES: Route[] = [
  {
    name: 'POST /v1/auth/login',
    method: 'POST',
    url: `${API}/v1/auth/login`,
    headers: () => ({ ...json }),
    body: () => JSON.stringify({ email: ctx.user.email, password: 'not the password' }),
  },
  {
    name: 'POST /v1/accounts',
    method: 'POST',
    url: `${API}/v1/accounts`,
    headers: () => ({ ...json }),
    // An existing e-mail: the request goes all the way to account and back (409), creating nothing.
    body: () => JSON.stringify({ email: ctx.user.email, password: 'another long password', name: 'Again' }),
  },
  { name: 'GET /v1/me', method: 'GET', url: `${API}/v1/me`, headers: () => ({ authorization: `Bearer ${ctx.user.token}` }), body: () => undefined },
  {
    name: 'POST /v1/purchases',
    method: 'POST',
    url: `${API}/v1/purchases`,
    headers: () => ({ ...json, authorization: `Bearer ${ctx.user.token}` }),
    // The user has no money: the saga rejects it, nothing is bought.
    body: () => JSON.stringify({ sku: ctx.sku, quantity: 1 }),
  },
  { name: 'GET /v1/stores/store-1/stock', method: 'GET', url: `${API}/v1/stores/store-1/stock`, headers: () => ({}), body: () => undefined },
  {
    name: 'POST ingest /v1/stores/store-1/stock-events',
    method: 'POST',
    url: `${INGEST}/v1/stores/store-1/stock-events`,
    headers: () => ({ ...json, 'x-api-key': STORE_KEY }),
    body: () =>
      JSON.stringify([
        { eventId: `hostile-${run}-${randomUUID()}`, sku: `HOSTILE-${run}`, type: 'delivery', quantity: 1, occurredAt: new Date().toISOString() },
      ]),
  },
];

const LENGTHS = [0, 1, 127, 128, 129, 255, 256, 300, 1000, 10_000];
const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const ofLength = (n: number, prefix = '') =>
  (prefix + Array.from({ length: n }, (_, i) => ALPHABET[(i * 7) % ALPHABET.length]).join('')).slice(0, Math.max(n, 0));

/** Values fetch can send: lengths, and characters a header may carry but code may not expect. */
function headerValues(prefix = ''): string[] {
  return [
    ...LENGTHS.map((n) => (n === 0 ? '' : ofLength(n, prefix))),
    'caf\u00e9-\u00ff\u00fe\u0080', // latin-1 high bytes, sent as single bytes
    'tab\tinside',
    'spaces inside it',
    '"quoted";,=<>{}\\',
    '../../etc/passwd',
    '${jndi:ldap://x}',
    `${prefix}${'%00%0d%0a'.repeat(20)}`,
  ];
}

const FUZZED_HEADERS: { name: string; values: () => string[] }[] = [
  { name: 'x-correlation-id', values: () => headerValues() },
  {
    name: 'authorization',
    values: () => [
      ...headerValues('Bearer '),
      ...headerValues(),
      'Bearer',
      'Bearer  ',
      'Basic YWRtaW46YWRtaW4=',
      `Bearer ${'a.b.c'}`,
      `Bearer ${ctx.user.token}${'x'.repeat(300)}`,
    ],
  },
  { name: 'x-api-key', values: () => headerValues() },
  { name: 'idempotency-key', values: () => headerValues() },
  {
    name: 'content-type',
    values: () => [
      ...headerValues(),
      'application/json; charset=latin1',
      'application/json; charset=utf-16',
      `application/json; ${'a=b; '.repeat(200)}`,
      'application/json, text/csv',
      'text/csv',
      'application/x-ndjson',
      'multipart/form-data; boundary=x',
      'application/x-www-form-urlencoded',
      '*/*',
      'application/' + 'j'.repeat(1000),
    ],
  },
  { name: 'accept', values: () => [...headerValues(), 'text/html', 'application/xml', '*/*;q=0.0', 'text/event-stream'] },
  { name: 'x-forwarded-for', values: () => [...headerValues(), '999.999.999.999', '::1, 10.0.0.1, ' + '1.1.1.1, '.repeat(500)] },
  { name: 'cookie', values: () => headerValues() },
  { name: 'x-random-header', values: () => headerValues() },
  { name: 'if-none-match', values: () => headerValues() },
  { name: 'range', values: () => [...headerValues(), 'bytes=0-0,-1', 'bytes=' + '1-2,'.repeat(500)] },
];

function correlationCheck(sent: string | undefined) {
  return (reply: HostileReply) => [correlationProblem(reply, sent)];
}

/**
 * Parser-level rejections (Node's own 400/431 before any route runs) carry no correlation id; when
 * an answer does carry one, it must be safe.
 */
function rawCorrelationCheck(reply: HostileReply): (string | undefined)[] {
  const answered = reply.headers['x-correlation-id'];
  return [answered !== undefined && !SAFE_CORRELATION_ID.test(answered) ? `answer's X-Correlation-Id is unsafe: ${describeValue(answered)}` : undefined];
}

function correlationProblem(reply: HostileReply, sent: string | undefined): string | undefined {
  const answered = reply.headers['x-correlation-id'];
  if (answered === undefined) return 'answer without X-Correlation-Id';
  if (!SAFE_CORRELATION_ID.test(answered)) return `answer's X-Correlation-Id is unsafe: ${describeValue(answered)}`;
  if (sent !== undefined && SAFE_CORRELATION_ID.test(sent) && answered !== sent)
    return `safe X-Correlation-Id ${describeValue(sent)} not kept (got ${describeValue(answered)})`;
  if (sent !== undefined && !SAFE_CORRELATION_ID.test(sent) && answered === sent) return 'unsafe X-Correlation-Id copied';
  return undefined;
}

describe('hostile input (e2e)', () => {
  it('POST /v1/auth/login with a 300-character X-Correlation-Id gets an answer and the api lives on', async () => {
    const reply = await send('POST', `${API}/v1/auth/login`, {
      headers: { ...json, 'x-correlation-id': ofLength(300) },
      body: JSON.stringify({ email: ctx.user.email, password: ctx.user.password }),
    });
    const problems = await inspect('POST /v1/auth/login X-Correlation-Id×300', reply, correlationCheck(ofLength(300)), API);
    expect(problems).toEqual([]);
    expect(reply.status).toBe(200);
    await expectAllReady();
  });

  it('header fuzz: every header the system reads or copies, at every length, on representative routes', async () => {
    const problems: string[] = [];
    for (const header of FUZZED_HEADERS) {
      for (const route of ROUTES) {
        for (const value of header.values()) {
          const headers = { ...route.headers(), [header.name]: value };
          const reply = await send(route.method, route.url, { headers, body: route.body() });
          const sentCorrelation = header.name === 'x-correlation-id' ? value : undefined;
          const found = await inspect(`${route.name} ${header.name}: ${describeValue(value)}`, reply, correlationCheck(sentCorrelation), route.url);
          problems.push(...found);
          // One crash per header and route is enough to name it; the other values would only crash it again.
          if (found.some((p) => p.includes('DIED'))) break;
        }
      }
    }
    expect(problems).toEqual([]);
    await expectAllReady();
  });

  it('header fuzz over a raw socket: NUL, CR, raw UTF-8, Content-Length mismatches, duplicate and broken framing', async () => {
    const problems: string[] = [];
    const body = JSON.stringify({ email: 'nobody@example.test', password: 'not the password' });
    const targets = [
      { name: 'api POST /v1/auth/login', port: appPort('api'), path: '/v1/auth/login', extra: '' },
      { name: 'api POST /v1/purchases', port: appPort('api'), path: '/v1/purchases', extra: `Authorization: Bearer ${'TOKEN'}\r\n` },
      { name: 'ingest POST stock-events', port: appPort('ingest'), path: '/v1/stores/store-1/stock-events', extra: `X-Api-Key: ${STORE_KEY}\r\n` },
    ];
    const oddValues: [string, Buffer][] = [
      ['NUL', Buffer.from('abc\x00def', 'latin1')],
      ['NUL×300', Buffer.alloc(300, 0)],
      ['bare CR', Buffer.from('abc\rdef', 'latin1')],
      ['DEL and controls', Buffer.from('\x01\x02\x7f\x1b[31m', 'latin1')],
      ['raw UTF-8', Buffer.from('ünïcødé-😀', 'utf8')],
      ['raw UTF-8 × 300', Buffer.from('😀'.repeat(300), 'utf8')],
      ['invalid UTF-8', Buffer.from([0xc0, 0xaf, 0xed, 0xa0, 0x80, 0xff, 0xfe])],
      ['latin-1 × 300', Buffer.alloc(300, 0xe9)],
    ];
    const headerNames = ['X-Correlation-Id', 'Authorization', 'X-Api-Key', 'Idempotency-Key', 'Content-Type', 'Accept', 'X-Random-Header'];
    const head = (target: (typeof targets)[number], lines: string) =>
      `POST ${target.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${target.extra.replace('TOKEN', ctx.user.token)}${lines}`;

    for (const target of targets) {
      for (const headerName of headerNames) {
        for (const [label, value] of oddValues) {
          const contentType = headerName === 'Content-Type' ? '' : 'Content-Type: application/json\r\n';
          const request = Buffer.concat([
            Buffer.from(head(target, `${contentType}Content-Length: ${Buffer.byteLength(body)}\r\n${headerName}: `), 'latin1'),
            value,
            Buffer.from(`\r\n\r\n${body}`, 'latin1'),
          ]);
          const reply = await rawRequest(target.port, request, { timeoutMs: 15_000 });
          problems.push(...(await inspect(`raw ${target.name} ${headerName}: ${label}`, reply, rawCorrelationCheck, target.port)));
        }
      }
      const framing: [string, string | Buffer, boolean][] = [
        ['Content-Length shorter than the body', head(target, `Content-Type: application/json\r\nContent-Length: 5\r\n\r\n${body}`), false],
        ['Content-Length longer than the body, then EOF', head(target, `Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n${body}`), true],
        ['Content-Length not a number', head(target, `Content-Type: application/json\r\nContent-Length: abc\r\n\r\n${body}`), false],
        ['Content-Length negative', head(target, `Content-Type: application/json\r\nContent-Length: -1\r\n\r\n${body}`), false],
        ['Content-Length 2^64', head(target, `Content-Type: application/json\r\nContent-Length: 18446744073709551616\r\n\r\n${body}`), true],
        [
          'two different Content-Lengths',
          head(target, `Content-Type: application/json\r\nContent-Length: 5\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`),
          false,
        ],
        [
          'Content-Length with Transfer-Encoding',
          head(
            target,
            `Content-Type: application/json\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`,
          ),
          false,
        ],
        ['broken chunked encoding', head(target, `Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n${body}\r\n0\r\n\r\n`), false],
        ['Content-Length 0 on a JSON POST', head(target, `Content-Type: application/json\r\nContent-Length: 0\r\n\r\n`), false],
        [
          'no Host',
          `POST ${target.path} HTTP/1.1\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
          false,
        ],
        [
          'a 10,000-character Host',
          `POST ${target.path} HTTP/1.1\r\nHost: ${'h'.repeat(10_000)}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
          false,
        ],
        [
          'header without a colon',
          head(target, `Content-Type: application/json\r\nThis is no header\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`),
          false,
        ],
        [
          'a header line of 64 KiB',
          head(target, `Content-Type: application/json\r\nX-Big: ${'b'.repeat(65_536)}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`),
          false,
        ],
        [
          '1,000 headers',
          head(
            target,
            `Content-Type: application/json\r\n${Array.from({ length: 1000 }, (_, i) => `X-H${i}: v\r\n`).join('')}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
          ),
          false,
        ],
        [
          'HTTP/1.0 without Content-Length',
          `POST ${target.path} HTTP/1.0\r\nContent-Type: application/json\r\n${target.extra.replace('TOKEN', ctx.user.token)}\r\n${body}`,
          true,
        ],
        ['garbage request line', `\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http\r\n\r\n`, false],
      ];
      for (const [label, request, end] of framing) {
        const reply = await rawRequest(target.port, request, { timeoutMs: 15_000, end });
        // Closing an incomplete request without an answer is fine; a 5xx, a misshapen error or a death is not.
        if (reply.status === 0 && reply.closed && deadApps().length === 0) continue;
        problems.push(...(await inspect(`raw ${target.name} ${label}`, reply, rawCorrelationCheck, target.port)));
      }
    }
    expect(problems).toEqual([]);
    await expectAllReady();
  });

  // -------------------------------------------------------------------------------------------
  // 2. Bodies
  // -------------------------------------------------------------------------------------------

  const SEED = Number(process.env.FC_SEED ?? Date.now() % 2 ** 31);
  const RUNS = Number(process.env.HOSTILE_BODY_RUNS ?? 50);

  const deep = (depth: number, open: string, inner: string, close: string) => open.repeat(depth) + inner + close.repeat(depth);
  /** Bodies every route gets, whatever its fields: parser and shape edge cases. */
  const fixedBodies = (fields: string[]): [string, string][] => {
    const f = fields[0];
    return [
      ['[[[…]]] nested 5,000 deep', deep(5000, '[', '', ']')],
      ['{"a":{"a":…}} nested 5,000 deep', deep(5000, '{"a":', '1', '}')],
      [`{"${f}": [[[…]]] 5,000 deep}`, `{"${f}":${deep(5000, '[', '1', ']')}}`],
      ['{"a":{"a":…}} nested 100,000 deep', deep(100_000, '{"a":', '1', '}')],
      ['an array of 200,000 zeros', `[${'0,'.repeat(199_999)}0]`],
      ['an object of 50,000 keys', `{${Array.from({ length: 50_000 }, (_, i) => `"k${i}":0`).join(',')}}`],
      [`${f}: 1e309`, `{"${f}":1e309}`],
      [`${f}: -1e309`, `{"${f}":-1e309}`],
      [`${f}: -0`, `{"${f}":-0}`],
      [`${f}: 2^53+1`, `{"${f}":9007199254740993}`],
      [`${f}: 1e-400`, `{"${f}":1e-400}`],
      [`${f}: 123456789012345678901234567890`, `{"${f}":123456789012345678901234567890}`],
      [`every field 1e309`, `{${fields.map((x) => `"${x}":1e309`).join(',')}}`],
      [`lone surrogates`, `{${fields.map((x) => `"${x}":"\\ud800\\udc00\\udfff\\ud800x"`).join(',')}}`],
      [`NUL and controls`, `{${fields.map((x) => `"${x}":"a\\u0000b\\u0007\\u001b[31m"`).join(',')}}`],
      [`a 900 KiB string`, JSON.stringify(Object.fromEntries(fields.map((x, i) => [x, i === 0 ? 'x'.repeat(900 * 1024) : 'y'])))],
      [`a 2 MiB string`, JSON.stringify({ [f]: 'x'.repeat(2 * 1024 * 1024) })],
      ['__proto__ and constructor keys', `{"__proto__":{"roles":["admin"],"isAdmin":true},"constructor":{"prototype":{"polluted":1}},"${f}":"x"}`],
      ['duplicate keys', `{"${f}":"a","${f}":{"$gt":""}}`],
      ['empty body', ''],
      ['whitespace only', ' \n\t '],
      ['null', 'null'],
      ['a bare string', '"just a string"'],
      ['a bare number', '42'],
      ['truncated JSON', `{"${f}":"abc`],
      ['trailing garbage', `{"${f}":"abc"}garbage`],
      ['a BOM first', `\ufeff{"${f}":"abc"}`],
      ['comments', `{/* hi */"${f}":"abc"}`],
      ['NaN and Infinity literals', `{"${f}":NaN,"x":Infinity}`],
    ];
  };

  /** Generated bodies: arbitrary JSON, anything fast-check makes (as JSON), each field with a wrong type, unicode, huge strings. */
  const generatedBodies = (fields: string[], salt: number): [string, string][] => {
    const anyJsonText = fc.oneof(
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc
        .anything({ withBigInt: false, withBoxedValues: true, withMap: true, withSet: true, withTypedArray: true, withDate: true, withNullPrototype: true })
        .map((v) => {
          try {
            return JSON.stringify(v) ?? 'null';
          } catch {
            return 'null';
          }
        }),
    );
    const hostileString = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.string({ unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)), maxLength: 20 }),
      fc.string({ unit: 'grapheme', maxLength: 100 }),
      fc.tuple(fc.constantFrom('a', 'é', '😀', '\u0000', '%', '\\'), fc.integer({ min: 100, max: 300_000 })).map(([c, n]) => c.repeat(n)),
    );
    const hostileNumber = fc.oneof(
      fc.double(),
      fc.integer(),
      fc.constantFrom(-0, 2 ** 53 + 1, -(2 ** 53) - 1, Number.MAX_VALUE, Number.MIN_VALUE, 1e21, 0.1, -1, 2 ** 31, 2 ** 32 + 1),
      fc.bigInt().map((n) => Number(n)),
    );
    const wrongTyped = fc.record(
      Object.fromEntries(
        fields.map((x) => [x, fc.oneof(fc.jsonValue(), hostileString, hostileNumber, fc.constant(null), fc.array(hostileString, { maxLength: 3 }))]),
      ),
      { requiredKeys: [] },
    );
    const withExtras = fc
      .tuple(wrongTyped, fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue(), { maxKeys: 3 }), fc.boolean())
      .map(([record, more, extra]) => JSON.stringify(extra ? { ...more, ...record } : record));
    const arbitrary = fc.oneof(
      anyJsonText,
      withExtras,
      withExtras,
      hostileString.map((s) => JSON.stringify(s)),
    );
    return fc.sample(arbitrary, { numRuns: RUNS, seed: SEED + salt }).map((text, i) => [`generated #${i} (seed ${SEED + salt}) ${describeValue(text)}`, text]);
  };

  interface BodyRoute {
    name: string;
    method: string;
    path: () => string;
    fields: string[];
    token: () => string | undefined;
  }
  const BODY_ROUTES: BodyRoute[] = [
    { name: 'POST /v1/accounts', method: 'POST', path: () => '/v1/accounts', fields: ['email', 'password', 'name'], token: () => undefined },
    { name: 'POST /v1/auth/login', method: 'POST', path: () => '/v1/auth/login', fields: ['email', 'password'], token: () => undefined },
    {
      name: 'PUT /v1/me/password',
      method: 'PUT',
      path: () => '/v1/me/password',
      fields: ['currentPassword', 'newPassword'],
      token: () => ctx.passwordUser.token,
    },
    {
      name: 'POST /v1/admin/accounts/{id}/credit',
      method: 'POST',
      path: () => `/v1/admin/accounts/${ctx.user.id}/credit`,
      fields: ['amount'],
      token: () => ctx.adminToken,
    },
    { name: 'POST /v1/admin/items', method: 'POST', path: () => '/v1/admin/items', fields: ['sku', 'name', 'price', 'quantity'], token: () => ctx.adminToken },
    {
      name: 'POST /v1/admin/items/{sku}/restock',
      method: 'POST',
      path: () => `/v1/admin/items/${ctx.sku}/restock`,
      fields: ['quantity'],
      token: () => ctx.adminToken,
    },
    {
      name: 'PATCH /v1/admin/items/{sku}/price',
      method: 'PATCH',
      path: () => `/v1/admin/items/${ctx.sku}/price`,
      fields: ['price'],
      token: () => ctx.adminToken,
    },
    { name: 'POST /v1/me/watchlist', method: 'POST', path: () => '/v1/me/watchlist', fields: ['sku'], token: () => ctx.user.token },
    { name: 'POST /v1/purchases', method: 'POST', path: () => '/v1/purchases', fields: ['sku', 'quantity'], token: () => ctx.user.token },
  ];

  /**
   * A body over the api's limit (1 MiB) is sent as a client that stops once the answer starts:
   * fetch keeps writing after the 413, and then loses it to EPIPE when the server closes.
   */
  const OVER_BODY_LIMIT = 1024 * 1024;
  function sendOverLimit(method: string, url: string, headers: Record<string, string>, body: string) {
    const { port, pathname } = new URL(url);
    const lines = Object.entries({ ...headers, host: 'x', 'content-length': String(Buffer.byteLength(body)) }).map(([k, v]) => `${k}: ${v}\r\n`);
    return streamRequest(Number(port), `${method} ${pathname} HTTP/1.1\r\n${lines.join('')}\r\n`, Buffer.from(body));
  }

  async function fuzzBodies(label: string, method: string, url: string, headers: Record<string, string>, bodies: [string, string][]) {
    const problems: string[] = [];
    for (const [name, body] of bodies) {
      const reply = Buffer.byteLength(body) > OVER_BODY_LIMIT ? await sendOverLimit(method, url, headers, body) : await send(method, url, { headers, body });
      const found = await inspect(`${label} body ${name}`, reply, (r) => [r.status >= 400 ? internalsLeak(r) : undefined], url);
      problems.push(...found);
    }
    return problems;
  }

  it.each(BODY_ROUTES.map((route, i) => [route.name, route, i] as const))('body fuzz: %s', async (_name, route, salt) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    const token = route.token();
    if (token) headers.authorization = `Bearer ${token}`;
    const bodies = [...fixedBodies(route.fields), ...generatedBodies(route.fields, salt)];
    const problems = await fuzzBodies(route.name, route.method, `${API}${route.path()}`, headers, bodies);
    expect(problems).toEqual([]);
    await expectAllReady();
  });

  it('body fuzz: ingest stock-events as JSON, NDJSON and CSV', async () => {
    const url = `${INGEST}/v1/stores/store-1/stock-events`;
    const fields = ['eventId', 'sku', 'type', 'quantity', 'occurredAt'];
    const withType = (contentType: string) => ({ 'content-type': contentType, 'x-api-key': STORE_KEY });
    const event = fc.record(
      {
        eventId: fc.oneof(fc.string({ maxLength: 200 }), fc.jsonValue()),
        sku: fc.oneof(fc.constant(`HOSTILE-${run}`), fc.string({ unit: 'binary', maxLength: 100 }), fc.jsonValue()),
        type: fc.oneof(fc.constantFrom('delivery', 'sale', 'adjustment', 'count'), fc.jsonValue()),
        quantity: fc.oneof(fc.integer(), fc.double(), fc.constantFrom(-0, 2 ** 53 + 1, 1e21), fc.jsonValue()),
        occurredAt: fc.oneof(
          fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
          fc.string({ maxLength: 40 }),
          fc.jsonValue(),
        ),
      },
      { requiredKeys: [] },
    );
    const jsonBodies: [string, string][] = [
      ...fixedBodies(fields),
      ['{"events": [[[…]]] 5,000 deep}', `{"events":${deep(5000, '[', '', ']')}}`],
      ['{"events": {"a":…} 5,000 deep}', `{"events":${deep(5000, '{"a":', '1', '}')}}`],
      ...fc
        .sample(
          fc.oneof(
            fc.jsonValue().map((v) => JSON.stringify(v)),
            fc.tuple(fc.array(event, { maxLength: 5 }), fc.boolean()).map(([e, wrapped]) => JSON.stringify(wrapped ? { events: e } : e)),
          ),
          { numRuns: RUNS, seed: SEED + 100 },
        )
        .map((text, i) => [`generated JSON #${i} (seed ${SEED + 100}) ${describeValue(text)}`, text] as [string, string]),
    ];
    const ndjsonBodies: [string, string][] = [
      ['a line nested 5,000 deep', deep(5000, '[', '', ']')],
      ['an object line nested 5,000 deep', `${JSON.stringify({ eventId: 'x' })}\n${deep(5000, '{"a":', '1', '}')}\n`],
      ['1e309 quantity', `{"eventId":"hostile-${run}-inf","sku":"HOSTILE-${run}","type":"delivery","quantity":1e309,"occurredAt":"2024-01-01T00:00:00Z"}`],
      ['lone surrogates', `{"eventId":"\\ud800","sku":"\\udfff","type":"sale","quantity":1,"occurredAt":"2024-01-01T00:00:00Z"}`],
      ['only newlines', '\n\n\n\n'],
      ['CRLF and blank lines', `\r\n${JSON.stringify({ eventId: 'x' })}\r\n\r\n`],
      ['a 2 MiB line', `{"eventId":"${'x'.repeat(2 * 1024 * 1024)}"}`],
      ...fc
        .sample(
          fc
            .array(
              fc.oneof(
                event.map((e) => JSON.stringify(e)),
                fc.jsonValue().map((v) => JSON.stringify(v)),
                fc.string({ maxLength: 50 }),
              ),
              { maxLength: 8 },
            )
            .map((lines) => lines.join('\n')),
          { numRuns: RUNS, seed: SEED + 200 },
        )
        .map((text, i) => [`generated NDJSON #${i} (seed ${SEED + 200}) ${describeValue(text)}`, text] as [string, string]),
    ];
    const csvCell = fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.string({ unit: 'binary', maxLength: 30 }),
      fc.constantFrom('"', '""', '"a,b"', '\r', ',,,', '1e309', '-0', '9007199254740993', '\u0000'),
    );
    const csvBodies: [string, string][] = [
      ['header only', 'eventId,sku,type,quantity,occurredAt\n'],
      ['empty', ''],
      ['an unterminated quote', `eventId,sku,type,quantity,occurredAt\n"abc,HOSTILE-${run},delivery,1,2024-01-01T00:00:00Z\n`],
      ['a 1,000-column line', `eventId,sku,type,quantity,occurredAt\n${'x,'.repeat(999)}x\n`],
      ['a 100,000-character cell', `eventId,sku,type,quantity,occurredAt\n${'x'.repeat(100_000)},a,sale,1,2024-01-01T00:00:00Z\n`],
      ['1e309 quantity', `eventId,sku,type,quantity,occurredAt\nhostile-${run}-csvinf,HOSTILE-${run},delivery,1e309,2024-01-01T00:00:00Z\n`],
      ['only a BOM', '\ufeff'],
      ['header with a BOM and CRLF', `\ufeffeventId,sku,type,quantity,occurredAt\r\nhostile-${run}-bom,HOSTILE-${run},delivery,1,2024-01-01T00:00:00Z\r\n`],
      ...fc
        .sample(
          fc
            .array(
              fc.array(csvCell, { maxLength: 7 }).map((cells) => cells.join(',')),
              { maxLength: 6 },
            )
            .map((lines) => ['eventId,sku,type,quantity,occurredAt', ...lines].join('\n')),
          { numRuns: RUNS, seed: SEED + 300 },
        )
        .map((text, i) => [`generated CSV #${i} (seed ${SEED + 300}) ${describeValue(text)}`, text] as [string, string]),
    ];
    const problems = [
      ...(await fuzzBodies('ingest JSON', 'POST', url, withType('application/json'), jsonBodies)),
      ...(await fuzzBodies('ingest NDJSON', 'POST', url, withType('application/x-ndjson'), ndjsonBodies)),
      ...(await fuzzBodies('ingest CSV', 'POST', url, withType('text/csv'), csvBodies)),
    ];
    expect(problems).toEqual([]);
    await expectAllReady();
  });

  // -------------------------------------------------------------------------------------------
  // 3. Paths
  // -------------------------------------------------------------------------------------------

  /**
   * Path segments, already as they go on the wire (percent-encoding included). Literal `.`/`..`
   * segments are sent over a raw socket below: fetch resolves them before sending.
   */
  const SEGMENTS: [string, string][] = [
    ...[0, 1, 63, 64, 65, 128, 129, 255, 256, 1000, 5000].map((n) => [`${n} chars`, ofLength(n)] as [string, string]),
    ['%00', 'a%00b'],
    ['%2F', 'a%2Fb'],
    ['%2F%2E%2E', '%2F%2E%2E%2Fetc'],
    ['%FF', 'a%FFb'],
    ['%C0%AF (overlong /)', 'a%C0%AFb'],
    ['%ED%A0%80 (a surrogate in UTF-8)', '%ED%A0%80'],
    ['a lone %', 'a%'],
    ['%zz', '%zz'],
    ['..%2F', '..%2F..%2Fhealth'],
    ['unicode', encodeURIComponent('ünïcødé-😀')],
    ['raw unicode', 'ünïcødé-😀'],
    ['%20 and %0D%0A', 'a%20b%0D%0ASet-Cookie:%20x=1'],
    ['quotes and brackets', encodeURIComponent(`"'<script>{}[]`)],
    ['5,000 × %FF', '%FF'.repeat(5000)],
    ['5,000 encoded unicode chars', encodeURIComponent('é'.repeat(5000))],
    [';param', 'abc;jsessionid=1'],
    ['?query inside (encoded)', 'a%3Fb%3Dc'],
    ['#fragment (encoded)', 'a%23b'],
    ['backslashes', 'a%5C..%5Cb'],
  ];

  interface PathRoute {
    name: string;
    method: string;
    url: (segment: string) => string;
    headers: () => Record<string, string>;
    body?: () => string;
    /** A 2xx is right when the segment is a well-formed value of the route (e.g. DELETE of a sku never watched). */
    okFor?: RegExp;
  }
  const SKU = /^[A-Za-z0-9._-]{1,64}$/;
  const PATH_ROUTES: PathRoute[] = [
    { name: 'GET /v1/purchases/{id}', method: 'GET', url: (s) => `${API}/v1/purchases/${s}`, headers: () => ({ authorization: `Bearer ${ctx.user.token}` }) },
    { name: 'GET /v1/items/{sku}', method: 'GET', url: (s) => `${API}/v1/items/${s}`, headers: () => ({}) },
    { name: 'GET /v1/stores/{storeId}/stock/{sku} (sku)', method: 'GET', url: (s) => `${API}/v1/stores/store-1/stock/${s}`, headers: () => ({}) },
    { name: 'GET /v1/stores/{storeId}/stock/{sku} (storeId)', method: 'GET', url: (s) => `${API}/v1/stores/${s}/stock/SKU-1`, headers: () => ({}) },
    { name: 'GET /v1/stock/{sku}', method: 'GET', url: (s) => `${API}/v1/stock/${s}`, headers: () => ({}) },
    {
      name: 'POST /v1/admin/accounts/{id}/credit',
      method: 'POST',
      url: (s) => `${API}/v1/admin/accounts/${s}/credit`,
      headers: () => ({ authorization: `Bearer ${ctx.adminToken}`, 'content-type': 'application/json' }),
      body: () => JSON.stringify({ amount: 1 }),
    },
    {
      name: 'DELETE /v1/me/watchlist/{sku}',
      method: 'DELETE',
      url: (s) => `${API}/v1/me/watchlist/${s}`,
      headers: () => ({ authorization: `Bearer ${ctx.user.token}` }),
      okFor: SKU,
    },
    {
      name: 'POST ingest /v1/stores/{storeId}/stock-events',
      method: 'POST',
      url: (s) => `${INGEST}/v1/stores/${s}/stock-events`,
      headers: () => ({ 'x-api-key': STORE_KEY, 'content-type': 'application/json' }),
      body: () => '[]',
    },
  ];

  it('path fuzz: ids and skus of every length and odd encodings get 400 or 404 (401/403 where auth decides), never internals', async () => {
    const problems: string[] = [];
    for (const route of PATH_ROUTES) {
      for (const [label, segment] of SEGMENTS) {
        const url = route.url(segment);
        const reply = await send(route.method, url, { headers: route.headers(), body: route.body?.() });
        let decoded: string | undefined;
        try {
          decoded = decodeURIComponent(segment);
        } catch {
          decoded = undefined;
        }
        const wellFormed = route.okFor !== undefined && decoded !== undefined && route.okFor.test(decoded);
        // Past Node's 16 KiB limit on the request head, 414/431 is the only possible answer.
        const tooLong = Buffer.byteLength(new URL(url).pathname) > 16 * 1024 && [414, 431].includes(reply.status);
        const found = await inspect(
          `${route.name} ${label}`,
          reply,
          (r) => [
            [400, 401, 403, 404].includes(r.status) || tooLong || (wellFormed && r.status >= 200 && r.status < 300)
              ? undefined
              : `expected 400 or 404, got ${r.status} ${r.text.slice(0, 200)}`,
            internalsLeak(r),
          ],
          url,
        );
        problems.push(...found);
      }
    }
    // A raw socket for what fetch normalises away: literal ../, NUL, spaces, raw high bytes in the path.
    const rawPaths: [string, string][] = [
      ['literal /../', '/v1/items/../../health/ready/../../v1/items/x'],
      ['raw NUL', '/v1/items/a\x00b'],
      ['raw high bytes', '/v1/items/a\xff\xfeb'],
      ['raw space', '/v1/items/a b'],
      ['absolute-form URL', 'http://evil.example/v1/items/x'],
      ['asterisk', '*'],
      ['no leading slash', 'v1/items/x'],
      ['a 64 KiB path', `/v1/items/${'a'.repeat(65_536)}`],
    ];
    for (const [label, path] of rawPaths) {
      const reply = await rawRequest(appPort('api'), `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`, { timeoutMs: 15_000 });
      problems.push(
        ...(await inspect(
          `raw GET ${label}`,
          reply,
          (r) => [
            [400, 404].includes(r.status) || (path.length > 16 * 1024 && [414, 431].includes(r.status))
              ? undefined
              : `expected 400 or 404, got ${r.status} ${r.text.slice(0, 200)}`,
            internalsLeak(r),
          ],
          appPort('api'),
        )),
      );
    }
    expect(problems).toEqual([]);
    await expectAllReady();
  });

  // -------------------------------------------------------------------------------------------
  // 4. Slow clients
  // -------------------------------------------------------------------------------------------

  const REQUEST_TIMEOUT_MS = E2E_HTTP_REQUEST_TIMEOUT_MS;
  /** Node looks for expired requests once a second at best; a loaded 2-core machine adds some. */
  const MARGIN_MS = 3000;

  /** Resolves when the server closes the socket or answers 408, with how long it took; or at the deadline. */
  function watchCutOff(socket: Socket, started: number, deadlineMs: number): Promise<{ outcome: string; elapsedMs: number }> {
    return new Promise((resolvePromise) => {
      let received = '';
      const done = (outcome: string) => {
        clearTimeout(timer);
        socket.destroy();
        resolvePromise({ outcome, elapsedMs: Date.now() - started });
      };
      const timer = setTimeout(() => done('still open'), deadlineMs);
      socket.on('data', (chunk) => {
        received += chunk.toString('latin1');
        if (/^HTTP\/1\.[01] \d{3}/.test(received)) done(`answered ${received.slice(9, 12)}`);
      });
      socket.on('close', () => done('closed'));
      socket.on('error', () => done('closed'));
    });
  }

  it.each([
    [
      'a body that stops after a few of its 1,000 bytes',
      'POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"email":',
    ],
    ['headers that never finish', 'POST /v1/auth/login HTTP/1.1\r\nHost: x\r\n'],
  ])('slow client: %s is cut off within HTTP_REQUEST_TIMEOUT_MS', async (_label, bytes) => {
    const started = Date.now();
    const socket = await openSocket(appPort('api'));
    socket.write(bytes);
    // The api keeps serving others while one client dawdles.
    const meanwhile = await send('GET', `${API}/health/ready`, { timeoutMs: 10_000 });
    const result = await watchCutOff(socket, started, REQUEST_TIMEOUT_MS + MARGIN_MS);
    expect(meanwhile.status).toBe(200);
    expect(result.outcome).toMatch(/^(closed|answered 408)$/);
    expect(result.elapsedMs).toBeLessThanOrEqual(REQUEST_TIMEOUT_MS + MARGIN_MS);
    await expectAllReady();
  });

  // -------------------------------------------------------------------------------------------
  // 5. RabbitMQ unreachable past the RPC timeout
  // -------------------------------------------------------------------------------------------

  describe('an api instance whose RabbitMQ link is black-holed', () => {
    const PORT = E2E_PORT_BASE + 10;
    const RPC_TIMEOUT_MS = 1500;
    const url = `http://127.0.0.1:${PORT}`;
    let proxy: TcpProxy | undefined;
    let api: ExtraApp | undefined;

    const alive = () => api?.alive() === true;

    afterAll(async () => {
      await api?.stop();
      await proxy?.close();
    });

    it('answers 503 with the error body (or a 4xx) while RabbitMQ is unreachable, stays alive, and recovers', async () => {
      const rabbitUrl = new URL(process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672');
      proxy = await startProxy(Number(rabbitUrl.port || 5672), rabbitUrl.hostname);
      rabbitUrl.port = String(proxy.port);

      api = startExtraApp('api', PORT, {
        RABBITMQ_URL: rabbitUrl.toString().replace(/\/$/, ''),
        RPC_TIMEOUT_MS: String(RPC_TIMEOUT_MS),
        PASSWORD_RPC_TIMEOUT_MS: String(RPC_TIMEOUT_MS),
      });
      const ready = () => api!.ready();
      await ready();

      const user = ctx.user;
      const login = () => send('POST', `${url}/v1/auth/login`, { body: { email: user.email, password: user.password }, timeoutMs: RPC_TIMEOUT_MS + 5000 });
      const purchase = () =>
        send('POST', `${url}/v1/purchases`, {
          headers: { authorization: `Bearer ${user.token}` },
          body: { sku: ctx.sku, quantity: 1 },
          timeoutMs: RPC_TIMEOUT_MS + 5000,
        });
      expect((await login()).status).toBe(200);

      proxy.blackhole();
      const problems: string[] = [];
      const statuses: number[] = [];
      let firstUnavailable: HostileReply | undefined;
      const until = Date.now() + 3 * RPC_TIMEOUT_MS;
      while (Date.now() < until) {
        const replies = await Promise.all([login(), purchase()]);
        for (const [name, reply] of [
          ['login', replies[0]],
          ['purchase', replies[1]],
        ] as const) {
          statuses.push(reply.status);
          if (reply.status === 503) firstUnavailable ??= reply;
          const label = `black-holed ${name} (${reply.elapsedMs} ms)`;
          if (reply.status === 0) problems.push(`${label} → no answer (${reply.error})`);
          else if (reply.status === 503 || (reply.status >= 400 && reply.status < 500)) {
            const shape = contractViolation(reply, [503]);
            if (shape) problems.push(`${label} → ${shape}`);
            if (/amqp|channel|ECONN|EPIPE|ETIMEDOUT|socket|heartbeat|rabbit|queue|exchange|Timeout has occurred|\bat \S+ \(/i.test(reply.json?.message ?? '')) {
              problems.push(`${label} → broker details in the message: ${JSON.stringify(reply.json.message)}`);
            }
          } else problems.push(`${label} → expected 503 or a 4xx, got ${reply.status} ${reply.text.slice(0, 200)}`);
        }
        if (!alive()) {
          problems.push(`the api on ${PORT} DIED while RabbitMQ was unreachable: ${api.output().slice(-2000)}`);
          break;
        }
      }
      proxy.restore();
      expect(problems).toEqual([]);
      expect(statuses).toContain(503);
      expectErrorShape(firstUnavailable!);
      expect(alive()).toBe(true);

      await ready();
      const back = await waitFor(
        'a login through the restored link',
        async () => {
          if (!alive()) throw new Error(`the api on ${PORT} exited`);
          const reply = await login();
          return reply.status === 200 ? reply : false;
        },
        { timeoutMs: 60_000, intervalMs: 500 },
      );
      expect(back.json).toMatchObject({ accessToken: expect.any(String) });
      expect(alive()).toBe(true);
      await expectAllReady();
    });
  });
});

import { Writable } from 'node:stream';
import { createLogger, resolveLogFormat } from './logger';

/** Collects what a logger writes; `isTTY` as a terminal or a pipe would report it. */
function sink(isTTY: boolean): Writable & { isTTY: boolean; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  return Object.assign(stream, { isTTY, text: () => chunks.join('') });
}

describe(resolveLogFormat.name, () => {
  it('is pretty only in a terminal outside production, unless told', () => {
    expect(resolveLogFormat('auto', false, true)).toBe('pretty');
    expect(resolveLogFormat('auto', false, false)).toBe('json');
    expect(resolveLogFormat('auto', true, true)).toBe('json');
    expect(resolveLogFormat('json', false, true)).toBe('json');
    expect(resolveLogFormat('pretty', true, false)).toBe('pretty');
  });
});

describe(createLogger.name, () => {
  it('writes one JSON line per event to a stream that is not a terminal (files, pipes, tests)', () => {
    const out = sink(false);
    createLogger('api', 'info', { destination: out }).info({ status: 200, body: { password: 'hunter2' } }, 'request completed');
    const line = JSON.parse(out.text().trim());
    expect(line).toEqual(expect.objectContaining({ app: 'api', level: 'info', msg: 'request completed', status: 200, body: { password: '[redacted]' } }));
  });

  it('prints a readable line in a terminal outside production, secrets still redacted', () => {
    const out = sink(true);
    createLogger('shop', 'info', { destination: out, production: false }).warn({ sku: 'A-1', body: { password: 'hunter2' } }, 'stock is low');
    const text = out.text();
    expect(text).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] .*WARN.*: .*shop: stock is low.*"sku":"A-1"/);
    expect(text).not.toContain('hunter2');
    expect(() => JSON.parse(text)).toThrow();
  });

  it('stays JSON in a terminal in production', () => {
    const out = sink(true);
    createLogger('mailer', 'info', { destination: out, production: true }).info('sent');
    expect(JSON.parse(out.text().trim())).toEqual(expect.objectContaining({ app: 'mailer', msg: 'sent' }));
  });
});

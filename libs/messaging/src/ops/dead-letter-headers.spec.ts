import 'reflect-metadata';
import { headerText, isoTime, readablePayload } from './dead-letter-headers';
import { parseKafkaId } from './kafka-dead-letters';

describe('dead-letter helpers', () => {
  it('shows a payload as its JSON, or as text when it is not JSON', () => {
    expect(readablePayload(Buffer.from('{"a":1}'))).toEqual({ a: 1 });
    expect(readablePayload(Buffer.from('{ not json'))).toBe('{ not json');
    expect(readablePayload(Buffer.from('"a string"'))).toBe('a string');
    expect(readablePayload(null)).toBeNull();
  });

  it('reads headers from Kafka buffers, AMQP strings and numbers', () => {
    expect(headerText({ a: Buffer.from('x') }, 'a')).toBe('x');
    expect(headerText({ a: [Buffer.from('first'), 'second'] }, 'a')).toBe('first');
    expect(headerText({ a: 3 }, 'a')).toBe('3');
    expect(headerText({ a: { nested: true } }, 'a')).toBeUndefined();
    expect(headerText(undefined, 'a')).toBeUndefined();
    expect(isoTime('2026-12-01T10:00:00Z')).toBe('2026-12-01T10:00:00.000Z');
    expect(isoTime('yesterday')).toBeUndefined();
  });

  it('takes only <partition>-<offset> as a Kafka id', () => {
    expect(parseKafkaId('0-42')).toEqual({ partition: 0, offset: 42n });
    expect(parseKafkaId('3-9223372036854775807')).toEqual({ partition: 3, offset: 9223372036854775807n });
    for (const id of ['42', '-1-2', '0-', 'a-1', '0-1 ', '0-1-2', '1234567890-1']) expect(parseKafkaId(id)).toBeUndefined();
  });
});

import { PageTokenCodec } from './page-token';

describe(PageTokenCodec.name, () => {
  const sut = new PageTokenCodec('a-secret-of-sixteen+');

  it('round-trips, also through another instance with the same secret (a restart)', () => {
    const token = sut.encode({ storeId: 's1', after: 'SKU-9' });
    expect(new PageTokenCodec('a-secret-of-sixteen+').decode(token, 's1')).toEqual({ storeId: 's1', after: 'SKU-9' });
  });

  it('rejects tampered, foreign, malformed and other-store tokens as invalid (400)', () => {
    const token = sut.encode({ storeId: 's1', after: 'SKU-9' });
    const [, signature] = token.split('.');
    const forged = `${Buffer.from(JSON.stringify({ s: 's1', a: 'SKU-0' })).toString('base64url')}.${signature}`;
    for (const bad of [forged, new PageTokenCodec('another-secret-16ch').encode({ storeId: 's1', after: 'x' }), 'garbage', '.', `${token}x`]) {
      expect(() => sut.decode(bad, 's1')).toThrow(expect.objectContaining({ kind: 'invalid' }));
    }
    expect(() => sut.decode(token, 's2')).toThrow(expect.objectContaining({ kind: 'invalid' }));
  });

  it('rejects a signature whose last character changed, even when it decodes to the same bytes', () => {
    const token = sut.encode({ storeId: 's1', after: 'SKU-9' });
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (const last of alphabet) {
      const altered = token.slice(0, -1) + last;
      if (altered === token) continue;
      expect(() => sut.decode(altered, 's1')).toThrow(expect.objectContaining({ kind: 'invalid' }));
    }
  });
});

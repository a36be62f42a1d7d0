import { PageTokens } from './page-token';

describe(PageTokens.name, () => {
  const sut = new PageTokens('a-secret-for-tests-only');

  it('gives back the position it encoded', () => {
    expect(sut.decode(sut.encode('SKU-1.a_b'))).toBe('SKU-1.a_b');
  });

  it('refuses altered, foreign and malformed tokens', () => {
    const token = sut.encode('SKU-1');
    const [payload, signature] = token.split('.');
    const forged = `${Buffer.from(JSON.stringify({ v: 1, after: 'SKU-9' })).toString('base64url')}.${signature}`;
    expect(sut.decode(forged)).toBeUndefined();
    expect(sut.decode(`${payload}.${signature.slice(1)}x`)).toBeUndefined();
    expect(new PageTokens('another-secret-entirely').decode(token)).toBeUndefined();
    for (const junk of ['', '.', 'abc', 'a.b.c', `${payload}`]) expect(sut.decode(junk)).toBeUndefined();
  });
});

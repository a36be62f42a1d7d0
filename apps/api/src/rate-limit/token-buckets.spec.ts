import { TokenBuckets } from './token-buckets';

describe(TokenBuckets.name, () => {
  it('lets a burst of `capacity` through, then refuses with the wait until the next token', () => {
    const sut = new TokenBuckets(10, 20);
    const now = 1_000_000;
    for (let i = 0; i < 20; i++) expect(sut.take('a', now)).toBe(0);
    expect(sut.take('a', now)).toBe(100);
    expect(sut.take('b', now)).toBe(0);
    expect(sut.take('a', now + 100)).toBe(0);
  });

  it('forgets clients whose bucket refilled', () => {
    const sut = new TokenBuckets(10, 10);
    sut.take('a', 0);
    sut.prune(50);
    expect(sut.size).toBe(1);
    sut.prune(1_000);
    expect(sut.size).toBe(0);
  });
});

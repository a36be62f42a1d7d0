import { OpenPurchaseAges } from './open-purchase-ages';

describe(OpenPurchaseAges.name, () => {
  const t0 = Date.parse('2026-12-01T10:00:00Z');

  it('is 0 with nothing open, and the age of the oldest open purchase by its creation time once known', () => {
    const sut = new OpenPurchaseAges();
    expect(sut.oldestAgeSeconds(t0)).toBe(0);
    sut.created('young', new Date(t0 - 2_000));
    sut.created('old', new Date(t0 - 90_000));
    sut.observe(['young', 'old'], t0);
    expect(sut.oldestAgeSeconds(t0 + 1_000)).toBe(91);
  });

  it('counts a purchase it has not read from when it first saw it open, until its creation time is known', () => {
    const sut = new OpenPurchaseAges();
    sut.observe(['other-instance'], t0);
    sut.observe(['other-instance'], t0 + 1_000);
    expect(sut.oldestAgeSeconds(t0 + 5_000)).toBe(5);
    sut.created('other-instance', new Date(t0 - 60_000));
    expect(sut.oldestAgeSeconds(t0 + 5_000)).toBe(65);
  });

  it('forgets a purchase once it finished here or its marker is gone', () => {
    const sut = new OpenPurchaseAges();
    sut.created('a', new Date(t0 - 10_000));
    sut.created('b', new Date(t0 - 20_000));
    sut.finished('b');
    expect(sut.oldestAgeSeconds(t0)).toBe(10);
    sut.observe([], t0);
    expect(sut.size).toBe(0);
    expect(sut.oldestAgeSeconds(t0)).toBe(0);
  });
});

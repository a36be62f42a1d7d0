import { ItemCache } from './item-cache';

const item = (sku: string, priceVersion = 0, quantity = 1) => ({ sku, name: sku, price: 100, quantity, priceVersion });

describe(ItemCache.name, () => {
  it('serves an item until its TTL', () => {
    jest.useFakeTimers({ now: 0 });
    const sut = new ItemCache(1000);
    sut.setItem(item('a'), sut.ticket('a'));
    jest.setSystemTime(999);
    expect(sut.getItem('a')).toEqual(item('a'));
    jest.setSystemTime(1000);
    expect(sut.getItem('a')).toBeUndefined();
    jest.useRealTimers();
  });

  it('does not keep an answer that was read before the item changed', () => {
    const sut = new ItemCache(1000);
    const ticket = sut.ticket('a');
    sut.evict('a');
    sut.setItem(item('a', 0, 5), ticket);
    expect(sut.getItem('a')).toBeUndefined();
    sut.setItem(item('a', 0, 4), sut.ticket('a'));
    expect(sut.getItem('a')?.quantity).toBe(4);
  });

  it('drops every list page when any item changes', () => {
    const sut = new ItemCache(1000);
    sut.setPage('100|', { items: [] }, sut.pageTicket());
    expect(sut.getPage('100|')).toEqual({ items: [] });
    sut.evict('z');
    expect(sut.getPage('100|')).toBeUndefined();
  });

  it('tells whether the cached copy is older than a price version', () => {
    const sut = new ItemCache(1000);
    sut.setItem(item('a', 2), sut.ticket('a'));
    expect(sut.isOlderThan('a', 2)).toBe(false);
    expect(sut.isOlderThan('a', 3)).toBe(true);
    expect(sut.isOlderThan('b', 3)).toBe(false);
  });

  it('caches nothing with a TTL of 0', () => {
    const sut = new ItemCache(0);
    sut.setItem(item('a'), sut.ticket('a'));
    expect(sut.getItem('a')).toBeUndefined();
  });
});

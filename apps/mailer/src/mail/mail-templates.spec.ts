import { escapeHtml, formatMoney, renderMail } from './mail-templates';

describe(renderMail.name, () => {
  it('shows cents as money, exactly', () => {
    expect(formatMoney(0, 'USD')).toBe('$0.00');
    expect(formatMoney(5, 'USD')).toBe('$0.05');
    expect(formatMoney(123456, 'USD')).toBe('$1,234.56');
    expect(formatMoney(100_000_000_000_01, 'USD')).toBe('$100,000,000,000.01');
    expect(formatMoney(1999, 'EUR')).toBe('€19.99');
  });

  it('renders a completed purchase with the amount, the sku and the reference in both bodies', () => {
    const sut = renderMail('purchase-completed', 'ann@example.com', { name: 'Ann', purchaseId: 'p-1', sku: 'SKU-1', quantity: 2, amount: 2598 }, 'USD');
    expect(sut.subject).toBe('Your purchase of 2 × SKU-1 is confirmed');
    for (const body of [sut.text, sut.html]) {
      expect(body).toContain('Hello Ann,');
      expect(body).toContain('$25.98');
      expect(body).toContain('p-1');
    }
  });

  it('says why a purchase was cancelled and that it was refunded', () => {
    const sut = renderMail('purchase-cancelled', 'a@example.com', { purchaseId: 'p-2', sku: 'S', quantity: 1, amount: 500, reason: 'out of stock' }, 'USD');
    expect(sut.subject).toContain('cancelled and refunded');
    expect(sut.text).toContain('out of stock');
    expect(sut.text).toContain('$5.00 has been refunded');
    expect(sut.text).toContain('Hello a@example.com,');
  });

  it('lists every line of a cart purchase, completed or cancelled', () => {
    const lines = [
      { sku: 'LAMP', quantity: 2, amount: 2000 },
      { sku: 'DESK', quantity: 1, amount: 15000 },
    ];
    const data = { name: 'Ann', purchaseId: 'p-3', sku: 'LAMP', quantity: 3, amount: 17000, lines };
    const completed = renderMail('purchase-completed', 'ann@example.com', data, 'USD');
    expect(completed.subject).toBe('Your purchase of 2 items is confirmed');
    const cancelled = renderMail('purchase-cancelled', 'ann@example.com', { ...data, reason: 'Not enough "DESK" left' }, 'USD');
    expect(cancelled.subject).toBe('Your purchase of 2 items was cancelled and refunded');
    for (const body of [completed.text, completed.html, cancelled.text]) {
      expect(body).toContain('2 × LAMP: $20.00');
      expect(body).toContain('1 × DESK: $150.00');
      expect(body).toContain('$170.00');
    }
    expect(cancelled.text).toContain('DESK');
  });

  it('shows the old and the new price of a price drop', () => {
    const sut = renderMail('price-drop', 'a@example.com', { sku: 'TV-1', itemName: 'Telly', oldPrice: 49900, newPrice: 39900 }, 'USD');
    expect(sut.subject).toBe('Price drop: Telly is now $399.00');
    expect(sut.text).toContain('from $499.00 to $399.00');
  });

  it('welcomes by name', () => {
    expect(renderMail('welcome', 'a@example.com', { name: 'Bo' }, 'USD').text).toContain('Hello Bo,');
  });

  it('escapes what users typed in the HTML body only', () => {
    const sut = renderMail('welcome', 'a@example.com', { name: '<script>x</script>' }, 'USD');
    expect(sut.html).not.toContain('<script>');
    expect(sut.html).toContain('&lt;script&gt;');
    expect(sut.text).toContain('<script>x</script>');
    expect(escapeHtml(`&"'`)).toBe('&amp;&quot;&#39;');
  });
});

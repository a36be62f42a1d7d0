import { DomainError } from '@app/contracts';
import { OpsPageAssets } from './ops-page.assets';

describe(OpsPageAssets.name, () => {
  const sut = new OpsPageAssets();

  it('serves the page, its style and its script with their content types', () => {
    expect(sut.get('index.html')).toMatchObject({ contentType: 'text/html; charset=utf-8', body: expect.stringContaining('<main>') });
    expect(sut.get('ops.css').contentType).toBe('text/css; charset=utf-8');
    expect(sut.get('ops.js').contentType).toBe('text/javascript; charset=utf-8');
  });

  it('loads only files the page links to, with no inline script (the page runs under script-src self)', () => {
    const html = sut.get('index.html').body;
    for (const [, src] of html.matchAll(/(?:src|href)="\/ops\/assets\/([^"]+)"/g)) expect(() => sut.get(src)).not.toThrow();
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(html).not.toMatch(/\son[a-z]+="/);
    expect(html).not.toMatch(/\sstyle="/);
  });

  it('answers OPS_PAGE.NOT_FOUND for any other name', () => {
    for (const name of ['missing.js', '../ops-page.module.ts', '', 'index.html.bak']) {
      expect(() => sut.get(name)).toThrow(expect.objectContaining<Partial<DomainError>>({ code: 'OPS_PAGE.NOT_FOUND', kind: 'not_found' }));
    }
  });
});

import 'reflect-metadata';
import { waitFor } from '@app/testing';
import { mailsTo } from '../../mailer/test/mail-test-support';
import { admin, call, createItem, registerUser, TestUser, unique } from './support/commerce';

async function priceDropMails(user: TestUser) {
  return (await mailsTo(user.email)).filter((m) => m.headers['x-mail-kind'] === 'price-drop');
}

async function changePrice(sku: string, price: number): Promise<void> {
  const reply = await call('PATCH', `/v1/admin/items/${sku}/price`, { token: await admin(), body: { price } });
  expect(reply.status).toBe(202);
}

describe('api: watchlist', () => {
  it('needs a signed-in user', async () => {
    const post = await call('POST', '/v1/me/watchlist', { body: { sku: 'ANY-1' } });
    expect(post.status).toBe(401);
    expect(post.body).toMatchObject({ statusCode: 401, error: 'Unauthorized', message: expect.any(String) });
    expect((await call('DELETE', '/v1/me/watchlist/ANY-1')).status).toBe(401);
  });

  it('rejects a malformed sku or body with 400 and says what is wrong', async () => {
    const user = await registerUser('watch-bad');
    for (const body of [{}, { sku: '' }, { sku: 'has space' }, { sku: 'x'.repeat(65) }, { sku: 'OK-1', extra: true }]) {
      const reply = await call('POST', '/v1/me/watchlist', { token: user.token, body });
      expect(reply.status).toBe(400);
      expect(reply.body).toMatchObject({ statusCode: 400, error: 'Bad Request', message: expect.stringMatching(/sku|extra/) });
    }
    expect((await call('DELETE', '/v1/me/watchlist/has%20space', { token: user.token })).status).toBe(400);
  });

  it('watch and unwatch answer 204, and both are idempotent', async () => {
    const user = await registerUser('watch-idem');
    const sku = unique('W');
    for (let i = 0; i < 2; i++) {
      const watched = await call('POST', '/v1/me/watchlist', { token: user.token, body: { sku } });
      expect(watched.status).toBe(204);
      expect(watched.body).toBeUndefined();
    }
    for (let i = 0; i < 2; i++) expect((await call('DELETE', `/v1/me/watchlist/${sku}`, { token: user.token })).status).toBe(204);
  });

  it('a price drop by an admin mails each watcher once; a rise mails nobody; an unwatched sku mails no more', async () => {
    const sku = await createItem(5, 10_000);
    const [stays, leaves, bystander] = await Promise.all([registerUser('watch-stays'), registerUser('watch-leaves'), registerUser('watch-none')]);
    for (const user of [stays, leaves]) expect((await call('POST', '/v1/me/watchlist', { token: user.token, body: { sku } })).status).toBe(204);

    await changePrice(sku, 8_000);
    await waitFor('the catalog to show the new price', async () => (await call('GET', `/v1/items/${sku}`)).body?.price === 8_000, { timeoutMs: 30_000 });
    for (const user of [stays, leaves]) {
      const [mail] = await waitFor(
        `the price-drop mail for ${user.email}`,
        async () => ((await priceDropMails(user)).length > 0 ? priceDropMails(user) : false),
        {
          timeoutMs: 60_000,
          intervalMs: 250,
        },
      );
      expect(mail.subject).toBe(`Price drop: Item ${sku} is now $80.00`);
      expect(mail.text).toContain('from $100.00 to $80.00');
    }

    expect((await call('DELETE', `/v1/me/watchlist/${sku}`, { token: leaves.token })).status).toBe(204);
    await changePrice(sku, 9_000); // a rise: nobody is mailed
    await changePrice(sku, 7_000); // a drop: only the one still watching

    // Price changes of one sku are handled in order: once the 70.00 mail is in, the rise was handled too.
    const mails = await waitFor(
      'the second price-drop mail for the remaining watcher',
      async () => {
        const got = await priceDropMails(stays);
        return got.length >= 2 ? got : false;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    expect(mails.map((m) => m.subject).sort()).toEqual([`Price drop: Item ${sku} is now $70.00`, `Price drop: Item ${sku} is now $80.00`]);
    expect(await priceDropMails(leaves)).toHaveLength(1);
    expect(await priceDropMails(bystander)).toHaveLength(0);
  }, 180_000);
});

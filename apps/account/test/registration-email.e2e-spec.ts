import { call, unique } from '../../api/test/support/commerce';

jest.setTimeout(60_000);

describe('registration e-mail addresses (e2e)', () => {
  it.each(['"a@b"@example.com', '"x"@evil.com'])('refuses the quoted local part of %s with a 400 a person can act on', async (email) => {
    const reply = await call('POST', '/v1/accounts', { body: { email, password: 'a-long-password', name: 'Q' } });
    expect(reply.status).toBe(400);
    expect(reply.body.message).toContain('email must be a plain address like name@example.com; quoted local parts are not accepted');
  });

  it('refuses an address longer than 254 characters and one with a control character', async () => {
    const long = await call('POST', '/v1/accounts', {
      body: { email: `${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}@example.test`, password: 'a-long-password', name: 'L' },
    });
    expect(long.status).toBe(400);
    expect(long.body.message).toContain('email must be at most 254 characters long');
    const control = await call('POST', '/v1/accounts', { body: { email: `${unique('ctl')}\u0007@example.test`, password: 'a-long-password', name: 'C' } });
    expect(control.status).toBe(400);
    expect(control.body.message).toContain('control');
  });
});

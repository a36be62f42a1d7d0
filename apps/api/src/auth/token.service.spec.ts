import 'reflect-metadata';
import { createHmac } from 'node:crypto';
import { DomainError } from '@app/contracts';
import { ApiEnv } from '../config/api.env';
import { TokenService } from './token.service';

function env(overrides: Partial<ApiEnv> = {}): ApiEnv {
  return Object.assign(new ApiEnv(), overrides);
}

const user = { id: 'u1', email: 'a@example.test', roles: ['admin'], credentialsVersion: 3 };

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof DomainError ? `${error.kind}:${error.code}` : String(error);
  }
  return undefined;
}

describe(TokenService.name, () => {
  const sut = new TokenService(env());

  it('verifies what it signed, with the claims the guard needs', () => {
    const claims = sut.verify(sut.sign(user));
    expect(claims).toMatchObject({ sub: 'u1', email: 'a@example.test', roles: ['admin'], cv: 3, iss: 'retail-api', aud: 'retail-clients' });
    expect(claims.exp - claims.iat).toBe(900);
  });

  it('refuses an expired token', () => {
    const token = sut.sign(user, Date.now() - 3600_000);
    expect(codeOf(() => sut.verify(token))).toBe('unauthenticated:AUTH.TOKEN_EXPIRED');
  });

  it('refuses a tampered payload, another secret, issuer or audience, and alg none', () => {
    const [h, p, s] = sut.sign(user).split('.');
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...payload, sub: 'u2' })).toString('base64url')}.${s}`;
    expect(codeOf(() => sut.verify(tampered))).toBe('unauthenticated:AUTH.INVALID_TOKEN');
    expect(codeOf(() => new TokenService(env({ JWT_SECRET: 'x'.repeat(40) })).verify(`${h}.${p}.${s}`))).toBe('unauthenticated:AUTH.INVALID_TOKEN');
    expect(codeOf(() => new TokenService(env({ JWT_ISSUER: 'other' })).verify(`${h}.${p}.${s}`))).toBe('unauthenticated:AUTH.INVALID_TOKEN');
    expect(codeOf(() => new TokenService(env({ JWT_AUDIENCE: 'other' })).verify(`${h}.${p}.${s}`))).toBe('unauthenticated:AUTH.INVALID_TOKEN');
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${p}.`;
    expect(codeOf(() => sut.verify(none))).toBe('unauthenticated:AUTH.INVALID_TOKEN');
    const hs512Header = Buffer.from('{"alg":"HS512","typ":"JWT"}').toString('base64url');
    const hs512 = `${hs512Header}.${p}.${createHmac('sha512', new ApiEnv().JWT_SECRET).update(`${hs512Header}.${p}`).digest('base64url')}`;
    expect(codeOf(() => sut.verify(hs512))).toBe('unauthenticated:AUTH.INVALID_TOKEN');
    expect(codeOf(() => sut.verify('garbage'))).toBe('unauthenticated:AUTH.INVALID_TOKEN');
  });

  it('refuses a correctly signed token without an expiry', () => {
    const [h, p] = sut.sign(user).split('.');
    const { exp: _exp, ...payload } = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    const signature = createHmac('sha256', new ApiEnv().JWT_SECRET).update(`${h}.${body}`).digest('base64url');
    expect(codeOf(() => sut.verify(`${h}.${body}.${signature}`))).toBe('unauthenticated:AUTH.INVALID_TOKEN');
  });
});

import { PasswordHasher } from './password-hasher';

// Small costs keep the suite fast; the format and the decisions do not depend on them.
const weak = { N: 1024, r: 8, p: 1 };
const strong = { N: 2048, r: 8, p: 2 };
/** Made with N=1024, r=8, p=1 by the hasher before PASSWORD_SCRYPT_PARALLELISM existed. */
const OLD_HASH = 'scrypt$1024$8$1$MDEyMzQ1Njc4OWFiY2RlZg$PPGGAop7if6u9JGyYr3k8GUQxa9xE_YGjIO5gIcXQsWQCzfxQR7WuEchdivDF-rSJSAXqNOuONudQ9ZVeQ3iOA';

describe(PasswordHasher.name, () => {
  it('writes its parameters into the hash and verifies only the right password', async () => {
    const sut = new PasswordHasher(strong);
    const hash = await sut.hash('correct horse battery');
    expect(hash).toMatch(/^scrypt\$2048\$8\$2\$[\w-]{22}\$[\w-]{86}$/);
    expect(await sut.verify('correct horse battery', hash)).toBe(true);
    expect(await sut.verify('correct horse batterY', hash)).toBe(false);
  });

  it('verifies a hash made with older, weaker parameters', async () => {
    const sut = new PasswordHasher(strong);
    expect(await sut.verify('old password', OLD_HASH)).toBe(true);
    expect(await sut.verify('other password', OLD_HASH)).toBe(false);
    expect(await sut.verify('old password', await new PasswordHasher(weak).hash('old password'))).toBe(true);
  });

  it('asks for a rehash when the stored hash costs less memory or less work than configured', () => {
    const sut = new PasswordHasher({ N: 2 ** 14, r: 8, p: 5 });
    expect(sut.needsRehash('scrypt$16384$8$1$c2FsdA$a2V5')).toBe(true);
    expect(sut.needsRehash('scrypt$8192$8$10$c2FsdA$a2V5')).toBe(true);
    expect(sut.needsRehash('scrypt$16384$8$5$c2FsdA$a2V5')).toBe(false);
    // Stronger on both counts: kept, so lowering the settings never weakens a stored hash.
    expect(sut.needsRehash('scrypt$131072$8$1$c2FsdA$a2V5')).toBe(false);
    expect(sut.needsRehash('not a hash')).toBe(false);
  });

  it('refuses malformed hashes and parameters that would take unbounded memory, without deriving', async () => {
    const sut = new PasswordHasher(weak);
    for (const stored of ['', 'bcrypt$x', 'scrypt$1000$8$1$c2FsdA$a2V5', 'scrypt$1024$8$1$c2FsdA', 'scrypt$4194304$8$1$c2FsdA$a2V5', 'scrypt$1024$8$1$a$b$c']) {
      expect(await sut.verify('password', stored)).toBe(false);
    }
  });

  it('refuses to be configured outside the bounds it verifies within', () => {
    expect(() => new PasswordHasher({ N: 1000, r: 8, p: 1 })).toThrow(/out of bounds/);
    expect(() => new PasswordHasher({ N: 2 ** 20, r: 8, p: 16 })).not.toThrow();
  });
});

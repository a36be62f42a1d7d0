import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { emailAddressProblem, IsPlainEmailAddress, MAX_EMAIL_LENGTH } from './email-address';

class Sample {
  @IsPlainEmailAddress() email: string;
}

describe(emailAddressProblem.name, () => {
  it.each(['name@example.com', 'first.last+tag@sub.example.co', "o'brien@example.ie", 'é@example.com'])('accepts %s', (email) => {
    expect(emailAddressProblem(email)).toBeUndefined();
  });

  it.each(['"a@b"@example.com', '"x"@evil.com', 'a"b@example.com'])('refuses the quoted %s and says why', (email) => {
    expect(emailAddressProblem(email)).toBe('email must be a plain address like name@example.com; quoted local parts are not accepted');
  });

  it.each(['a\u0000b@example.com', 'a\nb@example.com', 'a\u007f@example.com', 'a\u0085@example.com', 'ab\u202e@example.com', 'a\u200b@example.com'])(
    'refuses control and invisible characters (%j)',
    (email) => {
      expect(emailAddressProblem(email)).toBe('email must not contain control or invisible formatting characters');
    },
  );

  it('refuses more than 254 characters, and accepts 254', () => {
    const domain = `${'d'.repeat(60)}.${'e'.repeat(60)}.${'f'.repeat(60)}.example.com`;
    const at254 = `${'a'.repeat(MAX_EMAIL_LENGTH - domain.length - 1)}@${domain}`;
    expect(at254).toHaveLength(254);
    expect(emailAddressProblem(at254)).toBeUndefined();
    expect(emailAddressProblem(`a${at254}`)).toBe('email must be at most 254 characters long');
  });

  it.each(['plain', 'a@b@example.com', 'a@localhost', 'Name <a@example.com>', 'a@[127.0.0.1]', '', 'a b@example.com'])('refuses %j', (email) => {
    expect(emailAddressProblem(email)).toBe('email must be a plain address like name@example.com');
  });

  it('names the field it checks', () => {
    expect(emailAddressProblem(42, 'ADMIN_EMAIL')).toBe('ADMIN_EMAIL must be a string');
  });
});

describe(IsPlainEmailAddress.name, () => {
  it('reports the rule that failed, under the property name', () => {
    const [error] = validateSync(plainToInstance(Sample, { email: '"x"@evil.com' }));
    expect(Object.values(error.constraints!)).toEqual(['email must be a plain address like name@example.com; quoted local parts are not accepted']);
    expect(validateSync(plainToInstance(Sample, { email: 'x@example.com' }))).toEqual([]);
  });
});

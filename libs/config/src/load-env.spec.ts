import { IsString } from 'class-validator';
import { BaseEnv, Port, WithKafka } from './env.fragments';
import { InvalidEnvironmentError, validateEnv } from './load-env';

class SampleEnv extends WithKafka(BaseEnv) {
  @Port()
  SAMPLE_PORT = 3999;

  @IsString()
  REQUIRED_SECRET: string;
}

describe(validateEnv.name, () => {
  it('applies the development defaults to unset variables and converts numbers', () => {
    const sut = validateEnv(SampleEnv, { REQUIRED_SECRET: 's', SAMPLE_PORT: '4100' });
    expect(sut.SAMPLE_PORT).toBe(4100);
    expect(sut.kafkaBrokers).toEqual(['127.0.0.1:9092']);
    expect(sut.NODE_ENV).toBe('development');
  });

  it('names the variable, the rule and the value it got', () => {
    expect(() => validateEnv(SampleEnv, { REQUIRED_SECRET: 's', SAMPLE_PORT: 'abc' })).toThrow(
      'SAMPLE_PORT must be an integer number',
    );
    expect(() => validateEnv(SampleEnv, { REQUIRED_SECRET: 's', KAFKA_BROKERS: 'not a list' })).toThrow(
      /KAFKA_BROKERS must be a comma-separated list of host:port \(got "not a list"\)/,
    );
  });

  it('reports a missing required variable as not set', () => {
    try {
      validateEnv(SampleEnv, {});
      fail('expected an error');
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidEnvironmentError);
      expect((error as Error).message).toContain('REQUIRED_SECRET must be a string (not set)');
    }
  });

  it('rejects an unknown NODE_ENV', () => {
    expect(() => validateEnv(SampleEnv, { REQUIRED_SECRET: 's', NODE_ENV: 'prod' })).toThrow(/NODE_ENV/);
  });
});

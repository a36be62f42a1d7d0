import { IsString } from 'class-validator';
import { BaseEnv, Port, WithKafka, WithRabbitmq } from './env.fragments';
import { InvalidEnvironmentError, validateEnv } from './load-env';

class SampleEnv extends WithKafka(BaseEnv) {
  @Port()
  SAMPLE_PORT = 3999;

  @IsString()
  REQUIRED_SECRET: string;
}

class RabbitSampleEnv extends WithRabbitmq(SampleEnv) {}

describe(validateEnv.name, () => {
  it('applies the development defaults to unset variables and converts numbers', () => {
    const sut = validateEnv(SampleEnv, { NODE_ENV: 'development', REQUIRED_SECRET: 's', SAMPLE_PORT: '4100' });
    expect(sut.SAMPLE_PORT).toBe(4100);
    expect(sut.kafkaBrokers).toEqual(['127.0.0.1:9092']);
    expect(sut.NODE_ENV).toBe('development');
    expect(sut.HTTP_REQUEST_TIMEOUT_MS).toBe(60_000);
  });

  it('requires NODE_ENV to be set explicitly', () => {
    expect(() => validateEnv(SampleEnv, { REQUIRED_SECRET: 's' })).toThrow(/NODE_ENV must be set to development, test or production .*\(not set\)/);
  });

  it('never echoes the value of a secret or a URL', () => {
    const run = () => validateEnv(RabbitSampleEnv, { NODE_ENV: 'test', RABBITMQ_URL: 'http://user:hunter2@host', REQUIRED_SECRET: 's' });
    expect(run).toThrow(/RABBITMQ_URL must be an amqp:\/\/ or amqps:\/\/ URL \(set; its value is not shown\)/);
    expect(run).not.toThrow(/hunter2/);
  });

  it('refuses the default broker credentials in production only', () => {
    expect(validateEnv(RabbitSampleEnv, { NODE_ENV: 'test', REQUIRED_SECRET: 's' }).RABBITMQ_URL).toContain('guest:guest@');
    expect(() => validateEnv(RabbitSampleEnv, { NODE_ENV: 'production', REQUIRED_SECRET: 's' })).toThrow(
      /RABBITMQ_URL must carry credentials of your own in production/,
    );
    expect(validateEnv(RabbitSampleEnv, { NODE_ENV: 'production', REQUIRED_SECRET: 's', RABBITMQ_URL: 'amqp://shop:s3cret@mq:5672' }).RABBITMQ_URL).toBe(
      'amqp://shop:s3cret@mq:5672',
    );
  });

  it('names the variable, the rule and the value it got', () => {
    expect(() => validateEnv(SampleEnv, { NODE_ENV: 'test', REQUIRED_SECRET: 's', SAMPLE_PORT: 'abc' })).toThrow('SAMPLE_PORT must be an integer number');
    expect(() => validateEnv(SampleEnv, { NODE_ENV: 'test', REQUIRED_SECRET: 's', KAFKA_BROKERS: 'not a list' })).toThrow(
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

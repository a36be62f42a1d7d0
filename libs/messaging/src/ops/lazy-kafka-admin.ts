import { Admin } from 'kafkajs';
import { createProbeKafka } from '../kafka/kafka.factory';
import type { KafkaOptions } from '../kafka/kafka.tokens';

/**
 * One Kafka admin client, connected on first use and shared by concurrent callers. After a failure
 * it is dropped rather than trusted to recover, and the next use connects a fresh one.
 */
export class LazyKafkaAdmin {
  private admin?: Promise<Admin>;

  constructor(
    private readonly options: KafkaOptions,
    private readonly purpose: string,
  ) {}

  get(): Promise<Admin> {
    this.admin ??= (async () => {
      const admin = createProbeKafka(this.options, this.purpose).admin();
      try {
        await admin.connect();
        return admin;
      } catch (error) {
        this.admin = undefined;
        await admin.disconnect().catch(() => undefined);
        throw error;
      }
    })();
    return this.admin;
  }

  /** Forgets the client (after an error, or at shutdown) and disconnects it. */
  async drop(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    await admin?.then((a) => a.disconnect()).catch(() => undefined);
  }
}

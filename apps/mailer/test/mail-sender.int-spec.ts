import 'reflect-metadata';
import { Test, TestingModule } from '@nestjs/testing';
import { Client } from 'cassandra-driver';
import { join } from 'node:path';
import { createTransport } from 'nodemailer';
import { CASSANDRA_CLIENT, CassandraModule } from '@app/cassandra';
import { validateEnv } from '@app/config';
import { DomainError, SendMail } from '@app/contracts';
import { waitFor } from '@app/testing';
import { MailerEnv } from '../src/config/mailer.env';
import { MailLogRepository } from '../src/mail/mail-log.repository';
import { MailErrorCodes, MailSenderService } from '../src/mail/mail-sender.service';
import { SmtpModule } from '../src/smtp/smtp.module';
import { mailsTo, uniqueAddress } from './mail-test-support';

/** The mails to `to` once at least one is in MailDev: SMTP's accept comes before MailDev lists the mail. */
const arrivedMailsTo = (to: string) =>
  waitFor(`a mail to ${to} in MailDev`, async () => {
    const mails = await mailsTo(to);
    return mails.length > 0 ? mails : undefined;
  });

jest.setTimeout(120_000);

describe('MailSenderService (integration: real Cassandra and MailDev)', () => {
  let moduleRef: TestingModule;
  let sut: MailSenderService;
  let log: MailLogRepository;
  let env: MailerEnv;

  beforeAll(async () => {
    env = validateEnv(MailerEnv, { ...process.env, NODE_ENV: 'test', MAIL_CLAIM_LEASE_SECONDS: '30' });
    moduleRef = await Test.createTestingModule({
      imports: [
        CassandraModule.forRoot({
          contactPoints: env.cassandraContactPoints,
          localDataCenter: env.CASSANDRA_LOCAL_DC,
          keyspace: 'mailer',
          replicationFactor: env.CASSANDRA_REPLICATION_FACTOR,
          migrationsDir: join(__dirname, '../src/migrations'),
        }),
        SmtpModule.forRoot(env),
      ],
      providers: [{ provide: MailerEnv, useValue: env }, MailLogRepository, MailSenderService],
    }).compile();
    moduleRef.useLogger(false);
    await moduleRef.init();
    sut = moduleRef.get(MailSenderService);
    log = moduleRef.get(MailLogRepository);
  });

  afterAll(async () => {
    await moduleRef?.close();
  });

  const welcome = (to: string): SendMail => ({ to, kind: 'welcome', data: { name: 'It' } });

  it('sends one mail when 20 deliveries of the same id race (two instances, redeliveries)', async () => {
    const to = uniqueAddress('race');
    const outcomes = await Promise.allSettled(Array.from({ length: 20 }, () => sut.send(welcome(to), `race:${to}`, 'c')));
    const sent = outcomes.filter((o) => o.status === 'fulfilled' && o.value === 'sent');
    expect(sent).toHaveLength(1);
    for (const o of outcomes) {
      if (o.status === 'rejected') expect((o.reason as DomainError).code).toBe(MailErrorCodes.InProgress);
    }
    // The losers come back as retries and find it sent.
    await expect(sut.send(welcome(to), `race:${to}`, 'c')).resolves.toBe('duplicate');
    expect(await arrivedMailsTo(to)).toHaveLength(1);
    expect((await log.find(`race:${to}`))?.state).toBe('sent');
  });

  it('takes over a claim left behind by a sender that died before recording the outcome', async () => {
    const to = uniqueAddress('stale');
    const id = `stale:${to}`;
    const client = moduleRef.get<Client>(CASSANDRA_CLIENT);
    await client.execute(
      `INSERT INTO sent_mail (message_id, state, claim_token, claimed_at, recipient, kind) VALUES (?, 'sending', 'dead-owner', ?, ?, 'welcome')`,
      [id, new Date(Date.now() - 31_000), to],
      { prepare: true },
    );
    await expect(sut.send(welcome(to), id, 'c')).resolves.toBe('sent');
    await expect(sut.send(welcome(to), id, 'c')).resolves.toBe('duplicate');
    expect(await arrivedMailsTo(to)).toHaveLength(1);
  });

  it('gives the id back when the SMTP server cannot be reached, so a retry sends it', async () => {
    const to = uniqueAddress('down');
    const id = `down:${to}`;
    const deadTransport = createTransport({ host: '127.0.0.1', port: 1, connectionTimeout: 1000 });
    const offline = new MailSenderService(deadTransport, log, env);
    const error = (await offline.send(welcome(to), id, 'c').catch((e: unknown) => e)) as DomainError;
    expect(error.code).toBe(MailErrorCodes.SmtpUnavailable);
    expect(error.retryable).toBe(true);
    expect(await log.find(id)).toBeUndefined();

    await expect(sut.send(welcome(to), id, 'c')).resolves.toBe('sent');
    expect(await arrivedMailsTo(to)).toHaveLength(1);
  });
});

import 'reflect-metadata';
import { firstValueFrom, Observable, toArray } from 'rxjs';
import { DomainError, PurchaseView, RpcContract } from '@app/contracts';
import { RabbitRecord } from '@app/messaging';
import { ApiEnv } from '../config/api.env';
import { MAX_STREAMS_PER_USER, PurchaseFollowers } from './purchase-followers';
import { MAX_WAITS_PER_USER, purchaseIdFor, PurchasesService, PurchaseStreamEvent } from './purchases.service';

/** A stub of RabbitClient.request (a port of our own) that sees queue names and payloads. */
function rabbitStub(answer: (queue: string, message: any) => Promise<unknown>) {
  return {
    request: jest.fn((contract: RpcContract, data: object) => answer(contract.pattern, data instanceof RabbitRecord ? data.data : data)),
  };
}

function view(status: PurchaseView['status'], purchaseId = 'p1'): PurchaseView {
  return {
    purchaseId,
    sku: 'S',
    quantity: 1,
    amount: 5,
    lines: [{ sku: 'S', quantity: 1, unitPrice: 5, amount: 5 }],
    status,
    createdAt: '2026-12-01T10:00:00.000Z',
    updatedAt: '2026-12-01T10:00:01.000Z',
  };
}

function env(settings: Partial<ApiEnv> = {}): ApiEnv {
  return Object.assign(new ApiEnv(), settings);
}

function subject(rpc: { request: jest.Mock }, settings: Partial<ApiEnv> = {}) {
  const e = env(settings);
  const followers = new PurchaseFollowers(rpc as any, e);
  return { sut: new PurchasesService(rpc as any, followers, e), followers };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe(PurchasesService.name, () => {
  it('names the same purchase for the same user and Idempotency-Key, another for anyone else', () => {
    const id = purchaseIdFor('u1', 'k1');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(purchaseIdFor('u1', 'k1')).toBe(id);
    expect(purchaseIdFor('u2', 'k1')).not.toBe(id);
    expect(purchaseIdFor('u1', 'k2')).not.toBe(id);
  });

  it('passes the catalog price to account, and no price for an sku the catalog does not know', async () => {
    const requests: [string, any][] = [];
    const rpc = rabbitStub(async (queue, message) => {
      requests.push([queue, message]);
      if (queue === 'shop.rpc.get-item') {
        if (message.sku === 'known') return { sku: 'known', name: 'K', price: 250, quantity: 3, priceVersion: 0 };
        throw new DomainError('ITEM.NOT_FOUND', 'not_found', 'no such item');
      }
      return { purchaseId: message.purchaseId, status: 'PENDING' };
    });
    const { sut } = subject(rpc);
    await sut.place('u1', 'known', 2, 'key');
    await sut.place('u1', 'unknown', 1);
    const placed = requests.filter(([q]) => q === 'account.rpc.place-purchase').map(([, m]) => m);
    expect(placed[0]).toMatchObject({ purchaseId: purchaseIdFor('u1', 'key'), userId: 'u1', sku: 'known', quantity: 2, unitPrice: 250 });
    expect(placed[1].unitPrice).toBeUndefined();
  });

  it('lets a shop outage through as the 503 it is, instead of rejecting the purchase', async () => {
    const rpc = { request: jest.fn(async () => Promise.reject(new DomainError('RPC.TIMEOUT', 'unavailable', 'no answer'))) };
    const { sut } = subject(rpc);
    await expect(sut.place('u1', 'x', 1)).rejects.toMatchObject({ kind: 'unavailable' });
    expect(rpc.request).toHaveBeenCalledTimes(1);
  });

  describe('the long poll', () => {
    it('answers as soon as the broadcast brings the terminal status, whichever account instance moved it', async () => {
      const rpc = rabbitStub(async (_q, m) => view('PENDING', m.purchaseId));
      const { sut, followers } = subject(rpc);
      const polled = sut.get('u1', 'p1', 20_000);
      await tick();
      followers.deliver('u2', view('COMPLETED')); // another user's notice for the same id: not this one's
      followers.deliver('u1', view('PENDING'));
      followers.deliver('u1', view('COMPLETED'));
      await expect(polled).resolves.toMatchObject({ status: 'COMPLETED' });
      expect(rpc.request).toHaveBeenCalledTimes(1);
    });

    it('catches a change between its read and its wait, and reads again when the wait runs out', async () => {
      let reads = 0;
      const rpc = rabbitStub(async () => view(++reads > 1 ? 'REJECTED' : 'PENDING'));
      const { sut, followers } = subject(rpc);
      const early = sut.get('u1', 'p1', 20_000);
      followers.deliver('u1', view('CANCELLED')); // before the read answered
      await expect(early).resolves.toMatchObject({ status: 'CANCELLED' });
      await expect(sut.get('u1', 'p1', 30)).resolves.toMatchObject({ status: 'REJECTED' });
    });

    it(`holds at most ${MAX_WAITS_PER_USER} per user; past that, answers at once`, async () => {
      const rpc = rabbitStub(async (_q, m) => view('PENDING', m.purchaseId));
      const { sut, followers } = subject(rpc);
      const waits = Array.from({ length: MAX_WAITS_PER_USER }, (_, i) => sut.get('u1', `p${i}`, 10_000));
      await expect(sut.get('u1', 'px', 10_000)).resolves.toMatchObject({ status: 'PENDING' });
      await expect(sut.get('u2', 'py', 0)).resolves.toMatchObject({ status: 'PENDING' });
      for (let i = 0; i < MAX_WAITS_PER_USER; i++) followers.deliver('u1', view('COMPLETED', `p${i}`));
      await expect(Promise.all(waits)).resolves.toHaveLength(MAX_WAITS_PER_USER);
    });
  });

  describe('the event stream', () => {
    const events = (stream: Observable<PurchaseStreamEvent> | undefined) => firstValueFrom(stream!.pipe(toArray()));

    it('sends the purchase as read, then each new status once, and ends after the terminal one', async () => {
      const rpc = rabbitStub(async () => view('PENDING'));
      const { sut, followers } = subject(rpc);
      const stream = await sut.stream('u1', 'p1');
      const all = events(stream);
      followers.deliver('u1', view('PENDING'));
      followers.deliver('u1', view('COMPLETED'));
      followers.deliver('u1', view('COMPLETED'));
      expect(await all).toEqual([
        { id: 'PENDING', data: view('PENDING') },
        { id: 'COMPLETED', data: view('COMPLETED') },
      ]);
      expect(followers.openStreams).toBe(0);
    });

    it('hands on a change that came while the first read was under way, after the first event', async () => {
      let answer!: (v: PurchaseView) => void;
      const rpc = { request: jest.fn(() => new Promise<PurchaseView>((resolve) => (answer = resolve))) };
      const { sut, followers } = subject(rpc);
      const opened = sut.stream('u1', 'p1');
      followers.deliver('u1', view('REJECTED'));
      answer(view('PENDING'));
      expect((await events(await opened)).map((e) => ('id' in e ? e.id : e))).toEqual(['PENDING', 'REJECTED']);
    });

    it('ends at once on a terminal purchase, and says there is nothing more after the terminal event a client already has', async () => {
      const rpc = rabbitStub(async () => view('CANCELLED'));
      const { sut } = subject(rpc);
      expect(await events(await sut.stream('u1', 'p1'))).toEqual([{ id: 'CANCELLED', data: view('CANCELLED') }]);
      expect(await sut.stream('u1', 'p1', { lastEventId: 'CANCELLED' })).toBeUndefined();
      expect(await events(await sut.stream('u1', 'p1', { lastEventId: 'PENDING' }))).toHaveLength(1);
    });

    it('refuses another user’s purchase before the stream starts, and keeps no follower for it', async () => {
      const rpc = { request: jest.fn(async () => Promise.reject(new DomainError('PURCHASE.NOT_FOUND', 'not_found', 'none of yours'))) };
      const { sut, followers } = subject(rpc);
      await expect(sut.stream('u2', 'p1')).rejects.toMatchObject({ kind: 'not_found' });
      expect(followers.openStreams).toBe(0);
    });

    it('forgets a stream when its client leaves, also while its first read is under way', async () => {
      let answer!: (v: PurchaseView) => void;
      const rpc = { request: jest.fn(() => new Promise<PurchaseView>((resolve) => (answer = resolve))) };
      const { sut, followers } = subject(rpc);
      const gone = new AbortController();
      const opened = sut.stream('u1', 'p1', { signal: gone.signal });
      expect(followers.openStreams).toBe(1);
      gone.abort();
      expect(followers.openStreams).toBe(0);
      answer(view('PENDING'));
      await opened;
      const reopened = sut.stream('u1', 'p1');
      answer(view('PENDING'));
      const subscription = (await reopened)!.subscribe();
      expect(followers.openStreams).toBe(1);
      subscription.unsubscribe();
      expect(followers.openStreams).toBe(0);
    });

    it(`refuses a stream past PURCHASE_STREAMS_MAX (503) and past ${MAX_STREAMS_PER_USER} per user`, async () => {
      const rpc = rabbitStub(async () => view('PENDING'));
      const { sut, followers } = subject(rpc, { PURCHASE_STREAMS_MAX: MAX_STREAMS_PER_USER + 1 });
      const open = [];
      for (let i = 0; i < MAX_STREAMS_PER_USER; i++) open.push((await sut.stream('u1', 'p1'))!.subscribe());
      await expect(sut.stream('u1', 'p1')).rejects.toMatchObject({ code: 'PURCHASE.TOO_MANY_STREAMS' });
      open.push((await sut.stream('u2', 'p1'))!.subscribe());
      await expect(sut.stream('u3', 'p1')).rejects.toMatchObject({ code: 'PURCHASE.STREAMS_FULL', kind: 'unavailable' });
      for (const subscription of open) subscription.unsubscribe();
      expect(followers.openStreams).toBe(0);
    });

    it('sends a comment every PURCHASE_STREAM_HEARTBEAT_MS', async () => {
      jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick'] });
      try {
        const rpc = rabbitStub(async () => view('PENDING'));
        const { sut } = subject(rpc, { PURCHASE_STREAM_HEARTBEAT_MS: 1_000 });
        const seen: PurchaseStreamEvent[] = [];
        const subscription = (await sut.stream('u1', 'p1'))!.subscribe((e) => seen.push(e));
        jest.advanceTimersByTime(2_500);
        expect(seen.slice(1)).toEqual([{ comment: 'keep-alive' }, { comment: 'keep-alive' }]);
        subscription.unsubscribe();
      } finally {
        jest.useRealTimers();
      }
    });
  });
});

describe(PurchaseFollowers.name, () => {
  it('reads every followed purchase again and hands on what changed (a missed broadcast)', async () => {
    const rpc = rabbitStub(async (_q, m) => view('COMPLETED', m.purchaseId));
    const sut = new PurchaseFollowers(rpc as any, env());
    const heard: string[] = [];
    const a = sut.follow('u1', 'p1', 'stream', { changed: (v) => heard.push(`a:${v.status}`), ended: () => undefined });
    sut.follow('u1', 'p1', 'wait', { changed: (v) => heard.push(`b:${v.status}`), ended: () => undefined });
    sut.follow('u2', 'p2', 'stream', { changed: (v) => heard.push(`c:${v.status}`), ended: () => undefined });
    await sut.resync();
    expect(heard.sort()).toEqual(['a:COMPLETED', 'b:COMPLETED', 'c:COMPLETED']);
    // One read per followed purchase and user, however many follow it.
    expect(rpc.request).toHaveBeenCalledTimes(2);
    a.close();
    a.close();
    expect(sut.openStreams).toBe(1);
  });

  it('ends every follower when the instance shuts down', () => {
    const sut = new PurchaseFollowers(rabbitStub(async () => view('PENDING')) as any, env());
    const ended: string[] = [];
    sut.follow('u1', 'p1', 'stream', { changed: () => undefined, ended: () => ended.push('stream') });
    sut.follow('u1', 'p2', 'wait', { changed: () => undefined, ended: () => ended.push('wait') });
    sut.beforeApplicationShutdown();
    expect(ended.sort()).toEqual(['stream', 'wait']);
  });
});

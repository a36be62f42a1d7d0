import { APP_NAMES, appUrl } from '@app/testing';

describe('every app', () => {
  it.each(APP_NAMES)('%s answers live, ready and metrics', async (name) => {
    const live = await fetch(`${appUrl(name)}/health/live`);
    expect(live.status).toBe(200);

    const ready = await fetch(`${appUrl(name)}/health/ready`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { status: string }).status).toBe('ok');

    const metrics = await fetch(`${appUrl(name)}/metrics`);
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain(`app="${name}"`);
  });
});

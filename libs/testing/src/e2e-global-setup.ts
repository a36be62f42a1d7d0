import { startAllApps, stopAllApps } from './apps';

/** End-to-end tests share one running system: the six compiled apps on the test ports. */
export default async function globalSetup(): Promise<void> {
  await stopAllApps();
  await startAllApps();
}

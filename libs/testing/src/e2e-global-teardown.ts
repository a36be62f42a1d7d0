import { stopAllApps } from './apps';

export default async function globalTeardown(): Promise<void> {
  await stopAllApps();
}

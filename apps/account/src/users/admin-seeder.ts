import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { AccountEnv } from '../config/account.env';
import { OPS_ROLE, UsersService } from './users.service';

/**
 * Once account has started, the admin from ADMIN_EMAIL / ADMIN_PASSWORD exists with the role, and
 * every existing account in OPS_EMAILS has the `ops` role. A failure here stops the start.
 */
@Injectable()
export class AdminSeeder implements OnApplicationBootstrap {
  private readonly logger = new Logger(AdminSeeder.name);

  constructor(
    private readonly users: UsersService,
    private readonly env: AccountEnv,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const admin = await this.users.ensureAdmin(this.env.ADMIN_EMAIL, this.env.ADMIN_PASSWORD);
    this.logger.log({ msg: 'admin account ensured', email: this.env.ADMIN_EMAIL, outcome: admin });
    for (const email of this.env.opsEmails) {
      const outcome = await this.users.grantRole(email, OPS_ROLE);
      if (outcome === 'no-account') this.logger.log({ msg: 'OPS_EMAILS address has no account yet; skipped', email });
      else this.logger.log({ msg: 'ops role ensured', email, outcome });
    }
  }
}

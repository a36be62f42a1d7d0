import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { AccountEnv } from '../config/account.env';
import { UsersService } from './users.service';

/** The admin from ADMIN_EMAIL / ADMIN_PASSWORD exists (with the role) once account has started. */
@Injectable()
export class AdminSeeder implements OnApplicationBootstrap {
  private readonly logger = new Logger(AdminSeeder.name);

  constructor(
    private readonly users: UsersService,
    private readonly env: AccountEnv,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.users.ensureAdmin(this.env.ADMIN_EMAIL, this.env.ADMIN_PASSWORD);
    this.logger.log({ msg: 'admin account ensured', email: this.env.ADMIN_EMAIL });
  }
}

import { Inject, Injectable } from '@nestjs/common';
import { Client, types } from 'cassandra-driver';
import { CASSANDRA_CLIENT } from '@app/cassandra';

export interface User {
  id: string;
  email: string;
  name: string;
  passwordHash: string;
  roles: string[];
  credentialsVersion: number;
  createdAt: Date;
}

function toUser(row: types.Row): User {
  return {
    id: row.get('id'),
    email: row.get('email'),
    name: row.get('name'),
    passwordHash: row.get('password_hash'),
    roles: (row.get('roles') as string[] | null) ?? [],
    credentialsVersion: (row.get('credentials_version') as number | null) ?? 0,
    createdAt: row.get('created_at'),
  };
}

@Injectable()
export class UserRepository {
  constructor(@Inject(CASSANDRA_CLIENT) private readonly client: Client) {}

  async insert(user: User): Promise<void> {
    await this.client.execute('INSERT INTO users (id, email, name, password_hash, roles, credentials_version, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)', [
      user.id,
      user.email,
      user.name,
      user.passwordHash,
      user.roles,
      user.credentialsVersion,
      user.createdAt,
    ]);
  }

  async delete(id: string): Promise<void> {
    await this.client.execute('DELETE FROM users WHERE id = ?', [id]);
  }

  /** Claims `emailKey` for `userId`; returns the owner (ours when the claim won). */
  async claimEmail(emailKey: string, userId: string): Promise<{ won: boolean; owner: string }> {
    const result = await this.client.execute('INSERT INTO users_by_email (email, user_id) VALUES (?, ?) IF NOT EXISTS', [emailKey, userId]);
    return result.wasApplied() ? { won: true, owner: userId } : { won: false, owner: result.first().get('user_id') };
  }

  async findById(id: string): Promise<User | undefined> {
    const row = (await this.client.execute('SELECT * FROM users WHERE id = ?', [id])).first();
    return row ? toUser(row) : undefined;
  }

  async findByEmail(emailKey: string): Promise<User | undefined> {
    const row = (await this.client.execute('SELECT user_id FROM users_by_email WHERE email = ?', [emailKey])).first();
    return row ? this.findById(row.get('user_id')) : undefined;
  }

  async addRole(id: string, role: string): Promise<void> {
    await this.client.execute('UPDATE users SET roles = roles + ? WHERE id = ?', [[role], id]);
  }

  /**
   * The same password under stronger parameters: the credentials version stays (tokens remain
   * valid), and only the hash that was just verified is replaced, so a password change in between wins.
   */
  async replacePasswordHash(id: string, passwordHash: string, verifiedHash: string): Promise<boolean> {
    const result = await this.client.execute('UPDATE users SET password_hash = ? WHERE id = ? IF password_hash = ?', [passwordHash, id, verifiedHash]);
    return result.wasApplied();
  }

  /** Compare-and-set, so two concurrent changes cannot both win from the same version. */
  async changePassword(id: string, passwordHash: string, fromVersion: number): Promise<boolean> {
    const result = await this.client.execute('UPDATE users SET password_hash = ?, credentials_version = ? WHERE id = ? IF credentials_version = ?', [
      passwordHash,
      fromVersion + 1,
      id,
      fromVersion,
    ]);
    return result.wasApplied();
  }
}

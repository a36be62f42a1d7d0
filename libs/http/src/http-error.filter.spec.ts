import { BadRequestException, ServiceUnavailableException } from '@nestjs/common';
import { DomainError } from '@app/contracts';
import { toErrorBody } from './http-error.filter';

describe(toErrorBody.name, () => {
  it('maps a domain error kind to its status, keeping the message', () => {
    const sut = toErrorBody(new DomainError('ITEM.SKU_TAKEN', 'conflict', 'An item with sku A-1 already exists.'));
    expect(sut).toEqual({ statusCode: 409, error: 'Conflict', message: 'An item with sku A-1 already exists.', code: 'ITEM.SKU_TAKEN' });
  });

  it('lists every validation problem in details', () => {
    const sut = toErrorBody(new BadRequestException(['email must be an email', 'password is too short']));
    expect(sut.statusCode).toBe(400);
    expect(sut.message).toContain('email must be an email');
    expect(sut.details).toEqual(['email must be an email', 'password is too short']);
  });

  it('keeps the health body, which names the failing dependency', () => {
    const health = { status: 'error', error: { kafka: { status: 'down' } } };
    expect(toErrorBody(new ServiceUnavailableException(health))).toEqual(health);
  });

  it('turns Fastify body-limit errors into a 413 a person can act on', () => {
    const error = Object.assign(new Error('Request body is too large'), { statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE' });
    expect(toErrorBody(error)).toMatchObject({ statusCode: 413, error: 'Payload Too Large' });
  });

  it('hides unexpected errors behind a 500', () => {
    const sut = toErrorBody(new TypeError('cannot read x of undefined'));
    expect(sut.statusCode).toBe(500);
    expect(sut.message).not.toContain('undefined');
  });
});
